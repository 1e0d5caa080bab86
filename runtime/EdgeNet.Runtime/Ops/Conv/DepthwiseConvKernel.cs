using EdgeNet.Execution;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Conv;

namespace EdgeNet.Ops.Conv;

/// <summary>
/// The depthwise path of Conv (group = in channels = out channels, one filter per channel): ConvOp asks here first.
/// Returns null when the shape is not one the specialised kernels cover, and ConvOp takes its general path.
/// </summary>
internal static class DepthwiseConvKernel
{
    public static Kernel? TryCreate(OpContext ctx, ConvShape shape, bool hasBias, FusedActivation activation)
    {
        _ = ctx;
        _ = shape;
        _ = hasBias;
        _ = activation;
        return null;
    }
}
