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
/// Pointwise convs on small planes through <see cref="F32ConvGemmTransposed"/> (positions broadcast from the input as
/// tile rows, filters as vector lanes, tiles stored transposed) against <see cref="F32ConvReference"/>: a session sweep
/// over planes 1×1–15×15, channels 1–70 (and prime and deep K), filters with partial panels, batch 2, 1 and 2 threads,
/// every ISA path and activation kind, each case asserting the kernel chosen matches
/// <see cref="GemmConvKernel.PreferTransposed"/>; the kernel's own entry point; 0 B per run.
/// </summary>
public class ConvGemmTransposedKernelTests
{
    private static IEnumerable<Case> Cases()
    {
        // (batch, channels K, filters M, plane): planes 1×1 to 15×15 incl. prime sides, K 1..70 and prime, M with
        // partial filter panels for every vector width (1, 5, 17, 33, 70)
        (int Batch, int K, int M, int H, int W)[] shapes =
        [
            (1, 1, 40, 1, 1), (1, 7, 64, 1, 1), (2, 13, 33, 2, 3), (1, 70, 17, 3, 3), (1, 64, 96, 4, 4), (1, 31, 70, 5, 5),
            (2, 97, 64, 5, 7), (1, 160, 96, 7, 7), (1, 2, 5, 7, 7), (1, 127, 48, 6, 9), (1, 64, 1, 8, 8), (1, 96, 160, 9, 9),
            (2, 3, 64, 11, 11), (1, 67, 64, 13, 13), (1, 384, 64, 14, 14), (1, 61, 100, 15, 15), (1, 1024, 40, 2, 2),
            (1, 2048, 33, 1, 3),
        ];
        foreach (var s in shapes)
            yield return new(s.Batch, s.K, s.M, 1, [s.H, s.W], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0], Bias: s.K % 2 == 1 || s.M % 3 != 0);
        // enough multiply-adds for two threads (filter panels claimed by both parts)
        yield return new(1, 160, 160, 1, [7, 7], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0]);
        yield return new(2, 96, 128, 1, [10, 10], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0], Bias: false);
        // filter panels that do not divide between two threads (3 and 5 AVX-512 panels): position tiles split as well
        yield return new(1, 64, 96, 1, [14, 14], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0]);
        yield return new(1, 96, 160, 1, [11, 11], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0], Bias: false);
        // 1-D
        yield return new(1, 24, 64, 1, [21], [1], [1], [1], [0], [0]);
    }

    [Fact]
    public void TransposedPointwiseMatchesReferenceForEveryIsaAndThreadCount()
    {
        FusedActivation[] activations = [FusedActivation.None, new(ActivationKind.Relu), new(ActivationKind.Clip, 0, 6), new(ActivationKind.Clip, -0.5f, 0.5f),
            new(ActivationKind.Sigmoid), new(ActivationKind.LeakyRelu, 0.1f), new(ActivationKind.HardSwish)];
        int index = 0, transposed = 0;
        foreach (var c in Cases())
        {
            index++;
            var geometry = ConvKernelTests.Geometry(c);
            ConvKernelTests.AssertNodeMatchesReference(c, activations[index % activations.Length], index, (session, isa) =>
            {
                var kernel = session.Plan.Steps.Single().Kernel;
                bool expectTransposed = isa != Isa.Scalar && GemmConvKernel.PreferTransposed(isa, c.M, geometry.OutVolume, c.C);
                Assert.True(expectTransposed == kernel is GemmConvKernel { IsTransposed: true },
                    $"case {index} {isa}: {kernel.GetType().Name} (transposed expected: {expectTransposed})");
                if (expectTransposed) transposed++;
            });
        }
        // the sweep reaches the kernel on every vector path this machine runs
        Assert.True(transposed >= 2 * 10 * IsaSupport.Available.Count(i => i != Isa.Scalar), $"only {transposed} transposed runs");
    }

    /// <summary>MobileNetV2's 7×7 and 14×14 pointwise shapes take the transposed kernel; shallow K on 28×28 and
    /// few filters on 56×56 stay NCHW (measured 1.6–2× slower transposed).</summary>
    [Fact]
    public void ChoiceFollowsTheMeasuredShapes()
    {
        foreach (var isa in new[] { Isa.Avx512, Isa.Avx2, Isa.Neon })
        {
            Assert.True(GemmConvKernel.PreferTransposed(isa, 960, 49, 160), $"{isa} 7×7 expand");
            Assert.True(GemmConvKernel.PreferTransposed(isa, 160, 49, 960), $"{isa} 7×7 project");
            Assert.True(GemmConvKernel.PreferTransposed(isa, 1280, 49, 320), $"{isa} 7×7 last conv");
            Assert.False(GemmConvKernel.PreferTransposed(isa, 24, 3136, 96), $"{isa} 56×56 project");
            Assert.False(GemmConvKernel.PreferTransposed(isa, 16, 12544, 32), $"{isa} 112×112 project");
        }
        Assert.True(GemmConvKernel.PreferTransposed(Isa.Avx512, 64, 196, 384));
        Assert.False(GemmConvKernel.PreferTransposed(Isa.Avx512, 192, 784, 32));
        Assert.False(GemmConvKernel.PreferTransposed(Isa.Scalar, 960, 49, 160));
        // an input past L2 would be read again by every filter panel (520 positions: 96% of the NCHW lanes busy against
        // 99% here, but 1 MiB of input)
        Assert.True(GemmConvKernel.PreferTransposed(Isa.Avx512, 64, 250, 512));
        Assert.False(GemmConvKernel.PreferTransposed(Isa.Avx512, 64, 520, 512));
    }

    /// <summary>The kernel's own entry point, without a session: partial filter panels, short last tiles, batch 2, no bias.</summary>
    [Fact]
    public unsafe void DirectRunMatchesReference()
    {
        FusedActivation[] activations = [FusedActivation.None, new(ActivationKind.Relu), new(ActivationKind.Clip, -0.3f, 0.4f), new(ActivationKind.Sigmoid)];
        (int Batch, int K, int M, int N)[] shapes = [(1, 1, 1, 1), (2, 5, 17, 9), (1, 37, 64, 49), (1, 64, 33, 15), (2, 70, 70, 196), (1, 3, 100, 8), (1, 160, 48, 7)];
        int index = 0;
        foreach (var isa in IsaSupport.Available)
        {
            if (isa == Isa.Scalar)
            {
                Assert.Null(F32ConvGemmTransposed.Create(isa, 1, 4, 4, 4, new float[16], FusedActivation.None, 1));
                continue;
            }
            foreach (var (batch, k, m, n) in shapes)
            {
                index++;
                var act = activations[index % activations.Length];
                var x = GemmKernelTests.Random(batch * k * n, index);
                var w = GemmKernelTests.Random(m * k, index + 1);
                var bias = index % 3 == 0 ? null : GemmKernelTests.Random(m, index + 2);
                var g = new ConvGeometry([n], [1], [1], [1], [0], [0], [n]);
                var expected = new float[batch * m * n];
                F32ConvReference.Run(new ConvShape(batch, k, m, 1, g), x, w, bias, expected, act);
                var conv = F32ConvGemmTransposed.Create(isa, batch, m, n, k, w, act, 1)!;
                var y = new float[expected.Length];
                fixed (float* px = x, py = y, pb = bias)
                    conv.Run(px, py, pb);
                GemmKernelTests.AssertClose(expected, y, $"{isa} ({batch}, {k}, {m}, {n}) {act.Kind}");
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void RunAllocatesNothing(int threads)
    {
        var c = new Case(1, 160, 160, 1, [7, 7], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0]);
        var model = ConvKernelTests.Model(c, GemmKernelTests.Random(c.M * c.C, 1), GemmKernelTests.Random(c.M, 2), new FusedActivation(ActivationKind.Clip, 0, 6));
        var session = new Session(model, new SessionOptions { Threads = threads });
        Assert.True(session.Plan.Steps.Single().Kernel is GemmConvKernel { IsTransposed: true } || IsaSupport.Resolve() == Isa.Scalar);
        GemmKernelTests.Random(c.C * 49, 3).CopyTo(session.Input<float>(0));
        Allocations.AssertNoneAfterWarmUp(session.Run);
    }
}
