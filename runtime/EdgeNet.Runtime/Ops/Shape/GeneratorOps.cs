using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Elementwise;

namespace EdgeNet.Ops.Shape;

/// <summary>ConstantOfShape: a tensor of the given shape filled with the value attribute (default float 0). Always a plan-time constant.</summary>
public sealed class ConstantOfShapeOp : OpDefinition
{
    public override string OpType => "ConstantOfShape";

    public override void Infer(OpContext ctx)
    {
        var dims = Shapes.FromLongs(ctx.RequireConstant(0, "shape").ToInt64Array(), $"ConstantOfShape node '{ctx.Node.Name}'");
        var value = ctx.Node.GetTensor("value") ?? Tensor.Scalar(0f);
        if (value.ElementCount != 1) throw ctx.Error("value must hold one element");
        var result = Tensor.Zeros(value.DataType, dims);
        int size = value.DataType.SizeOf();
        var bytes = result.Data.Span;
        for (int i = 0; i < result.ElementCount; i++) value.Data.Span.CopyTo(bytes.Slice(i * size, size));
        ctx.SetOutputConstant(0, result);
    }

    public override Kernel CreateKernel(OpContext ctx) => throw new InvalidOperationException("ConstantOfShape is folded at plan time");
}

/// <summary>Range(start, limit, delta): ceil((limit − start) / delta) values. Needs its inputs at plan time (they decide the shape).</summary>
public sealed class RangeOp : OpDefinition
{
    public override string OpType => "Range";

    public override void Infer(OpContext ctx)
    {
        var type = ctx.InputType(0);
        double start = ctx.RequireConstant(0, "start").GetAsDouble(0);
        double limit = ctx.RequireConstant(1, "limit").GetAsDouble(0);
        double delta = ctx.RequireConstant(2, "delta").GetAsDouble(0);
        if (delta == 0) throw ctx.Error("delta is 0");
        long n = Math.Max(0, (long)Math.Ceiling((limit - start) / delta));
        if (n > Shapes.MaxElements) throw ctx.Error($"range of {n} elements is too large");
        var result = Tensor.Zeros(type, [(int)n]);
        var bytes = result.Data.Span;
        for (int i = 0; i < n; i++) ElementIO.Write(bytes, type, i, start + i * delta);
        ctx.SetOutputConstant(0, result);
    }

    public override Kernel CreateKernel(OpContext ctx) => throw new InvalidOperationException("Range is folded at plan time");
}
