using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using EdgeNet.Kernels.Activation;
using EdgeNet.Ops.Conv;

namespace EdgeNet.Kernels.Conv;

/// <summary>
/// Depthwise 2-D convolution of one NCHW plane (1-D is 2-D with height 1), vectorised along the output width:
/// y[oh, ow] = act(b + Σ_{kh,kw} w[kh, kw] · x[oh·sh − pt + kh·dh, ow·sw − pl + kw·dw]), taps outside x adding nothing.
/// Each output row is split into a left border, an interior where every tap is inside the row, and a right border;
/// only the borders test bounds, per tap. Rows whose window leaves the input vertically skip those taps (generic
/// path) or read a kernel-owned zero row (the 3×3 / 5×5 paths, which keep all weights in registers).
/// Stride 1 loads contiguous vectors, stride 2 loads two and keeps the even lanes; other strides run the interior
/// scalar. Taps accumulate in the reference's (kh, kw) order with fused multiply-adds. <see cref="Create"/> picks
/// <see cref="F32DwConvChannelBlocked{TS, TV}"/> (channels as vector lanes) for strided convs and mid-sized planes
/// (<see cref="PreferChannelBlocked"/>), then
/// <see cref="F32DwConvPhase{TS, TV}"/> for 3×3 stride-2 convs halving the plane, <see cref="F32DwConvFlat{TS, TV}"/>
/// for unstrided "same-width" planes of at most 256 outputs (DS-CNN, the 7×7 and 14×14 mobile-net planes),
/// <see cref="F32DwConvMasked{TS, TV}"/> for larger "same-width" convs of stride 1 or 2,
/// <see cref="F32DwConvPadded{TS, TV}"/> for other width strides 1 and 2, and this kernel for the rest; rows whose
/// vector part is not a whole number of vectors end with one vector overlapping the previous (same values written twice).
/// </summary>
public abstract class F32DwConv
{
    /// <summary>The kernel for <paramref name="isa"/>, or null for the scalar path (callers use <see cref="F32ConvReference"/>).</summary>
    public static F32DwConv? Create(Isa isa, ConvGeometry g)
    {
        foreach (var plane in Candidates(isa, g)) return plane;
        return null;
    }

    private int _inVolume, _taps, _outVolume;

    /// <summary>The ISA the fused activation runs with (<see cref="FusedActivation.Apply(Span{float}, Isa)"/>).</summary>
    protected Isa ActivationIsa { get; private set; }

    /// <summary>
    /// Every vector kernel that takes <paramref name="g"/> on <paramref name="isa"/>, in the order of preference
    /// (<see cref="Create"/> takes the first); none for the scalar ISA. Benchmarks and tests compare them.
    /// </summary>
    public static IEnumerable<F32DwConv> Candidates(Isa isa, ConvGeometry g)
    {
        foreach (var plane in Kernels(isa, g))
        {
            (plane.ActivationIsa, plane._inVolume, plane._taps, plane._outVolume) = (isa, g.InVolume, g.KernelVolume, g.OutVolume);
            yield return plane;
        }
    }

    private static IEnumerable<F32DwConv> Kernels(Isa isa, ConvGeometry g)
    {
        if (isa == Isa.Scalar) yield break;
        // 3×3 on small unstrided planes on AVX-512 (up to 14×14): one load per output vector, the taps permuted from a
        // register window (ahead of the channel-blocked kernel on 14×14 too: 24 against 28 µs on 384×14×14)
        if (isa == Isa.Avx512 && F32DwConvWindow512.Fits(g)) yield return new F32DwConvWindow512(g);
        bool blocked = F32DwConvChannelBlocked<F32Sse, Vector128<float>>.Fits(g);
        bool narrow = NarrowChannelBlocked(isa, g);
        if (blocked && PreferChannelBlocked(isa, g)) yield return ChannelBlocked(isa, g, narrow: narrow);
        // 3×3 stride 2 halving the plane (mobile nets' downsampling): four phase planes, every lane an output
        if (F32DwConvPhase<F32Sse, Vector128<float>>.Fits(g) && g.OutH * g.OutW >= 4)
            yield return (isa, g.OutH * g.OutW) switch
            {
                (Isa.Avx512, >= 16) when g.OutW >= 8 => new F32DwConvPhase<F32Avx512, Vector512<float>>(g),
                (Isa.Avx512 or Isa.Avx2, >= 8) => new F32DwConvPhase<F32Avx2, Vector256<float>>(g),
                (Isa.Avx512 or Isa.Avx2, _) => new F32DwConvPhase<F32Sse, Vector128<float>>(g),
                _ => new F32DwConvPhase<F32Neon, Vector128<float>>(g),
            };
        // small unstrided "same-width" planes: every tap read in place, lanes outside the plane masked per vector
        if (F32DwConvFlat<F32Sse, Vector128<float>>.Fits(g, 4))
            yield return (isa, g.OutH * g.OutW) switch
            {
                (Isa.Avx512, >= 16) => new F32DwConvFlat<F32Avx512, Vector512<float>>(g),
                (Isa.Avx512 or Isa.Avx2, >= 8) => new F32DwConvFlat<F32Avx2, Vector256<float>>(g),
                (Isa.Avx512 or Isa.Avx2, _) => new F32DwConvFlat<F32Sse, Vector128<float>>(g),
                _ => new F32DwConvFlat<F32Neon, Vector128<float>>(g),
            };
        // unstrided "same-width" convs need no padded plane (the widest vector that fits the whole output)
        // (stride 2 computes the unstrided row and keeps its even columns: twice the multiply-adds, but contiguous
        // loads where the padded kernel shuffles every tap's load, and no copy of the plane; MobileNetV2 -20..30%)
        if (MaskedFits(g) && (long)((g.OutH - 1) * g.SH + 1) * g.InW >= 4)
            yield return (isa, (long)((g.OutH - 1) * g.SH + 1) * g.InW) switch
            {
                (Isa.Avx512, >= 16) => new F32DwConvMasked<F32Avx512, Vector512<float>>(g),
                (Isa.Avx512 or Isa.Avx2, >= 8) => new F32DwConvMasked<F32Avx2, Vector256<float>>(g),
                (Isa.Avx512 or Isa.Avx2, _) => new F32DwConvMasked<F32Sse, Vector128<float>>(g),
                _ => new F32DwConvMasked<F32Neon, Vector128<float>>(g),
            };
        // the flat index of the padded kernel expresses strides 1 and 2 along the width
        // (strided rows take the widest vector that fits an output row)
        if (g.SW is 1 or 2)
            yield return (isa, RowMode(g) ? g.OutW : int.MaxValue) switch
            {
                (Isa.Avx512, >= 16) => new F32DwConvPadded<F32Avx512, Vector512<float>>(g),
                (Isa.Avx512 or Isa.Avx2, >= 8) => new F32DwConvPadded<F32Avx2, Vector256<float>>(g),
                (Isa.Avx512 or Isa.Avx2, _) => new F32DwConvPadded<F32Sse, Vector128<float>>(g),
                _ => new F32DwConvPadded<F32Neon, Vector128<float>>(g),
            };
        yield return (isa, F32RowSplit.Of(g).VectorBits(isa)) switch
        {
            (Isa.Neon, _) => new F32DwConv<F32Neon, Vector128<float>>(g),
            (_, 512) => new F32DwConv<F32Avx512, Vector512<float>>(g),
            (_, 256) => new F32DwConv<F32Avx2, Vector256<float>>(g),
            _ => new F32DwConv<F32Sse, Vector128<float>>(g),
        };
        if (blocked && !PreferChannelBlocked(isa, g)) yield return ChannelBlocked(isa, g, narrow: narrow);
        // the other lane count on AVX-512 (benchmarks compare them)
        if (blocked && isa == Isa.Avx512) yield return ChannelBlocked(isa, g, narrow: !narrow);
    }

    /// <summary>The channel-blocked kernel for <paramref name="isa"/> (on AVX-512 with 8 lanes when
    /// <paramref name="narrow"/>); <paramref name="ring"/> forces its row-ring or whole-plane scratch (tests), else it
    /// picks by size.</summary>
    internal static F32DwConv ChannelBlocked(Isa isa, ConvGeometry g, bool? ring = null, bool narrow = false)
    {
        F32DwConv plane = isa switch
        {
            Isa.Avx512 when narrow => new F32DwConvChannelBlocked<F32Avx2, Vector256<float>>(g, ring),
            Isa.Avx512 => new F32DwConvChannelBlocked<F32Avx512, Vector512<float>>(g, ring),
            Isa.Avx2 => new F32DwConvChannelBlocked<F32Avx2, Vector256<float>>(g, ring),
            Isa.Neon => new F32DwConvChannelBlocked<F32Neon, Vector128<float>>(g, ring),
            _ => throw new ArgumentException($"no channel-blocked depthwise kernel for {isa}"),
        };
        (plane.ActivationIsa, plane._inVolume, plane._taps, plane._outVolume) = (isa, g.InVolume, g.KernelVolume, g.OutVolume);
        return plane;
    }

    /// <summary>
    /// Whether <see cref="F32DwConvChannelBlocked{TS, TV}"/> comes first, measured with the kernel benchmarks' --dw
    /// (AVX-512 and AVX2, one thread, MobileNetV2's shapes): strided convs on every ISA (14² → 7², 576 channels,
    /// 38–40 → 21–26 µs; 28² → 14² 30–33 → 24–26; 56² → 28² 73–77 → 62–71; 112² → 56² 213–230 → 169–196), and on
    /// AVX-512 unstrided planes of 128 to 4096 outputs (56², 144 channels, 160–163 → 132–148 µs; 28², 192 channels,
    /// 56–59 → 50–54; 14², 576 channels, 46 → 44 with 8 lanes, see <see cref="NarrowChannelBlocked"/>); 7² planes stay as
    /// fast plane by plane (flat kernel), 112² (32 channels) too. 3×3 undilated only: its taps run register-blocked;
    /// other kernels go through the generic tap loop, which made ppocr cls's 5×5 layers twice as slow (36 → 72 µs).
    /// On AVX2 unstrided 14² and 28² planes also measured
    /// 8–11% faster channel-blocked, not yet taken (the AVX2 path is for CPUs this was not measured on).
    /// </summary>
    internal static bool PreferChannelBlocked(Isa isa, ConvGeometry g) =>
        g.KH == 3 && g.KW == 3 && g.DH == 1 && g.DW == 1
        && (g.SH > 1 || g.SW > 1 || (isa == Isa.Avx512 && g.OutH * g.OutW is >= 128 and <= 4096));

    /// <summary>
    /// Whether an AVX-512 session runs the channel-blocked kernel 8 channels at a time (256-bit vectors, 8×8
    /// transposes) rather than 16: for unstrided 14² planes (alone: 384 channels 30–31.6 → 28.6–29.8 µs, 576 channels
    /// 46.8–47 → 44.1–44.8, the flat kernel 31 / 46; in MobileNetV2 --steps 31–34 → 28–29 and 46–49 → 43–44). Strided
    /// convs measured 5–9% faster with 8 lanes alone (inputs in cache) but slower inside the model, where the input comes
    /// from L3 (112² → 56² 135–140 against 160 µs, 56² → 28² 49–51 against 61), and 28²/56² planes faster with 16.
    /// </summary>
    internal static bool NarrowChannelBlocked(Isa isa, ConvGeometry g) =>
        isa == Isa.Avx512 && g.SH == 1 && g.SW == 1 && g.OutH * g.OutW < 512;

    /// <summary>Plane ranges given to <see cref="Planes"/> best start at multiples of this (the channel block).</summary>
    internal virtual int PlaneGrain => 1;

    /// <summary>
    /// Whether <see cref="F32DwConvMasked{TS, TV}"/> takes a geometry: 1-D/2-D, strides 1 or 2, left pad within the
    /// kernel's extent, and output rows that are the input row's width (stride 1) or its even columns (stride 2): the
    /// unstrided "same-width" conv, subsampled.
    /// </summary>
    internal static bool MaskedFits(ConvGeometry g) =>
        g.InD == 1 && g.KD == 1 && g.OutD == 1 && g.SH is 1 or 2 && g.SW is 1 or 2 && g.PadLeft <= (g.KW - 1) * g.DW
        && (g.SW == 1 ? g.OutW == g.InW : (g.OutW - 1) * 2 <= g.InW - 1) && g.OutW > 0 && g.OutH > 0;

    /// <summary>Whether the padded kernel runs a geometry output row by row (strided, rows at least 4 wide) rather than
    /// over the flat index, which for a height stride above 1 would compute the skipped rows too.</summary>
    internal static bool RowMode(ConvGeometry g) => (g.SH > 1 || g.SW > 1) && g.OutW >= 4;

    /// <summary>Whether <see cref="Planes"/> runs a whole range itself (rather than plane by plane).</summary>
    internal virtual bool Batches => false;

    /// <summary>
    /// Convolves planes [from, to) of a multiplier-1 node: plane p reads input plane p and filter p mod
    /// <paramref name="channels"/> (w holds channels·KH·KW floats, bias channels values when <paramref name="hasBias"/>).
    /// </summary>
    public virtual void Planes(ReadOnlySpan<float> x, ReadOnlySpan<float> w, bool hasBias, ReadOnlySpan<float> bias, Span<float> y,
        int channels, int from, int to, FusedActivation activation, Span<float> scratch)
    {
        int inVolume = _inVolume, taps = _taps, outVolume = _outVolume;
        for (int p = from; p < to; p++)
        {
            int c = p % channels;
            Plane(x.Slice(p * inVolume, inVolume), w.Slice(c * taps, taps), hasBias ? bias[c] : 0, y.Slice(p * outVolume, outVolume), activation, scratch);
        }
    }

    /// <summary>Floats of scratch one <see cref="Plane"/> call needs (each concurrent call its own).</summary>
    public virtual int ScratchFloats => 0;

    /// <summary>Convolves one plane: x is InH·InW floats, w KH·KW, y OutH·OutW; scratch holds <see cref="ScratchFloats"/>.</summary>
    public abstract void Plane(ReadOnlySpan<float> x, ReadOnlySpan<float> w, float bias, Span<float> y, FusedActivation activation, Span<float> scratch);
}

/// <summary>A depthwise kernel that runs a whole range of planes per <see cref="F32DwConv.Planes"/> call; one plane is a range of one.</summary>
internal abstract class F32DwConvBatched : F32DwConv
{
    internal sealed override bool Batches => true;

    public sealed override void Plane(ReadOnlySpan<float> x, ReadOnlySpan<float> w, float bias, Span<float> y, FusedActivation activation, Span<float> scratch) =>
        Planes(x, w, hasBias: true, MemoryMarshal.CreateReadOnlySpan(ref bias, 1), y, 1, 0, 1, activation, scratch);

    public abstract override void Planes(ReadOnlySpan<float> x, ReadOnlySpan<float> w, bool hasBias, ReadOnlySpan<float> bias, Span<float> y,
        int channels, int from, int to, FusedActivation activation, Span<float> scratch);
}

/// <summary><see cref="F32DwConv"/> for one vector ISA (<typeparamref name="TS"/> over <typeparamref name="TV"/>).</summary>
internal sealed class F32DwConv<TS, TV> : F32DwConv where TS : IF32Simd<TV> where TV : struct
{
    private readonly int _inH, _inW, _outH, _outW, _kh, _kw, _sh, _sw, _dh, _dw, _padTop, _padLeft;
    /// <summary>Output columns [_owLo, _owHi) have every tap inside the row; [_owLo, _owVec) may also be read by whole vectors.</summary>
    private readonly int _owLo, _owHi, _owVec;
    /// <summary>3 or 5 for the register-resident square kernels (dilation 1, stride 1 or 2), else 0.</summary>
    private readonly int _square;
    /// <summary>Stands in for rows above/below the input in the square paths.</summary>
    private readonly float[] _zeroRow;

    public F32DwConv(ConvGeometry g)
    {
        if (g.InD != 1 || g.KD != 1 || g.OutD != 1) throw new ArgumentException("depthwise kernels are 1-D/2-D");
        (_inH, _inW, _outH, _outW) = (g.InH, g.InW, g.OutH, g.OutW);
        (_kh, _kw, _sh, _sw, _dh, _dw, _padTop, _padLeft) = (g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.PadTop, g.PadLeft);
        (_owLo, _owHi, _owVec) = F32RowSplit.Of(g);
        _square = _kh == _kw && _dh == 1 && _dw == 1 && _sw <= 2 && _kh is 3 or 5 ? _kh : 0;
        _zeroRow = new float[_square != 0 ? _inW : 0];
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
            int ow = _owLo;
            if (_square == 3) ow = _sw == 1 ? Square3<F32Stride1>(ref xr, ref wr, bias, ref yr, ihBase) : Square3<F32Stride2>(ref xr, ref wr, bias, ref yr, ihBase);
            else if (_square == 5) ow = _sw == 1 ? Square5<F32Stride1>(ref xr, ref wr, bias, ref yr, ihBase) : Square5<F32Stride2>(ref xr, ref wr, bias, ref yr, ihBase);
            else if (_sw == 1) ow = Generic<F32Stride1>(ref xr, ref wr, bias, ref yr, ihBase, kh0, kh1);
            else if (_sw == 2) ow = Generic<F32Stride2>(ref xr, ref wr, bias, ref yr, ihBase, kh0, kh1);
            Interior(ref xr, ref wr, bias, ref yr, ihBase, kh0, kh1, ow, _owHi);
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

    /// <summary>Any kernel size and dilation: whole vectors of interior columns; returns the first column not done.</summary>
    private int Generic<TL>(ref float x, ref float w, float bias, ref float y, int ihBase, int kh0, int kh1) where TL : IF32StrideLoad
    {
        int v = TS.Count, last = _owVec - v;
        if (last < _owLo) return _owLo;
        var b = TS.Splat(bias);
        for (int ow = _owLo; ; ow += v)
        {
            if (ow > last) ow = last;
            nint column = ow * _sw - _padLeft;
            var acc = b;
            for (int kh = kh0; kh < kh1; kh++)
            {
                ref float row = ref Unsafe.Add(ref x, (ihBase + kh * _dh) * _inW);
                ref float wk = ref Unsafe.Add(ref w, kh * _kw);
                for (int kw = 0; kw < _kw; kw++)
                    acc = TS.MultiplyAdd(TL.Load<TS, TV>(ref row, column + kw * _dw), TS.Splat(Unsafe.Add(ref wk, kw)), acc);
            }
            TS.Store(acc, ref y, ow);
            if (ow == last) return _owVec;
        }
    }

    /// <summary>Input row ih, or the zero row when ih is outside the input (its taps then add 0).</summary>
    private ref float RowOrZero(ref float x, int ih) =>
        ref (uint)ih < (uint)_inH ? ref Unsafe.Add(ref x, ih * _inW) : ref MemoryMarshal.GetArrayDataReference(_zeroRow);

    private int Square3<TL>(ref float x, ref float w, float bias, ref float y, int ihBase) where TL : IF32StrideLoad
    {
        ref float r0 = ref RowOrZero(ref x, ihBase);
        ref float r1 = ref RowOrZero(ref x, ihBase + 1);
        ref float r2 = ref RowOrZero(ref x, ihBase + 2);
        TV w00 = TS.Splat(w), w01 = TS.Splat(Unsafe.Add(ref w, 1)), w02 = TS.Splat(Unsafe.Add(ref w, 2));
        TV w10 = TS.Splat(Unsafe.Add(ref w, 3)), w11 = TS.Splat(Unsafe.Add(ref w, 4)), w12 = TS.Splat(Unsafe.Add(ref w, 5));
        TV w20 = TS.Splat(Unsafe.Add(ref w, 6)), w21 = TS.Splat(Unsafe.Add(ref w, 7)), w22 = TS.Splat(Unsafe.Add(ref w, 8));
        TV b = TS.Splat(bias);
        int v = TS.Count, last = _owVec - v, sw = _sw, pad = _padLeft;
        if (last < _owLo) return _owLo;
        for (int ow = _owLo; ; ow += v)
        {
            if (ow > last) ow = last;
            nint c = ow * sw - pad;
            var acc = TS.MultiplyAdd(TL.Load<TS, TV>(ref r0, c), w00, b);
            acc = TS.MultiplyAdd(TL.Load<TS, TV>(ref r0, c + 1), w01, acc);
            acc = TS.MultiplyAdd(TL.Load<TS, TV>(ref r0, c + 2), w02, acc);
            acc = TS.MultiplyAdd(TL.Load<TS, TV>(ref r1, c), w10, acc);
            acc = TS.MultiplyAdd(TL.Load<TS, TV>(ref r1, c + 1), w11, acc);
            acc = TS.MultiplyAdd(TL.Load<TS, TV>(ref r1, c + 2), w12, acc);
            acc = TS.MultiplyAdd(TL.Load<TS, TV>(ref r2, c), w20, acc);
            acc = TS.MultiplyAdd(TL.Load<TS, TV>(ref r2, c + 1), w21, acc);
            acc = TS.MultiplyAdd(TL.Load<TS, TV>(ref r2, c + 2), w22, acc);
            TS.Store(acc, ref y, ow);
            if (ow == last) return _owVec;
        }
    }

    private int Square5<TL>(ref float x, ref float w, float bias, ref float y, int ihBase) where TL : IF32StrideLoad
    {
        ref float r0 = ref RowOrZero(ref x, ihBase);
        ref float r1 = ref RowOrZero(ref x, ihBase + 1);
        ref float r2 = ref RowOrZero(ref x, ihBase + 2);
        ref float r3 = ref RowOrZero(ref x, ihBase + 3);
        ref float r4 = ref RowOrZero(ref x, ihBase + 4);
        TV b = TS.Splat(bias);
        int v = TS.Count, last = _owVec - v, sw = _sw, pad = _padLeft;
        if (last < _owLo) return _owLo;
        for (int ow = _owLo; ; ow += v)
        {
            if (ow > last) ow = last;
            nint c = ow * sw - pad;
            var acc = Row5<TL>(ref r0, ref w, c, b);
            acc = Row5<TL>(ref r1, ref Unsafe.Add(ref w, 5), c, acc);
            acc = Row5<TL>(ref r2, ref Unsafe.Add(ref w, 10), c, acc);
            acc = Row5<TL>(ref r3, ref Unsafe.Add(ref w, 15), c, acc);
            acc = Row5<TL>(ref r4, ref Unsafe.Add(ref w, 20), c, acc);
            TS.Store(acc, ref y, ow);
            if (ow == last) return _owVec;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Row5<TL>(ref float row, ref float w, nint c, TV acc) where TL : IF32StrideLoad
    {
        acc = TS.MultiplyAdd(TL.Load<TS, TV>(ref row, c), TS.Splat(w), acc);
        acc = TS.MultiplyAdd(TL.Load<TS, TV>(ref row, c + 1), TS.Splat(Unsafe.Add(ref w, 1)), acc);
        acc = TS.MultiplyAdd(TL.Load<TS, TV>(ref row, c + 2), TS.Splat(Unsafe.Add(ref w, 2)), acc);
        acc = TS.MultiplyAdd(TL.Load<TS, TV>(ref row, c + 3), TS.Splat(Unsafe.Add(ref w, 3)), acc);
        return TS.MultiplyAdd(TL.Load<TS, TV>(ref row, c + 4), TS.Splat(Unsafe.Add(ref w, 4)), acc);
    }
}
