using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Indexing;

namespace EdgeNet.Ops.Gather;

/// <summary>
/// GatherElements (opset 11/13): y has the shape of indices and y[p] = data[p with its axis coordinate replaced by
/// indices[p]]. indices must have data's rank; every other dim of indices must not exceed data's. Indices are
/// run-time data: negative ones count from the end, out-of-range ones raise <see cref="InputMismatchException"/>.
/// </summary>
public sealed class GatherElementsOp : OpDefinition
{
    public override string OpType => "GatherElements";

    public override void Infer(OpContext ctx)
    {
        var data = ctx.InputShape(0);
        var indices = ctx.InputShape(1);
        IndexMath.IsInt64Index(ctx, 1);
        if (data.Length == 0) throw ctx.Error("data must have rank ≥ 1");
        int axis = Shapes.NormalizeAxis(ctx.Int("axis", 0), data.Length, ctx.Node);
        CheckElementsShapes(ctx, data, indices, axis, "indices");
        ctx.SetOutput(0, ctx.InputType(0), indices);
    }

    /// <summary>Shared with ScatterElements: same rank, and no dim (other than axis) larger than data's.</summary>
    internal static void CheckElementsShapes(OpContext ctx, int[] data, int[] indices, int axis, string what)
    {
        if (indices.Length != data.Length)
            throw ctx.Error($"{what} rank {indices.Length} differs from data rank {data.Length}");
        for (int d = 0; d < data.Length; d++)
            if (d != axis && indices[d] > data[d])
                throw ctx.Error($"{what} dim {d} is {indices[d]}, larger than data's {data[d]}");
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var data = ctx.InputShape(0);
        var indices = ctx.InputShape(1);
        int axis = Shapes.NormalizeAxis(ctx.Int("axis", 0), data.Length, ctx.Node);
        return new GatherElementsKernel(IndexMath.AxisBaseOffsets(indices, data, axis), Shapes.Strides(data)[axis], data[axis],
            ctx.InputType(0).SizeOf(), IndexMath.IsInt64Index(ctx, 1), ctx.Node.Name);
    }

    private sealed class GatherElementsKernel(int[] baseOffsets, int axisStride, int axisSize, int elementSize, bool index64, string node) : Kernel
    {
        public override void Execute(ExecutionContext ctx)
        {
            var x = InputBytes(ctx, 0);
            var indices = InputBytes(ctx, 1);
            var y = OutputBytes(ctx, 0);
            for (int p = 0; p < baseOffsets.Length; p++)
            {
                int i = IndexMath.Normalize(IndexMath.Read(indices, index64, p), axisSize, "GatherElements", node);
                x.Slice((baseOffsets[p] + i * axisStride) * elementSize, elementSize).CopyTo(y.Slice(p * elementSize, elementSize));
            }
        }
    }
}
