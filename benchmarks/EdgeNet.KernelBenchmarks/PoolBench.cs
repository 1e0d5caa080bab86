using System.Diagnostics;
using System.Globalization;
using EdgeNet.Execution;
using EdgeNet.IR;

namespace EdgeNet.KernelBenchmarks;

/// <summary>
/// <c>--pool</c>: one MaxPool node per shape of openWakeWord's embedding model (its five pools), run through a
/// Session on one thread; prints the kernel chosen and the minimum and median µs of 2000 runs.
/// </summary>
public static class PoolBench
{
    public static void Run(string[] args)
    {
        (string Name, int C, int H, int W, int KH, int KW, int SH, int SW)[] cases =
        [
            ("oww pool 24x72x32 2x2", 24, 72, 32, 2, 2, 2, 2),
            ("oww pool 48x32x16 1x2", 48, 32, 16, 1, 2, 1, 2),
            ("oww pool 72x28x8 2x2", 72, 28, 8, 2, 2, 2, 2),
            ("oww pool 96x10x4 1x2", 96, 10, 4, 1, 2, 1, 2),
            ("oww pool 96x6x2 2x2", 96, 6, 2, 2, 2, 2, 2),
        ];
        var filter = args.Length > 0 ? args[0] : null;
        foreach (var c in cases)
        {
            if (filter is not null && !c.Name.Contains(filter, StringComparison.Ordinal)) continue;
            var session = new Session(Model(c.C, c.H, c.W, c.KH, c.KW, c.SH, c.SW), new SessionOptions { Threads = 1 });
            var x = session.Input<float>(0);
            var rng = new Random(1);
            for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble() - 0.5f;
            var step = session.Plan.Steps.Single();
            var times = new double[2000];
            for (int r = -200; r < times.Length; r++)
            {
                long t0 = Stopwatch.GetTimestamp();
                session.Run();
                if (r >= 0) times[r] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
            }
            Array.Sort(times);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{c.Name,-24} {step.Kernel.GetType().Name,-22} min {times[0],8:F2} µs  median {times[1000],8:F2} µs"));
        }
    }

    private static Model Model(int c, int h, int w, int kh, int kw, int sh, int sw)
    {
        var g = new IR.Graph { Name = "pool" };
        var x = g.GetOrAddValue("x");
        x.DataType = DataType.Float32;
        x.Shape = [Dim.Known(1), Dim.Known(c), Dim.Known(h), Dim.Known(w)];
        g.Inputs.Add(x);
        var node = new Node { OpType = "MaxPool", Name = "n", OpsetVersion = 13 };
        node.Inputs.Add(x);
        node.SetAttribute(IR.Attribute.Of("kernel_shape", new long[] { kh, kw }));
        node.SetAttribute(IR.Attribute.Of("strides", new long[] { sh, sw }));
        return ConvBench.SingleNodeModel(g, node);
    }
}
