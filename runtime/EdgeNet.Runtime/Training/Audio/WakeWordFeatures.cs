using EdgeNet.Execution;
using EdgeNet.IR;

namespace EdgeNet.Training.Audio;

/// <summary>
/// Turns audio into the openWakeWord embedding windows a wake-word head reads ([1, 16, 96] by default), with the same
/// chain as a device running the detector: every 80 ms (1280 samples at 16 kHz, int16 scale) the melspectrogram
/// model sees the chunk plus 480 samples of context and gives 8 frames of 32 bins (scaled x/10 + 2); the embedding
/// model reads the last 76 frames and gives one 96-d embedding; a window is the last <see cref="Window"/> embeddings.
/// A clip is placed at the end of a silent lead-in long enough for one full window, so its window ends where it ends.
/// </summary>
public sealed class WakeWordFeatures
{
    public const int SampleRate = 16000, ChunkSamples = 1280, ContextSamples = 480, MelBins = 32, MelWindow = 76, EmbeddingSize = 96;

    private readonly Session _mel, _embedding;
    private readonly int _framesPerChunk;
    private readonly float[] _audio = new float[ChunkSamples + ContextSamples];
    private readonly float[] _melFrames = new float[MelWindow * MelBins];

    /// <param name="melspectrogram">openWakeWord melspectrogram.onnx (imported).</param>
    /// <param name="embedding">openWakeWord embedding_model.onnx (imported).</param>
    public WakeWordFeatures(Model melspectrogram, Model embedding, int window = 16)
    {
        var melOptions = new SessionOptions();
        melOptions.InputShapes[melspectrogram.Graph.Inputs[0].Name] = [1, ChunkSamples + ContextSamples];
        _mel = new Session(melspectrogram, melOptions);
        var embOptions = new SessionOptions();
        embOptions.InputShapes[embedding.Graph.Inputs[0].Name] = [1, MelWindow, MelBins, 1];
        _embedding = new Session(embedding, embOptions);
        _framesPerChunk = _mel.OutputShape(0)[^2];
        if (Shapes.Count(_embedding.OutputShape(0)) != EmbeddingSize) throw new InvalidModelException($"The embedding model gives {Shapes.Format(_embedding.OutputShape(0))}, not {EmbeddingSize} values");
        Window = window;
    }

    public int Window { get; }
    public int WindowSize => Window * EmbeddingSize;

    /// <summary>Silence before a clip so that its end gets a full window: mel warm-up plus the window, in samples.</summary>
    public int LeadIn => (MelWindow / _framesPerChunk + 1 + Window) * ChunkSamples;

    /// <summary>Embeddings of a stream, one per 80 ms chunk once the mel window is full: [count × 96].</summary>
    public float[] Embeddings(ReadOnlySpan<float> samples) => Embeddings(samples, afterSilence: false);

    /// <summary>
    /// Embeddings of a stream. With <paramref name="afterSilence"/> the chain starts as if it had been running on
    /// digital silence (its mel frames and the first W − 1 embeddings are those of silence), so the result is
    /// W − 1 silence embeddings followed by one embedding per 80 ms chunk of <paramref name="samples"/>: window k
    /// (embeddings k … k + W − 1) then ends exactly at sample (k + 1) · 1280 — the same values a long silent lead-in
    /// gives, at a fraction of the cost. Without it, embeddings start once the mel window has filled.
    /// </summary>
    public float[] Embeddings(ReadOnlySpan<float> samples, bool afterSilence)
    {
        int chunks = samples.Length / ChunkSamples;
        var result = new List<float>((chunks + Window) * EmbeddingSize);
        Array.Clear(_audio);
        Array.Clear(_melFrames);
        int melCount = 0;
        if (afterSilence)
        {
            var (mel, embedding) = Silence();
            mel.CopyTo(_melFrames, 0);
            melCount = MelWindow;
            for (int i = 0; i < Window - 1; i++) result.AddRange(embedding);
        }
        for (int c = 0; c < chunks; c++)
        {
            _audio.AsSpan(ChunkSamples).CopyTo(_audio);
            samples.Slice(c * ChunkSamples, ChunkSamples).CopyTo(_audio.AsSpan(ContextSamples));
            _audio.CopyTo(_mel.Input<float>(0));
            _mel.Run();
            var mel = _mel.Output<float>(0);
            int fresh = _framesPerChunk * MelBins;
            _melFrames.AsSpan(fresh).CopyTo(_melFrames);
            var tail = _melFrames.AsSpan(_melFrames.Length - fresh);
            for (int i = 0; i < fresh; i++) tail[i] = mel[i] / 10f + 2f;
            melCount = Math.Min(MelWindow, melCount + _framesPerChunk);
            if (melCount < MelWindow) continue;
            _melFrames.CopyTo(_embedding.Input<float>(0));
            _embedding.Run();
            foreach (float v in _embedding.Output<float>(0)) result.Add(v);
        }
        return result.ToArray();
    }

    private (float[] Mel, float[] Embedding)? _silence;

    /// <summary>The steady state of the chain on digital silence: its mel window and its embedding (computed once).</summary>
    private (float[] Mel, float[] Embedding) Silence()
    {
        if (_silence is { } s) return s;
        var embeddings = Embeddings(new float[(MelWindow / _framesPerChunk + 2) * ChunkSamples], afterSilence: false);
        var mel = (float[])_melFrames.Clone();
        var embedding = embeddings[^EmbeddingSize..];
        _silence = (mel, embedding);
        return (mel, embedding);
    }

    /// <summary>Where window <paramref name="k"/> of <see cref="Embeddings(ReadOnlySpan{float}, bool)"/> with afterSilence ends, in samples.</summary>
    public static long WindowEnd(int k) => (k + 1L) * ChunkSamples;

    /// <summary>The number of windows in an afterSilence embedding array.</summary>
    public int WindowCount(float[] embeddings) => embeddings.Length / EmbeddingSize - Window + 1;

    /// <summary>The window ending at the end of <paramref name="clip"/> (int16 scale, 16 kHz), written to <paramref name="window"/>.</summary>
    public void ClipWindow(ReadOnlySpan<float> clip, Span<float> window)
    {
        int tail = ChunkSamples - clip.Length % ChunkSamples;
        var padded = new float[LeadIn + clip.Length + (tail == ChunkSamples ? 0 : tail)];
        clip.CopyTo(padded.AsSpan(LeadIn));
        var embeddings = Embeddings(padded);
        if (embeddings.Length < WindowSize) throw new InvalidOperationException("the lead-in is too short for one window");
        embeddings.AsSpan(embeddings.Length - WindowSize).CopyTo(window);
    }
}
