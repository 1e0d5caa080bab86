using EdgeNet.Execution;
using EdgeNet.Format;
using EdgeNet.IR;
using EdgeNet.Onnx;
using EdgeNet.Onnx.Proto;
using EdgeNet.Onnx.Quantization;
using Xunit.Abstractions;

namespace EdgeNet.Tests.Quantization;

/// <summary>Weight rounding for the layer's output (<see cref="HessianRounding"/>) and the input statistics it uses (<see cref="WeightHessians"/>).</summary>
public class HessianRoundingTests(ITestOutputHelper output)
{
    /// <summary>
    /// Correlated inputs (an AR(1) signal, as audio frames are): rounding for the output leaves much less output error
    /// than nearest rounding, every value is int8 × the channel's scale with ±127 reached (so the .enet writer stores
    /// it as int8), and exact zeros stay zero. Both layouts: rows along axis 0 ([N, K], Conv / Gemm transB) and axis 1
    /// ([K, N], MatMul).
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void RoundingForTheOutputLeavesLessOutputErrorThanNearest(int axis)
    {
        const int k = 96, n = 12, vectors = 2000;
        var rng = new Random(7);
        var x = new double[vectors * k];
        for (int v = 0; v < vectors; v++)
        {
            double s = 0;
            for (int i = 0; i < k; i++) x[v * k + i] = s = 0.95 * s + Gaussian(rng);
        }
        var h = new double[k * k];
        for (int v = 0; v < vectors; v++)
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++) h[i * k + j] += x[v * k + i] * x[v * k + j] / vectors;
        // weights: channel c, input i at [c, i] (axis 0) or [i, c] (axis 1); a few exact zeros
        int[] dims = axis == 0 ? [n, k] : [k, n];
        var w = new float[n * k];
        for (int c = 0; c < n; c++)
            for (int i = 0; i < k; i++)
                w[axis == 0 ? c * k + i : i * n + c] = i % 11 == 3 ? 0f : (float)(Gaussian(rng) * (1 + c));
        var hessian = axis == 0 ? new WeightHessian(n, k, k, 1, 1, [h], vectors) : new WeightHessian(n, k, 1, n, 1, [h], vectors);

        var rounded = HessianRounding.RoundInt8(w, dims, axis, hessian);
        Assert.NotNull(rounded);
        var nearest = WeightStorage.RoundInt8(w, dims, axis);
        double Error(float[] q)
        {
            double e = 0;
            for (int v = 0; v < vectors; v++)
                for (int c = 0; c < n; c++)
                {
                    double d = 0;
                    for (int i = 0; i < k; i++) { int at = axis == 0 ? c * k + i : i * n + c; d += x[v * k + i] * ((double)w[at] - q[at]); }
                    e += d * d;
                }
            return e;
        }
        double hessianError = Error(rounded), nearestError = Error(nearest);
        output.WriteLine($"output error: {hessianError / nearestError:F3} of nearest rounding's");
        Assert.True(hessianError < 0.5 * nearestError, $"output error {hessianError:G4} with rounding for the output, {nearestError:G4} nearest");

        for (int c = 0; c < n; c++)
        {
            float top = 0;
            for (int i = 0; i < k; i++) top = Math.Max(top, Math.Abs(nearest[axis == 0 ? c * k + i : i * n + c]));
            float scale = top / 127f;
            bool reached = false;
            for (int i = 0; i < k; i++)
            {
                int at = axis == 0 ? c * k + i : i * n + c;
                float q = MathF.Round(rounded[at] / scale);
                Assert.True(Math.Abs(q) <= 127 && WeightStorage.Decode((sbyte)q, scale) == rounded[at], $"channel {c} input {i}: {rounded[at]} is not int8 × {scale}");
                reached |= Math.Abs(q) == 127;
                if (w[at] == 0) Assert.Equal(0f, rounded[at]);
            }
            Assert.True(reached, $"channel {c} never reaches ±127");
        }
        Assert.NotNull(WeightStorage.TryInt8(rounded, dims));
    }

    /// <summary>H that cannot be factored (a NaN input) leaves the caller to round to nearest.</summary>
    [Fact]
    public void ANonFiniteSecondMomentGivesNoRounding()
    {
        var h = new double[] { 1, 0, 0, double.NaN };
        Assert.Null(HessianRounding.RoundInt8([1f, 2f, 3f, 4f], [2, 2], 0, new WeightHessian(2, 2, 2, 1, 1, [h], 1)));
    }

    /// <summary>
    /// The second moments of a grouped, strided, padded, dilated Conv and of a MatMul after it, against the layers'
    /// own outputs: wᵀ H w for an output channel's weight row w is the mean square of that channel's output (every
    /// position is used: the model is small).
    /// </summary>
    [Fact]
    public void SecondMomentsMatchTheLayersOutputs()
    {
        const int cin = 4, cout = 6, groups = 2, hw = 9;
        var rng = new Random(3);
        var convW = Tensor.FromArray([cout, cin / groups, 3, 2], Enumerable.Range(0, cout * cin / groups * 6).Select(_ => (float)Gaussian(rng)).ToArray());
        int outH = (hw + 1 + 2 - 2 * 2 - 1) / 2 + 1, outW = (hw + 0 + 1 - 1 - 1) / 1 + 1; // pads (1, 0, 2, 1), strides (2, 1), dilations (2, 1)
        int features = cout * outH * outW;
        var matW = Tensor.FromArray([outW, 5], Enumerable.Range(0, outW * 5).Select(_ => (float)Gaussian(rng)).ToArray());
        var g = new GraphProto { Name = "g" };
        g.Input.Add(new ValueInfoProto { Name = "x", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = Shape(1, cin, hw, hw) } } });
        g.Output.Add(new ValueInfoProto { Name = "y" });
        g.Initializer.Add(TensorProtoConverter.ToProto("w", convW));
        g.Initializer.Add(TensorProtoConverter.ToProto("m", matW));
        var conv = new NodeProto { OpType = "Conv", Name = "conv", Input = { "x", "w" }, Output = { "c" } };
        conv.Attribute.Add(new AttributeProto { Name = "group", Type = AttributeProto.Types.AttributeType.Int, I = groups });
        conv.Attribute.Add(Ints("pads", 1, 0, 2, 1));
        conv.Attribute.Add(Ints("strides", 2, 1));
        conv.Attribute.Add(Ints("dilations", 2, 1));
        g.Node.Add(conv);
        g.Node.Add(new NodeProto { OpType = "MatMul", Name = "mm", Input = { "c", "m" }, Output = { "y" } });
        var model = new ModelProto { IrVersion = 8, Graph = g, OpsetImport = { new OperatorSetIdProto { Domain = "", Version = 13 } } };
        var samples = Enumerable.Range(0, 3).Select(_ => new Dictionary<string, Tensor>
            { ["x"] = Tensor.FromArray([1, cin, hw, hw], Enumerable.Range(0, cin * hw * hw).Select(_ => (float)Gaussian(rng)).ToArray()) }).ToList();
        var layers = new List<QuantizableLayer>
        {
            new("conv", "Conv", "x", "w", 0, null, "c", null),
            new("mm", "MatMul", "c", "m", 1, null, "y", null),
        };

        var hessians = WeightHessians.Collect(model, layers, samples);

        var graph = OnnxImporter.FromProto(model);
        var options = new SessionOptions { AllowInPlace = false };
        options.KeepAlive.Add("c");
        var session = new Session(graph, options);
        var c = graph.Graph.Values["c"];
        var convOut = new double[cout];
        var matOut = new double[5];
        int matRows = 0;
        foreach (var s in samples)
        {
            var y = session.Run(s)[0].ToFloatArray();
            var cValues = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(session.Plan.MemoryOf(c).Span)[..features].ToArray();
            for (int o = 0; o < cout; o++)
                for (int p = 0; p < outH * outW; p++) convOut[o] += (double)cValues[o * outH * outW + p] * cValues[o * outH * outW + p];
            for (int i = 0; i < y.Length; i++) matOut[i % 5] += (double)y[i] * y[i];
            matRows += y.Length / 5;
        }
        var hc = hessians["w"];
        Assert.Equal((cout, cin / groups * 6, groups, samples.Count * outH * outW), (hc.Rows, hc.K, hc.Groups, hc.Vectors));
        var wv = convW.ToFloatArray();
        for (int o = 0; o < cout; o++)
        {
            double expected = convOut[o] / (samples.Count * outH * outW);
            Assert.Equal(expected, Quadratic(hc.H[o / (cout / groups)], wv.AsSpan(o * hc.K, hc.K), 1), expected * 1e-4);
        }
        var hm = hessians["m"];
        Assert.Equal((5, outW, matRows), (hm.Rows, hm.K, hm.Vectors));
        var mv = matW.ToFloatArray();
        for (int o = 0; o < 5; o++)
        {
            double expected = matOut[o] / matRows;
            Assert.Equal(expected, Quadratic(hm.H[0], mv.AsSpan(o), 5), expected * 1e-4);
        }
    }

    private static double Quadratic(double[] h, ReadOnlySpan<float> w, int stride)
    {
        int k = (int)Math.Sqrt(h.Length);
        double s = 0;
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) s += w[i * stride] * h[i * k + j] * w[j * stride];
        return s;
    }

    private static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.Add(values);
        return a;
    }

    private static TensorShapeProto Shape(params long[] dims)
    {
        var s = new TensorShapeProto();
        foreach (var d in dims) s.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return s;
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
