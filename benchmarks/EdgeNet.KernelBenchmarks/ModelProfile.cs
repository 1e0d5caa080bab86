using System.Diagnostics;
using System.Globalization;
using EdgeNet.Execution;
using EdgeNet.Onnx;
using EdgeNet.Passes;

namespace EdgeNet.KernelBenchmarks;

/// <summary>
/// <c>--profile MODEL [NAME=DIMS]... [--threads N] [--steps]</c>: time of each kernel of a model's plan (best of 20 runs),
/// summed per op type, to see which kernels a model's time goes to; with <c>--steps</c> every kernel in plan order
/// (best of 60), to compare thread counts node by node.
/// </summary>
public static class ModelProfile
{
    public static void Run(string[] args)
    {
        var options = new SessionOptions();
        string? path = null;
        bool steps = false;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--steps") steps = true;
            else if (args[i] == "--threads") options.Threads = int.Parse(args[++i], CultureInfo.InvariantCulture);
            else if (args[i].Contains('=', StringComparison.Ordinal))
            {
                var parts = args[i].Split('=');
                options.InputShapes[parts[0]] = parts[1].Split('x').Select(d => int.Parse(d, CultureInfo.InvariantCulture)).ToArray();
            }
            else path = args[i];
        }
        var model = OnnxImporter.Load(path ?? throw new ArgumentException("model path missing"));
        PassPipeline.Optimize(model); // as edgenet-vs-ort and the CLI do
        var session = new Session(model, options);
        var plan = session.Plan;
        var best = new double[plan.Steps.Length];
        Array.Fill(best, double.MaxValue);
        for (int run = 0; run < (steps ? 60 : 20); run++)
            for (int s = 0; s < plan.Steps.Length; s++)
            {
                long start = Stopwatch.GetTimestamp();
                plan.Steps[s].Kernel.Execute(plan.Context);
                best[s] = Math.Min(best[s], Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total {best.Sum():F3} ms"));
        if (steps)
        {
            // every kernel in plan order (µs), to compare thread counts node by node
            for (int s = 0; s < plan.Steps.Length; s++)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s,4} {best[s] * 1e3,9:F1} µs  {plan.Steps[s].Node.OpType,-12} {plan.Steps[s].Kernel.GetType().Name,-24} {plan.Steps[s].Macs / 1e6,8:F2} MMAC  {plan.Steps[s].Node.Name}"));
            return;
        }
        foreach (var group in plan.Steps.Select((step, i) => (step, i)).GroupBy(x => x.step.Node.OpType).OrderByDescending(g => g.Sum(x => best[x.i])))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{group.Key,-24} {group.Count(),4} kernels {group.Sum(x => best[x.i]),10:F3} ms"));
        foreach (var (step, i) in plan.Steps.Select((step, i) => (step, i)).OrderByDescending(x => best[x.i]).Take(12))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {best[i],9:F3} ms  {step.Node.OpType,-12} {step.Kernel.GetType().Name,-24} {step.Macs / Math.Max(1e-9, best[i]) / 1e6:F1} GMAC/s  {step.Node.Name}"));
    }
}
