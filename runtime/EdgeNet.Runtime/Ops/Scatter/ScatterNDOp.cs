using System.Numerics;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Scatter;
using EdgeNet.Ops.Gather;

namespace EdgeNet.Ops.Scatter;

/// <summary>
/// ScatterND (opset 11/13/16/18): y = copy of data; then each m-tuple of indices (m = indices.shape[−1] ≤ rank(data))
/// names the slice y[i₀, …, i_{m−1}, :], which is combined element-wise with the matching slice of updates
/// (shape indices.shape[:−1] + data.shape[m:]), tuples in row-major order. reduction: none, add, mul (16), max, min (18).
/// Indices are run-time data: negative from the end, out of range → <see cref="InputMismatchException"/>.
/// </summary>
public sealed class ScatterNDOp : OpDefinition
{
    public override string OpType => "ScatterND";
    // Not in place, for the same reason as ScatterElements (data may also be the updates).

    public override void Infer(OpContext ctx)
    {
        var (data, indices, _, m) = GatherNDOp.Check(ctx, batchDims: 0);
        var expected = indices[..^1].Concat(data[m..]).ToArray();
        if (!Shapes.Equal(ctx.InputShape(2), expected))
            throw ctx.Error($"updates shape {Shapes.Format(ctx.InputShape(2))} must be {Shapes.Format(expected)}");
        if (ctx.InputType(2) != ctx.InputType(0)) throw ctx.Error($"updates type {ctx.InputType(2)} differs from data type {ctx.InputType(0)}");
        ScatterElementsOp.Reduction(ctx);
        ctx.SetOutput(0, ctx.InputType(0), data);
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var (data, indices, _, m) = GatherNDOp.Check(ctx, batchDims: 0);
        var layout = GatherNDLayout.Create(data, indices, 0, m);
        bool index64 = ctx.InputType(1) == DataType.Int64;
        var reduction = ScatterElementsOp.Reduction(ctx);
        if (reduction == ScatterReduction.None) return new CopyKernel(layout, index64, ctx.InputType(0).SizeOf(), ctx.Node.Name);
        return Numeric.Create(ctx.InputType(0), new Factory(layout, index64, reduction, ctx.Node.Name), ctx.Node);
    }

    private sealed class CopyKernel(GatherNDLayout layout, bool index64, int elementSize, string node) : Kernel
    {
        public override void Execute(ExecutionContext ctx)
        {
            var y = OutputBytes(ctx, 0);
            InputBytes(ctx, 0).CopyTo(y);
            var indices = InputBytes(ctx, 1);
            var updates = InputBytes(ctx, 2);
            int sliceBytes = layout.SliceSize * elementSize;
            for (int t = 0; t < layout.TupleCount; t++)
            {
                int offset = layout.Offset(indices, index64, t, "ScatterND", node);
                updates.Slice(t * sliceBytes, sliceBytes).CopyTo(y.Slice(offset * elementSize, sliceBytes));
            }
        }
    }

    private readonly struct Factory(GatherNDLayout layout, bool index64, ScatterReduction reduction, string node) : INumericKernelFactory
    {
        public Kernel Create<T>() where T : unmanaged, INumber<T> => new ReduceKernel<T>(layout, index64, reduction, node);
    }

    private sealed class ReduceKernel<T>(GatherNDLayout layout, bool index64, ScatterReduction reduction, string node) : Kernel
        where T : unmanaged, INumber<T>
    {
        public override void Execute(ExecutionContext ctx)
        {
            var y = Output<T>(ctx, 0);
            Input<T>(ctx, 0).CopyTo(y);
            var indices = InputBytes(ctx, 1);
            var updates = Input<T>(ctx, 2);
            int slice = layout.SliceSize;
            for (int t = 0; t < layout.TupleCount; t++)
            {
                int offset = layout.Offset(indices, index64, t, "ScatterND", node);
                for (int e = 0; e < slice; e++) ScatterReductions.Apply(ref y[offset + e], updates[t * slice + e], reduction);
            }
        }
    }
}
