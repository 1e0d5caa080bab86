using EdgeNet.IR;

namespace EdgeNet.Ops.Conv;

/// <summary>
/// Spatial geometry shared by Conv, ConvTranspose and the pools, for 1-D and 2-D (1-D is 2-D with height 1):
/// kernel, strides, dilations, begin/end pads (from pads or auto_pad) and the output size.
/// Output = ⌊(in + pad_begin + pad_end − ((k − 1)·d + 1)) / s⌋ + 1 (⌈⌉ with ceil_mode, dropping a window that would start in the end pad).
/// </summary>
public sealed record ConvGeometry(int InH, int InW, int KH, int KW, int SH, int SW, int DH, int DW, int PadTop, int PadLeft, int PadBottom, int PadRight, int OutH, int OutW)
{
    public static ConvGeometry Create(OpContext ctx, int[] inputDims, int[] kernel, bool ceilMode = false)
    {
        int spatial = inputDims.Length - 2;
        if (spatial is < 1 or > 2) throw UnsupportedOperatorException.For(ctx.Node, $"{spatial}-D spatial input is not supported (1-D and 2-D are)");
        if (kernel.Length != spatial) throw ctx.Error($"kernel has {kernel.Length} dims for {spatial} spatial dims");
        long[] strides = ctx.Ints("strides") ?? Enumerable.Repeat(1L, spatial).ToArray();
        long[] dilations = ctx.Ints("dilations") ?? Enumerable.Repeat(1L, spatial).ToArray();
        long[] pads = ctx.Ints("pads") ?? new long[2 * spatial];
        if (strides.Length != spatial || dilations.Length != spatial || pads.Length != 2 * spatial)
            throw ctx.Error("strides/dilations/pads do not match the spatial rank");
        if (strides.Any(s => s <= 0) || dilations.Any(d => d <= 0) || pads.Any(p => p < 0) || kernel.Any(k => k <= 0))
            throw ctx.Error("strides, dilations and kernel must be positive and pads non-negative");
        string autoPad = ctx.String("auto_pad", "NOTSET");
        var input = inputDims[2..];
        var output = new int[spatial];
        var begin = new long[spatial];
        var end = new long[spatial];
        for (int i = 0; i < spatial; i++)
        {
            long extent = (kernel[i] - 1) * dilations[i] + 1;
            switch (autoPad)
            {
                case "SAME_UPPER" or "SAME_LOWER":
                {
                    long o = (input[i] + strides[i] - 1) / strides[i];
                    long total = Math.Max(0, (o - 1) * strides[i] + extent - input[i]);
                    begin[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                    end[i] = total - begin[i];
                    output[i] = (int)o;
                    continue;
                }
                case "VALID":
                    begin[i] = end[i] = 0;
                    break;
                case "NOTSET" or "":
                    begin[i] = pads[i];
                    end[i] = pads[i + spatial];
                    break;
                default:
                    throw ctx.Error($"unknown auto_pad '{autoPad}'");
            }
            long span = input[i] + begin[i] + end[i] - extent;
            if (span < 0) throw ctx.Error($"kernel extent {extent} is larger than the padded input {input[i] + begin[i] + end[i]}");
            long outSize = ceilMode ? (span + strides[i] - 1) / strides[i] + 1 : span / strides[i] + 1;
            if (ceilMode && (outSize - 1) * strides[i] >= input[i] + begin[i]) outSize--;
            output[i] = checked((int)outSize);
        }
        return spatial == 1
            ? new ConvGeometry(1, input[0], 1, kernel[0], 1, (int)strides[0], 1, (int)dilations[0], 0, (int)begin[0], 0, (int)end[0], 1, output[0])
            : new ConvGeometry(input[0], input[1], kernel[0], kernel[1], (int)strides[0], (int)strides[1], (int)dilations[0], (int)dilations[1],
                (int)begin[0], (int)begin[1], (int)end[0], (int)end[1], output[0], output[1]);
    }

    /// <summary>Output spatial dims in the original rank (1-D or 2-D).</summary>
    public int[] OutputSpatial(int spatialRank) => spatialRank == 1 ? [OutW] : [OutH, OutW];
}
