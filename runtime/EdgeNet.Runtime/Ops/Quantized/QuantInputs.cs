using System.Runtime.InteropServices;
using EdgeNet.IR;
using EdgeNet.Kernels.Activation;

namespace EdgeNet.Ops.Quantized;

/// <summary>Reading and checking the scale / zero-point inputs of the integer ops (QLinearConv, QLinearMatMul, ...).</summary>
internal static class QuantInputs
{
    /// <summary>Element i of a zero-point tensor (uint8, int8 or int32) in its own domain.</summary>
    public static int ZeroPoint(ReadOnlySpan<byte> raw, DataType type, int i) => type switch
    {
        DataType.Int8 => (sbyte)raw[i],
        DataType.UInt8 => raw[i],
        DataType.Int32 => MemoryMarshal.Cast<byte, int>(raw)[i],
        _ => throw new InvalidOperationException($"zero point type {type}"),
    };

    /// <summary>Throws unless input i (when present) has one element, or exactly <paramref name="perChannel"/> (if &gt; 0).</summary>
    public static int Count(OpContext ctx, int i, string what, int perChannel = 0)
    {
        if (!ctx.HasInput(i)) return 0;
        var dims = ctx.InputShape(i);
        int n = Shapes.Count(dims);
        if (n == 1 && dims.Length <= 1) return 1;
        if (perChannel > 0 && dims.Length == 1 && n == perChannel) return n;
        throw ctx.Error($"{what} has shape {Shapes.Format(dims)}; expected one value{(perChannel > 0 ? $" or {perChannel} (one per output channel)" : "")}");
    }

    /// <summary>Throws unless zero-point input i (when present) has the given element type.</summary>
    public static void ExpectZeroPointType(OpContext ctx, int i, DataType data, string what)
    {
        if (ctx.HasInput(i) && ctx.InputType(i) != data)
            throw ctx.Error($"{what} has type {ctx.InputType(i)}, but its data is {data}");
    }

    /// <summary>Constant zero points as ints (empty when the input is absent), or null when they are only known at run time.</summary>
    public static int[]? ConstantZeroPoints(OpContext ctx, int i)
    {
        if (!ctx.HasInput(i)) return [];
        if (ctx.InputConstant(i) is not { } t) return null;
        var values = new int[t.ElementCount];
        for (int k = 0; k < values.Length; k++) values[k] = ZeroPoint(t.Data.Span, t.DataType, k);
        return values;
    }

    /// <summary>
    /// The output clamp [qmin, qmax] with a fused Relu or Clip folded in (made by the QDQ passes): the quantizer is
    /// monotonic, so Q(relu(v)) = max(Q(v), Q(0)) = max(Q(v), zp) and Q(clip(v, lo, hi)) = clamp(Q(v), Q(lo), Q(hi)).
    /// </summary>
    public static (int Min, int Max) Clamp(FusedActivation activation, DataType output, float yScale, int yZeroPoint)
    {
        var (qmin, qmax) = QuantizeMath.Range(output);
        switch (activation.Kind)
        {
            case ActivationKind.None:
                break;
            case ActivationKind.Relu:
                qmin = Math.Max(qmin, yZeroPoint);
                break;
            case ActivationKind.Clip:
                int lo = QuantizeMath.Quantize(activation.Alpha, yScale, yZeroPoint, qmin, qmax);
                int hi = QuantizeMath.Quantize(activation.Beta, yScale, yZeroPoint, qmin, qmax);
                qmin = Math.Max(qmin, lo);
                qmax = Math.Min(qmax, hi);
                break;
            default:
                throw new InvalidOperationException($"activation {activation.Kind} cannot be folded into a requantization");
        }
        // Clip with lo > hi gives hi everywhere (min(max(v, lo), hi))
        return (Math.Min(qmin, qmax), qmax);
    }

    /// <summary>True for the activations <see cref="Clamp"/> can fold.</summary>
    public static bool Foldable(FusedActivation activation) => activation.Kind is ActivationKind.None or ActivationKind.Relu or ActivationKind.Clip;
}
