using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Onnx;

namespace EdgeNet.Samples.WakeWord;

/// <summary>
/// The openWakeWord chain, streaming: every 80 ms chunk (1280 samples at 16 kHz, int16 scale)
///   1. melspectrogram.onnx on the chunk plus 480 samples of context → 8 new 32-bin frames, scaled x/10 + 2;
///   2. embedding_model.onnx on the last 76 frames → one 96-d embedding per chunk;
///   3. each wake-word model on its last W embeddings (W = 16 for hey_jarvis/alexa, 34 for timer) → a score.
/// One fixed-shape Session per model; Process allocates nothing.
/// </summary>
public sealed class WakeWordDetector
{
    public const int SampleRate = 16000;
    public const int ChunkSamples = 1280;
    private const int ContextSamples = 480;
    private const int MelBins = 32, WindowFrames = 76, EmbeddingSize = 96;

    private readonly Session _mel, _embedding;
    private readonly (string Name, Session Session, int Window)[] _wakeWords;
    private readonly float[] _audio = new float[ChunkSamples + ContextSamples];
    private readonly float[] _melFrames = new float[WindowFrames * MelBins];
    private readonly float[] _embeddings;
    private readonly int _framesPerChunk;
    private int _melCount, _embeddingCount;

    public WakeWordDetector(string modelDirectory, IEnumerable<string> wakeWordModels, int threads = 1)
    {
        _mel = Open(Path.Combine(modelDirectory, "melspectrogram.onnx"), "input", [1, ChunkSamples + ContextSamples], threads);
        _embedding = Open(Path.Combine(modelDirectory, "embedding_model.onnx"), null, [1, WindowFrames, MelBins, 1], threads);
        var list = new List<(string, Session, int)>();
        foreach (var name in wakeWordModels)
        {
            var model = OnnxImporter.Load(Path.Combine(modelDirectory, name + ".onnx"));
            var input = model.Graph.Inputs[0];
            int window = input.Shape is { Length: 3 } s && s[1].IsKnown ? (int)s[1].Value : 16;
            list.Add((name, new Session(model, new SessionOptions { Threads = threads }), window));
        }
        _wakeWords = list.ToArray();
        Names = _wakeWords.Select(w => w.Name).ToArray();
        Scores = new float[_wakeWords.Length];
        _embeddings = new float[Math.Max(1, _wakeWords.Length == 0 ? 1 : _wakeWords.Max(w => w.Window)) * EmbeddingSize];
        _framesPerChunk = _mel.OutputShape(0)[^2];
        if (_framesPerChunk * MelBins != Shapes.Count(_mel.OutputShape(0)))
            throw new InvalidModelException($"melspectrogram output {Shapes.Format(_mel.OutputShape(0))} is not frames x {MelBins}");
    }

    private static Session Open(string path, string? input, int[] shape, int threads)
    {
        var model = OnnxImporter.Load(path);
        var options = new SessionOptions { Threads = threads };
        options.InputShapes[input ?? model.Graph.Inputs[0].Name] = shape;
        return new Session(model, options);
    }

    public string[] Names { get; }
    /// <summary>Latest score per wake-word model (0 until enough audio has been seen).</summary>
    public float[] Scores { get; }
    /// <summary>True once the model with the shortest window has a full window of embeddings.</summary>
    public bool Warm => _embeddingCount >= _wakeWords.Min(w => w.Window);

    /// <summary>Feeds one 80 ms chunk (1280 samples, int16 scale) and updates <see cref="Scores"/>.</summary>
    public void Process(ReadOnlySpan<float> chunk)
    {
        if (chunk.Length != ChunkSamples) throw new ArgumentException($"chunks are {ChunkSamples} samples", nameof(chunk));
        _audio.AsSpan(ChunkSamples).CopyTo(_audio);
        chunk.CopyTo(_audio.AsSpan(ContextSamples));
        _audio.CopyTo(_mel.Input<float>(0));
        _mel.Run();

        var mel = _mel.Output<float>(0);
        int newValues = _framesPerChunk * MelBins;
        _melFrames.AsSpan(newValues).CopyTo(_melFrames);
        var tail = _melFrames.AsSpan(_melFrames.Length - newValues);
        for (int i = 0; i < newValues; i++) tail[i] = mel[i] / 10f + 2f;
        _melCount = Math.Min(WindowFrames, _melCount + _framesPerChunk);
        if (_melCount < WindowFrames) return;

        _melFrames.CopyTo(_embedding.Input<float>(0));
        _embedding.Run();
        _embeddings.AsSpan(EmbeddingSize).CopyTo(_embeddings);
        _embedding.Output<float>(0).CopyTo(_embeddings.AsSpan(_embeddings.Length - EmbeddingSize));
        _embeddingCount++;

        for (int k = 0; k < _wakeWords.Length; k++)
        {
            var (_, session, window) = _wakeWords[k];
            if (_embeddingCount < window) continue;
            _embeddings.AsSpan(_embeddings.Length - window * EmbeddingSize).CopyTo(session.Input<float>(0));
            session.Run();
            var output = session.Output<float>(0);
            float score = output[0];
            if (output.Length > 1) // multi-class models (timer): best non-background class
            {
                score = 0;
                for (int i = 1; i < output.Length; i++) score = Math.Max(score, output[i]);
            }
            Scores[k] = score;
        }
    }
}
