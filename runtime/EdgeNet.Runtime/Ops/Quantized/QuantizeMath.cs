using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EdgeNet.Ops.Quantized;

/// <summary>
/// The element-wise quantization arithmetic of ONNX QuantizeLinear / DequantizeLinear, scalar and Vector128 (which
/// runs on x86 and NEON alike), bit-identical to each other:
/// <list type="bullet">
/// <item>quantize: q = clamp(round_half_to_even(x / scale) + zero_point, qmin, qmax) — a true division, as the
///       spec and ONNX Runtime compute it (x · (1/scale) rounds differently near ties);</item>
/// <item>dequantize: x = (float)(q − zero_point) · scale, the subtraction exact in int32.</item>
/// </list>
/// qmin/qmax are 0/255 for uint8 and −128/127 for int8 (or narrower, when a pass folded a Relu or Clip into them).
/// NaN quantizes to qmin's side of the clamp in both forms (MaxNumber semantics are not relied upon).
/// </summary>
public static class QuantizeMath
{
    /// <summary>One value: q = clamp(round(x / scale) + zp, qmin, qmax).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Quantize(float x, float scale, int zeroPoint, int qmin, int qmax)
    {
        float r = MathF.Round(x / scale) + zeroPoint;
        // comparisons written so NaN falls to qmin, like the vector form below
        if (!(r >= qmin)) return qmin;
        if (r > qmax) return qmax;
        return (int)r;
    }

    /// <summary>y[i] = quantize(x[i]) into uint8 storage (uint8, or int8 reinterpreted: qmin/qmax say which).</summary>
    public static void Quantize(ReadOnlySpan<float> x, float scale, int zeroPoint, int qmin, int qmax, Span<byte> y, bool vector)
    {
        int n = x.Length, i = 0;
        if (vector && System.Runtime.Intrinsics.X86.Avx2.IsSupported && n >= 16) i = Quantize256(x, scale, zeroPoint, qmin, qmax, y);
        if (vector && Vector128.IsHardwareAccelerated)
        {
            ref float xr = ref MemoryMarshal.GetReference(x);
            ref byte yr = ref MemoryMarshal.GetReference(y);
            var s = Vector128.Create(scale);
            var z = Vector128.Create((float)zeroPoint);
            var lo = Vector128.Create((float)qmin);
            var hi = Vector128.Create((float)qmax);
            for (; i <= n - 16; i += 16)
            {
                var a = QuantizeLanes(Vector128.LoadUnsafe(ref xr, (nuint)i), s, z, lo, hi);
                var b = QuantizeLanes(Vector128.LoadUnsafe(ref xr, (nuint)(i + 4)), s, z, lo, hi);
                var c = QuantizeLanes(Vector128.LoadUnsafe(ref xr, (nuint)(i + 8)), s, z, lo, hi);
                var d = QuantizeLanes(Vector128.LoadUnsafe(ref xr, (nuint)(i + 12)), s, z, lo, hi);
                // values are already within [-128, 255]: the truncating narrows are exact (int8 results keep their
                // two's-complement low byte)
                var ab = Vector128.Narrow(a, b);
                var cd = Vector128.Narrow(c, d);
                Vector128.Narrow(ab, cd).AsByte().StoreUnsafe(ref yr, (nuint)i);
            }
        }
        for (; i < n; i++) y[i] = (byte)Quantize(x[i], scale, zeroPoint, qmin, qmax);
    }

    /// <summary>
    /// 16 values per step in 256-bit lanes, the same expression as <see cref="QuantizeLanes"/>: vdivps, round half to
    /// even, + zp, vmaxps with qmin first (a NaN lane yields qmin, as in the scalar form), vminps, exact truncation and
    /// saturating packs of in-range values. Returns the count done.
    /// </summary>
    private static unsafe int Quantize256(ReadOnlySpan<float> x, float scale, int zeroPoint, int qmin, int qmax, Span<byte> y)
    {
        int n = x.Length, i = 0;
        var s = Vector256.Create(scale);
        var z = Vector256.Create((float)zeroPoint);
        var lo = Vector256.Create((float)qmin);
        var hi = Vector256.Create((float)qmax);
        fixed (float* xp = x)
        fixed (byte* yp = y)
            for (; i <= n - 16; i += 16)
            {
                var q0 = Lanes256(Vector256.Load(xp + i), s, z, lo, hi);
                var q1 = Lanes256(Vector256.Load(xp + i + 8), s, z, lo, hi);
                var w16 = System.Runtime.Intrinsics.X86.Avx2.Permute4x64(System.Runtime.Intrinsics.X86.Avx2.PackSignedSaturate(q0, q1).AsInt64(), 0b11_01_10_00).AsInt16();
                var bytes = qmin < 0
                    ? System.Runtime.Intrinsics.X86.Sse2.PackSignedSaturate(w16.GetLower(), w16.GetUpper()).AsByte()
                    : System.Runtime.Intrinsics.X86.Sse2.PackUnsignedSaturate(w16.GetLower(), w16.GetUpper());
                bytes.Store(yp + i);
            }
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Lanes256(Vector256<float> x, Vector256<float> scale, Vector256<float> zp, Vector256<float> lo, Vector256<float> hi)
    {
        var r = System.Runtime.Intrinsics.X86.Avx.RoundToNearestInteger(System.Runtime.Intrinsics.X86.Avx.Divide(x, scale)) + zp;
        // maxps returns its second operand when the first is NaN: NaN lanes become qmin
        r = System.Runtime.Intrinsics.X86.Avx.Min(System.Runtime.Intrinsics.X86.Avx.Max(r, lo), hi);
        return System.Runtime.Intrinsics.X86.Avx.ConvertToVector256Int32WithTruncation(r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> QuantizeLanes(Vector128<float> x, Vector128<float> scale, Vector128<float> zp, Vector128<float> lo, Vector128<float> hi)
    {
        var r = Vector128.Round(x / scale) + zp;
        // NaN lanes fail r >= lo and become lo, as in the scalar form
        r = Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(r, lo), r, lo);
        r = Vector128.ConditionalSelect(Vector128.GreaterThan(r, hi), hi, r);
        return Vector128.ConvertToInt32(r);
    }

    /// <summary>y[i] = (q[i] − zp) · scale for uint8 storage.</summary>
    public static void Dequantize(ReadOnlySpan<byte> q, int zeroPoint, float scale, Span<float> y, bool vector)
    {
        int n = q.Length, i = 0;
        if (vector && Vector128.IsHardwareAccelerated)
        {
            ref byte qr = ref MemoryMarshal.GetReference(q);
            ref float yr = ref MemoryMarshal.GetReference(y);
            var z = Vector128.Create(zeroPoint);
            var s = Vector128.Create(scale);
            for (; i <= n - 16; i += 16)
            {
                var (lo16, hi16) = Vector128.Widen(Vector128.LoadUnsafe(ref qr, (nuint)i));
                Store(lo16, z, s, ref yr, i);
                Store(hi16, z, s, ref yr, i + 8);
            }
        }
        for (; i < n; i++) y[i] = (q[i] - zeroPoint) * scale;
    }

    /// <summary>y[i] = (q[i] − zp) · scale for int8 storage.</summary>
    public static void Dequantize(ReadOnlySpan<sbyte> q, int zeroPoint, float scale, Span<float> y, bool vector)
    {
        int n = q.Length, i = 0;
        if (vector && Vector128.IsHardwareAccelerated)
        {
            ref sbyte qr = ref MemoryMarshal.GetReference(q);
            ref float yr = ref MemoryMarshal.GetReference(y);
            var z = Vector128.Create(zeroPoint);
            var s = Vector128.Create(scale);
            for (; i <= n - 16; i += 16)
            {
                var (lo16, hi16) = Vector128.Widen(Vector128.LoadUnsafe(ref qr, (nuint)i));
                Store(lo16, z, s, ref yr, i);
                Store(hi16, z, s, ref yr, i + 8);
            }
        }
        for (; i < n; i++) y[i] = (q[i] - zeroPoint) * scale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector128<ushort> v, Vector128<int> zp, Vector128<float> scale, ref float y, int at)
    {
        var (a, b) = Vector128.Widen(v);
        (Vector128.ConvertToSingle(a.AsInt32() - zp) * scale).StoreUnsafe(ref y, (nuint)at);
        (Vector128.ConvertToSingle(b.AsInt32() - zp) * scale).StoreUnsafe(ref y, (nuint)(at + 4));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector128<short> v, Vector128<int> zp, Vector128<float> scale, ref float y, int at)
    {
        var (a, b) = Vector128.Widen(v);
        (Vector128.ConvertToSingle(a - zp) * scale).StoreUnsafe(ref y, (nuint)at);
        (Vector128.ConvertToSingle(b - zp) * scale).StoreUnsafe(ref y, (nuint)(at + 4));
    }

    /// <summary>The representable range of a quantized element type.</summary>
    public static (int Min, int Max) Range(IR.DataType type) => type switch
    {
        IR.DataType.UInt8 => (0, 255),
        IR.DataType.Int8 => (-128, 127),
        IR.DataType.UInt16 => (0, 65535),
        IR.DataType.Int16 => (-32768, 32767),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a quantized type"),
    };
}
