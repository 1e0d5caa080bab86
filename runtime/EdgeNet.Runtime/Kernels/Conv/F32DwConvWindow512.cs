using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Gemm;
using EdgeNet.Ops.Conv;

namespace EdgeNet.Kernels.Conv;

/// <summary>
/// <see cref="F32DwConvFlat{TS, TV}"/>'s 3×3 case on AVX-512 with one load per output vector instead of nine: outputs
/// are the flat index j = oh·W + ow as there, but the vectors start at multiples of 16 and each keeps a window of three
/// consecutive input vectors (x[j−16 …], x[j …], x[j+16 …]) in registers, one loaded per step; tap (kh, kw) reads
/// x[j + d …] with d = (kh·DH − pt)·W + kw − pl, which for |d| ≤ 16 is one two-source permute (vpermt2ps) of two window
/// vectors by an index vector made once. Two output vectors go through a step, so two chains of nine dependent
/// multiply-adds are in flight (one chain a step left the FMA units waiting on its latency). On small planes (DS-CNN's
/// 25×5, mobile nets' 7×7 and 14×14) the flat kernel's nine loads per vector straddle cache lines (rows are 5–14 floats
/// apart) and waited on a single chain: 4.2–4.4 → 2.4–2.7 µs on 64×25×5, 28 → 18–22 µs on 960×7×7, 28–31 → 24 µs
/// (against the channel-blocked kernel's 28) on 384×14×14 (`KernelBenchmarks --dw`). Lanes whose tap falls outside the plane are
/// cleared by a mask precomputed per vector and tap, the last vector's lanes beyond the plane are not stored (masked
/// store), taps accumulate onto the bias in the reference's order with fused multiply-adds: the bits of the flat kernel.
/// Planes whose window would leave the input tensor (the first and last) are read from a zero-guarded scratch copy.
/// </summary>
internal sealed unsafe class F32DwConvWindow512 : F32DwConvBatched
{
    private const int V = 16;
    private readonly int _plane, _count, _vectors, _scratchFloats, _maxReach;
    /// <summary>9 × 16 permute indices (one vector per tap), then per vector 9 × 16 lane masks, 64-byte aligned.</summary>
    private readonly int[] _table;
    private readonly int _tableBase;
    /// <summary>Bit t set: tap t permutes (x[j …], x[j+16 …]); clear: (x[j−16 …], x[j …]).</summary>
    private readonly int _high;
    /// <summary>Lanes of the last vector that are outputs (all ones below <see cref="_count"/>).</summary>
    private readonly int _lastLanes;

    /// <summary>AVX-512 F, a geometry <see cref="F32DwConvFlat{TS, TV}"/> takes at 16 lanes, 3×3 with unit width
    /// dilation, and every tap within 16 floats of its output (rows up to ~15 wide).</summary>
    internal static bool Fits(ConvGeometry g) =>
        Avx512F.IsSupported && F32DwConvFlat<F32Sse, Vector128<float>>.Fits(g, V) && g.KH == 3 && g.KW == 3 && g.DW == 1
        && Offsets(g).All(d => d is >= -V and <= V);

    private static int[] Offsets(ConvGeometry g)
    {
        var d = new int[9];
        for (int kh = 0; kh < 3; kh++)
            for (int kw = 0; kw < 3; kw++)
                d[kh * 3 + kw] = (kh * g.DH - g.PadTop) * g.InW + kw - g.PadLeft;
        return d;
    }

    public F32DwConvWindow512(ConvGeometry g)
    {
        if (!Fits(g)) throw new ArgumentException("geometry does not fit the windowed depthwise kernel");
        int w = g.InW;
        _plane = g.InH * w;
        _count = g.OutH * w;
        _vectors = (_count + V - 1) / V;
        var d = Offsets(g);
        _maxReach = (_vectors - 1) * V + 2 * V - 1;
        _scratchFloats = V + Math.Max(_plane, _maxReach + 1);
        var table = new int[9 * V + _vectors * 9 * V];
        for (int t = 0; t < 9; t++)
        {
            if (d[t] >= 0) _high |= 1 << t;
            for (int l = 0; l < V; l++) table[t * V + l] = d[t] >= 0 ? d[t] + l : V + d[t] + l;
        }
        for (int k = 0; k < _vectors; k++)
            for (int t = 0; t < 9; t++)
                for (int l = 0; l < V; l++)
                {
                    int j = k * V + l, ih = j / w + t / 3 * g.DH - g.PadTop, iw = j % w + t % 3 - g.PadLeft;
                    bool inside = j < _count && ih >= 0 && ih < g.InH && iw >= 0 && iw < w;
                    table[9 * V + (k * 9 + t) * V + l] = inside ? -1 : 0;
                }
        _lastLanes = _count - (_vectors - 1) * V;
        // pinned and 64-byte aligned: every index and mask vector is one aligned load
        _table = GC.AllocateArray<int>(table.Length + 16, pinned: true);
        fixed (int* m = _table) _tableBase = (int)((64 - (nint)m % 64) % 64 / sizeof(int));
        table.CopyTo(_table, _tableBase);
    }

    public override int ScratchFloats => _scratchFloats;

    public override void Planes(ReadOnlySpan<float> x, ReadOnlySpan<float> w, bool hasBias, ReadOnlySpan<float> bias, Span<float> y,
        int channels, int from, int to, FusedActivation activation, Span<float> scratch)
    {
        if (from < 0 || to < from || x.Length < (long)to * _plane || w.Length < (long)channels * 9 || y.Length < (long)to * _count
            || scratch.Length < _scratchFloats || (hasBias && bias.Length < channels) || channels <= 0)
            throw new ArgumentException("plane spans are shorter than the geometry");
        if (from == to) return;
        fixed (float* px = x, pw = w, pb = bias, py = y, ps = scratch)
            switch (activation.Kind)
            {
                case ActivationKind.None: Run<NoActivation>(px, x.Length, pw, hasBias ? pb : null, py, ps, channels, from, to, activation); break;
                case ActivationKind.Relu or ActivationKind.Clip: Run<ClipActivation>(px, x.Length, pw, hasBias ? pb : null, py, ps, channels, from, to, activation); break;
                default: Run<AnyActivation>(px, x.Length, pw, hasBias ? pb : null, py, ps, channels, from, to, activation); break;
            }
    }

    private void Run<TA>(float* x0, int xLength, float* w0, float* bias, float* y0, float* scratch, int channels, int from, int to,
        FusedActivation activation) where TA : IRegisterActivation
    {
        var (lo, hi) = ClipActivation.Bounds<F32Avx512, Vector512<float>>(activation);
        int vectors = _vectors, count = _count, high = _high;
        fixed (int* tb = _table)
        {
            int* table = tb + _tableBase;
            var i0 = Vector512.LoadAligned(table); var i1 = Vector512.LoadAligned(table + V); var i2 = Vector512.LoadAligned(table + 2 * V);
            var i3 = Vector512.LoadAligned(table + 3 * V); var i4 = Vector512.LoadAligned(table + 4 * V); var i5 = Vector512.LoadAligned(table + 5 * V);
            var i6 = Vector512.LoadAligned(table + 6 * V); var i7 = Vector512.LoadAligned(table + 7 * V); var i8 = Vector512.LoadAligned(table + 8 * V);
            var lastMask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(_lastLanes)).AsSingle();
            float* masks0 = (float*)(table + 9 * V);
            for (int p = from, c = from % channels; p < to; p++)
            {
                float* x = Source(x0, xLength, scratch, p);
                float* wc = w0 + (nint)c * 9;
                float* y = y0 + (nint)p * count;
                var w_0 = Vector512.Create(wc[0]); var w_1 = Vector512.Create(wc[1]); var w_2 = Vector512.Create(wc[2]);
                var w_3 = Vector512.Create(wc[3]); var w_4 = Vector512.Create(wc[4]); var w_5 = Vector512.Create(wc[5]);
                var w_6 = Vector512.Create(wc[6]); var w_7 = Vector512.Create(wc[7]); var w_8 = Vector512.Create(wc[8]);
                var b = Vector512.Create(bias != null ? bias[c] : 0f);
                var prev = Vector512.Load(x - V); // (inside x, or the scratch guard; read by a tap only where masked or inside)
                var cur = Vector512.Load(x);
                float* masks = masks0;
                int k = 0;
                // two vectors a step: two independent chains of nine dependent multiply-adds in flight
                for (; k + 2 <= vectors; k += 2, masks += 18 * V)
                {
                    var next = Vector512.Load(x + (nint)(k + 1) * V);
                    var next2 = Vector512.Load(x + (nint)(k + 2) * V);
                    Vector512<float> a = b, a2 = b;
                    a = Vector512.FusedMultiplyAdd(Tap(prev, cur, next, i0, high, 0) & Vector512.LoadAligned(masks + 0 * V), w_0, a);
                    a2 = Vector512.FusedMultiplyAdd(Tap(cur, next, next2, i0, high, 0) & Vector512.LoadAligned(masks + 9 * V), w_0, a2);
                    a = Vector512.FusedMultiplyAdd(Tap(prev, cur, next, i1, high, 1) & Vector512.LoadAligned(masks + 1 * V), w_1, a);
                    a2 = Vector512.FusedMultiplyAdd(Tap(cur, next, next2, i1, high, 1) & Vector512.LoadAligned(masks + 10 * V), w_1, a2);
                    a = Vector512.FusedMultiplyAdd(Tap(prev, cur, next, i2, high, 2) & Vector512.LoadAligned(masks + 2 * V), w_2, a);
                    a2 = Vector512.FusedMultiplyAdd(Tap(cur, next, next2, i2, high, 2) & Vector512.LoadAligned(masks + 11 * V), w_2, a2);
                    a = Vector512.FusedMultiplyAdd(Tap(prev, cur, next, i3, high, 3) & Vector512.LoadAligned(masks + 3 * V), w_3, a);
                    a2 = Vector512.FusedMultiplyAdd(Tap(cur, next, next2, i3, high, 3) & Vector512.LoadAligned(masks + 12 * V), w_3, a2);
                    a = Vector512.FusedMultiplyAdd(Tap(prev, cur, next, i4, high, 4) & Vector512.LoadAligned(masks + 4 * V), w_4, a);
                    a2 = Vector512.FusedMultiplyAdd(Tap(cur, next, next2, i4, high, 4) & Vector512.LoadAligned(masks + 13 * V), w_4, a2);
                    a = Vector512.FusedMultiplyAdd(Tap(prev, cur, next, i5, high, 5) & Vector512.LoadAligned(masks + 5 * V), w_5, a);
                    a2 = Vector512.FusedMultiplyAdd(Tap(cur, next, next2, i5, high, 5) & Vector512.LoadAligned(masks + 14 * V), w_5, a2);
                    a = Vector512.FusedMultiplyAdd(Tap(prev, cur, next, i6, high, 6) & Vector512.LoadAligned(masks + 6 * V), w_6, a);
                    a2 = Vector512.FusedMultiplyAdd(Tap(cur, next, next2, i6, high, 6) & Vector512.LoadAligned(masks + 15 * V), w_6, a2);
                    a = Vector512.FusedMultiplyAdd(Tap(prev, cur, next, i7, high, 7) & Vector512.LoadAligned(masks + 7 * V), w_7, a);
                    a2 = Vector512.FusedMultiplyAdd(Tap(cur, next, next2, i7, high, 7) & Vector512.LoadAligned(masks + 16 * V), w_7, a2);
                    a = Vector512.FusedMultiplyAdd(Tap(prev, cur, next, i8, high, 8) & Vector512.LoadAligned(masks + 8 * V), w_8, a);
                    a2 = Vector512.FusedMultiplyAdd(Tap(cur, next, next2, i8, high, 8) & Vector512.LoadAligned(masks + 17 * V), w_8, a2);
                    TA.Apply<F32Avx512, Vector512<float>>(a, lo, hi, activation).Store(y + (nint)k * V);
                    a2 = TA.Apply<F32Avx512, Vector512<float>>(a2, lo, hi, activation);
                    if (k + 2 < vectors) a2.Store(y + (nint)(k + 1) * V);
                    else Avx512F.MaskStore(y + (nint)(k + 1) * V, lastMask, a2);
                    prev = next;
                    cur = next2;
                }
                if (k < vectors)
                {
                    var next = Vector512.Load(x + (nint)(k + 1) * V);
                    var a = b;
                    a = Vector512.FusedMultiplyAdd(Tap(prev, cur, next, i0, high, 0) & Vector512.LoadAligned(masks + 0 * V), w_0, a);
                    a = Vector512.FusedMultiplyAdd(Tap(prev, cur, next, i1, high, 1) & Vector512.LoadAligned(masks + 1 * V), w_1, a);
                    a = Vector512.FusedMultiplyAdd(Tap(prev, cur, next, i2, high, 2) & Vector512.LoadAligned(masks + 2 * V), w_2, a);
                    a = Vector512.FusedMultiplyAdd(Tap(prev, cur, next, i3, high, 3) & Vector512.LoadAligned(masks + 3 * V), w_3, a);
                    a = Vector512.FusedMultiplyAdd(Tap(prev, cur, next, i4, high, 4) & Vector512.LoadAligned(masks + 4 * V), w_4, a);
                    a = Vector512.FusedMultiplyAdd(Tap(prev, cur, next, i5, high, 5) & Vector512.LoadAligned(masks + 5 * V), w_5, a);
                    a = Vector512.FusedMultiplyAdd(Tap(prev, cur, next, i6, high, 6) & Vector512.LoadAligned(masks + 6 * V), w_6, a);
                    a = Vector512.FusedMultiplyAdd(Tap(prev, cur, next, i7, high, 7) & Vector512.LoadAligned(masks + 7 * V), w_7, a);
                    a = Vector512.FusedMultiplyAdd(Tap(prev, cur, next, i8, high, 8) & Vector512.LoadAligned(masks + 8 * V), w_8, a);
                    Avx512F.MaskStore(y + (nint)k * V, lastMask, TA.Apply<F32Avx512, Vector512<float>>(a, lo, hi, activation));
                }
                if (++c == channels) c = 0;
            }
        }
    }

    /// <summary>x[j + d …] of tap <paramref name="t"/>: a two-source permute of the window's low or high pair.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Tap(Vector512<float> prev, Vector512<float> cur, Vector512<float> next, Vector512<int> index, int high, int t) =>
        (high & (1 << t)) != 0 ? Avx512F.PermuteVar16x32x2(cur, index, next) : Avx512F.PermuteVar16x32x2(prev, index, cur);

    /// <summary>Plane p of x, or its copy in scratch (16 guard floats before it) when its window would read outside x.</summary>
    private float* Source(float* x, int xLength, float* scratch, int p)
    {
        long at = (long)p * _plane;
        if (at - V >= 0 && at + _maxReach < xLength) return x + at;
        float* copy = scratch + V;
        F32GemmEpilogue.Copy(x + at, copy, _plane);
        return copy;
    }
}
