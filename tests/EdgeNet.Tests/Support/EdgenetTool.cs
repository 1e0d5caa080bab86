using System.Diagnostics;

namespace EdgeNet.Tests.Support;

/// <summary>Runs the edgenet tool (built beside the tests) as a real process, for the command-line contract tests.</summary>
internal static class EdgenetTool
{
    /// <summary>Exit code, stdout and stderr of <c>edgenet ARGS</c>; fails the test if it runs longer than <paramref name="timeoutMs"/>.</summary>
    public static (int Code, string Out, string Err) Run(string[] args, int timeoutMs = 300_000)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "edgenet.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(timeoutMs), $"edgenet did not finish in {timeoutMs / 1000} s");
        return (p.ExitCode, stdout.Result, stderr);
    }
}
