using EdgeNet.Execution;
using EdgeNet.IR;

namespace EdgeNet.Ops.NonZero;

/// <summary>
/// NonZero (opset 9/13): int64 [rank, n] holding the coordinates of the n non-zero elements in row-major order.
/// Its output shape depends on the data, which a fixed memory plan cannot hold, so EdgeNet supports it only when
/// the input is known at plan time (an initializer or folded constant): the result is then computed while planning.
/// </summary>
public sealed class NonZeroOp : OpDefinition
{
    public override string OpType => "NonZero";

    public override void Infer(OpContext ctx)
    {
        var x = ctx.InputConstant(0) ?? throw UnsupportedOperatorException.For(ctx.Node,
            "the input must be known when the session is planned (the output shape depends on the data)");
        if (x.DataType.SizeOf() == 0) throw UnsupportedOperatorException.For(ctx.Node, $"element type {x.DataType} is not supported");
        // A scalar behaves like a 1-element vector, as numpy.nonzero did.
        var dims = x.Rank == 0 ? [1] : x.Dims;
        int n = 0;
        for (int i = 0; i < x.ElementCount; i++) if (x.GetAsDouble(i) != 0) n++;
        var result = Tensor.Zeros(DataType.Int64, [dims.Length, n]);
        var r = result.AsSpan<long>();
        var strides = Shapes.Strides(dims);
        int column = 0;
        for (int i = 0; i < x.ElementCount; i++)
        {
            if (x.GetAsDouble(i) == 0) continue;
            for (int d = 0; d < dims.Length; d++) r[d * n + column] = i / strides[d] % dims[d];
            column++;
        }
        ctx.SetOutputConstant(0, result);
    }

    public override Kernel CreateKernel(OpContext ctx) =>
        throw UnsupportedOperatorException.For(ctx.Node, "NonZero is only supported with an input known at plan time");
}
