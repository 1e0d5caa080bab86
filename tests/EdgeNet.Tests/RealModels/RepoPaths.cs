namespace EdgeNet.Tests.RealModels;

/// <summary>Where the repository's git-ignored models/ folder is (filled by scripts/fetch-models.sh and scripts/make-test-models.sh).</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EdgeNet.sln"))) return dir.FullName;
        throw new InvalidOperationException("EdgeNet.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>A fetched model or data file; a missing one fails the test (run scripts/fetch-models.sh), never skips it.</summary>
    public static string Model(string relative)
    {
        string path = Path.Combine(Root, "models", relative);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} is missing: run scripts/fetch-models.sh and scripts/make-test-models.sh (scripts/test.sh does)", path);
        return path;
    }
}
