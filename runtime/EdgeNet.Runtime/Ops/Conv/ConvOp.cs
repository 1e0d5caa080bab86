using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Conv;

namespace EdgeNet.Ops.Conv;

/// <summary>
/// Conv (1-D/2-D/3-D, groups, dilations, pads, auto_pad, optional bias, fused activation), float32. Activations stay
/// NCHW: depthwise convs go to <see cref="DepthwiseConvKernel"/>, convs with a single output position to a matrix-vector
/// product (<see cref="SingleOutputConvKernel"/>), convs whose positions fill GEMM tiles better as rows
/// than as columns (few positions, many filters) to the transposed GEMM (<see cref="SmallOutputConvKernel"/>),
/// stride-1 convs with enough channels to a GEMM over
/// shifted views of the input (<see cref="ShiftedConvKernel"/>), everything else is an implicit-im2col GEMM per image
/// and group (<see cref="GemmConvKernel"/>); the direct reference loop only serves empty shapes.
/// </summary>
public sealed class ConvOp : OpDefinition
{
    public override string OpType => "Conv";

    private static ConvGeometry Geometry(OpContext ctx)
    {
        var w = ctx.InputShape(1);
        var kernel = ConvGeometry.KernelShape(ctx) ?? w[2..];
        return ConvGeometry.Create(ctx, ctx.InputShape(0), kernel);
    }

    public override void Infer(OpContext ctx)
    {
        ctx.ExpectType(0, DataType.Float32);
        var x = ctx.InputShape(0);
        var w = ctx.InputShape(1);
        if (x.Length < 3 || w.Length != x.Length) throw ctx.Error($"input {Shapes.Format(x)} and weights {Shapes.Format(w)} ranks do not fit");
        int group = (int)ctx.Int("group", 1);
        if (group <= 0 || x[1] % group != 0 || w[0] % group != 0 || w[1] * group != x[1])
            throw ctx.Error($"channels {x[1]} and weights {Shapes.Format(w)} do not fit group {group}");
        if (ctx.HasInput(2) && Shapes.Count(ctx.InputShape(2)) != w[0]) throw ctx.Error("bias length differs from output channels");
        var g = Geometry(ctx);
        if (!g.Kernel.AsSpan(ConvGeometry.MaxRank - g.Rank).SequenceEqual(w.AsSpan(2)))
            throw ctx.Error($"kernel_shape differs from the weights {Shapes.Format(w)}");
        ctx.SetOutput(0, DataType.Float32, [x[0], w[0], .. g.OutputSpatial()]);
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var x = ctx.InputShape(0);
        var w = ctx.InputShape(1);
        var shape = new ConvShape(x[0], x[1], w[0], (int)ctx.Int("group", 1), Geometry(ctx));
        var activation = FusedActivation.Of(ctx.Node);
        return DepthwiseConvKernel.TryCreate(ctx, shape, ctx.HasInput(2), activation)
            ?? (Kernel?)SingleOutputConvKernel.TryCreate(ctx, shape, ctx.HasInput(2), activation)
            ?? (Kernel?)WinogradConvKernel.TryCreate(ctx, shape, ctx.HasInput(2), activation)
            ?? (Kernel?)SmallOutputConvKernel.TryCreate(ctx, shape, ctx.HasInput(2), activation)
            ?? (Kernel?)ShiftedConvKernel.TryCreate(ctx, shape, ctx.HasInput(2), activation)
            ?? (Kernel?)GemmConvKernel.TryCreate(ctx, shape, ctx.HasInput(2), activation)
            ?? new ConvKernel(shape, ctx.HasInput(2), activation);
    }

    public override long CountMacs(OpContext ctx)
    {
        var w = ctx.InputShape(1);
        return (long)Shapes.Count(ctx.OutputShape(0)) * Shapes.Count(w[1..]);
    }

    private sealed class ConvKernel(ConvShape shape, bool hasBias, FusedActivation activation) : Kernel
    {
        public override void Execute(ExecutionContext ctx) =>
            F32ConvReference.Run(shape, Input<float>(ctx, 0), Input<float>(ctx, 1), hasBias ? Input<float>(ctx, 2) : default, Output<float>(ctx, 0), activation);
    }
}
