using System.Diagnostics;
using EdgeNet.Training.Checkpoints;
using Xunit.Abstractions;

namespace EdgeNet.Tests.Checkpoints;

/// <summary>
/// The power-cut test: a child process (tests/EdgeNet.CheckpointCrashWriter) saves ~0.7 MB checkpoints in a loop and is
/// SIGKILLed at seeded random moments; after every kill the folder is loaded and must give the newest checkpoint the
/// child reported saved, or the one it was writing — complete and exactly right — never a broken one or an exception.
/// </summary>
public class CheckpointKillTests(ITestOutputHelper output)
{
    private sealed record KillStats(int Kills, int MidSave, int GotNew, int GotOld, int FellBack, int TempFilesLeft);

    private static KillStats Run(string mode, int kills, int seed)
    {
        string dir = CheckpointStoreTests.TempDir();
        var store = new CheckpointStore(dir);
        var random = new Random(seed);
        store.Save(Content.Make(1)); // the first good checkpoint, from before any crash
        long durable = 1; // newest sequence the child reported saved (or the last one loaded)
        int midSave = 0, gotNew = 0, gotOld = 0, fellBack = 0, tempLeft = 0;
        for (int k = 0; k < kills; k++)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "checkpoint-crash-writer.dll"));
            psi.ArgumentList.Add(dir);
            psi.ArgumentList.Add(mode);
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            string? first = p.StandardOutput.ReadLine(); // the child is running and has begun its first save
            Assert.True(first is not null && first.StartsWith("begin ", StringComparison.Ordinal), $"child said '{first}', stderr: {(p.HasExited ? stderr.Result : "")}");
            System.Threading.Thread.Sleep(random.Next(0, 700));
            p.Kill(); // SIGKILL on Linux: no finally blocks, no flushing
            p.WaitForExit();
            string rest = p.StandardOutput.ReadToEnd();
            long lastSaved = durable, lastBegun = 0;
            foreach (var line in (first + "\n" + rest).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                long n = long.Parse(line.AsSpan(line.IndexOf(' ', StringComparison.Ordinal) + 1), System.Globalization.CultureInfo.InvariantCulture);
                if (line.StartsWith("saved ", StringComparison.Ordinal)) lastSaved = n;
                else lastBegun = n;
            }
            if (lastBegun > lastSaved) midSave++;
            tempLeft += Directory.GetFiles(dir, "*" + DurableFile.TempMarker + "*").Length > 0 ? 1 : 0;

            var result = store.LoadLatest(); // must not throw
            long got = result.Checkpoint.Sequence;
            Assert.True(got == lastSaved || (got == lastBegun && lastBegun > lastSaved),
                $"kill {k}: loaded {got}, the child had saved {lastSaved} and begun {lastBegun}");
            if (got == lastSaved) gotOld++;
            else gotNew++;
            if (result.FellBack) fellBack++;
            Verify(result.Checkpoint, got);
            durable = got;
        }
        Directory.Delete(dir, recursive: true);
        return new KillStats(kills, midSave, gotNew, gotOld, fellBack, tempLeft);
    }

    /// <summary>The loaded checkpoint is exactly the one the child made for that sequence number.</summary>
    private static void Verify(Checkpoint c, long n)
    {
        Assert.Equal(n, c.GetLong("step"));
        var m = c.Tensors["w.momentum"].Data;
        Assert.Equal(Content.Momentum, m.Length);
        for (int i = 0; i < m.Length; i += 997) Assert.Equal(Content.Moment(n, i), m[i]);
        Assert.Equal(Content.Moment(n, m.Length - 1), m[^1]);
        var w = c.LoadModel().Graph.Values["w"].Constant!.ToFloatArray();
        Assert.Equal(Content.In * Content.Out, w.Length);
        for (int i = 0; i < w.Length; i += 1009) Assert.Equal(Content.Weight(n, i), w[i]);
        Assert.Equal(Content.Weight(n, w.Length - 1), w[^1]);
    }

    [Fact]
    public void SigkillDuringAtomicSavesNeverLosesTheCheckpoint()
    {
        var s = Run("atomic", kills: 60, seed: 20261130);
        output.WriteLine($"atomic: {s}");
        Assert.True(s.MidSave >= 10, $"only {s.MidSave} of {s.Kills} kills landed during a save: the test is not testing");
        Assert.True(s.GotNew >= 3, $"only {s.GotNew} of {s.Kills} kills came after the in-flight save had landed");
        Assert.Equal(0, s.FellBack); // atomic rename: the newest file is never torn
    }

    [Fact]
    public void SigkillDuringNaiveInPlaceWritesIsDetectedAndTheLastGoodOneIsUsed()
    {
        var s = Run("torn", kills: 25, seed: 7);
        output.WriteLine($"torn: {s}");
        Assert.True(s.FellBack >= 3, $"only {s.FellBack} of {s.Kills} kills left a torn newest file: the test is not testing");
    }
}
