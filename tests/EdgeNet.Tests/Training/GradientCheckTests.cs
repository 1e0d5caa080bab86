using EdgeNet.IR;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Activation;
using EdgeNet.Training;
using EdgeNet.Training.Layers;
using EdgeNet.Training.Losses;
using Attribute = EdgeNet.IR.Attribute;

namespace EdgeNet.Tests.Training;

/// <summary>Every backward op against central finite differences (seeded data, float64 accumulation of the check's loss).</summary>
public class GradientCheckTests
{
    public static TheoryData<Isa> Isas() { var d = new TheoryData<Isa>(); foreach (var i in IsaSupport.Available) d.Add(i); return d; }

    /// <summary>Keeps inputs of non-smooth ops away from their kinks so ±ε never crosses one.</summary>
    private static float AwayFrom(float x, params float[] kinks)
    {
        foreach (float k in kinks) if (MathF.Abs(x - k) < 0.05f) return k + (x < k ? -0.05f : 0.05f);
        return x;
    }

    [Theory, MemberData(nameof(Isas))]
    public void GemmTransposedWeightsWithBias(Isa isa)
    {
        var b = new GraphBuilder();
        var y = b.Op("Gemm", [b.X, b.Const([7, 13]), b.Const([7])], Attribute.Of("transB", 1L));
        GradientCheck.Run(b.Trainable(y, [13], 5, isa), 5, seed: 1);
    }

    [Theory, MemberData(nameof(Isas))]
    public void GemmRowMajorWeightsLargeEnoughForFullPanels(Isa isa)
    {
        var b = new GraphBuilder(2);
        var y = b.Op("Gemm", [b.X, b.Const([37, 40], 0.3f), b.Const([1, 40])]);
        GradientCheck.Run(b.Trainable(y, [37], 9, isa), 9, seed: 2);
    }

    [Theory, MemberData(nameof(Isas))]
    public void MatMulPlusAddTrainsTheBiasToo(Isa isa)
    {
        var b = new GraphBuilder(3);
        var mm = b.Op("MatMul", [b.X, b.Const([11, 6])]);
        var y = b.Op("Add", [mm, b.Const([6])]);
        var g = b.Trainable(y, [11], 4, isa);
        Assert.Equal(2, g.Parameters.Count);
        GradientCheck.Run(g, 4, seed: 3);
    }

    [Fact]
    public void MatMulOverASequenceOfRows()
    {
        var b = new GraphBuilder(4);
        var y = b.Op("MatMul", [b.X, b.Const([8, 5])]);
        GradientCheck.Run(b.Trainable(y, [3, 8], 2), 2, seed: 4);
    }

    [Theory]
    [InlineData("Tanh")]
    [InlineData("Sigmoid")]
    [InlineData("HardSwish")]
    [InlineData("Relu")]
    public void GemmWithFusedActivation(string kind)
    {
        var b = new GraphBuilder(5);
        var y = b.Op("Gemm", [b.X, b.Const([9, 6]), b.Const([9])], Attribute.Of("transB", 1L));
        new FusedActivation(Enum.Parse<ActivationKind>(kind)).WriteTo(b.NodeOf(y));
        // a layer's pre-activations are not the input, so kinks can't be steered; a small ε keeps crossings unlikely
        GradientCheck.Run(b.Trainable(y, [6], 3), 3, seed: 5, epsilon: kind is "Relu" or "HardSwish" ? 1e-4 : 1e-3, tolerance: 2e-2);
    }

    /// <summary>A fused LeakyRelu then Max(·, floor) (openWakeWord's layers after FuseActivation).</summary>
    [Fact]
    public void GemmWithFusedLeakyReluFloor()
    {
        var b = new GraphBuilder(5);
        var y = b.Op("Gemm", [b.X, b.Const([9, 6]), b.Const([9])], Attribute.Of("transB", 1L));
        new FusedActivation(ActivationKind.LeakyReluFloor, 0.3f, -0.05f).WriteTo(b.NodeOf(y));
        GradientCheck.Run(b.Trainable(y, [6], 3), 3, seed: 5, epsilon: 1e-4, tolerance: 2e-2);
    }

    [Theory]
    [InlineData("Relu", 0f, 0f)]
    [InlineData("LeakyRelu", 0f, 0f)]
    [InlineData("Sigmoid", 0f, 0f)]
    [InlineData("Tanh", 0f, 0f)]
    [InlineData("HardSwish", 0f, 0f)]
    [InlineData("HardSigmoid", 0f, 0f)]
    [InlineData("Clip", 0f, 6f)]
    [InlineData("Clip", -1f, 1.5f)]
    public void Activation(string op, float min, float max)
    {
        var b = new GraphBuilder(6);
        Value y = op switch
        {
            "Clip" => b.Op("Clip", [b.X, b.Const([], [min]), b.Const([], [max])]),
            "LeakyRelu" => b.Op("LeakyRelu", [b.X], Attribute.Of("alpha", 0.1f)),
            _ => b.Op(op, [b.X]),
        };
        GradientCheck.Run(b.Trainable(y, [4, 5], 3), 3, seed: 6, low: -7, high: 8,
            adjustInput: v => AwayFrom(v, 0, -3, 3, 6, -1, 1.5f, -2.5f, 2.5f));
    }

    [Fact]
    public void Relu6IsClipZeroSix()
    {
        var b = new GraphBuilder(7);
        var y = b.Op("Clip", [b.X], Attribute.Of("min", 0f), Attribute.Of("max", 6f));
        var g = b.Trainable(y, [10], 2);
        Assert.Equal(new FusedActivation(ActivationKind.Clip, 0, 6), ((ActivationLayer)g.Layers[0]).Activation);
        GradientCheck.Run(g, 2, seed: 7, low: -3, high: 9, adjustInput: v => AwayFrom(v, 0, 6));
    }

    [Fact]
    public void SoftmaxLayer()
    {
        var b = new GraphBuilder(8);
        var y = b.Op("Softmax", [b.X], Attribute.Of("axis", -1L));
        GradientCheck.Run(b.Trainable(y, [2, 7], 3), 3, seed: 8);
    }

    public static TheoryData<int, int, int, int, int, int, int, bool, string> ConvCases() => new()
    {
        // inC, outC, kernel, stride, pad, group, dilation, bias, activation
        { 3, 4, 3, 1, 1, 1, 1, true, "" },
        { 4, 6, 3, 2, 1, 2, 1, false, "" },
        { 5, 5, 3, 1, 1, 5, 1, true, "" },   // depthwise
        { 6, 12, 3, 2, 0, 6, 1, true, "" },  // depthwise with multiplier 2, stride 2, no padding
        { 3, 5, 1, 1, 0, 1, 1, true, "Tanh" },
        { 2, 3, 3, 1, 2, 1, 2, true, "" },   // dilation
        { 4, 4, 1, 1, 0, 1, 1, true, "HardSwish" },
    };

    [Theory, MemberData(nameof(ConvCases))]
    public void Conv(int inC, int outC, int kernel, int stride, int pad, int group, int dilation, bool bias, string activation)
    {
        foreach (var isa in IsaSupport.Available)
        {
            var b = new GraphBuilder(9);
            var w = b.Const([outC, inC / group, kernel, kernel], 0.5f);
            Value?[] inputs = bias ? [b.X, w, b.Const([outC])] : [b.X, w];
            var y = b.Op("Conv", inputs, Attribute.Of("kernel_shape", new long[] { kernel, kernel }), Attribute.Of("strides", new long[] { stride, stride }),
                Attribute.Of("pads", new long[] { pad, pad, pad, pad }), Attribute.Of("group", (long)group), Attribute.Of("dilations", new long[] { dilation, dilation }));
            if (activation.Length > 0) new FusedActivation(Enum.Parse<ActivationKind>(activation)).WriteTo(b.NodeOf(y));
            GradientCheck.Run(b.Trainable(y, [inC, 7, 6], 2, isa), 2, seed: 9, epsilon: activation == "HardSwish" ? 1e-4 : 1e-3, tolerance: 2e-2);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BatchNormalization(bool training)
    {
        var b = new GraphBuilder(10);
        var y = b.Op("BatchNormalization", [b.X, b.Const([3], 0.5f, 1), b.Const([3]), b.Const([3], 0.2f), b.Const([3], 0.3f, 1)], Attribute.Of("epsilon", 1e-3f));
        var g = b.Trainable(y, [3, 2, 2], 4, trainBatchNorm: training);
        GradientCheck.Run(g, 4, seed: 10, training: true);
    }

    [Fact]
    public void LayerNormalization()
    {
        var b = new GraphBuilder(11);
        var y = b.Op("LayerNormalization", [b.X, b.Const([8], 0.5f, 1), b.Const([8])], Attribute.Of("axis", -1L), Attribute.Of("epsilon", 1e-5f));
        GradientCheck.Run(b.Trainable(y, [2, 8], 3), 3, seed: 11);
    }

    [Fact]
    public void FlattenReshapeAndAHead()
    {
        var b = new GraphBuilder(12);
        var f = b.Op("Flatten", [b.X], Attribute.Of("axis", 1L));
        var r = b.Op("Reshape", [f, b.Const([3], [0, 2, -1])]);
        var flat = b.Op("Reshape", [r, b.Const([2], [1, -1])]);
        var y = b.Op("Gemm", [flat, b.Const([4, 12]), b.Const([4])], Attribute.Of("transB", 1L));
        var g = b.Trainable(y, [3, 2, 2], 3);
        Assert.Equal(new[] { 2, 6 }, g.Layers[1].Output.SampleShape);
        GradientCheck.Run(g, 3, seed: 12);
    }

    [Fact]
    public void GlobalAveragePool()
    {
        var b = new GraphBuilder(13);
        var y = b.Op("GlobalAveragePool", [b.X]);
        GradientCheck.Run(b.Trainable(y, [4, 3, 5], 2), 2, seed: 13);
    }

    [Theory]
    [InlineData("MaxPool", 2, 2, 0)]
    [InlineData("MaxPool", 3, 2, 1)]
    [InlineData("AveragePool", 3, 2, 1)]
    [InlineData("AveragePool", 2, 1, 0)]
    public void Pool(string op, int kernel, int stride, int pad)
    {
        var b = new GraphBuilder(14);
        var y = b.Op(op, [b.X], Attribute.Of("kernel_shape", new long[] { kernel, kernel }), Attribute.Of("strides", new long[] { stride, stride }),
            Attribute.Of("pads", new long[] { pad, pad, pad, pad }));
        // distinct values: no ties inside a max window
        GradientCheck.Run(b.Trainable(y, [2, 6, 5], 2), 2, seed: 14);
    }

    [Fact]
    public void ElementwiseWithBroadcastConstantsAndAValueUsedTwice()
    {
        var b = new GraphBuilder(15);
        var s = b.Op("Sigmoid", [b.X]);
        var swish = b.Op("Mul", [b.X, s]);                     // x used twice: contributions add up
        var scaled = b.Op("Mul", [swish, b.Const([3, 1, 1], 0.5f, 1)]); // per-channel scale
        var shifted = b.Op("Sub", [scaled, b.Const([1, 4], 0.5f)]);
        var divided = b.Op("Div", [shifted, b.Const([], [3f])]);
        var sum = b.Op("Add", [divided, b.X]);
        var ratio = b.Op("Div", [sum, b.Op("Add", [b.Op("Sigmoid", [b.X]), b.Const([], [1f])])]);
        GradientCheck.Run(b.Trainable(ratio, [3, 2, 4], 2), 2, seed: 15);
    }

    [Fact]
    public void TwoLayerPerceptronWithLayerNorm()
    {
        var b = new GraphBuilder(16);
        var h = b.Op("Gemm", [b.X, b.Const([16, 10], 0.4f), b.Const([16])], Attribute.Of("transB", 1L));
        var n = b.Op("LayerNormalization", [h, b.Const([16], 0.3f, 1), b.Const([16])], Attribute.Of("axis", -1L));
        var t = b.Op("Tanh", [n]);
        var y = b.Op("Gemm", [t, b.Const([3, 16], 0.4f), b.Const([3])], Attribute.Of("transB", 1L));
        var g = b.Trainable(y, [10], 6);
        Assert.Equal(6, g.Parameters.Count);
        GradientCheck.Run(g, 6, seed: 16);
    }

    [Fact]
    public void DropoutIsInvertedSeededAndIdentityInInference()
    {
        var b = new GraphBuilder(17);
        var y = b.Op("Dropout", [b.X], Attribute.Of("ratio", 0.25f));
        var g = b.Trainable(y, [4000], 1);
        var x = g.Input.Data(1);
        for (int i = 0; i < x.Length; i++) x[i] = 1 + i % 7;
        g.Forward(1, training: false);
        Assert.True(g.Output.Data(1).SequenceEqual(g.Input.Data(1)));
        g.Forward(1, training: true);
        var y1 = g.Output.Data(1).ToArray();
        int kept = 0;
        for (int i = 0; i < y1.Length; i++)
        {
            if (y1[i] == 0) continue;
            kept++;
            Assert.Equal(x[i] / 0.75f, y1[i], 5);
        }
        Assert.InRange(kept / 4000.0, 0.72, 0.78);
        // backward routes dy through the same mask
        var dy = g.Output.Grad(1);
        for (int i = 0; i < dy.Length; i++) dy[i] = 1;
        g.Backward(1);
        var dx = g.Input.Grad(1);
        for (int i = 0; i < dx.Length; i++) Assert.Equal(y1[i] == 0 ? 0 : 1 / 0.75f, dx[i], 5);
        // same seed, same masks
        var again = new GraphBuilder(17);
        var y2 = again.Op("Dropout", [again.X], Attribute.Of("ratio", 0.25f));
        var g2 = again.Trainable(y2, [4000], 1);
        g.Input.Data(1).CopyTo(g2.Input.Data(1));
        g2.Forward(1, training: true);
        Assert.True(g2.Output.Data(1).SequenceEqual(y1));
    }

    public static TheoryData<string, int> LossCases() => new() { { "ce", 5 }, { "bce", 1 }, { "bce", 4 }, { "mse", 3 } };

    [Theory, MemberData(nameof(LossCases))]
    public void Losses(string kind, int width)
    {
        Loss loss = kind switch { "ce" => new SoftmaxCrossEntropyLoss(), "bce" => new SigmoidBinaryCrossEntropyLoss(), _ => new MeanSquaredErrorLoss() };
        var random = new Random(18);
        const int batch = 4;
        var z = new float[batch * width];
        for (int i = 0; i < z.Length; i++) z[i] = random.NextSingle() * 6 - 3;
        var labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = random.Next(width == 1 ? 2 : width);
        var grad = new float[z.Length];
        loss.Compute(z, batch, width, labels, grad);
        var scratch = new float[z.Length];
        for (int i = 0; i < z.Length; i++)
        {
            float v = z[i];
            z[i] = v + 1e-3f; double plus = loss.Compute(z, batch, width, labels, scratch);
            z[i] = v - 1e-3f; double minus = loss.Compute(z, batch, width, labels, scratch);
            z[i] = v;
            Assert.Equal((plus - minus) / 2e-3, grad[i], 3);
        }
    }

    [Fact]
    public void SoftmaxCrossEntropyValue()
    {
        // −log softmax([1, 2, 3])[2] = log(e + e² + e³) − 3
        var grad = new float[3];
        double l = new SoftmaxCrossEntropyLoss().Compute([1, 2, 3], 1, 3, [2], grad);
        Assert.Equal(Math.Log(Math.E + Math.Exp(2) + Math.Exp(3)) - 3, l, 6);
    }
}
