using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Copy;

namespace EdgeNet.Ops.Expand;

/// <summary>Expand (broadcast input 0 to broadcast(input shape, shape input)) and Tile (repeat each axis repeats[i] times).</summary>
public sealed class ExpandOp(string opType) : OpDefinition
{
    public override string OpType => opType;

    public override void Infer(OpContext ctx)
    {
        var input = ctx.InputShape(0);
        int[] dims;
        if (opType == "Expand")
        {
            var shape = Shapes.FromLongs(ctx.RequireConstant(1, "shape").ToInt64Array(), $"Expand node '{ctx.Node.Name}' shape");
            dims = Shapes.Broadcast(input, shape) ?? throw ctx.Error($"cannot expand {Shapes.Format(input)} to {Shapes.Format(shape)}");
        }
        else
        {
            var repeats = ctx.RequireConstant(1, "repeats").ToInt64Array();
            if (repeats.Length != input.Length) throw ctx.Error("repeats must have one entry per axis");
            dims = Shapes.FromLongs(input.Select((d, i) => d * repeats[i]).ToArray(), $"Tile node '{ctx.Node.Name}'");
        }
        ctx.SetOutput(0, ctx.InputType(0), dims);
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var input = ctx.InputShape(0);
        var output = ctx.OutputShape(0);
        int offset = output.Length - input.Length;
        var strides = Shapes.Strides(input);
        var map = IndexMapKernel.Build(output, idx =>
        {
            int s = 0;
            for (int i = 0; i < input.Length; i++) s += idx[i + offset] % input[i] * strides[i];
            return s;
        });
        return new IndexMapKernel(map, ctx.InputType(0).SizeOf());
    }
}
