using EdgeNet.IR;
using EdgeNet.Onnx;
using EdgeNet.Onnx.Conformance;
using EdgeNet.Onnx.Proto;
using Google.Protobuf;

namespace EdgeNet.Tests.Onnx;

public class OnnxImporterTests
{
    private const string Node = "/usr/share/libonnx-testdata/data/node";

    [Fact]
    public void ImportsAConformanceModel()
    {
        var model = OnnxImporter.Load(Path.Combine(Node, "test_add", "model.onnx"));
        Assert.Equal(2, model.Graph.Inputs.Count);
        Assert.Equal("x", model.Graph.Inputs[0].Name);
        Assert.Equal(DataType.Float32, model.Graph.Inputs[0].DataType);
        Assert.Equal(new[] { 3L, 4, 5 }, model.Graph.Inputs[0].Shape!.Select(d => d.Value));
        var add = Assert.Single(model.Graph.Nodes);
        Assert.Equal("Add", add.OpType);
        Assert.True(add.OpsetVersion >= 7);
        Assert.Same(model.Graph.Outputs[0], add.Outputs[0]);
        Assert.Same(add, add.Outputs[0].Producer);
    }

    [Fact]
    public void ConstantNodesBecomeInitializersAndSymbolicDimsSurvive()
    {
        var g = new GraphProto { Name = "g" };
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = 3 });
        g.Input.Add(new ValueInfoProto { Name = "x", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } });
        g.Output.Add(new ValueInfoProto { Name = "y" });
        var w = new TensorProto { DataType = 1, Dims = { 3 }, FloatData = { 1, 2, 3 } };
        g.Node.Add(new NodeProto { OpType = "Constant", Output = { "w" }, Attribute = { new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = w } } });
        g.Node.Add(new NodeProto { OpType = "Mul", Input = { "x", "w" }, Output = { "y" } });
        var model = OnnxImporter.FromProto(new ModelProto { Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 13 } } });
        Assert.Single(model.Graph.Nodes);
        Assert.Equal(new float[] { 1, 2, 3 }, model.Graph.Values["w"].Constant!.ToFloatArray());
        Assert.Equal("batch", model.Graph.Inputs[0].Shape![0].Symbol);
        Assert.Equal(13, model.Graph.Nodes[0].OpsetVersion);
    }

    [Fact]
    public void SubgraphsResolveOuterNamesToTheSameValue()
    {
        var model = OnnxImporter.Load(Path.Combine(Node, "test_if", "model.onnx"));
        var ifNode = model.Graph.Nodes.Single(n => n.OpType == "If");
        var then = ifNode.GetGraph("then_branch")!;
        Assert.NotEmpty(then.Outputs);
    }

    [Fact]
    public void TypedFieldsDecodeForEveryIntegerType()
    {
        var t = TensorProtoConverter.FromProto(new TensorProto { DataType = (int)DataType.Int8, Dims = { 3 }, Int32Data = { -1, 5, 127 } });
        Assert.Equal(new sbyte[] { -1, 5, 127 }, t.AsSpan<sbyte>().ToArray());
        t = TensorProtoConverter.FromProto(new TensorProto { DataType = (int)DataType.Bool, Dims = { 2 }, Int32Data = { 0, 1 } });
        Assert.Equal(new byte[] { 0, 1 }, t.AsSpan<byte>().ToArray());
        t = TensorProtoConverter.FromProto(new TensorProto { DataType = (int)DataType.UInt32, Dims = { 1 }, Uint64Data = { 4000000000 } });
        Assert.Equal(4000000000u, t.AsSpan<uint>()[0]);
        Assert.Throws<InvalidModelException>(() => TensorProtoConverter.FromProto(new TensorProto { DataType = 1, Dims = { 4 }, FloatData = { 1, 2 } }));
        Assert.Throws<UnsupportedOperatorException>(() => TensorProtoConverter.FromProto(new TensorProto { DataType = 8, Dims = { 1 } }));
    }

    [Fact]
    public void PbAndNpyRoundTrip()
    {
        string dir = Directory.CreateTempSubdirectory("edgenet-io").FullName;
        try
        {
            var tensors = new[]
            {
                Tensor.FromArray([2, 3], new float[] { 1, -2, 3.5f, 4, 5, 6 }),
                Tensor.FromArray([4], new long[] { 1, -2, long.MaxValue, 0 }),
                Tensor.FromArray([2, 1, 2], new sbyte[] { -128, 0, 1, 127 }),
                Tensor.FromArray([3], new double[] { 1e300, -0.5, 0 }),
                Tensor.FromArray([], new int[] { 42 }),
                Tensor.FromArray([2], new bool[] { true, false }),
            };
            for (int i = 0; i < tensors.Length; i++)
            {
                foreach (string ext in new[] { ".pb", ".npy" })
                {
                    string path = Path.Combine(dir, $"t{i}{ext}");
                    TensorFiles.Write(path, $"t{i}", tensors[i]);
                    var back = TensorFiles.Read(path);
                    Assert.Equal(tensors[i].DataType, back.DataType);
                    Assert.Equal(tensors[i].Dims, back.Dims);
                    Assert.Equal(tensors[i].Data.ToArray(), back.Data.ToArray());
                }
            }
            Assert.Equal("t0", TensorFiles.ReadPb(Path.Combine(dir, "t0.pb")).Name);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void RunnerReportsUnsupportedOpsAsUnsupported()
    {
        var r = TestDataRunner.Run(Path.Combine(Node, "test_tfidfvectorizer_tf_only_bigrams_skip0"));
        Assert.Equal(TestStatus.Unsupported, r.Status);
        Assert.Contains("TfIdfVectorizer", r.Message);
    }

    [Fact]
    public void CompareChecksShapesAndTolerances()
    {
        var a = Tensor.FromArray([2], new float[] { 1, float.NaN });
        Assert.True(TestDataRunner.Compare(a, Tensor.FromArray([2], new float[] { 1.0005f, float.NaN }), 1e-3, 1e-4).Ok);
        Assert.False(TestDataRunner.Compare(a, Tensor.FromArray([2], new float[] { 1.01f, float.NaN }), 1e-3, 1e-4).Ok);
        Assert.False(TestDataRunner.Compare(a, Tensor.FromArray([1, 2], new float[] { 1, float.NaN }), 1e-3, 1e-4).Ok);
    }
}
