using EdgeNet.IR;

namespace EdgeNet.Tests.RealModels;

internal static class Parity
{
    /// <summary>Asserts |a−b| ≤ atol + rtol·|b| everywhere (the bar: 1e-4 + 1e-3·|b|), reporting the worst element.</summary>
    public static void AssertClose(Tensor expected, Tensor actual, string what, double atol = 1e-4, double rtol = 1e-3, string oracle = "ORT")
    {
        Assert.True(expected.Dims.AsSpan().SequenceEqual(actual.Dims),
            $"{what}: shape {Shapes.Format(actual.Dims)}, {oracle} gives {Shapes.Format(expected.Dims)}");
        var e = expected.ToFloatArray();
        var a = actual.ToFloatArray();
        double worst = 0; int worstAt = -1;
        for (int i = 0; i < e.Length; i++)
        {
            double excess = Math.Abs(a[i] - e[i]) - (atol + rtol * Math.Abs(e[i]));
            if (double.IsNaN(a[i]) != double.IsNaN(e[i])) excess = double.PositiveInfinity;
            if (excess > worst) { worst = excess; worstAt = i; }
        }
        Assert.True(worstAt < 0, worstAt < 0 ? "" : $"{what}: element {worstAt} is {a[worstAt]}, {oracle} gives {e[worstAt]}");
    }

    public static Tensor Random(int[] dims, int seed, float lo = -1, float hi = 1)
    {
        var rng = new Random(seed);
        var values = new float[Shapes.Count(dims)];
        for (int i = 0; i < values.Length; i++) values[i] = lo + (float)rng.NextDouble() * (hi - lo);
        return Tensor.FromArray(dims, values);
    }
}
