using EdgeNet.Execution;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Conv;
using EdgeNet.Ops.Conv;
using Case = EdgeNet.Tests.Kernels.ConvKernelTests.Case;

namespace EdgeNet.Tests.Kernels;

/// <summary>
/// Convs with a single output position through <see cref="SingleOutputConvKernel"/> (patch gather + matrix-vector
/// product) against <see cref="F32ConvReference"/>, for every ISA path and 1 and 2 threads: windows that cover the
/// input exactly, reach into the padding on any side, skip input with strides and dilations, 1-D / 2-D / 3-D, batch 2,
/// with and without bias, every fused activation family; each case asserts which kernel runs (the vector paths take
/// this one; the scalar path, grouped convs and runtime weights keep the others) and that a run allocates nothing.
/// </summary>
public class SingleOutputConvKernelTests
{
    private static IEnumerable<(Case Case, bool Applies)> Cases()
    {
        // openWakeWord embedding model's last conv: 96×3×1 → 96×1×1
        yield return (new(1, 96, 96, 1, [3, 1], [3, 1], [1, 1], [1, 1], [0, 0], [0, 0]), true);
        // a window reaching into the padding on every side (3×3 on 1×1 with pad 1), batch 2, no bias
        yield return (new(2, 7, 33, 1, [1, 1], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1], Bias: false), true);
        // asymmetric pads, stride larger than the input, dilation 2, odd channel counts (tails of every vector width)
        yield return (new(1, 5, 17, 1, [4, 5], [3, 3], [7, 9], [2, 2], [1, 0], [0, 2]), true);
        // 1-D and 3-D
        yield return (new(1, 12, 70, 1, [9], [9], [1], [1], [0], [0]), true);
        yield return (new(2, 3, 9, 1, [2, 3, 3], [2, 3, 3], [1, 1, 1], [1, 1, 1], [0, 0, 0], [0, 0, 0]), true);
        // a classifier-like conv (3×3 over a 3×3 plane, 1000 filters) big enough to split over two threads (K·N > 2^20)
        yield return (new(1, 128, 1000, 1, [3, 3], [3, 3], [1, 1], [1, 1], [0, 0], [0, 0]), true);
        // one output channel
        yield return (new(1, 8, 1, 1, [2, 2], [2, 2], [1, 1], [1, 1], [0, 0], [0, 0]), true);
        // not this kernel: grouped, runtime weights, two output positions, pointwise on a 1×1 plane
        yield return (new(1, 8, 16, 1, [1, 1], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0]), false);
        yield return (new(1, 8, 16, 2, [3, 3], [3, 3], [1, 1], [1, 1], [0, 0], [0, 0]), false);
        yield return (new(1, 8, 16, 1, [3, 3], [3, 3], [1, 1], [1, 1], [0, 0], [0, 0], ConstWeights: false), false);
        yield return (new(1, 8, 16, 1, [3, 4], [3, 3], [1, 1], [1, 1], [0, 0], [0, 0]), false);
    }

    [Fact]
    public void SingleOutputConvMatchesReferenceForEveryIsaAndThreadCount()
    {
        FusedActivation[] activations = [FusedActivation.None, new(ActivationKind.Relu), new(ActivationKind.Clip, 0, 6), new(ActivationKind.LeakyRelu, 0.2f), new(ActivationKind.Sigmoid)];
        int index = 0;
        foreach (var (c, applies) in Cases())
        {
            index++;
            ConvKernelTests.AssertNodeMatchesReference(c, activations[index % activations.Length], index, (session, isa) =>
            {
                bool chosen = session.Plan.Steps.Single().Kernel is SingleOutputConvKernel;
                Assert.True(chosen == (applies && isa != Isa.Scalar), $"case {index} {isa}: single-output kernel chosen {chosen}");
            }, allocationFree: true);
        }
    }
}
