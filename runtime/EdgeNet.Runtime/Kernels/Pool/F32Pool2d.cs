using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using EdgeNet.Kernels.Conv;
using EdgeNet.Ops.Conv;

namespace EdgeNet.Kernels.Pool;

/// <summary>
/// MaxPool / AveragePool of one NCHW plane (1-D is 2-D with height 1), vectorised along the output width like
/// <see cref="F32DwConv"/>: each output row splits into a left border, an interior where the whole window lies in
/// the row (vector loads: contiguous for stride 1, even lanes of two loads for stride 2) and a right border; only the
/// borders test bounds. Max: the largest input under the window (0 when the window holds no input element, as in
/// the reference). Average: the sum over input elements under the window divided by their count, or with
/// count_include_pad by the taps inside the padded input.
/// </summary>
public abstract class F32Pool2d
{
    /// <summary>The kernel for <paramref name="isa"/>, or null for the scalar path.</summary>
    public static F32Pool2d? Create(Isa isa, ConvGeometry g, bool max, bool countIncludePad) => (isa, F32RowSplit.Of(g).VectorBits(isa)) switch
    {
        (Isa.Scalar, _) => null,
        (Isa.Neon, _) => new F32Pool2d<F32Neon, Vector128<float>>(g, max, countIncludePad),
        (_, 512) => new F32Pool2d<F32Avx512, Vector512<float>>(g, max, countIncludePad),
        (_, 256) => new F32Pool2d<F32Avx2, Vector256<float>>(g, max, countIncludePad),
        _ => new F32Pool2d<F32Sse, Vector128<float>>(g, max, countIncludePad),
    };

    /// <summary>Pools one plane: x is InH·InW floats, y OutH·OutW.</summary>
    public abstract void Plane(ReadOnlySpan<float> x, Span<float> y);
}

/// <summary><see cref="F32Pool2d"/> for one vector ISA.</summary>
internal sealed class F32Pool2d<TS, TV> : F32Pool2d where TS : IF32Simd<TV> where TV : struct
{
    private readonly ConvGeometry _g;
    private readonly bool _max, _includePad;
    private readonly int _inH, _inW, _outH, _outW, _kh, _kw, _sh, _sw, _dh, _dw, _padTop, _padLeft;
    /// <summary>Output columns [_owLo, _owHi) have the whole window inside the row; [_owLo, _owVec) may be read by whole vectors.</summary>
    private readonly int _owLo, _owHi, _owVec;

    public F32Pool2d(ConvGeometry g, bool max, bool countIncludePad)
    {
        if (g.InD != 1 || g.KD != 1 || g.OutD != 1) throw new ArgumentException("the vector pools are 1-D/2-D");
        (_g, _max, _includePad) = (g, max, countIncludePad);
        (_inH, _inW, _outH, _outW) = (g.InH, g.InW, g.OutH, g.OutW);
        (_kh, _kw, _sh, _sw, _dh, _dw, _padTop, _padLeft) = (g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.PadTop, g.PadLeft);
        (_owLo, _owHi, _owVec) = F32RowSplit.Of(g);
    }

    private static int CeilDiv(int a, int b) => F32RowSplit.CeilDiv(a, b);

    /// <summary>Taps of a window starting at <paramref name="start"/> inside [−pad_begin, in + pad_end) on one axis.</summary>
    private int TapsInPaddedRange(int start, int axis)
    {
        int lo = -_g.PadBegin[axis], hi = _g.In[axis] + _g.PadEnd[axis], step = _g.Dilations[axis], n = 0;
        for (int k = 0, pos = start; k < _g.Kernel[axis]; k++, pos += step)
            if (pos >= lo && pos < hi) n++;
        return n;
    }

    public override void Plane(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length < _inH * _inW || y.Length < _outH * _outW) throw new ArgumentException("plane spans are shorter than the geometry");
        ref float xr = ref MemoryMarshal.GetReference(x);
        for (int oh = 0; oh < _outH; oh++)
        {
            int ihBase = oh * _sh - _padTop;
            int kh0 = ihBase >= 0 ? 0 : CeilDiv(-ihBase, _dh);
            int kh1 = ihBase >= _inH ? 0 : Math.Min(_kh, CeilDiv(_inH - ihBase, _dh));
            var yRow = y.Slice(oh * _outW, _outW);
            if (kh1 <= kh0)
            {
                yRow.Clear(); // no input element under any window of this row
                continue;
            }
            ref float yr = ref MemoryMarshal.GetReference(yRow);
            int rowTaps = _includePad ? TapsInPaddedRange(ihBase, 1) : kh1 - kh0;
            float scale = 1f / (rowTaps * _kw);
            Border(ref xr, ref yr, ihBase, kh0, kh1, 0, _owLo);
            int ow = _sw switch
            {
                1 => _max ? MaxVectors<F32Stride1>(ref xr, ref yr, ihBase, kh0, kh1) : AverageVectors<F32Stride1>(ref xr, ref yr, ihBase, kh0, kh1, scale),
                2 => _max ? MaxVectors<F32Stride2>(ref xr, ref yr, ihBase, kh0, kh1) : AverageVectors<F32Stride2>(ref xr, ref yr, ihBase, kh0, kh1, scale),
                _ => _owLo,
            };
            for (; ow < _owHi; ow++)
            {
                int iwBase = ow * _sw - _padLeft;
                if (_max)
                {
                    float best = Unsafe.Add(ref xr, (ihBase + kh0 * _dh) * _inW + iwBase);
                    for (int kh = kh0; kh < kh1; kh++)
                    {
                        ref float row = ref Unsafe.Add(ref xr, (ihBase + kh * _dh) * _inW + iwBase);
                        for (int kw = 0; kw < _kw; kw++)
                        {
                            float v = Unsafe.Add(ref row, kw * _dw);
                            if (v > best) best = v;
                        }
                    }
                    Unsafe.Add(ref yr, ow) = best;
                }
                else
                {
                    float sum = 0;
                    for (int kh = kh0; kh < kh1; kh++)
                    {
                        ref float row = ref Unsafe.Add(ref xr, (ihBase + kh * _dh) * _inW + iwBase);
                        for (int kw = 0; kw < _kw; kw++) sum += Unsafe.Add(ref row, kw * _dw);
                    }
                    Unsafe.Add(ref yr, ow) = sum * scale;
                }
            }
            Border(ref xr, ref yr, ihBase, kh0, kh1, _owHi, _outW);
        }
    }

    /// <summary>Columns whose window may leave the row: every tap is tested, as in the reference.</summary>
    private void Border(ref float x, ref float y, int ihBase, int kh0, int kh1, int from, int to)
    {
        for (int ow = from; ow < to; ow++)
        {
            int iwBase = ow * _sw - _padLeft;
            float acc = 0;
            int count = 0;
            for (int kh = kh0; kh < kh1; kh++)
            {
                ref float row = ref Unsafe.Add(ref x, (ihBase + kh * _dh) * _inW);
                for (int kw = 0; kw < _kw; kw++)
                {
                    int iw = iwBase + kw * _dw;
                    if ((uint)iw >= (uint)_inW) continue;
                    float v = Unsafe.Add(ref row, iw);
                    if (_max) { if (count == 0 || v > acc) acc = v; }
                    else acc += v;
                    count++;
                }
            }
            if (!_max)
            {
                int divisor = _includePad ? TapsInPaddedRange(ihBase, 1) * TapsInPaddedRange(iwBase, 2) : count;
                acc = divisor > 0 ? acc / divisor : 0;
            }
            Unsafe.Add(ref y, ow) = acc;
        }
    }

    private int MaxVectors<TL>(ref float x, ref float y, int ihBase, int kh0, int kh1) where TL : IF32StrideLoad
    {
        int v = TS.Count, last = _owVec - v;
        if (last < _owLo) return _owLo;
        for (int ow = _owLo; ; ow += v)
        {
            if (ow > last) ow = last;
            nint column = ow * _sw - _padLeft;
            var acc = TL.Load<TS, TV>(ref Unsafe.Add(ref x, (ihBase + kh0 * _dh) * _inW), column);
            for (int kh = kh0; kh < kh1; kh++)
            {
                ref float row = ref Unsafe.Add(ref x, (ihBase + kh * _dh) * _inW);
                for (int kw = 0; kw < _kw; kw++) acc = TS.Max(acc, TL.Load<TS, TV>(ref row, column + kw * _dw));
            }
            TS.Store(acc, ref y, ow);
            if (ow == last) return _owVec;
        }
    }

    private int AverageVectors<TL>(ref float x, ref float y, int ihBase, int kh0, int kh1, float scale) where TL : IF32StrideLoad
    {
        int v = TS.Count, last = _owVec - v;
        if (last < _owLo) return _owLo;
        var s = TS.Splat(scale);
        for (int ow = _owLo; ; ow += v)
        {
            if (ow > last) ow = last;
            nint column = ow * _sw - _padLeft;
            var acc = TS.Splat(0);
            for (int kh = kh0; kh < kh1; kh++)
            {
                ref float row = ref Unsafe.Add(ref x, (ihBase + kh * _dh) * _inW);
                for (int kw = 0; kw < _kw; kw++) acc = TS.Add(acc, TL.Load<TS, TV>(ref row, column + kw * _dw));
            }
            TS.Store(TS.Multiply(acc, s), ref y, ow);
            if (ow == last) return _owVec;
        }
    }
}

/// <summary>GlobalAveragePool / GlobalMaxPool of one plane: the mean or the largest of its elements.</summary>
public abstract class F32GlobalPool
{
    public static F32GlobalPool? Create(Isa isa) => isa switch
    {
        Isa.Avx512 => new F32GlobalPool<F32Avx512, Vector512<float>>(),
        Isa.Avx2 => new F32GlobalPool<F32Avx2, Vector256<float>>(),
        Isa.Neon => new F32GlobalPool<F32Neon, Vector128<float>>(),
        _ => null,
    };

    public abstract float Max(ReadOnlySpan<float> plane);
    public abstract float Average(ReadOnlySpan<float> plane);
}

internal sealed class F32GlobalPool<TS, TV> : F32GlobalPool where TS : IF32Simd<TV> where TV : struct
{
    public override float Max(ReadOnlySpan<float> plane)
    {
        ref float p = ref MemoryMarshal.GetReference(plane);
        int v = TS.Count, i = 0, n = plane.Length;
        float m = float.NegativeInfinity;
        if (n >= v)
        {
            var acc = TS.Load(ref p, 0);
            for (i = v; i + v <= n; i += v) acc = TS.Max(acc, TS.Load(ref p, i));
            m = TS.MaxAcross(acc);
        }
        for (; i < n; i++) m = MathF.Max(m, Unsafe.Add(ref p, i));
        return m;
    }

    /// <summary>Two accumulators hide the add latency; the order differs from the sequential reference within rounding.</summary>
    public override float Average(ReadOnlySpan<float> plane)
    {
        ref float p = ref MemoryMarshal.GetReference(plane);
        int v = TS.Count, i = 0, n = plane.Length;
        var a0 = TS.Splat(0);
        var a1 = TS.Splat(0);
        for (; i + 2 * v <= n; i += 2 * v)
        {
            a0 = TS.Add(a0, TS.Load(ref p, i));
            a1 = TS.Add(a1, TS.Load(ref p, i + v));
        }
        if (i + v <= n)
        {
            a0 = TS.Add(a0, TS.Load(ref p, i));
            i += v;
        }
        float sum = TS.Sum(TS.Add(a0, a1));
        for (; i < n; i++) sum += Unsafe.Add(ref p, i);
        return sum / n;
    }
}
