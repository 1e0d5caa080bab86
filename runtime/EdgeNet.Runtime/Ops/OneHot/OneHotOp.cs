using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Elementwise;

namespace EdgeNet.Ops.OneHot;

/// <summary>
/// OneHot (opset 9/11): output rank = rank(indices) + 1 with a new dim of size depth inserted at axis (default −1,
/// the end). y[..., d, ...] = values[1] (on) where d equals the index there (truncated to an integer; negative ones
/// count from depth, opset 11) and values[0] (off) everywhere else, so an out-of-range index gives an all-off row.
/// depth must be known at plan time; indices and values may be run-time data.
/// </summary>
public sealed class OneHotOp : OpDefinition
{
    public override string OpType => "OneHot";

    public override void Infer(OpContext ctx)
    {
        var indices = ctx.InputShape(0);
        int depth = Depth(ctx);
        int axis = Axis(ctx);
        if (Shapes.Count(ctx.InputShape(2)) != 2) throw ctx.Error($"values must hold exactly 2 elements (off, on), got shape {Shapes.Format(ctx.InputShape(2))}");
        if (ctx.InputType(2).SizeOf() == 0) throw UnsupportedOperatorException.For(ctx.Node, $"values type {ctx.InputType(2)} is not supported");
        if (ctx.InputType(0).SizeOf() == 0 || ctx.InputType(0) == DataType.Bool) throw UnsupportedOperatorException.For(ctx.Node, $"indices type {ctx.InputType(0)} is not supported");
        var dims = indices[..axis].Append(depth).Concat(indices[axis..]).ToArray();
        ctx.SetOutput(0, ctx.InputType(2), dims);
    }

    private static int Depth(OpContext ctx)
    {
        var t = ctx.RequireConstant(1, "depth");
        if (t.ElementCount != 1) throw ctx.Error($"depth must hold one element, got shape {Shapes.Format(t.Dims)}");
        double d = Math.Truncate(t.GetAsDouble(0));
        if (!(d >= 1 && d <= Shapes.MaxElements)) throw ctx.Error($"depth {t.GetAsDouble(0)} must be a positive count");
        return (int)d;
    }

    private static int Axis(OpContext ctx) => Shapes.NormalizeAxis(ctx.Int("axis", -1), ctx.InputRank(0) + 1, ctx.Node);

    public override Kernel CreateKernel(OpContext ctx)
    {
        var indices = ctx.InputShape(0);
        int axis = Axis(ctx);
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= indices[i];
        for (int i = axis; i < indices.Length; i++) inner *= indices[i];
        return new OneHotKernel(outer, Depth(ctx), inner, ctx.InputType(0), ctx.InputType(2).SizeOf());
    }

    private sealed class OneHotKernel(int outer, int depth, int inner, DataType indexType, int elementSize) : Kernel
    {
        public override void Execute(ExecutionContext ctx)
        {
            var indices = InputBytes(ctx, 0);
            var values = InputBytes(ctx, 2);
            var off = values[..elementSize];
            var on = values.Slice(elementSize, elementSize);
            var y = OutputBytes(ctx, 0);
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    double raw = ElementIO.Read(indices, indexType, o * inner + i);
                    // NaN and huge values become indices no shift by depth brings into range.
                    long index = double.IsNaN(raw) ? long.MinValue / 2 : (long)Math.Clamp(Math.Truncate(raw), -2.0 * depth, 2.0 * depth);
                    if (index < 0) index += depth;
                    for (int d = 0; d < depth; d++)
                        (d == index ? on : off).CopyTo(y.Slice(((o * depth + d) * inner + i) * elementSize, elementSize));
                }
        }
    }
}
