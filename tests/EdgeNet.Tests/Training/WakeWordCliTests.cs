using System.Text.Json;
using EdgeNet.Tests.RealModels;

namespace EdgeNet.Tests.Training;

/// <summary>`edgenet finetune --detect` (every 80 ms window, labelled around the phrase end) and `evaluate --detect` options, as real processes.</summary>
public class WakeWordCliTests
{
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

    /// <summary>2.0 s clips: "low" has a 300 Hz tone from 0.4 s to its phrase end at 1.0 s; "high" has a 2400 Hz tone.</summary>
    private static string Data(string dir, out string manifest)
    {
        var random = new Random(3);
        var rows = new List<string> { "file,phrase_end" };
        foreach (var (name, hz) in new[] { ("high", 2400.0), ("low", 300.0) })
        {
            string cls = Path.Combine(dir, "wav", name);
            Directory.CreateDirectory(cls);
            for (int i = 0; i < 3; i++)
            {
                var samples = new short[25 * 1280];
                for (int t = 6400; t < 16000; t++) samples[t] = (short)(8000 * Math.Sin(2 * Math.PI * hz * t / 16000));
                for (int t = 0; t < samples.Length; t++) samples[t] += (short)random.Next(-200, 200);
                File.WriteAllBytes(Path.Combine(cls, $"{i}.wav"), Wav(samples));
                if (name == "low") rows.Add($"wav/low/{i}.wav,1.0");
            }
        }
        manifest = Path.Combine(dir, "manifest.csv");
        File.WriteAllLines(manifest, rows);
        var noise = new short[16000];
        for (int t = 0; t < noise.Length; t++) noise[t] = (short)random.Next(-300, 300);
        File.WriteAllBytes(Path.Combine(dir, "noise.wav"), Wav(noise));
        return Path.Combine(dir, "wav");
    }

    [Fact]
    public void DetectTrainsOnEveryWindowLabelledAroundThePhraseEnd()
    {
        string dir = Path.Combine(Path.GetTempPath(), "edgenet-wakeword-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string data = Data(dir, out string manifest);
        string baseModel = RepoPaths.Model("openwakeword/alexa_v0.1.onnx"), models = Path.GetDirectoryName(baseModel)!;
        string output = Path.Combine(dir, "low.enet"), cache = Path.Combine(dir, "cache");
        var (code, stdout, stderr) = Support.EdgenetTool.Run(["finetune", baseModel, "--data", data, "--out", output, "--trainable-last", "3", "--audio-models", models,
            "--detect", "low", "--phrase-ends", manifest, "--negative-audio", Path.Combine(dir, "noise.wav"), "--oversample", "2", "--embedding-cache", cache,
            "--optimizer", "adam", "--lr", "0.001", "--batch", "16", "--epochs", "20", "--mine-epochs", "2"]);
        Assert.True(code == 0, stderr + stdout);
        // per positive clip: 4 windows end 1.04…1.28 s (positives) and one ends at 0.56 s (≥ --clip-from 0.5, ≤ 1.0 − 0.4: negative);
        // per negative clip the 19 windows ending 0.56…2.0 s; the 1 s noise file gives 12 windows
        Assert.Contains("84 windows: 12 positive (from 3 clips, x2), 72 negative (3 clips, 12 from 1 negative audio files)", stdout);
        Assert.Contains("hard-negative mining:", stdout);
        Assert.Equal(6 + 1, Directory.GetFiles(cache, "*.f32").Length); // the embeddings of every unaugmented WAV were kept

        var (evalCode, json, evalErr) = Support.EdgenetTool.Run(["evaluate", output, "--data", data, "--detect", "low", "--json", "--audio-models", models,
            "--consecutive", "2", "--refractory", "1", "--stream", Path.Combine(dir, "noise.wav")]);
        Assert.True(evalCode == 0, evalErr);
        using var d = JsonDocument.Parse(json);
        Assert.Equal(1.0, d.RootElement.GetProperty("recall").GetDouble());
        Assert.Equal(0, d.RootElement.GetProperty("false_clip_detections").GetInt32());
        Assert.Equal(2, d.RootElement.GetProperty("consecutive").GetInt32());
        Assert.Equal(12, d.RootElement.GetProperty("refractory_frames").GetInt32());

        var (sweepCode, sweep, sweepErr) = Support.EdgenetTool.Run(["evaluate", output, "--data", data, "--detect", "low", "--audio-models", models,
            "--sweep", "0.5,1.01", "--choose-threshold", "1"]);
        Assert.True(sweepCode == 0, sweepErr);
        Assert.Contains("chosen threshold: 0.5", sweep); // nothing reaches 1.01

        // a positive clip without a phrase end is a usage error naming it
        File.WriteAllLines(manifest, ["file,phrase_end", "wav/low/0.wav,1.0"]);
        var (badCode, _, badErr) = Support.EdgenetTool.Run(["finetune", baseModel, "--data", data, "--out", output, "--trainable-last", "3", "--audio-models", models,
            "--detect", "low", "--phrase-ends", manifest]);
        Assert.Equal(2, badCode);
        Assert.Contains("no phrase_end", badErr);
    }

    [Fact]
    public void DetectFindsPhraseEndsThroughLinkedFoldersAndDumpsEveryWindow()
    {
        // the layout of a worktree: models/ is a link to another checkout, the training folder holds links to the clips
        string dir = Path.Combine(Path.GetTempPath(), "edgenet-wakeword-links-" + Guid.NewGuid().ToString("N"));
        string real = Path.Combine(dir, "real"), linked = Path.Combine(dir, "linked");
        Directory.CreateDirectory(real);
        Data(real, out _);
        Directory.CreateSymbolicLink(linked, real);
        string subset = Path.Combine(dir, "subset");
        foreach (var cls in new[] { "high", "low" })
        {
            Directory.CreateDirectory(Path.Combine(subset, cls));
            foreach (var f in Directory.GetFiles(Path.Combine(real, "wav", cls)))
                File.CreateSymbolicLink(Path.Combine(subset, cls, Path.GetFileName(f)), f);
        }
        string baseModel = RepoPaths.Model("openwakeword/alexa_v0.1.onnx"), models = Path.GetDirectoryName(baseModel)!, dump = Path.Combine(dir, "dump");
        var (code, stdout, stderr) = Support.EdgenetTool.Run(["finetune", baseModel, "--data", subset, "--out", Path.Combine(dir, "low.enet"), "--trainable-last", "3",
            "--audio-models", models, "--detect", "low", "--phrase-ends", Path.Combine(linked, "manifest.csv"), "--negative-audio", Path.Combine(linked, "noise.wav"),
            "--oversample", "2", "--epochs", "1", "--dump-features", dump]);
        Assert.True(code == 0, stderr + stdout);
        Assert.Contains("84 windows: 12 positive", stdout);
        // the streamed dump: 84 windows + 12 repeated positives, 16 x 96 values each, labels as class indices (low = 1)
        var x = EdgeNet.Onnx.Npy.Read(Path.Combine(dump, "train_x.npy"));
        var y = EdgeNet.Onnx.Npy.Read(Path.Combine(dump, "train_y.npy")).ToInt64Array();
        Assert.Equal([96, 1536], x.Dims);
        Assert.Equal(96, y.Length);
        Assert.Equal(24, y.Count(v => v == 1));
        Assert.Contains(x.ToFloatArray(), v => v != 0);
    }

    [Fact]
    public void TrainingReusesTheEvaluationCacheAndTheThresholdIsChosenOnFalseAccepts()
    {
        string dir = Path.Combine(Path.GetTempPath(), "edgenet-wakeword-cache-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string data = Data(dir, out string manifest), noise = Path.Combine(dir, "noise.wav");
        string baseModel = RepoPaths.Model("openwakeword/alexa_v0.1.onnx"), models = Path.GetDirectoryName(baseModel)!;
        string cache = Path.Combine(dir, "cache"), clips = Path.Combine(dir, "clips.csv");
        // the base alexa head (one sigmoid) scores the clips; threshold 0 fires on every frame of the 1 s stream
        string[] evaluate = ["evaluate", baseModel, "--data", data, "--detect", "low", "--audio-models", models, "--stream", noise,
            "--consecutive", "2", "--embedding-cache", cache, "--sweep", "0,1.01"];
        var (code, sweep, err) = Support.EdgenetTool.Run([.. evaluate, "--max-false-accepts", "0", "--clip-scores", clips]);
        Assert.True(code == 0, err + sweep);
        Assert.Contains("chosen threshold: 1.01", sweep); // the lowest threshold without false accepts
        (code, sweep, err) = Support.EdgenetTool.Run([.. evaluate, "--max-false-accepts", "1e9"]);
        Assert.True(code == 0, err + sweep);
        Assert.Contains("chosen threshold: 0", sweep);
        (code, _, err) = Support.EdgenetTool.Run(["evaluate", baseModel, "--data", data, "--detect", "low", "--audio-models", models, "--max-false-accepts", "3"]);
        Assert.Equal(2, code); // a budget needs a stream
        Assert.Contains("--max-false-accepts", err);
        var rows = File.ReadAllLines(clips);
        Assert.Equal("file,positive,peak", rows[0]);
        Assert.Equal(7, rows.Length);
        Assert.Equal(3, rows.Skip(1).Count(r => r.Split(',')[1] == "1" && r.Contains("/low/")));
        Assert.All(rows.Skip(1), r => Assert.InRange(double.Parse(r.Split(',')[2], System.Globalization.CultureInfo.InvariantCulture), 0, 1));
        // 6 clips with a 1 s tail + the stream
        Assert.Equal(7, Directory.GetFiles(cache, "*.f32").Length);

        // training takes the clips' embeddings from the evaluation's (longer-tailed) cache: no new files, the same windows
        string[] finetune = ["finetune", baseModel, "--data", data, "--trainable-last", "3", "--audio-models", models, "--detect", "low",
            "--phrase-ends", manifest, "--negative-audio", noise, "--epochs", "1"];
        (code, var stdout, err) = Support.EdgenetTool.Run([.. finetune, "--out", Path.Combine(dir, "a.enet"), "--embedding-cache", cache, "--dump-features", Path.Combine(dir, "a")]);
        Assert.True(code == 0, err + stdout);
        Assert.Contains("84 windows: 12 positive", stdout);
        Assert.Equal(7, Directory.GetFiles(cache, "*.f32").Length);
        (code, stdout, err) = Support.EdgenetTool.Run([.. finetune, "--out", Path.Combine(dir, "b.enet"), "--dump-features", Path.Combine(dir, "b")]);
        Assert.True(code == 0, err + stdout);
        Assert.Equal(EdgeNet.Onnx.Npy.Read(Path.Combine(dir, "b", "train_x.npy")).ToFloatArray(), EdgeNet.Onnx.Npy.Read(Path.Combine(dir, "a", "train_x.npy")).ToFloatArray());
    }

    [Fact]
    public void FeatureFilesWriteNpyThatNumPyReadersParse()
    {
        string path = Path.Combine(Path.GetTempPath(), "edgenet-features-" + Guid.NewGuid().ToString("N") + ".npy");
        var data = Enumerable.Range(0, 7 * 13).Select(i => i * 0.25f - 3).ToArray();
        EdgeNet.Training.Audio.FeatureFiles.WriteNpy(path, data, 7, 13);
        var t = EdgeNet.Onnx.Npy.Read(path);
        Assert.Equal([7, 13], t.Dims);
        Assert.Equal(data, t.ToFloatArray());
        Assert.Equal(0, (File.ReadAllBytes(path).Length - 7 * 13 * 4) % 64); // the header is padded to 64 bytes
        EdgeNet.Training.Audio.FeatureFiles.WriteNpy(path, [4, -1, 0]);
        Assert.Equal([4L, -1, 0], EdgeNet.Onnx.Npy.Read(path).ToInt64Array());
        Assert.Throws<ArgumentException>(() => EdgeNet.Training.Audio.FeatureFiles.WriteNpy(path, data, 7, 12));
        File.Delete(path);
    }
}
