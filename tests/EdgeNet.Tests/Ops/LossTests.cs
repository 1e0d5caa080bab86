using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Onnx;
using EdgeNet.Onnx.Proto;
using Google.Protobuf;

namespace EdgeNet.Tests.Ops;

/// <summary>Loss ops beyond the conformance data: hand-computed values and out-of-range targets.</summary>
public class LossTests
{
    private static Session LossSession(string op, string reduction, params string[] extraOutputs)
    {
        var g = new GraphProto { Name = "g" };
        g.Input.Add(new ValueInfoProto { Name = "x", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = Shape(2, 3) } } });
        g.Input.Add(new ValueInfoProto { Name = "t", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 7, Shape = Shape(2) } } });
        g.Output.Add(new ValueInfoProto { Name = "loss" });
        foreach (var o in extraOutputs) g.Output.Add(new ValueInfoProto { Name = o });
        var node = new NodeProto { OpType = op, Name = "loss0", Input = { "x", "t" }, Output = { "loss" } };
        node.Output.AddRange(extraOutputs);
        node.Attribute.Add(new AttributeProto { Name = "reduction", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(reduction) });
        g.Node.Add(node);
        var model = new ModelProto { IrVersion = 8, Graph = g, OpsetImport = { new OperatorSetIdProto { Domain = "", Version = 13 } } };
        return new Session(OnnxImporter.Load(model.ToByteArray(), null));
    }

    private static TensorShapeProto Shape(params long[] dims)
    {
        var s = new TensorShapeProto();
        foreach (var d in dims) s.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return s;
    }

    private static Dictionary<string, Tensor> Feeds(long t0, long t1) => new()
    {
        ["x"] = Tensor.FromArray([2, 3], new float[] { 1, 2, 3, 0, 0, 5 }),
        ["t"] = Tensor.FromArray([2], new long[] { t0, t1 }),
    };

    [Fact]
    public void CrossEntropyMeanMatchesHandComputedValue()
    {
        var s = LossSession("SoftmaxCrossEntropyLoss", "mean", "log_prob");
        var r = s.Run(Feeds(2, 0));
        double l0 = -(3 - Math.Log(Math.Exp(1) + Math.Exp(2) + Math.Exp(3)));
        double l1 = -(0 - Math.Log(1 + 1 + Math.Exp(5)));
        Assert.Equal((l0 + l1) / 2, r[0].ToFloatArray()[0], 5);
        Assert.Equal(1 - Math.Log(Math.Exp(1) + Math.Exp(2) + Math.Exp(3)), r[1].ToFloatArray()[0], 5);
    }

    [Fact]
    public void NllNoneReductionPicksTheTargetColumn()
    {
        var r = LossSession("NegativeLogLikelihoodLoss", "none").Run(Feeds(1, 2));
        Assert.Equal(new float[] { -2, -5 }, r[0].ToFloatArray());
    }

    [Theory]
    [InlineData(3)]
    [InlineData(-1)]
    public void TargetOutsideTheClassesIsAnInputError(long bad)
    {
        var s = LossSession("NegativeLogLikelihoodLoss", "sum");
        var ex = Assert.Throws<InputMismatchException>(() => s.Run(Feeds(0, bad)));
        Assert.Contains("loss0", ex.Message);
        Assert.Contains($"target {bad}", ex.Message);
    }
}
