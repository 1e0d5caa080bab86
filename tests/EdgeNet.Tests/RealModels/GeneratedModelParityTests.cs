using EdgeNet.Tests.Support;
using EdgeNet.Execution;
using EdgeNet.Format;
using EdgeNet.IR;
using EdgeNet.Onnx;
using EdgeNet.Passes;

namespace EdgeNet.Tests.RealModels;

/// <summary>
/// The torch-exported architectures of scripts/make-test-models.py (seeded random weights) against ONNX Runtime, in
/// the three forms a model reaches the executor: as imported, after the graph passes, and read back from an .enet.
/// </summary>
public class GeneratedModelParityTests
{
    public enum Form { Imported, Optimized, EnetRoundTrip }

    /// <summary>Name, input shape, and calls per batch of the allocation check (fewer for the slow models).</summary>
    private static readonly (string Name, int[] Dims, int AllocationBatch)[] s_models =
    [
        ("mobilenet_v2", [1, 3, 224, 224], 2),
        ("resnet18", [1, 3, 224, 224], 1),
        ("lstm_kws", [1, 49, 40], 20),
        ("gru_kws", [1, 49, 40], 20),
        ("ds_cnn", [1, 1, 49, 10], 20),
        ("tiny_transformer", [1, 16, 32], 20),
    ];

    public static TheoryData<string, Form> Cases
    {
        get
        {
            var data = new TheoryData<string, Form>();
            foreach (var (name, _, _) in s_models)
                foreach (var form in Enum.GetValues<Form>()) data.Add(name, form);
            return data;
        }
    }

    public static TheoryData<string> Names
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var (name, _, _) in s_models) data.Add(name);
            return data;
        }
    }

    private static string PathOf(string name) => RepoPaths.Model($"generated/{name}/model.onnx");

    private static int[] DimsOf(string name) => s_models.First(m => m.Name == name).Dims;

    private static Model Load(string name, Form form)
    {
        var model = OnnxImporter.Load(PathOf(name));
        if (form == Form.Imported) return model;
        PassPipeline.Optimize(model);
        if (form == Form.Optimized) return model;
        string file = Path.Combine(Path.GetTempPath(), $"edgenet-{name}-{Guid.NewGuid():N}.enet");
        try
        {
            EnetWriter.Write(model, file);
            return EnetReader.Load(file);
        }
        finally
        {
            // The reader keeps the file mapped; unlinking it is fine on POSIX and only fails on Windows, where the
            // temp folder is cleaned anyway.
            try { File.Delete(file); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesOnnxRuntimeOnRandomInputs(string name, Form form)
    {
        var session = new Session(Load(name, form));
        for (int seed = 1; seed <= 2; seed++)
        {
            var feeds = new Dictionary<string, Tensor> { ["input"] = Parity.Random(DimsOf(name), seed, -2f, 2f) };
            var expected = OrtOracle.Run(PathOf(name), feeds);
            var actual = session.Run(feeds);
            Assert.Single(expected);
            Assert.Single(actual);
            Parity.AssertClose(expected[0], actual[0], $"{name} ({form}) seed {seed}");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void OptimizedModelReproducesTorchsOwnOutput(string name)
    {
        string data = Path.Combine(Path.GetDirectoryName(PathOf(name))!, "test_data_set_0");
        var x = TensorFiles.ReadPb(Path.Combine(data, "input_0.pb")).Tensor;
        var expected = TensorFiles.ReadPb(Path.Combine(data, "output_0.pb")).Tensor;
        var actual = new Session(Load(name, Form.Optimized)).Run(new Dictionary<string, Tensor> { ["input"] = x });
        Parity.AssertClose(expected, actual[0], $"{name} against torch");
    }

    [Theory]
    [InlineData("mobilenet_v2")]
    [InlineData("resnet18")]
    [InlineData("ds_cnn")]
    public void OptimizeFoldsEveryBatchNormalization(string name)
    {
        var model = OnnxImporter.Load(PathOf(name));
        int before = model.Graph.Nodes.Count(n => n.OpType == "BatchNormalization");
        Assert.True(before > 0, $"{name} was exported without BatchNormalization nodes: nothing to fold");
        PassPipeline.Optimize(model);
        var left = model.Graph.Nodes.Where(n => n.OpType == "BatchNormalization").Select(n => n.Name).ToList();
        Assert.True(left.Count == 0,
            $"{name}: {left.Count} of {before} BatchNormalization nodes not folded: {string.Join(", ", left.Take(5))}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RunAllocatesNothingAfterWarmUp(string name, Form form)
    {
        var session = new Session(Load(name, form));
        int[] dims = DimsOf(name);
        session.SetInputShape("input", dims);
        Parity.Random(dims, 5, -2f, 2f).AsSpan<float>().CopyTo(session.Input<float>(session.InputIndex("input")));
        Allocations.AssertNoneAfterWarmUp(session.Run, batch: s_models.First(m => m.Name == name).AllocationBatch);
    }
}
