using System.Diagnostics;
using System.Globalization;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Conv;
using EdgeNet.Ops.Conv;

namespace EdgeNet.KernelBenchmarks;

/// <summary>
/// <c>--dw</c>: median time of the depthwise plane kernel F32DwConv.Create picks for MobileNetV2's and DS-CNN's
/// depthwise shapes (all channels of one node, one thread, Relu6), in µs and GMAC/s.
/// </summary>
public static class DepthwiseBench
{
    public static void Run(string[] args)
    {
        var isa = IsaSupport.Best;
        // channels, input H×W, kernel, stride, pad
        (int C, int H, int W, int KH, int KW, int S, int PT, int PL, int PB, int PR)[] cases =
        [
            (32, 112, 112, 3, 3, 1, 1, 1, 1, 1), (96, 112, 112, 3, 3, 2, 1, 1, 1, 1), (144, 56, 56, 3, 3, 1, 1, 1, 1, 1),
            (144, 56, 56, 3, 3, 2, 1, 1, 1, 1), (192, 28, 28, 3, 3, 2, 1, 1, 1, 1), (576, 14, 14, 3, 3, 2, 1, 1, 1, 1),
            (960, 7, 7, 3, 3, 1, 1, 1, 1, 1), (64, 25, 5, 3, 3, 1, 1, 1, 1, 1),
        ];
        var act = new FusedActivation(ActivationKind.Clip, 0, 6);
        foreach (var c in cases)
        {
            int oh = (c.H + c.PT + c.PB - c.KH) / c.S + 1, ow = (c.W + c.PL + c.PR - c.KW) / c.S + 1;
            var g = new ConvGeometry([c.H, c.W], [c.KH, c.KW], [c.S, c.S], [1, 1], [c.PT, c.PL], [c.PB, c.PR], [oh, ow]);
            var plane = F32DwConv.Create(isa, g)!;
            var x = new float[c.C * c.H * c.W];
            var rng = new Random(1);
            for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble() - 0.5f;
            var w = new float[c.C * c.KH * c.KW];
            for (int i = 0; i < w.Length; i++) w[i] = (float)rng.NextDouble() - 0.5f;
            var b = new float[c.C];
            var y = new float[c.C * oh * ow];
            var scratch = new float[plane.ScratchFloats];
            var times = new double[200];
            for (int r = -50; r < times.Length; r++)
            {
                long t0 = Stopwatch.GetTimestamp();
                plane.Planes(x, w, true, b, y, c.C, 0, c.C, act, scratch);
                if (r >= 0) times[r] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
            }
            Array.Sort(times);
            double us = times[times.Length / 2], macs = (double)c.C * oh * ow * c.KH * c.KW;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{c.C,4}x{c.H}x{c.W} k{c.KH}x{c.KW} s{c.S}: {plane.GetType().Name,-28} {us,8:F1} µs {macs / us / 1e3,6:F1} GMAC/s"));
        }
    }
}
