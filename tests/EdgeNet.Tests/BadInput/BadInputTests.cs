using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Onnx;
using EdgeNet.Onnx.Proto;
using Google.Protobuf;

namespace EdgeNet.Tests.BadInput;

/// <summary>Each kind of bad input gets its own EdgeNet exception type and a message naming the problem.</summary>
public class BadInputTests
{
    private static ValueInfoProto FloatInfo(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (long d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } };
    }

    private static ModelProto Model(GraphProto graph, long opset = 13) => new()
    {
        IrVersion = 8,
        Graph = graph,
        OpsetImport = { new OperatorSetIdProto { Domain = "", Version = opset } },
    };

    /// <summary>y = Relu(x), x: float[2,3].</summary>
    private static ModelProto ReluModel()
    {
        var g = new GraphProto { Name = "g" };
        g.Input.Add(FloatInfo("x", 2, 3));
        g.Output.Add(FloatInfo("y", 2, 3));
        g.Node.Add(new NodeProto { OpType = "Relu", Name = "relu0", Input = { "x" }, Output = { "y" } });
        return Model(g);
    }

    private static Model Load(ModelProto proto, string? dir = null) => OnnxImporter.Load(proto.ToByteArray(), dir);

    [Fact]
    public void TruncatedOrGarbageFileIsAFormatError()
    {
        byte[] good = ReluModel().ToByteArray();
        Assert.Throws<ModelFormatException>(() => OnnxImporter.Load(good.AsSpan(0, good.Length - 7).ToArray(), null));
        var garbage = new byte[4096];
        new Random(3).NextBytes(garbage);
        Assert.ThrowsAny<EdgeNetException>(() => OnnxImporter.Load(garbage, null));
        string path = Path.Combine(Path.GetTempPath(), $"edgenet-garbage-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, garbage);
        try
        {
            var ex = Assert.ThrowsAny<EdgeNetException>(() => OnnxImporter.Load(path));
            Assert.Contains(Path.GetFileName(path), ex.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void TensorDataNotMatchingDimsIsRejected()
    {
        var proto = ReluModel();
        var w = new TensorProto { Name = "w", DataType = 1, Dims = { 2, 3 }, RawData = ByteString.CopyFrom(new byte[20]) };
        proto.Graph.Initializer.Add(w);
        var ex = Assert.Throws<InvalidModelException>(() => Load(proto));
        Assert.Contains("w", ex.Message);
    }

    [Theory]
    [InlineData(-5L)]
    [InlineData(long.MaxValue)]
    [InlineData(1L << 40)]
    public void NegativeOrOverflowingDimsAreRejected(long dim)
    {
        var proto = ReluModel();
        proto.Graph.Initializer.Add(new TensorProto { Name = "w", DataType = 1, Dims = { dim, dim }, RawData = ByteString.CopyFrom(new byte[16]) });
        Assert.Throws<InvalidModelException>(() => Load(proto));
    }

    [Fact]
    public void ExternalDataLeavingTheModelFolderIsRejected()
    {
        string dir = Directory.CreateTempSubdirectory("edgenet-ext").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(Path.GetDirectoryName(dir)!, "secret.bin"), new byte[24]);
            var proto = ReluModel();
            var w = new TensorProto { Name = "w", DataType = 1, Dims = { 2, 3 }, DataLocation = TensorProto.Types.DataLocation.External };
            w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "../secret.bin" });
            proto.Graph.Initializer.Add(w);
            var ex = Assert.Throws<InvalidModelException>(() => Load(proto, dir));
            Assert.Contains("secret.bin", ex.Message);

            w.ExternalData[0].Value = "/etc/passwd";
            Assert.Throws<InvalidModelException>(() => Load(proto, dir));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void GraphCycleIsRejected()
    {
        var g = new GraphProto { Name = "cycle" };
        g.Input.Add(FloatInfo("x", 2));
        g.Output.Add(FloatInfo("c", 2));
        g.Node.Add(new NodeProto { OpType = "Add", Name = "n1", Input = { "x", "b" }, Output = { "a" } });
        g.Node.Add(new NodeProto { OpType = "Relu", Name = "n2", Input = { "a" }, Output = { "b" } });
        g.Node.Add(new NodeProto { OpType = "Relu", Name = "n3", Input = { "b" }, Output = { "c" } });
        var ex = Assert.Throws<InvalidModelException>(() => Load(Model(g)));
        Assert.Contains("cycle", ex.Message);
    }

    [Fact]
    public void MissingInputIsRejectedByName()
    {
        var g = new GraphProto { Name = "missing" };
        g.Input.Add(FloatInfo("x", 2));
        g.Output.Add(FloatInfo("y", 2));
        g.Node.Add(new NodeProto { OpType = "Add", Name = "add0", Input = { "x", "nowhere" }, Output = { "y" } });
        var ex = Assert.Throws<InvalidModelException>(() => Load(Model(g)));
        Assert.Contains("nowhere", ex.Message);
    }

    [Fact]
    public void UnknownOpNamesOpNodeAndOpset()
    {
        var g = new GraphProto { Name = "unknown" };
        g.Input.Add(FloatInfo("x", 2));
        g.Output.Add(FloatInfo("y", 2));
        g.Node.Add(new NodeProto { OpType = "FrobnicateQuantum", Name = "frob7", Input = { "x" }, Output = { "y" } });
        var model = Load(Model(g, opset: 17));
        var ex = Assert.Throws<UnsupportedOperatorException>(() => new Session(model));
        Assert.Contains("FrobnicateQuantum", ex.Message);
        Assert.Contains("frob7", ex.Message);
        Assert.Contains("17", ex.Message);
    }

    [Fact]
    public void WrongInputShapeOrTypeAtRunNamesTheInput()
    {
        var session = new Session(Load(ReluModel()));
        var ex = Assert.Throws<InputMismatchException>(() =>
            session.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([3, 2], new float[6]) }));
        Assert.Contains("'x'", ex.Message);
        Assert.Contains("2x3", ex.Message);
        ex = Assert.Throws<InputMismatchException>(() =>
            session.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([2, 3], new long[6]) }));
        Assert.Contains("'x'", ex.Message);
        Assert.Contains("Float32", ex.Message);
        Assert.Throws<InputMismatchException>(() => session.Run(new Dictionary<string, Tensor>()));
    }

    [Fact]
    public void SessionStillWorksAfterARejectedShape()
    {
        var session = new Session(Load(ReluModel()));
        Assert.Throws<InputMismatchException>(() =>
            session.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([3, 2], new float[6]) }));
        session.Run(); // the old plan still stands
        Assert.ThrowsAny<EdgeNetException>(() => session.SetInputShape("x", [1, 7]));
        session.Run();
        var y = session.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([2, 3], new float[] { -1, 2, -3, 4, -5, 6 }) });
        Assert.Equal(new float[] { 0, 2, 0, 4, 0, 6 }, y[0].ToFloatArray());
        session.Input<float>(0)[0] = 9;
        session.Run();
        Assert.Equal(9, session.Output<float>(0)[0]);
    }
}
