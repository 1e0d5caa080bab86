using System.Globalization;
using EdgeNet.Data;
using EdgeNet.Training;
using EdgeNet.Training.Audio;

namespace EdgeNet.Cli;

/// <summary>
/// finetune --detect CLASS: the wake-word training set is every 80 ms window of the WAVs, labelled by
/// <see cref="WakeWordWindows"/> — all windows of the other class's clips and of --negative-audio (streams, noise,
/// silence) are negatives; the windows just after the phrase end of the detected class's clips (phrase ends from
/// --phrase-ends) are positives, and each positive clip is also used --augment more times with a random gain,
/// a background noise from --noise and a random shift of up to one 80 ms chunk (so the windows fall on other
/// positions of the chunk grid). Positive windows are repeated --oversample times.
/// </summary>
internal sealed class WakeWordData
{
    public const string Usage = " [--detect CLASS --phrase-ends FILE.csv [--negative-audio WAV|DIR]... [--augment N] [--noise DIR] [--positive-span FROM:TO] [--negative-before S]"
        + " [--oversample K] [--clip-from S] [--mine-epochs E] [--mine-repeat R] [--embedding-cache DIR]]";
    public static readonly string[] Options = ["--detect", "--phrase-ends", "--negative-audio", "--augment", "--noise", "--positive-span", "--negative-before", "--oversample", "--clip-from", "--mine-epochs", "--mine-repeat", "--embedding-cache"];

    private readonly WakeWordFeatures _features;
    private readonly WakeWordWindows _rule;
    private readonly Dictionary<string, double> _ends = new(StringComparer.Ordinal);
    private readonly int _positive, _augment, _oversample;
    private readonly double _clipFrom;
    private readonly AudioAugmentation _augmentation;
    private readonly string? _cache;

    public WakeWordData(Arguments a, WakeWordFeatures features, IReadOnlyList<string> classes, int seed)
    {
        _features = features;
        string detect = a.Get("--detect")!;
        if (classes.Count != 2) throw new UsageException($"--detect needs exactly two classes (the wake word and the rest), got {classes.Count}");
        _positive = classes.ToList().IndexOf(detect);
        if (_positive < 0) throw new UsageException($"--detect: '{detect}' is not one of the classes ({string.Join(", ", classes)})");
        string endsPath = a.Get("--phrase-ends") ?? throw new UsageException("--detect needs --phrase-ends FILE.csv (columns file, phrase_end: where each positive phrase ends, in seconds)");
        ReadEnds(endsPath);
        double from = 0, to = 0.32;
        if (a.Get("--positive-span") is { } span)
        {
            var parts = span.Split(':');
            if (parts.Length != 2 || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out from)
                || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out to) || to < from)
                throw new UsageException($"--positive-span takes FROM:TO seconds after the phrase end, got '{span}'");
        }
        _rule = new WakeWordWindows { PositiveFrom = from, PositiveTo = to, NegativeBefore = a.GetDouble("--negative-before", 0.4) };
        _augment = a.GetInt("--augment", 0);
        _oversample = a.GetInt("--oversample", 1, min: 1);
        _clipFrom = a.GetDouble("--clip-from", 0.5);
        _cache = a.Get("--embedding-cache");
        var noises = new List<float[]>();
        if (a.Get("--noise") is { } noiseDir)
        {
            if (!Directory.Exists(noiseDir)) throw new UsageException($"--noise: no folder '{noiseDir}'");
            foreach (var f in Directory.GetFiles(noiseDir, "*.wav").Order(StringComparer.Ordinal))
            {
                var n = WavReader.ReadMono(f, WakeWordFeatures.SampleRate, fullScale: 32768f);
                if (n.Any(v => v != 0)) noises.Add(n);
            }
        }
        _augmentation = new AudioAugmentation { MaxGainDb = 6, MaxShiftSamples = 0, BackgroundNoise = noises, MinSnrDb = 5, MaxSnrDb = 25 };
        Random = new Random(seed ^ 0x77a1e);
        NegativeAudio = a.All("--negative-audio").SelectMany<string, string>(p => Directory.Exists(p)
            ? Directory.GetFiles(p, "*.wav").Order(StringComparer.Ordinal)
            : File.Exists(p) ? [p] : throw new UsageException($"--negative-audio: no file or folder '{p}'")).ToArray();
    }

    public Random Random { get; }
    public IReadOnlyList<string> NegativeAudio { get; }
    public int PositiveLabel => _positive;
    public int NegativeLabel => 1 - _positive;

    private void ReadEnds(string path)
    {
        if (!File.Exists(path)) throw new UsageException($"--phrase-ends: no file '{path}'");
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) throw new UsageException($"--phrase-ends: '{path}' is empty");
        var header = lines[0].Split(',');
        int fileColumn = Array.IndexOf(header, "file"), endColumn = Array.IndexOf(header, "phrase_end");
        if (fileColumn < 0 || endColumn < 0) throw new UsageException($"--phrase-ends: '{path}' needs columns 'file' and 'phrase_end'");
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            var cells = SplitCsv(lines[i]);
            if (cells.Count <= Math.Max(fileColumn, endColumn)) throw new UsageException($"--phrase-ends: line {i + 1} of '{path}' has {cells.Count} cells");
            if (cells[endColumn].Length == 0) continue;
            if (!double.TryParse(cells[endColumn], NumberStyles.Float, CultureInfo.InvariantCulture, out double end) || end < 0)
                throw new UsageException($"--phrase-ends: line {i + 1} of '{path}': phrase_end '{cells[endColumn]}' is not a time in seconds");
            _ends[EmbeddingCache.RealPath(Path.Combine(dir, cells[fileColumn]))] = end;
        }
    }

    private static List<string> SplitCsv(string line)
    {
        var cells = new List<string>();
        var cell = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { cell.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else cell.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { cells.Add(cell.ToString()); cell.Clear(); }
            else cell.Append(c);
        }
        cells.Add(cell.ToString());
        return cells;
    }

    /// <summary>The windows of a labelled folder (plus, when <paramref name="withNegativeAudio"/>, of --negative-audio), with their labels.</summary>
    public FeatureSet Build(LabeledFolder folder, bool withNegativeAudio, bool augment, out string summary)
    {
        var windows = new List<float>();
        var labels = new List<int>();
        int positiveClips = 0, negativeClips = 0, fromAudio = 0;
        foreach (var file in folder.Files)
        {
            var embeddings = EmbeddingCache.Embeddings(_features, _cache, file.Path, tail: 0);
            if (file.Label != _positive)
            {
                negativeClips++;
                _rule.AddEmbeddings(_features, embeddings, null, windows, labels, _clipFrom);
                continue;
            }
            if (!_ends.TryGetValue(EmbeddingCache.RealPath(file.Path), out double end))
                throw new UsageException($"--phrase-ends has no phrase_end for '{file.Path}'");
            positiveClips++;
            _rule.AddEmbeddings(_features, embeddings, end, windows, labels, _clipFrom);
            var clip = augment && _augment > 0 ? WavReader.ReadMono(file.Path, WakeWordFeatures.SampleRate, fullScale: 32768f) : [];
            for (int r = 0; augment && r < _augment; r++)
            {
                // a shift of 0..1279 samples of silence in front moves the phrase end off the 80 ms grid
                int shift = Random.Next(WakeWordFeatures.ChunkSamples);
                var copy = WithTail(clip, shift);
                _augmentation.Apply(copy.AsSpan(shift, clip.Length), Random);
                _rule.Add(_features, copy, end + shift / (double)WakeWordFeatures.SampleRate, windows, labels, _clipFrom);
            }
        }
        if (withNegativeAudio)
            foreach (var path in NegativeAudio)
                fromAudio += _rule.AddEmbeddings(_features, EmbeddingCache.Embeddings(_features, _cache, path, tail: 0), null, windows, labels);
        // window labels are 0 = negative, 1 = positive: map them to the class indices
        int size = _features.WindowSize, positives = labels.Count(l => l == WakeWordWindows.Positive);
        var order = new List<int>(labels.Count + positives * (_oversample - 1));
        for (int i = 0; i < labels.Count; i++)
            for (int r = 0, n = labels[i] == WakeWordWindows.Positive ? _oversample : 1; r < n; r++) order.Add(i);
        var data = new float[(long)order.Count * size];
        var classLabels = new int[order.Count];
        var source = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(windows);
        for (int i = 0; i < order.Count; i++)
        {
            source.Slice(order[i] * size, size).CopyTo(data.AsSpan(i * size, size));
            classLabels[i] = labels[order[i]] == WakeWordWindows.Positive ? _positive : 1 - _positive;
        }
        summary = string.Create(CultureInfo.InvariantCulture,
            $"{labels.Count} windows: {positives} positive (from {positiveClips} clips{(augment && _augment > 0 ? $" + {_augment} augmented copies each" : "")}, x{_oversample}), {labels.Count - positives} negative ({negativeClips} clips, {fromAudio} from {(withNegativeAudio ? NegativeAudio.Count : 0)} negative audio files)");
        return new FeatureSet(data, size, classLabels);
    }

    /// <summary>The clip after <paramref name="shift"/> samples of silence.</summary>
    private static float[] WithTail(float[] clip, int shift)
    {
        var x = new float[shift + clip.Length];
        clip.CopyTo(x, shift);
        return x;
    }

    /// <summary>
    /// Hard-negative mining: the negatives the trained model classifies as the wake word, repeated
    /// <paramref name="repeat"/> times and appended to <paramref name="train"/>.
    /// </summary>
    public FeatureSet WithHardNegatives(Trainer trainer, FeatureSet train, int repeat, out int mined)
    {
        var r = trainer.Evaluate(train);
        var hard = new List<int>();
        for (int i = 0; i < train.Count; i++)
            if (train.Labels[i] != _positive && r.Predictions[i] == _positive) hard.Add(i);
        mined = hard.Count;
        var indices = Enumerable.Range(0, train.Count).ToList();
        for (int k = 0; k < repeat; k++) indices.AddRange(hard);
        return train.Subset(indices);
    }
}

/// <summary>
/// --embedding-cache DIR: the openWakeWord embeddings of a WAV (chain started on silence, the WAV followed by
/// <c>tail</c> samples of silence) are kept in DIR as raw float32, keyed by the file's full path, size, write time,
/// the tail and the window, so evaluating again (another threshold, another model on the same embeddings) or training
/// again skips the embedding model. Augmented audio is never cached.
/// </summary>
internal static class EmbeddingCache
{
    /// <summary>The full path of a file with symbolic links resolved (a folder of links to clips shares their phrase ends and cache).</summary>
    public static string RealPath(string path)
    {
        // every component: a link anywhere in the path (e.g. models/ linked to another checkout) is resolved
        string full = Path.GetFullPath(path);
        string root = Path.GetPathRoot(full) ?? "/", current = root;
        foreach (var part in full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            for (int hops = 0; hops < 40; hops++)
            {
                FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
                if (info.LinkTarget is not { } target) break;
                current = Path.GetFullPath(target, Path.GetDirectoryName(current) ?? root);
            }
        }
        return current;
    }

    /// <summary>The tail an evaluation caches clips with (1 s of silence): training reuses those embeddings.</summary>
    public const int FallbackTail = WakeWordFeatures.SampleRate;

    public static float[] Embeddings(WakeWordFeatures features, string? cacheDir, string path, int tail)
    {
        string? file = null;
        if (cacheDir is not null)
        {
            var info = new FileInfo(RealPath(path));
            file = Path.Combine(cacheDir, Key(info, tail, features.Window));
            if (Read(file) is { } cached) return cached;
            // the chain is causal: the embeddings of the WAV with a shorter tail are the first W - 1 + chunks of those
            // with the longer one, so training reuses what an evaluation cached
            if (tail < FallbackTail && Read(Path.Combine(cacheDir, Key(info, FallbackTail, features.Window))) is { } longer)
            {
                int samples = WavReader.ReadMono(path, WakeWordFeatures.SampleRate, fullScale: 32768f).Length;
                int count = (features.Window - 1 + (samples + tail) / WakeWordFeatures.ChunkSamples) * WakeWordFeatures.EmbeddingSize;
                if (count <= longer.Length) return longer.AsSpan(0, count).ToArray();
            }
        }
        var clip = WavReader.ReadMono(path, WakeWordFeatures.SampleRate, fullScale: 32768f);
        var audio = clip;
        if (tail > 0)
        {
            audio = new float[clip.Length + tail];
            clip.CopyTo(audio, 0);
        }
        var embeddings = features.Embeddings(audio, afterSilence: true);
        if (file is not null)
        {
            Directory.CreateDirectory(cacheDir!);
            var bytes = new byte[embeddings.Length * 4];
            Buffer.BlockCopy(embeddings, 0, bytes, 0, bytes.Length);
            string temp = file + "." + Environment.ProcessId + ".tmp";
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, file, overwrite: true);
        }
        return embeddings;
    }

    private static string Key(FileInfo info, int tail, int window)
    {
        string key = string.Create(CultureInfo.InvariantCulture, $"{info.FullName}|{info.Length}|{info.LastWriteTimeUtc.Ticks}|{tail}|{window}");
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)))[..24] + ".f32";
    }

    private static float[]? Read(string file)
    {
        if (!File.Exists(file)) return null;
        var bytes = File.ReadAllBytes(file);
        if (bytes.Length == 0 || bytes.Length % (4 * WakeWordFeatures.EmbeddingSize) != 0) return null;
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }
}
