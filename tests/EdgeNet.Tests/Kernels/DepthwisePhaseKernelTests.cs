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
/// The 3×3 stride-2 depthwise kernel over phase planes (<see cref="F32DwConvPhase{TS, TV}"/>: input sides twice the
/// output's, top/left pad 1) against <see cref="F32ConvReference"/>: every output size from 1×1 to 12×20 (narrow
/// planes whose vectors span rows, the overlapping last vector, rows whose split runs scalar), both bottom/right pad
/// choices, batches of planes with per-channel filters, with and without bias, four activations, for every ISA path;
/// that the kernel is a candidate is asserted (and that odd input sides and other strides do not take it; strided
/// convs take <see cref="F32DwConvChannelBlocked{TS, TV}"/> first). Then whole Conv nodes (multiplier
/// 1 and 2, batch 2) on 1 and 2 threads, and no allocation per run.
/// </summary>
public class DepthwisePhaseKernelTests
{
    [Fact]
    public void PhasePlanesMatchReferenceOverSizeSweep()
    {
        FusedActivation[] activations = [FusedActivation.None, new(ActivationKind.Relu), new(ActivationKind.Clip, 0, 6), new(ActivationKind.Sigmoid)];
        var rng = new Random(5);
        int checkedCases = 0;
        foreach (var isa in IsaSupport.Available)
        {
            if (isa == Isa.Scalar) continue;
            for (int outH = 1; outH <= 12; outH++)
                for (int outW = 1; outW <= 20; outW++)
                {
                    int pb = rng.Next(0, 2), pr = rng.Next(0, 2);
                    var g = new ConvGeometry([2 * outH, 2 * outW], [3, 3], [2, 2], [1, 1], [1, 1], [pb, pr], [outH, outW]);
                    // strided convs now take the channel-blocked kernel first; the phase kernel stays a candidate
                    var first = F32DwConv.Create(isa, g) ?? throw new InvalidOperationException("no kernel");
                    Assert.StartsWith("F32DwConvChannelBlocked", first.GetType().Name, StringComparison.Ordinal);
                    var phase = F32DwConv.Candidates(isa, g).FirstOrDefault(k => k.GetType().Name.StartsWith("F32DwConvPhase", StringComparison.Ordinal));
                    Assert.Equal(outH * outW >= 4, phase != null);
                    var kernel = phase ?? first;
                    int channels = rng.Next(1, 5), planes = channels * rng.Next(1, 3), from = rng.Next(0, planes), to = rng.Next(from, planes + 1);
                    bool hasBias = rng.Next(2) == 0;
                    var activation = activations[rng.Next(activations.Length)];
                    int inPlane = g.InVolume, outPlane = g.OutVolume;
                    var x = Random(rng, planes * inPlane);
                    var w = Random(rng, channels * 9);
                    var bias = Random(rng, channels);
                    var actual = new float[planes * outPlane];
                    kernel.Planes(x, w, hasBias, hasBias ? bias : default, actual, channels, from, to, activation, new float[kernel.ScratchFloats]);
                    for (int p = 0; p < planes; p++)
                    {
                        int c = p % channels;
                        var expected = new float[outPlane];
                        if (p >= from && p < to)
                            F32ConvReference.Run(new ConvShape(1, 1, 1, 1, g), x.AsSpan(p * inPlane, inPlane), w.AsSpan(c * 9, 9), [hasBias ? bias[c] : 0], expected, activation);
                        GemmKernelTests.AssertClose(expected, actual.AsSpan(p * outPlane, outPlane), $"{isa} out {outH}x{outW} pads 1,1,{pb},{pr} plane {p} of [{from},{to}) {activation.Kind}");
                    }
                    checkedCases++;
                }
        }
        Assert.True(checkedCases > 0 || IsaSupport.Available.Count == 1);
    }

    [Fact]
    public void OtherGeometriesDoNotTakeThePhaseKernel()
    {
        ConvGeometry[] others =
        [
            new([15, 16], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1], [8, 8]),   // odd input height
            new([16, 16], [3, 3], [2, 2], [1, 1], [0, 0], [1, 1], [8, 8]),   // no top/left pad
            new([16, 16], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1], [16, 16]), // stride 1
            new([16, 16], [5, 5], [2, 2], [1, 1], [2, 2], [1, 1], [8, 8]),   // 5×5
            new([16, 16], [3, 3], [2, 2], [2, 2], [2, 2], [1, 1], [8, 8]),   // dilation 2
        ];
        foreach (var isa in IsaSupport.Available)
            foreach (var g in others)
                Assert.False(F32DwConv.Create(isa, g)?.GetType().Name.StartsWith("F32DwConvPhase", StringComparison.Ordinal) ?? false);
    }

    private static IEnumerable<Case> NodeCases()
    {
        yield return new(2, 6, 6, 6, [20, 14], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1]);
        yield return new(1, 5, 10, 5, [14, 14], [3, 3], [2, 2], [1, 1], [1, 1], [0, 0]);
        yield return new(1, 96, 96, 96, [32, 32], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1], Bias: false);
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
        var c = new Case(1, 96, 96, 96, [56, 56], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1]);
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
