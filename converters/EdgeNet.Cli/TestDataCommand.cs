using System.Globalization;
using EdgeNet.Onnx.Conformance;

namespace EdgeNet.Cli;

/// <summary>edgenet test-data DIR... [--rtol R] [--atol A] [--skip-unsupported]</summary>
internal static class TestDataCommand
{
    public const string Usage = "edgenet test-data DIR... [--rtol R] [--atol A] [--skip-unsupported]";

    public static int Run(string[] args)
    {
        var a = new Arguments(args, new HashSet<string> { "--skip-unsupported", "--quiet" }, new HashSet<string> { "--rtol", "--atol" });
        if (a.Positional.Count == 0) throw new UsageException("give at least one test folder");
        double rtol = a.GetDouble("--rtol", 1e-3), atol = a.GetDouble("--atol", 1e-4);
        bool skip = a.Flag("--skip-unsupported");
        int passed = 0, failed = 0, skipped = 0;
        foreach (string dir in Expand(a.Positional))
        {
            var r = TestDataRunner.Run(dir, rtol, atol);
            string status = r.Status switch { TestStatus.Pass => "PASS", TestStatus.Fail => "FAIL", _ => "UNSUPPORTED" };
            string line = string.Create(CultureInfo.InvariantCulture, $"{status} {dir} {r.WorstError:G3}");
            if (r.Message.Length > 0) line += " " + r.Message.ReplaceLineEndings(" ");
            if (!(a.Flag("--quiet") && r.Status == TestStatus.Pass)) Console.WriteLine(line);
            if (r.Status == TestStatus.Pass) passed++;
            else if (r.Status == TestStatus.Unsupported && skip) skipped++;
            else failed++;
        }
        if (skip) Console.WriteLine($"{skipped} skipped (unsupported)");
        Console.WriteLine($"{passed} passed, {failed} failed");
        return failed == 0 ? 0 : 1;
    }

    /// <summary>A folder holding model.onnx is a test; otherwise its sub-folders that hold one are.</summary>
    public static IEnumerable<string> Expand(IEnumerable<string> dirs)
    {
        foreach (string d in dirs)
        {
            if (File.Exists(Path.Combine(d, "model.onnx"))) { yield return d; continue; }
            if (!Directory.Exists(d)) throw new UsageException($"'{d}' is not a folder");
            foreach (string sub in Directory.GetDirectories(d).Order(StringComparer.Ordinal))
                if (File.Exists(Path.Combine(sub, "model.onnx"))) yield return sub;
        }
    }
}
