using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeNet.Execution;
using EdgeNet.IR;

namespace EdgeNet.Cli;

/// <summary>edgenet bench MODEL [--shape NAME=DIMS]... [--threads N] [--warmup N] [--runs N] [--json]</summary>
internal static class BenchCommand
{
    public const string Usage = "edgenet bench MODEL [--shape NAME=DIMS]... [--threads N] [--warmup N] [--runs N] [--json]";

    public static int Run(string[] args)
    {
        var a = new Arguments(args, new HashSet<string> { "--json" }, new HashSet<string> { "--shape", "--threads", "--warmup", "--runs" });
        if (a.Positional.Count != 1) throw new UsageException("give exactly one MODEL");
        string path = a.Positional[0];
        var model = ModelFiles.Load(path);
        var options = ModelFiles.Options(a);
        int warmup = a.GetInt("--warmup", 10), runs = a.GetInt("--runs", 100, min: 1);
        var session = new Session(model, options);
        FillRandom(session);

        for (int i = 0; i < warmup; i++) session.Run();
        // a sample is the mean of enough back-to-back runs to last ≥ 20 µs: a model of a few hundred multiply-adds
        // runs in tens of nanoseconds, below what one clock read resolves here (its samples read 0)
        long probe = Stopwatch.GetTimestamp();
        session.Run();
        double once = Stopwatch.GetElapsedTime(probe).TotalMilliseconds;
        int repeat = once >= 0.02 ? 1 : (int)Math.Min(10_000, Math.Ceiling(0.02 / Math.Max(once, 1e-6)));
        var times = new double[runs];
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < runs; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int r = 0; r < repeat; r++) session.Run();
            times[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds / repeat;
        }
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Array.Sort(times);
        double median = Percentile(times, 0.5), p90 = Percentile(times, 0.9);
        var result = new Dictionary<string, object>
        {
            ["model"] = path,
            ["median_ms"] = Math.Round(median, 6),
            ["p90_ms"] = Math.Round(p90, 6),
            ["mean_ms"] = Math.Round(times.Average(), 6),
            ["min_ms"] = Math.Round(times[0], 6),
            ["runs"] = runs,
            ["threads"] = options.Threads,
            ["alloc_bytes_per_run"] = (double)allocated / ((long)runs * repeat),
            ["arena_bytes"] = session.Plan.ArenaBytes,
            ["kernels"] = session.Plan.Steps.Length,
            ["macs"] = session.Plan.TotalMacs,
        };
        if (a.Flag("--json")) Console.WriteLine(JsonSerializer.Serialize(result));
        else
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{path}: median {median:0.######} ms, p90 {p90:0.######} ms, min {times[0]:0.######} ms over {runs} runs{(repeat > 1 ? $" (each the mean of {repeat} back-to-back runs)" : "")}; {result["alloc_bytes_per_run"]} B allocated per run; arena {session.Plan.ArenaBytes} B; {session.Plan.Steps.Length} kernels"));
        return 0;
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Floor(p * (sorted.Length - 1) + 0.5))];

    /// <summary>Seeded inputs: floats uniform in [−1, 1], integers and bools 0.</summary>
    public static void FillRandom(Session session)
    {
        var rng = new Random(1234);
        for (int i = 0; i < session.InputValues.Count; i++)
        {
            if (session.Options.SpecializedInputs.ContainsKey(session.InputValues[i].Name)) continue;
            if (session.InputType(i) == DataType.Float32)
            {
                var span = session.Input<float>(i);
                for (int k = 0; k < span.Length; k++) span[k] = (float)(rng.NextDouble() * 2 - 1);
            }
        }
    }
}
