using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Ops.QLstm;
using EdgeNet.Tests.Support;
using Xunit.Abstractions;

namespace EdgeNet.Tests.Kernels.Quantized;

/// <summary>
/// edgenet.QLstm against the fp32 LSTM on the same weights: once with the dequantized int8 weights (the error of the
/// dynamic activation quantization alone) and once with the original float weights (the whole int8 error), over
/// forward / reverse / bidirectional, biases, peepholes, initial states, sequence_lens and layout = 1.
/// </summary>
public class QLstmTests(ITestOutputHelper output)
{
    private sealed record Config(string Direction = "forward", int Seq = 20, int Batch = 2, int Input = 16, int Hidden = 32,
        bool Peepholes = false, bool Initial = false, int[]? Lens = null, int Layout = 0);

    internal static float[] Normal(Random rng, int count, float std)
    {
        var v = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
            v[i] = (float)(std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return v;
    }

    /// <summary>Per-row symmetric int8: scale = max|row| / 127, q = round(w / scale).</summary>
    internal static (sbyte[] Q, float[] Scale, float[] Dequantized) Quantize(float[] w, int rows, int cols)
    {
        var q = new sbyte[w.Length];
        var scale = new float[rows];
        var deq = new float[w.Length];
        for (int r = 0; r < rows; r++)
        {
            float max = 0;
            for (int c = 0; c < cols; c++) max = MathF.Max(max, MathF.Abs(w[r * cols + c]));
            scale[r] = max > 0 ? max / 127 : 1;
            for (int c = 0; c < cols; c++)
            {
                q[r * cols + c] = (sbyte)Math.Clamp(MathF.Round(w[r * cols + c] / scale[r]), -127, 127);
                deq[r * cols + c] = q[r * cols + c] * scale[r];
            }
        }
        return (q, scale, deq);
    }

    private static Model Build(Config c, bool quantized, float[] w, float[] r, sbyte[] wq, sbyte[] rq, float[] ws, float[] rs, float[] b, float[]? p, float[]? h0, float[]? c0)
    {
        int nd = c.Direction == "bidirectional" ? 2 : 1, h = c.Hidden;
        var g = new Graph { Name = "lstm" };
        var x = g.GetOrAddValue("x");
        x.DataType = DataType.Float32;
        int[] xDims = c.Layout == 1 ? [c.Batch, c.Seq, c.Input] : [c.Seq, c.Batch, c.Input];
        x.Shape = xDims.Select(d => Dim.Known(d)).ToArray();
        g.Inputs.Add(x);
        var node = new Node { OpType = quantized ? "QLstm" : "LSTM", Domain = quantized ? QLstmOp.DomainName : "", Name = "n", OpsetVersion = 14 };
        node.Inputs.Add(x);
        node.Inputs.Add(quantized ? g.AddConstant("W", Tensor.FromArray([nd, 4 * h, c.Input], wq)) : g.AddConstant("W", Tensor.FromArray([nd, 4 * h, c.Input], w)));
        node.Inputs.Add(quantized ? g.AddConstant("R", Tensor.FromArray([nd, 4 * h, h], rq)) : g.AddConstant("R", Tensor.FromArray([nd, 4 * h, h], r)));
        node.Inputs.Add(g.AddConstant("B", Tensor.FromArray([nd, 8 * h], b)));
        node.Inputs.Add(c.Lens is null ? null : g.AddConstant("lens", Tensor.FromArray([c.Batch], c.Lens)));
        int[] stateDims = c.Layout == 1 ? [c.Batch, nd, h] : [nd, c.Batch, h];
        node.Inputs.Add(h0 is null ? null : g.AddConstant("h0", Tensor.FromArray(stateDims, h0)));
        node.Inputs.Add(c0 is null ? null : g.AddConstant("c0", Tensor.FromArray(stateDims, c0)));
        node.Inputs.Add(p is null ? null : g.AddConstant("P", Tensor.FromArray([nd, 3 * h], p)));
        if (quantized)
        {
            node.Inputs.Add(g.AddConstant("W_scale", Tensor.FromArray([nd, 4 * h], ws)));
            node.Inputs.Add(g.AddConstant("R_scale", Tensor.FromArray([nd, 4 * h], rs)));
        }
        node.SetAttribute(IR.Attribute.Of("direction", c.Direction));
        node.SetAttribute(IR.Attribute.Of("hidden_size", (long)h));
        if (c.Layout == 1) node.SetAttribute(IR.Attribute.Of("layout", 1L));
        foreach (var name in new[] { "Y", "Y_h", "Y_c" })
        {
            var v = g.GetOrAddValue(name);
            node.Outputs.Add(v);
            v.Producer = node;
            g.Outputs.Add(v);
        }
        g.Nodes.Add(node);
        var model = new Model { Graph = g };
        model.Opsets[""] = 14;
        model.Opsets[QLstmOp.DomainName] = 1;
        return model;
    }

    /// <summary>Max and mean absolute difference over Y, Y_h, Y_c: (quantized vs dequantized-weight fp32, quantized vs original fp32).</summary>
    private (double Max, double Mean, double MaxFull, double MeanFull) Compare(Config c, int seed)
    {
        var rng = new Random(seed);
        int nd = c.Direction == "bidirectional" ? 2 : 1, h = c.Hidden;
        var w = Normal(rng, nd * 4 * h * c.Input, 1 / MathF.Sqrt(c.Input));
        var r = Normal(rng, nd * 4 * h * h, 1 / MathF.Sqrt(h));
        var b = Normal(rng, nd * 8 * h, 0.1f);
        var p = c.Peepholes ? Normal(rng, nd * 3 * h, 0.2f) : null;
        var h0 = c.Initial ? Normal(rng, nd * c.Batch * h, 0.3f) : null;
        var c0 = c.Initial ? Normal(rng, nd * c.Batch * h, 0.3f) : null;
        var (wq, ws, wd) = Quantize(w, nd * 4 * h, c.Input);
        var (rq, rs, rd) = Quantize(r, nd * 4 * h, h);
        var x = Normal(rng, c.Seq * c.Batch * c.Input, 1f);
        int[] xDims = c.Layout == 1 ? [c.Batch, c.Seq, c.Input] : [c.Seq, c.Batch, c.Input];
        var inputs = new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(xDims, x) };
        var q = new Session(Build(c, true, w, r, wq, rq, ws, rs, b, p, h0, c0)).Run(inputs);
        var deq = new Session(Build(c, false, wd, rd, wq, rq, ws, rs, b, p, h0, c0)).Run(inputs);
        var full = new Session(Build(c, false, w, r, wq, rq, ws, rs, b, p, h0, c0)).Run(inputs);
        double max = 0, sum = 0, maxFull = 0, sumFull = 0;
        long n = 0;
        for (int o = 0; o < 3; o++)
        {
            var a = q[o].AsSpan<float>();
            var e = deq[o].AsSpan<float>();
            var f = full[o].AsSpan<float>();
            Assert.Equal(e.Length, a.Length);
            for (int i = 0; i < a.Length; i++)
            {
                Assert.True(float.IsFinite(a[i]));
                double d = Math.Abs(a[i] - e[i]), df = Math.Abs(a[i] - f[i]);
                max = Math.Max(max, d); sum += d;
                maxFull = Math.Max(maxFull, df); sumFull += df;
                n++;
            }
        }
        output.WriteLine($"{c}: vs fp32 on dequantized weights max {max:F4} mean {sum / n:F5}; vs original fp32 max {maxFull:F4} mean {sumFull / n:F5}");
        return (max, sum / n, maxFull, sumFull / n);
    }

    public static TheoryData<int> Configs() => new() { 0, 1, 2, 3, 4 };

    private static Config ConfigFor(int i) => i switch
    {
        0 => new Config(),
        1 => new Config("bidirectional", Peepholes: true, Initial: true),
        2 => new Config("reverse", Seq: 13, Batch: 3, Input: 40, Hidden: 64, Lens: [13, 7, 1]),
        3 => new Config("bidirectional", Seq: 9, Batch: 2, Input: 7, Hidden: 5, Layout: 1, Lens: [9, 4]),
        _ => new Config(Seq: 50, Batch: 1, Input: 64, Hidden: 128),
    };

    [Theory]
    [MemberData(nameof(Configs))]
    public void StaysCloseToFp32Lstm(int config)
    {
        var (max, mean, maxFull, meanFull) = Compare(ConfigFor(config), 17 + config);
        // measured: max ≈ 0.005–0.021, mean ≈ 0.001–0.002 absolute (h in (−1, 1), c a few units)
        Assert.True(max < 0.04, $"max error {max} vs fp32 on the same (dequantized) weights");
        Assert.True(mean < 0.004, $"mean error {mean} vs fp32 on the same (dequantized) weights");
        Assert.True(maxFull < 0.05, $"max error {maxFull} vs the original fp32 model");
        Assert.True(meanFull < 0.005, $"mean error {meanFull} vs the original fp32 model");
    }

    [Fact]
    public void RunAllocatesNothing()
    {
        var c = ConfigFor(1);
        var rng = new Random(3);
        int nd = 2, h = c.Hidden;
        var (wq, ws, _) = Quantize(Normal(rng, nd * 4 * h * c.Input, 0.3f), nd * 4 * h, c.Input);
        var (rq, rs, _) = Quantize(Normal(rng, nd * 4 * h * h, 0.2f), nd * 4 * h, h);
        var session = new Session(Build(c, true, [], [], wq, rq, ws, rs, new float[nd * 8 * h], null, null, null), new SessionOptions { Threads = 2 });
        Normal(rng, c.Seq * c.Batch * c.Input, 1).CopyTo(session.Input<float>(0));
        Allocations.AssertNoneAfterWarmUp(session.Run);
    }

    [Fact]
    public void RejectsFloatWeights()
    {
        var c = new Config();
        var rng = new Random(4);
        int h = c.Hidden;
        var model = Build(c, true, [], [], new sbyte[4 * h * c.Input], new sbyte[4 * h * h], new float[4 * h], new float[4 * h], new float[8 * h], null, null, null);
        var node = model.Graph.Nodes[0];
        node.Inputs[1] = model.Graph.AddConstant("Wf", Tensor.FromArray([1, 4 * h, c.Input], Normal(rng, 4 * h * c.Input, 1)));
        Assert.ThrowsAny<EdgeNetException>(() => new Session(model));
    }
}
