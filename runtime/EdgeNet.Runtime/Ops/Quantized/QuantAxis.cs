using EdgeNet.IR;

namespace EdgeNet.Ops.Quantized;

/// <summary>
/// How a scale / zero-point pair applies to a tensor: per tensor (one value) or per axis (one value per index of
/// <c>axis</c>). The tensor is walked as [outer, channels, inner] blocks, block (o, c) using parameter c.
/// </summary>
public readonly record struct QuantAxis(int Outer, int Channels, int Inner)
{
    public bool PerTensor => Channels == 1 && Outer == 1;

    /// <summary>
    /// Validates the scale (input <paramref name="scaleInput"/>) and optional zero point (<paramref name="zeroPointInput"/>)
    /// of a QuantizeLinear / DequantizeLinear node against data of shape <paramref name="dims"/>: both scalars (or one
    /// element), or 1-D of length dims[axis] (opset ≥ 13). Blocked quantization (opset 21 block_size) is rejected.
    /// </summary>
    public static QuantAxis Of(OpContext ctx, int[] dims, int scaleInput, int zeroPointInput)
    {
        var scale = ctx.InputShape(scaleInput);
        if (ctx.HasInput(zeroPointInput) && !ctx.InputShape(zeroPointInput).AsSpan().SequenceEqual(scale))
            throw ctx.Error($"zero point shape {Shapes.Format(ctx.InputShape(zeroPointInput))} differs from scale shape {Shapes.Format(scale)}");
        if (ctx.Int("block_size", 0) != 0)
            throw UnsupportedOperatorException.For(ctx.Node, "blocked quantization (block_size) is not supported");
        int count = Shapes.Count(scale);
        if (scale.Length == 0 || (scale.Length == 1 && count == 1 && ctx.Opset < 13))
            return new QuantAxis(1, 1, Shapes.Count(dims));
        if (scale.Length == 1 && count == 1 && dims.Length == 0) return new QuantAxis(1, 1, 1);
        if (scale.Length != 1 || ctx.Opset < 13)
            throw ctx.Error($"scale of shape {Shapes.Format(scale)} must be a scalar{(ctx.Opset >= 13 ? " or 1-D (per axis)" : "")}");
        long axisAttr = ctx.Int("axis", 1);
        if (axisAttr < -dims.Length || axisAttr >= dims.Length) throw ctx.Error($"axis {axisAttr} is out of range for rank {dims.Length}");
        int axis = (int)(axisAttr < 0 ? axisAttr + dims.Length : axisAttr);
        if (count == 1 && dims[axis] != 1) return new QuantAxis(1, 1, Shapes.Count(dims));
        if (count != dims[axis]) throw ctx.Error($"per-axis scale has {count} values but axis {axis} has {dims[axis]}");
        int outer = Shapes.Count(dims.AsSpan(0, axis));
        int inner = Shapes.Count(dims.AsSpan(axis + 1));
        return new QuantAxis(outer, count, inner);
    }
}
