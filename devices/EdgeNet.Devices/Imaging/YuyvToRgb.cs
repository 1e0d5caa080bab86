using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EdgeNet.Devices.Imaging;

/// <summary>
/// YUYV 4:2:2 (V4L2_PIX_FMT_YUYV: bytes Y0 U Y1 V per two pixels) to RGB24, BT.601 limited range (Y 16..235,
/// U/V 16..240), the usual encoding of USB webcams. Exact integer math, identical in both kernels:
/// <code>
///   C = Y - 16, D = U - 128, E = V - 128
///   R = clamp((298 C           + 409 E + 128) >> 8)
///   G = clamp((298 C - 100 D   - 208 E + 128) >> 8)
///   B = clamp((298 C + 516 D           + 128) >> 8)
/// </code>
/// The constants are the BT.601 matrix times 256, rescaled from limited to full range: 298 = round(256 * 255/219),
/// 409 = round(256 * 1.402 * 255/224), 100 = round(256 * 0.344136 * 255/224), 208 = round(256 * 0.714136 * 255/224),
/// 516 = round(256 * 1.772 * 255/224).
/// (">> 8" is an arithmetic shift, "+ 128" rounds, clamp is to 0..255.) Rows may be padded (stride ≥ 2 * width rounded
/// up to a whole macro-pixel); an odd width uses the first pixel of the last macro-pixel only.
/// </summary>
public static class YuyvToRgb
{
    /// <summary>Bytes of one YUYV row without padding: whole 4-byte macro-pixels.</summary>
    public static int MinStride(int width) => (width + 1) / 2 * 4;

    private static void Check(ReadOnlySpan<byte> yuyv, int width, int height, int stride, Span<byte> rgb)
    {
        if (width < 1 || height < 1) throw new ArgumentOutOfRangeException(nameof(width), "frame size must be positive");
        if (stride < MinStride(width)) throw new ArgumentOutOfRangeException(nameof(stride), $"stride {stride} < {MinStride(width)} for width {width}");
        if (yuyv.Length < (long)stride * (height - 1) + MinStride(width)) throw new ArgumentException("YUYV buffer is smaller than the frame", nameof(yuyv));
        if (rgb.Length < (long)width * height * 3) throw new ArgumentException("RGB buffer is smaller than the frame", nameof(rgb));
    }

    /// <summary>The scalar reference: one pixel at a time, the formula above.</summary>
    public static void ConvertReference(ReadOnlySpan<byte> yuyv, int width, int height, int stride, Span<byte> rgb)
    {
        Check(yuyv, width, height, stride, rgb);
        for (int row = 0; row < height; row++)
        {
            var src = yuyv.Slice(row * stride);
            var dst = rgb.Slice(row * width * 3);
            for (int x = 0; x < width; x++) Pixel(src[2 * x], src[4 * (x / 2) + 1], src[4 * (x / 2) + 3], dst.Slice(3 * x, 3));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pixel(int y, int u, int v, Span<byte> rgb)
    {
        int c = y - 16, d = u - 128, e = v - 128;
        rgb[0] = Clamp((298 * c + 409 * e + 128) >> 8);
        rgb[1] = Clamp((298 * c - 100 * d - 208 * e + 128) >> 8);
        rgb[2] = Clamp((298 * c + 516 * d + 128) >> 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte Clamp(int v) => (byte)Math.Clamp(v, 0, 255);

    /// <summary>
    /// The vectorized kernel (portable Vector128: SSSE3 pshufb on x86, TBL on ARM64): 8 pixels per step — shuffle the 16
    /// YUYV bytes into 16-bit Y, U, V lanes (U/V repeated for both pixels of a macro-pixel), widen to 32 bits for the
    /// products, narrow back and shuffle R, G, B into 24 interleaved bytes; the row tail runs the scalar formula.
    /// </summary>
    public static void Convert(ReadOnlySpan<byte> yuyv, int width, int height, int stride, Span<byte> rgb)
    {
        Check(yuyv, width, height, stride, rgb);
        if (!Vector128.IsHardwareAccelerated) { ConvertReference(yuyv, width, height, stride, rgb); return; }
        const byte Z = 0xFF; // out-of-range shuffle index: the lane becomes 0
        var yIndex = Vector128.Create((byte)0, Z, 2, Z, 4, Z, 6, Z, 8, Z, 10, Z, 12, Z, 14, Z);
        var uIndex = Vector128.Create((byte)1, Z, 1, Z, 5, Z, 5, Z, 9, Z, 9, Z, 13, Z, 13, Z);
        var vIndex = Vector128.Create((byte)3, Z, 3, Z, 7, Z, 7, Z, 11, Z, 11, Z, 15, Z, 15, Z);
        // RG holds R0..R7 then G0..G7, B holds B0..B7: interleave to R0 G0 B0 R1 ... (16 bytes, then 8 more)
        var rgFirst = Vector128.Create((byte)0, 8, Z, 1, 9, Z, 2, 10, Z, 3, 11, Z, 4, 12, Z, 5);
        var bFirst = Vector128.Create(Z, Z, 0, Z, Z, 1, Z, Z, 2, Z, Z, 3, Z, Z, 4, Z);
        var rgSecond = Vector128.Create((byte)13, Z, 6, 14, Z, 7, 15, Z, Z, Z, Z, Z, Z, Z, Z, Z);
        var bSecond = Vector128.Create(Z, 5, Z, Z, 6, Z, Z, 7, Z, Z, Z, Z, Z, Z, Z, Z);
        var k298 = Vector128.Create(298);
        var k409 = Vector128.Create(409);
        var k100 = Vector128.Create(100);
        var k208 = Vector128.Create(208);
        var k516 = Vector128.Create(516);
        var round = Vector128.Create(128);
        var zero = Vector128<int>.Zero;
        var max = Vector128.Create(255);
        var y16 = Vector128.Create((short)16);
        var uv128 = Vector128.Create((short)128);

        ref byte src0 = ref MemoryMarshal.GetReference(yuyv);
        ref byte dst0 = ref MemoryMarshal.GetReference(rgb);
        for (int row = 0; row < height; row++)
        {
            ref byte src = ref Unsafe.Add(ref src0, (nint)row * stride);
            ref byte dst = ref Unsafe.Add(ref dst0, (nint)row * width * 3);
            int x = 0;
            for (; x + 8 <= width; x += 8)
            {
                var packed = Vector128.LoadUnsafe(ref src, (nuint)(2 * x));
                var c = Vector128.Shuffle(packed, yIndex).AsInt16() - y16;
                var d = Vector128.Shuffle(packed, uIndex).AsInt16() - uv128;
                var e = Vector128.Shuffle(packed, vIndex).AsInt16() - uv128;
                var (cLo, cHi) = Vector128.Widen(c);
                var (dLo, dHi) = Vector128.Widen(d);
                var (eLo, eHi) = Vector128.Widen(e);
                var luma = k298 * cLo + round;
                var r0 = Vector128.ShiftRightArithmetic(luma + k409 * eLo, 8);
                var g0 = Vector128.ShiftRightArithmetic(luma - k100 * dLo - k208 * eLo, 8);
                var b0 = Vector128.ShiftRightArithmetic(luma + k516 * dLo, 8);
                luma = k298 * cHi + round;
                var r1 = Vector128.ShiftRightArithmetic(luma + k409 * eHi, 8);
                var g1 = Vector128.ShiftRightArithmetic(luma - k100 * dHi - k208 * eHi, 8);
                var b1 = Vector128.ShiftRightArithmetic(luma + k516 * dHi, 8);
                var r = Vector128.Narrow(Vector128.Clamp(r0, zero, max), Vector128.Clamp(r1, zero, max)).AsUInt16();
                var g = Vector128.Narrow(Vector128.Clamp(g0, zero, max), Vector128.Clamp(g1, zero, max)).AsUInt16();
                var b = Vector128.Narrow(Vector128.Clamp(b0, zero, max), Vector128.Clamp(b1, zero, max)).AsUInt16();
                var rg = Vector128.Narrow(r, g);
                var bb = Vector128.Narrow(b, Vector128<ushort>.Zero);
                var first = Vector128.Shuffle(rg, rgFirst) | Vector128.Shuffle(bb, bFirst);
                var second = Vector128.Shuffle(rg, rgSecond) | Vector128.Shuffle(bb, bSecond);
                ref byte o = ref Unsafe.Add(ref dst, 3 * x);
                first.StoreUnsafe(ref o);
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref o, 16), second.AsUInt64().ToScalar());
            }
            if (x < width)
            {
                var s = yuyv.Slice(row * stride);
                var t = rgb.Slice(row * width * 3);
                for (; x < width; x++) Pixel(s[2 * x], s[4 * (x / 2) + 1], s[4 * (x / 2) + 3], t.Slice(3 * x, 3));
            }
        }
    }
}
