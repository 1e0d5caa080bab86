using System.Numerics;

namespace EdgeNet.Kernels.CumSum;

/// <summary>Cumulative sums along the middle axis of an [outer, length, inner] view.</summary>
public static class CumSumReference
{
    /// <summary>
    /// y[o, i, n] = Σ x[o, j, n] over j ≤ i (j &lt; i when exclusive); reverse runs the sum from the end (j ≥ i, or
    /// j &gt; i when exclusive). Accumulates in T, as ONNX Runtime does.
    /// </summary>
    public static void Run<T>(ReadOnlySpan<T> x, Span<T> y, int outer, int length, int inner, bool exclusive, bool reverse)
        where T : unmanaged, INumber<T>
    {
        for (int o = 0; o < outer; o++)
            for (int n = 0; n < inner; n++)
            {
                int baseIndex = o * length * inner + n;
                T sum = T.Zero;
                for (int s = 0; s < length; s++)
                {
                    int i = reverse ? length - 1 - s : s;
                    int at = baseIndex + i * inner;
                    T v = x[at];
                    if (exclusive) { y[at] = sum; sum += v; }
                    else { sum += v; y[at] = sum; }
                }
            }
    }
}
