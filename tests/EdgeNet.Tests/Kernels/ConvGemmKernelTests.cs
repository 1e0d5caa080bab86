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
/// One-group convs through <see cref="F32ConvGemm"/> (bias and activation applied to the accumulators before the one
/// store; B the input in place for 1×1 convs, im2col panels otherwise) against <see cref="F32ConvReference"/>, for
/// every ISA path, 1 and 2 threads, every fused activation kind; each case asserts whether GemmConvKernel took the
/// fused path (never on the scalar path, which has no F32ConvGemm).
/// </summary>
public class ConvGemmKernelTests
{
    private static IEnumerable<(Case Case, bool Fused)> Cases()
    {
        // pointwise: rows not a multiple of any MR (1, 5, 13, 17), positions with and without a partial panel,
        // prime K, batch 2, K 512 and at the limit (1024), and the mobile-net shapes (K 16, 32; 112×112 scaled down)
        yield return (new(1, 16, 96, 1, [23, 29], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0]), true);
        yield return (new(2, 7, 13, 1, [9, 11], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0]), true);
        yield return (new(1, 32, 17, 1, [16, 16], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0], Bias: false), true);
        yield return (new(1, 64, 64, 1, [25, 5], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0]), true);
        yield return (new(1, 31, 5, 1, [3, 43], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0]), true);
        yield return (new(2, 512, 9, 1, [4, 33], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0]), true);
        yield return (new(1, 1024, 11, 1, [5, 30], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0]), true);
        yield return (new(1, 2, 1, 1, [1, 1], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0]), true);
        // enough multiply-adds for two threads (column blocks claimed by both parts)
        yield return (new(1, 32, 48, 1, [40, 30], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0]), true);
        yield return (new(2, 24, 40, 1, [35, 33], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0], Bias: false), true);
        // 1-D pointwise
        yield return (new(1, 12, 10, 1, [77], [1], [1], [1], [0], [0]), true);
        // im2col: the mobile-net stem (3 channels, 3×3 stride 2), DS-CNN's first conv (offset table), strides,
        // dilations, asymmetric pads, 1-D
        yield return (new(1, 3, 32, 1, [31, 37], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1]), true);
        yield return (new(1, 1, 64, 1, [49, 10], [10, 4], [2, 2], [1, 1], [5, 1], [5, 1]), true);
        yield return (new(2, 5, 11, 1, [13, 14], [3, 3], [1, 1], [2, 2], [2, 1], [0, 2]), true);
        yield return (new(1, 4, 7, 1, [20, 19], [5, 5], [3, 2], [1, 1], [2, 2], [1, 0], Bias: false), true);
        yield return (new(1, 3, 6, 1, [12, 12], [1, 1], [2, 2], [1, 1], [0, 0], [0, 0]), true);
        yield return (new(2, 3, 9, 1, [50], [7], [3], [1], [3], [3]), true);
        yield return (new(1, 3, 40, 1, [60, 50], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1]), true);
        // many column tiles, each asking for the input rows two tiles ahead (to the plane's end, batch 2)
        yield return (new(2, 3, 16, 1, [97, 90], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1]), true);
        yield return (new(1, 2, 8, 1, [41, 131], [5, 3], [1, 1], [2, 1], [4, 1], [4, 1], Bias: false), true);
        // im2col at the depth limit (K = 8·4·4 = 128)
        yield return (new(1, 8, 12, 1, [20, 21], [4, 4], [1, 1], [1, 1], [1, 2], [2, 1]), true);
        // not this kernel: K past the limit, im2col deeper than MaxIm2ColDepth (ResNet's 7×7/2 stem, K = 147),
        // groups, weights as an input
        yield return (new(1, 3, 16, 1, [40, 38], [7, 7], [2, 2], [1, 1], [3, 3], [3, 3]), false);
        yield return (new(1, 1030, 8, 1, [5, 30], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0]), false);
        yield return (new(1, 8, 12, 4, [10, 10], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1]), false);
        yield return (new(1, 8, 12, 1, [10, 10], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0], ConstWeights: false), false);
    }

    [Fact]
    public void ConvGemmMatchesReferenceForEveryIsaAndThreadCount()
    {
        FusedActivation[] activations = [FusedActivation.None, new(ActivationKind.Relu), new(ActivationKind.Clip, 0, 6), new(ActivationKind.Clip, -0.5f, 0.5f),
            new(ActivationKind.Sigmoid), new(ActivationKind.LeakyRelu, 0.1f)];
        int index = 0;
        foreach (var (c, fused) in Cases())
        {
            index++;
            var geometry = ConvKernelTests.Geometry(c);
            ConvKernelTests.AssertNodeMatchesReference(c, activations[index % activations.Length], index, (session, isa) =>
            {
                var kernel = session.Plan.Steps.Single().Kernel;
                // one-group pointwise convs whose filters fill the lanes better go to F32ConvGemmTransposed (also
                // "fused"; on NEON's 8-wide panels even K past MaxDepth with 8 filters)
                bool transposed = isa != Isa.Scalar && c.Group == 1 && c.ConstWeights && geometry.KernelVolume == 1 && c.Strides.All(v => v == 1)
                    && c.PadBegin.All(v => v == 0) && c.PadEnd.All(v => v == 0) && GemmConvKernel.PreferTransposed(isa, c.M, geometry.OutVolume, c.C);
                Assert.Equal(transposed, kernel is GemmConvKernel { IsTransposed: true });
                Assert.True((fused && isa != Isa.Scalar || transposed) == kernel is GemmConvKernel { IsFused: true },
                    $"case {index} {isa}: {kernel.GetType().Name} (fused expected: {fused && isa != Isa.Scalar || transposed})");
            });
        }
    }

    /// <summary>The kernel's own entry point, without a session: a pointwise and an im2col conv, one thread.</summary>
    [Fact]
    public unsafe void DirectRunMatchesReference()
    {
        foreach (var isa in IsaSupport.Available)
        {
            if (isa == Isa.Scalar)
            {
                Assert.Null(F32ConvGemm.Create(isa, 1, 4, 4, 4, 4, null, new float[16], FusedActivation.None, 1));
                continue;
            }
            foreach (var c in new Case[]
            {
                new(2, 19, 21, 1, [7, 9], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0]),
                new(2, 3, 10, 1, [15, 16], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1]),
            })
            {
                var g = ConvKernelTests.Geometry(c);
                int depth = c.C * g.KernelVolume;
                var x = GemmKernelTests.Random(c.Batch * c.C * g.InVolume, 7);
                var w = GemmKernelTests.Random(c.M * depth, 8);
                var bias = GemmKernelTests.Random(c.M, 9);
                var act = new FusedActivation(ActivationKind.Relu);
                var expected = new float[c.Batch * c.M * g.OutVolume];
                F32ConvReference.Run(new ConvShape(c.Batch, c.C, c.M, 1, g), x, w, bias, expected, act);
                bool pointwise = g.KernelVolume == 1 && c.Strides.All(s => s == 1);
                var conv = F32ConvGemm.Create(isa, c.Batch, c.M, g.OutVolume, depth, c.C * g.InVolume, pointwise ? null : new F32Im2ColPacker(g, depth, isa), w, act, 1)!;
                var y = new float[expected.Length];
                var scratch = new float[conv.ScratchBytes / sizeof(float)];
                fixed (float* px = x, py = y, pb = bias, ps = scratch)
                    conv.Run(px, py, pb, ps);
                GemmKernelTests.AssertClose(expected, y, $"{isa} direct {(pointwise ? "pointwise" : "im2col")}");
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void RunAllocatesNothing(int threads)
    {
        foreach (var c in new Case[]
        {
            new(1, 32, 48, 1, [40, 30], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0]),
            new(1, 3, 32, 1, [60, 50], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1]),
        })
        {
            var g = ConvKernelTests.Geometry(c);
            var model = ConvKernelTests.Model(c, GemmKernelTests.Random(c.M * c.C * g.KernelVolume, 1), GemmKernelTests.Random(c.M, 2), new FusedActivation(ActivationKind.Clip, 0, 6));
            var session = new Session(model, new SessionOptions { Threads = threads });
            Assert.True(session.Plan.Steps.Single().Kernel is GemmConvKernel { IsFused: true } || IsaSupport.Resolve() == Isa.Scalar);
            GemmKernelTests.Random(c.C * g.InVolume, 3).CopyTo(session.Input<float>(0));
            Allocations.AssertNoneAfterWarmUp(session.Run);
        }
    }
}
