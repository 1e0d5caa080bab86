using EdgeNet.Execution;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Conv;
using EdgeNet.Ops.Conv;
using EdgeNet.Tests.Support;
using Case = EdgeNet.Tests.Kernels.ConvKernelTests.Case;

namespace EdgeNet.Tests.Kernels;

/// <summary>
/// The depthwise kernel with channels as vector lanes (<see cref="F32DwConvChannelBlocked{TS, TV}"/>) against
/// <see cref="F32ConvReference"/>, in both scratch layouts (whole padded plane, flat transposes through an offset
/// table; ring of padded rows, row transposes) for every ISA path: channel counts 1–37 incl. primes (tail blocks whose
/// spare lanes repeat the last channel), planes 1×1 to 30×30 incl. odd sides, strides 1–3, kernels 3×3, 5×5, 1×3, 2×2,
/// dilation 2, pads 0–2 asymmetric, batches of planes over sub-ranges that start mid-block, bias or none, four
/// activations, with a scratch full of NaN (its zero border must be written by the kernel). The chooser is asserted
/// (3×3 undilated strided convs take the kernel; unstrided 14² (8 lanes), 28², 56² planes on AVX-512 only; 7², 112²,
/// 5×5 and dilated ones not),
/// the AVX-512 session's 8-lane variant in the sweep too, then whole Conv nodes (MobileNetV2's
/// 14² → 7² and 28² → 14², prime channels, batch 2, multiplier 2, weights as an input) on every ISA at 1 and 2 threads,
/// and no allocation per run.
/// </summary>
public class DepthwiseChannelBlockedTests
{
    private static readonly FusedActivation[] Activations =
        [FusedActivation.None, new(ActivationKind.Relu), new(ActivationKind.Clip, 0, 6), new(ActivationKind.Sigmoid)];

    [Fact]
    public void ChannelBlocksMatchReferenceOverSweep()
    {
        (int Kh, int Kw)[] kernels = [(3, 3), (5, 5), (1, 3), (2, 2)];
        int[] channelCounts = [1, 2, 3, 4, 5, 7, 8, 11, 13, 16, 17, 19, 23, 31, 37];
        var rng = new Random(77);
        int checkedCases = 0, ringCases = 0;
        foreach (var isa in IsaSupport.Available)
        {
            if (isa == Isa.Scalar) continue;
            for (int i = 0; i < 160; i++)
            {
                var (kh, kw) = kernels[i % kernels.Length];
                int stride = 1 + i / kernels.Length % 3, dilation = i % 7 == 3 ? 2 : 1;
                int inH = i < 12 ? 1 + i : rng.Next(1, 31), inW = i < 12 ? 1 + (i * 5) % 13 : rng.Next(1, 31);
                int pt = rng.Next(0, 3), pl = rng.Next(0, 3), pb = rng.Next(0, 3), pr = rng.Next(0, 3);
                int outH = (inH + pt + pb - (kh - 1) * dilation - 1) / stride + 1, outW = (inW + pl + pr - (kw - 1) * dilation - 1) / stride + 1;
                if (inH + pt + pb < (kh - 1) * dilation + 1 || inW + pl + pr < (kw - 1) * dilation + 1) continue;
                var g = new ConvGeometry([inH, inW], [kh, kw], [stride, stride], [dilation, dilation], [pt, pl], [pb, pr], [outH, outW]);
                foreach (bool? ring in new bool?[] { null, inW >= 4 ? true : null })
                {
                    if (i % 2 == 1 && ring == null && inW >= 4) continue; // half the cases check only the ring
                    bool narrow = isa == Isa.Avx512 && i % 3 == 0;
                    var kernel = F32DwConv.ChannelBlocked(isa, g, ring, narrow);
                    Assert.Equal(narrow ? 8 : ExpectedWidth(isa), kernel.PlaneGrain);
                    int channels = channelCounts[rng.Next(channelCounts.Length)];
                    CheckPlanes(rng, g, kernel, channels, $"{isa} {(ring == true ? "ring" : "auto")} in {inH}x{inW} k{kh}x{kw} s{stride} d{dilation} pads {pt},{pl},{pb},{pr}");
                    checkedCases++;
                    if (ring == true) ringCases++;
                }
            }
        }
        Assert.True(checkedCases > 0 && ringCases > 0 || IsaSupport.Available.Count == 1);
    }

    [Fact]
    public void LargePlanesTakeTheRowRingAndMatchReference()
    {
        var rng = new Random(3);
        foreach (var isa in IsaSupport.Available)
        {
            if (isa == Isa.Scalar) continue;
            // MobileNetV2's 112² → 56² (shrunk in width to keep the reference fast) and an odd-sided 5×5 stride 2
            foreach (var g in new ConvGeometry[]
                     {
                         new([112, 40], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1], [56, 20]),
                         new([69, 71], [5, 5], [2, 2], [1, 1], [2, 2], [2, 2], [35, 36]),
                     })
            {
                // the 3×3 one is chosen first; the 5×5 one is a later candidate (5×5 goes to the plane kernels)
                var kernel = F32DwConv.Candidates(isa, g).First(k => k.GetType().Name.StartsWith("F32DwConvChannelBlocked", StringComparison.Ordinal));
                Assert.Equal(g.KH == 3, ReferenceEquals(kernel.GetType(), F32DwConv.Create(isa, g)!.GetType()));
                CheckPlanes(rng, g, kernel, 19, $"{isa} in {g.InH}x{g.InW} k{g.KH}");
            }
        }
    }

    private static int ExpectedWidth(Isa isa) => isa switch { Isa.Avx512 => 16, Isa.Avx2 => 8, _ => 4 };

    /// <summary>Batch 2 of <paramref name="channels"/> planes, a random sub-range convolved; planes outside it untouched.</summary>
    private static void CheckPlanes(Random rng, ConvGeometry g, F32DwConv kernel, int channels, string label)
    {
        int planes = 2 * channels, from = rng.Next(0, planes), to = rng.Next(from, planes + 1);
        if (rng.Next(3) == 0) (from, to) = (0, planes);
        bool hasBias = rng.Next(2) == 0;
        var activation = Activations[rng.Next(Activations.Length)];
        int inPlane = g.InVolume, outPlane = g.OutVolume, taps = g.KernelVolume;
        var x = Random(rng, planes * inPlane);
        var w = Random(rng, channels * taps);
        var bias = Random(rng, channels);
        const float untouched = 1234.5f;
        var actual = Enumerable.Repeat(untouched, planes * outPlane).ToArray();
        var scratch = Enumerable.Repeat(float.NaN, kernel.ScratchFloats).ToArray();
        kernel.Planes(x, w, hasBias, hasBias ? bias : default, actual, channels, from, to, activation, scratch);
        var expected = new float[outPlane];
        for (int p = 0; p < planes; p++)
        {
            int c = p % channels;
            if (p >= from && p < to)
                F32ConvReference.Run(new ConvShape(1, 1, 1, 1, g), x.AsSpan(p * inPlane, inPlane), w.AsSpan(c * taps, taps), [hasBias ? bias[c] : 0], expected, activation);
            else Array.Fill(expected, untouched);
            GemmKernelTests.AssertClose(expected, actual.AsSpan(p * outPlane, outPlane), $"{label} plane {p} of [{from},{to}) of {channels} ch {activation.Kind}");
        }
    }

    [Fact]
    public void StridedConvsChooseTheChannelBlockedKernel()
    {
        ConvGeometry[] strided =
        [
            new([14, 14], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1], [7, 7]),
            new([112, 112], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1], [56, 56]),
            new([15, 16], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1], [8, 8]),
        ];
        ConvGeometry[] notChosen =
        [
            new([15, 16], [5, 5], [2, 2], [1, 1], [2, 2], [2, 2], [8, 8]),    // 5×5 (generic taps): plane kernels
            new([28, 28], [5, 5], [1, 1], [1, 1], [2, 2], [2, 2], [28, 28]),
            new([28, 28], [3, 3], [2, 2], [2, 2], [2, 2], [2, 2], [14, 14]),  // dilated
            new([7, 7], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1], [7, 7]),
            new([112, 112], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1], [112, 112]),
        ];
        // unstrided mid-sized planes take it on AVX-512 only (28² and 56² with 16 lanes; 14² goes to F32DwConvWindow512)
        var window = new ConvGeometry([14, 14], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1], [14, 14]);
        (ConvGeometry G, int Lanes)[] midSized =
        [
            (new([28, 28], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1], [28, 28]), 16),
            (new([56, 56], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1], [56, 56]), 16),
        ];
        foreach (var isa in IsaSupport.Available)
        {
            var resolved = IsaSupport.Resolve(isa);
            foreach (var g in strided)
            {
                var kernel = F32DwConv.Create(resolved, g);
                if (resolved == Isa.Scalar)
                {
                    Assert.Null(kernel);
                    continue;
                }
                Assert.NotNull(kernel);
                Assert.StartsWith("F32DwConvChannelBlocked", kernel.GetType().Name, StringComparison.Ordinal);
                Assert.Equal(ExpectedWidth(resolved), kernel.PlaneGrain);
            }
            foreach (var g in notChosen)
                Assert.False(F32DwConv.Create(resolved, g)?.GetType().Name.StartsWith("F32DwConvChannelBlocked", StringComparison.Ordinal) ?? false);
            // (emulated AVX-512, without vpermt2ps, keeps the channel-blocked kernel with 8 lanes there)
            bool native512 = resolved == Isa.Avx512 && System.Runtime.Intrinsics.X86.Avx512F.IsSupported;
            var fourteen = F32DwConv.Create(resolved, window);
            Assert.Equal(native512, fourteen is F32DwConvWindow512);
            Assert.Equal(resolved == Isa.Avx512 && !native512, fourteen?.GetType().Name.StartsWith("F32DwConvChannelBlocked", StringComparison.Ordinal) ?? false);
            if (resolved == Isa.Avx512 && !native512) Assert.Equal(8, fourteen!.PlaneGrain);
            foreach (var (g, lanes) in midSized)
            {
                var kernel = F32DwConv.Create(resolved, g);
                bool blocked = kernel?.GetType().Name.StartsWith("F32DwConvChannelBlocked", StringComparison.Ordinal) ?? false;
                Assert.Equal(resolved == Isa.Avx512, blocked);
                if (blocked) Assert.Equal(lanes, kernel!.PlaneGrain);
            }
        }
    }

    private static IEnumerable<Case> NodeCases()
    {
        yield return new(1, 576, 576, 576, [14, 14], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1]);
        yield return new(2, 19, 19, 19, [28, 28], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1]);
        yield return new(2, 37, 37, 37, [13, 9], [3, 3], [2, 2], [1, 1], [1, 0], [1, 1], Bias: false);
        yield return new(1, 7, 14, 7, [14, 14], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1]);   // multiplier 2: plane by plane
        yield return new(2, 23, 23, 23, [17, 17], [5, 5], [2, 2], [1, 1], [2, 2], [2, 2], ConstWeights: false);
        yield return new(1, 40, 40, 40, [60, 60], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1]);
        yield return new(2, 21, 21, 21, [28, 28], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1]);   // unstrided 28² (AVX-512)
    }

    [Fact]
    public void ConvNodesMatchReferenceForEveryIsaAndThreadCount()
    {
        int index = 0;
        foreach (var c in NodeCases())
        {
            index++;
            var act = (index % 3) switch { 0 => FusedActivation.None, 1 => new FusedActivation(ActivationKind.Clip, 0, 6), _ => new FusedActivation(ActivationKind.Relu) };
            ConvKernelTests.AssertNodeMatchesReference(c, act, index);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void RunAllocatesNothing(int threads)
    {
        var c = new Case(1, 576, 576, 576, [14, 14], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1]);
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
