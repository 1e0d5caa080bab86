using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Gemm;
using EdgeNet.Ops.Conv;

namespace EdgeNet.Kernels.Conv;

/// <summary>
/// The vector depthwise kernel (width stride 1 or 2): the plane is copied into a scratch plane of width PW whose
/// borders are zero (only the borders are written besides the copy), so no output column tests bounds.
/// Unstrided convs run flat: with Q = sh·PW / sw every output (oh, ow) becomes the flat index j = oh·Q + ow, reading
/// padded element sw·j + kh·dh·PW + kw·dw, so one vector loop over j covers all rows at once (even ds_cnn's 25×5
/// and the 7×7 planes of mobile nets); the columns ow ≥ OutW it also computes are dropped when rows are copied out.
/// Strided convs (whose flat index would also compute the skipped rows) run row by row straight into the output
/// when a row holds at least one vector, the last vector of a row overlapping the previous. Stride 2 loads two
/// vectors and keeps the even lanes. The activation is applied to each register before its store.
/// Needs sw ∈ {1, 2} (PW is made even when sh·PW would not divide by sw).
/// </summary>
internal sealed class F32DwConvPadded<TS, TV> : F32DwConv where TS : IF32Simd<TV> where TV : struct
{
    private readonly int _inH, _inW, _outH, _outW, _padTop, _padLeft, _sw;
    private readonly int _paddedW, _rowStep, _flat, _paddedFloats;
    /// <summary>Offset of each tap (kh, kw) in the padded plane, in the reference's order.</summary>
    private readonly int[] _tapOffsets;

    public F32DwConvPadded(ConvGeometry g)
    {
        if (g.SW is not (1 or 2) || g.InD != 1 || g.KD != 1) throw new ArgumentException("the padded depthwise kernel is 1-D/2-D with width stride 1 or 2");
        (_inH, _inW, _outH, _outW, _padTop, _padLeft, _sw) = (g.InH, g.InW, g.OutH, g.OutW, g.PadTop, g.PadLeft, g.SW);
        int paddedH = g.InH + g.PadTop + g.PadEnd[1];
        int paddedW = g.InW + g.PadLeft + g.PadEnd[2];
        if (g.SH * paddedW % g.SW != 0) paddedW++;
        _paddedW = paddedW;
        _rowStep = g.SH * paddedW / g.SW;
        _tapOffsets = new int[g.KH * g.KW];
        for (int kh = 0; kh < g.KH; kh++)
            for (int kw = 0; kw < g.KW; kw++)
                _tapOffsets[kh * g.KW + kw] = kh * g.DH * paddedW + kw * g.DW;
        int v = TS.Count;
        int flat = (g.OutH - 1) * _rowStep + g.OutW;
        _flat = (flat + v - 1) / v * v;
        // the last vector (and a stride-2 load's extra float) must stay inside the scratch plane
        _paddedFloats = Math.Max(paddedH * paddedW, _sw * _flat + _tapOffsets[^1] + _sw);
        _rows = RowMode(g) && g.OutW >= v;
        _sh = g.SH;
    }

    private readonly int _sh;

    /// <summary>Strided convs: one output row at a time straight into y (the flat index would skip every other row).</summary>
    private readonly bool _rows;

    public override int ScratchFloats => _paddedFloats + (_rows ? 0 : _flat);

    public override unsafe void Plane(ReadOnlySpan<float> x, ReadOnlySpan<float> w, float bias, Span<float> y, FusedActivation activation, Span<float> scratch)
    {
        if (x.Length < _inH * _inW || w.Length < _tapOffsets.Length || y.Length < _outH * _outW || scratch.Length < ScratchFloats)
            throw new ArgumentException("plane spans are shorter than the geometry");
        fixed (float* px = x, ps = scratch, py = y)
        {
            // the padded plane: only the borders are zeroed, the rows are copied in with inline vector moves
            int wp = _paddedW, inW = _inW;
            float* row = ps + _padTop * wp + _padLeft;
            F32GemmEpilogue.Zero(ps, (int)(row - ps));
            float* src = px;
            for (int ih = 0; ih < _inH; ih++, row += wp, src += inW)
            {
                F32GemmEpilogue.Copy(src, row, inW);
                if (ih < _inH - 1) F32GemmEpilogue.Zero(row + inW, wp - inW);
            }
            float* tail = _inH > 0 ? row - wp + inW : ps;
            F32GemmEpilogue.Zero(tail, (int)(ps + _paddedFloats - tail));
        }
        var padded = scratch[.._paddedFloats];
        if (_rows)
        {
            if (_sw == 1) Rows<F32Stride1>(padded, w, bias, y, activation);
            else Rows<F32Stride2>(padded, w, bias, y, activation);
            return;
        }
        var flat = scratch.Slice(_paddedFloats, _flat);
        if (_tapOffsets.Length == 9)
        {
            if (_sw == 1) Flat9<F32Stride1>(padded, w, bias, flat, activation);
            else Flat9<F32Stride2>(padded, w, bias, flat, activation);
        }
        else if (_sw == 1) Flat<F32Stride1>(padded, w, bias, flat, activation);
        else Flat<F32Stride2>(padded, w, bias, flat, activation);
        fixed (float* pf = flat, py = y)
            for (int oh = 0; oh < _outH; oh++)
                F32GemmEpilogue.Copy(pf + oh * _rowStep, py + oh * _outW, _outW);
    }

    /// <summary>Output row by row: whole vectors along the row, the last one overlapping the previous.</summary>
    private void Rows<TL>(Span<float> padded, ReadOnlySpan<float> w, float bias, Span<float> y, FusedActivation activation) where TL : IF32StrideLoad
    {
        ref float p = ref MemoryMarshal.GetReference(padded);
        ref float wr = ref MemoryMarshal.GetReference(w);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref int taps = ref MemoryMarshal.GetArrayDataReference(_tapOffsets);
        int v = TS.Count, count = _tapOffsets.Length, sw = _sw, last = _outW - v;
        var b = TS.Splat(bias);
        for (int oh = 0; oh < _outH; oh++)
        {
            ref float row = ref Unsafe.Add(ref p, oh * _sh * _paddedW);
            ref float yRow = ref Unsafe.Add(ref yr, oh * _outW);
            for (int ow = 0; ; ow += v)
            {
                if (ow > last) ow = last;
                ref float start = ref Unsafe.Add(ref row, sw * ow);
                var acc = b;
                for (int t = 0; t < count; t++)
                    acc = TS.MultiplyAdd(TL.Load<TS, TV>(ref start, Unsafe.Add(ref taps, t)), TS.Splat(Unsafe.Add(ref wr, t)), acc);
                TS.Store(TS.Activate(acc, activation), ref yRow, ow);
                if (ow == last) break;
            }
        }
    }

    private void Flat<TL>(Span<float> padded, ReadOnlySpan<float> w, float bias, Span<float> flat, FusedActivation activation) where TL : IF32StrideLoad
    {
        ref float p = ref MemoryMarshal.GetReference(padded);
        ref float wr = ref MemoryMarshal.GetReference(w);
        ref float yr = ref MemoryMarshal.GetReference(flat);
        ref int taps = ref MemoryMarshal.GetArrayDataReference(_tapOffsets);
        int v = TS.Count, count = _tapOffsets.Length, sw = _sw;
        var b = TS.Splat(bias);
        for (int j = 0; j < _flat; j += v)
        {
            ref float start = ref Unsafe.Add(ref p, sw * j);
            var acc = b;
            for (int t = 0; t < count; t++)
                acc = TS.MultiplyAdd(TL.Load<TS, TV>(ref start, Unsafe.Add(ref taps, t)), TS.Splat(Unsafe.Add(ref wr, t)), acc);
            TS.Store(TS.Activate(acc, activation), ref yr, j);
        }
    }

    /// <summary><see cref="Flat{TL}"/> for nine taps (3×3, 1×9, 9×1) with the weights and offsets in registers.</summary>
    private void Flat9<TL>(Span<float> padded, ReadOnlySpan<float> w, float bias, Span<float> flat, FusedActivation activation) where TL : IF32StrideLoad
    {
        ref float p = ref MemoryMarshal.GetReference(padded);
        ref float yr = ref MemoryMarshal.GetReference(flat);
        var o = _tapOffsets;
        nint o0 = o[0], o1 = o[1], o2 = o[2], o3 = o[3], o4 = o[4], o5 = o[5], o6 = o[6], o7 = o[7], o8 = o[8];
        TV w0 = TS.Splat(w[0]), w1 = TS.Splat(w[1]), w2 = TS.Splat(w[2]), w3 = TS.Splat(w[3]), w4 = TS.Splat(w[4]);
        TV w5 = TS.Splat(w[5]), w6 = TS.Splat(w[6]), w7 = TS.Splat(w[7]), w8 = TS.Splat(w[8]);
        int v = TS.Count, sw = _sw;
        var b = TS.Splat(bias);
        for (int j = 0; j < _flat; j += v)
        {
            ref float s = ref Unsafe.Add(ref p, sw * j);
            var acc = TS.MultiplyAdd(TL.Load<TS, TV>(ref s, o0), w0, b);
            acc = TS.MultiplyAdd(TL.Load<TS, TV>(ref s, o1), w1, acc);
            acc = TS.MultiplyAdd(TL.Load<TS, TV>(ref s, o2), w2, acc);
            acc = TS.MultiplyAdd(TL.Load<TS, TV>(ref s, o3), w3, acc);
            acc = TS.MultiplyAdd(TL.Load<TS, TV>(ref s, o4), w4, acc);
            acc = TS.MultiplyAdd(TL.Load<TS, TV>(ref s, o5), w5, acc);
            acc = TS.MultiplyAdd(TL.Load<TS, TV>(ref s, o6), w6, acc);
            acc = TS.MultiplyAdd(TL.Load<TS, TV>(ref s, o7), w7, acc);
            acc = TS.MultiplyAdd(TL.Load<TS, TV>(ref s, o8), w8, acc);
            TS.Store(TS.Activate(acc, activation), ref yr, j);
        }
    }
}
