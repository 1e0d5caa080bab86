using System.Diagnostics;
using System.Globalization;
using EdgeNet.Execution;
using EdgeNet.Onnx;
using EdgeNet.Passes;

namespace EdgeNet.KernelBenchmarks;

/// <summary>
/// <c>--int8-layers QDQ.onnx FP32.onnx [--rounds N]</c>: per-layer times of an int8 (QDQ) plan and its fp32 plan in
/// one process, the two alternating round by round (best of N per kernel), matched by node name, with the fp32/int8
/// ratio per layer — to see which int8 layers are far from the arithmetic ceiling's 2×.
/// </summary>
public static class Int8LayerProfile
{
    public static void Run(string[] args)
    {
        int rounds = 30;
        var paths = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--rounds") rounds = int.Parse(args[++i], CultureInfo.InvariantCulture);
            else paths.Add(args[i]);
        }
        if (paths.Count != 2) throw new ArgumentException("usage: --int8-layers QDQ.onnx FP32.onnx [--rounds N]");
        var plans = paths.Select(p =>
        {
            var model = OnnxImporter.Load(p);
            PassPipeline.Optimize(model);
            return new Session(model, new SessionOptions()).Plan;
        }).ToArray();
        var best = plans.Select(p => Enumerable.Repeat(double.MaxValue, p.Steps.Length).ToArray()).ToArray();
        for (int r = 0; r < rounds; r++)
            for (int m = 0; m < 2; m++)
            {
                var plan = plans[m];
                for (int s = 0; s < plan.Steps.Length; s++)
                {
                    long start = Stopwatch.GetTimestamp();
                    plan.Steps[s].Kernel.Execute(plan.Context);
                    best[m][s] = Math.Min(best[m][s], Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
            }
        var fp = plans[1].Steps.Select((st, i) => (st.Node.Name, i)).GroupBy(x => x.Name).ToDictionary(g => g.Key, g => g.First().i);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total int8 {best[0].Sum():F3} ms, fp32 {best[1].Sum():F3} ms, ratio {best[1].Sum() / best[0].Sum():F2}"));
        Console.WriteLine("| layer | int8 kernel | int8 ms | int8 GMAC/s | fp32 kernel | fp32 ms | fp32/int8 |");
        Console.WriteLine("|---|---|---:|---:|---|---:|---:|");
        for (int s = 0; s < plans[0].Steps.Length; s++)
        {
            var st = plans[0].Steps[s];
            string name = st.Node.Name;
            string fk = "", fms = "", ratio = "";
            if (fp.TryGetValue(name, out int j))
            {
                fk = plans[1].Steps[j].Kernel.GetType().Name;
                fms = best[1][j].ToString("F3", CultureInfo.InvariantCulture);
                ratio = (best[1][j] / best[0][s]).ToString("F2", CultureInfo.InvariantCulture);
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {st.Kernel.GetType().Name} | {best[0][s]:F3} | {st.Macs / Math.Max(1e-9, best[0][s]) / 1e6:F1} | {fk} | {fms} | {ratio} |"));
        }
    }
}
