using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Onnx;
using EdgeNet.Onnx.Proto;
using EdgeNet.Tests.Support;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SessionOptions = EdgeNet.Execution.SessionOptions;
using Tensor = EdgeNet.IR.Tensor;

namespace EdgeNet.Tests.Ops;

/// <summary>
/// Trilu, CumSum, GatherElements, GatherND, ScatterElements, ScatterND, OneHot, EyeLike, TopK, LRN, MVN, NonZero,
/// ReverseSequence and Einsum on cases the ONNX conformance data leaves out (negative axes, batch_dims &gt; 1,
/// max/min reductions, ellipsis broadcasting, ties, integer types), checked against ONNX Runtime; plus bad run-time
/// indices, which must raise an EdgeNet error and leave the session usable.
/// </summary>
public class MiscOpsTests
{
    /// <summary>One graph input: its data, and whether it is fed at run time (else fixed when the session is planned).</summary>
    private sealed record Input(string Name, Tensor Value, bool Runtime = true);

    private static int OnnxType(DataType t) => (int)t;

    private static ValueInfoProto Info(string name, DataType type, int[]? dims)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = OnnxType(type) };
        if (dims is not null)
        {
            tensorType.Shape = new TensorShapeProto();
            foreach (int d in dims) tensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }

    /// <summary>A one-node model; outputs are declared with their type only (shapes come from inference).</summary>
    private static byte[] Model(string opType, Input[] inputs, (string Name, DataType Type)[] outputs, int opset,
        params AttributeProto[] attributes)
    {
        var g = new GraphProto { Name = "g" };
        var node = new NodeProto { OpType = opType, Name = opType.ToLowerInvariant() + "0" };
        foreach (var i in inputs)
        {
            g.Input.Add(Info(i.Name, i.Value.DataType, i.Value.Dims));
            node.Input.Add(i.Name);
        }
        foreach (var (name, type) in outputs)
        {
            g.Output.Add(Info(name, type, null));
            node.Output.Add(name);
        }
        node.Attribute.AddRange(attributes);
        g.Node.Add(node);
        var model = new ModelProto { IrVersion = 8, Graph = g, OpsetImport = { new OperatorSetIdProto { Domain = "", Version = opset } } };
        return model.ToByteArray();
    }

    private static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };
    private static AttributeProto Float(string name, float v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = v };
    private static AttributeProto Str(string name, string v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(v) };
    private static AttributeProto Ints(string name, params long[] v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Ints, Ints = { v } };

    private static Session EdgeNetSession(byte[] model, Input[] inputs)
    {
        var options = new SessionOptions();
        foreach (var i in inputs)
            if (i.Runtime) options.InputShapes[i.Name] = i.Value.Dims;
            else options.SpecializedInputs[i.Name] = i.Value;
        return new Session(OnnxImporter.Load(model, null), options);
    }

    private static Dictionary<string, Tensor> Feeds(Input[] inputs) => inputs.Where(i => i.Runtime).ToDictionary(i => i.Name, i => i.Value);

    private static Tensor[] RunEdgeNet(byte[] model, Input[] inputs) => EdgeNetSession(model, inputs).Run(Feeds(inputs));

    private static Tensor[] RunOrt(byte[] model, Input[] inputs)
    {
        using var options = new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        var feeds = inputs.Select(i => i.Value.DataType switch
        {
            DataType.Float32 => NamedOnnxValue.CreateFromTensor(i.Name, new DenseTensor<float>(i.Value.AsSpan<float>().ToArray(), i.Value.Dims)),
            DataType.Int64 => NamedOnnxValue.CreateFromTensor(i.Name, new DenseTensor<long>(i.Value.AsSpan<long>().ToArray(), i.Value.Dims)),
            DataType.Int32 => NamedOnnxValue.CreateFromTensor(i.Name, new DenseTensor<int>(i.Value.AsSpan<int>().ToArray(), i.Value.Dims)),
            _ => throw new NotSupportedException(i.Value.DataType.ToString()),
        }).ToList();
        using var results = session.Run(feeds);
        return results.Select(r => r.Value switch
        {
            DenseTensor<float> t => Tensor.FromArray(t.Dimensions.ToArray(), t.ToArray()),
            DenseTensor<long> t => Tensor.FromArray(t.Dimensions.ToArray(), t.ToArray()),
            DenseTensor<int> t => Tensor.FromArray(t.Dimensions.ToArray(), t.ToArray()),
            var other => throw new NotSupportedException(other.GetType().Name),
        }).ToArray();
    }

    /// <summary>Runs the model in EdgeNet and ONNX Runtime; shapes, types and values must agree (floats within 1e-5 + 1e-4·|x|).</summary>
    private static Tensor[] AssertMatchesOrt(byte[] model, params Input[] inputs)
    {
        var expected = RunOrt(model, inputs);
        var actual = RunEdgeNet(model, inputs);
        Assert.Equal(expected.Length, actual.Length);
        for (int o = 0; o < expected.Length; o++)
        {
            Assert.Equal(expected[o].Dims, actual[o].Dims);
            Assert.Equal(expected[o].DataType, actual[o].DataType);
            for (int i = 0; i < expected[o].ElementCount; i++)
            {
                double e = expected[o].GetAsDouble(i), a = actual[o].GetAsDouble(i);
                Assert.True(Math.Abs(e - a) <= 1e-5 + 1e-4 * Math.Abs(e), $"output {o} element {i}: EdgeNet {a}, ORT {e}");
            }
        }
        return actual;
    }

    private static Tensor Floats(int[] dims, int seed, int distinctValues = 0)
    {
        var rng = new Random(seed);
        var v = new float[Shapes.Count(dims)];
        for (int i = 0; i < v.Length; i++)
            v[i] = distinctValues > 0 ? rng.Next(distinctValues) : (float)(rng.NextDouble() * 2 - 1);
        return Tensor.FromArray(dims, v);
    }

    private static Tensor Longs(int[] dims, params long[] v) => Tensor.FromArray(dims, v);

    // ---------------------------------------------------------------- parity with ONNX Runtime

    [Theory]
    [InlineData("ij,jk", new[] { 3, 4 }, new[] { 4, 5 })]                 // implicit output "ik"
    [InlineData("ba", new[] { 3, 4 }, null)]                               // implicit output sorts: a transpose
    [InlineData("...ij,...jk->...ik", new[] { 2, 3, 4 }, new[] { 2, 4, 5 })] // ellipsis
    [InlineData("ii->i", new[] { 4, 4 }, null)]                            // diagonal
    [InlineData("ij->", new[] { 3, 5 }, null)]                             // total sum
    [InlineData("i,j->ij", new[] { 3 }, new[] { 4 })]                      // outer product
    [InlineData("bij,bkj->bik", new[] { 2, 3, 4 }, new[] { 2, 5, 4 })]     // batched A·Bᵀ
    public void EinsumMatchesOrt(string equation, int[] a, int[]? b)
    {
        var inputs = new List<Input> { new("a", Floats(a, 1)) };
        if (b is not null) inputs.Add(new("b", Floats(b, 2)));
        var model = Model("Einsum", inputs.ToArray(), [("y", DataType.Float32)], 12, Str("equation", equation));
        AssertMatchesOrt(model, inputs.ToArray());
    }

    [Fact]
    public void EinsumWithThreeOperandsMatchesOrt()
    {
        Input[] inputs = [new("a", Floats([2, 3], 1)), new("b", Floats([3, 4], 2)), new("c", Floats([4, 2], 3))];
        AssertMatchesOrt(Model("Einsum", inputs, [("y", DataType.Float32)], 12, Str("equation", "ij,jk,kl->il")), inputs);
    }

    /// <summary>ORT rejects "..." covering different ranks; numpy broadcasts them, and so does EdgeNet.</summary>
    [Fact]
    public void EinsumBroadcastsEllipsisDims()
    {
        var a = Floats([2, 1, 3, 4], 1);
        var b = Floats([5, 4, 2], 2);
        Input[] inputs = [new("a", a), new("b", b)];
        var y = RunEdgeNet(Model("Einsum", inputs, [("y", DataType.Float32)], 12, Str("equation", "...ij,...jk->...ik")), inputs)[0];
        Assert.Equal([2, 5, 3, 2], y.Dims);
        var av = a.AsSpan<float>().ToArray();
        var bv = b.AsSpan<float>().ToArray();
        var yv = y.AsSpan<float>().ToArray();
        for (int p = 0; p < 2; p++)
            for (int q = 0; q < 5; q++)
                for (int i = 0; i < 3; i++)
                    for (int k = 0; k < 2; k++)
                    {
                        float sum = 0;
                        for (int j = 0; j < 4; j++) sum += av[(p * 3 + i) * 4 + j] * bv[(q * 4 + j) * 2 + k];
                        Assert.Equal(sum, yv[((p * 5 + q) * 3 + i) * 2 + k], 5);
                    }
    }

    [Theory]
    [InlineData(-1, 1, 3)]
    [InlineData(0, 0, 2)]
    [InlineData(-2, 0, 4)]
    [InlineData(1, 1, 0)]
    public void TopKBreaksTiesByLowerIndex(int axis, int largest, int k)
    {
        // Only 3 distinct values, so most rows hold ties.
        Input[] inputs = [new("x", Floats([4, 5, 3], 7, distinctValues: 3)), new("k", Longs([1], k), Runtime: false)];
        var model = Model("TopK", inputs, [("values", DataType.Float32), ("indices", DataType.Int64)], 11,
            Int("axis", axis), Int("largest", largest));
        if (k == 0)
        {
            var r = RunEdgeNet(model, inputs); // ORT rejects some k = 0 shapes; the spec allows it
            Assert.Equal(0, r[0].ElementCount);
            return;
        }
        AssertMatchesOrt(model, inputs);
    }

    [Fact]
    public void TopKOpset1TakesKFromTheAttribute()
    {
        Input[] inputs = [new("x", Floats([3, 6], 4, distinctValues: 4))];
        AssertMatchesOrt(Model("TopK", inputs, [("values", DataType.Float32), ("indices", DataType.Int64)], 1, Int("k", 4), Int("axis", 1)), inputs);
    }

    /// <summary>The conformance data has no Mish folder and few large-magnitude inputs for the others.</summary>
    [Theory]
    [InlineData("Mish", 18, null, 0f, null, 0f)]
    [InlineData("Softplus", 13, null, 0f, null, 0f)]
    [InlineData("Softsign", 13, null, 0f, null, 0f)]
    [InlineData("ThresholdedRelu", 10, "alpha", 0.3f, null, 0f)]
    [InlineData("Selu", 6, "alpha", 1.5f, "gamma", 0.7f)]
    [InlineData("Celu", 12, "alpha", 0.5f, null, 0f)]
    [InlineData("Shrink", 9, "bias", 0.25f, "lambd", 1.5f)]
    [InlineData("HardSwish", 14, null, 0f, null, 0f)]
    [InlineData("HardSigmoid", 6, "alpha", 0.3f, "beta", 0.4f)]
    public void ActivationsMatchOrtOverAWideRange(string op, int opset, string? attr1, float value1, string? attr2, float value2)
    {
        var x = Tensor.FromArray([121], Enumerable.Range(-60, 121).Select(i => i * 0.5f).ToArray());
        Input[] inputs = [new("x", x)];
        var attrs = new List<AttributeProto>();
        if (attr1 is not null) attrs.Add(Float(attr1, value1));
        if (attr2 is not null) attrs.Add(Float(attr2, value2));
        AssertMatchesOrt(Model(op, inputs, [("y", DataType.Float32)], opset, attrs.ToArray()), inputs);
    }

    [Fact]
    public void TopKOnInt32()
    {
        var x = Tensor.FromArray([2, 6], new[] { 5, -1, 5, 3, 9, 9, 0, 0, 0, -7, 2, 2 });
        Input[] inputs = [new("x", x), new("k", Longs([1], 4), Runtime: false)];
        var r = AssertMatchesOrt(Model("TopK", inputs, [("values", DataType.Int32), ("indices", DataType.Int64)], 11), inputs);
        Assert.Equal(new long[] { 4, 5, 0, 2, 4, 5, 0, 1 }, r[1].AsSpan<long>().ToArray());
    }

    [Fact]
    public void GatherNDWithTwoBatchDimsAndNegativeIndices()
    {
        Input[] inputs = [new("data", Floats([2, 3, 4, 5], 3)), new("indices", Longs([2, 3, 2, 1], -1, 0, 3, -4, 2, 1, 0, -2, 1, 1, -3, 3))];
        AssertMatchesOrt(Model("GatherND", inputs, [("y", DataType.Float32)], 13, Int("batch_dims", 2)), inputs);
    }

    [Fact]
    public void GatherElementsWithNegativeAxis()
    {
        Input[] inputs = [new("data", Floats([3, 4], 3)), new("indices", Longs([3, 2], 0, -1, 3, 2, -4, 1))];
        AssertMatchesOrt(Model("GatherElements", inputs, [("y", DataType.Float32)], 13, Int("axis", -1)), inputs);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("add")]
    [InlineData("mul")]
    [InlineData("max")]
    [InlineData("min")]
    public void ScatterElementsReductionsOnNegativeAxis(string reduction)
    {
        Input[] inputs =
        [
            new("data", Floats([2, 4], 4)),
            new("indices", Longs([2, 3], 0, -1, 0, 2, 2, 1)),
            new("updates", Floats([2, 3], 5)),
        ];
        var attrs = reduction == "none" ? new[] { Int("axis", -1) } : new[] { Int("axis", -1), Str("reduction", reduction) };
        AssertMatchesOrt(Model("ScatterElements", inputs, [("y", DataType.Float32)], 18, attrs), inputs);
    }

    [Theory]
    [InlineData("add")]
    [InlineData("max")]
    [InlineData("min")]
    public void ScatterNDReductionsWithDuplicateTuples(string reduction)
    {
        Input[] inputs =
        [
            new("data", Floats([3, 2, 4], 4)),
            new("indices", Longs([3, 2], 1, 0, -2, -2, 2, 1)),
            new("updates", Floats([3, 4], 5)),
        ];
        AssertMatchesOrt(Model("ScatterND", inputs, [("y", DataType.Float32)], 18, Str("reduction", reduction)), inputs);
    }

    [Fact]
    public void ScatterNDOnInt32WithFullTuples()
    {
        var data = Tensor.FromArray([2, 3], new[] { 1, 2, 3, 4, 5, 6 });
        Input[] inputs = [new("data", data), new("indices", Longs([2, 2], 1, 2, 0, -3)), new("updates", Tensor.FromArray([2], new[] { 60, 10 }))];
        var r = AssertMatchesOrt(Model("ScatterND", inputs, [("y", DataType.Int32)], 16, Str("reduction", "mul")), inputs);
        Assert.Equal(new[] { 10, 2, 3, 4, 5, 360 }, r[0].AsSpan<int>().ToArray());
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void CumSumInt32OnMiddleAxis(bool exclusive, bool reverse)
    {
        var x = Tensor.FromArray([2, 3, 2], Enumerable.Range(1, 12).Select(i => i * (i % 3 == 0 ? -1 : 1)).ToArray());
        Input[] inputs = [new("x", x), new("axis", Tensor.Scalar(-2L), Runtime: false)];
        AssertMatchesOrt(Model("CumSum", inputs, [("y", DataType.Int32)], 14, Int("exclusive", exclusive ? 1 : 0), Int("reverse", reverse ? 1 : 0)), inputs);
    }

    [Theory]
    [InlineData(1, -1)]
    [InlineData(0, 2)]
    [InlineData(1, 7)]
    [InlineData(0, -9)]
    public void TriluOnABatchOfMatrices(int upper, long k)
    {
        Input[] inputs = [new("x", Floats([2, 3, 5], 6)), new("k", Tensor.Scalar(k), Runtime: false)];
        AssertMatchesOrt(Model("Trilu", inputs, [("y", DataType.Float32)], 14, Int("upper", upper)), inputs);
    }

    [Fact]
    public void OneHotWithOutOfRangeAndNegativeIndices()
    {
        Input[] inputs =
        [
            new("indices", Longs([2, 3], 0, 4, -1, 5, -6, 2)),
            new("depth", Tensor.Scalar(5L), Runtime: false),
            new("values", Tensor.FromArray([2], new[] { -2f, 3f })),
        ];
        var r = AssertMatchesOrt(Model("OneHot", inputs, [("y", DataType.Float32)], 11, Int("axis", 1)), inputs);
        Assert.Equal([2, 5, 3], r[0].Dims);
    }

    [Fact]
    public void ReverseSequenceWithTimeAxisOne()
    {
        Input[] inputs = [new("x", Floats([3, 4, 2], 8)), new("lens", Longs([3], 4, 0, 2))];
        AssertMatchesOrt(Model("ReverseSequence", inputs, [("y", DataType.Float32)], 10, Int("time_axis", 1), Int("batch_axis", 0)), inputs);
    }

    [Fact]
    public void LrnMatchesOrt()
    {
        Input[] inputs = [new("x", Floats([2, 7, 3, 2], 9))];
        AssertMatchesOrt(Model("LRN", inputs, [("y", DataType.Float32)], 13, Int("size", 5), Float("alpha", 0.3f), Float("beta", 0.6f), Float("bias", 2f)), inputs);
    }

    /// <summary>ORT accepts odd sizes only; the spec's window for even sizes is [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉].</summary>
    [Fact]
    public void LrnWithEvenSizeUsesTheSpecWindow()
    {
        var x = Floats([1, 6, 1], 9);
        Input[] inputs = [new("x", x)];
        var y = RunEdgeNet(Model("LRN", inputs, [("y", DataType.Float32)], 13, Int("size", 4), Float("alpha", 0.3f), Float("beta", 0.6f), Float("bias", 2f)), inputs)[0];
        var xv = x.AsSpan<float>().ToArray();
        for (int c = 0; c < 6; c++)
        {
            double sum = 0;
            for (int j = Math.Max(0, c - 1); j <= Math.Min(5, c + 2); j++) sum += xv[j] * xv[j];
            Assert.Equal(xv[c] / Math.Pow(2 + 0.3 / 4 * sum, 0.6), y.AsSpan<float>()[c], 5);
        }
    }

    [Fact]
    public void MvnOverOneAxis()
    {
        Input[] inputs = [new("x", Floats([2, 7, 3], 10))];
        AssertMatchesOrt(Model("MeanVarianceNormalization", inputs, [("y", DataType.Float32)], 13, Ints("axes", 1)), inputs);
    }

    [Fact]
    public void EyeLikeNonSquareBelowDiagonal()
    {
        Input[] inputs = [new("x", Floats([4, 3], 1))];
        var r = AssertMatchesOrt(Model("EyeLike", inputs, [("y", DataType.Int64)], 9, Int("k", -2), Int("dtype", 7)), inputs);
        Assert.Equal(new long[] { 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0 }, r[0].AsSpan<long>().ToArray());
    }

    // ---------------------------------------------------------------- bad run-time data

    public static TheoryData<string> BadIndexCases => ["GatherElements", "GatherND", "ScatterElements", "ScatterND", "ReverseSequence"];

    /// <summary>(model, good inputs, the same with one bad index) for each op that reads indices at run time.</summary>
    private static (byte[] Model, Input[] Good, Input[] Bad) IndexCase(string op)
    {
        var data = Floats([3, 4], 11);
        Input[] Make(long[] indices) => op switch
        {
            "GatherElements" => [new("data", data), new("indices", Longs([2, 2], indices))],
            "GatherND" => [new("data", data), new("indices", Longs([2, 2], indices))],
            "ScatterElements" => [new("data", data), new("indices", Longs([2, 2], indices)), new("updates", Floats([2, 2], 12))],
            "ScatterND" => [new("data", data), new("indices", Longs([2, 2], indices)), new("updates", Floats([2], 12))],
            _ => [new("data", data), new("indices", Longs([4], indices.Select(i => Math.Min(Math.Abs(i), 3)).ToArray()))],
        };
        var good = Make([0, 2, -1, 1]);
        var bad = op == "ReverseSequence"
            ? [new("data", data), new("indices", Longs([4], 1, 2, 4, 0))] // 4 > 3 time steps
            : Make([0, 2, 1, long.MinValue + 1]);
        var outputs = new[] { ("y", DataType.Float32) };
        var model = op == "ReverseSequence" ? Model(op, good, outputs, 10) : Model(op, good, outputs, 16);
        return (model, good, bad);
    }

    [Theory]
    [MemberData(nameof(BadIndexCases))]
    public void OutOfRangeIndicesRaiseAnEdgeNetErrorAndLeaveTheSessionUsable(string op)
    {
        var (model, good, bad) = IndexCase(op);
        var session = EdgeNetSession(model, good);
        var before = session.Run(Feeds(good))[0].ToFloatArray();
        var ex = Assert.ThrowsAny<EdgeNetException>(() => session.Run(Feeds(bad)));
        Assert.IsType<InputMismatchException>(ex);
        Assert.Contains(op, ex.Message);
        Assert.Equal(before, session.Run(Feeds(good))[0].ToFloatArray());
        AssertMatchesOrt(model, good);
    }

    [Fact]
    public void OneHotIndexPastInt64RangeIsAllOff()
    {
        Input[] inputs =
        [
            new("indices", Tensor.FromArray([3], new[] { 1e30f, -1e30f, float.NaN })),
            new("depth", Tensor.Scalar(4L), Runtime: false),
            new("values", Tensor.FromArray([2], new[] { 0f, 1f })),
        ];
        var r = RunEdgeNet(Model("OneHot", inputs, [("y", DataType.Float32)], 11), inputs);
        Assert.All(r[0].ToFloatArray(), v => Assert.Equal(0f, v));
    }

    // ---------------------------------------------------------------- plan-time errors

    [Fact]
    public void TopKWithARunTimeKIsUnsupportedNamingK()
    {
        Input[] inputs = [new("x", Floats([2, 5], 1)), new("k", Longs([1], 2))];
        var ex = Assert.Throws<UnsupportedOperatorException>(() => RunEdgeNet(Model("TopK", inputs, [("v", DataType.Float32), ("i", DataType.Int64)], 11), inputs));
        Assert.Contains("K", ex.Message);
    }

    [Fact]
    public void TopKWithKLargerThanTheAxisIsAShapeError()
    {
        Input[] inputs = [new("x", Floats([2, 5], 1)), new("k", Longs([1], 6), Runtime: false)];
        Assert.Throws<ShapeInferenceException>(() => RunEdgeNet(Model("TopK", inputs, [("v", DataType.Float32), ("i", DataType.Int64)], 11), inputs));
    }

    [Fact]
    public void NonZeroNeedsAPlanTimeInput()
    {
        var x = Tensor.FromArray([2, 3], new[] { 0f, 1f, 0f, 2f, 0f, 3f });
        Input[] runtime = [new("x", x)];
        var model = Model("NonZero", runtime, [("y", DataType.Int64)], 13);
        var ex = Assert.Throws<UnsupportedOperatorException>(() => RunEdgeNet(model, runtime));
        Assert.Contains("NonZero", ex.Message);
        var r = RunEdgeNet(model, [new("x", x, Runtime: false)]);
        Assert.Equal([2, 3], r[0].Dims);
        Assert.Equal(new long[] { 0, 1, 1, 1, 0, 2 }, r[0].AsSpan<long>().ToArray());
    }

    [Theory]
    [InlineData("ij,jk->ik", new[] { 3, 4 }, new[] { 5, 6 })]  // j is 4 and 5
    [InlineData("ij->ix", new[] { 3, 4 }, null)]               // x not in any input
    [InlineData("ijk->i", new[] { 3, 4 }, null)]               // rank mismatch
    [InlineData("i2->i", new[] { 3, 4 }, null)]                // not a letter
    [InlineData("ij,jk->ik", new[] { 3, 4 }, null)]            // two terms, one input
    public void BadEinsumEquationsAreShapeErrors(string equation, int[] a, int[]? b)
    {
        var inputs = new List<Input> { new("a", Floats(a, 1)) };
        if (b is not null) inputs.Add(new("b", Floats(b, 2)));
        var model = Model("Einsum", inputs.ToArray(), [("y", DataType.Float32)], 12, Str("equation", equation));
        var ex = Assert.Throws<ShapeInferenceException>(() => RunEdgeNet(model, inputs.ToArray()));
        Assert.Contains("einsum0", ex.Message);
    }

    [Fact]
    public void EinsumTooLargeForTheReferenceIsUnsupported()
    {
        // 4096^4 = 2^48 label assignments from two 2^24-element operands.
        Input[] inputs = [new("a", Tensor.Zeros(DataType.Float32, [4096, 4096])), new("b", Tensor.Zeros(DataType.Float32, [4096, 4096]))];
        var model = Model("Einsum", inputs, [("y", DataType.Float32)], 12, Str("equation", "ij,kl->"));
        var ex = Assert.Throws<UnsupportedOperatorException>(() => EdgeNetSession(model, inputs).Plan);
        Assert.Contains("limit", ex.Message);
    }

    [Fact]
    public void TriluOnAVectorAndGatherNDWithTooLongTuplesAreShapeErrors()
    {
        Input[] trilu = [new("x", Floats([5], 1))];
        Assert.Throws<ShapeInferenceException>(() => RunEdgeNet(Model("Trilu", trilu, [("y", DataType.Float32)], 14), trilu));
        Input[] gather = [new("data", Floats([3, 4], 1)), new("indices", Longs([1, 3], 0, 0, 0))];
        Assert.Throws<ShapeInferenceException>(() => RunEdgeNet(Model("GatherND", gather, [("y", DataType.Float32)], 13), gather));
    }

    [Fact]
    public void ScatterMaxBeforeOpset18IsRejected()
    {
        Input[] inputs = [new("data", Floats([2, 4], 4)), new("indices", Longs([1, 1], 0)), new("updates", Floats([1, 1], 5))];
        var ex = Assert.Throws<ShapeInferenceException>(() => RunEdgeNet(Model("ScatterElements", inputs, [("y", DataType.Float32)], 16, Str("reduction", "max")), inputs));
        Assert.Contains("18", ex.Message);
    }

    // ---------------------------------------------------------------- zero allocation

    [Theory]
    [InlineData("Einsum")]
    [InlineData("TopK")]
    [InlineData("ScatterND")]
    [InlineData("GatherElements")]
    [InlineData("MeanVarianceNormalization")]
    public void RunAllocatesNothing(string op)
    {
        Input[] inputs;
        byte[] model;
        switch (op)
        {
            case "Einsum":
                inputs = [new("a", Floats([2, 3, 4], 1)), new("b", Floats([2, 4, 5], 2)), new("c", Floats([5], 3))];
                model = Model(op, inputs, [("y", DataType.Float32)], 12, Str("equation", "bij,bjk,k->bi"));
                break;
            case "TopK":
                inputs = [new("x", Floats([3, 50], 1)), new("k", Longs([1], 5), Runtime: false)];
                model = Model(op, inputs, [("v", DataType.Float32), ("i", DataType.Int64)], 11);
                break;
            case "ScatterND":
                inputs = [new("data", Floats([3, 2, 4], 4)), new("indices", Longs([3, 2], 1, 0, -2, -2, 2, 1)), new("updates", Floats([3, 4], 5))];
                model = Model(op, inputs, [("y", DataType.Float32)], 18, Str("reduction", "max"));
                break;
            case "GatherElements":
                inputs = [new("data", Floats([3, 4], 3)), new("indices", Longs([3, 2], 0, -1, 3, 2, -4, 1))];
                model = Model(op, inputs, [("y", DataType.Float32)], 13, Int("axis", 1));
                break;
            default:
                inputs = [new("x", Floats([2, 3, 4, 5], 1))];
                model = Model(op, inputs, [("y", DataType.Float32)], 13);
                break;
        }
        var session = EdgeNetSession(model, inputs);
        session.Run(Feeds(inputs));
        Assert.NotEmpty(session.Plan.Steps);
        Allocations.AssertNoneAfterWarmUp(session.Run);
    }
}
