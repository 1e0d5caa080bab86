using EdgeNet.Kernels;
using EdgeNet.Kernels.Elementwise;
using Xunit.Abstractions;

namespace EdgeNet.Tests.Kernels;

/// <summary>
/// Accuracy of <see cref="VectorMath"/> over a dense sweep of floats: every float whose bit pattern is a multiple of
/// 2^10 (8192 per binade, both signs, subnormals included, ~4.2 M inputs), against the double-precision function
/// rounded to float. The bound asserted is the one documented on VectorMath: 2 ulp.
/// </summary>
public class VectorMathTests(ITestOutputHelper output)
{
    private static float[] Sweep(Func<float, bool> keep)
    {
        var list = new List<float>();
        for (long bits = 0; bits < 0x7f800000; bits += 1024)
        {
            float x = BitConverter.Int32BitsToSingle((int)bits);
            if (keep(x)) list.Add(x);
            if (keep(-x)) list.Add(-x);
        }
        return [.. list];
    }

    private long MaxUlps<TOp>(TOp op, Func<double, double> truth, float[] x, VectorWidth width, out float worst) where TOp : struct, IF32UnaryOperator
    {
        var y = new float[x.Length];
        F32Elementwise.Unary(op, x, y, width);
        long max = 0;
        worst = 0;
        for (int i = 0; i < x.Length; i++)
        {
            long u = ElementwiseKernelTests.Ulps((float)truth(x[i]), y[i]);
            if (u > max) { max = u; worst = x[i]; }
        }
        output.WriteLine($"{typeof(TOp).Name} {width}: max {max} ulp at x = {worst:R}");
        return max;
    }

    public static IEnumerable<object[]> Widths() =>
        F32Elementwise.AvailableWidths.Where(w => w != VectorWidth.Scalar).Select(w => new object[] { w });

    [Theory]
    [MemberData(nameof(Widths))]
    public void Exp_is_within_2_ulp(VectorWidth width)
    {
        var x = Sweep(v => v is >= -110 and <= 90);
        Assert.True(MaxUlps(new F32Exp(), Math.Exp, x, width, out float at) <= 2, $"worst at {at:R}");
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Sigmoid_is_within_2_ulp(VectorWidth width)
    {
        var x = Sweep(v => v is >= -110 and <= 110);
        Assert.True(MaxUlps(new F32Sigmoid(), v => 1 / (1 + Math.Exp(-v)), x, width, out float at) <= 2, $"worst at {at:R}");
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Tanh_is_within_2_ulp(VectorWidth width)
    {
        var x = Sweep(_ => true);
        Assert.True(MaxUlps(new F32Tanh(), Math.Tanh, x, width, out float at) <= 2, $"worst at {at:R}");
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Log_is_within_2_ulp(VectorWidth width)
    {
        var x = Sweep(v => v >= 0 && !float.IsNegative(v));
        Assert.True(MaxUlps(new F32Log(), Math.Log, x, width, out float at) <= 2, $"worst at {at:R}");
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Erf_is_within_2_ulp(VectorWidth width)
    {
        var x = Sweep(_ => true);
        Assert.True(MaxUlps(new F32Erf(), ErrorFunction.Erf, x, width, out float at) <= 2, $"worst at {at:R}");
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Gelu_is_within_2e7_times_1_plus_x_and_keeps_its_negative_tail(VectorWidth width)
    {
        var x = Sweep(v => v is >= -16 and <= 16);
        var y = new float[x.Length];
        F32Elementwise.Unary(new F32Gelu(), x, y, width);
        double worst = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double u = x[i] / Math.Sqrt(2);
            // Φ(x) via erfc for negative x so the truth itself does not cancel
            double phi = u < -2 ? 0.5 * Erfc(-u) : 0.5 * (1 + ErrorFunction.Erf(u));
            double truth = x[i] * phi;
            double err = Math.Abs(truth - y[i]) / (1 + Math.Abs(x[i]));
            worst = Math.Max(worst, err);
            Assert.True(err <= 2e-7, $"{width} x = {x[i]:R}: {y[i]:R} vs {truth:R}");
            if (x[i] is < -1 and > -5.5f) Assert.True(Math.Abs(truth - y[i]) <= 1e-5 * Math.Abs(truth), $"{width} tail x = {x[i]:R}: {y[i]:R} vs {truth:R}");
        }
        output.WriteLine($"Gelu {width}: max error / (1 + |x|) {worst:E2}");
    }

    /// <summary>erfc by its continued fraction (accurate in the tail, where 1 − erf cancels).</summary>
    private static double Erfc(double a)
    {
        double f = 0;
        for (int k = 200; k >= 1; k--) f = k / 2.0 / (a + f);
        return Math.Exp(-a * a) / Math.Sqrt(Math.PI) / (a + f);
    }

    [Fact]
    public void Special_values()
    {
        float[] x = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 89f, -104f, -200f, 1e-45f, -1f];
        foreach (var width in Widths().Select(w => (VectorWidth)w[0]))
        {
            var e = new float[x.Length]; F32Elementwise.Unary(new F32Exp(), x, e, width);
            Assert.True(float.IsNaN(e[0]));
            Assert.Equal(float.PositiveInfinity, e[1]);
            Assert.Equal(0f, e[2]);
            Assert.Equal(1f, e[3]);
            Assert.Equal(float.PositiveInfinity, e[5]);
            Assert.Equal(0f, e[7]);
            var t = new float[x.Length]; F32Elementwise.Unary(new F32Tanh(), x, t, width);
            Assert.True(float.IsNaN(t[0]));
            Assert.Equal(1f, t[1]);
            Assert.Equal(-1f, t[2]);
            Assert.True(float.IsNegative(t[4]), "tanh(−0) = −0");
            var s = new float[x.Length]; F32Elementwise.Unary(new F32Sigmoid(), x, s, width);
            Assert.True(float.IsNaN(s[0]));
            Assert.Equal(1f, s[1]);
            Assert.Equal(0f, s[2]);
            Assert.Equal(0.5f, s[3]);
            var l = new float[x.Length]; F32Elementwise.Unary(new F32Log(), x, l, width);
            Assert.True(float.IsNaN(l[0]));
            Assert.Equal(float.PositiveInfinity, l[1]);
            Assert.True(float.IsNaN(l[2]));
            Assert.Equal(float.NegativeInfinity, l[3]);
            Assert.Equal(float.NegativeInfinity, l[4]);
            Assert.Equal((float)Math.Log(x[8]), l[8]);
            Assert.True(float.IsNaN(l[9]));
            var r = new float[x.Length]; F32Elementwise.Unary(new F32Erf(), x, r, width);
            Assert.True(float.IsNaN(r[0]));
            Assert.Equal(1f, r[1]);
            Assert.Equal(-1f, r[2]);
            Assert.True(float.IsNegative(r[4]), "erf(−0) = −0");
            Assert.Equal(-1f, r[7]);
        }
    }
}
