using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels;
using EdgeNet.Tests.Support;

namespace EdgeNet.Tests.Kernels;

/// <summary>
/// The vector MaxPool / AveragePool / global pool kernels against the scalar reference kernels (a Session forced to
/// the scalar ISA), for every ISA this machine runs: widths 1..23, kernels, strides, dilations, pads, ceil_mode,
/// count_include_pad, auto_pad, channels, batch and threads.
/// </summary>
public class PoolKernelTests
{
    private static Model PoolModel(string opType, int[] xDims, int outputs, params IR.Attribute[] attributes)
    {
        var g = new IR.Graph { Name = opType };
        var x = g.GetOrAddValue("x");
        x.DataType = DataType.Float32;
        x.Shape = xDims.Select(d => Dim.Known(d)).ToArray();
        g.Inputs.Add(x);
        var node = new Node { OpType = opType, Name = "n", OpsetVersion = 19 };
        node.Inputs.Add(x);
        foreach (var a in attributes) node.SetAttribute(a);
        for (int i = 0; i < outputs; i++)
        {
            var y = g.GetOrAddValue("y" + i);
            node.Outputs.Add(y);
            y.Producer = node;
            g.Outputs.Add(y);
        }
        g.Nodes.Add(node);
        var model = new Model { Graph = g };
        model.Opsets[""] = 19;
        return model;
    }

    private static float[] Run(Model model, Isa isa, int threads, float[] x, out Session session)
    {
        session = new Session(model, new SessionOptions { Isa = isa, Threads = threads });
        x.CopyTo(session.Input<float>(0));
        session.Run();
        return session.Output<float>(0).ToArray();
    }

    private static int OutSize(int input, int padBegin, int padEnd, int kernel, int stride, int dilation, bool ceil)
    {
        int span = input + padBegin + padEnd - ((kernel - 1) * dilation + 1);
        if (span < 0) return -1;
        int o = ceil ? (span + stride - 1) / stride + 1 : span / stride + 1;
        if (ceil && (o - 1) * stride >= input + padBegin) o--;
        return o;
    }

    /// <summary>
    /// MaxPool windows that tile the input (kernel = stride, no pads) run as one stream of row groups
    /// (<c>F32MaxPoolTiled</c>): every output bit for bit as the scalar session (NaN and signed zeros too), over KH 1–3, KW 1–2, output widths
    /// that fill, straddle or undershoot a vector, several planes and batches, one and two threads; with pads the
    /// plane kernel is kept.
    /// </summary>
    [Fact]
    public void TiledMaxPoolsMatchScalarSessionBitForBit()
    {
        var rng = new Random(17);
        int ran = 0;
        foreach (var isa in IsaSupport.Available)
        {
            if (isa == Isa.Scalar) continue;
            foreach (int kh in new[] { 1, 2, 3 })
                foreach (int kw in new[] { 1, 2 })
                    foreach (int ow in new[] { 1, 2, 3, 4, 5, 8, 12, 13, 16, 20 })
                        foreach (var (batch, c, oh) in new[] { (1, 1, 1), (1, 3, 2), (2, 7, 5), (1, 24, 3) })
                        {
                            int w = ow * kw, h = oh * kh;
                            bool tiled = kh == 1 || w % 8 == 0;
                            var model = PoolModel("MaxPool", [batch, c, h, w], 1,
                                IR.Attribute.Of("kernel_shape", new long[] { kh, kw }), IR.Attribute.Of("strides", new long[] { kh, kw }));
                            var x = DepthwiseConvKernelTests.Random(rng, batch * c * h * w);
                            int threads = rng.Next(1, 3);
                            var expected = Run(model, Isa.Scalar, 1, x, out _);
                            var actual = Run(model, isa, threads, x, out var session);
                            string what = $"{isa} MaxPool {batch}x{c}x{h}x{w} k {kh}x{kw} threads {threads}";
                            string kernel = session.Plan.Steps.Single().Kernel.GetType().Name;
                            if (isa is Isa.Avx2 or Isa.Avx512) Assert.True(kernel == (tiled ? "TiledMaxPoolKernel" : "VectorPoolKernel"), $"{what}: {kernel}");
                            for (int i = 0; i < expected.Length; i++)
                                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"{what}: element {i} expected {expected[i]} got {actual[i]}");
                            ran++;
                        }
            // NaN and signed zeros: the reference's bits too (taps in its order, each kept only when greater); the
            // plane kernel does not promise this (its vector max differs from the reference on ±0), so only where
            // the tiled kernel runs
            if (isa is Isa.Avx2 or Isa.Avx512)
            {
                float[] special = [float.NaN, -0f, 0f, 1f, -1f];
                foreach (var (kh, kw, w) in new[] { (2, 2, 16), (2, 2, 8), (1, 2, 6), (3, 1, 8) })
                {
                    var xs = new float[3 * 2 * kh * w];
                    for (int i = 0; i < xs.Length; i++) xs[i] = special[rng.Next(special.Length)];
                    var model = PoolModel("MaxPool", [1, 3, 2 * kh, w], 1, IR.Attribute.Of("kernel_shape", new long[] { kh, kw }), IR.Attribute.Of("strides", new long[] { kh, kw }));
                    var expected = Run(model, Isa.Scalar, 1, xs, out _);
                    var actual = Run(model, isa, 1, xs, out _);
                    for (int i = 0; i < expected.Length; i++)
                        Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"{isa} special values k {kh}x{kw} w {w}: element {i} expected {expected[i]} got {actual[i]}");
                }
            }
            // a padded tiling keeps the plane kernel
            var padded = PoolModel("MaxPool", [1, 2, 4, 8], 1, IR.Attribute.Of("kernel_shape", new long[] { 2, 2 }),
                IR.Attribute.Of("strides", new long[] { 2, 2 }), IR.Attribute.Of("pads", new long[] { 1, 1, 1, 1 }));
            Run(padded, isa, 1, new float[64], out var paddedSession);
            Assert.Equal("VectorPoolKernel", paddedSession.Plan.Steps.Single().Kernel.GetType().Name);
        }
        Assert.True(ran > 0 || IsaSupport.Available.Count == 1);
    }

    [Fact]
    public void PoolsMatchScalarSession()
    {
        var rng = new Random(11);
        string[] autoPads = ["NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"];
        (int Kh, int Kw)[] kernels = [(2, 2), (3, 3), (2, 2), (3, 3), (1, 3), (3, 2), (5, 5), (4, 1)];
        int ran = 0;
        foreach (var isa in IsaSupport.Available)
        {
            if (isa == Isa.Scalar) continue;
            for (int trial = 0; trial < 800; trial++)
            {
                bool max = rng.Next(2) == 0;
                string op = max ? "MaxPool" : "AveragePool";
                var (kh, kw) = kernels[rng.Next(kernels.Length)];
                bool oneD = kh == 1 && rng.Next(2) == 0;
                int c = rng.Next(1, 18), batch = rng.Next(1, 3), h = oneD ? 1 : rng.Next(1, 24), w = rng.Next(1, 24);
                int sh = rng.Next(1, 3), sw = rng.Next(1, 4), dh = rng.Next(0, 4) == 0 ? 2 : 1, dw = rng.Next(0, 4) == 0 ? 2 : 1;
                int pt = rng.Next(0, 2), pl = rng.Next(0, 3), pb = rng.Next(0, 2), pr = rng.Next(0, 3);
                // ONNX requires pads smaller than the kernel; the reference's empty-window rule covers the rest
                bool ceil = rng.Next(3) == 0, includePad = rng.Next(2) == 0;
                string autoPad = autoPads[rng.Next(autoPads.Length)];
                if (autoPad != "NOTSET") pt = pl = pb = pr = 0;
                if (OutSize(h, pt, pb, kh, sh, dh, ceil) <= 0 || OutSize(w, pl, pr, kw, sw, dw, ceil) <= 0) continue;
                List<IR.Attribute> attributes =
                [
                    IR.Attribute.Of("kernel_shape", oneD ? new long[] { kw } : [kh, kw]),
                    IR.Attribute.Of("strides", oneD ? new long[] { sw } : [sh, sw]),
                    IR.Attribute.Of("dilations", oneD ? new long[] { dw } : [dh, dw]),
                    IR.Attribute.Of("auto_pad", autoPad),
                    IR.Attribute.Of("ceil_mode", ceil ? 1L : 0L),
                ];
                if (autoPad == "NOTSET") attributes.Add(IR.Attribute.Of("pads", oneD ? new long[] { pl, pr } : [pt, pl, pb, pr]));
                if (!max) attributes.Add(IR.Attribute.Of("count_include_pad", includePad ? 1L : 0L));
                int[] xDims = oneD ? [batch, c, w] : [batch, c, h, w];
                var model = PoolModel(op, xDims, 1, [.. attributes]);
                var x = DepthwiseConvKernelTests.Random(rng, batch * c * h * w);
                int threads = rng.Next(1, 3);
                string what = $"{isa} trial {trial}: {op} x {string.Join('x', xDims)} k {kh}x{kw} s {sh},{sw} d {dh},{dw} {autoPad} pads {pt},{pl},{pb},{pr} ceil {ceil} includePad {includePad} threads {threads}";
                var expected = Run(model, Isa.Scalar, 1, x, out _);
                var actual = Run(model, isa, threads, x, out var session);
                Assert.Contains(session.Plan.Steps, s => s.Kernel.GetType().Name is "VectorPoolKernel" or "TiledMaxPoolKernel");
                DepthwiseConvKernelTests.AssertClose(expected, actual, what);
                ran++;
            }
        }
        Assert.True(ran > 0 || IsaSupport.Available.Count == 1);
    }

    [Fact]
    public void GlobalPoolsMatchScalarSession()
    {
        var rng = new Random(5);
        foreach (var isa in IsaSupport.Available)
        {
            if (isa == Isa.Scalar) continue;
            for (int trial = 0; trial < 120; trial++)
            {
                bool max = trial % 2 == 0;
                int rank = rng.Next(3, 6);
                int[] xDims = [rng.Next(1, 3), rng.Next(1, 18), .. Enumerable.Range(0, rank - 2).Select(_ => rng.Next(1, rank == 5 ? 7 : 24))];
                var model = PoolModel(max ? "GlobalMaxPool" : "GlobalAveragePool", xDims, 1);
                var x = DepthwiseConvKernelTests.Random(rng, xDims.Aggregate(1, (a, b) => a * b));
                int threads = rng.Next(1, 3);
                var expected = Run(model, Isa.Scalar, 1, x, out _);
                var actual = Run(model, isa, threads, x, out var session);
                Assert.Contains(session.Plan.Steps, s => s.Kernel.GetType().Name == "VectorGlobalPoolKernel");
                DepthwiseConvKernelTests.AssertClose(expected, actual, $"{isa} {(max ? "max" : "average")} x {string.Join('x', xDims)}");
            }
        }
    }

    [Fact]
    public void IndicesOutputAndThreeDKeepTheReferencePath()
    {
        var withIndices = PoolModel("MaxPool", [1, 2, 6, 6], 2, IR.Attribute.Of("kernel_shape", new long[] { 2, 2 }));
        var s = new Session(withIndices);
        Assert.DoesNotContain(s.Plan.Steps, st => st.Kernel.GetType().Name == "VectorPoolKernel");
        var threeD = PoolModel("AveragePool", [1, 2, 4, 4, 4], 1, IR.Attribute.Of("kernel_shape", new long[] { 2, 2, 2 }));
        Assert.DoesNotContain(new Session(threeD).Plan.Steps, st => st.Kernel.GetType().Name == "VectorPoolKernel");
    }

    [Theory]
    [InlineData("MaxPool", 1)]
    [InlineData("AveragePool", 2)]
    [InlineData("GlobalAveragePool", 2)]
    public void RunAllocatesNothing(string op, int threads)
    {
        var attributes = op.StartsWith("Global", StringComparison.Ordinal) ? Array.Empty<IR.Attribute>() :
            [IR.Attribute.Of("kernel_shape", new long[] { 3, 3 }), IR.Attribute.Of("strides", new long[] { 2, 2 }), IR.Attribute.Of("pads", new long[] { 1, 1, 1, 1 })];
        var session = new Session(PoolModel(op, [1, 64, 56, 56], 1, attributes), new SessionOptions { Threads = threads });
        DepthwiseConvKernelTests.Random(new Random(2), 64 * 56 * 56).CopyTo(session.Input<float>(0));
        Allocations.AssertNoneAfterWarmUp(session.Run);
    }
}
