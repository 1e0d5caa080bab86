using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeNet.Kernels.Quantized;

/// <summary>
/// Writes finished accumulators (bias already added) as int32, requantized u8/s8 or dequantized float, with the
/// exact arithmetic of <see cref="QMath.Requantize"/>, vectorised with <see cref="Vector{T}"/> (round half to even,
/// clamp in float, then an exact conversion), so every path gives the reference's bytes.
/// </summary>
internal static unsafe class QEpilogueWriter
{
    /// <param name="ch">first channel of the run when channelsAlongRow, else the run's single channel.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    /// <param name="padded">acc has room for count rounded up to 8 (the values past count are ignored), so a channel's
    /// whole run requantizes in vectors.</param>
    public static void Write(QOutputKind kind, int* acc, int count, void* c, nint index, int ch, bool channelsAlongRow, in QEpilogue e, bool padded = false)
    {
        switch (kind)
        {
            case QOutputKind.Int32:
                new ReadOnlySpan<int>(acc, count).CopyTo(new Span<int>((int*)c + index, count));
                return;
            case QOutputKind.Float32:
                WriteFloat(acc, count, (float*)c + index, ch, channelsAlongRow, e);
                return;
            default:
                Requantize(acc, padded && !(channelsAlongRow && e.MultiplierStride != 0) ? (count + 7) & ~7 : count, ch, channelsAlongRow, e);
                // values are already within the output range, so truncating narrows are exact (u8 and s8 alike)
                byte* d = (byte*)c + index;
                int i = 0;
                if (Vector128.IsHardwareAccelerated)
                {
                    for (; i + 16 <= count; i += 16) Narrow16(acc + i, d + i);
                    // the last 16 values again, overlapping bytes already written with the same values
                    if (i < count && count >= 16) { Narrow16(acc + count - 16, d + count - 16); return; }
                }
                for (; i < count; i++) d[i] = (byte)acc[i];
                return;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Narrow16(int* acc, byte* d)
    {
        var lo = Vector128.Narrow(Vector128.Load(acc), Vector128.Load(acc + 4));
        var hi = Vector128.Narrow(Vector128.Load(acc + 8), Vector128.Load(acc + 12));
        Vector128.Narrow(lo, hi).AsByte().Store(d);
    }

    /// <summary>acc[t] ← requantized value (in the output domain), in place.</summary>
    private static void Requantize(int* acc, int count, int ch, bool channelsAlongRow, in QEpilogue e)
    {
        float* mult = e.Multiplier + (channelsAlongRow ? ch * e.MultiplierStride : ch * e.MultiplierStride);
        bool vectorMult = channelsAlongRow && e.MultiplierStride != 0;
        float lo = e.QMin - e.ZeroPoint, hi = e.QMax - e.ZeroPoint;
        int zp = e.ZeroPoint;
        int t = 0;
        if (Avx.IsSupported)
        {
            var vlo = Vector256.Create(lo);
            var vhi = Vector256.Create(hi);
            var vzp = Vector256.Create(zp);
            var m = Vector256.Create(*mult);
            for (; t + 8 <= count; t += 8)
            {
                if (vectorMult) m = Vector256.Load(mult + t);
                var f = Avx.Multiply(Avx.ConvertToVector256Single(Vector256.Load(acc + t)), m);
                f = Avx.Min(Avx.Max(Avx.RoundToNearestInteger(f), vlo), vhi);
                (Avx.ConvertToVector256Int32WithTruncation(f) + vzp).Store(acc + t);
            }
        }
        else if (AdvSimd.IsSupported)
        {
            var vlo = Vector128.Create(lo);
            var vhi = Vector128.Create(hi);
            var vzp = Vector128.Create(zp);
            var m = Vector128.Create(*mult);
            for (; t + 4 <= count; t += 4)
            {
                if (vectorMult) m = Vector128.Load(mult + t);
                var f = AdvSimd.Multiply(AdvSimd.ConvertToSingle(Vector128.Load(acc + t)), m);
                f = AdvSimd.Min(AdvSimd.Max(AdvSimd.RoundToNearest(f), vlo), vhi);
                (AdvSimd.ConvertToInt32RoundToZero(f) + vzp).Store(acc + t);
            }
        }
        for (; t < count; t++)
            acc[t] = QMath.Requantize(acc[t], vectorMult ? mult[t] : *mult, zp, e.QMin, e.QMax);
    }

    private static void WriteFloat(int* acc, int count, float* y, int ch, bool channelsAlongRow, in QEpilogue e)
    {
        float* mult = e.Multiplier + ch * e.MultiplierStride;
        bool vectorMult = channelsAlongRow && e.MultiplierStride != 0;
        float* fb = e.FloatBias is null ? null : e.FloatBias + ch;
        int t = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var m = new Vector<float>(*mult);
            var b = fb is null ? Vector<float>.Zero : new Vector<float>(*fb);
            for (; t + Vector<int>.Count <= count; t += Vector<int>.Count)
            {
                if (vectorMult) m = Vector.Load(mult + t);
                var f = Vector.ConvertToSingle(Vector.Load(acc + t)) * m;
                if (fb is not null) f += channelsAlongRow ? Vector.Load(fb + t) : b;
                f.Store(y + t);
            }
        }
        for (; t < count; t++)
        {
            float f = (float)acc[t] * (vectorMult ? mult[t] : *mult);
            if (fb is not null) f += channelsAlongRow ? fb[t] : *fb;
            y[t] = f;
        }
    }
}

/// <summary>
/// Requantization of a tile row held in registers (16 int32 → 16 bytes) with <see cref="QMath.Requantize"/>'s exact
/// result: (float)(acc + offset) · M, clamped in float to [qmin − zp, qmax − zp] (integers, so clamping before the
/// round-half-to-even conversion gives the same value as after), converted, packed to int16 (exact: |v| ≤ 510), zp
/// added in int16, packed to bytes (exact: within the output range).
/// <para>
/// When every multiplier of the run is at most 0.5 in magnitude (<see cref="SmallMultipliers"/>, checked once per
/// run), |(float)acc · M| ≤ 2^30, so the round-half-to-even conversion cannot overflow and the clamp moves to the
/// bytes: convert, saturating packs with a saturating zero-point add, then vpmaxub/vpminub (vpmaxsb/vpminsb) with
/// qmin/qmax. Exact: the saturations are monotone and the identity on the output range, so clamping after them
/// gives clamp(round(x) + zp, qmin, qmax).
/// </para>
/// </summary>
internal readonly struct QTileRequant
{
    private readonly Vector256<float> _lo, _hi;
    private readonly Vector128<short> _zp;
    private readonly Vector256<short> _zp256;
    private readonly Vector256<byte> _qmin, _qmax;
    private readonly Vector512<float> _lo512, _hi512;
    private readonly Vector512<short> _zp512;
    private readonly bool _signed, _small, _v512;

    /// <param name="channels">channels of the run (their multipliers decide <see cref="SmallMultipliers"/>).</param>
    /// <param name="vector512">the session allows 512-bit vectors: <see cref="Rows2"/> converts, scales and packs
    /// two rows as two 512-bit vectors in <see cref="Rows2Any"/> (<see cref="Rows2x512"/>; only where AVX-512 BW is real).</param>
    public unsafe QTileRequant(in QEpilogue e, bool signed, int channels, bool vector512 = false)
    {
        _v512 = vector512 && Avx512BW.IsSupported;
        _lo512 = Vector512.Create((float)(e.QMin - e.ZeroPoint));
        _hi512 = Vector512.Create((float)(e.QMax - e.ZeroPoint));
        _zp512 = Vector512.Create((short)e.ZeroPoint);
        _lo = Vector256.Create((float)(e.QMin - e.ZeroPoint));
        _hi = Vector256.Create((float)(e.QMax - e.ZeroPoint));
        _zp = Vector128.Create((short)e.ZeroPoint);
        _zp256 = Vector256.Create((short)e.ZeroPoint);
        _qmin = Vector256.Create((byte)e.QMin);
        _qmax = Vector256.Create((byte)e.QMax);
        _signed = signed;
        bool small = e.Multiplier is not null;
        int count = e.MultiplierStride == 0 ? 1 : channels;
        for (int c = 0; small && c < count; c++) small = MathF.Abs(e.Multiplier[c * e.MultiplierStride]) <= 0.5f; // NaN: false
        _small = small;
    }

    /// <summary>Every multiplier is at most 0.5 in magnitude: the byte-clamp form applies.</summary>
    public bool SmallMultipliers => _small;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Row(Vector256<int> a0, Vector256<int> a1, int offset, float multiplier, byte* d)
    {
        var off = Vector256.Create(offset);
        var m = Vector256.Create(multiplier);
        var f0 = Avx.Min(Avx.Max(Avx.Multiply(Avx.ConvertToVector256Single(Avx2.Add(a0, off)), m), _lo), _hi);
        var f1 = Avx.Min(Avx.Max(Avx.Multiply(Avx.ConvertToVector256Single(Avx2.Add(a1, off)), m), _lo), _hi);
        // int16 [q0 0..3, q1 0..3 | q0 4..7, q1 4..7] → in order
        var w16 = Avx2.Permute4x64(Avx2.PackSignedSaturate(Avx.ConvertToVector256Int32(f0), Avx.ConvertToVector256Int32(f1)).AsInt64(), 0b11_01_10_00).AsInt16();
        var lo = Sse2.Add(w16.GetLower(), _zp);
        var hi = Sse2.Add(w16.GetUpper(), _zp);
        var bytes = _signed ? Sse2.PackSignedSaturate(lo, hi).AsByte() : Sse2.PackUnsignedSaturate(lo, hi);
        bytes.Store(d);
    }

    /// <summary>Row of accumulators that already include the offset (the depthwise planes, the tiles started at it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Row(Vector256<int> a0, Vector256<int> a1, float multiplier, byte* d)
    {
        var m = Vector256.Create(multiplier);
        var f0 = Avx.Min(Avx.Max(Avx.Multiply(Avx.ConvertToVector256Single(a0), m), _lo), _hi);
        var f1 = Avx.Min(Avx.Max(Avx.Multiply(Avx.ConvertToVector256Single(a1), m), _lo), _hi);
        var w16 = Avx2.Permute4x64(Avx2.PackSignedSaturate(Avx.ConvertToVector256Int32(f0), Avx.ConvertToVector256Int32(f1)).AsInt64(), 0b11_01_10_00).AsInt16();
        var lo = Sse2.Add(w16.GetLower(), _zp);
        var hi = Sse2.Add(w16.GetUpper(), _zp);
        var bytes = _signed ? Sse2.PackSignedSaturate(lo, hi).AsByte() : Sse2.PackUnsignedSaturate(lo, hi);
        bytes.Store(d);
    }

    /// <summary>
    /// Two rows (a: 16 values to da, b: 16 values to db) whose accumulators already include their offsets, the same
    /// arithmetic as <see cref="Row(Vector256{int}, Vector256{int}, int, float, byte*)"/>: both rows share the zero
    /// point add (one 256-bit int16 add each), one byte pack and one vpermd that puts row a in the low and row b in
    /// the high 128 bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Rows2(Vector256<int> a0, Vector256<int> a1, float ma, byte* da, Vector256<int> b0, Vector256<int> b1, float mb, byte* db)
    {
        if (_small)
        {
            Rows2Small(a0, a1, ma, da, b0, b1, mb, db);
            return;
        }
        var m = Vector256.Create(ma);
        var fa0 = Avx.Min(Avx.Max(Avx.Multiply(Avx.ConvertToVector256Single(a0), m), _lo), _hi);
        var fa1 = Avx.Min(Avx.Max(Avx.Multiply(Avx.ConvertToVector256Single(a1), m), _lo), _hi);
        m = Vector256.Create(mb);
        var fb0 = Avx.Min(Avx.Max(Avx.Multiply(Avx.ConvertToVector256Single(b0), m), _lo), _hi);
        var fb1 = Avx.Min(Avx.Max(Avx.Multiply(Avx.ConvertToVector256Single(b1), m), _lo), _hi);
        // int16 [x0 0..3, x1 0..3 | x0 4..7, x1 4..7] per row, zero point added (exact: within the output range)
        var wa = Avx2.Add(Avx2.PackSignedSaturate(Avx.ConvertToVector256Int32(fa0), Avx.ConvertToVector256Int32(fa1)), _zp256);
        var wb = Avx2.Add(Avx2.PackSignedSaturate(Avx.ConvertToVector256Int32(fb0), Avx.ConvertToVector256Int32(fb1)), _zp256);
        // dwords: a0 0..3, a1 0..3, b0 0..3, b1 0..3 | a0 4..7, a1 4..7, b0 4..7, b1 4..7
        var bytes = _signed ? Avx2.PackSignedSaturate(wa, wb).AsInt32() : Avx2.PackUnsignedSaturate(wa, wb).AsInt32();
        var rows = Avx2.PermuteVar8x32(bytes, Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7)).AsByte();
        rows.GetLower().Store(da);
        rows.GetUpper().Store(db);
    }

    /// <summary>
    /// <see cref="Rows2x512"/> when the requantizer was made for 512-bit vectors, else <see cref="Rows2"/> (the
    /// pointwise tiles of <see cref="QGemm"/>; the other users call Rows2 and pay no check).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Rows2Any(Vector256<int> a0, Vector256<int> a1, float ma, byte* da, Vector256<int> b0, Vector256<int> b1, float mb, byte* db)
    {
        if (_v512) Rows2x512(a0, a1, ma, da, b0, b1, mb, db);
        else Rows2(a0, a1, ma, da, b0, b1, mb, db);
    }

    /// <summary>
    /// <see cref="Rows2"/> on 512-bit vectors: each row's 16 accumulators joined into one vector, so the conversions and
    /// the scaling take half the instructions; the same float operations lane by lane, then vpackssdw (int16 per
    /// 128-bit lane L: a[4L..4L+3], b[4L..4L+3]), the zero point, the byte pack and one vpermd that gathers row a's
    /// 16 bytes then row b's; the clamp in float, or on the bytes with <see cref="SmallMultipliers"/>, as in Rows2.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe void Rows2x512(Vector256<int> a0, Vector256<int> a1, float ma, byte* da, Vector256<int> b0, Vector256<int> b1, float mb, byte* db)
    {
        var fa = Avx512F.Multiply(Avx512F.ConvertToVector512Single(Vector512.Create(a0, a1)), Vector512.Create(ma));
        var fb = Avx512F.Multiply(Avx512F.ConvertToVector512Single(Vector512.Create(b0, b1)), Vector512.Create(mb));
        Vector512<short> w;
        if (_small)
            w = Avx512BW.AddSaturate(Avx512BW.PackSignedSaturate(Avx512F.ConvertToVector512Int32(fa), Avx512F.ConvertToVector512Int32(fb)), _zp512);
        else
        {
            fa = Avx512F.Min(Avx512F.Max(fa, _lo512), _hi512);
            fb = Avx512F.Min(Avx512F.Max(fb, _lo512), _hi512);
            w = Avx512BW.Add(Avx512BW.PackSignedSaturate(Avx512F.ConvertToVector512Int32(fa), Avx512F.ConvertToVector512Int32(fb)), _zp512);
        }
        // dwords per 128-bit lane L: a[4L..4L+3], b[4L..4L+3] (twice)
        var packed = _signed ? Avx512BW.PackSignedSaturate(w, w).AsInt32() : Avx512BW.PackUnsignedSaturate(w, w).AsInt32();
        var rows = Avx512F.PermuteVar16x32(packed, Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 0, 4, 8, 12, 1, 5, 9, 13)).GetLower().AsByte();
        if (_small)
            rows = _signed ? Avx2.Min(Avx2.Max(rows.AsSByte(), _qmin.AsSByte()), _qmax.AsSByte()).AsByte() : Avx2.Min(Avx2.Max(rows, _qmin), _qmax);
        rows.GetLower().Store(da);
        rows.GetUpper().Store(db);
    }

    /// <summary><see cref="Rows2"/> with the clamp on the bytes (<see cref="SmallMultipliers"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe void Rows2Small(Vector256<int> a0, Vector256<int> a1, float ma, byte* da, Vector256<int> b0, Vector256<int> b1, float mb, byte* db)
    {
        var m = Vector256.Create(ma);
        var qa0 = Avx.ConvertToVector256Int32(Avx.Multiply(Avx.ConvertToVector256Single(a0), m));
        var qa1 = Avx.ConvertToVector256Int32(Avx.Multiply(Avx.ConvertToVector256Single(a1), m));
        m = Vector256.Create(mb);
        var qb0 = Avx.ConvertToVector256Int32(Avx.Multiply(Avx.ConvertToVector256Single(b0), m));
        var qb1 = Avx.ConvertToVector256Int32(Avx.Multiply(Avx.ConvertToVector256Single(b1), m));
        var wa = Avx2.AddSaturate(Avx2.PackSignedSaturate(qa0, qa1), _zp256);
        var wb = Avx2.AddSaturate(Avx2.PackSignedSaturate(qb0, qb1), _zp256);
        Vector256<byte> bytes = _signed
            ? Avx2.Min(Avx2.Max(Avx2.PackSignedSaturate(wa, wb), _qmin.AsSByte()), _qmax.AsSByte()).AsByte()
            : Avx2.Min(Avx2.Max(Avx2.PackUnsignedSaturate(wa, wb), _qmin), _qmax);
        var rows = Avx2.PermuteVar8x32(bytes.AsInt32(), Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7)).AsByte();
        rows.GetLower().Store(da);
        rows.GetUpper().Store(db);
    }
}
