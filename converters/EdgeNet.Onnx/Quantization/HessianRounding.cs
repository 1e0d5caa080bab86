using EdgeNet.Format;

namespace EdgeNet.Onnx.Quantization;

/// <summary>
/// Rounds a weight to int8 per output channel so that the layer's output, not the weight, moves least: the error of
/// each rounded input is spread over the inputs not yet rounded in proportion to how the layer's input correlates them
/// (optimal brain quantization, done one input at a time with the Cholesky factor of H⁻¹, as GPTQ does).
/// </summary>
/// <remarks>
/// For one output row w and inputs x with second moment H = E[x xᵀ], the output error of a rounding q is
/// (w − q)ᵀ H (w − q). Rounding input k to q_k and re-solving the rest for the least output error moves them by
/// −(w_k − q_k) / [H⁻¹]_kk · [H⁻¹]_k,· (restricted to the inputs after k); with U the upper Cholesky factor of H⁻¹
/// that is −(w_k − q_k) / U_kk · U_k,·, one row of U per input. Inputs go in order of decreasing H_kk (the most
/// active first, while the most freedom is left to absorb their error). The scale per channel is the one nearest
/// rounding picks (<see cref="WeightStorage.RoundInt8"/>), and the channel's largest weight is held at ±127 so the
/// file's scale recovery still finds it; values are int8 × scale exactly, so the writer stores them as int8.
/// </remarks>
internal static class HessianRounding
{
    /// <summary>Dampening added to H's diagonal, relative to its mean (keeps H invertible when inputs are few or dependent).</summary>
    public const double Dampening = 0.01;

    /// <summary>
    /// The rounded copy of <paramref name="values"/> (row-major <paramref name="dims"/>, channels along
    /// <paramref name="hessian"/>'s rows); returns null when H cannot be factored, and the caller keeps nearest rounding.
    /// </summary>
    public static float[]? RoundInt8(float[] values, int[] dims, int axis, WeightHessian hessian)
    {
        // the scales nearest rounding picks: the values it returns are Decode(q, scale) and the largest |q| is 127
        var nearest = WeightStorage.RoundInt8(values, dims, axis);
        var rounded = (float[])values.Clone();
        int rows = hessian.Rows, k = hessian.K, perGroup = rows / hessian.Groups;
        for (int g = 0; g < hessian.Groups; g++)
        {
            if (Factor(hessian.H[g], k) is not { } factor) return null;
            var (u, order) = factor;
            var w = new double[k];
            for (int r = g * perGroup; r < (g + 1) * perGroup; r++)
            {
                int start = r * hessian.RowStride;
                // the channel's scale: nearest rounding's largest |value| is 127 · scale
                float top = 0;
                int pinned = -1;
                float biggest = -1;
                for (int i = 0; i < k; i++)
                {
                    int at = start + i * hessian.ColStride;
                    top = Math.Max(top, Math.Abs(nearest[at]));
                    if (Math.Abs(values[at]) > biggest) (biggest, pinned) = (Math.Abs(values[at]), i);
                }
                float scale = top / 127f;
                if (!(scale > 0)) continue; // an all-zero channel rounds to itself
                for (int i = 0; i < k; i++) w[i] = values[start + order[i] * hessian.ColStride];
                int pinnedAt = Array.IndexOf(order, pinned);
                for (int i = 0; i < k; i++)
                {
                    double target = w[i] / scale;
                    // exact zeros stay zero: a structural zero (a filter bank's band edge, a pruned weight) is
                    // part of what the layer computes, not a value to trade against the others
                    double q = i == pinnedAt ? Math.CopySign(127, values[start + pinned * hessian.ColStride])
                        : values[start + order[i] * hessian.ColStride] == 0 ? 0
                        : Math.Clamp(Math.Round(target, MidpointRounding.ToEven), -127, 127);
                    float decoded = WeightStorage.Decode((sbyte)q, scale);
                    rounded[start + order[i] * hessian.ColStride] = decoded;
                    double e = (w[i] - decoded) / u[i * k + i];
                    if (e == 0) continue;
                    Axpy(-e, u.AsSpan(i * k + i + 1, k - i - 1), w.AsSpan(i + 1));
                }
            }
        }
        return rounded;
    }

    /// <summary>
    /// The upper Cholesky factor U (H⁻¹ = Uᵀ U, row-major k×k) of the dampened H with inputs in order of decreasing
    /// H_kk, and that order; null when H is not positive definite even dampened (a NaN in the inputs).
    /// </summary>
    public static (double[] U, int[] Order)? Factor(double[] h, int k)
    {
        var order = Enumerable.Range(0, k).OrderByDescending(i => h[i * k + i]).ThenBy(i => i).ToArray();
        var a = new double[k * k];
        double mean = 0;
        for (int i = 0; i < k; i++) mean += h[i * k + i];
        mean /= k;
        if (!double.IsFinite(mean)) return null;
        double damp = Dampening * (mean > 0 ? mean : 1);
        for (int i = 0; i < k; i++)
        {
            for (int j = 0; j < k; j++) a[i * k + j] = h[order[i] * k + order[j]];
            // an input that never moves: H_kk = 1 so its (irrelevant) error goes nowhere
            if (a[i * k + i] == 0) a[i * k + i] = 1;
            a[i * k + i] += damp;
        }
        // H = L Lᵀ (lower, in place), then L⁻¹, then H⁻¹ = L⁻ᵀ L⁻¹, then H⁻¹ = Uᵀ U
        if (!CholeskyLower(a, k)) return null;
        var inv = InvertLower(a, k);
        // (L⁻ᵀ L⁻¹)_ij = Σ_m≥max(i,j) L⁻¹_mi L⁻¹_mj: dot products of columns of L⁻¹, i.e. of rows of its transpose
        var t = new double[k * k];
        for (int m = 0; m < k; m++)
            for (int i = 0; i <= m; i++) t[i * k + m] = inv[m * k + i];
        var hInv = new double[k * k];
        for (int i = 0; i < k; i++)
            for (int j = 0; j <= i; j++)
                hInv[i * k + j] = hInv[j * k + i] = Dot(t.AsSpan(i * k + i, k - i), t.AsSpan(j * k + i, k - i));
        // U = the upper factor of H⁻¹: Uᵀ U with U upper ⇔ the lower Cholesky factor of H⁻¹ transposed
        if (!CholeskyLower(hInv, k)) return null;
        var u = new double[k * k];
        for (int i = 0; i < k; i++)
            for (int j = i; j < k; j++) u[i * k + j] = hInv[j * k + i];
        return (u, order);
    }

    /// <summary>In place: the lower triangle of <paramref name="a"/> becomes L with A = L Lᵀ; false when A is not positive definite.</summary>
    private static bool CholeskyLower(double[] a, int k)
    {
        for (int j = 0; j < k; j++)
        {
            var rowJ = a.AsSpan(j * k, j);
            double d = a[j * k + j] - Dot(rowJ, rowJ);
            if (!(d > 0) || !double.IsFinite(d)) return false;
            double l = Math.Sqrt(d);
            a[j * k + j] = l;
            for (int i = j + 1; i < k; i++)
                a[i * k + j] = (a[i * k + j] - Dot(a.AsSpan(i * k, j), rowJ)) / l;
        }
        for (int i = 0; i < k; i++)
            for (int j = i + 1; j < k; j++) a[i * k + j] = 0;
        return true;
    }

    /// <summary>The inverse of a lower-triangular L (lower triangle of <paramref name="l"/>).</summary>
    private static double[] InvertLower(double[] l, int k)
    {
        // row i of L⁻¹: (e_i − Σ_m<i L_im · row m of L⁻¹) / L_ii, each row an axpy over the rows above it
        var inv = new double[k * k];
        for (int i = 0; i < k; i++)
        {
            var row = inv.AsSpan(i * k, i + 1);
            for (int m = 0; m < i; m++)
            {
                double f = l[i * k + m];
                if (f != 0) Axpy(-f, inv.AsSpan(m * k, m + 1), row);
            }
            row[i] += 1;
            double d = 1 / l[i * k + i];
            for (int j = 0; j <= i; j++) row[j] *= d;
        }
        return inv;
    }

    private static void Axpy(double a, ReadOnlySpan<double> x, Span<double> y)
    {
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            var s = new System.Numerics.Vector<double>(a);
            int width = System.Numerics.Vector<double>.Count;
            for (; i + width <= x.Length; i += width) (new System.Numerics.Vector<double>(y[i..]) + s * new System.Numerics.Vector<double>(x[i..])).CopyTo(y[i..]);
        }
        for (; i < x.Length; i++) y[i] += a * x[i];
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            var acc = System.Numerics.Vector<double>.Zero;
            int width = System.Numerics.Vector<double>.Count;
            for (; i + width <= a.Length; i += width) acc += new System.Numerics.Vector<double>(a[i..]) * new System.Numerics.Vector<double>(b[i..]);
            s = System.Numerics.Vector.Sum(acc);
        }
        for (; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}
