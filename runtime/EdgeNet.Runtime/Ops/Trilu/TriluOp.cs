using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Copy;

namespace EdgeNet.Ops.Trilu;

/// <summary>
/// Trilu (opset 14): over the last two dims (rows i, columns j) keeps x[..., i, j] where j − i ≥ k (upper = 1) or
/// j − i ≤ k (upper = 0) and writes 0 elsewhere. k is an optional int64 scalar input (default 0), needed at plan time.
/// Any element type: the kernel only moves bytes.
/// </summary>
public sealed class TriluOp : OpDefinition
{
    public override string OpType => "Trilu";

    public override void Infer(OpContext ctx)
    {
        if (ctx.InputRank(0) < 2) throw ctx.Error($"input must have rank ≥ 2, got rank {ctx.InputRank(0)}");
        if (ctx.InputType(0).SizeOf() == 0) throw UnsupportedOperatorException.For(ctx.Node, $"element type {ctx.InputType(0)} is not supported");
        ctx.SetOutput(0, ctx.InputType(0), ctx.InputShape(0));
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        long k = 0;
        if (ctx.HasInput(1))
        {
            ctx.ExpectType(1, DataType.Int64);
            var kt = ctx.RequireConstant(1, "k");
            if (kt.ElementCount != 1) throw ctx.Error($"k must be a scalar, got shape {Shapes.Format(kt.Dims)}");
            k = kt.AsSpan<long>()[0];
        }
        bool upper = ctx.Int("upper", 1) != 0;
        var dims = ctx.InputShape(0);
        int rows = dims[^2], cols = dims[^1];
        int count = Shapes.Count(dims);
        var map = new int[count];
        for (int p = 0; p < count; p++)
        {
            long j = p % cols, i = p / cols % rows;
            bool keep = upper ? j - i >= k : j - i <= k;
            map[p] = keep ? p : -1;
        }
        return new IndexMapKernel(map, ctx.InputType(0).SizeOf());
    }
}
