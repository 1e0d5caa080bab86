using System.Numerics;

namespace EdgeNet.Kernels.Normalization;

/// <summary>Mean-variance normalization over arbitrary axes, given each element's group (its coordinate on the kept axes).</summary>
public static class MvnReference
{
    /// <summary>ONNX's function body adds this to the standard deviation (not the variance).</summary>
    public const double Epsilon = 1e-9;

    /// <summary>
    /// y = (x − μ_g) / (σ_g + 1e−9), μ_g and σ_g² the mean and population variance of the elements in group g.
    /// mean and variance are scratch spans of one double per group.
    /// </summary>
    public static void Run<T>(ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<int> group, Span<double> mean, Span<double> std, int groupSize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        mean.Clear();
        std.Clear();
        for (int i = 0; i < x.Length; i++) mean[group[i]] += double.CreateTruncating(x[i]);
        for (int g = 0; g < mean.Length; g++) mean[g] /= groupSize;
        for (int i = 0; i < x.Length; i++)
        {
            double d = double.CreateTruncating(x[i]) - mean[group[i]];
            std[group[i]] += d * d;
        }
        for (int g = 0; g < std.Length; g++) std[g] = Math.Sqrt(std[g] / groupSize) + Epsilon;
        for (int i = 0; i < x.Length; i++)
        {
            int g = group[i];
            y[i] = T.CreateTruncating((double.CreateTruncating(x[i]) - mean[g]) / std[g]);
        }
    }
}
