using EdgeNet.Execution;
using EdgeNet.Format;
using EdgeNet.IR;
using EdgeNet.Onnx;
using EdgeNet.Onnx.Conformance;
using EdgeNet.Passes;
using Xunit.Abstractions;

namespace EdgeNet.Tests.Passes;

/// <summary>
/// The default pass pipeline, and an .enet write/read after it, must not change what any ONNX conformance model
/// computes: every folder EdgeNet passes as imported must still pass after optimizing and after the round trip.
/// </summary>
public class PipelineConformanceTests(ITestOutputHelper output)
{
    private const string Root = "/usr/share/libonnx-testdata/data";

    public static TheoryData<string> Suites => new() { "node", "pytorch-converted", "pytorch-operator", "simple" };

    [Theory]
    [MemberData(nameof(Suites))]
    public void OptimizedAndSavedModelsStillPass(string suite)
    {
        string dir = Path.Combine(Root, suite);
        if (!Directory.Exists(dir)) return; // conformance data not installed on this machine
        string temp = Path.Combine(Path.GetTempPath(), $"edgenet-pipeline-{suite}-{Environment.ProcessId}.enet");
        var broken = new List<string>();
        int checkedCount = 0, changed = 0;
        foreach (string test in Directory.GetDirectories(dir).Order(StringComparer.Ordinal))
        {
            if (!File.Exists(Path.Combine(test, "model.onnx"))) continue;
            if (TestDataRunner.Run(test).Status != TestStatus.Pass) continue;
            checkedCount++;
            string name = Path.GetFileName(test);
            try
            {
                var model = OnnxImporter.Load(Path.Combine(test, "model.onnx"));
                if (PassPipeline.Optimize(model) != "no changes") changed++;
                if (RunFirstDataSet(model, test) is { } optimizedError) { broken.Add($"{name} (optimized): {optimizedError}"); continue; }
                EnetWriter.Write(model, temp);
                if (RunFirstDataSet(EnetReader.Load(temp), test) is { } savedError) broken.Add($"{name} (.enet): {savedError}");
            }
            catch (Exception e)
            {
                broken.Add($"{name}: {e.GetType().Name}: {e.Message}");
            }
        }
        File.Delete(temp);
        output.WriteLine($"{suite}: {checkedCount} passing folders checked, {changed} changed by the passes");
        Assert.True(broken.Count == 0, string.Join("\n", broken));
    }

    /// <summary>Runs test_data_set_0 the way the conformance runner does; null when every output matches.</summary>
    private static string? RunFirstDataSet(Model model, string test)
    {
        string set = Path.Combine(test, "test_data_set_0");
        var options = new SessionOptions();
        var feeds = new Dictionary<string, Tensor>();
        for (int i = 0; File.Exists(Path.Combine(set, $"input_{i}.pb")); i++)
        {
            var (name, t) = TensorFiles.ReadPb(Path.Combine(set, $"input_{i}.pb"));
            if (name.Length == 0 || model.Graph.Inputs.All(v => v.Name != name)) name = model.Graph.Inputs[i].Name;
            if (t.DataType is DataType.Float32 or DataType.Float64 or DataType.Float16) { options.InputShapes[name] = t.Dims; feeds[name] = t; }
            else options.SpecializedInputs[name] = t;
        }
        Tensor[] actual;
        try
        {
            actual = new Session(model, options).Run(feeds);
        }
        catch (UnsupportedOperatorException e) when (e.Message.Contains("must be known when the session is planned", StringComparison.Ordinal) && feeds.Count > 0)
        {
            foreach (var (name, t) in feeds) { options.InputShapes.Remove(name); options.SpecializedInputs[name] = t; }
            feeds.Clear();
            actual = new Session(model, options).Run(feeds);
        }
        for (int i = 0; File.Exists(Path.Combine(set, $"output_{i}.pb")); i++)
        {
            var expected = TensorFiles.ReadPb(Path.Combine(set, $"output_{i}.pb")).Tensor;
            if (i >= actual.Length) return $"missing output {i}";
            var (ok, _, message) = TestDataRunner.Compare(expected, actual[i], 1e-3, 1e-4);
            if (!ok) return $"output {i}: {message}";
        }
        return null;
    }
}
