using EdgeNet.Tests.Support;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Format;
using EdgeNet.Onnx;
using EdgeNet.Passes;

namespace EdgeNet.Tests.RealModels;

/// <summary>The six real models against ONNX Runtime on several inputs: |a−b| ≤ 1e-4 + 1e-3·|b|.</summary>
public class RealModelParityTests
{
    public static TheoryData<string, string, int[], float, float> Cases => new()
    {
        { "openwakeword/melspectrogram.onnx", "input", [1, 16000], -3000f, 3000f },
        { "openwakeword/melspectrogram.onnx", "input", [1, 1760], -3000f, 3000f },
        { "openwakeword/embedding_model.onnx", "input_1", [1, 76, 32, 1], 0f, 4f },
        { "openwakeword/hey_jarvis_v0.1.onnx", "x.1", [1, 16, 96], -2f, 2f },
        { "openwakeword/alexa_v0.1.onnx", "onnx::Flatten_0", [1, 16, 96], -2f, 2f },
        { "openwakeword/timer_v0.1.onnx", "onnx::Flatten_0", [1, 34, 96], -2f, 2f },
        { "ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx", "x", [1, 3, 48, 192], -1f, 1f },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesOnnxRuntimeOnRandomInputs(string model, string input, int[] dims, float lo, float hi)
    {
        string path = RepoPaths.Model(model);
        var session = new Session(OnnxImporter.Load(path));
        for (int seed = 1; seed <= 3; seed++)
        {
            var x = Parity.Random(dims, seed, lo, hi);
            var feeds = new Dictionary<string, Tensor> { [input] = x };
            var expected = OrtOracle.Run(path, feeds);
            var actual = session.Run(feeds);
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++) Parity.AssertClose(expected[i], actual[i], $"{model} seed {seed} output {i}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void OptimizedAndConvertedModelMatchesOnnxRuntime(string model, string input, int[] dims, float lo, float hi)
    {
        string path = RepoPaths.Model(model);
        var optimized = OnnxImporter.Load(path);
        PassPipeline.Optimize(optimized);
        string enet = Path.Combine(Path.GetTempPath(), $"edgenet-{Guid.NewGuid():N}.enet");
        try
        {
            EnetWriter.Write(optimized, enet);
            var session = new Session(EnetReader.Load(enet));
            var x = Parity.Random(dims, 7, lo, hi);
            var feeds = new Dictionary<string, Tensor> { [input] = x };
            var expected = OrtOracle.Run(path, feeds);
            var actual = session.Run(feeds);
            for (int i = 0; i < expected.Length; i++) Parity.AssertClose(expected[i], actual[i], $"{model} optimized+enet output {i}");
        }
        finally
        {
            File.Delete(enet);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RunAllocatesNothingAfterWarmUp(string model, string input, int[] dims, float lo, float hi)
    {
        var session = new Session(OnnxImporter.Load(RepoPaths.Model(model)));
        session.SetInputShape(input, dims);
        Parity.Random(dims, 5, lo, hi).AsSpan<float>().CopyTo(session.Input<float>(session.InputIndex(input)));
        Allocations.AssertNoneAfterWarmUp(session.Run);
    }
}
