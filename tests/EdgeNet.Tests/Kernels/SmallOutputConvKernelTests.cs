using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Conv;
using EdgeNet.Kernels.Gemm;
using EdgeNet.Ops.Conv;
using EdgeNet.Tests.Support;
using Case = EdgeNet.Tests.Kernels.ConvKernelTests.Case;

namespace EdgeNet.Tests.Kernels;

/// <summary>
/// Convs with few output positions and many filters through <see cref="SmallOutputConvKernel"/> (the transposed GEMM:
/// positions as rows, filters as columns) against <see cref="F32ConvReference"/>, for every ISA path, 1 and 2
/// threads, over both packing paths (vector tiles of two contiguous pieces, gathered tiles); each case checks the
/// kernel is chosen exactly when <see cref="SmallOutputConvKernel.Prefer"/> says so, and a few that it is (or is not).
/// </summary>
public class SmallOutputConvKernelTests
{
    private static IEnumerable<Case> Cases()
    {
        // melspectrogram's STFT on an 80 ms chunk: 1 channel, 5 positions of 512 taps, stride 160, 257 filters
        yield return new(1, 1, 257, 1, [1280], [512], [160], [1], [0], [0]);
        // padding (taps outside the input), dilation, batch 2, 2-D
        yield return new(2, 3, 70, 1, [20], [7], [5], [2], [3], [4]);
        yield return new(1, 5, 64, 1, [4, 5], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1], Bias: false);
        // groups with enough filters each; 3-D
        yield return new(1, 4, 96, 2, [9, 9], [3, 3], [4, 4], [1, 1], [0, 0], [0, 0]);
        yield return new(1, 2, 40, 1, [3, 4, 4], [2, 3, 3], [1, 2, 2], [1, 1, 1], [0, 1, 1], [0, 1, 1]);
        // ResNet-like late stages: 3×3 pad 1 on 7×7 (tiles of 8 positions span two output rows: two loads and a
        // blend), 14×14 with a partial last tile, 1×1 pointwise on 7×7 (one contiguous piece per tile; the scalar path
        // only, the vector paths take F32ConvGemmTransposed), strided 3×3
        // and 1×1 downsamples (gathered tiles), output rows of 3 (a tile spans three rows: gathered)
        yield return new(1, 24, 64, 1, [7, 7], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1]);
        yield return new(1, 17, 96, 1, [14, 14], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1], Bias: false);
        yield return new(1, 40, 160, 1, [7, 7], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0]);
        yield return new(1, 16, 96, 1, [13, 13], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1]);
        yield return new(2, 32, 64, 1, [14, 14], [1, 1], [2, 2], [1, 1], [0, 0], [0, 0]);
        yield return new(1, 20, 64, 1, [8, 3], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1]);
        // asymmetric pads, dilation 2 with stride 1, groups of 64 filters, batch 2
        yield return new(2, 36, 128, 2, [9, 10], [3, 3], [1, 1], [2, 2], [2, 1], [1, 2]);
        // 1-D stride 1 (one contiguous piece per tile)
        yield return new(1, 12, 64, 1, [30], [5], [1], [1], [2], [2]);
        // one channel, contiguous taps (an STFT over 1 s): full tiles of 8 positions pack as 8×8 transposes; the same
        // in 2-D with a 1×K kernel and width pads (tiles that span two rows gather)
        yield return new(1, 1, 64, 1, [3000], [64], [37], [1], [0], [0]);
        yield return new(1, 1, 64, 1, [3, 1000], [1, 128], [1, 9], [1, 1], [0, 5], [0, 3]);
        // many positions, few filters or one position: other kernels
        yield return new(1, 8, 64, 1, [6, 6], [6, 6], [1, 1], [1, 1], [0, 0], [0, 0]);
        yield return new(1, 2, 64, 1, [40, 40], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1]);
        yield return new(1, 2, 4, 1, [20], [5], [5], [1], [0], [0]);
        yield return new(1, 32, 64, 1, [56, 56], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0]);
    }

    [Fact]
    public void SmallOutputConvMatchesReferenceForEveryIsaAndThreadCount()
    {
        FusedActivation[] activations = [FusedActivation.None, new(ActivationKind.Relu), new(ActivationKind.Clip, 0, 6), new(ActivationKind.Sigmoid)];
        int index = 0;
        foreach (var c in Cases())
        {
            index++;
            var act = activations[index % activations.Length];
            var geometry = ConvKernelTests.Geometry(c);
            var shape = new ConvShape(c.Batch, c.C, c.M, c.Group, geometry);
            var x = GemmKernelTests.Random(c.Batch * c.C * geometry.InVolume, index);
            var w = GemmKernelTests.Random(c.M * (c.C / c.Group) * geometry.KernelVolume, index + 50);
            var bias = c.Bias ? GemmKernelTests.Random(c.M, index + 99) : null;
            var expected = new float[c.Batch * c.M * geometry.OutVolume];
            F32ConvReference.Run(shape, x, w, bias, expected, act);
            var model = ConvKernelTests.Model(c, w, bias, act);
            foreach (var isa in IsaSupport.Available)
                foreach (int threads in new[] { 1, 2 })
                {
                    var uk = F32GemmMicrokernel.For(isa);
                    bool chosen = SmallOutputConvKernel.Prefer(shape, uk);
                    if (isa == Isa.Avx512 && index is 1 or 6 or 14 or 15) Assert.True(chosen, $"case {index}: the transposed GEMM should win on AVX-512");
                    // one-group pointwise on a small plane: F32ConvGemmTransposed (GemmConvKernel) on the vector paths
                    if (index == 8 && isa != Isa.Scalar) Assert.False(chosen, $"case {index} {isa}");
                    if (index is 16 or 17 or 18) Assert.False(chosen, $"case {index}");
                    var session = new Session(model, new SessionOptions { Isa = isa, Threads = threads });
                    Assert.Equal(chosen, session.Plan.Steps.Single().Kernel is SmallOutputConvKernel);
                    var y = session.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([c.Batch, c.C, .. c.In], x) })[0];
                    Assert.Equal([c.Batch, c.M, .. geometry.OutputSpatial()], y.Dims);
                    GemmKernelTests.AssertClose(expected, y.AsSpan<float>(), $"case {index} {isa} t{threads}");
                    if (chosen) Allocations.AssertNoneAfterWarmUp(session.Run);
                }
        }
    }
}
