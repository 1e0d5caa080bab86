using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using EdgeNet.Kernels.Activation;
using EdgeNet.Ops.Conv;

namespace EdgeNet.Kernels.Conv;

/// <summary>
/// Depthwise 2-D convolution of one NCHW plane (1-D is 2-D with height 1):
/// y[oh, ow] = act(b + Σ_{kh,kw} w[kh, kw] · x[oh·sh − pt + kh·dh, ow·sw − pl + kw·dw]), taps outside x adding nothing.
/// Width strides 1 and 2 (every depthwise conv of the target models) take the vector kernel
/// <see cref="F32DwConvPadded{TS, TV}"/>, which copies the plane into a zero-bordered scratch plane so no output
/// column tests bounds. Other width strides take the scalar row kernel <see cref="F32DwConv{TS, TV}"/>: each output
/// row is a left border, an interior where every tap is inside the row, and a right border; only the borders test
/// bounds. Taps accumulate in the reference's (kh, kw) order with fused multiply-adds.
/// </summary>
public abstract class F32DwConv
{
    /// <summary>The kernel for <paramref name="isa"/>, or null for the scalar path (callers use <see cref="F32ConvReference"/>).</summary>
    public static F32DwConv? Create(Isa isa, ConvGeometry g)
    {
        var plane = CreatePlane(isa, g);
        if (plane is not null) plane.ActivationIsa = isa;
        return plane;
    }

    /// <summary>The ISA the fused activation runs with (<see cref="FusedActivation.Apply(Span{float}, Isa)"/>).</summary>
    protected Isa ActivationIsa { get; private set; }

    private static F32DwConv? CreatePlane(Isa isa, ConvGeometry g) => isa switch
    {
        Isa.Scalar => null,
        // the flat index of the padded kernel expresses strides 1 and 2 along the width; strided rows take the
        // widest vector that fits an output row
        _ when g.SW is 1 or 2 =>
            (isa, RowMode(g) ? g.OutW : int.MaxValue) switch
            {
                (Isa.Avx512, >= 16) => new F32DwConvPadded<F32Avx512, Vector512<float>>(g),
                (Isa.Avx512 or Isa.Avx2, >= 8) => new F32DwConvPadded<F32Avx2, Vector256<float>>(g),
                (Isa.Avx512 or Isa.Avx2, _) => new F32DwConvPadded<F32Sse, Vector128<float>>(g),
                _ => new F32DwConvPadded<F32Neon, Vector128<float>>(g),
            },
        Isa.Neon => new F32DwConv<F32Neon, Vector128<float>>(g),
        _ => new F32DwConv<F32Sse, Vector128<float>>(g),
    };

    /// <summary>Whether the padded kernel runs a geometry output row by row (strided, rows at least 4 wide) rather than
    /// over the flat index, which for a height stride above 1 would compute the skipped rows too.</summary>
    internal static bool RowMode(ConvGeometry g) => (g.SH > 1 || g.SW > 1) && g.OutW >= 4;

    /// <summary>Floats of scratch one <see cref="Plane"/> call needs (each concurrent call its own).</summary>
    public virtual int ScratchFloats => 0;

    /// <summary>Convolves one plane: x is InH·InW floats, w KH·KW, y OutH·OutW; scratch holds <see cref="ScratchFloats"/>.</summary>
    public abstract void Plane(ReadOnlySpan<float> x, ReadOnlySpan<float> w, float bias, Span<float> y, FusedActivation activation, Span<float> scratch);
}

/// <summary>The scalar row kernel of <see cref="F32DwConv"/> (width strides other than 1 and 2); the activation runs at the ISA's width.</summary>
internal sealed class F32DwConv<TS, TV> : F32DwConv where TS : IF32Simd<TV> where TV : struct
{
    private readonly int _inH, _inW, _outH, _outW, _kh, _kw, _sh, _sw, _dh, _dw, _padTop, _padLeft;
    /// <summary>Output columns [_owLo, _owHi) have every tap inside the row.</summary>
    private readonly int _owLo, _owHi;

    public F32DwConv(ConvGeometry g)
    {
        if (g.InD != 1 || g.KD != 1 || g.OutD != 1) throw new ArgumentException("depthwise kernels are 1-D/2-D");
        (_inH, _inW, _outH, _outW) = (g.InH, g.InW, g.OutH, g.OutW);
        (_kh, _kw, _sh, _sw, _dh, _dw, _padTop, _padLeft) = (g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.PadTop, g.PadLeft);
        (_owLo, _owHi, _) = F32RowSplit.Of(g);
    }

    private static int CeilDiv(int a, int b) => F32RowSplit.CeilDiv(a, b);

    public override void Plane(ReadOnlySpan<float> x, ReadOnlySpan<float> w, float bias, Span<float> y, FusedActivation activation, Span<float> scratch)
    {
        if (x.Length < _inH * _inW || w.Length < _kh * _kw || y.Length < _outH * _outW)
            throw new ArgumentException("plane spans are shorter than the geometry");
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float wr = ref MemoryMarshal.GetReference(w);
        for (int oh = 0; oh < _outH; oh++)
        {
            int ihBase = oh * _sh - _padTop;
            int kh0 = ihBase >= 0 ? 0 : CeilDiv(-ihBase, _dh);
            int kh1 = ihBase >= _inH ? 0 : Math.Min(_kh, CeilDiv(_inH - ihBase, _dh));
            var yRow = y.Slice(oh * _outW, _outW);
            ref float yr = ref MemoryMarshal.GetReference(yRow);
            Border(ref xr, ref wr, bias, ref yr, ihBase, kh0, kh1, 0, _owLo);
            Interior(ref xr, ref wr, bias, ref yr, ihBase, kh0, kh1, _owLo, _owHi);
            Border(ref xr, ref wr, bias, ref yr, ihBase, kh0, kh1, _owHi, _outW);
            activation.Apply(yRow, ActivationIsa);
        }
    }

    /// <summary>Columns whose window may leave the row: every tap is tested.</summary>
    private void Border(ref float x, ref float w, float bias, ref float y, int ihBase, int kh0, int kh1, int from, int to)
    {
        for (int ow = from; ow < to; ow++)
        {
            int iwBase = ow * _sw - _padLeft;
            float sum = bias;
            for (int kh = kh0; kh < kh1; kh++)
            {
                ref float row = ref Unsafe.Add(ref x, (ihBase + kh * _dh) * _inW);
                for (int kw = 0; kw < _kw; kw++)
                {
                    int iw = iwBase + kw * _dw;
                    if ((uint)iw < (uint)_inW) sum += Unsafe.Add(ref w, kh * _kw + kw) * Unsafe.Add(ref row, iw);
                }
            }
            Unsafe.Add(ref y, ow) = sum;
        }
    }

    /// <summary>Interior columns left over after the vectors: no bounds tests.</summary>
    private void Interior(ref float x, ref float w, float bias, ref float y, int ihBase, int kh0, int kh1, int from, int to)
    {
        for (int ow = from; ow < to; ow++)
        {
            int iwBase = ow * _sw - _padLeft;
            float sum = bias;
            for (int kh = kh0; kh < kh1; kh++)
            {
                ref float row = ref Unsafe.Add(ref x, (ihBase + kh * _dh) * _inW + iwBase);
                for (int kw = 0; kw < _kw; kw++) sum += Unsafe.Add(ref w, kh * _kw + kw) * Unsafe.Add(ref row, kw * _dw);
            }
            Unsafe.Add(ref y, ow) = sum;
        }
    }
}
