using EdgeNet.Data;
using EdgeNet.Execution;
using EdgeNet.Training.Metrics;

namespace EdgeNet.Cli;

/// <summary>edgenet evaluate: accuracy, per-class precision/recall and the confusion matrix of a classifier on a labelled folder.</summary>
internal static class EvaluateCommand
{
    public const string Usage = "edgenet evaluate MODEL --data DIR [--image-size HxW] [--normalize MEAN,STD] [--json] [--audio-models DIR] [--threads N]"
        + " [--detect CLASS [--threshold T] [--stream NEGATIVE.wav]]";

    private static readonly HashSet<string> s_options = ["--data", "--image-size", "--normalize", "--audio-models", "--threads", "--detect", "--threshold", "--stream"];

    public static int Run(string[] args)
    {
        var a = new Arguments(args, new HashSet<string> { "--json" }, s_options);
        if (a.Positional.Count != 1) throw new UsageException("give exactly one MODEL");
        string dir = a.Get("--data") ?? throw new UsageException("--data DIR is required");
        var model = ModelFiles.Load(a.Positional[0]);
        // a fine-tuned model remembers its classes (folder names) and how its images were prepared
        IReadOnlyList<string>? classes = model.Metadata.TryGetValue("edgenet.classes", out var names) ? names.Split('\n') : null;
        var folder = LabeledFolder.Open(dir, classes);
        var defaults = new List<string>(args);
        if (a.Get("--image-size") is null && model.Metadata.TryGetValue("edgenet.image_size", out var size)) defaults.AddRange(["--image-size", size]);
        if (a.Get("--normalize") is null && model.Metadata.TryGetValue("edgenet.normalize", out var norm)) defaults.AddRange(["--normalize", norm]);
        var withDefaults = new Arguments(defaults, new HashSet<string> { "--json" }, s_options);
        var reader = SampleReader.Create(model, folder.Kind, withDefaults, a.Positional[0]);
        var options = new SessionOptions { Threads = a.GetInt("--threads", 1, min: 1) };
        options.InputShapes[reader.InputName] = reader.InputShape;
        var session = new Session(model, options);
        int outputs = Shapes(session.OutputShape(0));
        var matrix = new ConfusionMatrix(classes ?? folder.Classes);
        if (outputs != matrix.ClassCount && !(outputs == 1 && matrix.ClassCount == 2))
            throw new InputMismatchException($"The model gives {outputs} scores per sample but the data has {matrix.ClassCount} classes");
        if (a.Get("--detect") is { } detect)
        {
            if (reader.Audio is null) throw new UsageException("--detect needs a folder of WAVs");
            int positive = matrix.Classes.ToList().IndexOf(detect);
            if (positive < 0) throw new UsageException($"--detect: '{detect}' is not one of the classes ({string.Join(", ", matrix.Classes)})");
            return Detect(session, reader.Audio, folder, positive, (float)a.GetDouble("--threshold", 0.5), a.Get("--stream"), a.Flag("--json"));
        }
        var scores = new float[Math.Max(2, outputs)];
        foreach (var file in folder.Files)
        {
            reader.Fill(file.Path, session.Input<float>(0));
            session.Run();
            var output = session.Output<float>(0);
            if (outputs == 1) { scores[0] = 1 - output[0]; scores[1] = output[0]; } // one sigmoid score: class 1 when ≥ 0.5
            else output[..outputs].CopyTo(scores);
            matrix.AddScores(file.Label, scores);
        }
        Console.WriteLine(a.Flag("--json") ? matrix.ToJson() : matrix.ToText());
        return 0;
    }

    /// <summary>
    /// Wake-word detection as a device runs it: each clip (after a silent lead-in, with 1 s of silence after) and the
    /// negative stream are scored every 80 ms on the last W embeddings; a clip counts as detected when any score
    /// reaches the threshold; in the stream, a false accept is a score reaching it at least 2 s after the last one.
    /// </summary>
    private static int Detect(Session session, Training.Audio.WakeWordFeatures audio, LabeledFolder folder, int positive, float threshold, string? stream, bool json)
    {
        int outputs = IR.Shapes.Count(session.OutputShape(0));
        float Score(ReadOnlySpan<float> window)
        {
            window.CopyTo(session.Input<float>(0));
            session.Run();
            var o = session.Output<float>(0);
            return outputs == 1 ? (positive == 1 ? o[0] : 1 - o[0]) : o[positive];
        }
        int positives = 0, hits = 0, negatives = 0, falseClips = 0;
        foreach (var file in folder.Files)
        {
            var clip = WavReader.ReadMono(file.Path, Training.Audio.WakeWordFeatures.SampleRate, fullScale: 32768f);
            var padded = new float[audio.LeadIn + clip.Length + Training.Audio.WakeWordFeatures.SampleRate];
            clip.CopyTo(padded.AsSpan(audio.LeadIn));
            var emb = audio.Embeddings(padded);
            float best = 0;
            for (int end = audio.WindowSize; end <= emb.Length; end += Training.Audio.WakeWordFeatures.EmbeddingSize)
                best = Math.Max(best, Score(emb.AsSpan(end - audio.WindowSize, audio.WindowSize)));
            bool detected = best >= threshold;
            if (file.Label == positive) { positives++; if (detected) hits++; }
            else { negatives++; if (detected) falseClips++; }
        }
        double hours = 0;
        int falseAccepts = 0;
        if (stream is not null)
        {
            var samples = WavReader.ReadMono(stream, Training.Audio.WakeWordFeatures.SampleRate, fullScale: 32768f);
            hours = samples.Length / (double)Training.Audio.WakeWordFeatures.SampleRate / 3600;
            var emb = audio.Embeddings(samples);
            int last = -1000, chunk = 0;
            for (int end = audio.WindowSize; end <= emb.Length; end += Training.Audio.WakeWordFeatures.EmbeddingSize, chunk++)
                if (Score(emb.AsSpan(end - audio.WindowSize, audio.WindowSize)) >= threshold)
                {
                    if (chunk - last >= 25) falseAccepts++; // 25 chunks = 2 s
                    last = chunk;
                }
        }
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        double recall = positives == 0 ? 0 : (double)hits / positives;
        if (json)
            Console.WriteLine(string.Create(inv, $"{{\"recall\": {recall}, \"detected\": {hits}, \"positives\": {positives}, \"false_clip_detections\": {falseClips}, \"negatives\": {negatives}, \"stream_hours\": {hours}, \"false_accepts\": {falseAccepts}, \"false_accepts_per_hour\": {(hours > 0 ? falseAccepts / hours : 0)}, \"threshold\": {threshold}}}"));
        else
        {
            Console.WriteLine(string.Create(inv, $"recall: {recall * 100:F2}% ({hits}/{positives} clips, threshold {threshold})"));
            Console.WriteLine(string.Create(inv, $"negative clips detected: {falseClips}/{negatives}"));
            if (stream is not null) Console.WriteLine(string.Create(inv, $"false accepts: {falseAccepts} in {hours:F3} h = {(hours > 0 ? falseAccepts / hours : 0):F2} per hour"));
        }
        return 0;
    }

    private static int Shapes(int[] dims) => IR.Shapes.Count(dims) / Math.Max(1, dims[0]);
}
