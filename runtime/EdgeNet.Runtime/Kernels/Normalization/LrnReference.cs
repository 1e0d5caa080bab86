using System.Numerics;

namespace EdgeNet.Kernels.Normalization;

/// <summary>Local response normalization across channels of an [N, C, spatial] view.</summary>
public static class LrnReference
{
    /// <summary>
    /// y[n,c,s] = x[n,c,s] / (bias + alpha / size · Σ x[n,c',s]²)^beta, c' over
    /// [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉] clipped to [0, C). Computed in double.
    /// </summary>
    public static void Run<T>(ReadOnlySpan<T> x, Span<T> y, int batches, int channels, int spatial,
        int size, double alpha, double beta, double bias) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int before = (size - 1) / 2, after = size - 1 - before;
        double scale = alpha / size;
        for (int n = 0; n < batches; n++)
            for (int c = 0; c < channels; c++)
            {
                int lo = Math.Max(0, c - before), hi = Math.Min(channels - 1, c + after);
                for (int s = 0; s < spatial; s++)
                {
                    double sum = 0;
                    for (int j = lo; j <= hi; j++)
                    {
                        double v = double.CreateTruncating(x[(n * channels + j) * spatial + s]);
                        sum += v * v;
                    }
                    int at = (n * channels + c) * spatial + s;
                    y[at] = T.CreateTruncating(double.CreateTruncating(x[at]) / Math.Pow(bias + scale * sum, beta));
                }
            }
    }
}
