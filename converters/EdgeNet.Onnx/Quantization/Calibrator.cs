using System.Runtime.InteropServices;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Ops;

namespace EdgeNet.Onnx.Quantization;

/// <summary>How an activation's [lo, hi] range is chosen from what calibration saw.</summary>
public enum CalibrationMethod
{
    /// <summary>The smallest and largest value seen.</summary>
    MinMax,
    /// <summary>Cut the given percentile of values off each tail (outliers).</summary>
    Percentile,
    /// <summary>The clipping threshold whose quantized distribution loses least information (KL divergence, TensorRT-style).</summary>
    Entropy,
    /// <summary>The range [α·min, α·max] whose uint8 quantization has the smallest expected squared error over the histogram (rounding noise inside, clipping outside).</summary>
    Mse,
}

/// <summary>What calibration saw of one float tensor: its range and two histograms (signed over [Min, Max], of |x| over [0, max|x|]).</summary>
public sealed class TensorStatistics
{
    public const int Bins = 2048;
    public float Min { get; internal set; } = float.PositiveInfinity;
    public float Max { get; internal set; } = float.NegativeInfinity;
    public double[] Histogram { get; } = new double[Bins];
    public double[] AbsHistogram { get; } = new double[Bins];
    public float AbsMax => Math.Max(Math.Abs(Min), Math.Abs(Max));

    internal void AddRange(ReadOnlySpan<float> x)
    {
        float lo = Min, hi = Max;
        foreach (float v in x) { if (v < lo) lo = v; if (v > hi) hi = v; }
        Min = lo; Max = hi;
    }

    internal void AddHistogram(ReadOnlySpan<float> x)
    {
        float width = (Max - Min) / Bins, absWidth = AbsMax / Bins;
        if (width <= 0 || absWidth <= 0) return;
        foreach (float v in x)
        {
            Histogram[Math.Clamp((int)((v - Min) / width), 0, Bins - 1)]++;
            AbsHistogram[Math.Clamp((int)(Math.Abs(v) / absWidth), 0, Bins - 1)]++;
        }
    }

    /// <summary>The [lo, hi] range the method picks (before it is widened to hold 0).</summary>
    public (float Lo, float Hi) Range(CalibrationMethod method, double percentile = 99.99)
    {
        if (!(Max > Min)) return (Math.Min(Min, 0), Math.Max(Max, 0));
        switch (method)
        {
            case CalibrationMethod.Percentile:
            {
                double total = Histogram.Sum(), cut = total * (100 - percentile) / 100, width = (Max - Min) / (double)Bins;
                double acc = 0;
                int loBin = 0, hiBin = Bins - 1;
                for (; loBin < Bins - 1; loBin++) { acc += Histogram[loBin]; if (acc > cut) break; }
                acc = 0;
                for (; hiBin > 0; hiBin--) { acc += Histogram[hiBin]; if (acc > cut) break; }
                return ((float)(Min + loBin * width), (float)(Min + (hiBin + 1) * width));
            }
            case CalibrationMethod.Entropy:
            {
                int levels = Min >= 0 ? 255 : 128;
                float t = EntropyThreshold(AbsHistogram, levels) * AbsMax / Bins;
                return (Math.Max(Min, -t), Math.Min(Max, t));
            }
            case CalibrationMethod.Mse:
            {
                double width = (Max - Min) / (double)Bins, best = double.PositiveInfinity;
                float bestLo = Min, bestHi = Max;
                float lo0 = Math.Min(Min, 0), hi0 = Math.Max(Max, 0);
                for (int step = 0; step < 200; step++)
                {
                    double alpha = 1 - step * 0.0049; // 1 down to ~0.025
                    double lo = lo0 * alpha, hi = hi0 * alpha, scale = (hi - lo) / 255;
                    double error = 0;
                    for (int b = 0; b < Bins; b++)
                    {
                        if (Histogram[b] == 0) continue;
                        double x = Min + (b + 0.5) * width;
                        double e = x < lo ? lo - x : x > hi ? x - hi : 0;
                        error += Histogram[b] * (e * e + scale * scale / 12);
                    }
                    if (error < best) { best = error; bestLo = (float)lo; bestHi = (float)hi; }
                }
                return (bestLo, bestHi);
            }
            default:
                return (Min, Max);
        }
    }

    /// <summary>
    /// TensorRT's entropy calibration: for each candidate threshold bin i ≥ levels, P = histogram[0..i) with the tail
    /// folded into its last bin, Q = P merged into <paramref name="levels"/> buckets and spread back evenly over P's
    /// non-empty bins; the i with the smallest KL(P‖Q) wins. Returns the threshold in bins.
    /// </summary>
    internal static float EntropyThreshold(double[] hist, int levels)
    {
        int n = hist.Length;
        int last = n - 1;
        while (last > 0 && hist[last] == 0) last--;
        if (last + 1 <= levels) return last + 1;
        var p = new double[n];
        var q = new double[n];
        double best = double.PositiveInfinity;
        int bestI = n;
        double tail = 0;
        for (int k = last + 1; k < n; k++) tail += hist[k];
        var tails = new double[n + 1];
        for (int k = n - 1; k >= 0; k--) tails[k] = tails[k + 1] + hist[k];
        for (int i = levels; i <= last + 1; i++)
        {
            Array.Copy(hist, p, i);
            p[i - 1] += tails[i];
            double pSum = 0;
            for (int k = 0; k < i; k++) pSum += p[k];
            Array.Clear(q, 0, i);
            double binsPerLevel = (double)i / levels;
            for (int l = 0; l < levels; l++)
            {
                int start = (int)(l * binsPerLevel), end = l == levels - 1 ? i : (int)((l + 1) * binsPerLevel);
                double sum = 0;
                int nonEmpty = 0;
                for (int k = start; k < end; k++) { sum += hist[k]; if (hist[k] != 0) nonEmpty++; }
                if (nonEmpty == 0) continue;
                double share = sum / nonEmpty;
                for (int k = start; k < end; k++) if (hist[k] != 0) q[k] = share;
            }
            double qSum = 0;
            for (int k = 0; k < i; k++) qSum += q[k];
            double kl = 0;
            for (int k = 0; k < i; k++)
            {
                if (p[k] == 0) continue;
                double pk = p[k] / pSum, qk = q[k] / qSum;
                kl += qk > 0 ? pk * Math.Log(pk / qk) : pk * 20; // a bin Q cannot express costs a large fixed penalty
            }
            if (kl < best) { best = kl; bestI = i; }
        }
        return bestI + 0.5f;
    }
}

/// <summary>Runs the float model over the calibration samples and records every float activation's statistics.</summary>
public static class Calibrator
{
    public static Dictionary<string, TensorStatistics> Collect(Model model, IReadOnlyList<Dictionary<string, Tensor>> samples)
    {
        var g = model.Graph;
        var names = new List<string>();
        foreach (var v in g.Inputs) names.Add(v.Name);
        foreach (var n in g.Nodes) foreach (var o in n.Outputs) names.Add(o.Name);
        var options = new SessionOptions { AllowInPlace = false };
        foreach (var name in names) options.KeepAlive.Add(name);
        var session = new Session(model, options);
        var stats = new Dictionary<string, TensorStatistics>(StringComparer.Ordinal);
        for (int pass = 0; pass < 2; pass++)
            foreach (var sample in samples)
            {
                session.Run(sample);
                var plan = session.Plan;
                foreach (var name in names)
                {
                    var value = g.Values[name];
                    if (!plan.Facts.TryGetValue(value, out var facts) || facts.DataType != DataType.Float32) continue;
                    var memory = plan.MemoryOf(value);
                    if (memory.IsEmpty) continue;
                    var x = MemoryMarshal.Cast<byte, float>(memory.Span)[..Shapes.Count(facts.Dims)];
                    if (pass == 0)
                    {
                        if (!stats.TryGetValue(name, out var s)) stats[name] = s = new TensorStatistics();
                        s.AddRange(x);
                    }
                    else if (stats.TryGetValue(name, out var s)) s.AddHistogram(x);
                }
            }
        return stats;
    }
}
