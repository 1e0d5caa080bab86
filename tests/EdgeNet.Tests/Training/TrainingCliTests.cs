using System.Text.Json;
using EdgeNet.Format;
using EdgeNet.IR;
using EdgeNet.Tests.RealModels;
using EdgeNet.Training.Metrics;
using Attribute = EdgeNet.IR.Attribute;

namespace EdgeNet.Tests.Training;

/// <summary>`edgenet finetune` and `edgenet evaluate` run as real processes on small generated data sets.</summary>
public class TrainingCliTests
{
    private static (int Code, string Out, string Err) Edgenet(params string[] args) => Support.EdgenetTool.Run(args);

    private static string TempDir()
    {
        string d = Path.Combine(Path.GetTempPath(), "edgenet-train-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    /// <summary>16×16 grey PNGs, dark ink on white: a vertical bar, a horizontal bar or a dot, at jittered places.</summary>
    private static string Shapes(string root, int perClass, int seed)
    {
        var random = new Random(seed);
        string[] names = ["dot", "hbar", "vbar"];
        for (int c = 0; c < names.Length; c++)
        {
            string dir = Path.Combine(root, names[c]);
            Directory.CreateDirectory(dir);
            for (int i = 0; i < perClass; i++)
            {
                var pixels = new byte[16 * 16];
                for (int p = 0; p < pixels.Length; p++) pixels[p] = (byte)(230 + random.Next(26));
                int at = 4 + random.Next(8), from = 2 + random.Next(3);
                for (int t = 0; t < 10; t++)
                    for (int w = 0; w < 2; w++)
                    {
                        switch (c)
                        {
                            case 0: if (t < 3) for (int u = 0; u < 3; u++) pixels[(at + u - 1) * 16 + from + 4 + t] = 20; break;
                            case 1: pixels[(at + w) * 16 + from + t] = 20; break;
                            default: pixels[(from + t) * 16 + at + w] = 20; break;
                        }
                    }
                File.WriteAllBytes(Path.Combine(dir, $"{i:D3}.png"), PngWriter.EncodeGrey(pixels, 16, 16));
            }
        }
        return root;
    }

    /// <summary>A tiny pre-trained-looking base: x[1,1,16,16] → Conv 3×3/2 (8, Relu) → Conv 3×3/2 (8, Relu) → GAP → Flatten → Gemm(2) → Softmax.</summary>
    private static string BaseModel(string dir)
    {
        var b = new GraphBuilder(21);
        var c1 = b.Op("Conv", [b.X, b.Const([8, 1, 3, 3], 0.8f), b.Const([8], 0.1f)], Attribute.Of("kernel_shape", new long[] { 3, 3 }),
            Attribute.Of("strides", new long[] { 2, 2 }), Attribute.Of("pads", new long[] { 1, 1, 1, 1 }));
        var r1 = b.Op("Relu", [c1]);
        var c2 = b.Op("Conv", [r1, b.Const([8, 8, 3, 3], 0.4f), b.Const([8], 0.1f)], Attribute.Of("kernel_shape", new long[] { 3, 3 }),
            Attribute.Of("strides", new long[] { 2, 2 }), Attribute.Of("pads", new long[] { 1, 1, 1, 1 }));
        var r2 = b.Op("Relu", [c2]);
        var gap = b.Op("GlobalAveragePool", [r2]);
        var flat = b.Op("Flatten", [gap], Attribute.Of("axis", 1L));
        var logits = b.Op("Gemm", [flat, b.Const([2, 8]), b.Const([2])], Attribute.Of("transB", 1L));
        var y = b.Op("Softmax", [logits], Attribute.Of("axis", -1L));
        string path = Path.Combine(dir, "base.enet");
        EnetWriter.Write(b.Model(y, [1, 1, 16, 16]), path);
        return path;
    }

    [Fact]
    public void FinetunePrintsAProgressLinePerEpochWritesTheModelAndPlotAndEvaluateScoresIt()
    {
        string dir = TempDir();
        string train = Shapes(Path.Combine(dir, "train"), 12, 1), val = Shapes(Path.Combine(dir, "val"), 6, 2), test = Shapes(Path.Combine(dir, "test"), 10, 3);
        string baseModel = BaseModel(dir), output = Path.Combine(dir, "new.enet"), plot = Path.Combine(dir, "history.png");

        var (code, stdout, stderr) = Edgenet("finetune", baseModel, "--data", train, "--val", val, "--out", output, "--trainable-last", "3",
            "--epochs", "40", "--lr", "0.05", "--batch", "8", "--seed", "3", "--image-size", "16x16", "--normalize", "0.5,0.5", "--plot", plot, "--head-classes", "auto");
        Assert.True(code == 0, stderr + stdout);
        var epochs = stdout.Split('\n').Where(l => l.StartsWith("epoch", StringComparison.Ordinal)).ToArray();
        Assert.Equal(40, epochs.Length);
        foreach (var line in epochs)
        {
            Assert.Matches(@"^epoch +\d+/40 \[[#.]{20}\] loss \d+\.\d{4} acc \d+\.\d% val_loss \d+\.\d{4} val_acc \d+\.\d%", line);
        }
        Assert.StartsWith("epoch 40/40 [####################]", epochs[^1]);
        Assert.Contains("saved " + output, stdout);
        var png = File.ReadAllBytes(plot);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        var model = EnetReader.Load(output);
        Assert.Equal("dot\nhbar\nvbar", model.Metadata["edgenet.classes"]);

        var (jsonCode, json, jsonErr) = Edgenet("evaluate", output, "--data", test, "--image-size", "16x16", "--normalize", "0.5,0.5", "--json");
        Assert.True(jsonCode == 0, jsonErr);
        using var doc = JsonDocument.Parse(json);
        double accuracy = doc.RootElement.GetProperty("accuracy").GetDouble();
        Assert.True(accuracy >= 0.8, $"test accuracy {accuracy}");
        var confusion = doc.RootElement.GetProperty("confusion");
        Assert.Equal(3, confusion.GetArrayLength());
        Assert.Equal(30, confusion.EnumerateArray().Sum(r => r.EnumerateArray().Sum(v => v.GetInt32())));

        // without --json: accuracy line, per-class table and the matrix; --image-size/--normalize come from the model
        var (textCode, text, _) = Edgenet("evaluate", output, "--data", test);
        Assert.Equal(0, textCode);
        Assert.StartsWith("accuracy: ", text);
        Assert.Contains("precision", text);
        Assert.Contains("recall", text);
        foreach (var name in new[] { "dot", "hbar", "vbar" }) Assert.Contains(name, text);
        Assert.Contains($"{accuracy * 100:F2}%", text);
    }

    [Fact]
    public void TheSameSeedWritesTheSameModelFile()
    {
        string dir = TempDir();
        string train = Shapes(Path.Combine(dir, "train"), 8, 4);
        string baseModel = BaseModel(dir);
        byte[] Run(string name, string seed)
        {
            string output = Path.Combine(dir, name);
            var (code, stdout, stderr) = Edgenet("finetune", baseModel, "--data", train, "--out", output, "--trainable-last", "2", "--epochs", "5",
                "--seed", seed, "--image-size", "16x16", "--quiet");
            Assert.True(code == 0, stderr + stdout);
            return File.ReadAllBytes(output);
        }
        var a = Run("a.enet", "9");
        var b = Run("b.enet", "9");
        var c = Run("c.enet", "10");
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    /// <summary>--ema: the saved model holds the averaged weights (another file than without it), the same seed the same
    /// bytes; a decay outside (0, 1) is a usage error.</summary>
    [Fact]
    public void EmaSavesTheAveragedWeightsReproducibly()
    {
        string dir = TempDir();
        string train = Shapes(Path.Combine(dir, "train"), 8, 4);
        string baseModel = BaseModel(dir);
        byte[] Run(string name, params string[] extra)
        {
            string output = Path.Combine(dir, name);
            var (code, stdout, stderr) = Edgenet(["finetune", baseModel, "--data", train, "--out", output, "--trainable-last", "2", "--epochs", "3",
                "--seed", "9", "--image-size", "16x16", "--quiet", .. extra]);
            Assert.True(code == 0, stderr + stdout);
            return File.ReadAllBytes(output);
        }
        var plain = Run("plain.enet");
        var a = Run("a.enet", "--ema", "0.9");
        var b = Run("b.enet", "--ema", "0.9");
        Assert.Equal(a, b);
        Assert.NotEqual(plain, a);
        var (code2, _, err) = Edgenet("finetune", baseModel, "--data", train, "--out", Path.Combine(dir, "x.enet"), "--image-size", "16x16", "--ema", "1");
        Assert.Equal(2, code2);
        Assert.Contains("--ema", err);
    }

    [Fact]
    public void CachedFeatureFilesTrainAHeadWithoutTheBackbone()
    {
        string dir = TempDir();
        string train = Shapes(Path.Combine(dir, "train"), 6, 5);
        string baseModel = BaseModel(dir), dump = Path.Combine(dir, "features");
        var (code, stdout, stderr) = Edgenet("finetune", baseModel, "--data", train, "--out", Path.Combine(dir, "x.enet"), "--epochs", "1",
            "--image-size", "16x16", "--dump-features", dump, "--quiet");
        Assert.True(code == 0, stderr + stdout);
        Assert.True(File.Exists(Path.Combine(dump, "train_x.npy")));
        Assert.True(File.Exists(Path.Combine(dump, "param0.npy")));

        var (code2, stdout2, stderr2) = Edgenet("finetune", baseModel, "--features", Path.Combine(dump, "train_x.npy"), "--labels", Path.Combine(dump, "train_y.npy"),
            "--out", Path.Combine(dir, "y.enet"), "--epochs", "3", "--image-size", "16x16");
        Assert.True(code2 == 0, stderr2 + stdout2);
        Assert.Equal(3, stdout2.Split('\n').Count(l => l.StartsWith("epoch", StringComparison.Ordinal)));
        Assert.DoesNotContain("cached backbone features", stdout2);
    }

    [Fact]
    public void WavFoldersGoThroughTheWakeWordEmbeddingChain()
    {
        string dir = TempDir();
        var random = new Random(6);
        foreach (var (name, hz) in new[] { ("high", 2400.0), ("low", 300.0) })
        {
            string cls = Path.Combine(dir, "wav", name);
            Directory.CreateDirectory(cls);
            for (int i = 0; i < 5; i++)
            {
                var samples = new short[12000];
                double f = hz * (0.9 + 0.2 * random.NextDouble());
                for (int t = 0; t < samples.Length; t++) samples[t] = (short)(8000 * Math.Sin(2 * Math.PI * f * t / 16000) + random.Next(-300, 300));
                File.WriteAllBytes(Path.Combine(cls, $"{i}.wav"), Wav(samples));
            }
        }
        string baseModel = RepoPaths.Model("openwakeword/alexa_v0.1.onnx");
        string output = Path.Combine(dir, "tone.enet");
        var (code, stdout, stderr) = Edgenet("finetune", baseModel, "--data", Path.Combine(dir, "wav"), "--out", output, "--head-classes", "keep",
            "--trainable-last", "3", "--epochs", "15", "--lr", "0.0003", "--batch", "4", "--audio-models", Path.GetDirectoryName(baseModel)!);
        Assert.True(code == 0, stderr + stdout);
        Assert.Contains("loss sigmoid_binary_cross_entropy", stdout);
        var (evalCode, json, evalErr) = Edgenet("evaluate", output, "--data", Path.Combine(dir, "wav"), "--json", "--audio-models", Path.GetDirectoryName(baseModel)!);
        Assert.True(evalCode == 0, evalErr);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(1.0, doc.RootElement.GetProperty("accuracy").GetDouble());

        // as a detector scoring every 80 ms: every "low" clip fires (its last window is the trained one); the stream is 8 s long
        string stream = Path.Combine(dir, "stream.wav");
        var tone = new short[16000 * 8];
        for (int t = 0; t < tone.Length; t++) tone[t] = (short)(8000 * Math.Sin(2 * Math.PI * 2400 * t / 16000));
        File.WriteAllBytes(stream, Wav(tone));
        var (detectCode, detect, detectErr) = Edgenet("evaluate", output, "--data", Path.Combine(dir, "wav"), "--detect", "low", "--stream", stream, "--json",
            "--audio-models", Path.GetDirectoryName(baseModel)!);
        Assert.True(detectCode == 0, detectErr);
        using var d = JsonDocument.Parse(detect);
        Assert.Equal(1.0, d.RootElement.GetProperty("recall").GetDouble());
        Assert.Equal(5, d.RootElement.GetProperty("positives").GetInt32());
        Assert.Equal(5, d.RootElement.GetProperty("negatives").GetInt32());
        Assert.InRange(d.RootElement.GetProperty("false_accepts").GetInt32(), 0, 4); // 8 s, one per 2 s at most
        Assert.Equal(8.0 / 3600, d.RootElement.GetProperty("stream_hours").GetDouble(), 6);
    }

    private static byte[] Wav(short[] samples)
    {
        var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        w.Write("RIFF"u8); w.Write(36 + samples.Length * 2); w.Write("WAVE"u8);
        w.Write("fmt "u8); w.Write(16); w.Write((short)1); w.Write((short)1); w.Write(16000); w.Write(32000); w.Write((short)2); w.Write((short)16);
        w.Write("data"u8); w.Write(samples.Length * 2);
        foreach (var s in samples) w.Write(s);
        return ms.ToArray();
    }

    [Fact]
    public void BadUsageAndBadDataGiveClearErrors()
    {
        string dir = TempDir();
        string baseModel = BaseModel(dir);
        var (code, _, err) = Edgenet("finetune", baseModel, "--data", dir);
        Assert.Equal(2, code);
        Assert.Contains("--out", err);

        var (code2, _, err2) = Edgenet("finetune", baseModel, "--data", Path.Combine(dir, "missing"), "--out", Path.Combine(dir, "o.enet"));
        Assert.Equal(1, code2);
        Assert.Contains("does not exist", err2);

        string train = Shapes(Path.Combine(dir, "train"), 2, 7);
        var (code3, _, err3) = Edgenet("finetune", baseModel, "--data", train, "--out", Path.Combine(dir, "o.enet"), "--feature", "no_such_tensor", "--image-size", "16x16");
        Assert.Equal(1, code3);
        Assert.Contains("no_such_tensor", err3);

        var (code4, _, err4) = Edgenet("evaluate", baseModel, "--data", train, "--image-size", "16x16");
        Assert.Equal(1, code4);
        Assert.Contains("2 scores", err4);
    }
}
