using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Gemm;
using EdgeNet.Ops.Conv;

namespace EdgeNet.Kernels.Conv;

/// <summary>
/// Depthwise conv with channels as vector lanes, for planes too small (or strided) for a plane-at-a-time kernel to fill
/// its vectors: a block of Count consecutive planes (channels; a tail block repeats its last channel in the spare lanes,
/// which are computed and never stored) is transposed into a channel-interleaved, zero-padded scratch plane, element
/// (r, c) of the padded plane at (r·Wp + c)·Count + lane. The input planes are read flat (one transpose group may span
/// rows, so 7-wide rows waste nothing), each position stored at its padded place from a precomputed offset table.
/// Every output position is then one vector of Count channels: its KH·KW taps are whole-vector loads at fixed offsets
/// times the block's per-channel weights (gathered per block, lane-interleaved), any stride and dilation alike, padding
/// read as the scratch's zero border. Output rows collect in a band that is transposed back into the NCHW planes.
/// Planes whose padded scratch would exceed 64 KB (at 16 lanes, beyond ~32×32) keep only a ring of
/// (KH − 1)·DH + 1 padded rows instead, each input row transposed once when an output row first needs it.
/// Transposes are 16×16 blocks of 512-bit registers on AVX-512 hardware, 8×8 of 256-bit ones on AVX2 (and emulated
/// AVX-512), 4×4 of 128-bit ones on NEON. Taps
/// accumulate onto the bias in the reference's (kh, kw) order with fused multiply-adds; the activation is applied to
/// each register before its store.
/// </summary>
internal sealed unsafe class F32DwConvChannelBlocked<TS, TV> : F32DwConvBatched where TS : IF32Simd<TV> where TV : struct
{
    /// <summary>Floats the output band may hold (at least one row).</summary>
    private const int BandFloats = 4096;
    /// <summary>Above this many floats the padded plane is kept as a ring of rows (each transposed once, row by row),
    /// so the scratch stays in L1/L2 on large planes (MobileNetV2's 112² and 56²).</summary>
    private const int WholePlaneFloats = 16384;

    private readonly int _inH, _inW, _outH, _outW, _kh, _kw, _sh, _sw, _dh, _dw;
    /// <summary>Padded plane height and width (positions), floats per padded row, band rows.</summary>
    private readonly int _hp, _wp, _rowFloats, _bandRows, _padTop, _padLeft;
    /// <summary>Rows kept in scratch: the whole padded plane (<see cref="_hp"/>), or a ring of (KH − 1)·DH + 1 rows.</summary>
    private readonly int _rows;
    private readonly bool _ringMode;
    private readonly int _bandAt, _weightsAt, _biasAt, _scratchFloats;
    /// <summary>Per input element (flat index): float offset of its position in the padded scratch plane.</summary>
    private readonly int[] _offsets;

    public F32DwConvChannelBlocked(ConvGeometry g, bool? ring = null)
    {
        if (!Fits(g)) throw new ArgumentException("geometry does not fit the channel-blocked depthwise kernel");
        (_inH, _inW, _outH, _outW) = (g.InH, g.InW, g.OutH, g.OutW);
        (_kh, _kw, _sh, _sw, _dh, _dw) = (g.KH, g.KW, g.SH, g.SW, g.DH, g.DW);
        int v = TS.Count;
        _wp = Math.Max((_outW - 1) * _sw + (_kw - 1) * _dw + 1, g.PadLeft + _inW);
        _hp = Math.Max((_outH - 1) * _sh + (_kh - 1) * _dh + 1, g.PadTop + _inH);
        _rowFloats = _wp * v;
        (_padTop, _padLeft) = (g.PadTop, g.PadLeft);
        _ringMode = ring ?? ((long)_hp * _rowFloats > WholePlaneFloats && _inW >= 4);
        if (_ringMode && _inW < 4) throw new ArgumentException("the row ring needs input rows of at least 4");
        _rows = _ringMode ? (_kh - 1) * _dh + 1 : _hp;
        _offsets = new int[_ringMode ? 0 : _inH * _inW];
        for (int i = 0; i < _offsets.Length; i++) _offsets[i] = ((i / _inW + g.PadTop) * _wp + i % _inW + g.PadLeft) * v;
        _bandRows = Math.Clamp(BandFloats / (_outW * v), 1, _outH);
        _bandAt = _rows * _rowFloats;
        _weightsAt = _bandAt + _bandRows * _outW * v;
        _biasAt = _weightsAt + _kh * _kw * v;
        _scratchFloats = _biasAt + v;
    }

    /// <summary>Whether the kernel takes a geometry: 2-D (or 1-D as height 1) with at least one output.</summary>
    internal static bool Fits(ConvGeometry g) =>
        g.InD == 1 && g.KD == 1 && g.OutD == 1 && g.OutH > 0 && g.OutW > 0 && g.InH > 0 && g.InW > 0 && g.PadTop >= 0 && g.PadLeft >= 0
        && g.SH > 0 && g.SW > 0 && g.DH > 0 && g.DW > 0;

    public override int ScratchFloats => _scratchFloats;

    internal override int PlaneGrain => TS.Count;

    public override void Planes(ReadOnlySpan<float> x, ReadOnlySpan<float> w, bool hasBias, ReadOnlySpan<float> bias, Span<float> y,
        int channels, int from, int to, FusedActivation activation, Span<float> scratch)
    {
        int plane = _inH * _inW, taps = _kh * _kw;
        if (from < 0 || to < from || x.Length < (long)to * plane || w.Length < (long)channels * taps || y.Length < (long)to * _outH * _outW
            || scratch.Length < _scratchFloats || (hasBias && bias.Length < channels) || channels <= 0)
            throw new ArgumentException("plane spans are shorter than the geometry");
        if (from == to) return;
        int v = TS.Count;
        float** sources = stackalloc float*[v];
        fixed (float* px = x, pw = w, pb = bias, py = y, ps = scratch)
        fixed (int* offsets = _offsets)
        {
            // the padding border stays zero: every block overwrites only the input's positions
            F32GemmEpilogue.Zero(ps, _rows * _rowFloats);
            for (int p0 = from, c0 = from % channels; p0 < to; p0 += v)
            {
                int lanes = Math.Min(v, to - p0);
                float* wv = ps + _weightsAt, bv = ps + _biasAt;
                // lane l holds plane p0 + l (channel c0 + l, wrapping at the next image); spare lanes repeat the last
                for (int l = 0, c = c0; l < v; l++)
                {
                    sources[l] = px + (nint)(p0 + Math.Min(l, lanes - 1)) * plane;
                    float* wc = pw + c * taps;
                    for (int t = 0; t < taps; t++) wv[t * v + l] = wc[t];
                    bv[l] = hasBias ? pb[c] : 0;
                    if (l + 1 < lanes && ++c == channels) c = 0;
                }
                c0 = (c0 + v) % channels;
                if (!_ringMode) Interleave(sources, ps, offsets, plane);
                switch (activation.Kind)
                {
                    case ActivationKind.None: Block<NoActivation>(sources, ps, py + (nint)p0 * _outH * _outW, lanes, activation); break;
                    case ActivationKind.Relu or ActivationKind.Clip: Block<ClipActivation>(sources, ps, py + (nint)p0 * _outH * _outW, lanes, activation); break;
                    default: Block<AnyActivation>(sources, ps, py + (nint)p0 * _outH * _outW, lanes, activation); break;
                }
            }
        }
    }

    private void Block<TA>(float** sources, float* s, float* y, int lanes, FusedActivation activation) where TA : IRegisterActivation
    {
        var (lo, hi) = ClipActivation.Bounds<TS, TV>(activation);
        int v = TS.Count, outW = _outW, rowOut = outW * v;
        float* band = s + _bandAt, wv = s + _weightsAt;
        var b = TS.Load(ref Unsafe.AsRef<float>(s + _biasAt), 0);
        int bandStart = 0, next = 0;
        float** rows = stackalloc float*[_kh];
        for (int oh = 0; oh < _outH; oh++)
        {
            // padded rows oh·SH + kh·DH (input row minus the top pad); in ring mode, transposed when first needed
            int first = oh * _sh;
            if (_ringMode)
            {
                if (next < first) next = first;
                for (int last = first + (_kh - 1) * _dh; next <= last; next++) FillRow(sources, s, next);
            }
            for (int kh = 0, r = first; kh < _kh; kh++, r += _dh) rows[kh] = s + (nint)(_ringMode ? r % _rows : r) * _rowFloats;
            float* o = band + (nint)(oh - bandStart) * rowOut;
            if (_kh == 3 && _kw == 3) Row3<TA>(rows, wv, b, o, lo, hi, activation);
            else RowAny<TA>(rows, wv, b, o, lo, hi, activation);
            if (oh - bandStart + 1 == _bandRows || oh == _outH - 1)
            {
                Unband(band, y + (nint)bandStart * outW, (oh - bandStart + 1) * outW, lanes);
                bandStart = oh + 1;
            }
        }
    }

    private void Row3<TA>(float** rows, float* wv, TV b, float* o, TV lo, TV hi, FusedActivation activation) where TA : IRegisterActivation
    {
        int v = TS.Count;
        ref float wr = ref Unsafe.AsRef<float>(wv);
        TV w0 = TS.Load(ref wr, 0), w1 = TS.Load(ref wr, v), w2 = TS.Load(ref wr, 2 * v), w3 = TS.Load(ref wr, 3 * v), w4 = TS.Load(ref wr, 4 * v);
        TV w5 = TS.Load(ref wr, 5 * v), w6 = TS.Load(ref wr, 6 * v), w7 = TS.Load(ref wr, 7 * v), w8 = TS.Load(ref wr, 8 * v);
        ref float r0 = ref Unsafe.AsRef<float>(rows[0]);
        ref float r1 = ref Unsafe.AsRef<float>(rows[1]);
        ref float r2 = ref Unsafe.AsRef<float>(rows[2]);
        ref float or = ref Unsafe.AsRef<float>(o);
        nint step = _sw * v, d1 = _dw * v, d2 = 2 * _dw * v, c = 0, ow = 0;
        if (_sw == 2 && _dw == 1)
        {
            // output pairs: the right tap column of one output is the left of the next (15 loads for 18 taps)
            for (; ow + 2 <= _outW; ow += 2, c += 2 * step)
            {
                TV x0 = TS.Load(ref r0, c), x1 = TS.Load(ref r0, c + v), x2 = TS.Load(ref r0, c + 2 * v);
                var a = TS.MultiplyAdd(x2, w2, TS.MultiplyAdd(x1, w1, TS.MultiplyAdd(x0, w0, b)));
                TV x3 = TS.Load(ref r0, c + 3 * v), x4 = TS.Load(ref r0, c + 4 * v);
                var e = TS.MultiplyAdd(x4, w2, TS.MultiplyAdd(x3, w1, TS.MultiplyAdd(x2, w0, b)));
                x0 = TS.Load(ref r1, c); x1 = TS.Load(ref r1, c + v); x2 = TS.Load(ref r1, c + 2 * v);
                a = TS.MultiplyAdd(x2, w5, TS.MultiplyAdd(x1, w4, TS.MultiplyAdd(x0, w3, a)));
                x3 = TS.Load(ref r1, c + 3 * v); x4 = TS.Load(ref r1, c + 4 * v);
                e = TS.MultiplyAdd(x4, w5, TS.MultiplyAdd(x3, w4, TS.MultiplyAdd(x2, w3, e)));
                x0 = TS.Load(ref r2, c); x1 = TS.Load(ref r2, c + v); x2 = TS.Load(ref r2, c + 2 * v);
                a = TS.MultiplyAdd(x2, w8, TS.MultiplyAdd(x1, w7, TS.MultiplyAdd(x0, w6, a)));
                x3 = TS.Load(ref r2, c + 3 * v); x4 = TS.Load(ref r2, c + 4 * v);
                e = TS.MultiplyAdd(x4, w8, TS.MultiplyAdd(x3, w7, TS.MultiplyAdd(x2, w6, e)));
                TS.Store(TA.Apply<TS, TV>(a, lo, hi, activation), ref or, ow * v);
                TS.Store(TA.Apply<TS, TV>(e, lo, hi, activation), ref or, (ow + 1) * v);
            }
        }
        else if (_sw == 1 && _dw == 1)
        {
            // four outputs from six loads per row (36 taps from 18 loads)
            for (; ow + 4 <= _outW; ow += 4, c += 4 * v)
            {
                TV a0 = b, a1 = b, a2 = b, a3 = b;
                Row4(ref r0, c, w0, w1, w2, ref a0, ref a1, ref a2, ref a3);
                Row4(ref r1, c, w3, w4, w5, ref a0, ref a1, ref a2, ref a3);
                Row4(ref r2, c, w6, w7, w8, ref a0, ref a1, ref a2, ref a3);
                TS.Store(TA.Apply<TS, TV>(a0, lo, hi, activation), ref or, ow * v);
                TS.Store(TA.Apply<TS, TV>(a1, lo, hi, activation), ref or, (ow + 1) * v);
                TS.Store(TA.Apply<TS, TV>(a2, lo, hi, activation), ref or, (ow + 2) * v);
                TS.Store(TA.Apply<TS, TV>(a3, lo, hi, activation), ref or, (ow + 3) * v);
            }
        }
        for (; ow < _outW; ow++, c += step)
        {
            var acc = TS.MultiplyAdd(TS.Load(ref r0, c), w0, b);
            acc = TS.MultiplyAdd(TS.Load(ref r0, c + d1), w1, acc);
            acc = TS.MultiplyAdd(TS.Load(ref r0, c + d2), w2, acc);
            acc = TS.MultiplyAdd(TS.Load(ref r1, c), w3, acc);
            acc = TS.MultiplyAdd(TS.Load(ref r1, c + d1), w4, acc);
            acc = TS.MultiplyAdd(TS.Load(ref r1, c + d2), w5, acc);
            acc = TS.MultiplyAdd(TS.Load(ref r2, c), w6, acc);
            acc = TS.MultiplyAdd(TS.Load(ref r2, c + d1), w7, acc);
            acc = TS.MultiplyAdd(TS.Load(ref r2, c + d2), w8, acc);
            TS.Store(TA.Apply<TS, TV>(acc, lo, hi, activation), ref or, ow * v);
        }
    }

    /// <summary>One kernel row's three taps onto four adjacent stride-1 outputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row4(ref float r, nint c, TV w0, TV w1, TV w2, ref TV a0, ref TV a1, ref TV a2, ref TV a3)
    {
        int v = TS.Count;
        TV x0 = TS.Load(ref r, c), x1 = TS.Load(ref r, c + v), x2 = TS.Load(ref r, c + 2 * v);
        a0 = TS.MultiplyAdd(x2, w2, TS.MultiplyAdd(x1, w1, TS.MultiplyAdd(x0, w0, a0)));
        TV x3 = TS.Load(ref r, c + 3 * v);
        a1 = TS.MultiplyAdd(x3, w2, TS.MultiplyAdd(x2, w1, TS.MultiplyAdd(x1, w0, a1)));
        TV x4 = TS.Load(ref r, c + 4 * v);
        a2 = TS.MultiplyAdd(x4, w2, TS.MultiplyAdd(x3, w1, TS.MultiplyAdd(x2, w0, a2)));
        TV x5 = TS.Load(ref r, c + 5 * v);
        a3 = TS.MultiplyAdd(x5, w2, TS.MultiplyAdd(x4, w1, TS.MultiplyAdd(x3, w0, a3)));
    }

    private void RowAny<TA>(float** rows, float* wv, TV b, float* o, TV lo, TV hi, FusedActivation activation) where TA : IRegisterActivation
    {
        int v = TS.Count, kw = _kw;
        ref float wr = ref Unsafe.AsRef<float>(wv);
        ref float or = ref Unsafe.AsRef<float>(o);
        nint step = _sw * v, d = _dw * v;
        for (nint ow = 0; ow < _outW; ow++)
        {
            var acc = b;
            for (int kh = 0; kh < _kh; kh++)
            {
                ref float r = ref Unsafe.AsRef<float>(rows[kh] + ow * step);
                for (int k = 0; k < kw; k++)
                    acc = TS.MultiplyAdd(TS.Load(ref r, k * d), TS.Load(ref wr, (kh * kw + k) * v), acc);
            }
            TS.Store(TA.Apply<TS, TV>(acc, lo, hi, activation), ref or, ow * v);
        }
    }

    /// <summary>Padded row <paramref name="r"/> of every lane's plane into its ring row (zeros outside the input).</summary>
    private void FillRow(float** sources, float* s, int r)
    {
        int v = TS.Count, n = _inW, ih = r - _padTop;
        float* dst = s + (nint)(r % _rows) * _rowFloats;
        if ((uint)ih >= (uint)_inH)
        {
            F32GemmEpilogue.Zero(dst, _rowFloats);
            return;
        }
        dst += _padLeft * v;
        nint offset = (nint)ih * n;
        if (v == 16 && n >= 16 && Avx512F.IsSupported)
        {
            for (int j = 0; ; j += 16)
            {
                if (j > n - 16) j = n - 16;
                Transpose16(sources, offset + j, dst + j * v, v);
                if (j == n - 16) break;
            }
            return;
        }
        if (v >= 8 && n >= 8 && Avx.IsSupported)
        {
            for (int g = 0; g < v; g += 8)
            {
                float** src = sources + g;
                float* d = dst + g;
                for (int j = 0; ; j += 8)
                {
                    if (j > n - 8) j = n - 8;
                    nint k = offset + j;
                    Transpose8(Vector256.Load(src[0] + k), Vector256.Load(src[1] + k), Vector256.Load(src[2] + k), Vector256.Load(src[3] + k),
                        Vector256.Load(src[4] + k), Vector256.Load(src[5] + k), Vector256.Load(src[6] + k), Vector256.Load(src[7] + k),
                        out var c0, out var c1, out var c2, out var c3, out var c4, out var c5, out var c6, out var c7);
                    float* o = d + j * v;
                    c0.Store(o);
                    c1.Store(o + v);
                    c2.Store(o + 2 * v);
                    c3.Store(o + 3 * v);
                    c4.Store(o + 4 * v);
                    c5.Store(o + 5 * v);
                    c6.Store(o + 6 * v);
                    c7.Store(o + 7 * v);
                    if (j == n - 8) break;
                }
            }
            return;
        }
        // ring mode has rows of at least 4
        for (int g = 0; g < v; g += 4)
        {
            float* s0 = sources[g] + offset, s1 = sources[g + 1] + offset, s2 = sources[g + 2] + offset, s3 = sources[g + 3] + offset;
            float* d = dst + g;
            for (int j = 0; ; j += 4)
            {
                if (j > n - 4) j = n - 4;
                Transpose4(Vector128.Load(s0 + j), Vector128.Load(s1 + j), Vector128.Load(s2 + j), Vector128.Load(s3 + j),
                    out var c0, out var c1, out var c2, out var c3);
                float* o = d + j * v;
                c0.Store(o);
                c1.Store(o + v);
                c2.Store(o + 2 * v);
                c3.Store(o + 3 * v);
                if (j == n - 4) break;
            }
        }
    }

    /// <summary>Every lane's input plane into the padded scratch plane, groups of 8 (or 4) flat positions at a time.</summary>
    private static void Interleave(float** sources, float* s, int* offsets, int count)
    {
        int v = TS.Count;
        if (v == 16 && count >= 16 && Avx512F.IsSupported)
        {
            float** dst = stackalloc float*[16];
            for (int k = 0; ; k += 16)
            {
                if (k > count - 16) k = count - 16;
                for (int q = 0; q < 16; q++) dst[q] = s + offsets[k + q];
                Transpose16(sources, k, dst);
                if (k == count - 16) break;
            }
            return;
        }
        if (v >= 8 && count >= 8 && Avx.IsSupported)
        {
            for (int g = 0; g < v; g += 8)
            {
                float** src = sources + g;
                float* dst = s + g;
                // whole groups of eight positions, the last overlapping the previous when count is not a multiple of 8
                for (int k = 0; ; k += 8)
                {
                    if (k > count - 8) k = count - 8;
                    Transpose8(Vector256.Load(src[0] + k), Vector256.Load(src[1] + k), Vector256.Load(src[2] + k), Vector256.Load(src[3] + k),
                        Vector256.Load(src[4] + k), Vector256.Load(src[5] + k), Vector256.Load(src[6] + k), Vector256.Load(src[7] + k),
                        out var c0, out var c1, out var c2, out var c3, out var c4, out var c5, out var c6, out var c7);
                    int* o = offsets + k;
                    c0.Store(dst + o[0]);
                    c1.Store(dst + o[1]);
                    c2.Store(dst + o[2]);
                    c3.Store(dst + o[3]);
                    c4.Store(dst + o[4]);
                    c5.Store(dst + o[5]);
                    c6.Store(dst + o[6]);
                    c7.Store(dst + o[7]);
                    if (k == count - 8) break;
                }
            }
            return;
        }
        for (int g = 0; g < v; g += 4)
        {
            float* s0 = sources[g], s1 = sources[g + 1], s2 = sources[g + 2], s3 = sources[g + 3];
            float* dst = s + g;
            if (count < 4)
            {
                for (int k = 0; k < count; k++)
                {
                    float* d = dst + offsets[k];
                    (d[0], d[1], d[2], d[3]) = (s0[k], s1[k], s2[k], s3[k]);
                }
                continue;
            }
            for (int k = 0; ; k += 4)
            {
                if (k > count - 4) k = count - 4;
                Transpose4(Vector128.Load(s0 + k), Vector128.Load(s1 + k), Vector128.Load(s2 + k), Vector128.Load(s3 + k),
                    out var c0, out var c1, out var c2, out var c3);
                int* o = offsets + k;
                c0.Store(dst + o[0]);
                c1.Store(dst + o[1]);
                c2.Store(dst + o[2]);
                c3.Store(dst + o[3]);
                if (k == count - 4) break;
            }
        }
    }

    /// <summary>Band positions [0, count) (Count channels each) into the first <paramref name="lanes"/> output planes at <paramref name="y"/>.</summary>
    private void Unband(float* band, float* y, int count, int lanes)
    {
        int v = TS.Count;
        nint outPlane = _outH * _outW;
        int g = 0;
        if (v == 16 && lanes == 16 && count >= 16 && Avx512F.IsSupported)
        {
            float** src = stackalloc float*[16];
            float** dst = stackalloc float*[16];
            for (int q = 0; q < 16; q++)
            {
                src[q] = band + q * v;
                dst[q] = y + q * outPlane;
            }
            for (int j = 0; ; j += 16)
            {
                if (j > count - 16) j = count - 16;
                // rows are the band's 16 positions from j (each its channels), columns the 16 planes
                Transpose16(src, j * v, dst, j);
                if (j == count - 16) break;
            }
            return;
        }
        if (v >= 8 && count >= 8 && Avx.IsSupported)
            for (; g + 8 <= lanes; g += 8)
            {
                float* y0 = y + g * outPlane;
                for (int j = 0; ; j += 8)
                {
                    if (j > count - 8) j = count - 8;
                    float* src = band + j * v + g;
                    Transpose8(Vector256.Load(src), Vector256.Load(src + v), Vector256.Load(src + 2 * v), Vector256.Load(src + 3 * v),
                        Vector256.Load(src + 4 * v), Vector256.Load(src + 5 * v), Vector256.Load(src + 6 * v), Vector256.Load(src + 7 * v),
                        out var c0, out var c1, out var c2, out var c3, out var c4, out var c5, out var c6, out var c7);
                    c0.Store(y0 + j);
                    c1.Store(y0 + outPlane + j);
                    c2.Store(y0 + 2 * outPlane + j);
                    c3.Store(y0 + 3 * outPlane + j);
                    c4.Store(y0 + 4 * outPlane + j);
                    c5.Store(y0 + 5 * outPlane + j);
                    c6.Store(y0 + 6 * outPlane + j);
                    c7.Store(y0 + 7 * outPlane + j);
                    if (j == count - 8) break;
                }
            }
        int whole = count >= 4 ? lanes & ~3 : g;
        for (; g < whole; g += 4)
        {
            float* y0 = y + g * outPlane, y1 = y0 + outPlane, y2 = y1 + outPlane, y3 = y2 + outPlane;
            for (int j = 0; ; j += 4)
            {
                if (j > count - 4) j = count - 4;
                float* src = band + j * v + g;
                Transpose4(Vector128.Load(src), Vector128.Load(src + v), Vector128.Load(src + 2 * v), Vector128.Load(src + 3 * v),
                    out var c0, out var c1, out var c2, out var c3);
                c0.Store(y0 + j);
                c1.Store(y1 + j);
                c2.Store(y2 + j);
                c3.Store(y3 + j);
                if (j == count - 4) break;
            }
        }
        for (int l = whole; l < lanes; l++)
        {
            float* yl = y + l * outPlane;
            for (int j = 0; j < count; j++) yl[j] = band[j * v + l];
        }
    }

    /// <summary>16 × 16 floats: row i from rows[i] + offset into column i of the block, column j of the rows (a
    /// position / a plane) stored contiguously at dst + j·dstStride (AVX-512).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose16(float** rows, nint offset, float* dst, nint dstStride)
    {
        Quads(rows, offset, out var a0, out var a1, out var a2, out var a3);
        Quads(rows + 4, offset, out var b0, out var b1, out var b2, out var b3);
        Quads(rows + 8, offset, out var c0, out var c1, out var c2, out var c3);
        Quads(rows + 12, offset, out var d0, out var d1, out var d2, out var d3);
        Lanes(a0, b0, c0, d0, dst, dstStride, 0);
        Lanes(a1, b1, c1, d1, dst, dstStride, 1);
        Lanes(a2, b2, c2, d2, dst, dstStride, 2);
        Lanes(a3, b3, c3, d3, dst, dstStride, 3);
    }

    /// <summary><see cref="Transpose16(float**, nint, float*, nint)"/> with column j stored at dst[j] + dstOffset.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose16(float** rows, nint offset, float** dst, nint dstOffset = 0)
    {
        Quads(rows, offset, out var a0, out var a1, out var a2, out var a3);
        Quads(rows + 4, offset, out var b0, out var b1, out var b2, out var b3);
        Quads(rows + 8, offset, out var c0, out var c1, out var c2, out var c3);
        Quads(rows + 12, offset, out var d0, out var d1, out var d2, out var d3);
        Lanes(a0, b0, c0, d0, dst, dstOffset, 0);
        Lanes(a1, b1, c1, d1, dst, dstOffset, 1);
        Lanes(a2, b2, c2, d2, dst, dstOffset, 2);
        Lanes(a3, b3, c3, d3, dst, dstOffset, 3);
    }

    /// <summary>Four rows: q_k holds, in its 128-bit lane L, the four rows' elements 4L + k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Quads(float** rows, nint offset, out Vector512<float> q0, out Vector512<float> q1, out Vector512<float> q2, out Vector512<float> q3)
    {
        var r0 = Avx512F.LoadVector512(rows[0] + offset);
        var r1 = Avx512F.LoadVector512(rows[1] + offset);
        var r2 = Avx512F.LoadVector512(rows[2] + offset);
        var r3 = Avx512F.LoadVector512(rows[3] + offset);
        var t0 = Avx512F.UnpackLow(r0, r1);   // per lane: r0[4L], r1[4L], r0[4L+1], r1[4L+1]
        var t1 = Avx512F.UnpackHigh(r0, r1);  // r0[4L+2], r1[4L+2], r0[4L+3], r1[4L+3]
        var t2 = Avx512F.UnpackLow(r2, r3);
        var t3 = Avx512F.UnpackHigh(r2, r3);
        q0 = Avx512F.Shuffle(t0, t2, 0b01_00_01_00);
        q1 = Avx512F.Shuffle(t0, t2, 0b11_10_11_10);
        q2 = Avx512F.Shuffle(t1, t3, 0b01_00_01_00);
        q3 = Avx512F.Shuffle(t1, t3, 0b11_10_11_10);
    }

    /// <summary>Columns 4L + k (L = 0..3) from the k-th quads of the four row groups: lane L of each, in group order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Lanes(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d, float* dst, nint stride, int k)
    {
        var p = Avx512F.Shuffle4x128(a, b, 0b01_00_01_00); // a0 a1 b0 b1
        var q = Avx512F.Shuffle4x128(a, b, 0b11_10_11_10); // a2 a3 b2 b3
        var r = Avx512F.Shuffle4x128(c, d, 0b01_00_01_00);
        var s = Avx512F.Shuffle4x128(c, d, 0b11_10_11_10);
        Avx512F.Store(dst + k * stride, Avx512F.Shuffle4x128(p, r, 0b10_00_10_00));
        Avx512F.Store(dst + (4 + k) * stride, Avx512F.Shuffle4x128(p, r, 0b11_01_11_01));
        Avx512F.Store(dst + (8 + k) * stride, Avx512F.Shuffle4x128(q, s, 0b10_00_10_00));
        Avx512F.Store(dst + (12 + k) * stride, Avx512F.Shuffle4x128(q, s, 0b11_01_11_01));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Lanes(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d, float** dst, nint offset, int k)
    {
        var p = Avx512F.Shuffle4x128(a, b, 0b01_00_01_00);
        var q = Avx512F.Shuffle4x128(a, b, 0b11_10_11_10);
        var r = Avx512F.Shuffle4x128(c, d, 0b01_00_01_00);
        var s = Avx512F.Shuffle4x128(c, d, 0b11_10_11_10);
        Avx512F.Store(dst[k] + offset, Avx512F.Shuffle4x128(p, r, 0b10_00_10_00));
        Avx512F.Store(dst[4 + k] + offset, Avx512F.Shuffle4x128(p, r, 0b11_01_11_01));
        Avx512F.Store(dst[8 + k] + offset, Avx512F.Shuffle4x128(q, s, 0b10_00_10_00));
        Avx512F.Store(dst[12 + k] + offset, Avx512F.Shuffle4x128(q, s, 0b11_01_11_01));
    }

    /// <summary>Rows r0…r7 of an 8×8 block into its columns (AVX).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7,
        out Vector256<float> c0, out Vector256<float> c1, out Vector256<float> c2, out Vector256<float> c3,
        out Vector256<float> c4, out Vector256<float> c5, out Vector256<float> c6, out Vector256<float> c7)
    {
        // per 128-bit half: pairs of rows interleaved, then columns of four rows (elements j and j + 4 in the halves)
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0b01_00_01_00);
        var u1 = Avx.Shuffle(t0, t2, 0b11_10_11_10);
        var u2 = Avx.Shuffle(t1, t3, 0b01_00_01_00);
        var u3 = Avx.Shuffle(t1, t3, 0b11_10_11_10);
        var u4 = Avx.Shuffle(t4, t6, 0b01_00_01_00);
        var u5 = Avx.Shuffle(t4, t6, 0b11_10_11_10);
        var u6 = Avx.Shuffle(t5, t7, 0b01_00_01_00);
        var u7 = Avx.Shuffle(t5, t7, 0b11_10_11_10);
        c0 = Avx.Permute2x128(u0, u4, 0x20);
        c1 = Avx.Permute2x128(u1, u5, 0x20);
        c2 = Avx.Permute2x128(u2, u6, 0x20);
        c3 = Avx.Permute2x128(u3, u7, 0x20);
        c4 = Avx.Permute2x128(u0, u4, 0x31);
        c5 = Avx.Permute2x128(u1, u5, 0x31);
        c6 = Avx.Permute2x128(u2, u6, 0x31);
        c7 = Avx.Permute2x128(u3, u7, 0x31);
    }

    /// <summary>Rows a, b, c, d of a 4×4 block into its columns: c0 = (a0, b0, c0, d0), …</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4(Vector128<float> a, Vector128<float> b, Vector128<float> c, Vector128<float> d,
        out Vector128<float> c0, out Vector128<float> c1, out Vector128<float> c2, out Vector128<float> c3)
    {
        if (Sse.IsSupported)
        {
            var ab0 = Sse.UnpackLow(a, b);   // a0 b0 a1 b1
            var ab1 = Sse.UnpackHigh(a, b);  // a2 b2 a3 b3
            var cd0 = Sse.UnpackLow(c, d);
            var cd1 = Sse.UnpackHigh(c, d);
            c0 = Sse.MoveLowToHigh(ab0, cd0);
            c1 = Sse.MoveHighToLow(cd0, ab0);
            c2 = Sse.MoveLowToHigh(ab1, cd1);
            c3 = Sse.MoveHighToLow(cd1, ab1);
        }
        else if (AdvSimd.Arm64.IsSupported)
        {
            var ab0 = AdvSimd.Arm64.ZipLow(a, b).AsDouble();
            var ab1 = AdvSimd.Arm64.ZipHigh(a, b).AsDouble();
            var cd0 = AdvSimd.Arm64.ZipLow(c, d).AsDouble();
            var cd1 = AdvSimd.Arm64.ZipHigh(c, d).AsDouble();
            c0 = AdvSimd.Arm64.ZipLow(ab0, cd0).AsSingle();
            c1 = AdvSimd.Arm64.ZipHigh(ab0, cd0).AsSingle();
            c2 = AdvSimd.Arm64.ZipLow(ab1, cd1).AsSingle();
            c3 = AdvSimd.Arm64.ZipHigh(ab1, cd1).AsSingle();
        }
        else
        {
            c0 = Vector128.Create(a[0], b[0], c[0], d[0]);
            c1 = Vector128.Create(a[1], b[1], c[1], d[1]);
            c2 = Vector128.Create(a[2], b[2], c[2], d[2]);
            c3 = Vector128.Create(a[3], b[3], c[3], d[3]);
        }
    }
}
