using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Gemm;
using EdgeNet.Ops.Conv;

namespace EdgeNet.Kernels.Conv;

/// <summary>
/// The mobile-net downsampling depthwise conv: 3×3, stride 2, dilation 1, one row and column of padding before,
/// input sides twice the output's. Each plane is split once into its four phase planes P[a][b][i, j] =
/// x[2i + a, 2j + b] (even/odd rows × even/odd columns, each OH × OW); the stride-2 conv is then a stride-1 sum over
/// them: tap (kh, kw) reads P[a][b] at (oh + di, ow + dj) with (a, di) = (1, −1), (0, 0), (1, 0) for kh = 0, 1, 2 and
/// likewise (b, dj) for kw. The phase planes are stored flat with a zero guard of OW + 1 floats in front, so one
/// vector loop over the flat output index covers every output row however narrow (the 7×7 planes), as in
/// <see cref="F32DwConvMasked{TS, TV}"/>; di = −1 on the first row reads the guard (the top padding), and the three
/// dj = −1 taps clear the lanes of column 0 (the left padding) with a mask of period OW. Every lane computed is an
/// output (the masked kernel's stride 2 computes the unstrided row and keeps half). Taps accumulate onto the bias in
/// the reference's (kh, kw) order with fused multiply-adds; the activation is applied to each register before its store.
/// </summary>
internal sealed unsafe class F32DwConvPhase<TS, TV> : F32DwConvBatched where TS : IF32Simd<TV> where TV : struct
{
    private readonly int _inH, _inW, _outH, _outW, _count, _guard, _phaseStride, _scratchFloats;
    /// <summary>Offset of each tap from the flat output index, from the start of the phase-plane block in scratch.</summary>
    private readonly int[] _offsets = new int[9];
    /// <summary>Lane k is all ones unless k mod OW = 0 (column 0, whose left neighbour is padding); OW + Count lanes.</summary>
    private readonly int[] _masks;
    /// <summary>Flat output index of each vector (the last overlapping the previous) and its column j mod OW.</summary>
    private readonly int[] _starts, _phases;

    public F32DwConvPhase(ConvGeometry g)
    {
        if (!Fits(g) || g.OutH * g.OutW < TS.Count) throw new ArgumentException("geometry does not fit the phase-plane depthwise kernel");
        (_inH, _inW, _outH, _outW) = (g.InH, g.InW, g.OutH, g.OutW);
        int v = TS.Count, ow = _outW;
        _count = _outH * ow;
        _guard = ow + 1;
        // guard, the phase plane, and room for a row store running up to one vector past the plane's end
        _phaseStride = _guard + _count + v;
        _scratchFloats = 4 * _phaseStride;
        // phase plane (a, b) starts at (2a + b)·stride + guard
        ReadOnlySpan<(int Phase, int Shift)> byTap = [(1, -1), (0, 0), (1, 0)];
        for (int kh = 0; kh < 3; kh++)
            for (int kw = 0; kw < 3; kw++)
            {
                var (a, di) = byTap[kh];
                var (b, dj) = byTap[kw];
                _offsets[kh * 3 + kw] = (2 * a + b) * _phaseStride + _guard + di * ow + dj;
            }
        _masks = new int[ow + v];
        for (int k = 0; k < _masks.Length; k++) _masks[k] = k % ow == 0 ? 0 : -1;
        var starts = new List<int>();
        for (int j = 0; ; j += v)
        {
            int start = Math.Min(j, _count - v);
            starts.Add(start);
            if (start == _count - v) break;
        }
        _starts = [.. starts];
        _phases = _starts.Select(j => j % ow).ToArray();
    }

    /// <summary>Whether the kernel takes a geometry: 2-D 3×3, stride 2, dilation 1, top/left pad 1, input sides 2·output sides.</summary>
    internal static bool Fits(ConvGeometry g) =>
        g.InD == 1 && g.KD == 1 && g.OutD == 1 && g.KH == 3 && g.KW == 3 && g.SH == 2 && g.SW == 2 && g.DH == 1 && g.DW == 1
        && g.PadTop == 1 && g.PadLeft == 1 && g.OutH > 0 && g.OutW > 0 && g.InH == 2 * g.OutH && g.InW == 2 * g.OutW;

    public override int ScratchFloats => _scratchFloats;

    public override void Planes(ReadOnlySpan<float> x, ReadOnlySpan<float> w, bool hasBias, ReadOnlySpan<float> bias, Span<float> y,
        int channels, int from, int to, FusedActivation activation, Span<float> scratch)
    {
        int plane = _inH * _inW;
        if (from < 0 || to < from || x.Length < (long)to * plane || w.Length < (long)channels * 9 || y.Length < (long)to * _count
            || scratch.Length < _scratchFloats || (hasBias && bias.Length < channels) || channels <= 0)
            throw new ArgumentException("plane spans are shorter than the geometry");
        if (from == to) return;
        fixed (float* px = x, pw = w, pb = bias, py = y, ps = scratch)
        fixed (int* pm = _masks)
        {
            // the guards stay zero: each plane overwrites only the phase planes and the room after them
            for (int q = 0; q < 4; q++) F32GemmEpilogue.Zero(ps + q * _phaseStride, _guard);
            for (int p = from, c = from % channels; p < to; p++)
            {
                Split(px + (nint)p * plane, ps);
                float b = hasBias ? pb[c] : 0;
                float* yp = py + (nint)p * _count;
                switch (activation.Kind)
                {
                    case ActivationKind.None: Convolve<NoActivation>(ps, pw + c * 9, b, yp, (float*)pm, activation); break;
                    case ActivationKind.Relu or ActivationKind.Clip: Convolve<ClipActivation>(ps, pw + c * 9, b, yp, (float*)pm, activation); break;
                    default: Convolve<AnyActivation>(ps, pw + c * 9, b, yp, (float*)pm, activation); break;
                }
                if (++c == channels) c = 0;
            }
        }
    }

    /// <summary>Writes the four phase planes of one input plane (rows in order: a row's vector store may run into the
    /// next row of its phase plane, which is written later, or into the room after the plane).</summary>
    private void Split(float* x, float* s)
    {
        int v = TS.Count, inW = _inW, ow = _outW, plane = _inH * inW;
        for (int r = 0; r < _inH; r++)
        {
            float* src = x + (nint)r * inW;
            int a = r & 1, i = r >> 1;
            float* even = s + (2 * a) * _phaseStride + _guard + i * ow;
            float* odd = even + _phaseStride;
            int c = 0;
            // a vector step reads 2·Count floats from column 2c: they must end inside the plane
            for (; c < ow && r * inW + 2 * c + 2 * v <= plane; c += v)
            {
                F32Deinterleave.Load<TS, TV>(src + 2 * c, out var evens, out var odds);
                TS.Store(evens, ref Unsafe.AsRef<float>(even), c);
                TS.Store(odds, ref Unsafe.AsRef<float>(odd), c);
            }
            for (; c < ow; c++)
            {
                even[c] = src[2 * c];
                odd[c] = src[2 * c + 1];
            }
        }
    }

    private void Convolve<TA>(float* s, float* w, float bias, float* y, float* masks, FusedActivation activation) where TA : IRegisterActivation
    {
        var (lo, hi) = ClipActivation.Bounds<TS, TV>(activation);
        var o = _offsets;
        nint o0 = o[0], o1 = o[1], o2 = o[2], o3 = o[3], o4 = o[4], o5 = o[5], o6 = o[6], o7 = o[7], o8 = o[8];
        TV w0 = TS.Splat(w[0]), w1 = TS.Splat(w[1]), w2 = TS.Splat(w[2]), w3 = TS.Splat(w[3]), w4 = TS.Splat(w[4]);
        TV w5 = TS.Splat(w[5]), w6 = TS.Splat(w[6]), w7 = TS.Splat(w[7]), w8 = TS.Splat(w[8]);
        var b = TS.Splat(bias);
        ref float sr = ref Unsafe.AsRef<float>(s);
        ref float yr = ref Unsafe.AsRef<float>(y);
        ref float mr = ref Unsafe.AsRef<float>(masks);
        ref int starts = ref MemoryMarshal.GetArrayDataReference(_starts);
        ref int phases = ref MemoryMarshal.GetArrayDataReference(_phases);
        for (int k = 0; k < _starts.Length; k++)
        {
            nint j = Unsafe.Add(ref starts, k);
            // column 0's lanes drop the dj = −1 taps (kw = 0): the left padding
            var left = TS.Load(ref mr, Unsafe.Add(ref phases, k));
            ref float r = ref Unsafe.Add(ref sr, j);
            var acc = TS.MultiplyAdd(TS.And(TS.Load(ref r, o0), left), w0, b);
            acc = TS.MultiplyAdd(TS.Load(ref r, o1), w1, acc);
            acc = TS.MultiplyAdd(TS.Load(ref r, o2), w2, acc);
            acc = TS.MultiplyAdd(TS.And(TS.Load(ref r, o3), left), w3, acc);
            acc = TS.MultiplyAdd(TS.Load(ref r, o4), w4, acc);
            acc = TS.MultiplyAdd(TS.Load(ref r, o5), w5, acc);
            acc = TS.MultiplyAdd(TS.And(TS.Load(ref r, o6), left), w6, acc);
            acc = TS.MultiplyAdd(TS.Load(ref r, o7), w7, acc);
            acc = TS.MultiplyAdd(TS.Load(ref r, o8), w8, acc);
            TS.Store(TA.Apply<TS, TV>(acc, lo, hi, activation), ref yr, j);
        }
    }
}

/// <summary>Even and odd elements of 2·Count floats from the same two loads (the phase split's row step).</summary>
internal static unsafe class F32Deinterleave
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load<TS, TV>(float* source, out TV evens, out TV odds) where TS : IF32Simd<TV> where TV : struct
    {
        if (typeof(TS) == typeof(F32Avx512) && Avx512F.IsSupported)
        {
            var a = Avx512F.LoadVector512(source);
            var b = Avx512F.LoadVector512(source + 16);
            evens = (TV)(object)Avx512F.PermuteVar16x32x2(a, Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b);
            odds = (TV)(object)Avx512F.PermuteVar16x32x2(a, Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), b);
        }
        else if (typeof(TS) == typeof(F32Avx2))
        {
            var a = Avx.LoadVector256(source);
            var b = Avx.LoadVector256(source + 8);
            // per 128-bit lane: a0 a2 b0 b2 | a4 a6 b4 b6 (odds likewise), then the 64-bit pairs reordered
            var e = Avx.Shuffle(a, b, 0b10_00_10_00);
            var o = Avx.Shuffle(a, b, 0b11_01_11_01);
            evens = (TV)(object)Avx2.Permute4x64(e.AsDouble(), 0b11_01_10_00).AsSingle();
            odds = (TV)(object)Avx2.Permute4x64(o.AsDouble(), 0b11_01_10_00).AsSingle();
        }
        else if (typeof(TS) == typeof(F32Sse))
        {
            var a = Sse.LoadVector128(source);
            var b = Sse.LoadVector128(source + 4);
            evens = (TV)(object)Sse.Shuffle(a, b, 0b10_00_10_00);
            odds = (TV)(object)Sse.Shuffle(a, b, 0b11_01_11_01);
        }
        else if (typeof(TS) == typeof(F32Neon))
        {
            var a = AdvSimd.LoadVector128(source);
            var b = AdvSimd.LoadVector128(source + 4);
            evens = (TV)(object)AdvSimd.Arm64.UnzipEven(a, b);
            odds = (TV)(object)AdvSimd.Arm64.UnzipOdd(a, b);
        }
        else if (typeof(TS) == typeof(F32Avx512))
        {
            // AVX-512 emulated in software: the portable shuffles of each half
            var a = Vector512.Load(source);
            var b = Vector512.Load(source + 16);
            var lowEvens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0);
            var lowOdds = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 0, 0, 0, 0, 0, 0, 0, 0);
            evens = (TV)(object)Vector512.Create(Vector512.Shuffle(a, lowEvens).GetLower(), Vector512.Shuffle(b, lowEvens).GetLower());
            odds = (TV)(object)Vector512.Create(Vector512.Shuffle(a, lowOdds).GetLower(), Vector512.Shuffle(b, lowOdds).GetLower());
        }
        else throw new NotSupportedException($"no deinterleave for {typeof(TS).Name}");
    }
}
