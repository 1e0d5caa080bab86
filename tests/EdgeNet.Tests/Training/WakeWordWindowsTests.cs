using EdgeNet.Onnx;
using EdgeNet.Passes;
using EdgeNet.Tests.RealModels;
using EdgeNet.Training.Audio;

namespace EdgeNet.Tests.Training;

/// <summary>Wake-word training windows (labels around the phrase end), the silence-started chain and the detector's decision rule.</summary>
public class WakeWordWindowsTests
{
    private static WakeWordFeatures Features()
    {
        IR.Model Load(string name)
        {
            var m = OnnxImporter.Load(RepoPaths.Model("openwakeword/" + name));
            PassPipeline.Optimize(m);
            return m;
        }
        return new WakeWordFeatures(Load("melspectrogram.onnx"), Load("embedding_model.onnx"));
    }

    private static float[] Tone(int samples, double hz, int seed)
    {
        var random = new Random(seed);
        var x = new float[samples];
        for (int t = 0; t < x.Length; t++) x[t] = (float)(6000 * Math.Sin(2 * Math.PI * hz * t / 16000) + random.Next(-400, 400));
        return x;
    }

    [Fact]
    public void PositiveClipWindowsAreLabelledAroundThePhraseEnd()
    {
        var rule = new WakeWordWindows { PositiveFrom = 0, PositiveTo = 0.32, NegativeBefore = 0.4 };
        Assert.Equal(WakeWordWindows.Positive, rule.LabelPositiveClip(1.0, 1.0));
        Assert.Equal(WakeWordWindows.Positive, rule.LabelPositiveClip(1.32, 1.0));
        Assert.Equal(WakeWordWindows.Ignore, rule.LabelPositiveClip(1.33, 1.0));
        Assert.Equal(WakeWordWindows.Ignore, rule.LabelPositiveClip(0.99, 1.0));
        Assert.Equal(WakeWordWindows.Ignore, rule.LabelPositiveClip(0.61, 1.0));
        Assert.Equal(WakeWordWindows.Negative, rule.LabelPositiveClip(0.6, 1.0));
        Assert.Equal(WakeWordWindows.Negative, rule.LabelPositiveClip(0.08, 1.0));
        Assert.Throws<ArgumentException>(() => new WakeWordWindows { PositiveFrom = 0.3, PositiveTo = 0.1 }.LabelPositiveClip(1, 1));
    }

    [Fact]
    public void ChainStartedOnSilenceEqualsALongSilentLeadIn()
    {
        var features = Features();
        var clip = Tone(16000, 440, 1);
        var padded = new float[features.LeadIn + clip.Length];
        clip.CopyTo(padded, features.LeadIn);
        var reference = features.Embeddings(padded);
        var fast = features.Embeddings(clip, afterSilence: true);
        // one window per 80 ms chunk of the clip (12 whole chunks of 16000 samples), each W embeddings
        Assert.Equal(clip.Length / WakeWordFeatures.ChunkSamples, features.WindowCount(fast));
        Assert.Equal((features.Window - 1 + 12) * WakeWordFeatures.EmbeddingSize, fast.Length);
        // the last window of both ends where the clip's last whole chunk ends
        var a = reference.AsSpan(reference.Length - features.WindowSize);
        var b = fast.AsSpan(fast.Length - features.WindowSize);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1e-4f * (1 + Math.Abs(a[i])), $"value {i}: {a[i]} vs {b[i]}");
        // and the first fast window is all silence: equal to a window of the lead-in
        var silence = reference.AsSpan(0, WakeWordFeatures.EmbeddingSize);
        for (int i = 0; i < WakeWordFeatures.EmbeddingSize; i++) Assert.Equal(silence[i], fast[i], 4);
        // a silent clip's windows after silence are all the same
        var quiet = features.Embeddings(new float[4 * WakeWordFeatures.ChunkSamples], afterSilence: true);
        for (int i = 0; i < quiet.Length; i++) Assert.Equal(quiet[i % WakeWordFeatures.EmbeddingSize], quiet[i], 4);
    }

    [Fact]
    public void AddTakesEveryWindowOfNegativeAudioAndOnlyTheLabelledOnesOfAPositiveClip()
    {
        var features = Features();
        var rule = new WakeWordWindows { PositiveFrom = 0, PositiveTo = 0.32, NegativeBefore = 0.4 };
        var audio = Tone(25 * WakeWordFeatures.ChunkSamples, 300, 2); // 2.0 s: windows end at 0.08, 0.16, … 2.0 s
        var windows = new List<float>();
        var labels = new List<int>();
        Assert.Equal(25, rule.Add(features, audio, null, windows, labels));
        Assert.All(labels, l => Assert.Equal(WakeWordWindows.Negative, l));
        Assert.Equal(25 * features.WindowSize, windows.Count);
        // every second window from 0.5 s on: ends 0.56, 0.72, … 2.0 → 10 windows
        windows.Clear(); labels.Clear();
        Assert.Equal(10, rule.Add(features, audio, null, windows, labels, firstEnd: 0.5, stride: 2));

        // a phrase ending at 1.0 s: positives end at 1.04, 1.12, 1.20, 1.28; negatives end at 0.08 … 0.56 (≤ 0.6)
        windows.Clear(); labels.Clear();
        Assert.Equal(4 + 7, rule.Add(features, audio, 1.0, windows, labels));
        Assert.Equal(4, labels.Count(l => l == WakeWordWindows.Positive));
        Assert.Equal([0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1], labels);
        // the positive windows are the ones ending at 1.04 … 1.28 s: the first one equals window 12 of the audio
        var all = features.Embeddings(audio, afterSilence: true);
        for (int i = 0; i < features.WindowSize; i++) Assert.Equal(all[12 * WakeWordFeatures.EmbeddingSize + i], windows[7 * features.WindowSize + i]);
        Assert.Throws<ArgumentOutOfRangeException>(() => rule.Add(features, audio, null, windows, labels, stride: 0));
    }

    [Fact]
    public void PeakIsTheHighestThresholdAtWhichTheDetectorFires()
    {
        var random = new Random(11);
        for (int trial = 0; trial < 200; trial++)
        {
            var scores = new float[random.Next(0, 12)];
            for (int i = 0; i < scores.Length; i++) scores[i] = (float)random.NextDouble();
            int k = random.Next(1, 4);
            float peak = WakeWordDetector.Peak(scores, k);
            bool Fires(float t)
            {
                var d = new WakeWordDetector(t, k, refractoryFrames: 25);
                return scores.Any(d.Push);
            }
            if (scores.Length >= k) Assert.True(Fires(peak), $"trial {trial}: does not fire at its peak {peak}");
            else Assert.Equal(0f, peak);
            Assert.False(Fires(MathF.BitIncrement(peak)) && scores.Length >= k, $"trial {trial}: fires above its peak {peak}");
        }
        Assert.Equal(0.5f, WakeWordDetector.Peak([0.9f, 0.1f, 0.6f, 0.5f, 0.2f], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => WakeWordDetector.Peak([0.5f], 0));
    }

    [Fact]
    public void DetectorNeedsConsecutiveFramesAndStaysQuietForTheRefractoryPeriod()
    {
        var d = new WakeWordDetector(0.5f, consecutive: 2, refractoryFrames: 3);
        float[] scores = [0.9f, 0.1f, 0.6f, 0.5f, 0.9f, 0.9f, 0.9f, 0.9f, 0.9f, 0.2f];
        var fired = scores.Select(d.Push).ToArray();
        // fires on the 2nd of two frames ≥ 0.5 (index 3), ignores 4..6, then needs two new frames (7, 8)
        Assert.Equal([false, false, false, true, false, false, false, false, true, false], fired);
        Assert.Equal(2, d.Detections);
        d.Reset();
        Assert.Equal(0, d.Detections);
        Assert.False(d.Push(0.9f));
        Assert.True(d.Push(0.9f));
        var single = new WakeWordDetector(0.5f, consecutive: 1, refractoryFrames: 0);
        Assert.Equal(3, new[] { 0.7f, 0.7f, 0.2f, 0.7f }.Count(single.Push));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WakeWordDetector(0.5f, consecutive: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WakeWordDetector(0.5f, refractoryFrames: -1));
    }
}
