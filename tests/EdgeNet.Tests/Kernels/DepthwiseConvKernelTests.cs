using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Conv;
using EdgeNet.Ops.Conv;
using EdgeNet.Tests.Support;

namespace EdgeNet.Tests.Kernels;

/// <summary>
/// The vector depthwise kernels against the scalar oracle (F32ConvReference), for every ISA this machine runs:
/// first plane by plane over a dense sweep of widths, kernels, strides, dilations and pads, then whole Conv nodes
/// (channels, multipliers, batch, bias, activations, auto_pad, weights as a runtime input, threads).
/// </summary>
public class DepthwiseConvKernelTests
{
    internal const float Tolerance = 1e-5f;

    internal static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (!(MathF.Abs(expected[i] - actual[i]) <= Tolerance + Tolerance * MathF.Abs(expected[i])))
                Assert.Fail($"{what}: element {i} expected {expected[i]} got {actual[i]}");
    }

    internal static float[] Random(Random rng, int count)
    {
        var v = new float[count];
        for (int i = 0; i < count; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }

    private static int OutSize(int input, int padBegin, int padEnd, int kernel, int stride, int dilation)
    {
        int span = input + padBegin + padEnd - ((kernel - 1) * dilation + 1);
        return span < 0 ? -1 : span / stride + 1;
    }

    [Fact]
    public void ScalarIsaLeavesDepthwiseToTheReference()
    {
        var g = new ConvGeometry([5, 5], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1], [5, 5]);
        Assert.Null(F32DwConv.Create(Isa.Scalar, g));
    }

    /// <summary>Every width 1..23 (all border/interior/tail splits) for many kernel shapes, strides, dilations and pads.</summary>
    [Fact]
    public void PlaneMatchesReferenceOverDenseSweep()
    {
        (int Kh, int Kw)[] kernels = [(3, 3), (5, 5), (1, 3), (3, 1), (1, 5), (2, 2), (4, 4), (7, 7), (1, 1), (3, 5)];
        var rng = new Random(1);
        int checkedCases = 0;
        foreach (var isa in IsaSupport.Available)
        {
            if (isa == Isa.Scalar) continue;
            foreach (var (kh, kw) in kernels)
                foreach (int stride in new[] { 1, 2, 3 })
                    foreach (int dilation in new[] { 1, 2 })
                        for (int inW = 1; inW <= 23; inW++)
                        {
                            int inH = rng.Next(1, 9);
                            int pl = rng.Next(0, 4), pr = rng.Next(0, 4), pt = rng.Next(0, 3), pb = rng.Next(0, 3);
                            int sh = rng.Next(1, 3), dh = rng.Next(1, 3);
                            int outW = OutSize(inW, pl, pr, kw, stride, dilation), outH = OutSize(inH, pt, pb, kh, sh, dh);
                            if (outW <= 0 || outH <= 0) continue;
                            var g = new ConvGeometry([inH, inW], [kh, kw], [sh, stride], [dh, dilation], [pt, pl], [pb, pr], [outH, outW]);
                            var x = Random(rng, inH * inW);
                            var w = Random(rng, kh * kw);
                            float bias = (float)rng.NextDouble();
                            var expected = new float[outH * outW];
                            F32ConvReference.Run(new ConvShape(1, 1, 1, 1, g), x, w, [bias], expected, FusedActivation.None);
                            var actual = new float[outH * outW];
                            var kernel = F32DwConv.Create(isa, g) ?? throw new InvalidOperationException("no kernel");
                            kernel.Plane(x, w, bias, actual, FusedActivation.None, new float[kernel.ScratchFloats]);
                            AssertClose(expected, actual, $"{isa} k{kh}x{kw} s{sh},{stride} d{dh},{dilation} in {inH}x{inW} pads {pt},{pl},{pb},{pr}");
                            checkedCases++;
                        }
        }
        Assert.True(checkedCases > 0 || IsaSupport.Available.Count == 1);
    }

    /// <summary>
    /// The masked kernel (unstrided, rows as wide as the input's: the flat output index with column masks) over a
    /// sweep of narrow and wide planes, kernel sizes, dilations and pad splits, run as one batch of planes with
    /// per-channel filters and biases (the ranges a node's parts take), each plane against the reference.
    /// </summary>
    [Fact]
    public void MaskedPlanesMatchReferenceInBatches()
    {
        (int Kh, int Kw)[] kernels = [(3, 3), (5, 5), (1, 3), (3, 1), (1, 5), (2, 2), (4, 4), (7, 7), (1, 1), (3, 5), (1, 9)];
        var rng = new Random(11);
        int checkedCases = 0;
        foreach (var isa in IsaSupport.Available)
        {
            if (isa == Isa.Scalar) continue;
            foreach (var (kh, kw) in kernels)
                foreach (int dilation in new[] { 1, 2 })
                    for (int inW = 1; inW <= 23; inW += inW < 9 ? 1 : 3)
                    {
                        int inH = rng.Next(1, 30), dh = rng.Next(1, 3);
                        int extent = (kw - 1) * dilation;
                        int pl = rng.Next(0, extent + 1), pr = extent - pl, pt = rng.Next(0, 3), pb = rng.Next(0, 3);
                        int outH = OutSize(inH, pt, pb, kh, 1, dh);
                        if (outH <= 0) continue;
                        var g = new ConvGeometry([inH, inW], [kh, kw], [1, 1], [dh, dilation], [pt, pl], [pb, pr], [outH, inW]);
                        var kernel = F32DwConv.Create(isa, g) ?? throw new InvalidOperationException("no kernel");
                        Assert.Equal(outH * inW >= 4, kernel.Batches);
                        int channels = rng.Next(1, 6), planes = channels * rng.Next(1, 3), from = rng.Next(0, planes), to = rng.Next(from, planes + 1);
                        bool hasBias = rng.Next(2) == 0;
                        var activation = rng.Next(2) == 0 ? new FusedActivation(ActivationKind.Relu) : FusedActivation.None;
                        var x = Random(rng, planes * inH * inW);
                        var w = Random(rng, channels * kh * kw);
                        var bias = Random(rng, channels);
                        var actual = new float[planes * outH * inW];
                        kernel.Planes(x, w, hasBias, hasBias ? bias : default, actual, channels, from, to, activation, new float[kernel.ScratchFloats]);
                        for (int p = 0; p < planes; p++)
                        {
                            int c = p % channels;
                            var expected = new float[outH * inW];
                            if (p >= from && p < to)
                                F32ConvReference.Run(new ConvShape(1, 1, 1, 1, g), x.AsSpan(p * inH * inW, inH * inW), w.AsSpan(c * kh * kw, kh * kw),
                                    [hasBias ? bias[c] : 0], expected, activation);
                            AssertClose(expected, actual.AsSpan(p * outH * inW, outH * inW), $"{isa} k{kh}x{kw} d{dh},{dilation} in {inH}x{inW} pads {pt},{pl},{pb},{pr} plane {p} of [{from},{to})");
                        }
                        checkedCases++;
                    }
        }
        Assert.True(checkedCases > 0 || IsaSupport.Available.Count == 1);
    }

    /// <summary>x (and w when weightsAsInput) are graph inputs; y = Conv(x, w[, b]) with the given attributes.</summary>
    internal static Model ConvModel(int[] xDims, Tensor w, Tensor? b, bool weightsAsInput, FusedActivation activation, params IR.Attribute[] attributes)
    {
        var g = new IR.Graph { Name = "dw" };
        var x = g.GetOrAddValue("x");
        x.DataType = DataType.Float32;
        x.Shape = xDims.Select(d => Dim.Known(d)).ToArray();
        g.Inputs.Add(x);
        var node = new Node { OpType = "Conv", Name = "n", OpsetVersion = 13 };
        node.Inputs.Add(x);
        if (weightsAsInput)
        {
            var wv = g.GetOrAddValue("w");
            wv.DataType = DataType.Float32;
            wv.Shape = w.Dims.Select(d => Dim.Known(d)).ToArray();
            g.Inputs.Add(wv);
            node.Inputs.Add(wv);
        }
        else node.Inputs.Add(g.AddConstant("w", w));
        if (b is not null) node.Inputs.Add(g.AddConstant("b", b));
        foreach (var a in attributes) node.SetAttribute(a);
        if (activation.Kind != ActivationKind.None) activation.WriteTo(node);
        var y = g.GetOrAddValue("y");
        node.Outputs.Add(y);
        y.Producer = node;
        g.Nodes.Add(node);
        g.Outputs.Add(y);
        var model = new Model { Graph = g };
        model.Opsets[""] = 13;
        return model;
    }

    internal static float[] RunSession(Model model, Isa isa, int threads, float[] x, float[]? w, out Session session)
    {
        session = new Session(model, new SessionOptions { Isa = isa, Threads = threads });
        x.CopyTo(session.Input<float>(0));
        if (w is not null) w.CopyTo(session.Input<float>(1));
        session.Run();
        return session.Output<float>(0).ToArray();
    }

    private static readonly FusedActivation[] s_activations =
    [
        FusedActivation.None, new(ActivationKind.Relu), new(ActivationKind.LeakyRelu, 0.1f), new(ActivationKind.Clip, -0.5f, 0.5f),
        new(ActivationKind.HardSigmoid, 0.2f, 0.5f), new(ActivationKind.HardSwish), new(ActivationKind.Sigmoid),
        new(ActivationKind.Swish), new(ActivationKind.Tanh),
    ];

    /// <summary>Whole Conv nodes with random channels, multipliers, batch, bias, activation, auto_pad and threads vs the scalar session.</summary>
    [Fact]
    public void ConvNodesMatchScalarSession()
    {
        var rng = new Random(7);
        string[] autoPads = ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"];
        (int Kh, int Kw)[] kernels = [(3, 3), (5, 5), (1, 3), (1, 9), (2, 2), (7, 7), (3, 3), (5, 5)];
        foreach (var isa in IsaSupport.Available)
        {
            if (isa == Isa.Scalar) continue;
            for (int trial = 0; trial < 250; trial++)
            {
                int c = rng.Next(1, 18), mult = rng.Next(0, 4) == 0 ? 2 : 1, batch = rng.Next(1, 3);
                var (kh, kw) = kernels[rng.Next(kernels.Length)];
                bool oneD = kh == 1 && rng.Next(2) == 0;
                int h = oneD ? 1 : rng.Next(1, 24), wd = rng.Next(1, 24);
                int sh = rng.Next(1, 3), sw = rng.Next(1, 3), dh = rng.Next(1, 3), dw = rng.Next(1, 3);
                string autoPad = autoPads[rng.Next(autoPads.Length)];
                int pt = rng.Next(0, 3), pl = rng.Next(0, 3), pb = rng.Next(0, 3), pr = rng.Next(0, 3);
                if (autoPad == "VALID") pt = pl = pb = pr = 0;
                if (autoPad == "NOTSET" && (OutSize(h, pt, pb, kh, sh, dh) <= 0 || OutSize(wd, pl, pr, kw, sw, dw) <= 0)) continue;
                if (autoPad == "VALID" && (OutSize(h, 0, 0, kh, sh, dh) <= 0 || OutSize(wd, 0, 0, kw, sw, dw) <= 0)) continue;
                bool bias = rng.Next(2) == 0, weightsAsInput = rng.Next(4) == 0;
                var activation = s_activations[rng.Next(s_activations.Length)];
                int threads = rng.Next(1, 3);
                int[] xDims = oneD ? [batch, c, wd] : [batch, c, h, wd];
                int[] wDims = oneD ? [c * mult, 1, kw] : [c * mult, 1, kh, kw];
                var w = Random(rng, c * mult * kh * kw);
                var b = bias ? Tensor.FromArray([c * mult], Random(rng, c * mult)) : null;
                var x = Random(rng, batch * c * h * wd);
                List<IR.Attribute> attributes = [IR.Attribute.Of("group", (long)c), IR.Attribute.Of("auto_pad", autoPad)];
                attributes.Add(IR.Attribute.Of("strides", oneD ? new long[] { sw } : [sh, sw]));
                attributes.Add(IR.Attribute.Of("dilations", oneD ? new long[] { dw } : [dh, dw]));
                if (autoPad == "NOTSET") attributes.Add(IR.Attribute.Of("pads", oneD ? new long[] { pl, pr } : [pt, pl, pb, pr]));
                var model = ConvModel(xDims, Tensor.FromArray(wDims, w), b, weightsAsInput, activation, [.. attributes]);
                string what = $"{isa} trial {trial}: x {string.Join('x', xDims)} k {kh}x{kw} s {sh},{sw} d {dh},{dw} {autoPad} pads {pt},{pl},{pb},{pr} mult {mult} bias {bias} {activation.Kind} wIn {weightsAsInput} threads {threads}";
                var expected = RunSession(model, Isa.Scalar, 1, x, weightsAsInput ? w : null, out _);
                var actual = RunSession(model, isa, threads, x, weightsAsInput ? w : null, out var session);
                // one input channel into several filters is an ordinary conv and goes to the GEMM path
                string path = c == 1 && mult > 1 ? "GemmConvKernel" : "Depthwise";
                Assert.Contains(session.Plan.Steps, s => s.Kernel.GetType().Name == path);
                AssertClose(expected, actual, what);
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void RunAllocatesNothing(int threads)
    {
        var rng = new Random(3);
        int c = 32;
        var w = Tensor.FromArray([c, 1, 3, 3], Random(rng, c * 9));
        var b = Tensor.FromArray([c], Random(rng, c));
        var model = ConvModel([1, c, 40, 40], w, b, weightsAsInput: false, new FusedActivation(ActivationKind.Relu),
            IR.Attribute.Of("group", (long)c), IR.Attribute.Of("pads", new long[] { 1, 1, 1, 1 }));
        var session = new Session(model, new SessionOptions { Threads = threads });
        Random(rng, c * 1600).CopyTo(session.Input<float>(0));
        Allocations.AssertNoneAfterWarmUp(session.Run);
    }
}
