using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Conv;
using EdgeNet.Ops.Conv;

namespace EdgeNet.Ops.ConvTranspose;

/// <summary>
/// ConvTranspose (1-D to 3-D, group, strides, dilations, pads, output_padding, output_shape, auto_pad, optional bias,
/// fused activation), float32. X is N×C×in, W is C×(M/G)×k, Y is N×M×out with, per spatial axis,
/// out = s·(in − 1) + output_padding + ((k − 1)·d + 1) − pad_begin − pad_end.
/// When output_shape is given (or auto_pad is SAME_*, which asks for out = in·s) the pads are derived from that
/// equation: total = s·(in − 1) + output_padding + extent − out, split total/2 at the start for SAME_UPPER and
/// total − total/2 at the start otherwise (floor division, so a negative total grows the end of the output).
/// </summary>
public sealed class ConvTransposeOp : OpDefinition
{
    public override string OpType => "ConvTranspose";

    private static ConvGeometry Geometry(OpContext ctx)
    {
        var x = ctx.InputShape(0);
        var w = ctx.InputShape(1);
        int spatial = x.Length - 2;
        var (strides, dilations, pads) = ConvGeometry.Attributes(ctx, spatial);
        var kernel = ConvGeometry.KernelShape(ctx) ?? w[2..];
        if (kernel.Length != spatial || kernel.Any(k => k <= 0)) throw ctx.Error($"kernel_shape {Shapes.Format(kernel)} does not fit {spatial} spatial dims");
        long[] outputPadding = ctx.Ints("output_padding") ?? new long[spatial];
        if (outputPadding.Length != spatial) throw ctx.Error("output_padding does not match the spatial rank");
        long[]? outputShape = ctx.Ints("output_shape");
        if (outputShape is not null)
        {
            if (outputShape.Length == spatial + 2) outputShape = outputShape[2..];
            if (outputShape.Length != spatial) throw ctx.Error("output_shape does not match the spatial rank");
        }
        string autoPad = ctx.String("auto_pad", "NOTSET");
        if (autoPad is not ("NOTSET" or "" or "VALID" or "SAME_UPPER" or "SAME_LOWER")) throw ctx.Error($"unknown auto_pad '{autoPad}'");

        var input = x[2..];
        var begin = new long[spatial];
        var end = new long[spatial];
        var output = new long[spatial];
        for (int i = 0; i < spatial; i++)
        {
            // The spec asks for output_padding < stride or dilation, but larger values are well defined (extra bias-only
            // cells at the end) and some exporters emit them, so only the sign is enforced.
            if (outputPadding[i] < 0 || outputPadding[i] > int.MaxValue) throw ctx.Error($"output_padding {outputPadding[i]} must be non-negative");
            long full = strides[i] * (input[i] - 1) + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1;
            bool derivePads = outputShape is not null || autoPad is "SAME_UPPER" or "SAME_LOWER";
            if (derivePads)
            {
                output[i] = outputShape is not null ? outputShape[i] : input[i] * strides[i];
                long total = full - output[i];
                long half = (long)Math.Floor(total / 2.0);
                begin[i] = autoPad == "SAME_UPPER" ? half : total - half;
                end[i] = total - begin[i];
            }
            else
            {
                if (autoPad is "NOTSET" or "") { begin[i] = pads[i]; end[i] = pads[i + spatial]; }
                output[i] = full - begin[i] - end[i];
            }
            if (output[i] <= 0 || output[i] > int.MaxValue) throw ctx.Error($"output size {output[i]} on spatial axis {i} is not positive");
        }
        return new ConvGeometry(input, kernel, ConvGeometry.ToInts(ctx, strides), ConvGeometry.ToInts(ctx, dilations),
            ConvGeometry.ToInts(ctx, begin), ConvGeometry.ToInts(ctx, end), ConvGeometry.ToInts(ctx, output)).Validated(ctx);
    }

    public override void Infer(OpContext ctx)
    {
        ctx.ExpectType(0, DataType.Float32);
        var x = ctx.InputShape(0);
        var w = ctx.InputShape(1);
        if (x.Length < 3 || w.Length != x.Length) throw ctx.Error($"input {Shapes.Format(x)} and weights {Shapes.Format(w)} ranks do not fit");
        int group = (int)ctx.Int("group", 1);
        if (group <= 0 || x[1] % group != 0 || w[0] != x[1])
            throw ctx.Error($"channels {x[1]} and weights {Shapes.Format(w)} do not fit group {group}");
        int outChannels = w[1] * group;
        if (ctx.HasInput(2) && Shapes.Count(ctx.InputShape(2)) != outChannels) throw ctx.Error("bias length differs from output channels");
        var g = Geometry(ctx);
        if (ctx.Ints("kernel_shape") is not null && !g.Kernel[(ConvGeometry.MaxRank - g.Rank)..].AsSpan().SequenceEqual(w.AsSpan(2)))
            throw ctx.Error($"kernel_shape differs from the weights {Shapes.Format(w)}");
        ctx.SetOutput(0, DataType.Float32, [x[0], outChannels, .. g.OutputSpatial()]);
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var x = ctx.InputShape(0);
        var w = ctx.InputShape(1);
        int group = (int)ctx.Int("group", 1);
        return new ConvTransposeKernel(new ConvShape(x[0], x[1], w[1] * group, group, Geometry(ctx)), ctx.HasInput(2), FusedActivation.Of(ctx.Node));
    }

    public override long CountMacs(OpContext ctx) => (long)Shapes.Count(ctx.InputShape(0)) * Shapes.Count(ctx.InputShape(1)[1..]);

    private sealed class ConvTransposeKernel(ConvShape shape, bool hasBias, FusedActivation activation) : Kernel
    {
        public override void Execute(ExecutionContext ctx) =>
            F32ConvTransposeReference.Run(shape, Input<float>(ctx, 0), Input<float>(ctx, 1), hasBias ? Input<float>(ctx, 2) : default, Output<float>(ctx, 0), activation);
    }
}
