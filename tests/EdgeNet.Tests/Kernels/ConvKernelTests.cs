using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Conv;
using EdgeNet.Ops.Conv;
using EdgeNet.Tests.Support;

namespace EdgeNet.Tests.Kernels;

/// <summary>Conv through the GEMM path (pointwise in place, implicit-GEMM im2col) against the direct oracle
/// <see cref="F32ConvReference"/>, for 1-D/2-D/3-D geometries, every ISA path this CPU runs, 1 and 2 threads.</summary>
public class ConvKernelTests
{
    internal sealed record Case(int Batch, int C, int M, int Group, int[] In, int[] Kernel, int[] Strides, int[] Dilations, int[] PadBegin, int[] PadEnd, bool ConstWeights = true, bool Bias = true);

    private static IEnumerable<Case> Cases()
    {
        // 2-D: kernels 1/3/5/7, strides 1/2/3, dilation 1/2, symmetric and asymmetric pads, groups, odd channels
        yield return new(1, 3, 5, 1, [9, 11], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0]);
        yield return new(2, 7, 33, 1, [13, 10], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0], ConstWeights: false);
        yield return new(1, 5, 9, 1, [12, 12], [1, 1], [2, 2], [1, 1], [0, 0], [0, 0]);
        yield return new(2, 3, 16, 1, [15, 17], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1]);
        yield return new(1, 4, 13, 1, [16, 16], [3, 3], [2, 2], [1, 1], [0, 1], [1, 0], Bias: false);
        yield return new(1, 6, 8, 2, [11, 9], [3, 3], [1, 1], [2, 2], [2, 2], [2, 2]);
        yield return new(1, 8, 12, 4, [10, 10], [3, 3], [3, 3], [1, 1], [1, 2], [0, 1]);
        yield return new(1, 3, 7, 1, [20, 19], [5, 5], [2, 2], [1, 1], [2, 2], [2, 2]);
        yield return new(2, 5, 6, 1, [14, 15], [7, 7], [3, 3], [1, 1], [3, 3], [3, 3], ConstWeights: false);
        yield return new(1, 2, 3, 1, [9, 8], [3, 5], [1, 2], [2, 1], [0, 2], [3, 1]);
        yield return new(1, 16, 70, 1, [7, 7], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1]);
        // DS-CNN's first conv (one channel, 10×4 stride 2, 25×5 output: the offset-table im2col) and wide outputs
        yield return new(1, 1, 64, 1, [49, 10], [10, 4], [2, 2], [1, 1], [5, 1], [5, 1]);
        yield return new(1, 3, 10, 1, [21, 45], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1]);
        // 1-D
        yield return new(2, 3, 5, 1, [31], [3], [1], [1], [1], [1]);
        yield return new(1, 4, 8, 2, [40], [5], [2], [2], [0], [3]);
        yield return new(1, 5, 11, 1, [17], [1], [1], [1], [0], [0]);
        yield return new(1, 3, 4, 1, [50], [7], [3], [1], [3], [3]);
        // 3-D
        yield return new(1, 3, 5, 1, [5, 6, 7], [3, 3, 3], [1, 1, 1], [1, 1, 1], [1, 1, 1], [1, 1, 1]);
        yield return new(2, 4, 6, 2, [6, 5, 8], [1, 3, 3], [2, 1, 2], [1, 2, 1], [0, 1, 1], [1, 2, 0]);
        yield return new(1, 2, 3, 1, [4, 4, 4], [1, 1, 1], [1, 1, 1], [1, 1, 1], [0, 0, 0], [0, 0, 0]);
    }

    internal static ConvGeometry Geometry(Case c)
    {
        var output = new int[c.In.Length];
        for (int i = 0; i < output.Length; i++)
            output[i] = (c.In[i] + c.PadBegin[i] + c.PadEnd[i] - ((c.Kernel[i] - 1) * c.Dilations[i] + 1)) / c.Strides[i] + 1;
        return new ConvGeometry(c.In, c.Kernel, c.Strides, c.Dilations, c.PadBegin, c.PadEnd, output);
    }

    internal static Model Model(Case c, float[] w, float[]? bias, FusedActivation act)
    {
        var g = new IR.Graph { Name = "conv" };
        Value Input(string name, int[] dims)
        {
            var v = g.GetOrAddValue(name);
            v.DataType = DataType.Float32;
            v.Shape = dims.Select(d => Dim.Known(d)).ToArray();
            g.Inputs.Add(v);
            return v;
        }
        int[] wDims = [c.M, c.C / c.Group, .. c.Kernel];
        var node = new Node { OpType = "Conv", Name = "n", OpsetVersion = 13 };
        node.Inputs.Add(Input("x", [c.Batch, c.C, .. c.In]));
        node.Inputs.Add(c.ConstWeights ? g.AddConstant("w", Tensor.FromArray(wDims, w)) : Input("w", wDims));
        if (bias is not null) node.Inputs.Add(g.AddConstant("b", Tensor.FromArray([c.M], bias)));
        node.SetAttribute(IR.Attribute.Of("strides", c.Strides.Select(v => (long)v).ToArray()));
        node.SetAttribute(IR.Attribute.Of("dilations", c.Dilations.Select(v => (long)v).ToArray()));
        node.SetAttribute(IR.Attribute.Of("pads", c.PadBegin.Concat(c.PadEnd).Select(v => (long)v).ToArray()));
        node.SetAttribute(IR.Attribute.Of("group", (long)c.Group));
        if (act.Kind != ActivationKind.None) act.WriteTo(node);
        var y = g.GetOrAddValue("y");
        node.Outputs.Add(y);
        y.Producer = node;
        g.Nodes.Add(node);
        g.Outputs.Add(y);
        var model = new Model { Graph = g };
        model.Opsets[""] = 13;
        return model;
    }

    [Fact]
    public void ConvMatchesReferenceForEveryIsaAndThreadCount()
    {
        FusedActivation[] activations = [FusedActivation.None, new(ActivationKind.Relu), new(ActivationKind.Clip, 0, 6), new(ActivationKind.HardSwish), new(ActivationKind.Sigmoid)];
        int index = 0;
        foreach (var c in Cases())
        {
            index++;
            AssertNodeMatchesReference(c, activations[index % activations.Length], index);
        }
    }

    /// <summary>
    /// Case <paramref name="c"/> as one Conv node (input, weights and bias random, seeded by <paramref name="index"/>) on
    /// every ISA at 1 and 2 threads, against <see cref="F32ConvReference"/>; <paramref name="check"/> sees each session
    /// before it runs (to assert which kernel the plan chose); with <paramref name="allocationFree"/> each session must
    /// also run without allocating after its warm-up.
    /// </summary>
    internal static void AssertNodeMatchesReference(Case c, FusedActivation act, int index, Action<Session, Isa>? check = null, bool allocationFree = false)
    {
        var geometry = Geometry(c);
        var shape = new ConvShape(c.Batch, c.C, c.M, c.Group, geometry);
        var x = GemmKernelTests.Random(c.Batch * c.C * geometry.InVolume, index);
        var w = GemmKernelTests.Random(c.M * (c.C / c.Group) * geometry.KernelVolume, index + 50);
        var bias = c.Bias ? GemmKernelTests.Random(c.M, index + 99) : null;
        var expected = new float[c.Batch * c.M * geometry.OutVolume];
        F32ConvReference.Run(shape, x, w, bias, expected, act);
        var model = Model(c, w, bias, act);
        foreach (var isa in IsaSupport.Available)
            foreach (int threads in new[] { 1, 2 })
            {
                var session = new Session(model, new SessionOptions { Isa = isa, Threads = threads });
                check?.Invoke(session, isa);
                var feeds = new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([c.Batch, c.C, .. c.In], x) };
                if (!c.ConstWeights) feeds["w"] = Tensor.FromArray([c.M, c.C / c.Group, .. c.Kernel], w);
                var y = session.Run(feeds)[0];
                Assert.Equal([c.Batch, c.M, .. geometry.OutputSpatial()], y.Dims);
                GemmKernelTests.AssertClose(expected, y.AsSpan<float>(), $"case {index} {isa} t{threads} {act.Kind}");
                if (allocationFree) Allocations.AssertNoneAfterWarmUp(session.Run);
            }
    }

    /// <summary>
    /// The offset-table im2col (small items with short output rows) writes exactly the panels of the run-by-run
    /// gather, for every geometry above (both are built directly, whatever the session would choose), over K blocks,
    /// column blocks that start mid-row and partial last panels.
    /// </summary>
    [Fact]
    public void Im2ColOffsetTableMatchesRunGather()
    {
        int tabled = 0;
        foreach (var c in Cases())
        {
            var g = Geometry(c);
            int depth = c.C / c.Group * g.KernelVolume, n = g.OutVolume;
            var withTable = new F32Im2ColPacker(g, depth);
            var runs = new F32Im2ColPacker(g);
            Assert.False(runs.UsesTable);
            if (!withTable.UsesTable) continue;
            tabled++;
            var x = GemmKernelTests.Random(c.C / c.Group * g.InVolume, depth);
            foreach (int nr in new[] { 8, 16, 32 })
                foreach (var (k0, kc) in new[] { (0, depth), (depth / 3, Math.Max(1, depth / 2)) })
                    foreach (var (j0, nc) in new[] { (0, n), (Math.Min(n - 1, 7), Math.Max(1, n / 2 + 3)) })
                    {
                        int panels = (Math.Min(nc, n - j0) + nr - 1) / nr;
                        var expected = new float[panels * kc * nr];
                        var actual = Enumerable.Repeat(float.NaN, expected.Length).ToArray();
                        unsafe
                        {
                            fixed (float* src = x)
                            fixed (float* e = expected)
                            fixed (float* a = actual)
                            {
                                runs.Pack(src, k0, kc, j0, nc, nr, e);
                                withTable.Pack(src, k0, kc, j0, nc, nr, a);
                            }
                        }
                        Assert.Equal(expected, actual);
                    }
        }
        Assert.True(tabled >= 10, $"only {tabled} geometries use the offset table");
    }

    /// <summary>
    /// The packer's vector moves follow the session's path (AVX-512 permutes, AVX2 shuffles and gathers, 128-bit
    /// shuffles, scalar copies): every path writes exactly the panels of the scalar one, for every geometry above, with
    /// and without the offset table, over K blocks, column blocks that start mid-row and partial last panels.
    /// </summary>
    [Fact]
    public void Im2ColPanelsAreIdenticalOnEveryIsa()
    {
        int compared = 0;
        foreach (var c in Cases())
        {
            var g = Geometry(c);
            int depth = c.C / c.Group * g.KernelVolume, n = g.OutVolume;
            var x = GemmKernelTests.Random(c.C / c.Group * g.InVolume, depth + 1);
            foreach (int tableDepth in new[] { 0, depth })
            {
                var scalar = new F32Im2ColPacker(g, tableDepth, Isa.Scalar);
                foreach (var isa in IsaSupport.Available.Where(i => i != Isa.Scalar))
                {
                    var packer = new F32Im2ColPacker(g, tableDepth, isa);
                    Assert.Equal(scalar.UsesTable, packer.UsesTable);
                    foreach (int nr in new[] { 8, 16, 32 })
                        foreach (var (k0, kc) in new[] { (0, depth), (depth / 3, Math.Max(1, depth / 2)) })
                            foreach (var (j0, nc) in new[] { (0, n), (Math.Min(n - 1, 7), Math.Max(1, n / 2 + 3)) })
                            {
                                int panels = (Math.Min(nc, n - j0) + nr - 1) / nr;
                                var expected = new float[panels * kc * nr];
                                var actual = Enumerable.Repeat(float.NaN, expected.Length).ToArray();
                                unsafe
                                {
                                    fixed (float* src = x)
                                    fixed (float* e = expected)
                                    fixed (float* a = actual)
                                    {
                                        scalar.Pack(src, k0, kc, j0, nc, nr, e);
                                        packer.Pack(src, k0, kc, j0, nc, nr, a);
                                    }
                                }
                                Assert.True(expected.AsSpan().SequenceEqual(actual), $"{isa} {c} table={packer.UsesTable} nr={nr} k0={k0} j0={j0}");
                                compared++;
                            }
                }
            }
        }
        Assert.True(compared > 0 || IsaSupport.Available.Count == 1);
    }
}
