using System.Numerics;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Normalization;

namespace EdgeNet.Ops.Normalization;

/// <summary>
/// LRN (opset 1/13) over input [N, C, D1, …]: y = x / (bias + alpha / size · Σ x²)^beta, the sum over the size
/// channels centred on each one (see <see cref="LrnReference"/>). Defaults alpha = 1e−4, beta = 0.75, bias = 1;
/// size is required.
/// </summary>
public sealed class LrnOp : OpDefinition
{
    public override string OpType => "LRN";

    public override void Infer(OpContext ctx)
    {
        if (ctx.InputRank(0) < 2) throw ctx.Error($"input must have rank ≥ 2 ([N, C, ...]), got rank {ctx.InputRank(0)}");
        if (!ctx.Node.HasAttribute("size")) throw ctx.Error("attribute 'size' is required");
        if (ctx.Int("size", 0) < 1) throw ctx.Error($"size must be ≥ 1, got {ctx.Int("size", 0)}");
        ctx.SetOutput(0, ctx.InputType(0), ctx.InputShape(0));
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var dims = ctx.InputShape(0);
        long size = ctx.Int("size", 1);
        return Numeric.CreateFloat(ctx.InputType(0), new Factory(dims[0], dims[1], Shapes.Count(dims.AsSpan(2)), (int)Math.Min(size, int.MaxValue),
            ctx.Float("alpha", 1e-4f), ctx.Float("beta", 0.75f), ctx.Float("bias", 1f)), ctx.Node);
    }

    private readonly struct Factory(int batches, int channels, int spatial, int size, double alpha, double beta, double bias) : IFloatKernelFactory
    {
        public Kernel Create<T>() where T : unmanaged, IFloatingPointIeee754<T> => new LrnKernel<T>(batches, channels, spatial, size, alpha, beta, bias);
    }

    private sealed class LrnKernel<T>(int batches, int channels, int spatial, int size, double alpha, double beta, double bias) : Kernel
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public override void Execute(ExecutionContext ctx) =>
            LrnReference.Run(Input<T>(ctx, 0), Output<T>(ctx, 0), batches, channels, spatial, size, alpha, beta, bias);
    }
}
