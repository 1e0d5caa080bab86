namespace EdgeNet.Kernels.Resize;

/// <summary>
/// Interpolation taps of one axis, precomputed per output coordinate: output coordinate o reads input offsets
/// Offset[o·Taps + t] (index × stride of the axis, already clamped to the edge) with weights Weight[o·Taps + t].
/// Outside[o] (tf_crop_and_resize only) marks coordinates that map outside the input and take the extrapolation value.
/// </summary>
public sealed class ResizeAxisTaps(int taps, int[] offset, float[] weight, bool[]? outside)
{
    public int Taps { get; } = taps;
    public int[] Offset { get; } = offset;
    public float[] Weight { get; } = weight;
    public bool[]? Outside { get; } = outside;
}

/// <summary>
/// Separable N-linear / N-cubic / nearest resampling, the scalar oracle: every output element is the tensor product of
/// the per-axis taps, y[o] = Σ_{t_0..t_r−1} Π_a w_a(o_a, t_a) · x[Σ_a offset_a(o_a, t_a)], or the extrapolation value
/// when any axis maps outside the input. Axes that are copied unchanged have a single tap of weight 1.
/// </summary>
public static class F32ResizeReference
{
    /// <summary>Largest rank Run supports (it keeps two rank-sized index arrays on the stack).</summary>
    public const int MaxRank = 16;

    public static void Run(ReadOnlySpan<float> x, Span<float> y, int[] outputDims, ResizeAxisTaps[] axes, float extrapolation)
    {
        int rank = outputDims.Length;
        Span<int> o = stackalloc int[rank];
        Span<int> t = stackalloc int[rank];
        for (int i = 0; i < y.Length; i++)
        {
            bool outside = false;
            for (int a = 0; a < rank; a++)
                if (axes[a].Outside is { } mask && mask[o[a]]) { outside = true; break; }
            if (outside)
                y[i] = extrapolation;
            else
            {
                float sum = 0;
                t.Clear();
                while (true)
                {
                    float w = 1;
                    int offset = 0;
                    for (int a = 0; a < rank; a++)
                    {
                        var axis = axes[a];
                        int k = o[a] * axis.Taps + t[a];
                        w *= axis.Weight[k];
                        offset += axis.Offset[k];
                    }
                    sum += w * x[offset];
                    int b = rank - 1;
                    for (; b >= 0; b--)
                    {
                        if (++t[b] < axes[b].Taps) break;
                        t[b] = 0;
                    }
                    if (b < 0) break;
                }
                y[i] = sum;
            }
            for (int a = rank - 1; a >= 0; a--)
            {
                if (++o[a] < outputDims[a]) break;
                o[a] = 0;
            }
        }
    }
}
