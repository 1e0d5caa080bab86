using System.Numerics;
using System.Runtime.InteropServices;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.TopK;

namespace EdgeNet.Ops.TopK;

/// <summary>
/// TopK (opset 1/10/11): the k largest (largest = 1) or smallest elements along axis (default −1) and their int64
/// indices, sorted best-first with ties broken by lower index. k is an attribute before opset 10 and a 1-element
/// int64 input from 10; it must be known at plan time because it sets the output shape. sorted = 0 still sorts
/// (ONNX leaves that order unspecified).
/// </summary>
public sealed class TopKOp : OpDefinition
{
    public override string OpType => "TopK";

    public override void Infer(OpContext ctx)
    {
        var (dims, axis, k) = Check(ctx);
        var outDims = (int[])dims.Clone();
        outDims[axis] = k;
        ctx.SetOutput(0, ctx.InputType(0), outDims);
        ctx.SetOutput(1, DataType.Int64, outDims);
    }

    private static (int[] Dims, int Axis, int K) Check(OpContext ctx)
    {
        var dims = ctx.InputShape(0);
        if (dims.Length == 0) throw ctx.Error("input must have rank ≥ 1");
        int axis = Shapes.NormalizeAxis(ctx.Int("axis", -1), dims.Length, ctx.Node);
        long k;
        if (ctx.Opset < 10) k = ctx.Int("k", -1);
        else
        {
            var t = ctx.RequireConstant(1, "K");
            if (t.ElementCount != 1) throw ctx.Error($"K must hold one element, got shape {Shapes.Format(t.Dims)}");
            k = (long)t.GetAsDouble(0);
        }
        if (k < 0 || k > dims[axis]) throw ctx.Error($"k = {k} must be in [0, {dims[axis]}] (the size of axis {axis})");
        if (ctx.Opset < 11 && ctx.Int("largest", 1) == 0)
            throw ctx.Error("largest = 0 needs opset 11");
        return (dims, axis, (int)k);
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var (dims, axis, k) = Check(ctx);
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= dims[i];
        for (int i = axis + 1; i < dims.Length; i++) inner *= dims[i];
        return Numeric.Create(ctx.InputType(0), new Factory(outer, dims[axis], inner, k, ctx.Int("largest", 1) != 0), ctx.Node);
    }

    private readonly struct Factory(int outer, int length, int inner, int k, bool largest) : INumericKernelFactory
    {
        public Kernel Create<T>() where T : unmanaged, INumber<T> => new TopKKernel<T>(outer, length, inner, k, largest);
    }

    private sealed class TopKKernel<T>(int outer, int length, int inner, int k, bool largest) : Kernel where T : unmanaged, INumber<T>
    {
        public override int ScratchBytes => length * sizeof(int);

        public override void Execute(ExecutionContext ctx) =>
            TopKReference.Run(Input<T>(ctx, 0), Output<T>(ctx, 0), Output<long>(ctx, 1), MemoryMarshal.Cast<byte, int>(Scratch),
                outer, length, inner, k, largest);
    }
}
