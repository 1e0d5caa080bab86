using System.Numerics;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Indexing;
using EdgeNet.Kernels.Scatter;
using EdgeNet.Ops.Gather;

namespace EdgeNet.Ops.Scatter;

/// <summary>
/// ScatterElements (opset 11/13/16/18) and the deprecated Scatter (opset 9/10): y = copy of data, then for every
/// position p of indices, y[p with its axis coordinate replaced by indices[p]] = reduce(that element, updates[p]),
/// visiting p in row-major order. reduction: none (opset &lt; 16 always), add, mul (16), max, min (18).
/// Indices are run-time data: negative from the end, out of range → <see cref="InputMismatchException"/>.
/// </summary>
public sealed class ScatterElementsOp(string opType = "ScatterElements") : OpDefinition
{
    public override string OpType => opType;

    // Not in place: a model may pass the same value as data and updates, and updates are read after y is written.

    public override void Infer(OpContext ctx)
    {
        var data = ctx.InputShape(0);
        var indices = ctx.InputShape(1);
        IndexMath.IsInt64Index(ctx, 1);
        if (data.Length == 0) throw ctx.Error("data must have rank ≥ 1");
        int axis = Shapes.NormalizeAxis(ctx.Int("axis", 0), data.Length, ctx.Node);
        GatherElementsOp.CheckElementsShapes(ctx, data, indices, axis, "indices");
        if (!Shapes.Equal(ctx.InputShape(2), indices))
            throw ctx.Error($"updates shape {Shapes.Format(ctx.InputShape(2))} differs from indices shape {Shapes.Format(indices)}");
        if (ctx.InputType(2) != ctx.InputType(0)) throw ctx.Error($"updates type {ctx.InputType(2)} differs from data type {ctx.InputType(0)}");
        Reduction(ctx);
        ctx.SetOutput(0, ctx.InputType(0), data);
    }

    /// <summary>The reduction attribute, checked against the opset that introduced it.</summary>
    internal static ScatterReduction Reduction(OpContext ctx)
    {
        string s = ctx.String("reduction", "none");
        var r = ScatterReductions.Parse(s) ?? throw UnsupportedOperatorException.For(ctx.Node, $"reduction '{s}' is not supported");
        if (ctx.Opset < ScatterReductions.SinceOpset(r))
            throw ctx.Error($"reduction '{s}' needs opset {ScatterReductions.SinceOpset(r)}, the model uses {ctx.Opset}");
        return r;
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var data = ctx.InputShape(0);
        int axis = Shapes.NormalizeAxis(ctx.Int("axis", 0), data.Length, ctx.Node);
        var offsets = IndexMath.AxisBaseOffsets(ctx.InputShape(1), data, axis);
        var layout = new ElementsLayout(offsets, Shapes.Strides(data)[axis], data[axis], IndexMath.IsInt64Index(ctx, 1), opType, ctx.Node.Name);
        var reduction = Reduction(ctx);
        if (reduction == ScatterReduction.None) return new CopyKernel(layout, ctx.InputType(0).SizeOf());
        return Numeric.Create(ctx.InputType(0), new Factory(layout, reduction), ctx.Node);
    }

    private sealed record ElementsLayout(int[] BaseOffsets, int AxisStride, int AxisSize, bool Index64, string OpType, string Node)
    {
        public int Target(ReadOnlySpan<byte> indices, int p) =>
            BaseOffsets[p] + IndexMath.Normalize(IndexMath.Read(indices, Index64, p), AxisSize, OpType, Node) * AxisStride;
    }

    /// <summary>reduction = none: pure byte moves, so every element type works (bool, strings excepted).</summary>
    private sealed class CopyKernel(ElementsLayout layout, int elementSize) : Kernel
    {
        public override void Execute(ExecutionContext ctx)
        {
            var y = OutputBytes(ctx, 0);
            InputBytes(ctx, 0).CopyTo(y);
            var indices = InputBytes(ctx, 1);
            var updates = InputBytes(ctx, 2);
            for (int p = 0; p < layout.BaseOffsets.Length; p++)
                updates.Slice(p * elementSize, elementSize).CopyTo(y.Slice(layout.Target(indices, p) * elementSize, elementSize));
        }
    }

    private readonly struct Factory(ElementsLayout layout, ScatterReduction reduction) : INumericKernelFactory
    {
        public Kernel Create<T>() where T : unmanaged, INumber<T> => new ReduceKernel<T>(layout, reduction);
    }

    private sealed class ReduceKernel<T>(ElementsLayout layout, ScatterReduction reduction) : Kernel where T : unmanaged, INumber<T>
    {
        public override void Execute(ExecutionContext ctx)
        {
            var y = Output<T>(ctx, 0);
            Input<T>(ctx, 0).CopyTo(y);
            var indices = InputBytes(ctx, 1);
            var updates = Input<T>(ctx, 2);
            for (int p = 0; p < layout.BaseOffsets.Length; p++)
                ScatterReductions.Apply(ref y[layout.Target(indices, p)], updates[p], reduction);
        }
    }
}
