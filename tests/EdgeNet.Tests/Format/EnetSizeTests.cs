using System.Globalization;
using EdgeNet.Execution;
using EdgeNet.Format;
using EdgeNet.IR;
using EdgeNet.Onnx;
using EdgeNet.Onnx.Quantization;
using EdgeNet.Passes;
using EdgeNet.Tests.RealModels;
using Xunit.Abstractions;

namespace EdgeNet.Tests.Format;

/// <summary>
/// .enet version 2 against version 1 on the small generated models, converted as `edgenet convert` does (calibrated on
/// the model's test_data_set_0): both the fp32 and the int8 file shrink, the int8 file is at most 0.3× the fp32 one,
/// and the two versions give bit-identical outputs. These models are where the per-tensor overhead of version 1 showed
/// most: their int8 weights, int32 biases and float scales alone are 0.296 (ds_cnn) and 0.298 (tiny_transformer) of the
/// fp32 weights, so the whole file stays under 0.3 only if the manifest and the small tensors cost almost nothing.
/// </summary>
public sealed class EnetSizeTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgenet-enet-size-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Model Float(string onnx)
    {
        var model = OnnxImporter.Load(onnx);
        PassPipeline.Optimize(model);
        return model;
    }

    private static Model Int8(string onnx)
    {
        var model = OnnxImporter.Load(onnx);
        var samples = CalibrationSet.Load(Path.GetDirectoryName(onnx)!, model.Graph.Inputs);
        var result = Quantizer.Quantize(model, samples, new QuantizerOptions());
        var int8 = OnnxImporter.FromProto(result.QdqModel);
        QRecurrentRewrite.Apply(int8);
        PassPipeline.Optimize(int8);
        return int8;
    }

    private string Save(byte[] bytes, string name)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData("ds_cnn")]
    [InlineData("tiny_transformer")]
    [InlineData("lstm_kws")]
    [InlineData("gru_kws")]
    public void Version2Int8IsAtMostThreeTenthsOfFp32AndBothShrink(string name)
    {
        string onnx = RepoPaths.Model($"generated/{name}/model.onnx");
        var fp32 = Float(onnx);
        var int8 = Int8(onnx);
        Assert.Contains(int8.Graph.Initializers, v => v.Constant!.DataType == DataType.Int8);
        long f1 = EnetWriter.Encode(fp32, 1).Length, q1 = EnetWriter.Encode(int8, 1).Length;
        byte[] f2 = EnetWriter.Encode(fp32, 2), q2 = EnetWriter.Encode(int8, 2);
        double ratio1 = (double)q1 / f1, ratio2 = (double)q2.Length / f2.Length;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: v1 fp32 {f1} int8 {q1} ratio {ratio1:F3}; v2 fp32 {f2.Length} int8 {q2.Length} ratio {ratio2:F3}"));
        Assert.True(f2.Length < f1, $"fp32: version 2 {f2.Length} bytes, version 1 {f1}");
        Assert.True(q2.Length < q1, $"int8: version 2 {q2.Length} bytes, version 1 {q1}");
        Assert.True(ratio2 <= 0.3, $"int8 .enet is {ratio2:F3}× the fp32 .enet (version 1: {ratio1:F3})");

        // the same model through either version runs to the same bits
        var data = Path.Combine(Path.GetDirectoryName(onnx)!, "test_data_set_0", "input_0.pb");
        var feeds = new Dictionary<string, Tensor> { [int8.Graph.Inputs[0].Name] = TensorFiles.ReadPb(data).Tensor };
        string v1 = Save(EnetWriter.Encode(int8, 1), name + "-v1.enet"), v2 = Save(q2, name + "-v2.enet");
        var expected = new Session(EnetReader.Load(v1)).Run(feeds)[0].ToFloatArray();
        Assert.Equal(expected, new Session(EnetReader.Load(v2)).Run(feeds)[0].ToFloatArray());
    }
}
