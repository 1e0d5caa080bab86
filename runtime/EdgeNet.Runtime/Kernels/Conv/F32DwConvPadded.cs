using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EdgeNet.Kernels.Activation;
using EdgeNet.Ops.Conv;

namespace EdgeNet.Kernels.Conv;

/// <summary>
/// Depthwise convolution for planes too narrow for the row kernel's vectors (ds_cnn's 25×5, mobile nets' 7×7):
/// the plane is copied into a zero-padded scratch plane of width PW, and with Q = sh·PW / sw every output
/// (oh, ow) becomes the flat index j = oh·Q + ow, reading padded element sw·j + kh·dh·PW + kw·dw. So one vector
/// loop over j covers all rows at once with no borders; the columns ow ≥ OutW it also computes are dropped when
/// rows are copied out. Needs sw ∈ {1, 2} (PW is made even when sh·PW would not divide by sw).
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
    }

    public override int ScratchFloats => _paddedFloats + _flat;

    public override void Plane(ReadOnlySpan<float> x, ReadOnlySpan<float> w, float bias, Span<float> y, FusedActivation activation, Span<float> scratch)
    {
        if (x.Length < _inH * _inW || w.Length < _tapOffsets.Length || y.Length < _outH * _outW || scratch.Length < ScratchFloats)
            throw new ArgumentException("plane spans are shorter than the geometry");
        var padded = scratch[.._paddedFloats];
        var flat = scratch.Slice(_paddedFloats, _flat);
        padded.Clear();
        for (int ih = 0; ih < _inH; ih++)
            x.Slice(ih * _inW, _inW).CopyTo(padded.Slice((ih + _padTop) * _paddedW + _padLeft));
        if (_sw == 1) Flat<F32Stride1>(padded, w, bias, flat);
        else Flat<F32Stride2>(padded, w, bias, flat);
        for (int oh = 0; oh < _outH; oh++)
        {
            var row = y.Slice(oh * _outW, _outW);
            flat.Slice(oh * _rowStep, _outW).CopyTo(row);
        }
        activation.Apply(y[..(_outH * _outW)], ActivationIsa);
    }

    private void Flat<TL>(Span<float> padded, ReadOnlySpan<float> w, float bias, Span<float> flat) where TL : IF32StrideLoad
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
            TS.Store(acc, ref yr, j);
        }
    }
}
