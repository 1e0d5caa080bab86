using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Tests.Support;

namespace EdgeNet.Tests.Ops;

/// <summary>One-node models run through a Session: ConvTranspose against its scatter definition, Resize against hand-computed values.</summary>
public class ConvTransposeTests
{
    /// <summary>Builds x (graph input) → op(x, constants...) → y. A null constant leaves that optional input out.</summary>
    internal static Model SingleNode(string opType, int opset, int[] xDims, Tensor?[] constants, params IR.Attribute[] attributes)
    {
        var g = new IR.Graph { Name = opType };
        var x = g.GetOrAddValue("x");
        x.DataType = DataType.Float32;
        x.Shape = xDims.Select(d => Dim.Known(d)).ToArray();
        g.Inputs.Add(x);
        var node = new Node { OpType = opType, Name = "n", OpsetVersion = opset };
        node.Inputs.Add(x);
        for (int i = 0; i < constants.Length; i++)
            node.Inputs.Add(constants[i] is { } c ? g.AddConstant("c" + i, c) : null);
        foreach (var a in attributes) node.SetAttribute(a);
        var y = g.GetOrAddValue("y");
        node.Outputs.Add(y);
        y.Producer = node;
        g.Nodes.Add(node);
        g.Outputs.Add(y);
        var model = new Model { Graph = g };
        model.Opsets[""] = opset;
        return model;
    }

    private static Tensor Run(Model model, Tensor x) => new Session(model).Run(new Dictionary<string, Tensor> { ["x"] = x })[0];

    private static float[] Random(int count, int seed)
    {
        var rng = new System.Random(seed);
        var v = new float[count];
        for (int i = 0; i < count; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }

    /// <summary>
    /// The definition, written independently of the kernel: every input element x[n, c, i…] adds x·w[c, m, k…] to
    /// y[n, g·M/G + m, i·s − pad_begin + k·d] when that position is inside the output.
    /// </summary>
    private static float[] Scatter(int[] xDims, float[] x, int[] wDims, float[] w, float[]? bias, int group,
        int[] strides, int[] dilations, int[] padBegin, int[] outSpatial)
    {
        int spatial = xDims.Length - 2, n = xDims[0], c = xDims[1], mPerGroup = wDims[1], m = mPerGroup * group, cPerGroup = c / group;
        int[] inSpatial = xDims[2..], kernel = wDims[2..];
        int inVol = Shapes.Count(inSpatial), kVol = Shapes.Count(kernel), outVol = Shapes.Count(outSpatial);
        var y = new float[n * m * outVol];
        for (int b = 0; b < n; b++)
            for (int o = 0; o < m; o++)
                for (int p = 0; p < outVol; p++)
                    y[(b * m + o) * outVol + p] = bias?[o] ?? 0;
        var i = new int[spatial];
        var k = new int[spatial];
        for (int b = 0; b < n; b++)
            for (int ci = 0; ci < c; ci++)
                for (int ip = 0; ip < inVol; ip++)
                {
                    Unflatten(ip, inSpatial, i);
                    float xv = x[(b * c + ci) * inVol + ip];
                    int g = ci / cPerGroup;
                    for (int mg = 0; mg < mPerGroup; mg++)
                        for (int kp = 0; kp < kVol; kp++)
                        {
                            Unflatten(kp, kernel, k);
                            int op = 0;
                            bool inside = true;
                            for (int a = 0; a < spatial; a++)
                            {
                                int pos = i[a] * strides[a] - padBegin[a] + k[a] * dilations[a];
                                if (pos < 0 || pos >= outSpatial[a]) { inside = false; break; }
                                op = op * outSpatial[a] + pos;
                            }
                            if (!inside) continue;
                            int outChannel = g * mPerGroup + mg;
                            y[(b * m + outChannel) * outVol + op] += xv * w[(ci * mPerGroup + mg) * kVol + kp];
                        }
                }
        return y;
    }

    private static void Unflatten(int flat, int[] dims, int[] index)
    {
        for (int a = dims.Length - 1; a >= 0; a--)
        {
            index[a] = flat % dims[a];
            flat /= dims[a];
        }
    }

    public static TheoryData<int[], int[], int, int[], int[], int[], int[], bool> Cases => new()
    {
        // x dims, w dims, group, strides, dilations, pads (begin..., end...), output_padding, bias
        { [1, 3, 7], [3, 2, 4], 1, [3], [1], [1, 2], [2], true },
        { [2, 4, 5, 3], [4, 3, 3, 2], 2, [2, 3], [2, 1], [1, 0, 2, 1], [1, 2], true },
        { [1, 6, 3, 5], [6, 1, 2, 3], 3, [1, 2], [3, 2], [0, 1, 0, 0], [2, 1], false },
        { [1, 2, 3, 4, 3], [2, 2, 2, 3, 2], 2, [2, 1, 3], [1, 2, 1], [1, 0, 1, 0, 1, 2], [1, 0, 2], true },
        { [3, 1, 1, 1], [1, 5, 3, 3], 1, [1, 1], [1, 1], [0, 0, 0, 0], [0, 0], true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesScatterDefinition(int[] xDims, int[] wDims, int group, int[] strides, int[] dilations, int[] pads, int[] outputPadding, bool withBias)
    {
        int spatial = xDims.Length - 2;
        var x = Random(Shapes.Count(xDims), 1);
        var w = Random(Shapes.Count(wDims), 2);
        float[]? bias = withBias ? Random(wDims[1] * group, 3) : null;
        var outSpatial = new int[spatial];
        for (int a = 0; a < spatial; a++)
            outSpatial[a] = strides[a] * (xDims[2 + a] - 1) + outputPadding[a] + (wDims[2 + a] - 1) * dilations[a] + 1 - pads[a] - pads[a + spatial];
        var expected = Scatter(xDims, x, wDims, w, bias, group, strides, dilations, pads[..spatial], outSpatial);

        var model = SingleNode("ConvTranspose", 11, xDims,
            [Tensor.FromArray(wDims, w), bias is null ? null : Tensor.FromArray([bias.Length], bias)],
            IR.Attribute.Of("group", group),
            IR.Attribute.Of("strides", strides.Select(v => (long)v).ToArray()),
            IR.Attribute.Of("dilations", dilations.Select(v => (long)v).ToArray()),
            IR.Attribute.Of("pads", pads.Select(v => (long)v).ToArray()),
            IR.Attribute.Of("output_padding", outputPadding.Select(v => (long)v).ToArray()));
        var y = Run(model, Tensor.FromArray(xDims, x));

        Assert.Equal([xDims[0], wDims[1] * group, .. outSpatial], y.Dims);
        var actual = y.AsSpan<float>();
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-4f, $"element {i}: expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public void OutputShapeDerivesPadsAndGrowsTheEnd()
    {
        // in 3, stride 2, kernel 3: full size 7. output_shape 8 → total padding −1 → begin 0, end −1 (one extra bias-only cell).
        float[] x = [1, 2, 3];
        float[] w = [1, 10, 100];
        var model = SingleNode("ConvTranspose", 11, [1, 1, 3], [Tensor.FromArray([1, 1, 3], w), Tensor.FromArray([1], new float[] { 0.5f })],
            IR.Attribute.Of("strides", new long[] { 2 }), IR.Attribute.Of("output_shape", new long[] { 8 }));
        var y = Run(model, Tensor.FromArray([1, 1, 3], x));
        Assert.Equal(new[] { 1, 1, 8 }, y.Dims);
        // y[2i + k] += x[i]·w[k]
        Assert.Equal(new[] { 1.5f, 10.5f, 102.5f, 20.5f, 203.5f, 30.5f, 300.5f, 0.5f }, y.AsSpan<float>().ToArray());
    }

    [Fact]
    public void MismatchedWeightsAreAShapeError()
    {
        var model = SingleNode("ConvTranspose", 11, [1, 3, 4], [Tensor.FromArray([2, 1, 3], new float[6])]);
        Assert.Throws<ShapeInferenceException>(() => Run(model, Tensor.FromArray([1, 3, 4], new float[12])));
    }

    private static Tensor Scales(params float[] s) => Tensor.FromArray([s.Length], s);

    [Fact]
    public void ResizeLinearHalfPixelMatchesHandComputedValues()
    {
        // x_original = (o + 0.5)/2 − 0.5 → 0 (clamped), 0.25, 0.75, 1 (clamped) on both axes.
        var model = SingleNode("Resize", 13, [1, 1, 2, 2], [null, Scales(1, 1, 2, 2)], IR.Attribute.Of("mode", "linear"));
        var y = Run(model, Tensor.FromArray([1, 1, 2, 2], new float[] { 1, 2, 3, 4 }));
        Assert.Equal(new[] { 1, 1, 4, 4 }, y.Dims);
        float[] expected = [1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4];
        Assert.Equal(expected, y.AsSpan<float>().ToArray());
    }

    [Fact]
    public void ResizeAlignCornersSizesAndNearestModes()
    {
        // align_corners, 2 → 5: x_original = o·(2 − 1)/(5 − 1) = 0, .25, .5, .75, 1.
        var linear = SingleNode("Resize", 13, [1, 2], [null, null, Tensor.FromArray([2], new long[] { 1, 5 })],
            IR.Attribute.Of("mode", "linear"), IR.Attribute.Of("coordinate_transformation_mode", "align_corners"));
        Assert.Equal(new[] { 10f, 12.5f, 15, 17.5f, 20 }, Run(linear, Tensor.FromArray([1, 2], new float[] { 10, 20 })).AsSpan<float>().ToArray());

        // asymmetric, 4 → 6: x_original = o/1.5 = 0, .667, 1.333, 2, 2.667, 3.333.
        float[] x = [0, 1, 2, 3];
        float[] Nearest(string nearestMode) => Run(SingleNode("Resize", 13, [4], [null, Scales(1.5f)],
            IR.Attribute.Of("coordinate_transformation_mode", "asymmetric"), IR.Attribute.Of("nearest_mode", nearestMode)),
            Tensor.FromArray([4], x)).AsSpan<float>().ToArray();
        Assert.Equal(new float[] { 0, 0, 1, 2, 2, 3 }, Nearest("floor"));
        Assert.Equal(new float[] { 0, 1, 2, 2, 3, 3 }, Nearest("ceil"));
        Assert.Equal(new float[] { 0, 1, 1, 2, 3, 3 }, Nearest("round_prefer_floor"));
    }

    [Fact]
    public void LegacyResizeAndUpsampleUseAsymmetricFloorOrCeil()
    {
        // Upsample-7 (scales attribute), ×2: x_original = o/2, floor.
        var up = SingleNode("Upsample", 7, [1, 2], [], IR.Attribute.Of("scales", new float[] { 1, 2 }));
        Assert.Equal(new float[] { 5, 5, 6, 6 }, Run(up, Tensor.FromArray([1, 2], new float[] { 5, 6 })).AsSpan<float>().ToArray());
        // Resize-10 downsampling 4 → 2 (scale 0.6): x_original = 0, 1.667 → ceil → 0, 2.
        var down = SingleNode("Resize", 10, [4], [Scales(0.6f)]);
        Assert.Equal(new float[] { 1, 3 }, Run(down, Tensor.FromArray([4], new float[] { 1, 2, 3, 4 })).AsSpan<float>().ToArray());
        // Upsample-9 linear (scales input) ×2 on [0, 8]: x_original = 0, .5, 1, 1.5 (clamped to 1).
        var linear = SingleNode("Upsample", 9, [2], [Scales(2)], IR.Attribute.Of("mode", "linear"));
        Assert.Equal(new float[] { 0, 4, 8, 8 }, Run(linear, Tensor.FromArray([2], new float[] { 0, 8 })).AsSpan<float>().ToArray());
    }

    [Fact]
    public void ResizeCropAndResizeExtrapolates()
    {
        // roi [0.5, 1.5] on 3 elements: x_original = 0.5·2 + o·(1.0·2)/(3 − 1) = 1, 2, 3 → the last is outside.
        var model = SingleNode("Resize", 13, [3], [Tensor.FromArray([2], new float[] { 0.5f, 1.5f }), null, Tensor.FromArray([1], new long[] { 3 })],
            IR.Attribute.Of("mode", "linear"), IR.Attribute.Of("coordinate_transformation_mode", "tf_crop_and_resize"),
            IR.Attribute.Of("extrapolation_value", -7f));
        Assert.Equal(new float[] { 20, 30, -7 }, Run(model, Tensor.FromArray([3], new float[] { 10, 20, 30 })).AsSpan<float>().ToArray());
    }

    [Fact]
    public void ResizeWithRuntimeScalesIsUnsupported()
    {
        var g = SingleNode("Resize", 13, [1, 1, 2, 2], [null, null]);
        var scales = g.Graph.GetOrAddValue("scales");
        scales.DataType = DataType.Float32;
        scales.Shape = [Dim.Known(4)];
        g.Graph.Inputs.Add(scales);
        g.Graph.Nodes[0].Inputs[2] = scales;
        var ex = Assert.Throws<UnsupportedOperatorException>(() => new Session(g).Run(new Dictionary<string, Tensor>
        {
            ["x"] = Tensor.FromArray([1, 1, 2, 2], new float[4]),
            ["scales"] = Scales(1, 1, 2, 2),
        }));
        Assert.Contains("scales", ex.Message);
    }

    [Fact]
    public void SpaceToDepthUndoesDepthToSpace()
    {
        var x = Random(2 * 8 * 3 * 2, 5);
        var d2s = Run(SingleNode("DepthToSpace", 13, [2, 8, 3, 2], [], IR.Attribute.Of("blocksize", 2L)), Tensor.FromArray([2, 8, 3, 2], x));
        Assert.Equal(new[] { 2, 2, 6, 4 }, d2s.Dims);
        var back = Run(SingleNode("SpaceToDepth", 13, [2, 2, 6, 4], [], IR.Attribute.Of("blocksize", 2L)), d2s);
        Assert.Equal(x, back.AsSpan<float>().ToArray());
    }

    public static TheoryData<string, int[], Tensor?[], IR.Attribute[]> Steady => new()
    {
        { "ConvTranspose", [1, 2, 3, 4, 5], [Tensor.FromArray([2, 2, 2, 3, 2], Random(48, 7))], [Ints("strides", 2, 1, 2), Ints("output_padding", 1, 0, 1)] },
        { "Conv", [1, 2, 4, 5, 6], [Tensor.FromArray([3, 2, 2, 3, 2], Random(72, 8))], [Ints("pads", 1, 0, 1, 0, 1, 1)] },
        { "AveragePool", [1, 2, 4, 5, 6], [], [Ints("kernel_shape", 2, 3, 2), Ints("pads", 1, 1, 1, 0, 0, 1), IR.Attribute.Of("count_include_pad", 1L)] },
        { "MaxPool", [1, 2, 4, 5, 6], [], [Ints("kernel_shape", 2, 2, 2), Ints("dilations", 2, 1, 2)] },
        { "Resize", [1, 2, 5, 6], [null, Scales(1, 1, 1.7f, 0.6f)], [IR.Attribute.Of("mode", "cubic")] },
        { "Resize", [1, 2, 5, 6], [null, Scales(1, 1, 2, 3)], [] },
        { "DepthToSpace", [1, 8, 3, 2], [], [IR.Attribute.Of("blocksize", 2L), IR.Attribute.Of("mode", "CRD")] },
    };

    [Theory]
    [MemberData(nameof(Steady))]
    public void RunAllocatesNothing(string opType, int[] xDims, Tensor?[] constants, IR.Attribute[] attributes)
    {
        var session = new Session(SingleNode(opType, 19, xDims, constants, attributes));
        Random(Shapes.Count(xDims), 9).CopyTo(session.Input<float>(0));
        Allocations.AssertNoneAfterWarmUp(session.Run);
    }

    private static IR.Attribute Ints(string name, params long[] v) => IR.Attribute.Of(name, v);

    public static TheoryData<string, int[], Tensor?[], IR.Attribute[]> Hostile => new()
    {
        { "ConvTranspose", [1, 2, 4], [Tensor.FromArray([2, 1, 3], new float[6])], [Ints("strides", 0)] },
        { "ConvTranspose", [1, 2, 4], [Tensor.FromArray([2, 1, 3], new float[6])], [Ints("dilations", 1L << 40)] },
        { "ConvTranspose", [1, 2, 4], [Tensor.FromArray([2, 1, 3], new float[6])], [Ints("strides", int.MaxValue)] },
        { "ConvTranspose", [1, 2, 4], [Tensor.FromArray([2, 1, 3], new float[6])], [Ints("kernel_shape", 5)] },
        { "ConvTranspose", [1, 2, 4], [Tensor.FromArray([2, 1, 3], new float[6])], [Ints("output_padding", 7)] },
        { "ConvTranspose", [1, 2, 4], [Tensor.FromArray([2, 1, 3], new float[6])], [Ints("output_shape", 0)] },
        { "ConvTranspose", [1, 2, 4], [Tensor.FromArray([2, 1, 3], new float[6])], [Ints("output_shape", 1L << 40)] },
        { "ConvTranspose", [1, 2, 4], [Tensor.FromArray([2, 1, 3], new float[6])], [Ints("pads", 100, 100)] },
        { "ConvTranspose", [1, 2, 4], [Tensor.FromArray([2, 1, 3], new float[6])], [IR.Attribute.Of("group", 3L)] },
        { "ConvTranspose", [1, 2, 4], [Tensor.FromArray([2, 1, 3], new float[6]), Tensor.FromArray([5], new float[5])], [] },
        { "Conv", [1, 2, 4], [Tensor.FromArray([2, 2, 3], new float[12])], [Ints("kernel_shape", 2)] },
        { "Conv", [1, 2, 4, 4, 4, 4], [Tensor.FromArray([2, 2, 1, 1, 1, 1], new float[4])], [] },
        { "Conv", [1, 2, 4], [Tensor.FromArray([2, 2, 3], new float[12])], [Ints("pads", int.MaxValue, int.MaxValue)] },
        { "MaxPool", [1, 1, 4, 4, 4], [], [Ints("kernel_shape", 1 << 20, 1 << 20, 1 << 20), Ints("pads", 1 << 20, 1 << 20, 1 << 20, 1 << 20, 1 << 20, 1 << 20)] },
        { "AveragePool", [1, 1, 4], [], [Ints("kernel_shape", 2), Ints("strides", -1)] },
        { "DepthToSpace", [1, 0, 2, 2], [], [IR.Attribute.Of("blocksize", 65536L)] },
        { "DepthToSpace", [1, 4, 2, 2], [], [IR.Attribute.Of("blocksize", 0L)] },
        { "SpaceToDepth", [1, 1, 0, 0], [], [IR.Attribute.Of("blocksize", 1L << 33)] },
        { "Resize", [1, 4], [null, Scales(float.NaN, 1)], [] },
        { "Resize", [1, 4], [null, Scales(1, -2)], [] },
        { "Resize", [1, 4], [null, Scales(1, 1e30f)], [] },
        { "Resize", [1, 4], [null, Scales(1, 1e-30f)], [IR.Attribute.Of("mode", "cubic")] },
        { "Resize", [1, 4], [null, Scales(1, 1e-6f)], [IR.Attribute.Of("mode", "linear"), IR.Attribute.Of("antialias", 1L)] },
        { "Resize", [1, 4], [null, Scales(1, 2)], [IR.Attribute.Of("mode", "bicubic")] },
        { "Resize", [1, 4], [null, Scales(1, 2, 3)], [] },
        { "Resize", [1, 4], [null, null, Tensor.FromArray([2], new long[] { 1, 0 })], [] },
        { "Resize", [1, 4], [Tensor.FromArray([4], new float[] { float.NaN, 0, 1, float.PositiveInfinity }), null, Tensor.FromArray([2], new long[] { 1, 3 })],
            [IR.Attribute.Of("mode", "linear"), IR.Attribute.Of("coordinate_transformation_mode", "tf_crop_and_resize")] },
        { "Resize", [1, 4], [null, Scales(2), null], [Ints("axes", 7)] },
        { "Upsample", [1, 4], [null], [] },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void HostileAttributesFailOnlyWithEdgeNetExceptions(string opType, int[] xDims, Tensor?[] constants, IR.Attribute[] attributes)
    {
        // opset 19 Resize reads axes/antialias; other ops accept any recent opset
        var model = SingleNode(opType, opType == "Upsample" ? 9 : 19, xDims, constants, attributes);
        try
        {
            Run(model, Tensor.FromArray(xDims, new float[Shapes.Count(xDims)]));
        }
        catch (EdgeNetException)
        {
        }
    }
}
