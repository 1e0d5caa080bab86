using System.Diagnostics;
using System.Globalization;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Gemm;

namespace EdgeNet.KernelBenchmarks;

/// <summary>
/// <c>--ratio [SHAPE...]</c>: GEMM GFLOP/s as a fraction of the FMA peak on a shared, loaded machine. BenchmarkDotNet
/// runs cases minutes apart, while the load from other processes changes; here each round times the FMA loop and
/// then each GEMM shape back to back, and the best (least disturbed) time of each over all rounds is kept.
/// </summary>
public static class PeakRatio
{
    public static void Run(string[] shapes, int rounds = 15)
    {
        if (shapes.Length == 0) shapes = ["256x256x256", "512x512x512"];
        var peak = new FmaPeakBenchmarks();
        var gemms = shapes.Select(s => { var g = new GemmBenchmarks { Shape = s }; g.Setup(); return g; }).ToArray();
        // the ceiling is the FMA width of the path the GEMM runs: 512-bit when the best ISA is AVX-512
        bool wide = IsaSupport.Best == Isa.Avx512 && System.Runtime.Intrinsics.X86.Avx512F.IsSupported;
        Func<float> fma = wide ? peak.FmaPeak512 : peak.FmaPeak;
        double flops = wide ? peak.Flops512 : peak.Flops;
        double bestPeak = double.MaxValue;
        var best = new double[gemms.Length];
        Array.Fill(best, double.MaxValue);
        for (int round = 0; round < rounds; round++)
        {
            bestPeak = Math.Min(bestPeak, Time(() => fma(), 3));
            for (int i = 0; i < gemms.Length; i++) best[i] = Math.Min(best[i], Time(gemms[i].Gemm, 3));
        }
        double peakGflops = flops / bestPeak / 1e9;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"microkernel {F32GemmMicrokernel.For(IsaSupport.Best).GetType().Name}, FMA peak (12 register-only {(wide ? 512 : 256)}-bit FMA chains): {peakGflops:F1} GFLOP/s"));
        Console.WriteLine("| shape MxNxK | GFLOP/s | % of peak |");
        Console.WriteLine("|---|---:|---:|");
        for (int i = 0; i < gemms.Length; i++)
        {
            double gflops = gemms[i].Flops / best[i] / 1e9;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {shapes[i]} | {gflops:F1} | {100 * gflops / peakGflops:F0}% |"));
        }
        foreach (var g in gemms) g.Cleanup();
    }

    private static double Time(Action action, int reps)
    {
        action();
        double best = double.MaxValue;
        for (int r = 0; r < reps; r++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        return best;
    }
}
