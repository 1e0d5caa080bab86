using System.Runtime.Intrinsics;

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
        int i = 0;
        if (Vector128.IsHardwareAccelerated && x.Length >= 4)
        {
            var vmin = Vector128<float>.Zero;
            var vmax = Vector128<float>.Zero;
            for (; i + 4 <= x.Length; i += 4)
            {
                var v = Vector128.Create(x.Slice(i, 4));
                vmin = Vector128.Min(vmin, v);
                vmax = Vector128.Max(vmax, v);
            }
            for (int l = 0; l < 4; l++)
            {
                min = MathF.Min(min, vmin.GetElement(l));
                max = MathF.Max(max, vmax.GetElement(l));
            }
        }
        for (; i < x.Length; i++)
        {
            float v = x[i];
            if (v < min) min = v;
            if (v > max) max = v;
        }
        float scale = (max - min) / 255f;
        if (!(scale > 0) || !float.IsFinite(scale)) scale = 1;
        int zp = (int)Math.Clamp(MathF.Round(-min / scale, MidpointRounding.ToEven), 0, 255);
        i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            // the same operations as the scalar loop: x / scale, round half to even, + zp, clamp (all exact but the division)
            var vs = Vector128.Create(scale);
            var vzp = Vector128.Create((float)zp);
            var lo = Vector128<float>.Zero;
            var hi = Vector128.Create(255f);
            for (; i + 4 <= x.Length; i += 4)
            {
                var r = Vector128.Min(Vector128.Max(Vector128.Round(Vector128.Create(x.Slice(i, 4)) / vs) + vzp, lo), hi);
                var n = Vector128.ConvertToInt32(r);
                q[i] = (byte)n.GetElement(0);
                q[i + 1] = (byte)n.GetElement(1);
                q[i + 2] = (byte)n.GetElement(2);
                q[i + 3] = (byte)n.GetElement(3);
            }
        }
        for (; i < x.Length; i++)
        {
            float r = MathF.Round(x[i] / scale, MidpointRounding.ToEven);
            q[i] = (byte)Math.Clamp(r + zp, 0f, 255f);
        }
        return (scale, zp);
    }
}
