using EdgeNet.Tests.Support;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Onnx;
using EdgeNet.Samples.WakeWord;

namespace EdgeNet.Tests.RealModels;

/// <summary>The full openWakeWord chain on real (espeak-ng) speech, stage by stage against ONNX Runtime, and the detections.</summary>
public class KeywordChainParityTests
{
    private static string Speech(string name) => RepoPaths.Model($"speech/{name}.wav");

    [Fact]
    public void EveryStageMatchesOnnxRuntimeOnSpeech()
    {
        string dir = Path.GetDirectoryName(RepoPaths.Model("openwakeword/melspectrogram.onnx"))!;
        var audio = WavReader.ReadMono(Speech("hey_jarvis"), 16000);
        var pcm = Tensor.FromArray([1, audio.Length], audio);

        // 1. mel spectrogram of the whole utterance
        string melPath = Path.Combine(dir, "melspectrogram.onnx");
        var feeds = new Dictionary<string, Tensor> { ["input"] = pcm };
        var melExpected = OrtOracle.Run(melPath, feeds)[0];
        var melActual = new Session(OnnxImporter.Load(melPath)).Run(feeds)[0];
        Parity.AssertClose(melExpected, melActual, "melspectrogram");

        // 2. embeddings of 76-frame windows (x/10 + 2), every 8 frames
        var mel = melExpected.ToFloatArray();
        int frames = mel.Length / 32;
        string embPath = Path.Combine(dir, "embedding_model.onnx");
        var embSession = new Session(OnnxImporter.Load(embPath));
        var embeddings = new List<float[]>();
        for (int start = 0; start + 76 <= frames; start += 8)
        {
            var window = new float[76 * 32];
            for (int i = 0; i < window.Length; i++) window[i] = mel[start * 32 + i] / 10f + 2f;
            var x = new Dictionary<string, Tensor> { ["input_1"] = Tensor.FromArray([1, 76, 32, 1], window) };
            var e = OrtOracle.Run(embPath, x)[0];
            Parity.AssertClose(e, embSession.Run(x)[0], $"embedding at frame {start}");
            embeddings.Add(e.ToFloatArray());
        }
        Assert.True(embeddings.Count >= 16, "utterance too short for a 16-embedding window");

        // 3. hey_jarvis on every 16-embedding window; the word must be found (its verifier branch runs too)
        string kwPath = Path.Combine(dir, "hey_jarvis_v0.1.onnx");
        var kwSession = new Session(OnnxImporter.Load(kwPath));
        float best = 0;
        for (int end = 16; end <= embeddings.Count; end++)
        {
            var window = embeddings.Skip(end - 16).Take(16).SelectMany(v => v).ToArray();
            var x = new Dictionary<string, Tensor> { ["x.1"] = Tensor.FromArray([1, 16, 96], window) };
            var expected = OrtOracle.Run(kwPath, x)[0];
            var actual = kwSession.Run(x)[0];
            Parity.AssertClose(expected, actual, $"hey_jarvis window ending {end}");
            best = Math.Max(best, actual.ToFloatArray()[0]);
        }
        Assert.True(best > 0.5f, $"hey_jarvis peak score {best} on 'hey jarvis' speech");
    }

    [Theory]
    [InlineData("hey_jarvis", 0, true)]
    [InlineData("alexa", 1, true)]
    [InlineData("negative", 0, false)]
    [InlineData("negative", 1, false)]
    public void StreamingDetectorFindsTheSpokenWordOnly(string speech, int model, bool expected)
    {
        string dir = Path.GetDirectoryName(RepoPaths.Model("openwakeword/melspectrogram.onnx"))!;
        var detector = new WakeWordDetector(dir, ["hey_jarvis_v0.1", "alexa_v0.1"]);
        var audio = WavReader.ReadMono(Speech(speech), 16000);
        float best = 0;
        for (int at = 0; at + 1280 <= audio.Length; at += 1280)
        {
            detector.Process(audio.AsSpan(at, 1280));
            best = Math.Max(best, detector.Scores[model]);
        }
        Assert.Equal(expected, best > 0.5f);

        Allocations.AssertNoneAfterWarmUp(() => detector.Process(audio.AsSpan(0, 1280)), batch: 10);
    }
}
