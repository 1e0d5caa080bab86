using EdgeNet.Data;

namespace EdgeNet.Tests.Data;

public class LabeledFolderTests
{
    private static string Make(params string[] files)
    {
        string root = TestFiles.TempDir("folder");
        foreach (var f in files)
        {
            string p = Path.Combine(root, f);
            Directory.CreateDirectory(Path.GetDirectoryName(p)!);
            File.WriteAllBytes(p, [1, 2, 3]);
        }
        return root;
    }

    [Fact]
    public void ClassesAndFilesAreSortedOrdinallyAndLabelled()
    {
        string root = Make("dog/b.png", "dog/a.jpg", "Zebra/x.bmp", "cat/1.JPEG", "cat/notes.txt", "cat/.DS_Store");
        var set = LabeledFolder.Open(root);
        Assert.Equal(["Zebra", "cat", "dog"], set.Classes); // ordinal: upper case first
        Assert.Equal(SampleKind.Image, set.Kind);
        Assert.Equal(4, set.Count);
        Assert.Equal([1, 1, 2], set.CountPerClass());
        Assert.Equal(Path.Combine(root, "Zebra", "x.bmp"), set.Files[0].Path);
        Assert.Equal(0, set.Files[0].Label);
        Assert.Equal((Path.Combine(root, "cat", "1.JPEG"), 1), (set.Files[1].Path, set.Files[1].Label));
        Assert.Equal((Path.Combine(root, "dog", "a.jpg"), 2), (set.Files[2].Path, set.Files[2].Label));
        Assert.Equal((Path.Combine(root, "dog", "b.png"), 2), (set.Files[3].Path, set.Files[3].Label));
    }

    [Fact]
    public void AudioFoldersAreRecognised()
    {
        var set = LabeledFolder.Open(Make("yes/1.wav", "no/1.WAV", "no/2.wav"));
        Assert.Equal(SampleKind.Audio, set.Kind);
        Assert.Equal(["no", "yes"], set.Classes);
        Assert.Equal([2, 1], set.CountPerClass());
    }

    [Fact]
    public void AValidationFolderTakesTheTrainingClasses()
    {
        var val = LabeledFolder.Open(Make("c/1.png", "a/1.png"), ["a", "b", "c"]);
        Assert.Equal(["a", "b", "c"], val.Classes);
        Assert.Equal([0, 2], val.Files.Select(f => f.Label));
        var e = Assert.Throws<InvalidDatasetException>(() => LabeledFolder.Open(Make("a/1.png", "z/1.png"), ["a", "b"]));
        Assert.Contains("'z'", e.Message);
    }

    [Fact]
    public void BadLayoutsGiveClearErrors()
    {
        Assert.Contains("does not exist", Assert.Throws<InvalidDatasetException>(() => LabeledFolder.Open("/no/such/folder/here")).Message);
        Assert.Contains("no class sub-folders", Assert.Throws<InvalidDatasetException>(() => LabeledFolder.Open(Make("loose.png"))).Message);
        Assert.Contains("holds no images", Assert.Throws<InvalidDatasetException>(() => LabeledFolder.Open(Make("a/1.png", "b/readme.txt"))).Message);
        Assert.Contains("mixes images", Assert.Throws<InvalidDatasetException>(() => LabeledFolder.Open(Make("a/1.png", "b/1.wav"))).Message);
        string empty = TestFiles.TempDir("folder");
        Directory.CreateDirectory(Path.Combine(empty, "a"));
        Assert.Throws<InvalidDatasetException>(() => LabeledFolder.Open(empty));
    }
}
