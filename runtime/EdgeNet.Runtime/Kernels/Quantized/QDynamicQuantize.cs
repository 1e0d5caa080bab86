namespace EdgeNet.Kernels.Quantized;

/// <summary>
/// Dynamic per-tensor uint8 quantization with ONNX DynamicQuantizeLinear's rule: the range is [min(0, x_min),
/// max(0, x_max)], scale = range / 255 (1 when the range is empty), zero point = clamp(round(−min / scale), 0, 255),
/// q = clamp(round_half_even(x / scale) + zp, 0, 255).
/// </summary>
public static class QDynamicQuantize
{
    public static (float Scale, int ZeroPoint) Quantize(ReadOnlySpan<float> x, Span<byte> q)
    {
        float min = 0, max = 0;
        foreach (float v in x)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
        float scale = (max - min) / 255f;
        if (!(scale > 0) || !float.IsFinite(scale)) scale = 1;
        int zp = (int)Math.Clamp(MathF.Round(-min / scale, MidpointRounding.ToEven), 0, 255);
        float inv = scale;
        for (int i = 0; i < x.Length; i++)
        {
            float r = MathF.Round(x[i] / inv, MidpointRounding.ToEven);
            q[i] = (byte)Math.Clamp(r + zp, 0f, 255f);
        }
        return (scale, zp);
    }
}
