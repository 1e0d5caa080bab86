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
            return new Session(model, new SessionOptions { Threads = 1 }).Plan;
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

/// <summary>
/// <c>--int8-conv CIN H W COUT [KH] [STRIDE] [ROUNDS]</c> (COUT 0: depthwise): one quantized conv (pad (K−1)/2, u8 in/out, per-channel
/// multipliers) on the session ISA's int8 variant, best of N single-threaded runs, with its GMAC/s.
/// </summary>
public static unsafe class Int8ConvBench
{
    public static void Run(string[] args)
    {
        int P(int i, int d) => args.Length > i ? int.Parse(args[i], CultureInfo.InvariantCulture) : d;
        int cin = P(0, 64), h = P(1, 56), w = P(2, 56), cout = P(3, 64), k = P(4, 3), stride = P(5, 1), rounds = P(6, 200);
        int pad = (k - 1) / 2, group = 1;
        if (cout == 0) { cout = cin; group = cin; } // COUT 0: depthwise
        var s = new EdgeNet.Kernels.Quantized.QConv2dShape(1, cin, h, w, cout, k, k, group, stride, stride, pad, pad, pad, pad);
        var variant = EdgeNet.Kernels.Quantized.QVariants.For(EdgeNet.Kernels.IsaSupport.Resolve());
        var rng = new Random(1);
        var x = new byte[cin * h * w];
        var wt = new byte[cout * s.Depth];
        rng.NextBytes(x);
        for (int i = 0; i < wt.Length; i++) wt[i] = (byte)(sbyte)rng.Next(-127, 128);
        var conv = new EdgeNet.Kernels.Quantized.QConv2d(variant, s, wt, true, [], false, EdgeNet.Kernels.Quantized.QOutputKind.UInt8, 1,
            vector512: EdgeNet.Kernels.IsaSupport.Resolve() == EdgeNet.Kernels.Isa.Avx512 && Environment.GetEnvironmentVariable("EDGENET_Q512") != "0");
        var y = new byte[cout * s.OutPlane];
        var scratch = new byte[conv.ScratchBytes + 64];
        var mult = Enumerable.Repeat(0.0003f, cout).ToArray();
        double best = double.MaxValue;
        fixed (byte* xp = x)
        fixed (byte* yp = y)
        fixed (byte* sp = scratch)
        fixed (float* mp = mult)
        {
            var e = EdgeNet.Kernels.Quantized.QEpilogue.Requantize(mp, 1, 0, 0, 255);
            for (int r = 0; r < rounds; r++)
            {
                long start = Stopwatch.GetTimestamp();
                conv.Run(null, xp, 3, yp, e, sp);
                best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }
        double macs = (double)s.OutPlane * cout * s.Depth;
        if (group > 1) Console.Write("depthwise ");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{variant} {s.InChannels}x{h}x{w} -> {cout} k{k} s{stride}: {best:F3} ms, {macs / best / 1e6:F1} GMAC/s (direct MACs)"));
    }
}

/// <summary>
/// <c>--int8-e2e QDQ.onnx FP32.onnx [RUNS]</c>: whole-model Session.Run of the int8 (QDQ) and fp32 models in one
/// process, alternating run by run (same random inputs in [−1, 1]), min and median of each and the fp32/int8 ratios.
/// </summary>
public static class Int8EndToEnd
{
    public static void Run(string[] args)
    {
        int runs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 100;
        var sessions = args.Take(2).Select(p =>
        {
            var model = OnnxImporter.Load(p);
            PassPipeline.Optimize(model);
            var s = new Session(model, new SessionOptions { Threads = 1 });
            var rng = new Random(1234);
            for (int i = 0; i < s.InputValues.Count; i++)
            {
                var span = s.Input<float>(i);
                for (int k = 0; k < span.Length; k++) span[k] = (float)(rng.NextDouble() * 2 - 1);
            }
            for (int w = 0; w < 5; w++) s.Run();
            return s;
        }).ToArray();
        var t = new double[2][];
        t[0] = new double[runs]; t[1] = new double[runs];
        for (int r = 0; r < runs; r++)
            for (int m = 0; m < 2; m++)
            {
                long start = Stopwatch.GetTimestamp();
                sessions[m].Run();
                t[m][r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        double Med(double[] a) { var c = a.OrderBy(v => v).ToArray(); return c[c.Length / 2]; }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(args[0])))} int8 min {t[0].Min():F3} med {Med(t[0]):F3} ms | fp32 min {t[1].Min():F3} med {Med(t[1]):F3} ms | fp32/int8 min {t[1].Min() / t[0].Min():F2} med {Med(t[1]) / Med(t[0]):F2}"));
    }
}
