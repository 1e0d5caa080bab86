using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels;
using EdgeNet.Onnx;
using EdgeNet.Onnx.Proto;
using EdgeNet.Tests.Support;
using Google.Protobuf;
using SessionOptions = EdgeNet.Execution.SessionOptions;
using Tensor = EdgeNet.IR.Tensor;

namespace EdgeNet.Tests.Kernels;

/// <summary>
/// The vectorized op kernels (element-wise with broadcasting, Softmax/LogSoftmax, LayerNormalization,
/// BatchNormalization/InstanceNormalization, Reduce*) run through a one-node session on every ISA path this CPU has,
/// against the same session forced to <see cref="Isa.Scalar"/> (the reference kernels); odd sizes and tails; and no
/// allocation per Run.
/// </summary>
public class VectorizedOpKernelTests
{
    private sealed record In(string Name, Tensor Value, bool Runtime = true);

    private static ValueInfoProto Info(string name, DataType type, int[]? dims)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)type };
        if (dims is not null)
        {
            tensorType.Shape = new TensorShapeProto();
            foreach (int d in dims) tensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }

    private static byte[] Model(string opType, In[] inputs, int outputs, int opset, params AttributeProto[] attributes)
    {
        var g = new GraphProto { Name = "g" };
        var node = new NodeProto { OpType = opType, Name = "n0" };
        foreach (var i in inputs)
        {
            g.Input.Add(Info(i.Name, i.Value.DataType, i.Value.Dims));
            node.Input.Add(i.Name);
        }
        for (int o = 0; o < outputs; o++)
        {
            g.Output.Add(Info("y" + o, DataType.Float32, null));
            node.Output.Add("y" + o);
        }
        node.Attribute.AddRange(attributes);
        g.Node.Add(node);
        return new ModelProto { IrVersion = 8, Graph = g, OpsetImport = { new OperatorSetIdProto { Domain = "", Version = opset } } }.ToByteArray();
    }

    private static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };
    private static AttributeProto Float(string name, float v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = v };
    private static AttributeProto Ints(string name, params long[] v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Ints, Ints = { v } };

    private static Session Build(byte[] model, In[] inputs, Isa isa, int threads = 1)
    {
        var options = new SessionOptions { Isa = isa, Threads = threads };
        foreach (var i in inputs)
            if (i.Runtime) options.InputShapes[i.Name] = i.Value.Dims;
            else options.SpecializedInputs[i.Name] = i.Value;
        var s = new Session(OnnxImporter.Load(model, null), options);
        return s;
    }

    private static float[][] Run(Session s, In[] inputs, int outputs)
    {
        int k = 0;
        foreach (var i in inputs)
        {
            if (!i.Runtime) continue;
            i.Value.AsSpan<float>().CopyTo(s.Input<float>(k++));
        }
        s.Run();
        var r = new float[outputs][];
        for (int o = 0; o < outputs; o++) r[o] = s.Output<float>(o).ToArray();
        return r;
    }

    private static Tensor Random(int seed, params int[] dims)
    {
        var rng = new Random(seed);
        var v = new float[Shapes.Count(dims)];
        for (int i = 0; i < v.Length; i++) v[i] = (float)(rng.NextDouble() * 8 - 4);
        return Tensor.FromArray(dims, v);
    }

    /// <summary>Runs the op on the scalar path and on every SIMD path; outputs must agree within rtol/atol.</summary>
    private static void Compare(string opType, In[] inputs, int outputs, int opset, double rtol, double atol, params AttributeProto[] attributes)
    {
        var model = Model(opType, inputs, outputs, opset, attributes);
        var want = Run(Build(model, inputs, Isa.Scalar), inputs, outputs);
        foreach (var isa in IsaSupport.Available)
        {
            if (isa == Isa.Scalar) continue;
            var s = Build(model, inputs, isa);
            var got = Run(s, inputs, outputs);
            for (int o = 0; o < outputs; o++)
            {
                Assert.Equal(want[o].Length, got[o].Length);
                for (int i = 0; i < want[o].Length; i++)
                {
                    float w = want[o][i], g = got[o][i];
                    if (float.IsNaN(w) && float.IsNaN(g)) continue;
                    Assert.True(w == g || Math.Abs(w - g) <= atol + rtol * Math.Abs(w),
                        $"{opType} {isa} output {o} [{i}]: scalar {w:R}, {isa} {g:R}");
                }
            }
            Allocations.AssertNoneAfterWarmUp(s.Run, batch: 5, maxBatches: 20);
        }
    }

    public static IEnumerable<object[]> SoftmaxShapes() =>
        new[] { new[] { 1, 1 }, new[] { 3, 7 }, new[] { 2, 16 }, new[] { 5, 33 }, new[] { 2, 3, 100 }, new[] { 1, 1000 } }
            .SelectMany(d => new[] { "Softmax", "LogSoftmax" }.Select(op => new object[] { op, d }));

    [Theory]
    [MemberData(nameof(SoftmaxShapes))]
    public void Softmax_last_axis(string op, int[] dims) =>
        Compare(op, [new In("x", Random(dims.Sum(), dims))], 1, 13, 1e-5, 1e-6);

    [Fact]
    public void Softmax_of_rows_with_infinities_matches()
    {
        var x = Random(3, 4, 9);
        var v = x.AsSpan<float>();
        v[0] = float.NegativeInfinity; v[9] = float.PositiveInfinity;
        for (int i = 18; i < 27; i++) v[i] = float.NegativeInfinity;
        Compare("Softmax", [new In("x", x)], 1, 13, 1e-5, 1e-6);
        Compare("LogSoftmax", [new In("x", x)], 1, 13, 1e-5, 1e-6);
    }

    [Theory]
    [InlineData(new[] { 3, 7 }, -1)]
    [InlineData(new[] { 2, 5, 64 }, -1)]
    [InlineData(new[] { 2, 3, 33 }, 1)]
    [InlineData(new[] { 4, 1 }, -1)]
    public void Layer_normalization_with_statistics(int[] dims, int axis)
    {
        int norm = Shapes.Count(dims[(axis < 0 ? dims.Length + axis : axis)..]);
        var normDims = dims[(axis < 0 ? dims.Length + axis : axis)..];
        In[] inputs = [new In("x", Random(1, dims)), new In("scale", Random(2, normDims), false), new In("bias", Random(3, normDims), false)];
        Compare("LayerNormalization", inputs, 3, 17, 1e-4, 1e-5, Int("axis", axis), Float("epsilon", 1e-3f));
        Compare("LayerNormalization", inputs[..2], 1, 17, 1e-4, 1e-5, Int("axis", axis));
        Assert.True(norm > 0);
    }

    [Theory]
    [InlineData(new[] { 2, 3, 5, 7 })]
    [InlineData(new[] { 1, 16, 9 })]
    [InlineData(new[] { 3, 2 })]
    public void Batch_and_instance_normalization(int[] dims)
    {
        int c = dims[1];
        var variance = Random(4, c);
        foreach (ref float v in variance.AsSpan<float>()) v = MathF.Abs(v) + 0.1f;
        Compare("BatchNormalization", [new In("x", Random(1, dims)), new In("s", Random(2, c), false), new In("b", Random(3, c), false),
            new In("m", Random(5, c), false), new In("v", variance, false)], 1, 15, 1e-5, 1e-5);
        if (dims.Length > 2)
            Compare("InstanceNormalization", [new In("x", Random(1, dims)), new In("s", Random(2, c), false), new In("b", Random(3, c), false)], 1, 6, 1e-4, 1e-5);
    }

    public static IEnumerable<object[]> Reductions()
    {
        var cases = new (int[] Dims, long[] Axes)[]
        {
            ([3, 37], [1]), ([3, 37], [0]), ([2, 3, 17], [1, 2]), ([2, 3, 17], [0, 1]), ([2, 3, 17], [1]),
            ([4, 1, 9], [0, 2]), ([2, 3, 17], [0, 2]), ([5], [0]), ([1, 96, 16], [2]), ([2, 8, 8], []),
        };
        foreach (var op in new[] { "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceSumSquare", "ReduceL2" })
            foreach (var (dims, axes) in cases)
                foreach (int keep in new[] { 0, 1 })
                    yield return [op, dims, axes, keep];
    }

    [Theory]
    [MemberData(nameof(Reductions))]
    public void Reduce_over_contiguous_and_split_axes(string op, int[] dims, long[] axes, int keep)
    {
        var attributes = new List<AttributeProto> { Int("keepdims", keep) };
        if (axes.Length > 0) attributes.Add(Ints("axes", axes));
        Compare(op, [new In("x", Random(dims.Length, dims))], 1, 13, 2e-5, 2e-5, [.. attributes]);
    }

    public static IEnumerable<object[]> BinaryCases()
    {
        var shapes = new (int[] A, int[] B)[] { ([3, 37], [3, 37]), ([3, 37], [37]), ([3, 37], []), ([], [5, 9]), ([2, 4, 5, 3], [4, 1, 1]), ([2, 1, 7], [3, 1]) };
        foreach (var op in new[] { "Add", "Sub", "Mul", "Div", "Max", "Min", "PRelu" })
            foreach (var (a, b) in shapes)
                if (op != "PRelu" || Shapes.Broadcast(a, b) is { } o && o.SequenceEqual(a))
                    yield return [op, a, b];
    }

    [Theory]
    [MemberData(nameof(BinaryCases))]
    public void Binary_broadcasting_is_bit_exact(string op, int[] a, int[] b) =>
        Compare(op, [new In("a", Random(1, a)), new In("b", Random(2, b))], 1, 14, 0, 0);

    [Theory]
    [InlineData("Relu", 0, 0)]
    [InlineData("Sigmoid", 1e-6, 1e-7)]
    [InlineData("Tanh", 1e-6, 1e-7)]
    [InlineData("Exp", 1e-6, 0)]
    [InlineData("Abs", 0, 0)]
    [InlineData("HardSwish", 0, 0)]
    [InlineData("Softsign", 0, 0)]
    public void Unary_ops_agree_with_the_reference(string op, double rtol, double atol)
    {
        foreach (int n in new[] { 1, 7, 8, 15, 16, 17, 31, 33, 100, 1025 })
            Compare(op, [new In("x", Random(n, n))], 1, 14, rtol, atol);
    }

    [Theory]
    [InlineData("Sum")]
    [InlineData("Mean")]
    [InlineData("Max")]
    [InlineData("Min")]
    public void Variadic_ops_with_broadcasting_are_bit_exact(string op)
    {
        Compare(op, [new In("a", Random(1, 3, 37)), new In("b", Random(2, 37)), new In("c", Random(3, 3, 1))], 1, 13, 0, 0);
        Compare(op, [new In("a", Random(1, 19))], 1, 13, 0, 0);
    }

    [Fact]
    public void Clip_and_pow_2()
    {
        Compare("Clip", [new In("x", Random(1, 5, 19)), new In("lo", Tensor.Scalar(-1.5f), false), new In("hi", Tensor.Scalar(2f), false)], 1, 13, 0, 0);
        Compare("Clip", [new In("x", Random(1, 5, 19)), new In("lo", Tensor.Scalar(-1.5f))], 1, 13, 0, 0);
        Compare("Pow", [new In("x", Random(1, 5, 19)), new In("e", Tensor.Scalar(2f), false)], 1, 13, 0, 0);
    }

    public static IEnumerable<object[]> Casts() =>
    [
        [DataType.Float32, DataType.Int64], [DataType.Float32, DataType.Int32], [DataType.Float32, DataType.Bool],
        [DataType.Int64, DataType.Float32], [DataType.Int32, DataType.Float32], [DataType.UInt8, DataType.Float32], [DataType.Bool, DataType.Float32],
    ];

    /// <summary>The typed float32 cast loops give exactly what the generic double-based path (ElementIO) gives.</summary>
    [Theory]
    [MemberData(nameof(Casts))]
    public void Typed_casts_match_the_generic_path(DataType from, DataType to)
    {
        double[] values = [0, -0.0, 1.5, -2.5, 255, 3e9, -3e9, 1e20, double.NaN, double.PositiveInfinity, double.NegativeInfinity,
            (1L << 60) + 1, 16777217, -16777217, 7, 1];
        int size = from.SizeOf();
        var input = new byte[values.Length * size];
        for (int i = 0; i < values.Length; i++)
            if (from == DataType.Float32 || !(double.IsNaN(values[i]) || double.IsInfinity(values[i]) || Math.Abs(values[i]) > 1e18 || values[i] < 0 && from is DataType.UInt8 or DataType.Bool))
                EdgeNet.Kernels.Elementwise.ElementIO.Write(input, from, i, from == DataType.Bool ? (values[i] != 0 ? 1 : 0) : values[i]);
        var x = new Tensor(from, [values.Length], input);
        var g = new GraphProto { Name = "g" };
        g.Input.Add(Info("x", from, [values.Length]));
        g.Output.Add(Info("y", to, null));
        g.Node.Add(new NodeProto { OpType = "Cast", Name = "c", Input = { "x" }, Output = { "y" }, Attribute = { Int("to", (long)to) } });
        var model = new ModelProto { IrVersion = 8, Graph = g, OpsetImport = { new OperatorSetIdProto { Domain = "", Version = 13 } } }.ToByteArray();
        var s = new Session(OnnxImporter.Load(model, null), new SessionOptions());
        var y = s.Run(new Dictionary<string, Tensor> { ["x"] = x })[0];
        var yBytes = y.Data.Span;
        for (int i = 0; i < values.Length; i++)
        {
            var want = new byte[to.SizeOf()];
            EdgeNet.Kernels.Elementwise.ElementIO.Write(want, to, 0, EdgeNet.Kernels.Elementwise.ElementIO.Read(input, from, i));
            Assert.True(want.AsSpan().SequenceEqual(yBytes.Slice(i * to.SizeOf(), to.SizeOf())), $"{from}→{to} element {i} ({values[i]})");
        }
    }

    /// <summary>Large element-wise ops split over threads give the single-threaded bits, without allocating.</summary>
    [Theory]
    [InlineData("Sigmoid", 1)]
    [InlineData("Add", 2)]
    [InlineData("Mul", 2)]
    public void Threaded_element_wise_matches_single_threaded(string op, int arity)
    {
        In[] inputs = arity == 1 ? [new In("x", Random(1, 3, 33335))] : [new In("a", Random(1, 3, 33335)), new In("b", Random(2, 3, 33335))];
        In[] scalarB = arity == 1 ? inputs : [inputs[0], new In("b", Random(2, 1))];
        foreach (var ins in new[] { inputs, scalarB })
        {
            var model = Model(op, ins, 1, 14);
            foreach (var isa in IsaSupport.Available)
            {
                var want = Run(Build(model, ins, isa, 1), ins, 1)[0];
                var s = Build(model, ins, isa, 2);
                var got = Run(s, ins, 1)[0];
                Assert.Equal(want, got);
                Allocations.AssertNoneAfterWarmUp(s.Run, batch: 5, maxBatches: 20);
            }
        }
    }
}
