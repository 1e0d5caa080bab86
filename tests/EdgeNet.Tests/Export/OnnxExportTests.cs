using System.Diagnostics;
using EdgeNet.Execution;
using EdgeNet.Format;
using EdgeNet.IR;
using EdgeNet.Onnx;
using EdgeNet.Onnx.Export;
using EdgeNet.Onnx.Proto;
using EdgeNet.Passes;
using EdgeNet.Tests.RealModels;

namespace EdgeNet.Tests.Export;

/// <summary>
/// Real models: ONNX → import → graph passes → .enet → export-onnx → ONNX Runtime gives EdgeNet's output on the .enet,
/// and after a weight change (what fine-tuning does) ORT sees the new weights.
/// </summary>
public class OnnxExportTests
{
    public static TheoryData<string, string, int[], float, float> Cases => new()
    {
        { "ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx", "x", [1, 3, 48, 192], -1f, 1f },
        { "openwakeword/melspectrogram.onnx", "input", [1, 1760], -3000f, 3000f },
        { "openwakeword/embedding_model.onnx", "input_1", [1, 76, 32, 1], 0f, 4f },
        { "openwakeword/hey_jarvis_v0.1.onnx", "x.1", [1, 16, 96], -2f, 2f },
        { "openwakeword/alexa_v0.1.onnx", "onnx::Flatten_0", [1, 16, 96], -2f, 2f },
        { "generated/mobilenet_v2/model.onnx", "input", [1, 3, 224, 224], -2f, 2f },
        { "generated/resnet18/model.onnx", "input", [1, 3, 224, 224], -2f, 2f },
        { "generated/lstm_kws/model.onnx", "input", [1, 49, 40], -2f, 2f },
        { "generated/gru_kws/model.onnx", "input", [1, 49, 40], -2f, 2f },
        { "generated/ds_cnn/model.onnx", "input", [1, 1, 49, 10], -2f, 2f },
        { "generated/tiny_transformer/model.onnx", "input", [1, 16, 32], -2f, 2f },
    };

    private static string Temp(string ext) => Path.Combine(Path.GetTempPath(), $"edgenet-export-{Guid.NewGuid():N}{ext}");

    /// <summary>The converted form of a model: imported, optimized, written to .enet and read back.</summary>
    private static Model Converted(string relative)
    {
        var model = OnnxImporter.Load(RepoPaths.Model(relative));
        PassPipeline.Optimize(model);
        string enet = Temp(".enet");
        EnetWriter.Write(model, enet);
        return EnetReader.Load(enet);
    }

    private static void AssertOrtMatchesEdgeNet(Model model, string onnx, string input, int[] dims, float lo, float hi, string what)
    {
        var session = new Session(model);
        for (int seed = 1; seed <= 2; seed++)
        {
            var feeds = new Dictionary<string, Tensor> { [input] = Parity.Random(dims, seed, lo, hi) };
            var expected = OrtOracle.Run(onnx, feeds);
            var actual = session.Run(feeds);
            Assert.Equal(actual.Length, expected.Length);
            for (int i = 0; i < expected.Length; i++) Parity.AssertClose(expected[i], actual[i], $"{what} seed {seed} output {i}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ExportedModelRunsInOnnxRuntimeWithEdgeNetsOutput(string relative, string input, int[] dims, float lo, float hi)
    {
        var model = Converted(relative);
        string onnx = Temp(".onnx");
        OnnxExporter.Save(model, onnx);
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnx));
        Assert.Equal(OnnxExporter.IrVersionFor((int)proto.OpsetImport.Single(o => o.Domain.Length == 0).Version), proto.IrVersion);
        Assert.All(proto.Graph.Initializer, t => Assert.False(t.RawData.IsEmpty && t.Dims.Aggregate(1L, (a, b) => a * b) > 0, $"{t.Name} has no raw_data"));
        Assert.All(proto.Graph.Node, n => Assert.DoesNotContain(n.Attribute, a => a.Name.StartsWith("edgenet.", StringComparison.Ordinal)));
        Assert.DoesNotContain(proto.Graph.Node, n => n.Domain == "edgenet");
        AssertOrtMatchesEdgeNet(model, onnx, input, dims, lo, hi, relative + " exported");

        // The export imports back into EdgeNet with the same output too.
        var reimported = OnnxImporter.Load(onnx);
        PassPipeline.Optimize(reimported);
        var feeds = new Dictionary<string, Tensor> { [input] = Parity.Random(dims, 3, lo, hi) };
        var a = new Session(model).Run(feeds);
        var b = new Session(reimported).Run(feeds);
        for (int i = 0; i < a.Length; i++) Parity.AssertClose(a[i], b[i], $"{relative} re-imported output {i}", oracle: "EdgeNet");
    }

    [Theory]
    [InlineData("ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx", "x", new[] { 1, 3, 48, 192 })]
    [InlineData("openwakeword/hey_jarvis_v0.1.onnx", "x.1", new[] { 1, 16, 96 })]
    public void OnnxRuntimeSeesChangedWeights(string relative, string input, int[] dims)
    {
        var model = Converted(relative);
        var feeds = new Dictionary<string, Tensor> { [input] = Parity.Random(dims, 11, -1f, 1f) };
        var before = new Session(model).Run(feeds)[0].ToFloatArray();

        // Fine-tuning changes the float weights in place; do the same to every float initializer of rank ≥ 2 after
        // the first half of the graph (the head), then save as .enet and export.
        var rng = new Random(5);
        var tail = model.Graph.Nodes.Skip(model.Graph.Nodes.Count / 2).SelectMany(n => n.Inputs).OfType<Value>().Where(v => v.Constant is { DataType: DataType.Float32, Rank: >= 2 }).Distinct().ToList();
        Assert.NotEmpty(tail);
        foreach (var v in tail)
        {
            var w = v.Constant!.ToFloatArray();
            for (int i = 0; i < w.Length; i++) w[i] = w[i] * 1.5f + (float)(rng.NextDouble() - 0.5) * 0.1f;
            v.Constant = Tensor.FromArray(v.Constant.Dims, w);
        }
        string enet = Temp(".enet"), onnx = Temp(".onnx");
        EnetWriter.Write(model, enet);
        var tuned = EnetReader.Load(enet);
        var after = new Session(tuned).Run(feeds)[0].ToFloatArray();
        Assert.True(before.Zip(after).Max(p => Math.Abs(p.First - p.Second)) > 1e-3, "the weight change must change the output");
        OnnxExporter.Save(tuned, onnx);
        AssertOrtMatchesEdgeNet(tuned, onnx, input, dims, -1f, 1f, relative + " tuned");
    }

    [Fact]
    public void FusedActivationsAndEdgeNetOpsBecomeStandardOnnx()
    {
        // x → MatMul(+fused Clip) → edgenet.Swish → LayerNormalization (opset 17 op in an opset-13 model) → Gemm(+fused HardSwish).
        var g = new Graph { Name = "fused" };
        var x = g.GetOrAddValue("x");
        x.DataType = DataType.Float32;
        x.Shape = [Dim.Known(2), Dim.Known(4)];
        g.Inputs.Add(x);
        var rng = new Random(3);
        Tensor W(params int[] dims) => Tensor.FromArray(dims, Enumerable.Range(0, dims.Aggregate(1, (a, b) => a * b)).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray());
        Value Node(string op, string name, int opset, string domain, params Value?[] inputs)
        {
            var n = new Node { OpType = op, Name = name, OpsetVersion = opset, Domain = domain };
            n.Inputs.AddRange(inputs);
            var y = g.GetOrAddValue(name + "_out");
            y.DataType = DataType.Float32;
            n.Outputs.Add(y);
            y.Producer = n;
            g.Nodes.Add(n);
            return y;
        }
        var m = Node("MatMul", "mm", 13, "", x, g.AddConstant("w1", W(4, 6)));
        new EdgeNet.Kernels.Activation.FusedActivation(EdgeNet.Kernels.Activation.ActivationKind.Clip, -0.5f, 0.7f).WriteTo(m.Producer!);
        var s = Node("Swish", "swish", 1, "edgenet", m);
        var ln = Node("LayerNormalization", "ln", 17, "", s, g.AddConstant("gamma", W(6)), g.AddConstant("beta", W(6)));
        ln.Producer!.SetAttribute(IR.Attribute.Of("axis", -1L));
        ln.Producer.SetAttribute(IR.Attribute.Of("epsilon", 1e-5f));
        var y = Node("Gemm", "gemm", 13, "", ln, g.AddConstant("w2", W(6, 3)), g.AddConstant("b2", W(3)));
        new EdgeNet.Kernels.Activation.FusedActivation(EdgeNet.Kernels.Activation.ActivationKind.HardSwish).WriteTo(y.Producer!);
        g.Outputs.Add(y);
        var model = new Model { Graph = g };
        model.Opsets[""] = 13;
        model.Opsets["edgenet"] = 1;

        string onnx = Temp(".onnx");
        OnnxExporter.Save(model, onnx);
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnx));
        var ops = proto.Graph.Node.Select(n => n.OpType).ToList();
        Assert.Equal(["MatMul", "Clip", "Sigmoid", "Mul", "ReduceMean", "Sub", "Mul", "ReduceMean", "Add", "Sqrt", "Div", "Mul", "Add", "Gemm", "HardSigmoid", "Mul"], ops);
        Assert.Equal(13, proto.OpsetImport.Single().Version);
        AssertOrtMatchesEdgeNet(model, onnx, "x", [2, 4], -2f, 2f, "fused");
    }

    [Fact]
    public void FusedLeakyReluFloorBecomesLeakyReluAndMax()
    {
        var g = new Graph { Name = "floor" };
        var x = g.GetOrAddValue("x");
        x.DataType = DataType.Float32;
        x.Shape = [Dim.Known(3), Dim.Known(5)];
        g.Inputs.Add(x);
        var rng = new Random(4);
        var w = Tensor.FromArray([5, 7], Enumerable.Range(0, 35).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray());
        var node = new Node { OpType = "MatMul", Name = "mm", OpsetVersion = 13 };
        node.Inputs.AddRange([x, g.AddConstant("w", w)]);
        var y = g.GetOrAddValue("y");
        y.DataType = DataType.Float32;
        node.Outputs.Add(y);
        y.Producer = node;
        g.Nodes.Add(node);
        g.Outputs.Add(y);
        new EdgeNet.Kernels.Activation.FusedActivation(EdgeNet.Kernels.Activation.ActivationKind.LeakyReluFloor, 0.2f, -0.3f).WriteTo(node);
        var model = new Model { Graph = g };
        model.Opsets[""] = 13;

        string onnx = Temp(".onnx");
        OnnxExporter.Save(model, onnx);
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnx));
        Assert.Equal(["MatMul", "LeakyRelu", "Max"], proto.Graph.Node.Select(n => n.OpType).ToList());
        AssertOrtMatchesEdgeNet(model, onnx, "x", [3, 5], -3f, 3f, "leaky floor");
    }

    [Fact]
    public void TheCliCommandWritesAnOnnxFile()
    {
        var model = Converted("openwakeword/hey_jarvis_v0.1.onnx");
        string enet = Temp(".enet"), onnx = Temp(".onnx");
        EnetWriter.Write(model, enet);
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "edgenet.dll"), "export-onnx", enet, "-o", onnx }) psi.ArgumentList.Add(arg);
        using var p = Process.Start(psi)!;
        string stdout = p.StandardOutput.ReadToEnd(), stderr = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(120_000));
        Assert.True(p.ExitCode == 0, stderr);
        Assert.StartsWith("wrote " + onnx, stdout);
        AssertOrtMatchesEdgeNet(model, onnx, "x.1", [1, 16, 96], -2f, 2f, "cli export");

        psi.ArgumentList.Clear();
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "edgenet.dll"), "export-onnx", enet }) psi.ArgumentList.Add(arg);
        using var q = Process.Start(psi)!;
        q.StandardOutput.ReadToEnd();
        q.StandardError.ReadToEnd();
        q.WaitForExit();
        Assert.Equal(2, q.ExitCode); // no -o: usage error
    }
}
