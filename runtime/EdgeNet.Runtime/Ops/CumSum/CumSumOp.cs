using System.Numerics;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.CumSum;

namespace EdgeNet.Ops.CumSum;

/// <summary>
/// CumSum (opset 11/14): running sum of x along axis (an int32/int64 scalar input, needed at plan time).
/// exclusive = 1 leaves the current element out; reverse = 1 sums from the last element backwards.
/// </summary>
public sealed class CumSumOp : OpDefinition
{
    public override string OpType => "CumSum";

    // Each element is read before its position is written, so the output may reuse x's buffer.
    public override int InPlaceInput => 0;

    public override void Infer(OpContext ctx)
    {
        ctx.ExpectType(1, DataType.Int64, DataType.Int32);
        ctx.SetOutput(0, ctx.InputType(0), ctx.InputShape(0));
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var dims = ctx.InputShape(0);
        var axisTensor = ctx.RequireConstant(1, "axis");
        if (axisTensor.ElementCount != 1) throw ctx.Error($"axis must be a scalar, got shape {Shapes.Format(axisTensor.Dims)}");
        int axis = Shapes.NormalizeAxis((long)axisTensor.GetAsDouble(0), dims.Length, ctx.Node);
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= dims[i];
        for (int i = axis + 1; i < dims.Length; i++) inner *= dims[i];
        int length = dims.Length == 0 ? 1 : dims[axis];
        return Numeric.Create(ctx.InputType(0),
            new Factory(outer, length, inner, ctx.Int("exclusive", 0) != 0, ctx.Int("reverse", 0) != 0), ctx.Node);
    }

    private readonly struct Factory(int outer, int length, int inner, bool exclusive, bool reverse) : INumericKernelFactory
    {
        public Kernel Create<T>() where T : unmanaged, INumber<T> => new CumSumKernel<T>(outer, length, inner, exclusive, reverse);
    }

    private sealed class CumSumKernel<T>(int outer, int length, int inner, bool exclusive, bool reverse) : Kernel
        where T : unmanaged, INumber<T>
    {
        public override void Execute(ExecutionContext ctx) =>
            CumSumReference.Run(Input<T>(ctx, 0), Output<T>(ctx, 0), outer, length, inner, exclusive, reverse);
    }
}
