using System.Diagnostics;
using System.Globalization;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Conv;
using EdgeNet.Ops.Conv;

namespace EdgeNet.KernelBenchmarks;

/// <summary>
/// <c>--dw</c>: median and minimum time of every depthwise plane kernel that takes MobileNetV2's and DS-CNN's depthwise
/// shapes (F32DwConv.Candidates, the one F32DwConv.Create picks first; all channels of one node, one thread, Relu6),
/// in µs and GMAC/s. The kernels of a shape run alternately. Run with DOTNET_TieredCompilation=0 on a loaded machine;
/// EDGENET_ISA picks the ISA (default the best).
/// </summary>
public static class DepthwiseBench
{
    public static void Run(string[] args)
    {
        var isa = IsaSupport.Resolve(); // EDGENET_ISA=avx2 benchmarks the AVX2 kernels
        const int warmUp = 50, rounds = 200;
        // channels, input H×W, kernel, stride, pad
        (int C, int H, int W, int KH, int KW, int S, int PT, int PL, int PB, int PR)[] cases =
        [
            (32, 112, 112, 3, 3, 1, 1, 1, 1, 1), (96, 112, 112, 3, 3, 2, 1, 1, 1, 1), (144, 56, 56, 3, 3, 1, 1, 1, 1, 1),
            (144, 56, 56, 3, 3, 2, 1, 1, 1, 1), (192, 28, 28, 3, 3, 2, 1, 1, 1, 1), (576, 14, 14, 3, 3, 2, 1, 1, 1, 1),
            (960, 7, 7, 3, 3, 1, 1, 1, 1, 1), (64, 25, 5, 3, 3, 1, 1, 1, 1, 1),
            (384, 14, 14, 3, 3, 1, 1, 1, 1, 1), (576, 14, 14, 3, 3, 1, 1, 1, 1, 1), (192, 28, 28, 3, 3, 1, 1, 1, 1, 1),
        ];
        var act = new FusedActivation(ActivationKind.Clip, 0, 6);
        foreach (var c in cases)
        {
            int oh = (c.H + c.PT + c.PB - c.KH) / c.S + 1, ow = (c.W + c.PL + c.PR - c.KW) / c.S + 1;
            var g = new ConvGeometry([c.H, c.W], [c.KH, c.KW], [c.S, c.S], [1, 1], [c.PT, c.PL], [c.PB, c.PR], [oh, ow]);
            var planes = F32DwConv.Candidates(isa, g).ToArray();
            var x = new float[c.C * c.H * c.W];
            var rng = new Random(1);
            for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble() - 0.5f;
            var w = new float[c.C * c.KH * c.KW];
            for (int i = 0; i < w.Length; i++) w[i] = (float)rng.NextDouble() - 0.5f;
            var b = new float[c.C];
            var y = new float[c.C * oh * ow];
            var scratch = new float[planes.Max(p => p.ScratchFloats)];
            // the candidates alternate run by run, so load on a shared machine falls on all of them alike
            var times = new double[planes.Length, rounds];
            for (int r = -warmUp; r < rounds; r++)
                for (int k = 0; k < planes.Length; k++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    planes[k].Planes(x, w, true, b, y, c.C, 0, c.C, act, scratch);
                    if (r >= 0) times[k, r] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
                }
            double macs = (double)c.C * oh * ow * c.KH * c.KW;
            for (int k = 0; k < planes.Length; k++)
            {
                var t = new double[rounds];
                for (int r = 0; r < rounds; r++) t[r] = times[k, r];
                Array.Sort(t);
                double us = t[rounds / 2];
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{(k == 0 ? $"{c.C,4}x{c.H}x{c.W} k{c.KH}x{c.KW} s{c.S}:" : ""),-22} {Name(planes[k]),-34} {us,8:F1} µs (min {t[0],7:F1}) {macs / us / 1e3,6:F1} GMAC/s"));
            }
        }
    }

    /// <summary>The kernel's class with its vector type (F32DwConvFlat&lt;Avx512&gt;).</summary>
    private static string Name(F32DwConv plane)
    {
        var type = plane.GetType();
        string name = type.Name.Split('`')[0];
        return type.IsGenericType ? $"{name}<{type.GetGenericArguments()[0].Name.Replace("F32", "", StringComparison.Ordinal)}>" : name;
    }
}
