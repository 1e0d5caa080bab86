using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels;
using EdgeNet.Passes;
using EdgeNet.Tests.Passes;
using Xunit.Abstractions;

namespace EdgeNet.Tests.Ops.Quantized;

/// <summary>
/// Each QDQ rewrite on a small graph: the folded graph's quantized output against the same graph run literally
/// (every QuantizeLinear / DequantizeLinear executed in float, no passes), over several seeds and every ISA path.
/// Bit-exact where the fold evaluates the chain's own float operations (Add, data movement, MaxPool, Concat,
/// table activations); within one quantization step where the fold replaces a float sum by the exact integer sum
/// (Conv, Gemm, MatMul, GlobalAveragePool: a value within float rounding of a rounding boundary may land on the other
/// side), and then almost always equal (the test reports the share).
/// </summary>
public class FuseQdqTests(ITestOutputHelper output)
{
    private const float InScale = 0.02f;
    private const byte InZero = 120;

    /// <summary>x → Q → DQ with the given parameters.</summary>
    private static Value Qdq(GraphBuilder b, Value x, float scale, int zp, bool signed = false)
    {
        var s = b.Const(Tensor.Scalar(scale), "s");
        var z = signed ? b.Const(Tensor.Scalar((sbyte)zp), "z") : b.Const(Tensor.Scalar((byte)zp), "z");
        var q = b.Op("QuantizeLinear", x, s, z);
        return b.Op("DequantizeLinear", q, s, z);
    }

    /// <summary>y → Q (the graph output is the quantized tensor, compared as integers).</summary>
    private static Value Quantize(GraphBuilder b, Value y, float scale, int zp, bool signed = false) =>
        b.Op("QuantizeLinear", y, b.Const(Tensor.Scalar(scale), "s"), signed ? b.Const(Tensor.Scalar((sbyte)zp), "z") : b.Const(Tensor.Scalar((byte)zp), "z"));

    /// <summary>DequantizeLinear of a seeded int8 weight [dims] with per-channel scales along <paramref name="axis"/>.</summary>
    private static Value Weight(GraphBuilder b, int seed, int[] dims, int axis, bool perChannel = true)
    {
        var rng = new Random(seed);
        var w = new sbyte[Shapes.Count(dims)];
        for (int i = 0; i < w.Length; i++) w[i] = (sbyte)rng.Next(-127, 128);
        int channels = perChannel ? dims[axis] : 1;
        var scales = new float[channels];
        for (int c = 0; c < channels; c++) scales[c] = 0.002f + 0.003f * (float)rng.NextDouble();
        var dq = b.Node("DequantizeLinear", [b.Const(Tensor.FromArray(dims, w), "w"),
            b.Const(perChannel ? Tensor.FromArray([channels], scales) : Tensor.Scalar(scales[0]), "ws"),
            b.Const(perChannel ? Tensor.FromArray([channels], new sbyte[channels]) : Tensor.Scalar((sbyte)0), "wz")],
            "", IR.Attribute.Of("axis", (long)axis));
        return dq.Outputs[0];
    }

    /// <summary>Bias as quantizers write it: int32 at scale x_scale · w_scale[c] behind a DequantizeLinear.</summary>
    private static Value Bias(GraphBuilder b, Value weightDq, int channels, int seed)
    {
        var ws = weightDq.Producer!.Inputs[1]!.Constant!.AsSpan<float>();
        var rng = new Random(seed);
        var q = new int[channels];
        var s = new float[channels];
        for (int c = 0; c < channels; c++) { s[c] = InScale * ws[ws.Length == 1 ? 0 : c]; q[c] = rng.Next(-2000, 2000); }
        return b.Node("DequantizeLinear", [b.Const(Tensor.FromArray([channels], q), "b"), b.Const(Tensor.FromArray([channels], s), "bs")],
            "", IR.Attribute.Of("axis", 0L)).Outputs[0];
    }

    /// <summary>
    /// Runs the graph literally and folded (default pipeline) on seeded inputs for every ISA; asserts at most
    /// <paramref name="maxSteps"/> difference and, when exact is required, identical bytes. Returns the folded model.
    /// </summary>
    private Model AssertFolded(string what, Func<Model> build, int maxSteps, params string[] expectedOps)
    {
        var folded = build();
        PassPipeline.Optimize(folded);
        var ops = folded.Graph.Nodes.Select(n => n.OpType).ToArray();
        foreach (var op in expectedOps) Assert.True(ops.Contains(op), $"{what}: folded graph has {string.Join(", ", ops)}; expected {op}");
        int total = 0, equal = 0, worst = 0;
        foreach (var isa in IsaSupport.Available)
            for (int seed = 1; seed <= 3; seed++)
            {
                var literal = build();
                var inputs = new Dictionary<string, Tensor>();
                var rng = new Random(seed);
                foreach (var v in literal.Graph.Inputs)
                {
                    var t = Tensor.Zeros(DataType.Float32, v.Shape!.Select(d => (int)d.Value).ToArray());
                    foreach (ref float f in t.AsSpan<float>()) f = (float)(rng.NextDouble() * 5 - 2.5);
                    inputs[v.Name] = t;
                }
                var expected = new Session(literal, new SessionOptions { Isa = isa }).Run(inputs);
                var actual = new Session(folded, new SessionOptions { Isa = isa }).Run(inputs);
                for (int o = 0; o < expected.Length; o++)
                {
                    Assert.Equal(expected[o].Dims, actual[o].Dims);
                    Assert.Equal(expected[o].DataType, actual[o].DataType);
                    for (int i = 0; i < expected[o].ElementCount; i++)
                    {
                        int d = (int)Math.Abs(expected[o].GetAsDouble(i) - actual[o].GetAsDouble(i));
                        total++;
                        if (d == 0) equal++;
                        worst = Math.Max(worst, d);
                    }
                }
            }
        output.WriteLine($"{what}: {equal}/{total} outputs identical ({100.0 * equal / total:F2}%), worst {worst} step(s); folded ops: {string.Join(" ", ops)}");
        Assert.True(worst <= maxSteps, $"{what}: folded output differs by {worst} steps from the literal QDQ chain (allowed {maxSteps})");
        return folded;
    }

    [Theory]
    [InlineData(1, 0, "relu", false)]
    [InlineData(1, 1, "clip", true)]
    [InlineData(8, 1, "", false)] // depthwise, stride 2
    [InlineData(2, 0, "", true)]  // grouped, per-tensor weight scale
    public void ConvFoldsIntoQLinearConv(int group, int stride, string activation, bool signedOutput)
    {
        Model Build()
        {
            var b = new GraphBuilder();
            var x = Qdq(b, b.Input("x", 1, 8, 9, 11), InScale, InZero);
            var w = Weight(b, 3, [group == 8 ? 8 : 6, 8 / group, 3, 3], 0, perChannel: group != 2);
            int m = group == 8 ? 8 : 6;
            var conv = b.Op("Conv", [x, w, Bias(b, w, m, 5)],
                IR.Attribute.Of("group", (long)group), IR.Attribute.Of("pads", new long[] { 1, 0, 1, 2 }), IR.Attribute.Of("strides", new long[] { 1 + stride, 1 + stride }));
            if (activation == "relu") conv = b.Op("Relu", conv);
            if (activation == "clip") conv = b.Op("Clip", conv, b.Scalar(0), b.Scalar(6));
            return b.Model(Quantize(b, conv, 0.05f, signedOutput ? -3 : 100, signedOutput));
        }
        var m = AssertFolded($"conv group {group} {activation}", Build, 1, "QLinearConv");
        Assert.DoesNotContain(m.Graph.Nodes, n => n.OpType is "Conv" or "DequantizeLinear" or "Relu" or "Clip");
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)] // float logits: QGemm with a dequantized output
    public void GemmFoldsIntoQGemm(bool transB, bool quantizedOutput)
    {
        Model Build()
        {
            var b = new GraphBuilder();
            var x = Qdq(b, b.Input("x", 3, 40), InScale, InZero);
            var w = Weight(b, 4, transB ? [24, 40] : [40, 24], transB ? 0 : 1);
            var y = b.Op("Gemm", [x, w, Bias(b, w, 24, 6)], IR.Attribute.Of("transB", transB ? 1L : 0L));
            return b.Model(quantizedOutput ? Quantize(b, b.Op("Relu", y), 0.04f, 0) : y);
        }
        if (quantizedOutput) AssertFolded($"gemm transB={transB}", Build, 1, "QGemm");
        else
        {
            // float output: compare within one accumulator-scale step of float rounding
            var folded = Build();
            PassPipeline.Optimize(folded);
            Assert.Contains(folded.Graph.Nodes, n => n.OpType == "QGemm");
            var inputs = new Dictionary<string, Tensor> { ["x"] = RealModels.Parity.Random([3, 40], 9, -2.5f, 2.5f) };
            var expected = new Session(Build()).Run(inputs)[0].ToFloatArray();
            var actual = new Session(folded).Run(inputs)[0].ToFloatArray();
            for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4f * Math.Max(1, Math.Abs(expected[i])), $"[{i}] {actual[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void MatMulFoldsIntoQLinearMatMul() =>
        AssertFolded("matmul", () =>
        {
            var b = new GraphBuilder();
            var x = Qdq(b, b.Input("x", 2, 5, 33), InScale, InZero);
            return b.Model(Quantize(b, b.Op("MatMul", x, Weight(b, 8, [33, 17], 1)), 0.03f, 128));
        }, 1, "QLinearMatMul");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AddFoldsIntoQAddBitExact(bool relu) =>
        AssertFolded($"add relu={relu}", () =>
        {
            var b = new GraphBuilder();
            var x = Qdq(b, b.Input("x", 1, 4, 7, 9), InScale, InZero);
            var y = Qdq(b, b.Input("y", 1, 4, 7, 9), 0.031f, 7, signed: true);
            var sum = b.Op("Add", x, y);
            if (relu) sum = b.Op("Relu", sum);
            return b.Model(Quantize(b, sum, 0.045f, 90));
        }, 0, "QAdd");

    [Fact]
    public void GlobalAveragePoolFoldsWithinOneStep() =>
        AssertFolded("global average pool", () =>
        {
            var b = new GraphBuilder();
            var x = Qdq(b, b.Input("x", 2, 5, 7, 6), InScale, InZero);
            return b.Model(Quantize(b, b.Op("GlobalAveragePool", x), 0.004f, 128));
        }, 1, "QGlobalAveragePool");

    [Theory]
    [InlineData(true)]
    [InlineData(false)] // different output parameters: a requantizing table follows
    public void MaxPoolAndFlattenRunOnQuantizedDataBitExact(bool sameParameters) =>
        AssertFolded($"maxpool+flatten same={sameParameters}", () =>
        {
            var b = new GraphBuilder();
            var x = Qdq(b, b.Input("x", 1, 3, 8, 8), InScale, InZero);
            var pooled = b.Op("MaxPool", [x], IR.Attribute.Of("kernel_shape", new long[] { 3, 3 }), IR.Attribute.Of("strides", new long[] { 2, 2 }));
            var q = Qdq(b, pooled, sameParameters ? InScale : 0.03f, sameParameters ? InZero : 100);
            return b.Model(Quantize(b, b.Op("Flatten", q), sameParameters ? InScale : 0.03f, sameParameters ? InZero : 100));
        }, 0, "QMaxPool", "Flatten");

    [Fact]
    public void PaddedCeilModeMaxPoolFoldsBitExact() =>
        AssertFolded("maxpool pads ceil_mode", () =>
        {
            var b = new GraphBuilder();
            var x = Qdq(b, b.Input("x", 2, 3, 11, 9), InScale, InZero);
            var pooled = b.Op("MaxPool", [x], IR.Attribute.Of("kernel_shape", new long[] { 3, 2 }), IR.Attribute.Of("strides", new long[] { 2, 2 }),
                IR.Attribute.Of("pads", new long[] { 1, 1, 1, 0 }), IR.Attribute.Of("ceil_mode", 1L));
            return b.Model(Quantize(b, pooled, InScale, InZero));
        }, 0, "QMaxPool");

    [Fact]
    public void ConcatOfDifferentScalesRequantizesBitExact() =>
        AssertFolded("concat", () =>
        {
            var b = new GraphBuilder();
            var x = Qdq(b, b.Input("x", 1, 3, 4), InScale, InZero);
            var y = Qdq(b, b.Input("y", 1, 2, 4), 0.05f, 10);
            return b.Model(Quantize(b, b.Op("Concat", [x, y], IR.Attribute.Of("axis", 1L)), InScale, InZero));
        }, 0, "Concat", "QLookup");

    [Theory]
    [InlineData("Relu", 0)]
    [InlineData("LeakyRelu", 0)]
    [InlineData("HardSigmoid", 0)]
    [InlineData("Sigmoid", 1)]
    [InlineData("Tanh", 1)]
    public void ActivationsBecomeLookupTables(string activation, int maxSteps) =>
        AssertFolded(activation, () =>
        {
            var b = new GraphBuilder();
            var x = Qdq(b, b.Input("x", 1, 300), InScale, InZero);
            return b.Model(Quantize(b, b.Op(activation, x), 0.004f, 128));
        }, maxSteps, "QLookup");

    [Fact]
    public void OpsThatCannotFoldStayFloatAndCorrect()
    {
        // Softmax between DQ and Q is not folded: it runs in float between the (kept) DequantizeLinear and QuantizeLinear
        var m = AssertFolded("softmax", () =>
        {
            var b = new GraphBuilder();
            var x = Qdq(b, b.Input("x", 2, 10), InScale, InZero);
            return b.Model(Quantize(b, b.Op("Softmax", x), 1f / 256, 0));
        }, 0, "Softmax", "DequantizeLinear");
        Assert.Contains(m.Graph.Nodes, n => n.OpType == "QuantizeLinear");
    }

    /// <summary>
    /// Float-output folds: the folded graph against the literal chain on every ISA, within float rounding (the exact
    /// integer sum times one rounded scale against a float sum of rounded products): |Δ| ≤ 1e-5 · the output's range.
    /// </summary>
    private Model AssertFoldedFloat(string what, Func<Model> build, params string[] expectedOps)
    {
        var folded = build();
        PassPipeline.Optimize(folded);
        var ops = folded.Graph.Nodes.Select(n => n.OpType).ToArray();
        foreach (var op in expectedOps) Assert.True(ops.Contains(op), $"{what}: folded graph has {string.Join(", ", ops)}; expected {op}");
        double worst = 0;
        foreach (var isa in IsaSupport.Available)
            for (int seed = 1; seed <= 3; seed++)
            {
                var literal = build();
                var v = literal.Graph.Inputs[0];
                var inputs = new Dictionary<string, Tensor> { [v.Name] = RealModels.Parity.Random(v.Shape!.Select(d => (int)d.Value).ToArray(), seed, -2.5f, 2.5f) };
                var expected = new Session(literal, new SessionOptions { Isa = isa }).Run(inputs)[0];
                var actual = new Session(folded, new SessionOptions { Isa = isa }).Run(inputs)[0];
                Assert.Equal(DataType.Float32, actual.DataType);
                Assert.Equal(expected.Dims, actual.Dims);
                var e = expected.ToFloatArray();
                var a = actual.ToFloatArray();
                float range = Math.Max(1e-3f, e.Max(Math.Abs));
                for (int i = 0; i < e.Length; i++)
                {
                    worst = Math.Max(worst, Math.Abs(e[i] - a[i]) / range);
                    Assert.True(Math.Abs(e[i] - a[i]) <= 1e-5f * range, $"{what} {isa} seed {seed} [{i}]: folded {a[i]} vs literal {e[i]}");
                }
            }
        output.WriteLine($"{what}: worst |Δ| / range {worst:E2}; folded ops: {string.Join(" ", ops)}");
        return folded;
    }

    [Theory]
    [InlineData(1, 0, "", true)]
    [InlineData(1, 1, "relu", true)]
    [InlineData(8, 1, "clip", true)] // depthwise, stride 2
    [InlineData(2, 0, "", false)]    // grouped, per-tensor weight scale, no bias
    public void FloatOutputConvFoldsIntoQConv(int group, int stride, string activation, bool bias)
    {
        Model Build()
        {
            var b = new GraphBuilder();
            var x = Qdq(b, b.Input("x", 1, 8, 9, 11), InScale, InZero);
            int m = group == 8 ? 8 : 6;
            var w = Weight(b, 7, [m, 8 / group, 3, 3], 0, perChannel: group != 2);
            Value[] inputs = bias ? [x, w, Bias(b, w, m, 5)] : [x, w];
            var conv = b.Op("Conv", inputs,
                IR.Attribute.Of("group", (long)group), IR.Attribute.Of("pads", new long[] { 1, 0, 1, 2 }), IR.Attribute.Of("strides", new long[] { 1 + stride, 1 + stride }));
            if (activation == "relu") conv = b.Op("Relu", conv);
            if (activation == "clip") conv = b.Op("Clip", conv, b.Scalar(0), b.Scalar(0.5f));
            return b.Model(b.Op("Sigmoid", conv)); // a float consumer: no QuantizeLinear after the Conv
        }
        var m = AssertFoldedFloat($"float conv group {group} {activation}", Build, "QConv");
        Assert.DoesNotContain(m.Graph.Nodes, n => n.OpType is "Conv" or "DequantizeLinear" or "Relu" or "Clip");
        Assert.True(m.Graph.Nodes.Single(n => n.OpType == "QConv").Inputs[3]!.Constant!.DataType == DataType.Int8, "the weights stay int8");
    }

    [Fact]
    public void FloatOutputMatMulFoldsIntoQGemm()
    {
        var m = AssertFoldedFloat("float matmul", () =>
        {
            var b = new GraphBuilder();
            var x = Qdq(b, b.Input("x", 2, 5, 33), InScale, InZero);
            return b.Model(b.Op("Sigmoid", b.Op("MatMul", x, Weight(b, 8, [33, 17], 1))));
        }, "QGemm");
        Assert.DoesNotContain(m.Graph.Nodes, n => n.OpType is "MatMul" or "DequantizeLinear");
    }

    [Fact]
    public void ConvWithFloatWeightsIsLeftAlone()
    {
        var b = new GraphBuilder();
        var x = Qdq(b, b.Input("x", 1, 2, 5, 5), InScale, InZero);
        var m = b.Model(Quantize(b, b.Op("Conv", x, b.Random(2, 3, 2, 3, 3)), 0.05f, 128));
        PassPipeline.Optimize(m);
        Assert.Contains(m.Graph.Nodes, n => n.OpType == "Conv");
        Assert.DoesNotContain(m.Graph.Nodes, n => n.OpType == "QLinearConv");
    }
}
