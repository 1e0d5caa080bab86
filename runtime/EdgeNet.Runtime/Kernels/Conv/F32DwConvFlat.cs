using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Gemm;
using EdgeNet.Ops.Conv;

namespace EdgeNet.Kernels.Conv;

/// <summary>
/// The depthwise kernel for small unstrided "same-width" planes (DS-CNN's 25×5, the 7×7 and 14×14 planes at the end
/// of mobile nets), where per-plane work, not multiply-adds, decided the time. As in
/// <see cref="F32DwConvMasked{TS, TV}"/> output (oh, ow) is the flat index j = oh·W + ow and tap (kh, kw) reads
/// x's flat element j + (kh·DH − pt)·W + kw·DW − pl, one vector loop covering every row; but the taps read the node's
/// input in place, never a copy: a lane whose tap falls outside its plane (a row above or below, which in NCHW is the
/// neighbouring plane's data, or a column off the row's end, the neighbouring row's) is cleared before its multiply
/// by a mask precomputed for that vector and tap (64-byte aligned, so a mask load never splits a cache line). 3×3
/// vectors whose rows all stay inside the plane need only one mask per column (most vectors of a 25×5 or 14×14
/// plane); vectors whose lanes keep every tap skip the masks. Only a plane whose reach leaves the whole input span
/// (the tensor's first or last) goes through a scratch copy, whose guard floats are masked like the neighbours and
/// so never initialised. 3×3 with unit width dilation keeps its nine weights in registers and reads three row
/// pointers. Taps accumulate onto the bias in the reference's (kh, kw) order with fused multiply-adds, a cleared lane
/// adding 0·w as a zero border does (non-finite neighbours never reach the sum: the mask clears the input lane, not
/// the weight); the activation is applied to each register before its store.
/// </summary>
internal sealed unsafe class F32DwConvFlat<TS, TV> : F32DwConvBatched where TS : IF32Simd<TV> where TV : struct
{
    /// <summary>Largest output plane (floats) taken: beyond it the masked kernel's paired rows and shared masks win.</summary>
    internal const int MaxOutputs = 256;

    private readonly int _plane, _count, _taps, _rowStep, _guard, _scratchFloats;
    /// <summary>Lowest and highest offset from a plane's start any vector's tap reads.</summary>
    private readonly int _minReach, _maxReach;
    /// <summary>Offset of each tap from the output index, in the reference's order.</summary>
    private readonly int[] _offsets;
    /// <summary>Output index of each vector (the last overlapping the previous when needed).</summary>
    private readonly int[] _starts;
    /// <summary>Per vector: start (floats) of its taps' masks in <see cref="_masks"/> (taps · Count lanes), or −1 when no lane loses a tap.</summary>
    private readonly int[] _maskAt;
    /// <summary>Per edge vector and tap, Count lanes: all ones where the tap reads inside the plane, else 0 (read as floats).</summary>
    private readonly int[] _masks;
    private readonly int _maskBase;
    private readonly bool _three;
    /// <summary>Per 3×3 vector: whether only its columns leave the row, so the masks of taps (0, kw) serve every row.</summary>
    private readonly bool[] _columnsOnly;

    public F32DwConvFlat(ConvGeometry g)
    {
        if (!Fits(g, TS.Count)) throw new ArgumentException("geometry does not fit the flat depthwise kernel");
        int w = g.InW, v = TS.Count;
        _plane = g.InH * w;
        _count = g.OutH * w;
        _taps = g.KH * g.KW;
        _rowStep = g.DH * w;
        _offsets = new int[_taps];
        for (int kh = 0; kh < g.KH; kh++)
            for (int kw = 0; kw < g.KW; kw++)
                _offsets[kh * g.KW + kw] = (kh * g.DH - g.PadTop) * w + kw * g.DW - g.PadLeft;
        var starts = new List<int>();
        for (int j = 0; ; j += v)
        {
            int start = Math.Min(j, _count - v);
            starts.Add(start);
            if (start == _count - v) break;
        }
        _starts = [.. starts];
        _maskAt = new int[_starts.Length];
        _columnsOnly = new bool[_starts.Length];
        _three = g.KH == 3 && g.KW == 3 && g.DW == 1;
        var masks = new List<int>();
        var lanes = new int[_taps * v];
        for (int k = 0; k < _starts.Length; k++)
        {
            bool edge = false;
            for (int t = 0; t < _taps; t++)
            {
                int kh = t / g.KW, kw = t % g.KW;
                for (int l = 0; l < v; l++)
                {
                    int j = _starts[k] + l, ih = j / w + kh * g.DH - g.PadTop, iw = j % w + kw * g.DW - g.PadLeft;
                    bool inside = ih >= 0 && ih < g.InH && iw >= 0 && iw < w;
                    lanes[t * v + l] = inside ? -1 : 0;
                    edge |= !inside;
                }
            }
            // 3×3 vectors whose lanes all keep their rows' taps (only columns leave the row) need one mask per column
            bool rowsInside = true;
            for (int l = 0; l < v && _three; l++)
                for (int kh = 0; kh < 3; kh++)
                {
                    int ih = (_starts[k] + l) / w + kh * g.DH - g.PadTop;
                    rowsInside &= ih >= 0 && ih < g.InH;
                }
            _maskAt[k] = !edge ? -1 : masks.Count;
            _columnsOnly[k] = edge && _three && rowsInside;
            if (_columnsOnly[k]) masks.AddRange(lanes.AsSpan(0, 3 * v));
            else if (edge) masks.AddRange(lanes);
        }
        // pinned and 64-byte aligned: a vector of masks never straddles two cache lines
        _masks = GC.AllocateArray<int>(masks.Count + 16, pinned: true);
        fixed (int* m = _masks) _maskBase = (int)((64 - (nint)m % 64) % 64 / sizeof(int));
        masks.CopyTo(_masks, _maskBase);
        _minReach = _starts[0] + _offsets.Min();
        _maxReach = _starts[^1] + v - 1 + _offsets.Max();
        _guard = Math.Max(0, -_minReach);
        _scratchFloats = _guard + Math.Max(_plane, _maxReach + 1);
    }

    /// <summary>Whether the kernel takes a geometry with vectors of <paramref name="lanes"/> floats: 1-D/2-D, stride 1,
    /// output rows as wide as the input's (<see cref="F32DwConv.MaskedFits"/>), at least one vector and at most
    /// <see cref="MaxOutputs"/> outputs per plane.</summary>
    internal static bool Fits(ConvGeometry g, int lanes) =>
        MaskedFits(g) && g.SH == 1 && g.SW == 1 && g.OutH * g.OutW >= lanes && g.OutH * g.OutW <= MaxOutputs;

    public override int ScratchFloats => _scratchFloats;

    public override void Planes(ReadOnlySpan<float> x, ReadOnlySpan<float> w, bool hasBias, ReadOnlySpan<float> bias, Span<float> y,
        int channels, int from, int to, FusedActivation activation, Span<float> scratch)
    {
        if (from < 0 || to < from || x.Length < (long)to * _plane || w.Length < (long)channels * _taps || y.Length < (long)to * _count
            || scratch.Length < _scratchFloats || (hasBias && bias.Length < channels) || channels <= 0)
            throw new ArgumentException("plane spans are shorter than the geometry");
        if (from == to) return;
        fixed (float* px = x, pw = w, pb = bias, py = y, ps = scratch)
        {
            var run = new Run(px, x.Length, pw, hasBias ? pb : null, py, ps, channels, activation);
            switch (activation.Kind)
            {
                // the common activations as register operations: no per-vector dispatch in the loops
                case ActivationKind.None:
                    if (_three) Three<NoActivation>(run, from, to);
                    else Generic<NoActivation>(run, from, to);
                    break;
                case ActivationKind.Relu or ActivationKind.Clip:
                    if (_three) Three<ClipActivation>(run, from, to);
                    else Generic<ClipActivation>(run, from, to);
                    break;
                default:
                    if (_three) Three<AnyActivation>(run, from, to);
                    else Generic<AnyActivation>(run, from, to);
                    break;
            }
        }
    }

    /// <summary>The spans of one call as pointers (the spans are pinned by the caller for the call's length).</summary>
    private readonly struct Run(float* x, int xLength, float* w, float* bias, float* y, float* scratch, int channels, FusedActivation activation)
    {
        public readonly float* X = x, W = w, Bias = bias, Y = y, Scratch = scratch;
        public readonly int XLength = xLength, Channels = channels;
        public readonly FusedActivation Activation = activation;
    }

    /// <summary>Plane p of x, or its copy in scratch when a tap of p would read outside x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float* Source(in Run run, int p)
    {
        long at = (long)p * _plane;
        float* xp = run.X + at;
        if (at + _minReach >= 0 && at + _maxReach < run.XLength) return xp;
        float* copy = run.Scratch + _guard;
        F32GemmEpilogue.Copy(xp, copy, _plane);
        return copy;
    }

    private void Generic<TA>(in Run run, int from, int to) where TA : IRegisterActivation
    {
        var activation = run.Activation;
        var (lo, hi) = ClipActivation.Bounds<TS, TV>(activation);
        int taps = _taps, vectors = _starts.Length;
        ref int starts = ref MemoryMarshal.GetArrayDataReference(_starts);
        ref int maskAt = ref MemoryMarshal.GetArrayDataReference(_maskAt);
        ref int offsets = ref MemoryMarshal.GetArrayDataReference(_offsets);
        ref float masks = ref Unsafe.As<int, float>(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_masks), _maskBase));
        int v = TS.Count;
        for (int p = from, c = from % run.Channels; p < to; p++)
        {
            ref float x = ref Unsafe.AsRef<float>(Source(run, p));
            float* w = run.W + (nint)c * taps;
            ref float y = ref Unsafe.AsRef<float>(run.Y + (nint)p * _count);
            var b = TS.Splat(run.Bias != null ? run.Bias[c] : 0);
            for (int k = 0; k < vectors; k++)
            {
                int j = Unsafe.Add(ref starts, k), m = Unsafe.Add(ref maskAt, k);
                ref float r = ref Unsafe.Add(ref x, j);
                var acc = b;
                if (m < 0)
                {
                    for (int t = 0; t < taps; t++) acc = TS.MultiplyAdd(TS.Load(ref r, Unsafe.Add(ref offsets, t)), TS.Splat(w[t]), acc);
                }
                else
                {
                    ref float mk = ref Unsafe.Add(ref masks, m);
                    for (int t = 0; t < taps; t++)
                        acc = TS.MultiplyAdd(TS.And(TS.Load(ref r, Unsafe.Add(ref offsets, t)), TS.Load(ref mk, t * v)), TS.Splat(w[t]), acc);
                }
                TS.Store(TA.Apply<TS, TV>(acc, lo, hi, activation), ref y, j);
            }
            if (++c == run.Channels) c = 0;
        }
    }

    /// <summary><see cref="Generic"/> for 3×3 with unit width dilation: weights in registers, taps at fixed offsets from three row pointers.</summary>
    private void Three<TA>(in Run run, int from, int to) where TA : IRegisterActivation
    {
        var activation = run.Activation;
        var (lo, hi) = ClipActivation.Bounds<TS, TV>(activation);
        int vectors = _starts.Length, count = _count;
        ref bool columnsOnly = ref MemoryMarshal.GetArrayDataReference(_columnsOnly);
        nint step = _rowStep, first = _offsets[0];
        ref int starts = ref MemoryMarshal.GetArrayDataReference(_starts);
        ref int maskAt = ref MemoryMarshal.GetArrayDataReference(_maskAt);
        ref float masks = ref Unsafe.As<int, float>(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_masks), _maskBase));
        int v = TS.Count;
        for (int p = from, c = from % run.Channels; p < to; p++)
        {
            ref float x = ref Unsafe.AsRef<float>(Source(run, p));
            float* w = run.W + (nint)c * 9;
            ref float y = ref Unsafe.AsRef<float>(run.Y + (nint)p * count);
            TV w0 = TS.Splat(w[0]), w1 = TS.Splat(w[1]), w2 = TS.Splat(w[2]), w3 = TS.Splat(w[3]), w4 = TS.Splat(w[4]);
            TV w5 = TS.Splat(w[5]), w6 = TS.Splat(w[6]), w7 = TS.Splat(w[7]), w8 = TS.Splat(w[8]);
            var b = TS.Splat(run.Bias != null ? run.Bias[c] : 0);
            for (int k = 0; k < vectors; k++)
            {
                int j = Unsafe.Add(ref starts, k), m = Unsafe.Add(ref maskAt, k);
                ref float r0 = ref Unsafe.Add(ref x, j + first);
                ref float r1 = ref Unsafe.Add(ref r0, step);
                ref float r2 = ref Unsafe.Add(ref r1, step);
                TV acc;
                if (m < 0)
                {
                    acc = TS.MultiplyAdd(TS.Load(ref r0, 0), w0, b);
                    acc = TS.MultiplyAdd(TS.Load(ref r0, 1), w1, acc);
                    acc = TS.MultiplyAdd(TS.Load(ref r0, 2), w2, acc);
                    acc = TS.MultiplyAdd(TS.Load(ref r1, 0), w3, acc);
                    acc = TS.MultiplyAdd(TS.Load(ref r1, 1), w4, acc);
                    acc = TS.MultiplyAdd(TS.Load(ref r1, 2), w5, acc);
                    acc = TS.MultiplyAdd(TS.Load(ref r2, 0), w6, acc);
                    acc = TS.MultiplyAdd(TS.Load(ref r2, 1), w7, acc);
                    acc = TS.MultiplyAdd(TS.Load(ref r2, 2), w8, acc);
                }
                else if (Unsafe.Add(ref columnsOnly, k))
                {
                    ref float mk = ref Unsafe.Add(ref masks, m);
                    TV left = TS.Load(ref mk, 0), middle = TS.Load(ref mk, v), right = TS.Load(ref mk, 2 * v);
                    acc = TS.MultiplyAdd(TS.And(TS.Load(ref r0, 0), left), w0, b);
                    acc = TS.MultiplyAdd(TS.And(TS.Load(ref r0, 1), middle), w1, acc);
                    acc = TS.MultiplyAdd(TS.And(TS.Load(ref r0, 2), right), w2, acc);
                    acc = TS.MultiplyAdd(TS.And(TS.Load(ref r1, 0), left), w3, acc);
                    acc = TS.MultiplyAdd(TS.And(TS.Load(ref r1, 1), middle), w4, acc);
                    acc = TS.MultiplyAdd(TS.And(TS.Load(ref r1, 2), right), w5, acc);
                    acc = TS.MultiplyAdd(TS.And(TS.Load(ref r2, 0), left), w6, acc);
                    acc = TS.MultiplyAdd(TS.And(TS.Load(ref r2, 1), middle), w7, acc);
                    acc = TS.MultiplyAdd(TS.And(TS.Load(ref r2, 2), right), w8, acc);
                }
                else
                {
                    ref float mk = ref Unsafe.Add(ref masks, m);
                    acc = TS.MultiplyAdd(TS.And(TS.Load(ref r0, 0), TS.Load(ref mk, 0)), w0, b);
                    acc = TS.MultiplyAdd(TS.And(TS.Load(ref r0, 1), TS.Load(ref mk, v)), w1, acc);
                    acc = TS.MultiplyAdd(TS.And(TS.Load(ref r0, 2), TS.Load(ref mk, 2 * v)), w2, acc);
                    acc = TS.MultiplyAdd(TS.And(TS.Load(ref r1, 0), TS.Load(ref mk, 3 * v)), w3, acc);
                    acc = TS.MultiplyAdd(TS.And(TS.Load(ref r1, 1), TS.Load(ref mk, 4 * v)), w4, acc);
                    acc = TS.MultiplyAdd(TS.And(TS.Load(ref r1, 2), TS.Load(ref mk, 5 * v)), w5, acc);
                    acc = TS.MultiplyAdd(TS.And(TS.Load(ref r2, 0), TS.Load(ref mk, 6 * v)), w6, acc);
                    acc = TS.MultiplyAdd(TS.And(TS.Load(ref r2, 1), TS.Load(ref mk, 7 * v)), w7, acc);
                    acc = TS.MultiplyAdd(TS.And(TS.Load(ref r2, 2), TS.Load(ref mk, 8 * v)), w8, acc);
                }
                TS.Store(TA.Apply<TS, TV>(acc, lo, hi, activation), ref y, j);
            }
            if (++c == run.Channels) c = 0;
        }
    }
}
