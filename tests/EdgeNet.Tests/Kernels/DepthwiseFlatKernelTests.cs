using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Conv;
using EdgeNet.Ops.Conv;
using EdgeNet.Tests.Support;
using Case = EdgeNet.Tests.Kernels.ConvKernelTests.Case;

namespace EdgeNet.Tests.Kernels;

/// <summary>
/// The small-plane depthwise kernel that reads taps in place with per-vector masks (<see cref="F32DwConvFlat{TS, TV}"/>)
/// against <see cref="F32ConvReference"/>, and with it every other candidate kernel of the same geometries
/// (<see cref="F32DwConv.Candidates"/>): widths 1–9 and odd ones up to 19, heights up to 30, kernels 3×3 … 1×9 and
/// even ones with asymmetric "same" pads, dilations 1 and 2, top/bottom pads 0–2, batches of planes with per-channel
/// filters over sub-ranges (so taps read neighbouring planes in place, and the tensor's first and last planes go
/// through the scratch copy), with and without bias, four activations, for every ISA path; which geometries take the
/// kernel is asserted. Non-finite values in a neighbouring plane must not leak into a plane's outputs. Then whole Conv
/// nodes (DS-CNN's 25×5, 7×7 and 14×14 planes, multiplier 2, batch 2, weights as an input) on every ISA incl. scalar
/// and 1/2 threads, and no allocation per run. Its AVX-512 variant with a register window (<see cref="F32DwConvWindow512"/>)
/// must give its bits.
/// </summary>
public class DepthwiseFlatKernelTests
{
    private static readonly FusedActivation[] Activations =
        [FusedActivation.None, new(ActivationKind.Relu), new(ActivationKind.Clip, 0, 6), new(ActivationKind.Sigmoid)];

    private static int OutSize(int input, int padBegin, int padEnd, int kernel, int dilation) =>
        input + padBegin + padEnd - (kernel - 1) * dilation;

    [Fact]
    public void FlatPlanesAndEveryCandidateMatchReferenceOverSweep()
    {
        (int Kh, int Kw)[] kernels = [(3, 3), (5, 5), (1, 3), (3, 1), (2, 2), (4, 4), (1, 9), (3, 5), (1, 1)];
        var rng = new Random(21);
        int flatCases = 0;
        foreach (var isa in IsaSupport.Available)
        {
            if (isa == Isa.Scalar) continue;
            foreach (var (kh, kw) in kernels)
                foreach (int dilation in new[] { 1, 2 })
                    for (int inW = 1; inW <= 19; inW += inW < 9 ? 1 : 2)
                    {
                        int inH = rng.Next(1, 31), dh = rng.Next(1, 3);
                        int extent = (kw - 1) * dilation;
                        int pl = rng.Next(0, extent + 1), pr = extent - pl, pt = rng.Next(0, 3), pb = rng.Next(0, 3);
                        int outH = OutSize(inH, pt, pb, kh, dh);
                        if (outH <= 0) continue;
                        var g = new ConvGeometry([inH, inW], [kh, kw], [1, 1], [dh, dilation], [pt, pl], [pb, pr], [outH, inW]);
                        int outputs = outH * inW;
                        // (AVX-512 runs planes of 128 outputs or more channel-blocked first)
                        // AVX-512 takes the windowed variant first for 3×3 whose taps stay within 16 floats (on the
                        // CPU's AVX-512 only: the emulated path has no vpermt2ps and keeps the flat kernel)
                        bool window = isa == Isa.Avx512 && System.Runtime.Intrinsics.X86.Avx512F.IsSupported && kh == 3 && kw == 3 && dilation == 1 && outputs >= 16 && outputs <= 256
                            && pt * inW + pl <= 16 && (2 * dh - pt) * inW + pr <= 16;
                        bool flat = window || outputs >= 4 && outputs <= F32DwConvFlat<F32Sse, System.Runtime.Intrinsics.Vector128<float>>.MaxOutputs
                            && !F32DwConv.PreferChannelBlocked(isa, g);
                        var first = F32DwConv.Create(isa, g) ?? throw new InvalidOperationException("no kernel");
                        Assert.Equal(flat, IsFlat(first));
                        Assert.Equal(window, first is F32DwConvWindow512);
                        foreach (var kernel in F32DwConv.Candidates(isa, g))
                        {
                            CheckPlanes(rng, isa, g, kernel);
                            if (IsFlat(kernel)) flatCases++;
                        }
                    }
        }
        Assert.True(flatCases > 100 || IsaSupport.Available.Count == 1);
    }

    /// <summary>The flat-index kernel or its windowed AVX-512 variant.</summary>
    private static bool IsFlat(F32DwConv kernel) =>
        kernel is F32DwConvWindow512 || kernel.GetType().Name.StartsWith("F32DwConvFlat", StringComparison.Ordinal);

    /// <summary>
    /// <see cref="F32DwConvWindow512"/> gives the bits of <see cref="F32DwConvFlat{TS, TV}"/> at 16 lanes (the same
    /// multiply-adds in the same order): 3×3, widths 1–15, heights 1–20, row dilation 1–2, every top pad whose taps stay
    /// within 16 floats, both left pads, sub-ranges of planes (the first and last through the scratch copy), with and
    /// without bias, four activations; on a CPU without AVX-512 it never applies.
    /// </summary>
    [Fact]
    public void WindowedPlanesGiveTheBitsOfTheFlatKernel()
    {
        var rng = new Random(8);
        int cases = 0;
        for (int inW = 1; inW <= 15; inW++)
            for (int dh = 1; dh <= 2; dh++)
                for (int pt = 0; pt <= 2 * dh; pt++)
                    for (int pl = 0; pl <= 2; pl++)
                    {
                        int inH = rng.Next(1, 21), pb = 2 * dh - pt, pr = 2 - pl;
                        var g = new ConvGeometry([inH, inW], [3, 3], [1, 1], [dh, 1], [pt, pl], [pb, pr], [inH, inW]);
                        bool fits = F32DwConvWindow512.Fits(g);
                        if (!System.Runtime.Intrinsics.X86.Avx512F.IsSupported) { Assert.False(fits); continue; }
                        Assert.Equal(inH * inW is >= 16 and <= 256 && pt * inW + pl <= 16 && (2 * dh - pt) * inW + pr <= 16, fits);
                        if (!fits) continue;
                        cases++;
                        var window = new F32DwConvWindow512(g);
                        var flat = new F32DwConvFlat<F32Avx512, System.Runtime.Intrinsics.Vector512<float>>(g);
                        int channels = rng.Next(1, 6), planes = channels * rng.Next(1, 3), from = rng.Next(0, planes), to = rng.Next(from, planes + 1);
                        bool hasBias = rng.Next(2) == 0;
                        var activation = Activations[rng.Next(Activations.Length)];
                        var x = Random(rng, planes * g.InVolume);
                        var w = Random(rng, channels * 9);
                        var bias = Random(rng, channels);
                        var expected = new float[planes * g.OutVolume];
                        var actual = new float[planes * g.OutVolume];
                        flat.Planes(x, w, hasBias, hasBias ? bias : default, expected, channels, from, to, activation, new float[flat.ScratchFloats]);
                        var scratch = new float[window.ScratchFloats];
                        Array.Fill(scratch, float.NaN); // the copy's guard floats are masked, never read into a sum
                        window.Planes(x, w, hasBias, hasBias ? bias : default, actual, channels, from, to, activation, scratch);
                        for (int i = 0; i < expected.Length; i++)
                            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                                $"in {inH}x{inW} d{dh} pads {pt},{pl} [{from},{to}) {activation.Kind}: element {i} {actual[i]} against the flat kernel's {expected[i]}");
                    }
        Assert.True(cases > 100 || !System.Runtime.Intrinsics.X86.Avx512F.IsSupported, $"{cases} windowed cases");
    }

    /// <summary>A batch of planes over a random sub-range, each plane against the reference; planes outside it stay zero.</summary>
    private static void CheckPlanes(Random rng, Isa isa, ConvGeometry g, F32DwConv kernel)
    {
        int taps = g.KernelVolume, inPlane = g.InVolume, outPlane = g.OutVolume;
        int channels = rng.Next(1, 6), planes = channels * rng.Next(1, 3), from = rng.Next(0, planes), to = rng.Next(from, planes + 1);
        if (rng.Next(4) == 0) (from, to) = (0, planes);
        bool hasBias = rng.Next(2) == 0;
        var activation = Activations[rng.Next(Activations.Length)];
        var x = Random(rng, planes * inPlane);
        var w = Random(rng, channels * taps);
        var bias = Random(rng, channels);
        var actual = new float[planes * outPlane];
        var scratch = new float[kernel.ScratchFloats];
        // scratch left dirty: nothing may depend on its contents (the copy's guard floats are masked, never initialised)
        Array.Fill(scratch, float.NaN);
        kernel.Planes(x, w, hasBias, hasBias ? bias : default, actual, channels, from, to, activation, scratch);
        for (int p = 0; p < planes; p++)
        {
            int c = p % channels;
            var expected = new float[outPlane];
            if (p >= from && p < to)
                F32ConvReference.Run(new ConvShape(1, 1, 1, 1, g), x.AsSpan(p * inPlane, inPlane), w.AsSpan(c * taps, taps), [hasBias ? bias[c] : 0], expected, activation);
            GemmKernelTests.AssertClose(expected, actual.AsSpan(p * outPlane, outPlane),
                $"{isa} {kernel.GetType().Name} k{g.KH}x{g.KW} d{g.DH},{g.DW} in {g.InH}x{g.InW} pads {g.PadTop},{g.PadLeft},{g.PadEnd[1]},{g.PadEnd[2]} plane {p} of [{from},{to}) {activation.Kind}");
        }
    }

    [Fact]
    public void NonFiniteNeighboursDoNotLeakIntoAPlane()
    {
        var g = new ConvGeometry([7, 7], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1], [7, 7]);
        var rng = new Random(3);
        foreach (var isa in IsaSupport.Available)
        {
            if (isa == Isa.Scalar) continue;
            foreach (var kernel in F32DwConv.Candidates(isa, g).Where(IsFlat))
            {
            const int planes = 5;
            var x = Random(rng, planes * 49);
            // planes 0, 2 and 4 hold +inf, NaN and -inf; planes 1 and 3 are finite
            for (int i = 0; i < 49; i++) (x[i], x[2 * 49 + i], x[4 * 49 + i]) = (float.PositiveInfinity, float.NaN, float.NegativeInfinity);
            var w = Random(rng, planes * 9);
            var y = new float[planes * 49];
            kernel.Planes(x, w, false, default, y, planes, 0, planes, FusedActivation.None, new float[kernel.ScratchFloats]);
            foreach (int p in new[] { 1, 3 })
            {
                var expected = new float[49];
                F32ConvReference.Run(new ConvShape(1, 1, 1, 1, g), x.AsSpan(p * 49, 49), w.AsSpan(p * 9, 9), [0f], expected, FusedActivation.None);
                GemmKernelTests.AssertClose(expected, y.AsSpan(p * 49, 49), $"{isa} plane {p}");
                Assert.All(y.AsSpan(p * 49, 49).ToArray(), v => Assert.True(float.IsFinite(v)));
            }
            }
        }
    }

    [Fact]
    public void LargerOrStridedPlanesDoNotTakeTheFlatKernel()
    {
        ConvGeometry[] others =
        [
            new([28, 28], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1], [28, 28]), // 784 outputs
            new([14, 14], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1], [7, 7]),   // stride 2
            new([7, 7], [3, 3], [1, 1], [1, 1], [0, 0], [0, 0], [5, 5]),     // valid: narrower rows
            new([1, 3], [1, 3], [1, 1], [1, 1], [0, 1], [0, 1], [1, 3]),     // fewer outputs than a vector
        ];
        foreach (var isa in IsaSupport.Available)
            foreach (var g in others)
                Assert.False(F32DwConv.Create(isa, g) is { } k && IsFlat(k));
    }

    private static IEnumerable<Case> NodeCases()
    {
        yield return new(1, 64, 64, 64, [25, 5], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1]);
        yield return new(2, 40, 40, 40, [7, 7], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1]);
        yield return new(1, 24, 24, 24, [14, 14], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1], Bias: false);
        yield return new(1, 6, 12, 6, [9, 5], [5, 5], [1, 1], [1, 1], [2, 2], [2, 2]);
        yield return new(2, 7, 7, 7, [11, 3], [3, 3], [1, 1], [1, 1], [0, 1], [2, 1], ConstWeights: false);
    }

    [Fact]
    public void ConvNodesMatchReferenceForEveryIsaAndThreadCount()
    {
        int index = 0;
        foreach (var c in NodeCases())
        {
            index++;
            ConvKernelTests.AssertNodeMatchesReference(c, index % 2 == 0 ? new FusedActivation(ActivationKind.Clip, 0, 6) : FusedActivation.None, index);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void RunAllocatesNothing(int threads)
    {
        var c = new Case(1, 960, 960, 960, [7, 7], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1]);
        var g = ConvKernelTests.Geometry(c);
        var model = ConvKernelTests.Model(c, GemmKernelTests.Random(c.M * 9, 1), GemmKernelTests.Random(c.M, 2), new FusedActivation(ActivationKind.Clip, 0, 6));
        var session = new Session(model, new SessionOptions { Threads = threads });
        GemmKernelTests.Random(c.C * g.InVolume, 3).CopyTo(session.Input<float>(0));
        Allocations.AssertNoneAfterWarmUp(session.Run);
    }

    private static float[] Random(Random rng, int count)
    {
        var a = new float[count];
        for (int i = 0; i < count; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }
}
