using System.Text.Json;
using EdgeNet.IR;
using EdgeNet.Onnx;

namespace EdgeNet.Tests.Cli;

/// <summary>The edgenet tool's command-line contract, run as a real process (exit codes and output format).</summary>
public class CliTests
{
    private const string Conformance = "/usr/share/libonnx-testdata/data";
    private static readonly string s_relu = Path.Combine(Conformance, "node/test_relu");
    private static readonly string s_conv = Path.Combine(Conformance, "node/test_basic_conv_with_padding");

    private static (int Code, string Out, string Err) Edgenet(params string[] args) => Support.EdgenetTool.Run(args, 120_000);

    private static string TempDir()
    {
        string d = Path.Combine(Path.GetTempPath(), "edgenet-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    [Fact]
    public void TestDataPrintsPassPerFolderAndTheCountLine()
    {
        var (code, stdout, _) = Edgenet("test-data", s_relu, s_conv);
        Assert.Equal(0, code);
        var lines = stdout.Trim().Split('\n');
        Assert.StartsWith("PASS " + s_relu, lines[0]);
        Assert.StartsWith("PASS " + s_conv, lines[1]);
        Assert.Equal("2 passed, 0 failed", lines[^1]);
    }

    [Fact]
    public void TestDataFailsOnAWrongExpectedOutput()
    {
        string dir = TempDir();
        File.Copy(Path.Combine(s_relu, "model.onnx"), Path.Combine(dir, "model.onnx"));
        Directory.CreateDirectory(Path.Combine(dir, "test_data_set_0"));
        File.Copy(Path.Combine(s_relu, "test_data_set_0/input_0.pb"), Path.Combine(dir, "test_data_set_0/input_0.pb"));
        var expected = TensorFiles.ReadPb(Path.Combine(s_relu, "test_data_set_0/output_0.pb"));
        var wrong = expected.Tensor.ToFloatArray();
        wrong[7] += 0.5f;
        TensorFiles.WritePb(Path.Combine(dir, "test_data_set_0/output_0.pb"), expected.Name, Tensor.FromArray(expected.Tensor.Dims, wrong));

        var (code, stdout, _) = Edgenet("test-data", dir);
        Assert.NotEqual(0, code);
        Assert.StartsWith("FAIL " + dir, stdout.Trim().Split('\n')[0]);
        Assert.EndsWith("0 passed, 1 failed", stdout.Trim());
    }

    [Fact]
    public void UnsupportedCountsAsFailedUnlessSkipped()
    {
        string unsupported = Path.Combine(Conformance, "node/test_nonmaxsuppression_center_point_box_format");
        var (code, stdout, _) = Edgenet("test-data", s_relu, unsupported);
        Assert.Equal(1, code);
        Assert.Contains("UNSUPPORTED " + unsupported, stdout);
        Assert.Contains("NonMaxSuppression", stdout);
        Assert.EndsWith("1 passed, 1 failed", stdout.Trim());

        (code, stdout, _) = Edgenet("test-data", s_relu, unsupported, "--skip-unsupported");
        Assert.Equal(0, code);
        Assert.Contains("1 skipped (unsupported)", stdout);
        Assert.EndsWith("1 passed, 0 failed", stdout.Trim());
    }

    [Fact]
    public void RunWritesOneOutputPbPerGraphOutputMatchingTheReference()
    {
        string outDir = TempDir();
        var (code, _, err) = Edgenet("run", Path.Combine(s_conv, "model.onnx"),
            "--input", "x=" + Path.Combine(s_conv, "test_data_set_0/input_0.pb"),
            "--input", "W=" + Path.Combine(s_conv, "test_data_set_0/input_1.pb"),
            "--output-dir", outDir);
        Assert.True(code == 0, err);
        var actual = TensorFiles.ReadPb(Path.Combine(outDir, "output_0.pb")).Tensor.ToFloatArray();
        var expected = TensorFiles.ReadPb(Path.Combine(s_conv, "test_data_set_0/output_0.pb")).Tensor.ToFloatArray();
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-4f);
    }

    [Fact]
    public void ConvertedEnetGivesTheSameOutputsAsTheOnnx()
    {
        string dir = TempDir();
        string enet = Path.Combine(dir, "relu.enet");
        var (code, _, err) = Edgenet("convert", Path.Combine(s_relu, "model.onnx"), "-o", enet);
        Assert.True(code == 0, err);
        Assert.True(File.Exists(enet));
        string input = Path.Combine(s_relu, "test_data_set_0/input_0.pb");
        (code, _, err) = Edgenet("run", enet, "--input", "x=" + input, "--output-dir", dir);
        Assert.True(code == 0, err);
        var expected = TensorFiles.ReadPb(Path.Combine(s_relu, "test_data_set_0/output_0.pb")).Tensor.ToFloatArray();
        Assert.Equal(expected, TensorFiles.ReadPb(Path.Combine(dir, "output_0.pb")).Tensor.ToFloatArray());
    }

    [Fact]
    public void BenchJsonHasTheContractFields()
    {
        var (code, stdout, err) = Edgenet("bench", Path.Combine(s_conv, "model.onnx"), "--runs", "5", "--warmup", "2", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(stdout);
        foreach (var key in new[] { "median_ms", "p90_ms", "alloc_bytes_per_run", "arena_bytes" })
            Assert.True(doc.RootElement.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number, $"missing {key}: {stdout}");
        Assert.True(doc.RootElement.GetProperty("median_ms").GetDouble() > 0);
    }

    [Fact]
    public void InspectShowsIoOpsParametersAndPlan()
    {
        var (code, stdout, err) = Edgenet("inspect", Path.Combine(s_conv, "model.onnx"), "--plan");
        Assert.True(code == 0, err);
        Assert.Contains("Conv", stdout);
        Assert.Contains("x", stdout);
        Assert.Contains("arena", stdout, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void BadModelFileIsAnErrorNotACrash()
    {
        string dir = TempDir();
        string bad = Path.Combine(dir, "bad.onnx");
        File.WriteAllBytes(bad, [0x08, 0x07, 0x12, 0xff, 0xff, 0xff, 0x7f, 0x01]);
        var (code, _, err) = Edgenet("run", bad);
        Assert.Equal(1, code);
        Assert.StartsWith("error:", err);
        (code, _, err) = Edgenet("frobnicate");
        Assert.Equal(2, code);
        Assert.Contains("unknown command", err);
    }
}
