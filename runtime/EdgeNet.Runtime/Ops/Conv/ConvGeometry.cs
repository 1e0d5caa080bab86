using EdgeNet.IR;

namespace EdgeNet.Ops.Conv;

/// <summary>
/// Spatial geometry shared by Conv, ConvTranspose and the pools, for 1-D, 2-D and 3-D. Every array is stored in the
/// canonical 3-D form (depth, height, width): a 1-D op is 3-D with depth and height 1, a 2-D op has depth 1, so one
/// kernel loop nest serves all three ranks. <see cref="Rank"/> keeps the original spatial rank.
/// Conv/pool output = ⌊(in + pad_begin + pad_end − ((k − 1)·d + 1)) / s⌋ + 1 (⌈⌉ with ceil_mode, dropping a window
/// that would start in the end pad).
/// </summary>
public sealed class ConvGeometry
{
    /// <summary>Largest spatial rank the reference kernels handle.</summary>
    public const int MaxRank = 3;

    /// <summary>Builds a geometry from per-axis values in the original spatial rank (padded here to 3-D).</summary>
    public ConvGeometry(int[] input, int[] kernel, int[] strides, int[] dilations, int[] padBegin, int[] padEnd, int[] output)
    {
        Rank = input.Length;
        In = Canonical(input, 1);
        Kernel = Canonical(kernel, 1);
        Strides = Canonical(strides, 1);
        Dilations = Canonical(dilations, 1);
        PadBegin = Canonical(padBegin, 0);
        PadEnd = Canonical(padEnd, 0);
        Out = Canonical(output, 1);
    }

    public int Rank { get; }
    public int[] In { get; }
    public int[] Kernel { get; }
    public int[] Strides { get; }
    public int[] Dilations { get; }
    public int[] PadBegin { get; }
    public int[] PadEnd { get; }
    public int[] Out { get; }

    public int InD => In[0];
    public int InH => In[1];
    public int InW => In[2];
    public int KD => Kernel[0];
    public int KH => Kernel[1];
    public int KW => Kernel[2];
    public int SD => Strides[0];
    public int SH => Strides[1];
    public int SW => Strides[2];
    public int DD => Dilations[0];
    public int DH => Dilations[1];
    public int DW => Dilations[2];
    public int PadFront => PadBegin[0];
    public int PadTop => PadBegin[1];
    public int PadLeft => PadBegin[2];
    public int OutD => Out[0];
    public int OutH => Out[1];
    public int OutW => Out[2];
    public int InVolume => In[0] * In[1] * In[2];
    public int OutVolume => Out[0] * Out[1] * Out[2];
    public int KernelVolume => Kernel[0] * Kernel[1] * Kernel[2];

    /// <summary>Output spatial dims in the original rank.</summary>
    public int[] OutputSpatial() => Out[(MaxRank - Rank)..];

    private int[] Canonical(int[] values, int fill)
    {
        if (values.Length != Rank) throw new ArgumentException($"expected {Rank} spatial values, got {values.Length}");
        var result = new int[MaxRank];
        Array.Fill(result, fill);
        values.CopyTo(result, MaxRank - Rank);
        return result;
    }

    /// <summary>Bound on every coordinate term, so the kernels' int index arithmetic (sums of three such terms) cannot overflow.</summary>
    private const long CoordinateLimit = 1L << 29;

    /// <summary>Rejects geometries whose index arithmetic could overflow (hostile attributes); returns this.</summary>
    public ConvGeometry Validated(OpContext ctx)
    {
        if ((double)Kernel[0] * Kernel[1] * Kernel[2] > Shapes.MaxElements) throw ctx.Error("kernel is too large");
        for (int a = 0; a < MaxRank; a++)
        {
            long extent = (Kernel[a] - 1L) * Dilations[a] + 1;
            if (extent > CoordinateLimit || (long)(In[a] - 1) * Strides[a] > CoordinateLimit || (long)(Out[a] - 1) * Strides[a] > CoordinateLimit
                || Math.Abs((long)PadBegin[a]) > CoordinateLimit || Math.Abs((long)PadEnd[a]) > CoordinateLimit || In[a] > CoordinateLimit || Out[a] > CoordinateLimit)
                throw ctx.Error("kernel, stride, dilation or pads are too large");
        }
        return this;
    }

    /// <summary>The kernel_shape attribute as ints, or null when absent; values outside (0, 2^29] are errors.</summary>
    public static int[]? KernelShape(OpContext ctx) =>
        ctx.Ints("kernel_shape")?.Select(k => k is > 0 and <= CoordinateLimit ? (int)k : throw ctx.Error($"kernel_shape value {k} is out of range")).ToArray();

    /// <summary>Reads strides, dilations, pads (or auto_pad) of a node; validates the spatial rank and values.</summary>
    public static (long[] Strides, long[] Dilations, long[] Pads) Attributes(OpContext ctx, int spatial)
    {
        if (spatial is < 1 or > MaxRank)
            throw UnsupportedOperatorException.For(ctx.Node, $"{spatial}-D spatial input is not supported (1-D to {MaxRank}-D are)");
        long[] strides = ctx.Ints("strides") ?? Enumerable.Repeat(1L, spatial).ToArray();
        long[] dilations = ctx.Ints("dilations") ?? Enumerable.Repeat(1L, spatial).ToArray();
        long[] pads = ctx.Ints("pads") ?? new long[2 * spatial];
        if (strides.Length != spatial || dilations.Length != spatial || pads.Length != 2 * spatial)
            throw ctx.Error("strides/dilations/pads do not match the spatial rank");
        if (strides.Any(s => s <= 0 || s > int.MaxValue) || dilations.Any(d => d <= 0 || d > int.MaxValue) || pads.Any(p => p < 0 || p > int.MaxValue))
            throw ctx.Error("strides and dilations must be positive and pads non-negative");
        return (strides, dilations, pads);
    }

    public static ConvGeometry Create(OpContext ctx, int[] inputDims, int[] kernel, bool ceilMode = false)
    {
        int spatial = inputDims.Length - 2;
        var (strides, dilations, pads) = Attributes(ctx, spatial);
        if (kernel.Length != spatial) throw ctx.Error($"kernel has {kernel.Length} dims for {spatial} spatial dims");
        if (kernel.Any(k => k <= 0)) throw ctx.Error("kernel dims must be positive");
        string autoPad = ctx.String("auto_pad", "NOTSET");
        var input = inputDims[2..];
        var output = new int[spatial];
        var begin = new int[spatial];
        var end = new int[spatial];
        for (int i = 0; i < spatial; i++)
        {
            long extent = (kernel[i] - 1) * dilations[i] + 1;
            switch (autoPad)
            {
                case "SAME_UPPER" or "SAME_LOWER":
                {
                    long o = (input[i] + strides[i] - 1) / strides[i];
                    long total = Math.Max(0, (o - 1) * strides[i] + extent - input[i]);
                    if (total > CoordinateLimit) throw ctx.Error("kernel, stride or dilation is too large");
                    begin[i] = (int)(autoPad == "SAME_UPPER" ? total / 2 : total - total / 2);
                    end[i] = (int)(total - begin[i]);
                    output[i] = (int)o;
                    continue;
                }
                case "VALID":
                    break;
                case "NOTSET" or "":
                    begin[i] = (int)pads[i];
                    end[i] = (int)pads[i + spatial];
                    break;
                default:
                    throw ctx.Error($"unknown auto_pad '{autoPad}'");
            }
            long span = input[i] + (long)begin[i] + end[i] - extent;
            if (span < 0) throw ctx.Error($"kernel extent {extent} is larger than the padded input {input[i] + (long)begin[i] + end[i]}");
            long outSize = ceilMode ? (span + strides[i] - 1) / strides[i] + 1 : span / strides[i] + 1;
            if (ceilMode && (outSize - 1) * strides[i] >= input[i] + begin[i]) outSize--;
            if (outSize > CoordinateLimit) throw ctx.Error("output is too large");
            output[i] = (int)outSize;
        }
        return new ConvGeometry(input, kernel, ToInts(ctx, strides), ToInts(ctx, dilations), begin, end, output).Validated(ctx);
    }

    internal static int[] ToInts(OpContext ctx, long[] values) =>
        values.Select(v => v is >= -CoordinateLimit and <= CoordinateLimit ? (int)v : throw ctx.Error($"value {v} is too large")).ToArray();
}
