using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Conv;
using EdgeNet.Ops.Conv;
using Case = EdgeNet.Tests.Kernels.ConvKernelTests.Case;

namespace EdgeNet.Tests.Kernels;

/// <summary>
/// Stride-1 convs through <see cref="ShiftedConvKernel"/> (taps as shifted views of the padded input, K split at the
/// microkernel's KC, output rows copied out when the row pitch differs) against <see cref="F32ConvReference"/>, for
/// every ISA path, 1 and 2 threads; each case also checks that the shifted kernel is the one chosen.
/// </summary>
public class ShiftedConvKernelTests
{
    private static IEnumerable<(Case Case, bool Shifted)> Cases()
    {
        // 1×3 with width pads (copy-out), 3×1 without pads (in place, direct output), 3×3 asymmetric pads
        yield return (new(1, 24, 24, 1, [14, 16], [1, 3], [1, 1], [1, 1], [0, 1], [0, 1]), true);
        yield return (new(1, 24, 17, 1, [14, 16], [3, 1], [1, 1], [1, 1], [0, 0], [0, 0]), true);
        yield return (new(2, 16, 33, 1, [9, 11], [3, 3], [1, 1], [1, 1], [1, 0], [2, 1]), true);
        // no pads but a wide kernel: in place with copy-out; dilation 2; 5×5
        yield return (new(1, 20, 9, 1, [12, 13], [3, 3], [1, 1], [2, 2], [0, 0], [0, 0]), true);
        yield return (new(1, 16, 40, 1, [11, 12], [5, 5], [1, 1], [1, 1], [2, 2], [2, 2], Bias: false), true);
        // groups with 16+ channels each, batch 2
        yield return (new(2, 32, 48, 2, [6, 9], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1]), true);
        // channels past one K block of every microkernel (KC 64..256)
        yield return (new(1, 300, 13, 1, [5, 6], [1, 3], [1, 1], [1, 1], [0, 1], [0, 1]), true);
        // 1-D
        yield return (new(2, 18, 21, 1, [37], [3], [1], [1], [1], [1]), true);
        yield return (new(1, 16, 8, 1, [29], [5], [1], [2], [0], [0]), true);
        // too few channels or strided: not this kernel
        yield return (new(1, 8, 16, 1, [10, 10], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1]), false);
        yield return (new(1, 16, 16, 1, [10, 10], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1]), false);
        // output rows much narrower than the padded pitch: im2col is cheaper
        yield return (new(1, 32, 16, 1, [6, 2], [1, 3], [1, 1], [1, 1], [0, 1], [0, 1]), false);
    }

    [Fact]
    public void ShiftedConvMatchesReferenceForEveryIsaAndThreadCount()
    {
        FusedActivation[] activations = [FusedActivation.None, new(ActivationKind.Relu), new(ActivationKind.Clip, 0, 6), new(ActivationKind.Sigmoid), new(ActivationKind.LeakyRelu, 0.1f), new(ActivationKind.LeakyReluFloor, 0.2f, -0.05f)];
        int index = 0;
        foreach (var (c, shifted) in Cases())
        {
            index++;
            ConvKernelTests.AssertNodeMatchesReference(c, activations[index % activations.Length], index,
                (session, _) => Assert.Equal(shifted, session.Plan.Steps.Single().Kernel is ShiftedConvKernel));
        }
    }
}
