using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Kernels.Gemm;
using EdgeNet.Ops.Conv;

namespace EdgeNet.Kernels.Conv;

/// <summary>
/// Implicit-GEMM im2col: writes a tile of the (never materialised) im2col matrix of one image and group straight into
/// GEMM B panels. Row r = (c·KD + kd)·KH·KW + kh·KW + kw, column o = (od·OH + oh)·OW + ow, value
/// x[c, od·sd − pf + kd·dd, oh·sh − pt + kh·dh, ow·sw − pl + kw·dw] or 0 in the padding. The layout stays NCHW
/// (canonical 3-D), so a tile row is a gather along output rows, contiguous when the stride is 1.
/// Short output rows make that gather a string of tiny runs, each with its own bounds arithmetic (DS-CNN's first
/// conv: 40 rows × 25 runs of 5); when the whole im2col matrix of one item is small, its input offsets are computed
/// once (<see cref="GatherTable"/>) and a tile is a plain indexed copy (eight lanes per masked gather with AVX2).
/// 2-D convs of width stride 2 (no dilation) are packed a vector of columns at a time instead (<see cref="PackStrideTwo"/>).
/// </summary>
public sealed unsafe class F32Im2ColPacker : F32GemmTilePacker
{
    /// <summary>Output rows up to this wide use the offset table (when it is small enough).</summary>
    public const int TableMaxOutW = 16;

    /// <summary>At most this many im2col elements (K × output volume) per item get an offset table (128 KiB).</summary>
    public const int TableMaxElements = 1 << 15;

    private readonly ConvGeometry g;
    private readonly int _kVolume, _khw, _inPlane, _inVolume, _outPlane;
    private readonly int[]? _table;
    private readonly int _level;

    /// <param name="g">the conv geometry</param>
    /// <param name="depth">the im2col rows of one item (input channels per group × kernel volume); with it, a small
    /// im2col with short output rows is packed through a precomputed offset table</param>
    /// <param name="isa">the session's kernel path: the packer's vector moves go no wider than it (so a session forced
    /// to scalar or AVX2 runs those moves too); null = the best the CPU has</param>
    public F32Im2ColPacker(ConvGeometry g, int depth = 0, Isa? isa = null)
    {
        this.g = g;
        _level = MoveLevel(isa ?? IsaSupport.Best);
        _kVolume = g.KernelVolume;
        _khw = g.KH * g.KW;
        _inPlane = g.InH * g.InW;
        _inVolume = g.InVolume;
        _outPlane = g.OutH * g.OutW;
        if (depth > 0 && g.OutW <= TableMaxOutW && (long)depth * g.OutVolume <= TableMaxElements) _table = GatherTable(g, depth);
    }

    /// <summary>Widest vector moves for a path: 3 = AVX-512 permutes, 2 = AVX2, 1 = 128-bit (SSE / NEON), 0 = scalar
    /// element copies. An emulated AVX-512 path (no AVX-512 hardware) moves with AVX2.</summary>
    private static int MoveLevel(Isa isa) => isa switch
    {
        Isa.Avx512 when Avx512F.IsSupported => 3,
        Isa.Avx512 or Isa.Avx2 when Avx2.IsSupported => 2,
        Isa.Avx512 or Isa.Avx2 or Isa.Neon => 1,
        _ => 0,
    };

    /// <summary>True when tiles are packed through the precomputed offset table.</summary>
    public bool UsesTable => _table is not null;

    /// <summary>
    /// table[r·N + o] = offset of im2col element (r, o) from the item's first input channel, or −1 in the padding
    /// (N = output volume).
    /// </summary>
    public static int[] GatherTable(ConvGeometry g, int depth)
    {
        int n = g.OutVolume, kVolume = g.KernelVolume, khw = g.KH * g.KW;
        var table = GC.AllocateArray<int>(depth * n, pinned: true);
        for (int row = 0; row < depth; row++)
        {
            int c = row / kVolume, kk = row % kVolume;
            int kd = kk / khw, kh = kk % khw / g.KW, kw = kk % g.KW;
            for (int o = 0; o < n; o++)
            {
                int od = o / (g.OutH * g.OutW), oh = o % (g.OutH * g.OutW) / g.OutW, ow = o % g.OutW;
                int id = od * g.SD - g.PadFront + kd * g.DD, ih = oh * g.SH - g.PadTop + kh * g.DH, iw = ow * g.SW - g.PadLeft + kw * g.DW;
                bool inside = (uint)id < (uint)g.InD && (uint)ih < (uint)g.InH && (uint)iw < (uint)g.InW;
                table[row * n + o] = inside ? c * g.InVolume + (id * g.InH + ih) * g.InW + iw : -1;
            }
        }
        return table;
    }

    public override void Pack(float* source, int k0, int kc, int j0, int nc, int nr, float* dst)
    {
        if (_table is not null) { PackFromTable(source, k0, kc, j0, nc, nr, dst); return; }
        int n = g.OutVolume;
        int end = Math.Min(j0 + nc, n);
        if (Sse.IsSupported && g.InD == 1 && g.KD == 1) PrefetchNext(source, k0, kc, j0, end, nc);
        // only on output rows of at least 4 vectors: on narrower rows most vectors cross a row end or a border and
        // go element by element (ResNet-18's layer2.0.conv1, 28 wide: 0.90 -> 1.44 ms with 16 lanes)
        if (g.InD == 1 && g.KD == 1 && g.OutD == 1 && g.PadFront == 0 && g.SW == 2 && g.DW == 1 && g.OutW >= 4 * (_level == 3 ? 16 : _level == 2 ? 8 : 4))
        {
            switch (_level)
            {
                case 3 when nr % 16 == 0: PackStrideTwo<F32Avx512, Vector512<float>>(source, k0, kc, j0, end, nr, dst); return;
                case 2 when nr % 8 == 0: PackStrideTwo<F32Avx2, Vector256<float>>(source, k0, kc, j0, end, nr, dst); return;
                case 1 when nr % 4 == 0 && Sse.IsSupported: PackStrideTwo<F32Sse, Vector128<float>>(source, k0, kc, j0, end, nr, dst); return;
                case 1 when nr % 4 == 0 && AdvSimd.Arm64.IsSupported: PackStrideTwo<F32Neon, Vector128<float>>(source, k0, kc, j0, end, nr, dst); return;
            }
        }
        int odStart = j0 / _outPlane, ohStart = j0 % _outPlane / g.OutW, owStart = j0 % g.OutW;
        nint panelStride = (nint)kc * nr;
        for (int r = 0; r < kc; r++)
        {
            int row = k0 + r;
            int c = row / _kVolume, kk = row % _kVolume;
            int kd = kk / _khw, kh = kk % _khw / g.KW, kw = kk % g.KW;
            float* channel = source + (nint)c * _inVolume;
            int colOffset = kw * g.DW - g.PadLeft, sw = g.SW, inW = g.InW;
            float* d = dst + (nint)r * nr;
            int jj = 0;
            int od = odStart, oh = ohStart, ow = owStart;
            for (int col = j0; col < end;)
            {
                int run = Math.Min(g.OutW - ow, end - col);
                int id = od * g.SD - g.PadFront + kd * g.DD, ih = oh * g.SH - g.PadTop + kh * g.DH;
                if ((uint)id < (uint)g.InD && (uint)ih < (uint)g.InH)
                {
                    float* inRow = channel + (nint)id * _inPlane + (nint)ih * g.InW;
                    // t in [lo, hi) reads inside the row: 0 ≤ iw0 + t·sw < InW
                    int iw0 = ow * g.SW + colOffset;
                    int lo, hi;
                    if (sw == 1)
                    {
                        lo = Math.Clamp(-iw0, 0, run);
                        hi = Math.Clamp(inW - iw0, lo, run);
                    }
                    else
                    {
                        lo = iw0 >= 0 ? 0 : Math.Min(run, (-iw0 + sw - 1) / sw);
                        hi = Math.Clamp((inW - iw0 + sw - 1) / sw, lo, run);
                    }
                    Zeros(ref d, ref jj, lo, nr, panelStride);
                    Copy(ref d, ref jj, inRow + iw0 + lo * sw, sw, hi - lo, nr, panelStride, _level);
                    Zeros(ref d, ref jj, run - hi, nr, panelStride);
                }
                else Zeros(ref d, ref jj, run, nr, panelStride);
                col += run;
                ow = 0;
                if (++oh == g.OutH) { oh = 0; od++; }
            }
            if (jj != 0) new Span<float>(d + jj, nr - jj).Clear();
        }
    }

    /// <summary>
    /// Asks for the input rows the next tile [end, end + nc) reads beyond those this one reads, in every channel of
    /// rows [k0, k0 + kc): a stride-2 stem's input is cold (the previous run's last layers evicted it), and its reads,
    /// a few floats from each of 9 rows per tile, are not a pattern the hardware prefetcher follows (MobileNetV2's stem
    /// ran ~100 µs slower in the model than timed alone).
    /// </summary>
    private void PrefetchNext(float* source, int k0, int kc, int j0, int end, int nc)
    {
        int n = g.OutVolume;
        if (end >= n || kc <= 0) return;
        // two tiles ahead; the first tile also asks for the next one's rows
        int last = j0 == 0 ? LastRow(end - 1) : LastRow(Math.Min(n, end + nc) - 1), next = LastRow(Math.Min(n, end + 2 * nc) - 1);
        if (next <= last) return;
        nint from = (nint)(last + 1) * g.InW, to = (nint)(next + 1) * g.InW;
        for (int c = k0 / _kVolume, cEnd = (k0 + kc - 1) / _kVolume; c <= cEnd; c++)
        {
            float* channel = source + (nint)c * _inVolume;
            for (nint i = from; i < to; i += 16) Sse.Prefetch0(channel + i);
            Sse.Prefetch0(channel + to - 1);
        }
    }

    /// <summary>
    /// The 2-D, width-stride-2 im2col (no width dilation), one vector of Count columns at a time: a vector whose
    /// columns lie in one output row, every tap inside the input row, reads row (c, kh)'s 2·Count floats from column
    /// 2·ow − pl + kw once and splits them into even and odd elements, the im2col rows of taps kw and kw + 1
    /// (MobileNetV2's 3×3/2 stem: per vector, each of its 9 kernel rows is one even/odd split and one even-element read,
    /// 3 im2col rows; the bounds-checked runs of <see cref="Pack"/> took about as long as the stem's multiply-adds, this
    /// about half that). Other vectors (the left and right
    /// borders, rows outside the input, vectors across output rows, the last partial one) are gathered element by
    /// element; columns past <paramref name="end"/> in the last panel are zero. Writes exactly what <see cref="Pack"/> does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PackStrideTwo<TS, TV>(float* source, int k0, int kc, int j0, int end, int nr, float* dst)
        where TS : IF32Simd<TV> where TV : struct
    {
        int v = TS.Count, outW = g.OutW, inW = g.InW, inH = g.InH, kw = g.KW, pl = g.PadLeft;
        nint panelStride = (nint)kc * nr;
        // one kernel row (c, ki) at a time: its taps kj..kj + count − 1 are im2col rows r..r + count − 1
        for (int r = 0; r < kc;)
        {
            int row = k0 + r, c = row / _kVolume, ki = row % _kVolume / kw, kj = row % kw;
            int count = Math.Min(kw - kj, kc - r);
            float* channel = source + (nint)c * _inVolume;
            float* rowDst = dst + (nint)r * nr;
            int tapDown = ki * g.DH - g.PadTop;
            // columns ow..ow + Count − 1 read inside the input row for these taps when ow is in [owLo, owHi]
            int owLo = (pl - kj + 1) / 2, span = inW - 1 + pl - (kj + count - 1), owHi = span < 0 ? -1 : span / 2 - (v - 1);
            int oh = j0 / outW, ow = j0 % outW, sh = g.SH, lane0 = 0;
            float* panel = rowDst;
            for (int o = j0; o < end; o += v)
            {
                int lanes = Math.Min(v, end - o);
                float* d = panel + lane0;
                int ih = oh * sh + tapDown;
                if (ow + lanes > outW) GatherAcrossRows(channel, ki, kj, count, o, lanes, d, nr);
                else if ((uint)ih >= (uint)inH)
                    for (int t = 0; t < count; t++) Fill(d + (nint)t * nr, lanes);
                else
                {
                    float* inRow = channel + (nint)ih * inW;
                    int iw = 2 * ow - pl + kj;
                    // a vector split reads 2·Count floats from iw: they must lie inside the plane; lanes whose column
                    // is outside the row (the left and right borders) are cleared after the vector stores
                    nint first = (nint)ih * inW + iw;
                    if (lanes == v && first >= 0 && first + (count - 1) / 2 * 2 + 2 * v <= _inPlane)
                    {
                        int t = 0;
                        for (; t + 1 < count; t += 2)
                        {
                            F32Deinterleave.Load<TS, TV>(inRow + iw + t, out var evens, out var odds);
                            TS.Store(evens, ref Unsafe.AsRef<float>(d + (nint)t * nr), 0);
                            TS.Store(odds, ref Unsafe.AsRef<float>(d + (nint)(t + 1) * nr), 0);
                        }
                        if (t < count) TS.Store(TS.LoadEvens(ref Unsafe.AsRef<float>(inRow + iw + t), 0), ref Unsafe.AsRef<float>(d + (nint)t * nr), 0);
                        if (ow < owLo || ow > owHi)
                            for (t = 0; t < count; t++)
                            {
                                // lanes [0, lo) are left of the row, [hi, Count) right of it
                                int column = iw + t, lo = column >= 0 ? 0 : Math.Min(v, (1 - column) / 2);
                                int hi = column > inW - 1 ? 0 : Math.Clamp((inW - 1 - column) / 2 + 1, lo, v);
                                Fill(d + (nint)t * nr, lo);
                                Fill(d + (nint)t * nr + hi, v - hi);
                            }
                    }
                    else
                        for (int t = 0; t < count; t++)
                        {
                            float* p = d + (nint)t * nr;
                            for (int lane = 0; lane < lanes; lane++)
                                p[lane] = (uint)(iw + t + 2 * lane) < (uint)inW ? inRow[iw + t + 2 * lane] : 0f;
                        }
                }
                // the next vector: the next lanes of the panel (or the next panel), the next columns of the output
                if ((lane0 += v) == nr)
                {
                    lane0 = 0;
                    panel += panelStride;
                }
                ow += v;
                if (ow >= outW)
                {
                    oh += ow / outW;
                    ow %= outW;
                }
            }
            r += count;
        }
        // the last panel's columns after the block are zero
        int filled = end - j0, pad = (nr - filled % nr) % nr;
        if (filled > 0 && pad > 0)
        {
            float* d = dst + filled / nr * panelStride + filled % nr;
            for (int r = 0; r < kc; r++) Fill(d + (nint)r * nr, pad);
        }
    }

    /// <summary>Lanes of im2col rows (taps ki, kj..kj + count − 1 of the channel at <paramref name="channel"/>) for
    /// output columns o.., element by element, each with its own output row (a vector that crosses output rows).</summary>
    private void GatherAcrossRows(float* channel, int ki, int kj, int count, int o, int lanes, float* d, int nr)
    {
        for (int t = 0; t < count; t++)
            for (int lane = 0; lane < lanes; lane++)
            {
                int oh = (o + lane) / g.OutW, ow = (o + lane) % g.OutW;
                int ih = oh * g.SH - g.PadTop + ki * g.DH, iw = ow * 2 - g.PadLeft + kj + t;
                d[(nint)t * nr + lane] = (uint)ih < (uint)g.InH && (uint)iw < (uint)g.InW ? channel[(nint)ih * g.InW + iw] : 0f;
            }
    }

    private static void Fill(float* d, int count)
    {
        for (int t = 0; t < count; t++) d[t] = 0f;
    }

    /// <summary>The last input row (clamped to the plane) the output column o's taps read, for 2-D geometries.</summary>
    private int LastRow(int o) => Math.Min(g.InH - 1, o % _outPlane / g.OutW * g.SH - g.PadTop + (g.KH - 1) * g.DH);

    private void PackFromTable(float* source, int k0, int kc, int j0, int nc, int nr, float* dst)
    {
        int n = g.OutVolume;
        int end = Math.Min(j0 + nc, n);
        fixed (int* table = _table)
            for (int p0 = j0; p0 < end; p0 += nr)
            {
                int cols = Math.Min(nr, end - p0);
                float* panel = dst + (nint)(p0 - j0) * kc;
                for (int r = 0; r < kc; r++)
                {
                    int* t = table + (nint)(k0 + r) * n + p0;
                    float* d = panel + (nint)r * nr;
                    int col = 0;
                    if (_level >= 2 && Avx2.IsSupported)
                    {
                        // eight at a time: a masked gather reads only the lanes inside the input (the others stay 0)
                        for (; col + 8 <= cols; col += 8)
                        {
                            var index = Vector256.Load(t + col);
                            var inside = Vector256.GreaterThanOrEqual(index, Vector256<int>.Zero).AsSingle();
                            Avx2.GatherMaskVector256(Vector256<float>.Zero, source, index, inside, 4).Store(d + col);
                        }
                    }
                    for (; col < cols; col++)
                    {
                        int o = t[col];
                        d[col] = o >= 0 ? source[o] : 0f;
                    }
                    for (; col < nr; col++) d[col] = 0f;
                }
            }
    }

    /// <summary>Appends count zeros to the panel row at d[jj], moving to the next panel every NR columns.</summary>
    private static void Zeros(ref float* d, ref int jj, int count, int nr, nint panelStride)
    {
        while (count > 0)
        {
            int chunk = Math.Min(count, nr - jj);
            float* p = d + jj;
            int t = 0;
            for (; t + 4 <= chunk; t += 4) Vector128<float>.Zero.Store(p + t);
            for (; t < chunk; t++) p[t] = 0;
            count -= chunk;
            if ((jj += chunk) == nr) { jj = 0; d += panelStride; }
        }
    }

    /// <summary>Appends count input values src[0], src[stride], ... (a contiguous copy when stride is 1).</summary>
    private static void Copy(ref float* d, ref int jj, float* src, int stride, int count, int nr, nint panelStride, int level)
    {
        while (count > 0)
        {
            int chunk = Math.Min(count, nr - jj);
            // chunks are at most NR (16) floats: inline vector moves beat a memmove call
            float* p = d + jj;
            int t = 0;
            if (stride == 1 && level >= 1)
                for (; t + 4 <= chunk; t += 4) Vector128.Load(src + t).Store(p + t);
            else if (stride == 2 && level >= 3 && Avx512F.IsSupported)
            {
                // even lanes of two 16-float loads in one two-source permute; the second load ends at src[2t+31],
                // inside the row while t+17 ≤ count (then eight and four at a time as below)
                var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
                for (; t + 16 <= chunk && t + 17 <= count; t += 16)
                    Avx512F.PermuteVar16x32x2(Vector512.Load(src + 2 * t), evens, Vector512.Load(src + 2 * t + 16)).Store(p + t);
                for (; t + 8 <= chunk && t + 9 <= count; t += 8)
                {
                    var even = Avx.Shuffle(Vector256.Load(src + 2 * t), Vector256.Load(src + 2 * t + 8), 0b10_00_10_00);
                    Avx2.Permute4x64(even.AsDouble(), 0b11_01_10_00).AsSingle().Store(p + t);
                }
            }
            else if (stride == 2 && level >= 2 && Avx2.IsSupported)
            {
                // even lanes of two 8-float loads: in-lane shuffle, then the 64-bit quarters put in order;
                // the second load ends at src[2t+15], inside the row while t+9 ≤ count
                for (; t + 8 <= chunk && t + 9 <= count; t += 8)
                {
                    var lo = Vector256.Load(src + 2 * t);
                    var hi = Vector256.Load(src + 2 * t + 8);
                    var even = Avx.Shuffle(lo, hi, 0b10_00_10_00);
                    Avx2.Permute4x64(even.AsDouble(), 0b11_01_10_00).AsSingle().Store(p + t);
                }
                for (; t + 4 <= chunk && t + 5 <= count; t += 4)
                    Sse.Shuffle(Vector128.Load(src + 2 * t), Vector128.Load(src + 2 * t + 4), 0b10_00_10_00).Store(p + t);
            }
            else if (stride == 2 && level >= 1 && (Sse.IsSupported || AdvSimd.Arm64.IsSupported))
            {
                // even lanes of two 4-float loads; the second load ends at src[2t+7], inside the row while t+5 ≤ count
                for (; t + 4 <= chunk && t + 5 <= count; t += 4)
                {
                    var lo = Vector128.Load(src + 2 * t);
                    var hi = Vector128.Load(src + 2 * t + 4);
                    (Sse.IsSupported ? Sse.Shuffle(lo, hi, 0b10_00_10_00) : AdvSimd.Arm64.UnzipEven(lo, hi)).Store(p + t);
                }
            }
            for (; t < chunk; t++) p[t] = src[t * stride];
            src += chunk * stride;
            count -= chunk;
            if ((jj += chunk) == nr) { jj = 0; d += panelStride; }
        }
    }
}
