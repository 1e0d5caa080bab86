using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Copy;
using EdgeNet.Kernels.Resize;

namespace EdgeNet.Ops.Resize;

/// <summary>
/// Resize (opsets 10–19) and the deprecated Upsample (opsets 7–9), one implementation. Scales or sizes (and roi for
/// tf_crop_and_resize) must be known when the session is planned.
/// Per axis: out = ⌊in · scale⌋ (scales) or sizes (scale = out / in; keep_aspect_ratio_policy not_larger/not_smaller
/// uses one scale = min/max of those over the axes and out = round_half_up(scale · in)). Each output coordinate maps
/// back to x_original by coordinate_transformation_mode, then nearest (per nearest_mode), linear (2 taps, [1 − r, r])
/// or cubic (4 taps, Keys kernel with cubic_coeff_a) interpolation with edge clamping, r = x_original − ⌈x_original − 1⌉
/// ∈ (0, 1]; exclude_outside drops taps outside the input and renormalizes; antialias widens the linear/cubic kernel by
/// 1/scale when downsampling. Opset 10 Resize and Upsample use asymmetric coordinates and, for nearest, floor when
/// upsampling and ceil when downsampling (as ONNX Runtime does).
/// </summary>
public sealed class ResizeOp(string opType) : OpDefinition
{
    public override string OpType => opType;

    public override void Infer(OpContext ctx)
    {
        var spec = ResizeSpec.Parse(ctx, opType == "Upsample");
        if (spec.Mode != "nearest") ctx.ExpectType(0, DataType.Float32);
        ctx.SetOutput(0, ctx.InputType(0), spec.OutputDims);
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var spec = ResizeSpec.Parse(ctx, opType == "Upsample");
        var input = ctx.InputShape(0);
        var strides = Shapes.Strides(input);
        var axes = new ResizeAxisTaps[input.Length];
        for (int a = 0; a < axes.Length; a++) axes[a] = spec.BuildAxis(a, input[a], spec.OutputDims[a], strides[a]);
        bool singleTap = axes.All(a => a.Taps == 1);
        var type = ctx.InputType(0);
        if (singleTap)
        {
            var map = IndexMapKernel.Build(spec.OutputDims, idx =>
            {
                int offset = 0;
                for (int a = 0; a < idx.Length; a++)
                {
                    if (axes[a].Outside is { } mask && mask[idx[a]]) return -1;
                    offset += axes[a].Offset[idx[a]];
                }
                return offset;
            });
            var fill = new byte[type.SizeOf()];
            Kernels.Elementwise.ElementIO.Write(fill, type, 0, spec.Extrapolation);
            return new IndexMapKernel(map, type.SizeOf(), fill);
        }
        if (type != DataType.Float32) throw UnsupportedOperatorException.For(ctx.Node, $"{spec.Mode} resize of {type}");
        if (input.Length > F32ResizeReference.MaxRank) throw UnsupportedOperatorException.For(ctx.Node, $"rank {input.Length}");
        return new ResizeKernel(spec.OutputDims, axes, spec.Extrapolation);
    }

    private sealed class ResizeKernel(int[] outputDims, ResizeAxisTaps[] axes, float extrapolation) : Kernel
    {
        public override void Execute(ExecutionContext ctx) =>
            F32ResizeReference.Run(Input<float>(ctx, 0), Output<float>(ctx, 0), outputDims, axes, extrapolation);
    }
}

/// <summary>Everything Resize/Upsample needs, resolved to full rank: output dims, scales, modes and roi.</summary>
internal sealed class ResizeSpec
{
    public required int[] OutputDims { get; init; }
    public required double[] Scales { get; init; }
    /// <summary>scale · in per axis (the reference's "output_width", not rounded), used by align_corners and friends.</summary>
    public required double[] OutputWidths { get; init; }
    public required string Mode { get; init; }
    public required string Coordinates { get; init; }
    public required string NearestMode { get; init; }
    public double CubicA { get; init; } = -0.75;
    public bool ExcludeOutside { get; init; }
    public bool Antialias { get; init; }
    public double[]? RoiStart { get; init; }
    public double[]? RoiEnd { get; init; }
    public float Extrapolation { get; init; }

    private static double[] Values(Tensor t) => Enumerable.Range(0, t.ElementCount).Select(t.GetAsDouble).ToArray();

    public static ResizeSpec Parse(OpContext ctx, bool upsample)
    {
        var input = ctx.InputShape(0);
        int rank = input.Length;
        bool legacy = upsample || ctx.Opset < 11;
        string mode = ctx.String("mode", "nearest");
        if (mode == "bilinear" && upsample) mode = "linear";
        if (mode is not ("nearest" or "linear" or "cubic") || (legacy && mode == "cubic"))
            throw UnsupportedOperatorException.For(ctx.Node, $"mode '{mode}'");

        double[]? scales = null;
        long[]? sizes = null;
        double[]? roi = null;
        int[] axes = Enumerable.Range(0, rank).ToArray();
        string coordinates = "asymmetric", nearestMode = "simple", policy = "stretch";
        if (upsample && ctx.Opset < 9)
            scales = ctx.Floats("scales")?.Select(f => (double)f).ToArray()
                ?? throw UnsupportedOperatorException.For(ctx.Node, "Upsample without a scales attribute (opset 1 height_scale/width_scale)");
        else if (legacy)
            scales = Values(ctx.RequireConstant(1, "scales"));
        else
        {
            coordinates = ctx.String("coordinate_transformation_mode", "half_pixel");
            nearestMode = ctx.String("nearest_mode", "round_prefer_floor");
            if (coordinates is not ("half_pixel" or "half_pixel_symmetric" or "pytorch_half_pixel" or "align_corners" or "asymmetric"
                or "tf_half_pixel_for_nn" or "tf_crop_and_resize"))
                throw UnsupportedOperatorException.For(ctx.Node, $"coordinate_transformation_mode '{coordinates}'");
            if (nearestMode is not ("round_prefer_floor" or "round_prefer_ceil" or "floor" or "ceil"))
                throw UnsupportedOperatorException.For(ctx.Node, $"nearest_mode '{nearestMode}'");
            if (ctx.Opset >= 18)
            {
                policy = ctx.String("keep_aspect_ratio_policy", "stretch");
                if (policy is not ("stretch" or "not_larger" or "not_smaller")) throw ctx.Error($"unknown keep_aspect_ratio_policy '{policy}'");
                if (ctx.Ints("axes") is { } axesAttr)
                {
                    axes = axesAttr.Select(a => Shapes.NormalizeAxis(a, rank, ctx.Node)).ToArray();
                    if (axes.Distinct().Count() != axes.Length) throw ctx.Error("axes repeat");
                }
            }
            if (ctx.HasInput(2) && ctx.RequireConstant(2, "scales") is { ElementCount: > 0 } s) scales = Values(s);
            if (ctx.HasInput(3) && ctx.RequireConstant(3, "sizes") is { ElementCount: > 0 } z) sizes = z.ToInt64Array();
            if ((scales is null) == (sizes is null)) throw ctx.Error("exactly one of scales and sizes must be given");
            if (coordinates == "tf_crop_and_resize")
            {
                roi = ctx.HasInput(1) && ctx.RequireConstant(1, "roi") is { ElementCount: > 0 } r ? Values(r) : null;
                if (roi is null || roi.Length != 2 * axes.Length) throw ctx.Error($"tf_crop_and_resize needs roi with {2 * axes.Length} values");
            }
        }
        int given = scales?.Length ?? sizes!.Length;
        if (given != axes.Length) throw ctx.Error($"{(scales is null ? "sizes" : "scales")} has {given} values for {axes.Length} axes");

        var fullScales = Enumerable.Repeat(1.0, rank).ToArray();
        var widths = input.Select(d => (double)d).ToArray();
        var output = (int[])input.Clone();
        if (scales is not null)
        {
            for (int k = 0; k < axes.Length; k++)
            {
                int a = axes[k];
                if (!(scales[k] > 0) || double.IsInfinity(scales[k])) throw ctx.Error($"scale {scales[k]} must be positive");
                fullScales[a] = scales[k];
                widths[a] = scales[k] * input[a];
                if (widths[a] >= int.MaxValue) throw ctx.Error("output is too large");
                output[a] = (int)Math.Floor(widths[a]);
            }
        }
        else
        {
            for (int k = 0; k < axes.Length; k++)
            {
                if (sizes![k] <= 0 || sizes[k] > int.MaxValue) throw ctx.Error($"size {sizes[k]} must be positive");
                if (input[axes[k]] == 0) throw ctx.Error("cannot resize an empty axis to a size");
            }
            if (policy == "stretch")
                for (int k = 0; k < axes.Length; k++)
                {
                    int a = axes[k];
                    output[a] = (int)sizes![k];
                    fullScales[a] = (double)sizes[k] / input[a];
                    widths[a] = sizes[k];
                }
            else
            {
                var ratios = axes.Select((a, k) => (double)sizes![k] / input[a]).ToArray();
                double scale = policy == "not_larger" ? ratios.Min() : ratios.Max();
                foreach (int a in axes)
                {
                    fullScales[a] = scale;
                    widths[a] = scale * input[a];
                    output[a] = checked((int)(widths[a] + 0.5));
                }
            }
        }
        Shapes.Count(output);

        double[]? roiStart = null, roiEnd = null;
        if (roi is not null)
        {
            roiStart = new double[rank];
            roiEnd = Enumerable.Repeat(1.0, rank).ToArray();
            for (int k = 0; k < axes.Length; k++)
            {
                roiStart[axes[k]] = roi[k];
                roiEnd[axes[k]] = roi[k + axes.Length];
            }
        }
        bool antialias = !legacy && ctx.Opset >= 18 && ctx.Int("antialias", 0) != 0;
        // antialias widens the kernel to (2 or 4)/scale taps per axis; refuse absurd downscales instead of building huge tables
        if (antialias && mode != "nearest" && fullScales.Any(f => f < 1.0 / 1024))
            throw UnsupportedOperatorException.For(ctx.Node, "antialias with a downscale factor above 1024");
        return new ResizeSpec
        {
            OutputDims = output,
            Scales = fullScales,
            OutputWidths = widths,
            Mode = mode,
            Coordinates = coordinates,
            NearestMode = nearestMode,
            CubicA = ctx.Float("cubic_coeff_a", -0.75f),
            ExcludeOutside = !legacy && ctx.Int("exclude_outside", 0) != 0,
            Antialias = antialias && mode != "nearest",
            RoiStart = roiStart,
            RoiEnd = roiEnd,
            Extrapolation = legacy ? 0 : ctx.Float("extrapolation_value", 0),
        };
    }

    /// <summary>Input coordinate that output coordinate <paramref name="o"/> samples on axis <paramref name="axis"/>.</summary>
    private double Original(int axis, int o, int inLen, int outLen)
    {
        double scale = Scales[axis], width = OutputWidths[axis];
        return Coordinates switch
        {
            "align_corners" => width == 1 ? 0 : o * (inLen - 1.0) / (width - 1),
            "asymmetric" => o / scale,
            "tf_crop_and_resize" => RoiStart![axis] * (inLen - 1) + (width == 1
                ? (RoiEnd![axis] - RoiStart[axis]) * (inLen - 1) / 2
                : o * (RoiEnd![axis] - RoiStart[axis]) * (inLen - 1) / (width - 1)),
            "pytorch_half_pixel" => width > 1 ? (o + 0.5) / scale - 0.5 : 0,
            "half_pixel_symmetric" => inLen / 2.0 * (1 - outLen / width) + (o + 0.5) / scale - 0.5,
            "tf_half_pixel_for_nn" => (o + 0.5) / scale,
            _ => (o + 0.5) / scale - 0.5, // half_pixel
        };
    }

    /// <summary>
    /// Tap weights for fraction <paramref name="r"/> ∈ (0, 1] past the base index; tap t sits at base + First + t.
    /// </summary>
    private double[] Coefficients(double r, double scale, out int first)
    {
        switch (Mode)
        {
            case "nearest":
            {
                first = 0;
                bool up = r == 1 || NearestMode switch
                {
                    "round_prefer_ceil" => r >= 0.5,
                    "floor" => false,
                    "ceil" => true,
                    "simple" => scale < 1,
                    _ => r > 0.5,
                };
                return up ? [0, 1] : [1, 0];
            }
            case "linear" when !Antialias || scale >= 1:
                first = 0;
                return [1 - r, r];
            case "linear":
            {
                first = (int)Math.Floor(-1 / scale) + 1;
                var c = new double[2 - 2 * first];
                for (int t = 0; t < c.Length; t++) c[t] = Math.Clamp(1 - Math.Abs((first + t - r) * scale), 0, 1);
                return Normalized(c);
            }
            default:
            {
                double s = Antialias ? Math.Min(scale, 1) : 1;
                first = (int)Math.Floor(-2 / s) + 1;
                var c = new double[2 - 2 * first];
                for (int t = 0; t < c.Length; t++) c[t] = Cubic(Math.Abs((first + t - r) * s));
                return Antialias ? Normalized(c) : c;
            }
        }
    }

    /// <summary>Keys cubic convolution kernel with a = cubic_coeff_a.</summary>
    private double Cubic(double x)
    {
        double a = CubicA;
        if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
        if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
        return 0;
    }

    private static double[] Normalized(double[] c)
    {
        double sum = c.Sum();
        if (sum != 0) for (int i = 0; i < c.Length; i++) c[i] /= sum;
        return c;
    }

    public ResizeAxisTaps BuildAxis(int axis, int inLen, int outLen, int stride)
    {
        bool crop = Coordinates == "tf_crop_and_resize";
        double scale = Scales[axis];
        int taps = Coefficients(0.5, scale, out _).Length;
        var offset = new int[outLen * taps];
        var weight = new float[outLen * taps];
        var outside = crop ? new bool[outLen] : null;
        bool identityTaps = true;
        for (int o = 0; o < outLen; o++)
        {
            double x = Original(axis, o, inLen, outLen);
            if (crop && (x < 0 || x > inLen - 1))
            {
                outside![o] = true;
                weight[o * taps] = 1; // never read; keeps the single-tap check simple
                continue;
            }
            double baseIndex = Math.Ceiling(x) - 1; // the reference prefers the left neighbour, so r ∈ (0, 1]
            double r = x - baseIndex;
            var c = Coefficients(r, scale, out int first);
            if (ExcludeOutside)
            {
                double sum = 0;
                for (int t = 0; t < taps; t++)
                {
                    double idx = baseIndex + first + t;
                    if (idx < 0 || idx >= inLen) c[t] = 0;
                    sum += c[t];
                }
                if (sum != 0) for (int t = 0; t < taps; t++) c[t] /= sum;
            }
            int nonZero = 0;
            for (int t = 0; t < taps; t++)
            {
                long idx = (long)Math.Clamp(baseIndex + first + t, 0, inLen - 1);
                offset[o * taps + t] = (int)idx * stride;
                weight[o * taps + t] = (float)c[t];
                if (c[t] != 0) nonZero++;
                if (c[t] != 0 && c[t] != 1) identityTaps = false;
            }
            if (nonZero != 1) identityTaps = false;
        }
        if (!identityTaps || taps == 1) return new ResizeAxisTaps(taps, offset, weight, outside);
        // every coordinate reads exactly one input with weight 1 (nearest, or an axis left unchanged): keep that tap only
        var single = new int[outLen];
        for (int o = 0; o < outLen; o++)
            for (int t = 0; t < taps; t++)
                if (weight[o * taps + t] != 0) { single[o] = offset[o * taps + t]; break; }
        return new ResizeAxisTaps(1, single, Enumerable.Repeat(1f, outLen).ToArray(), outside);
    }
}
