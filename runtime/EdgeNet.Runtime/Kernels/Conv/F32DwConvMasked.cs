using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Gemm;
using EdgeNet.Ops.Conv;

namespace EdgeNet.Kernels.Conv;

/// <summary>
/// The depthwise kernel for convs whose unstrided form keeps the row width (left + right pad = (KW − 1)·DW, the
/// "same" convs of DS-CNN and mobile nets), which then need no padded plane: output (oh, ow) is the flat index
/// j = oh·W + ow, and tap (kh, kw) reads the input's flat element j + (kh·DH − pt)·W + kw·DW − pl. One vector loop
/// over j covers every output row at once, however narrow (ds_cnn's 25×5, the 7×7 planes of mobile nets), and stores
/// straight into y (the last vector overlaps the previous one when the count is not a whole number of vectors).
/// A tap column that leaves the row (ow + kw·DW − pl outside [0, W)) would read the neighbouring row, so in vectors
/// holding a border column those lanes are cleared with a per-column mask (period W, indexed by j mod W) before the
/// multiply; rows above and below the input come from zero guard bands. Vectors whose taps all stay inside the
/// plane read x itself; only the ranges the others read are copied into the guarded plane (the guards are zeroed
/// once per call). Stride 2 computes the unstrided conv on the rows it keeps (every other one) and keeps the even
/// columns (F32DwConv.MaskedFits: the strided output must be those columns): twice the multiply-adds, but
/// contiguous loads instead of a shuffle per tap. Unstrided 3×3 convs whose rows hold at least one vector compute
/// two output rows per step (same columns, same masks), the four input rows' loads serving both. Taps accumulate in the reference's (kh, kw) order with fused
/// multiply-adds, a cleared lane adding 0·w as a zero border does; the activation is applied to each register
/// before its store.
/// </summary>
internal sealed unsafe class F32DwConvMasked<TS, TV> : F32DwConvBatched where TS : IF32Simd<TV> where TV : struct
{
    private readonly int _inH, _width, _outH, _count, _guardTop, _scratchFloats;
    /// <summary>Strided convs: the strides, the strided output, and where in scratch the unstrided rows go before subsampling.</summary>
    private readonly int _sh, _sw, _outHs, _outWs, _fullAt;
    /// <summary>Offset of each tap (kh, kw) from the output index in the guarded plane, in the reference's order.</summary>
    private readonly int[] _offsets;
    /// <summary>Per tap: start of its column mask in <see cref="_masks"/>, or −1 when every column keeps the tap.</summary>
    private readonly int[] _maskOf;
    /// <summary>Column masks, each W + Count lanes: lane k is all ones when column k mod W keeps the tap, else 0.</summary>
    private readonly int[] _masks;
    /// <summary>3×3 with one column of padding each side: weights, offsets and both masks in registers.</summary>
    private readonly bool _three;
    /// <summary>Output index of each vector (the last overlapping the previous when needed) and its column, j mod W.</summary>
    private readonly int[] _starts, _phases;
    /// <summary>Per vector: whether some lane's column clears a tap (a row's border columns); the others skip the masks.</summary>
    private readonly bool[] _edge;
    /// <summary>Per vector: whether every tap reads inside the input plane, so it reads x itself rather than the guarded copy.</summary>
    private readonly bool[] _direct;
    /// <summary>Pairs of output rows (<see cref="_pairs"/>): whether the vector W further on is computed too.</summary>
    private readonly bool[] _second;
    private readonly bool _pairs;
    /// <summary>The ranges of the input plane the other vectors read (from, count), copied into the guarded plane.</summary>
    private readonly (int From, int Count)[] _copies;
    private readonly int _onesAt;

    public F32DwConvMasked(ConvGeometry g)
    {
        if (!MaskedFits(g) || (long)((g.OutH - 1) * g.SH + 1) * g.InW < TS.Count) throw new ArgumentException("geometry does not fit the masked depthwise kernel");
        (_sh, _sw, _outHs, _outWs) = (g.SH, g.SW, g.OutH, g.OutW);
        // the unstrided conv (same pads, rows as wide as the input's) up to the last row the strided one takes
        (_inH, _width, _outH) = (g.InH, g.InW, (g.OutH - 1) * g.SH + 1);
        int w = _width, v = TS.Count;
        _count = _outH * w;
        _guardTop = g.PadTop * w + g.PadLeft;
        _offsets = new int[g.KH * g.KW];
        _maskOf = new int[g.KH * g.KW];
        var masks = new List<int>();
        var columnMask = new int[g.KW];
        for (int kw = 0; kw < g.KW; kw++)
        {
            int shift = kw * g.DW - g.PadLeft;
            if (shift == 0)
            {
                columnMask[kw] = -1;
                continue;
            }
            columnMask[kw] = masks.Count;
            for (int k = 0; k < w + v; k++)
            {
                int column = k % w + shift;
                masks.Add(column >= 0 && column < w ? -1 : 0);
            }
        }
        // one all-ones vector for the interior (loaded as floats: an all-bits-set float is a NaN, never computed with)
        _onesAt = masks.Count;
        for (int k = 0; k < v; k++) masks.Add(-1);
        _masks = masks.ToArray();
        for (int kh = 0; kh < g.KH; kh++)
            for (int kw = 0; kw < g.KW; kw++)
            {
                _offsets[kh * g.KW + kw] = kh * g.DH * w + kw * g.DW;
                _maskOf[kh * g.KW + kw] = columnMask[kw];
            }
        // the last vector ends at _count − 1 and reads up to the largest offset past it
        _scratchFloats = Math.Max(_guardTop + g.InH * w, _count + _offsets[^1]);
        _fullAt = _scratchFloats;
        // strided: the unstrided rows, plus the floats a last vector of even lanes reads past them
        if (_sh > 1 || _sw > 1) _scratchFloats += _count + 2 * v;
        _three = g.KH == 3 && g.KW == 3 && g.DW == 1 && g.PadLeft == 1;
        // 3×3 unstrided with rows at least a vector wide: two output rows per step share four input rows' loads
        _pairs = _three && _sh == 1 && g.DH == 1 && w >= v;
        var starts = new List<int>();
        var seconds = new List<bool>();
        if (_pairs)
        {
            for (int row = 0; row < _outH; row += 2)
                for (int c = 0; ; c += v)
                {
                    int col = Math.Min(c, w - v);
                    starts.Add(row * w + col);
                    seconds.Add(row + 1 < _outH);
                    if (col == w - v) break;
                }
        }
        else
        {
            // vectors over the rows the (strided) output takes: every row, or every sh-th row
            for (int row = 0, covered = 0; row < _outH; row += _sh)
                for (int j = Math.Max(row * w, covered); j < row * w + w; j = covered)
                {
                    int start = Math.Min(j, _count - v);
                    starts.Add(start);
                    seconds.Add(false);
                    covered = start + v;
                }
        }
        _starts = [.. starts];
        _second = [.. seconds];
        // the second row of a pair sits W further on: the same column, so the same masks
        _phases = _starts.Select(j => j % w).ToArray();
        _edge = _phases.Select(phase => _onesAt > 0 && Enumerable.Range(0, _onesAt / (w + v))
            .Any(m => Enumerable.Range(phase, v).Any(k => _masks[m * (w + v) + k] == 0))).ToArray();
        int plane = g.InH * w, minOffset = _offsets.Min(), maxOffset = _offsets.Max();
        bool Inside(int j) => j + minOffset - _guardTop >= 0 && j + v - 1 + maxOffset - _guardTop <= plane - 1;
        _direct = new bool[_starts.Length];
        var needed = new bool[plane];
        for (int k = 0; k < _starts.Length; k++)
        {
            _direct[k] = Inside(_starts[k]) && (!_second[k] || Inside(_starts[k] + w));
            if (_direct[k]) continue;
            for (int row = 0; row < (_second[k] ? 2 : 1); row++)
            {
                int j = _starts[k] + row * w;
                for (int i = Math.Max(0, j + minOffset - _guardTop); i <= Math.Min(plane - 1, j + v - 1 + maxOffset - _guardTop); i++)
                    needed[i] = true;
            }
        }
        var copies = new List<(int, int)>();
        for (int i = 0; i < plane;)
        {
            if (!needed[i])
            {
                i++;
                continue;
            }
            int from = i;
            while (i < plane && needed[i]) i++;
            copies.Add((from, i - from));
        }
        _copies = [.. copies];
    }

    public override int ScratchFloats => _scratchFloats;

    public override void Planes(ReadOnlySpan<float> x, ReadOnlySpan<float> w, bool hasBias, ReadOnlySpan<float> bias, Span<float> y,
        int channels, int from, int to, FusedActivation activation, Span<float> scratch)
    {
        int plane = _inH * _width, taps = _offsets.Length;
        if (from < 0 || to < from || x.Length < (long)to * plane || w.Length < (long)channels * taps || y.Length < (long)to * _outHs * _outWs
            || scratch.Length < _scratchFloats || (hasBias && bias.Length < channels) || channels <= 0)
            throw new ArgumentException("plane spans are shorter than the geometry");
        if (from == to) return;
        fixed (float* px = x, pw = w, pb = bias, py = y, ps = scratch)
        fixed (int* pm = _masks, po = _offsets, pk = _maskOf)
        {
            // the guards stay zero: each plane overwrites only the middle
            F32GemmEpilogue.Zero(ps, _guardTop);
            F32GemmEpilogue.Zero(ps + _guardTop + plane, _scratchFloats - _guardTop - plane);
            for (int p = from, c = from % channels; p < to; p++)
            {
                float* xp = px + (nint)p * plane;
                foreach (var (start, count) in _copies) F32GemmEpilogue.Copy(xp + start, ps + _guardTop + start, count);
                // x shifted like the guarded plane: direct vectors read xs + j + offset
                float* xs = xp - _guardTop;
                float b = hasBias ? pb[c] : 0;
                float* yp = py + (nint)p * _outHs * _outWs;
                float* full = _sh == 1 && _sw == 1 ? yp : ps + _fullAt;
                switch (activation.Kind)
                {
                    // the common activations as register operations: no per-vector dispatch in the loops
                    case ActivationKind.None:
                        if (_three) Three<NoActivation>(ps, xs, pw + c * 9, b, full, (float*)pm, activation);
                        else Generic<NoActivation>(ps, xs, pw + c * taps, b, full, (float*)pm, po, pk, activation);
                        break;
                    case ActivationKind.Relu or ActivationKind.Clip:
                        if (_three) Three<ClipActivation>(ps, xs, pw + c * 9, b, full, (float*)pm, activation);
                        else Generic<ClipActivation>(ps, xs, pw + c * taps, b, full, (float*)pm, po, pk, activation);
                        break;
                    default:
                        if (_three) Three<AnyActivation>(ps, xs, pw + c * 9, b, full, (float*)pm, activation);
                        else Generic<AnyActivation>(ps, xs, pw + c * taps, b, full, (float*)pm, po, pk, activation);
                        break;
                }
                if (full != yp) Subsample(full, yp);
                if (++c == channels) c = 0;
            }
        }
    }

    /// <summary>y[oh, ow] = full[oh·sh, ow·sw]: whole vectors of even lanes for stride 2 (reading up to 2·Count floats past a row), rows copied for stride 1.</summary>
    private void Subsample(float* full, float* y)
    {
        int v = TS.Count, outW = _outWs;
        for (int oh = 0; oh < _outHs; oh++)
        {
            float* src = full + oh * _sh * _width, dst = y + oh * outW;
            if (_sw == 1)
            {
                F32GemmEpilogue.Copy(src, dst, outW);
                continue;
            }
            int c = 0;
            for (; c + v <= outW; c += v) TS.Store(TS.LoadEvens(ref Unsafe.AsRef<float>(src), 2 * c), ref Unsafe.AsRef<float>(dst), c);
            for (; c < outW; c++) dst[c] = src[2 * c];
        }
    }

    private void Generic<TA>(float* s, float* xs, float* w, float bias, float* y, float* masks, int* offsets, int* maskOf, FusedActivation activation)
        where TA : IRegisterActivation
    {
        var (lo, hi) = ClipActivation.Bounds<TS, TV>(activation);
        int taps = _offsets.Length, vectors = _starts.Length;
        var b = TS.Splat(bias);
        ref int starts = ref MemoryMarshal.GetArrayDataReference(_starts);
        ref int phases = ref MemoryMarshal.GetArrayDataReference(_phases);
        ref bool edge = ref MemoryMarshal.GetArrayDataReference(_edge);
        ref bool direct = ref MemoryMarshal.GetArrayDataReference(_direct);
        for (int k = 0; k < vectors; k++)
        {
            int j = Unsafe.Add(ref starts, k), phase = Unsafe.Add(ref phases, k);
            ref float start = ref Unsafe.AsRef<float>((Unsafe.Add(ref direct, k) ? xs : s) + j);
            var acc = b;
            if (!Unsafe.Add(ref edge, k))
            {
                for (int t = 0; t < taps; t++) acc = TS.MultiplyAdd(TS.Load(ref start, offsets[t]), TS.Splat(w[t]), acc);
            }
            else
            {
                for (int t = 0; t < taps; t++)
                {
                    var xv = TS.Load(ref start, offsets[t]);
                    int m = maskOf[t];
                    if (m >= 0) xv = TS.And(xv, TS.Load(ref Unsafe.AsRef<float>(masks + m), phase));
                    acc = TS.MultiplyAdd(xv, TS.Splat(w[t]), acc);
                }
            }
            TS.Store(TA.Apply<TS, TV>(acc, lo, hi, activation), ref Unsafe.AsRef<float>(y), j);
        }
    }

    /// <summary><see cref="Generic"/> for 3×3 with pads of one column: the left column's taps take mask 0, the right's mask 1.</summary>
    private void Three<TA>(float* s, float* xs, float* w, float bias, float* y, float* masks, FusedActivation activation)
        where TA : IRegisterActivation
    {
        var (lo, hi) = ClipActivation.Bounds<TS, TV>(activation);
        var o = _offsets;
        nint o0 = o[0], o1 = o[1], o2 = o[2], o3 = o[3], o4 = o[4], o5 = o[5], o6 = o[6], o7 = o[7], o8 = o[8];
        TV w0 = TS.Splat(w[0]), w1 = TS.Splat(w[1]), w2 = TS.Splat(w[2]), w3 = TS.Splat(w[3]), w4 = TS.Splat(w[4]);
        TV w5 = TS.Splat(w[5]), w6 = TS.Splat(w[6]), w7 = TS.Splat(w[7]), w8 = TS.Splat(w[8]);
        int vectors = _starts.Length;
        ref float left = ref Unsafe.AsRef<float>(masks + _maskOf[0]);
        ref float right = ref Unsafe.AsRef<float>(masks + _maskOf[2]);
        ref float yr = ref Unsafe.AsRef<float>(y);
        ref int starts = ref MemoryMarshal.GetArrayDataReference(_starts);
        ref int phases = ref MemoryMarshal.GetArrayDataReference(_phases);
        ref bool edge = ref MemoryMarshal.GetArrayDataReference(_edge);
        ref bool direct = ref MemoryMarshal.GetArrayDataReference(_direct);
        ref bool second = ref MemoryMarshal.GetArrayDataReference(_second);
        int width = _width;
        var ones = TS.Load(ref Unsafe.AsRef<float>(masks + _onesAt), 0);
        var b = TS.Splat(bias);
        for (int k = 0; k < vectors; k++)
        {
            int j = Unsafe.Add(ref starts, k), phase = Unsafe.Add(ref phases, k);
            ref float r = ref Unsafe.AsRef<float>((Unsafe.Add(ref direct, k) ? xs : s) + j);
            // interior vectors keep every tap: all-ones masks
            TV ml = ones, mr = ones;
            if (Unsafe.Add(ref edge, k))
            {
                ml = TS.Load(ref left, phase);
                mr = TS.Load(ref right, phase);
            }
            if (Unsafe.Add(ref second, k))
            {
                // input rows 0..3 under this column: rows 0..2 feed the first output row, rows 1..3 the second
                TV x00 = TS.And(TS.Load(ref r, o0), ml), x01 = TS.Load(ref r, o1), x02 = TS.And(TS.Load(ref r, o2), mr);
                TV x10 = TS.And(TS.Load(ref r, o3), ml), x11 = TS.Load(ref r, o4), x12 = TS.And(TS.Load(ref r, o5), mr);
                TV x20 = TS.And(TS.Load(ref r, o6), ml), x21 = TS.Load(ref r, o7), x22 = TS.And(TS.Load(ref r, o8), mr);
                TV x30 = TS.And(TS.Load(ref r, o6 + width), ml), x31 = TS.Load(ref r, o7 + width), x32 = TS.And(TS.Load(ref r, o8 + width), mr);
                var top = TS.MultiplyAdd(x00, w0, b);
                var bottom = TS.MultiplyAdd(x10, w0, b);
                top = TS.MultiplyAdd(x01, w1, top);
                bottom = TS.MultiplyAdd(x11, w1, bottom);
                top = TS.MultiplyAdd(x02, w2, top);
                bottom = TS.MultiplyAdd(x12, w2, bottom);
                top = TS.MultiplyAdd(x10, w3, top);
                bottom = TS.MultiplyAdd(x20, w3, bottom);
                top = TS.MultiplyAdd(x11, w4, top);
                bottom = TS.MultiplyAdd(x21, w4, bottom);
                top = TS.MultiplyAdd(x12, w5, top);
                bottom = TS.MultiplyAdd(x22, w5, bottom);
                top = TS.MultiplyAdd(x20, w6, top);
                bottom = TS.MultiplyAdd(x30, w6, bottom);
                top = TS.MultiplyAdd(x21, w7, top);
                bottom = TS.MultiplyAdd(x31, w7, bottom);
                top = TS.MultiplyAdd(x22, w8, top);
                bottom = TS.MultiplyAdd(x32, w8, bottom);
                TS.Store(TA.Apply<TS, TV>(top, lo, hi, activation), ref yr, j);
                TS.Store(TA.Apply<TS, TV>(bottom, lo, hi, activation), ref yr, j + width);
                continue;
            }
            var acc = TS.MultiplyAdd(TS.And(TS.Load(ref r, o0), ml), w0, b);
            acc = TS.MultiplyAdd(TS.Load(ref r, o1), w1, acc);
            acc = TS.MultiplyAdd(TS.And(TS.Load(ref r, o2), mr), w2, acc);
            acc = TS.MultiplyAdd(TS.And(TS.Load(ref r, o3), ml), w3, acc);
            acc = TS.MultiplyAdd(TS.Load(ref r, o4), w4, acc);
            acc = TS.MultiplyAdd(TS.And(TS.Load(ref r, o5), mr), w5, acc);
            acc = TS.MultiplyAdd(TS.And(TS.Load(ref r, o6), ml), w6, acc);
            acc = TS.MultiplyAdd(TS.Load(ref r, o7), w7, acc);
            acc = TS.MultiplyAdd(TS.And(TS.Load(ref r, o8), mr), w8, acc);
            TS.Store(TA.Apply<TS, TV>(acc, lo, hi, activation), ref yr, j);
        }
    }
}

/// <summary>A fused activation on one register, chosen per call so the loops carry no per-vector dispatch.</summary>
internal interface IRegisterActivation
{
    static abstract TV Apply<TS, TV>(TV value, TV lo, TV hi, FusedActivation activation) where TS : IF32Simd<TV> where TV : struct;
}

internal readonly struct NoActivation : IRegisterActivation
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TS, TV>(TV value, TV lo, TV hi, FusedActivation activation) where TS : IF32Simd<TV> where TV : struct => value;
}

/// <summary>Relu (lo 0, hi +∞) and Clip (lo = min, hi = max): min(max(x, lo), hi), NaN staying NaN as in the reference.</summary>
internal readonly struct ClipActivation : IRegisterActivation
{
    // Max/Min return their second operand when either is NaN
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TS, TV>(TV value, TV lo, TV hi, FusedActivation activation) where TS : IF32Simd<TV> where TV : struct =>
        TS.Min(hi, TS.Max(lo, value));

    /// <summary>The bounds of a Relu or Clip (any other activation: unused zeros).</summary>
    public static (TV Lo, TV Hi) Bounds<TS, TV>(FusedActivation activation) where TS : IF32Simd<TV> where TV : struct => activation.Kind switch
    {
        ActivationKind.Relu => (TS.Splat(0), TS.Splat(float.PositiveInfinity)),
        ActivationKind.Clip => (TS.Splat(activation.Alpha), TS.Splat(activation.Beta)),
        _ => (TS.Splat(0), TS.Splat(0)),
    };
}

internal readonly struct AnyActivation : IRegisterActivation
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TS, TV>(TV value, TV lo, TV hi, FusedActivation activation) where TS : IF32Simd<TV> where TV : struct =>
        TS.Activate(value, activation);
}
