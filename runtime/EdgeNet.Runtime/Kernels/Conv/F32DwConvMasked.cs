using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Gemm;
using EdgeNet.Ops.Conv;

namespace EdgeNet.Kernels.Conv;

/// <summary>
/// The depthwise kernel for unstrided convs that keep the row width (OutW = InW: left + right pad = (KW − 1)·DW,
/// the "same" convs of DS-CNN and mobile nets), which then need no padded plane: output (oh, ow) is the flat index
/// j = oh·W + ow, and tap (kh, kw) reads the input's flat element j + (kh·DH − pt)·W + kw·DW − pl. One vector loop
/// over j covers every row at once, however narrow (ds_cnn's 25×5, the 7×7 planes of mobile nets), and stores
/// straight into y (the last vector overlaps the previous one when OutH·W is not a whole number of vectors).
/// The plane is copied once, contiguously, between zero guard bands, so rows above and below the input read zeros;
/// a tap column that leaves the row (ow + kw·DW − pl outside [0, W)) would read the neighbouring row instead, so
/// those lanes are cleared with a per-column mask (a pattern of period W, indexed by j mod W) before the multiply.
/// Taps accumulate in the reference's (kh, kw) order with fused multiply-adds, a cleared lane adding 0·w as the
/// padded kernel's zero border does; the activation is applied to each register before its store.
/// </summary>
internal sealed unsafe class F32DwConvMasked<TS, TV> : F32DwConv where TS : IF32Simd<TV> where TV : struct
{
    private readonly int _inH, _width, _outH, _count, _guardTop, _scratchFloats;
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

    public F32DwConvMasked(ConvGeometry g)
    {
        if (!MaskedFits(g) || (long)g.OutH * g.OutW < TS.Count) throw new ArgumentException("the masked depthwise kernel is unstrided and keeps the row width");
        (_inH, _width, _outH) = (g.InH, g.InW, g.OutH);
        int w = _width, v = TS.Count;
        _count = g.OutH * w;
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
        _masks = masks.ToArray();
        for (int kh = 0; kh < g.KH; kh++)
            for (int kw = 0; kw < g.KW; kw++)
            {
                _offsets[kh * g.KW + kw] = kh * g.DH * w + kw * g.DW;
                _maskOf[kh * g.KW + kw] = columnMask[kw];
            }
        // the last vector ends at _count − 1 and reads up to the largest offset past it
        _scratchFloats = Math.Max(_guardTop + g.InH * w, _count + _offsets[^1]);
        _three = g.KH == 3 && g.KW == 3 && g.DW == 1 && g.PadLeft == 1;
        int vectors = (_count + v - 1) / v;
        _starts = new int[vectors];
        _phases = new int[vectors];
        for (int k = 0; k < vectors; k++)
        {
            _starts[k] = Math.Min(k * v, _count - v);
            _phases[k] = _starts[k] % w;
        }
    }

    public override int ScratchFloats => _scratchFloats;

    public override void Plane(ReadOnlySpan<float> x, ReadOnlySpan<float> w, float bias, Span<float> y, FusedActivation activation, Span<float> scratch) =>
        Planes(x, w, hasBias: true, MemoryMarshal.CreateReadOnlySpan(ref bias, 1), y, 1, 0, 1, activation, scratch);

    internal override bool Batches => true;

    public override void Planes(ReadOnlySpan<float> x, ReadOnlySpan<float> w, bool hasBias, ReadOnlySpan<float> bias, Span<float> y,
        int channels, int from, int to, FusedActivation activation, Span<float> scratch)
    {
        int plane = _inH * _width, taps = _offsets.Length;
        if (from < 0 || to < from || x.Length < (long)to * plane || w.Length < (long)channels * taps || y.Length < (long)to * _count
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
                F32GemmEpilogue.Copy(px + (nint)p * plane, ps + _guardTop, plane);
                float b = hasBias ? pb[c] : 0;
                float* yp = py + (nint)p * _count;
                if (_three) Three(ps, pw + c * 9, b, yp, (float*)pm, activation);
                else Generic(ps, pw + c * taps, b, yp, (float*)pm, po, pk, activation);
                if (++c == channels) c = 0;
            }
        }
    }

    private void Generic(float* s, float* w, float bias, float* y, float* masks, int* offsets, int* maskOf, FusedActivation activation)
    {
        int taps = _offsets.Length, vectors = _starts.Length;
        var b = TS.Splat(bias);
        ref int starts = ref MemoryMarshal.GetArrayDataReference(_starts);
        ref int phases = ref MemoryMarshal.GetArrayDataReference(_phases);
        for (int k = 0; k < vectors; k++)
        {
            int j = Unsafe.Add(ref starts, k), phase = Unsafe.Add(ref phases, k);
            ref float start = ref Unsafe.AsRef<float>(s + j);
            var acc = b;
            for (int t = 0; t < taps; t++)
            {
                var xv = TS.Load(ref start, offsets[t]);
                int m = maskOf[t];
                if (m >= 0) xv = TS.And(xv, TS.Load(ref Unsafe.AsRef<float>(masks + m), phase));
                acc = TS.MultiplyAdd(xv, TS.Splat(w[t]), acc);
            }
            TS.Store(TS.Activate(acc, activation), ref Unsafe.AsRef<float>(y), j);
        }
    }

    /// <summary><see cref="Generic"/> for 3×3 with pads of one column: the left column's taps take mask 0, the right's mask 1.</summary>
    private void Three(float* s, float* w, float bias, float* y, float* masks, FusedActivation activation)
    {
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
        var b = TS.Splat(bias);
        for (int k = 0; k < vectors; k++)
        {
            int j = Unsafe.Add(ref starts, k), phase = Unsafe.Add(ref phases, k);
            ref float r = ref Unsafe.AsRef<float>(s + j);
            TV ml = TS.Load(ref left, phase), mr = TS.Load(ref right, phase);
            var acc = TS.MultiplyAdd(TS.And(TS.Load(ref r, o0), ml), w0, b);
            acc = TS.MultiplyAdd(TS.Load(ref r, o1), w1, acc);
            acc = TS.MultiplyAdd(TS.And(TS.Load(ref r, o2), mr), w2, acc);
            acc = TS.MultiplyAdd(TS.And(TS.Load(ref r, o3), ml), w3, acc);
            acc = TS.MultiplyAdd(TS.Load(ref r, o4), w4, acc);
            acc = TS.MultiplyAdd(TS.And(TS.Load(ref r, o5), mr), w5, acc);
            acc = TS.MultiplyAdd(TS.And(TS.Load(ref r, o6), ml), w6, acc);
            acc = TS.MultiplyAdd(TS.Load(ref r, o7), w7, acc);
            acc = TS.MultiplyAdd(TS.And(TS.Load(ref r, o8), mr), w8, acc);
            TS.Store(TS.Activate(acc, activation), ref yr, j);
        }
    }
}
