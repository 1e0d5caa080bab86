using EdgeNet.Data;
using EdgeNet.Execution;
using EdgeNet.Training.Metrics;

namespace EdgeNet.Cli;

/// <summary>edgenet evaluate: accuracy, per-class precision/recall and the confusion matrix of a classifier on a labelled folder.</summary>
internal static class EvaluateCommand
{
    public const string Usage = "edgenet evaluate MODEL --data DIR [--image-size HxW] [--normalize MEAN,STD] [--json] [--audio-models DIR] [--threads N]"
        + " [--detect CLASS [--threshold T] [--stream NEGATIVE.wav] [--consecutive K] [--refractory S] [--sweep T1,T2,...] [--choose-threshold RECALL] [--max-false-accepts F] [--clip-scores FILE.csv] [--embedding-cache DIR]]";

    private static readonly HashSet<string> s_options = ["--data", "--image-size", "--normalize", "--audio-models", "--threads", "--detect", "--threshold", "--stream", "--consecutive", "--refractory", "--sweep", "--choose-threshold", "--max-false-accepts", "--clip-scores", "--embedding-cache"];

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
            var rule = new DetectRule(a.GetInt("--consecutive", 1, min: 1), (int)Math.Round(a.GetDouble("--refractory", 2.0) * Training.Audio.WakeWordFeatures.SampleRate / Training.Audio.WakeWordFeatures.ChunkSamples));
            return Detect(session, reader.Audio, folder, positive, (float)a.GetDouble("--threshold", 0.5), a.Get("--stream"), a.Flag("--json"), rule, a.Get("--sweep"), a.Get("--choose-threshold"), a.Get("--embedding-cache"),
                a.Get("--max-false-accepts"), a.Get("--clip-scores"));
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

    private readonly record struct DetectRule(int Consecutive, int RefractoryFrames);

    /// <summary>
    /// Wake-word detection as a device runs it: the chain starts on digital silence; each clip (followed by 1 s of
    /// silence) and the negative stream are scored every 80 ms on the last W embeddings, and a
    /// <see cref="Training.Audio.WakeWordDetector"/> fires when the score is at or above the threshold on --consecutive
    /// frames in a row, then stays quiet for --refractory seconds. A clip counts as detected when the detector fires
    /// in it; every firing in the stream is a false accept. --sweep prints the figures for several thresholds;
    /// --choose-threshold R picks the highest threshold of the sweep whose recall on this data is at least R;
    /// --max-false-accepts F the lowest threshold of the sweep with at most F false accepts per hour on the stream (the
    /// most recall within that budget; with --choose-threshold too, the budget wins when they disagree).
    /// --clip-scores writes each clip's peak: the highest threshold at which the detector fires in it.
    /// </summary>
    private static int Detect(Session session, Training.Audio.WakeWordFeatures audio, LabeledFolder folder, int positive, float threshold, string? stream, bool json,
        DetectRule rule, string? sweep, string? choose, string? cache, string? maxFalseAccepts = null, string? clipScores = null)
    {
        const int rate = Training.Audio.WakeWordFeatures.SampleRate;
        int outputs = IR.Shapes.Count(session.OutputShape(0));
        float[] Scores(float[] emb)
        {
            int count = audio.WindowCount(emb);
            var scores = new float[count];
            for (int k = 0; k < count; k++)
            {
                emb.AsSpan(k * Training.Audio.WakeWordFeatures.EmbeddingSize, audio.WindowSize).CopyTo(session.Input<float>(0));
                session.Run();
                var o = session.Output<float>(0);
                scores[k] = outputs == 1 ? (positive == 1 ? o[0] : 1 - o[0]) : o[positive];
            }
            return scores;
        }
        var clips = new List<(bool Positive, float[] Scores)>();
        foreach (var file in folder.Files)
        {
            clips.Add((file.Label == positive, Scores(EmbeddingCache.Embeddings(audio, cache, file.Path, tail: rate))));
        }
        if (clipScores is not null)
        {
            using var w = new StreamWriter(clipScores);
            w.WriteLine("file,positive,peak");
            for (int i = 0; i < clips.Count; i++)
                w.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"{EmbeddingCache.RealPath(folder.Files[i].Path)},{(clips[i].Positive ? 1 : 0)},{Training.Audio.WakeWordDetector.Peak(clips[i].Scores, rule.Consecutive):R}"));
        }
        double hours = 0;
        float[]? streamScores = null;
        if (stream is not null)
        {
            var emb = EmbeddingCache.Embeddings(audio, cache, stream, tail: 0);
            hours = (audio.WindowCount(emb) * (double)Training.Audio.WakeWordFeatures.ChunkSamples) / rate / 3600;
            streamScores = Scores(emb);
        }
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        (int Hits, int Positives, int FalseClips, int Negatives, int FalseAccepts) Count(float t)
        {
            var detector = new Training.Audio.WakeWordDetector(t, rule.Consecutive, rule.RefractoryFrames);
            int positives = 0, hits = 0, negatives = 0, falseClips = 0;
            foreach (var (isPositive, scores) in clips)
            {
                detector.Reset();
                foreach (float s in scores) detector.Push(s);
                bool detected = detector.Detections > 0;
                if (isPositive) { positives++; if (detected) hits++; }
                else { negatives++; if (detected) falseClips++; }
            }
            detector.Reset();
            if (streamScores is not null) foreach (float s in streamScores) detector.Push(s);
            return (hits, positives, falseClips, negatives, streamScores is null ? 0 : detector.Detections);
        }
        string ruleText = string.Create(inv, $"{rule.Consecutive} consecutive frame(s), refractory {rule.RefractoryFrames * 0.08:0.##} s");
        double budget = -1;
        if (maxFalseAccepts is not null && (stream is null || !double.TryParse(maxFalseAccepts, System.Globalization.NumberStyles.Float, inv, out budget) || budget < 0))
            throw new UsageException($"--max-false-accepts takes false accepts per hour (>= 0) and needs --stream, got '{maxFalseAccepts}'");
        if (sweep is not null || choose is not null || budget >= 0)
        {
            var grid = (sweep ?? "0.05,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,0.95,0.97,0.98,0.99,0.995,0.998,0.999").Split(',').Select(t =>
                float.TryParse(t, System.Globalization.NumberStyles.Float, inv, out float v) ? v : throw new UsageException($"--sweep takes comma-separated thresholds, got '{t}'")).Order().ToArray();
            double target = 0;
            if (choose is not null && (!double.TryParse(choose, System.Globalization.NumberStyles.Float, inv, out target) || target is < 0 or > 1))
                throw new UsageException($"--choose-threshold takes a recall in [0, 1], got '{choose}'");
            Console.WriteLine($"threshold  recall  negative clips  false accepts/h   ({ruleText})");
            float? chosen = null, withinBudget = null;
            foreach (float t in grid)
            {
                var c = Count(t);
                double r = c.Positives == 0 ? 0 : (double)c.Hits / c.Positives;
                Console.WriteLine(string.Create(inv, $"{t,9:0.####}  {r * 100,6:F2}%  {c.FalseClips,6}/{c.Negatives,-6}  {(hours > 0 ? c.FalseAccepts / hours : 0),10:F2}"));
                if (choose is not null && r >= target) chosen = t;
                if (budget >= 0 && withinBudget is null && c.FalseAccepts / hours <= budget) withinBudget = t;
            }
            if (budget >= 0)
            {
                if (withinBudget is null) throw new InputMismatchException($"no threshold of the sweep keeps false accepts at or below {budget} per hour");
                // the lowest threshold within the budget, unless a higher one already reaches the recall target
                chosen = chosen is { } c2 && c2 > withinBudget ? c2 : withinBudget;
            }
            if (choose is not null || budget >= 0)
            {
                if (chosen is null) throw new InputMismatchException($"no threshold of the sweep reaches recall {target}");
                Console.WriteLine(string.Create(inv, $"chosen threshold: {chosen}"));
            }
            return 0;
        }
        var (hits, positives, falseClips, negatives, falseAccepts) = Count(threshold);
        double recall = positives == 0 ? 0 : (double)hits / positives;
        if (json)
            Console.WriteLine(string.Create(inv, $"{{\"recall\": {recall}, \"detected\": {hits}, \"positives\": {positives}, \"false_clip_detections\": {falseClips}, \"negatives\": {negatives}, \"stream_hours\": {hours}, \"false_accepts\": {falseAccepts}, \"false_accepts_per_hour\": {(hours > 0 ? falseAccepts / hours : 0)}, \"threshold\": {threshold}, \"consecutive\": {rule.Consecutive}, \"refractory_frames\": {rule.RefractoryFrames}}}"));
        else
        {
            Console.WriteLine(string.Create(inv, $"recall: {recall * 100:F2}% ({hits}/{positives} clips, threshold {threshold}, {ruleText})"));
            Console.WriteLine(string.Create(inv, $"negative clips detected: {falseClips}/{negatives}"));
            if (stream is not null) Console.WriteLine(string.Create(inv, $"false accepts: {falseAccepts} in {hours:F3} h ({hours * 60:F1} min) = {(hours > 0 ? falseAccepts / hours : 0):F2} per hour"));
        }
        return 0;
    }

    private static int Shapes(int[] dims) => IR.Shapes.Count(dims) / Math.Max(1, dims[0]);
}
