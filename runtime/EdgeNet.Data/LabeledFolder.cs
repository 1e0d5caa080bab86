namespace EdgeNet.Data;

/// <summary>What the files of a labelled folder hold.</summary>
public enum SampleKind
{
    Image,
    Audio,
}

/// <summary>One file of a labelled folder and the index of its class.</summary>
public readonly record struct LabeledFile(string Path, int Label);

/// <summary>
/// A labelled data set on disk: one sub-folder per class, named after the class, holding images
/// (<c>.png .jpg .jpeg .bmp</c>) or WAVs (<c>.wav</c>). Classes are sorted ordinally by folder name, so class
/// <c>i</c> is the i-th name in <see cref="Classes"/> on every machine; files within a class are sorted ordinally too.
/// Other files (README, .DS_Store) are ignored; a folder mixing images and WAVs is an error.
/// </summary>
public sealed class LabeledFolder
{
    private static readonly string[] s_imageExtensions = [".png", ".jpg", ".jpeg", ".bmp"];
    private static readonly string[] s_audioExtensions = [".wav"];

    public string Root { get; }
    public IReadOnlyList<string> Classes { get; }
    public IReadOnlyList<LabeledFile> Files { get; }
    public SampleKind Kind { get; }
    public int Count => Files.Count;

    private LabeledFolder(string root, IReadOnlyList<string> classes, IReadOnlyList<LabeledFile> files, SampleKind kind)
    {
        Root = root;
        Classes = classes;
        Files = files;
        Kind = kind;
    }

    /// <summary>Number of files in each class, indexed like <see cref="Classes"/>.</summary>
    public int[] CountPerClass()
    {
        var counts = new int[Classes.Count];
        foreach (var f in Files) counts[f.Label]++;
        return counts;
    }

    public static bool IsImageFile(string path) => HasExtension(path, s_imageExtensions);
    public static bool IsAudioFile(string path) => HasExtension(path, s_audioExtensions);

    private static bool HasExtension(string path, string[] extensions)
    {
        string ext = Path.GetExtension(path);
        foreach (var e in extensions)
            if (ext.Equals(e, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>
    /// Scans <paramref name="root"/>. With <paramref name="classes"/> (e.g. the training set's classes when opening a
    /// validation folder) labels index into that list, and a sub-folder whose name is not in it is an error; a class
    /// with no folder is allowed (it just has no samples). Without it every sub-folder is a class.
    /// </summary>
    public static LabeledFolder Open(string root, IReadOnlyList<string>? classes = null)
    {
        if (!Directory.Exists(root)) throw new InvalidDatasetException($"Data folder '{root}' does not exist");
        var subfolders = Directory.GetDirectories(root);
        var names = new string[subfolders.Length];
        for (int i = 0; i < subfolders.Length; i++) names[i] = Path.GetFileName(subfolders[i]);
        Array.Sort(names, StringComparer.Ordinal);
        if (names.Length == 0)
            throw new InvalidDatasetException($"Data folder '{root}' has no class sub-folders (expected one folder per class, e.g. {root}/cat/*.png)");

        IReadOnlyList<string> labels = classes ?? names;
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < labels.Count; i++) index[labels[i]] = i;

        var files = new List<LabeledFile>();
        int images = 0, audio = 0;
        string? firstImage = null, firstAudio = null;
        foreach (var name in names)
        {
            if (!index.TryGetValue(name, out int label))
                throw new InvalidDatasetException($"Data folder '{root}' has a class folder '{name}' that is not one of the model's classes ({string.Join(", ", labels)})");
            var inClass = new List<string>();
            foreach (var file in Directory.GetFiles(Path.Combine(root, name)))
            {
                if (IsImageFile(file)) { images++; firstImage ??= file; }
                else if (IsAudioFile(file)) { audio++; firstAudio ??= file; }
                else continue;
                inClass.Add(file);
            }
            if (inClass.Count == 0)
                throw new InvalidDatasetException($"Class folder '{Path.Combine(root, name)}' holds no images (.png .jpg .jpeg .bmp) or WAVs (.wav)");
            inClass.Sort(StringComparer.Ordinal);
            foreach (var f in inClass) files.Add(new LabeledFile(f, label));
        }
        if (images > 0 && audio > 0)
            throw new InvalidDatasetException($"Data folder '{root}' mixes images ({firstImage}) and WAVs ({firstAudio}); use one kind per data set");
        return new LabeledFolder(root, labels is string[] a ? a : [.. labels], files, images > 0 ? SampleKind.Image : SampleKind.Audio);
    }
}
