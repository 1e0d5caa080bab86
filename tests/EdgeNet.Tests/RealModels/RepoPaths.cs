namespace EdgeNet.Tests.RealModels;

/// <summary>
/// Where the repository's git-ignored models/ folder is (filled by scripts/fetch-models.sh and scripts/make-test-models.sh). Found upward from the test
/// binaries; EDGENET_REPO_ROOT names the repository and EDGENET_MODELS the models folder when the tests run from
/// elsewhere (the published ARM64 runner, scripts/arm64.sh).
/// </summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>The models folder: EDGENET_MODELS if set, else models/ under <see cref="Root"/>.</summary>
    public static string Models =>
        Environment.GetEnvironmentVariable("EDGENET_MODELS") is { Length: > 0 } models ? models : Path.Combine(Root, "models");

    private static string FindRoot()
    {
        if (Environment.GetEnvironmentVariable("EDGENET_REPO_ROOT") is { Length: > 0 } root) return Path.GetFullPath(root);
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EdgeNet.sln"))) return dir.FullName;
        throw new InvalidOperationException("EdgeNet.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>A fetched model or data file; a missing one fails the test (run scripts/fetch-models.sh), never skips it.</summary>
    public static string Model(string relative)
    {
        string path = Path.Combine(Models, relative);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} is missing: run scripts/fetch-models.sh and scripts/make-test-models.sh (scripts/test.sh does)", path);
        return path;
    }
}
