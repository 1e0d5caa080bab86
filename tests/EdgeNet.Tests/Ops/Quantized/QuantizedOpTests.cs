using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels;
using EdgeNet.Ops.Quantized;

namespace EdgeNet.Tests.Ops.Quantized;

/// <summary>
/// The quantized ONNX ops against plain loops written from the ONNX spec (and the int8 contract's float32
/// requantization), on every ISA path; the vectorized element loops against their scalar forms over all lengths.
/// </summary>
public class QuantizedOpTests
{
    // ------------------------------------------------------------------ element-wise arithmetic

    [Fact]
    public void QuantizeRoundsHalfToEvenAndSaturates()
    {
        Assert.Equal(2, QuantizeMath.Quantize(2.5f, 1, 0, 0, 255));
        Assert.Equal(4, QuantizeMath.Quantize(3.5f, 1, 0, 0, 255));
        Assert.Equal(-2, QuantizeMath.Quantize(-2.5f, 1, 0, -128, 127));
        Assert.Equal(255, QuantizeMath.Quantize(1000f, 1, 0, 0, 255));
        Assert.Equal(-128, QuantizeMath.Quantize(-1000f, 1, 0, -128, 127));
        Assert.Equal(128 + 3, QuantizeMath.Quantize(0.3f, 0.1f, 128, 0, 255)); // 0.3 / 0.1 = 2.9999998 → 3
        Assert.Equal(0, QuantizeMath.Quantize(float.NaN, 1, 10, 0, 255));
    }

    public static TheoryData<int> Lengths
    {
        get
        {
            var data = new TheoryData<int>();
            for (int n = 0; n <= 70; n++) data.Add(n);
            data.Add(255);
            data.Add(1000);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void VectorQuantizeAndDequantizeEqualScalar(int n)
    {
        var rng = new Random(n);
        var x = new float[n];
        // half of the values sit exactly on ties of the scale 0.5 (k + 0.5 steps)
        for (int i = 0; i < n; i++) x[i] = i % 2 == 0 ? (rng.Next(-300, 300) + 0.5f) * 0.5f : (float)(rng.NextDouble() * 200 - 100);
        foreach (var (qmin, qmax, zp) in new[] { (0, 255, 7), (-128, 127, -5), (20, 200, 128) })
        {
            var vector = new byte[n];
            var scalar = new byte[n];
            QuantizeMath.Quantize(x, 0.5f, zp, qmin, qmax, vector, vector: true);
            QuantizeMath.Quantize(x, 0.5f, zp, qmin, qmax, scalar, vector: false);
            Assert.Equal(scalar, vector);
            for (int i = 0; i < n; i++) Assert.Equal((byte)QuantizeMath.Quantize(x[i], 0.5f, zp, qmin, qmax), scalar[i]);
        }
        var q = new byte[n];
        rng.NextBytes(q);
        var dv = new float[n];
        var ds = new float[n];
        QuantizeMath.Dequantize(q, 131, 0.37f, dv, vector: true);
        QuantizeMath.Dequantize(q, 131, 0.37f, ds, vector: false);
        Assert.Equal(ds, dv);
        var sq = Array.ConvertAll(q, b => (sbyte)b);
        QuantizeMath.Dequantize(sq, -7, 0.37f, dv, vector: true);
        QuantizeMath.Dequantize(sq, -7, 0.37f, ds, vector: false);
        Assert.Equal(ds, dv);
        for (int i = 0; i < n; i++) Assert.Equal((sq[i] + 7) * 0.37f, ds[i]);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void PlaneSumEqualsScalarSum(int n)
    {
        var rng = new Random(n + 300);
        foreach (int len in new[] { n, n + 3136 })
        {
            var q = new byte[len];
            rng.NextBytes(q);
            if (len > 0) q[0] = 255;
            Assert.Equal(q.Sum(v => (long)v), QGlobalAveragePoolOp.PlaneSum(q, signed: false));
            Assert.Equal(q.Sum(v => (long)(sbyte)v), QGlobalAveragePoolOp.PlaneSum(q, signed: true));
        }
    }

    [Fact]
    public void VectorQuantizeHandlesNaNInfinityAndHugeValues()
    {
        var x = new float[40];
        for (int i = 0; i < x.Length; i++) x[i] = (i % 5) switch { 0 => float.NaN, 1 => float.PositiveInfinity, 2 => float.NegativeInfinity, 3 => 3e9f, _ => -3e9f };
        foreach (var (qmin, qmax, zp) in new[] { (0, 255, 7), (-128, 127, -5), (20, 200, 128) })
        {
            var vector = new byte[x.Length];
            QuantizeMath.Quantize(x, 0.5f, zp, qmin, qmax, vector, vector: true);
            for (int i = 0; i < x.Length; i++) Assert.Equal((byte)QuantizeMath.Quantize(x[i], 0.5f, zp, qmin, qmax), vector[i]);
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void VectorQAddEqualsScalar(int n)
    {
        var rng = new Random(n + 100);
        var a = new byte[n];
        var b = new byte[n];
        rng.NextBytes(a);
        rng.NextBytes(b);
        foreach (var (aSigned, bSigned, qmin, qmax) in new[] { (false, false, 0, 255), (true, false, 30, 255), (true, true, -128, 127), (false, true, -128, 100) })
            // 1e-30 saturates every sum, 0 makes ±infinity and NaN (0 / 0): both forms clamp them alike
            foreach (float sy in new[] { 0.05f, 1e-30f, 0f })
            {
                var vector = new byte[n];
                var scalar = new byte[n];
                QAddOp.Run(a, aSigned, 3, 0.021f, b, bSigned, -2, 0.034f, vector, sy, qmin < 0 ? 1 : 120, qmin, qmax, vector: true);
                QAddOp.Run(a, aSigned, 3, 0.021f, b, bSigned, -2, 0.034f, scalar, sy, qmin < 0 ? 1 : 120, qmin, qmax, vector: false);
                Assert.Equal(scalar, vector);
            }
    }

    // ------------------------------------------------------------------ QLinearConv / QLinearMatMul through a session

    private static Value Input(IR.Graph g, string name, DataType type, int[] dims)
    {
        var v = g.GetOrAddValue(name);
        v.DataType = type;
        v.Shape = Array.ConvertAll(dims, d => Dim.Known(d));
        g.Inputs.Add(v);
        return v;
    }

    private static Model Single(string opType, Value?[] inputs, IR.Graph g, params IR.Attribute[] attributes)
    {
        var n = new Node { OpType = opType, Name = "n", OpsetVersion = 13 };
        n.Inputs.AddRange(inputs);
        foreach (var a in attributes) n.SetAttribute(a);
        var y = g.GetOrAddValue("y");
        n.Outputs.Add(y);
        y.Producer = n;
        g.Nodes.Add(n);
        g.Outputs.Add(y);
        var m = new Model { Graph = g };
        m.Opsets[""] = 13;
        return m;
    }

    private static Tensor RandomBytes(int[] dims, bool signed, Random rng)
    {
        var data = new byte[Shapes.Count(dims)];
        rng.NextBytes(data);
        return signed ? Tensor.FromArray(dims, Array.ConvertAll(data, b => (sbyte)b)) : Tensor.FromArray(dims, data);
    }

    private static int Raw(Tensor t, int i) => t.DataType == DataType.Int8 ? t.AsSpan<sbyte>()[i] : t.AsSpan<byte>()[i];

    /// <summary>The contract's requantization: clamp(round_half_even((float)acc · (float)(sx·sw/sy)) + zp).</summary>
    private static int Requantize(int acc, float sx, float sw, float sy, int zp, bool signed)
    {
        float m = sx * sw / sy;
        float r = MathF.Round(acc * m) + zp;
        return (int)Math.Clamp(r, signed ? -128 : 0, signed ? 127 : 255);
    }

    public static TheoryData<int, int, int, int, bool, bool, bool> ConvCases => new()
    {
        // channels, filters, group, stride, x signed, w per channel, weights constant
        { 3, 5, 1, 1, false, true, true },
        { 3, 5, 1, 2, true, false, true },
        { 6, 6, 6, 1, false, true, true },   // depthwise
        { 6, 12, 6, 2, true, true, true },   // depthwise, multiplier 2
        { 4, 6, 2, 1, false, true, false },  // grouped, runtime weights (reference path)
        { 8, 16, 1, 1, false, true, true },  // 1x1 handled below by kernel 1
    };

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void QLinearConvMatchesTheSpecOnEveryIsa(int channels, int filters, int group, int stride, bool xSigned, bool perChannel, bool constantWeights)
    {
        var rng = new Random(channels * 31 + filters + group + stride);
        int k = channels == 8 ? 1 : 3, h = 7, w = 6, pad = k == 1 ? 0 : 1;
        var x = RandomBytes([2, channels, h, w], xSigned, rng);
        var wt = RandomBytes([filters, channels / group, k, k], signed: true, rng);
        var ws = Enumerable.Range(0, perChannel ? filters : 1).Select(_ => 0.001f + 0.004f * (float)rng.NextDouble()).ToArray();
        var wz = new sbyte[ws.Length];
        for (int i = 0; i < wz.Length; i++) wz[i] = (sbyte)rng.Next(-5, 5);
        var bias = Enumerable.Range(0, filters).Select(_ => rng.Next(-5000, 5000)).ToArray();
        float xs = 0.03f, ys = 0.2f;
        int xz = xSigned ? -3 : 131, yz = 77;
        int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;

        var expected = new byte[2 * filters * oh * ow];
        int cg = channels / group, mg = filters / group;
        for (int n = 0; n < 2; n++)
            for (int m = 0; m < filters; m++)
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        int acc = bias[m], g = m / mg;
                        for (int c = 0; c < cg; c++)
                            for (int p = 0; p < k; p++)
                                for (int q = 0; q < k; q++)
                                {
                                    int ih = i * stride - pad + p, iw = j * stride - pad + q;
                                    if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                                    int xv = Raw(x, ((n * channels + g * cg + c) * h + ih) * w + iw);
                                    int wv = Raw(wt, ((m * cg + c) * k + p) * k + q);
                                    acc += (xv - xz) * (wv - wz[perChannel ? m : 0]);
                                }
                        expected[((n * filters + m) * oh + i) * ow + j] = (byte)Requantize(acc, xs, ws[perChannel ? m : 0], ys, yz, signed: false);
                    }

        foreach (var isa in IsaSupport.Available)
        {
            var g = new IR.Graph();
            var xv = Input(g, "x", x.DataType, x.Dims);
            var wv = constantWeights ? g.AddConstant("w", wt) : Input(g, "w", DataType.Int8, wt.Dims);
            var model = Single("QLinearConv", [
                xv, g.AddConstant("xs", Tensor.Scalar(xs)), g.AddConstant("xz", xSigned ? Tensor.Scalar((sbyte)xz) : Tensor.Scalar((byte)xz)),
                wv, g.AddConstant("ws", perChannel ? Tensor.FromArray([filters], ws) : Tensor.Scalar(ws[0])),
                g.AddConstant("wz", perChannel ? Tensor.FromArray([filters], wz) : Tensor.Scalar(wz[0])),
                g.AddConstant("ys", Tensor.Scalar(ys)), g.AddConstant("yz", Tensor.Scalar((byte)yz)), g.AddConstant("b", Tensor.FromArray([filters], bias))],
                g, IR.Attribute.Of("group", (long)group), IR.Attribute.Of("strides", new long[] { stride, stride }), IR.Attribute.Of("pads", new long[] { pad, pad, pad, pad }));
            var feeds = new Dictionary<string, Tensor> { ["x"] = x };
            if (!constantWeights) feeds["w"] = wt;
            var y = new Session(model, new SessionOptions { Isa = isa, Threads = 2 }).Run(feeds)[0];
            Assert.Equal([2, filters, oh, ow], y.Dims);
            Assert.True(expected.AsSpan().SequenceEqual(y.AsSpan<byte>()), $"{isa}: QLinearConv differs from the spec loop");
        }
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void MatMulIntegerAndQLinearMatMulMatchTheSpec(bool constantB, bool signedA)
    {
        var rng = new Random(constantB ? 1 : 2);
        int m = 5, k = 37, n = 19;
        var a = RandomBytes([2, 3, m, k], signedA, rng);
        var b = RandomBytes([k, n], signed: false, rng);
        var bz = Enumerable.Range(0, n).Select(_ => (byte)rng.Next(100, 150)).ToArray();
        int az = signedA ? 4 : 128;
        var acc = new int[2 * 3 * m * n];
        for (int t = 0; t < 6; t++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    int s = 0;
                    for (int p = 0; p < k; p++) s += (Raw(a, (t * m + i) * k + p) - az) * (b.AsSpan<byte>()[p * n + j] - bz[j]);
                    acc[(t * m + i) * n + j] = s;
                }
        foreach (var isa in IsaSupport.Available)
        {
            var g = new IR.Graph();
            var av = Input(g, "a", a.DataType, a.Dims);
            var bv = constantB ? g.AddConstant("b", b) : Input(g, "b", DataType.UInt8, b.Dims);
            var azv = g.AddConstant("az", signedA ? Tensor.Scalar((sbyte)az) : Tensor.Scalar((byte)az));
            var model = Single("MatMulInteger", [av, bv, azv, g.AddConstant("bz", Tensor.FromArray([n], bz))], g);
            var feeds = new Dictionary<string, Tensor> { ["a"] = a };
            if (!constantB) feeds["b"] = b;
            var y = new Session(model, new SessionOptions { Isa = isa }).Run(feeds)[0];
            Assert.Equal(acc, y.AsSpan<int>().ToArray());

            var g2 = new IR.Graph();
            var av2 = Input(g2, "a", a.DataType, a.Dims);
            var bv2 = constantB ? g2.AddConstant("b", b) : Input(g2, "b", DataType.UInt8, b.Dims);
            var q = Single("QLinearMatMul", [av2, g2.AddConstant("as", Tensor.Scalar(0.05f)), g2.AddConstant("az", signedA ? Tensor.Scalar((sbyte)az) : Tensor.Scalar((byte)az)),
                bv2, g2.AddConstant("bs", Tensor.Scalar(0.01f)), g2.AddConstant("bz", Tensor.FromArray([n], bz)),
                g2.AddConstant("ys", Tensor.Scalar(0.7f)), g2.AddConstant("yz", Tensor.Scalar((sbyte)-10))], g2);
            var yq = new Session(q, new SessionOptions { Isa = isa }).Run(feeds)[0];
            Assert.Equal(DataType.Int8, yq.DataType);
            for (int i = 0; i < acc.Length; i++) Assert.Equal(Requantize(acc[i], 0.05f, 0.01f, 0.7f, -10, signed: true), yq.AsSpan<sbyte>()[i]);
        }
    }

    // ------------------------------------------------------------------ bad input

    [Fact]
    public void BadParametersGiveSpecificErrors()
    {
        var g = new IR.Graph();
        var x = Input(g, "x", DataType.UInt8, [1, 2, 4, 4]);
        var model = Single("QLinearConv", [x, g.AddConstant("xs", Tensor.Scalar(0.1f)), g.AddConstant("xz", Tensor.Scalar((byte)0)),
            g.AddConstant("w", Tensor.FromArray([3, 2, 1, 1], new sbyte[6])), g.AddConstant("ws", Tensor.Scalar(0.1f)),
            g.AddConstant("wz", Tensor.FromArray([2], new sbyte[2])), // neither one value nor one per filter
            g.AddConstant("ys", Tensor.Scalar(0.1f)), g.AddConstant("yz", Tensor.Scalar((byte)0))], g);
        var e = Assert.Throws<ShapeInferenceException>(() => new Session(model).Run(new Dictionary<string, Tensor> { ["x"] = Tensor.Zeros(DataType.UInt8, [1, 2, 4, 4]) }));
        Assert.Contains("w_zero_point", e.Message);

        var g2 = new IR.Graph();
        var f = Input(g2, "f", DataType.Float32, [4, 6]);
        var blocked = Single("QuantizeLinear", [f, g2.AddConstant("s", Tensor.FromArray([4, 3], new float[12])), g2.AddConstant("z", Tensor.FromArray([4, 3], new byte[12]))],
            g2, IR.Attribute.Of("block_size", 2L));
        Assert.Throws<UnsupportedOperatorException>(() => new Session(blocked).Run(new Dictionary<string, Tensor> { ["f"] = Tensor.Zeros(DataType.Float32, [4, 6]) }));

        var g3 = new IR.Graph();
        var x3 = Input(g3, "x", DataType.UInt8, [1, 1, 2, 2, 2]);
        var conv3d = Single("ConvInteger", [x3, g3.AddConstant("w", Tensor.FromArray([1, 1, 1, 1, 1], new byte[1]))], g3);
        Assert.Throws<UnsupportedOperatorException>(() => new Session(conv3d).Run(new Dictionary<string, Tensor> { ["x"] = Tensor.Zeros(DataType.UInt8, [1, 1, 2, 2, 2]) }));
    }
}
