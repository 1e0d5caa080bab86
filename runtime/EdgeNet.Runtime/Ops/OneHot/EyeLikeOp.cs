using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Elementwise;

namespace EdgeNet.Ops.OneHot;

/// <summary>
/// EyeLike (opset 9/22): a 2-D tensor shaped like the input, of type dtype (default: the input's), holding 1 where
/// column − row = k and 0 elsewhere. Only the input's shape is used.
/// </summary>
public sealed class EyeLikeOp : OpDefinition
{
    public override string OpType => "EyeLike";

    public override void Infer(OpContext ctx)
    {
        if (ctx.InputRank(0) != 2) throw ctx.Error($"input must have rank 2, got rank {ctx.InputRank(0)}");
        var type = OutputType(ctx);
        if (type.SizeOf() == 0) throw UnsupportedOperatorException.For(ctx.Node, $"dtype {type} is not supported");
        ctx.SetOutput(0, type, ctx.InputShape(0));
    }

    private static DataType OutputType(OpContext ctx) =>
        ctx.Node.HasAttribute("dtype") ? (DataType)ctx.Int("dtype", 0) : ctx.InputType(0);

    public override Kernel CreateKernel(OpContext ctx)
    {
        var dims = ctx.InputShape(0);
        return new EyeKernel(dims[0], dims[1], ctx.Int("k", 0), OutputType(ctx));
    }

    private sealed class EyeKernel(int rows, int cols, long k, DataType type) : Kernel
    {
        public override void Execute(ExecutionContext ctx)
        {
            var y = OutputBytes(ctx, 0);
            y.Clear();
            for (int r = 0; r < rows; r++)
            {
                long c = r + k;
                if (c >= 0 && c < cols) ElementIO.Write(y, type, (int)(r * (long)cols + c), 1);
            }
        }
    }
}
