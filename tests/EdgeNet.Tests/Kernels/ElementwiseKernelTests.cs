using System.Runtime.Intrinsics;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Elementwise;

namespace EdgeNet.Tests.Kernels;

/// <summary>
/// The vectorized float32 element-wise drivers and operators against the scalar reference operators, for every
/// vector width this machine runs (Vector128 runs on x86 too, so the logic the NEON path uses is covered here) and
/// every length 0..256 plus a few larger ones, with NaN, ±∞, ±0 and subnormals mixed in.
/// </summary>
public class ElementwiseKernelTests
{
    public static readonly int[] Lengths = [.. Enumerable.Range(0, 257), 1000, 1023, 4099];

    public static IEnumerable<object[]> Widths() => F32Elementwise.AvailableWidths.Select(w => new object[] { w });

    /// <summary>Deterministic inputs in [−scale, scale] with special values sprinkled in.</summary>
    public static float[] Data(int n, int seed, float scale = 8)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
            int r = rng.Next(64);
            if (r == 0) x[i] = float.NaN;
            else if (r == 1) x[i] = float.PositiveInfinity;
            else if (r == 2) x[i] = float.NegativeInfinity;
            else if (r == 3) x[i] = -0f;
            else if (r == 4) x[i] = 0f;
            else if (r == 5) x[i] = 1e-40f;
            else if (r == 6) x[i] = (float)(rng.NextDouble() * 200 - 100);
        }
        return x;
    }

    /// <summary>Distance in units in the last place (floats mapped to a monotone integer line; NaN = NaN is 0).</summary>
    public static long Ulps(float a, float b)
    {
        if (float.IsNaN(a) || float.IsNaN(b)) return float.IsNaN(a) && float.IsNaN(b) ? 0 : long.MaxValue;
        if (a == b) return 0;
        static long Ordered(float f) { int i = BitConverter.SingleToInt32Bits(f); return i < 0 ? int.MinValue - (long)i : i; }
        return Math.Abs(Ordered(a) - Ordered(b));
    }

    private static void AssertSame(float expected, float actual, string what)
    {
        if (float.IsNaN(expected) && float.IsNaN(actual)) return;
        Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual), $"{what}: expected {expected:R}, got {actual:R}");
    }

    private static void CheckUnary<TOp>(TOp op, UnaryKind kind, VectorWidth width, long maxUlps, float alpha = 0, float beta = 0, float scale = 8, double absolute = 0, float gamma = 0)
        where TOp : struct, IF32UnaryOperator
    {
        var reference = new FloatUnary<float>(kind, alpha, beta, gamma);
        foreach (int n in Lengths)
        {
            var x = Data(n, n * 7 + (int)kind, scale);
            var y = new float[n];
            F32Elementwise.Unary(op, x, y, width);
            for (int i = 0; i < n; i++)
            {
                float want = kind == UnaryKind.Clip ? float.Min(float.Max(x[i], alpha), beta) : reference.Invoke(x[i]);
                if (maxUlps == 0) AssertSame(want, y[i], $"{kind} {width} n={n} x={x[i]:R}");
                else
                {
                    bool tinyBoth = MathF.Abs(want) < 1e-30f && MathF.Abs(y[i]) < 1e-30f;
                    bool close = Math.Abs((double)want - y[i]) <= absolute * (1 + Math.Abs(x[i]));
                    Assert.True(tinyBoth || close || Ulps(want, y[i]) <= maxUlps, $"{kind} {width} n={n} x={x[i]:R}: reference {want:R}, got {y[i]:R} ({Ulps(want, y[i])} ulp)");
                }
            }
            // in place gives the same bits
            var inPlace = (float[])x.Clone();
            F32Elementwise.Unary(op, inPlace, inPlace, width);
            for (int i = 0; i < n; i++) AssertSame(y[i], inPlace[i], $"{kind} {width} in place n={n}");
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Exact_unary_operators_match_the_reference_bit_for_bit(VectorWidth width)
    {
        CheckUnary(new F32Relu(), UnaryKind.Relu, width, 0);
        CheckUnary(new F32LeakyRelu(0.1f), UnaryKind.LeakyRelu, width, 0, alpha: 0.1f);
        CheckUnary(new F32HardSigmoid(0.2f, 0.5f), UnaryKind.HardSigmoid, width, 0, 0.2f, 0.5f);
        CheckUnary(new F32HardSwish(), UnaryKind.HardSwish, width, 0);
        CheckUnary(new F32Softsign(), UnaryKind.Softsign, width, 0);
        CheckUnary(new F32Abs(), UnaryKind.Abs, width, 0);
        CheckUnary(new F32Neg(), UnaryKind.Neg, width, 0);
        CheckUnary(new F32Sqrt(), UnaryKind.Sqrt, width, 0);
        CheckUnary(new F32Reciprocal(), UnaryKind.Reciprocal, width, 0);
        CheckUnary(new F32Clip(-1.5f, 2.25f), UnaryKind.Clip, width, 0, -1.5f, 2.25f);
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Transcendental_unary_operators_stay_within_a_few_ulp_of_the_reference(VectorWidth width)
    {
        // the reference (MathF) is itself ≤ 1 ulp off, VectorMath ≤ 2: together ≤ 3. The reference GeluTanh computes
        // 1 + tanh u, which cancels for negative x (the vector form does not), so it is compared in absolute terms.
        CheckUnary(new F32Exp(), UnaryKind.Exp, width, 3, scale: 100);
        CheckUnary(new F32Log(), UnaryKind.Log, width, 3, scale: 100);
        CheckUnary(new F32Sigmoid(), UnaryKind.Sigmoid, width, 3, scale: 30);
        CheckUnary(new F32Tanh(), UnaryKind.Tanh, width, 3);
        CheckUnary(new F32Swish(), UnaryKind.Swish, width, 4, scale: 30);
        CheckUnary(new F32GeluTanh(), UnaryKind.GeluTanh, width, 8, absolute: 2e-7);
        CheckUnary(new F32Erf(), UnaryKind.Erf, width, 3, scale: 5);
        CheckUnary(new F32Gelu(), UnaryKind.Gelu, width, 8, absolute: 2e-7);
        // same formulas as the reference, so only the exp/log ulps differ (amplified where e^x − 1 cancels)
        CheckUnary(new F32Elu(0.7f), UnaryKind.Elu, width, 4, alpha: 0.7f, scale: 30, absolute: 2e-7);
        CheckUnary(new F32Softplus(), UnaryKind.Softplus, width, 4, scale: 30, absolute: 2e-7);
        CheckUnary(new F32Mish(), UnaryKind.Mish, width, 4, scale: 30, absolute: 2e-7);
        CheckUnary(new F32Selu(1.6732632f, 1.050701f), UnaryKind.Selu, width, 4, alpha: 1.6732632f, gamma: 1.050701f, scale: 30, absolute: 2e-7);
    }

    [Fact]
    public void Square_equals_the_reference_pow_2()
    {
        foreach (var width in F32Elementwise.AvailableWidths)
        {
            var x = Data(1000, 5, 1e20f);
            var y = new float[x.Length];
            F32Elementwise.Unary(new F32Square(), x, y, width);
            for (int i = 0; i < x.Length; i++) AssertSame((float)Math.Pow(x[i], 2), y[i], $"x={x[i]:R}");
        }
    }

    [Fact]
    public void A_result_does_not_depend_on_the_position_in_the_vector_or_the_tail()
    {
        var x = Data(300, 11, 20);
        foreach (var width in F32Elementwise.AvailableWidths)
        {
            var full = new float[x.Length];
            F32Elementwise.Unary(new F32Tanh(), x, full, width);
            for (int start = 0; start < 40; start++)
                for (int n = 0; n <= 40; n++)
                {
                    var y = new float[n];
                    F32Elementwise.Unary(new F32Tanh(), x.AsSpan(start, n), y, width);
                    for (int i = 0; i < n; i++) AssertSame(full[start + i], y[i], $"{width} start={start} n={n}");
                }
        }
    }

    private static void CheckBinary<TOp>(TOp op, ArithmeticKind kind, VectorWidth width) where TOp : struct, IF32BinaryOperator
    {
        var reference = new Arithmetic<float>(kind);
        foreach (int n in Lengths)
        {
            var a = Data(n, n + 1);
            var b = Data(n, n + 2);
            var y = new float[n];
            F32Elementwise.Binary(op, a, b, y, width);
            for (int i = 0; i < n; i++) AssertSame(reference.Invoke(a[i], b[i]), y[i], $"{kind} {width} n={n} a={a[i]:R} b={b[i]:R}");
            float s = n > 0 ? b[0] : 3;
            F32Elementwise.BinaryScalarB(op, a, s, y, width);
            for (int i = 0; i < n; i++) AssertSame(reference.Invoke(a[i], s), y[i], $"{kind} {width} scalar b n={n}");
            F32Elementwise.BinaryScalarA(op, s, b, y, width);
            for (int i = 0; i < n; i++) AssertSame(reference.Invoke(s, b[i]), y[i], $"{kind} {width} scalar a n={n}");
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Binary_operators_match_the_reference_bit_for_bit(VectorWidth width)
    {
        CheckBinary(new F32Add(), ArithmeticKind.Add, width);
        CheckBinary(new F32Sub(), ArithmeticKind.Sub, width);
        CheckBinary(new F32Mul(), ArithmeticKind.Mul, width);
        CheckBinary(new F32Div(), ArithmeticKind.Div, width);
        CheckBinary(new F32Max(), ArithmeticKind.Max, width);
        CheckBinary(new F32Min(), ArithmeticKind.Min, width);
        CheckBinary(new F32PRelu(), ArithmeticKind.PRelu, width);
    }

    public static IEnumerable<object[]> BroadcastShapes() =>
    [
        [new[] { 3, 37 }, new[] { 3, 37 }],
        [new[] { 3, 37 }, new[] { 37 }],
        [new[] { 37 }, new[] { 5, 37 }],
        [new[] { 2, 5, 7, 9 }, new[] { 5, 1, 1 }],
        [new[] { 2, 5, 7, 9 }, new[] { 1, 5, 7, 1 }],
        [new[] { 2, 1, 7, 9 }, new[] { 3, 1, 9 }],
        [new[] { 4, 1 }, new[] { 1, 33 }],
        [new[] { 4, 1 }, new[] { 4, 1 }],
        [new[] { 2, 3, 1 }, new[] { 2, 1, 1 }],
        [new[] { 1 }, new[] { 2, 3, 17 }],
        [Array.Empty<int>(), new[] { 19 }],
        [new[] { 6, 0, 3 }, new[] { 3 }],
    ];

    [Theory]
    [MemberData(nameof(BroadcastShapes))]
    public void Broadcast_blocks_match_the_reference_walk(int[] shapeA, int[] shapeB)
    {
        var outDims = Broadcast.Shape(shapeA, shapeB)!;
        var bc = new Broadcast(outDims, shapeA, shapeB);
        var a = Data(Math.Max(1, EdgeNet.IR.Shapes.Count(shapeA)), 1)[..EdgeNet.IR.Shapes.Count(shapeA)];
        var b = Data(Math.Max(1, EdgeNet.IR.Shapes.Count(shapeB)), 2)[..EdgeNet.IR.Shapes.Count(shapeB)];
        var want = new float[bc.Count];
        BinaryKernel<Arithmetic<float>, float, float>.Run(new Arithmetic<float>(ArithmeticKind.Sub), bc, a, b, want, new int[2]);
        var plan = new F32BroadcastPlan(bc);
        foreach (var width in F32Elementwise.AvailableWidths)
        {
            var y = new float[bc.Count];
            plan.Run(new F32Sub(), a, b, y, width);
            for (int i = 0; i < y.Length; i++) AssertSame(want[i], y[i], $"{width} at {i}");
        }
    }

    [Fact]
    public void Reductions_match_a_double_precision_sum_and_the_reference_max()
    {
        foreach (var width in F32Elementwise.AvailableWidths)
            foreach (int n in Lengths)
            {
                var x = new float[n];
                var rng = new Random(n);
                for (int i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 4 - 1);
                double sum = 0, sq = 0;
                foreach (float v in x) sum += v;
                foreach (float v in x) sq += (v - 0.25) * (v - 0.25);
                Assert.Equal(sum, F32Elementwise.Sum(x, width), 1e-5 * (1 + n));
                Assert.Equal(sq, F32Elementwise.SumSquaredDeviation(x, 0.25f, width), 1e-5 * (1 + n));
                Assert.Equal(n == 0 ? float.NegativeInfinity : x.Max(), F32Elementwise.Max(x, width));
                Assert.Equal(n == 0 ? float.PositiveInfinity : x.Min(), F32Elementwise.Min(x, width));
                if (n > 0)
                {
                    x[n / 2] = float.NaN;
                    Assert.True(float.IsNaN(F32Elementwise.Max(x, width)), "Max propagates NaN");
                    Assert.True(float.IsNaN(F32Elementwise.Min(x, width)), "Min propagates NaN");
                }
            }
    }

    [Fact]
    public void Exp_shifted_sum_writes_exponentials_and_returns_their_sum()
    {
        foreach (var width in F32Elementwise.AvailableWidths)
            foreach (int n in Lengths)
            {
                var x = Data(n, n, 10).Select(v => float.IsFinite(v) ? v : 1f).ToArray();
                var y = new float[n];
                float s = F32Elementwise.ExpShiftedSum(x, 3, y, width);
                double want = 0;
                for (int i = 0; i < n; i++)
                {
                    Assert.True(Ulps((float)Math.Exp(x[i] - 3f), y[i]) <= 3 || Math.Abs(y[i]) < 1e-30, $"{width} n={n} x={x[i]}");
                    want += y[i];
                }
                Assert.Equal(want, s, 1e-5 * Math.Max(1, want));
                Assert.Equal(s, F32Elementwise.ExpShiftedSumOnly(x, 3, width), 1e-6 * Math.Max(1, want));
            }
    }

    public static IEnumerable<object[]> Activations() =>
    [
        [new FusedActivation(ActivationKind.Relu)],
        [new FusedActivation(ActivationKind.LeakyRelu, 0.2f)],
        [new FusedActivation(ActivationKind.LeakyReluFloor, 0.2f, -0.4f)],
        [new FusedActivation(ActivationKind.LeakyReluFloor, 0.1f, 0f)],
        [new FusedActivation(ActivationKind.Clip, 0, 6)],
        [new FusedActivation(ActivationKind.HardSigmoid, 0.2f, 0.5f)],
        [new FusedActivation(ActivationKind.HardSwish)],
        [new FusedActivation(ActivationKind.Sigmoid)],
        [new FusedActivation(ActivationKind.Swish)],
        [new FusedActivation(ActivationKind.Tanh)],
        [FusedActivation.None],
    ];

    [Theory]
    [MemberData(nameof(Activations))]
    public void Fused_activation_vector_apply_matches_the_scalar_apply_on_every_isa(FusedActivation act)
    {
        bool exact = act.Kind is not (ActivationKind.Sigmoid or ActivationKind.Swish or ActivationKind.Tanh);
        foreach (var isa in IsaSupport.Available)
            foreach (int n in Lengths)
            {
                var x = Data(n, n + 100, 12);
                var y = (float[])x.Clone();
                act.Apply(y, isa);
                var z = new float[n];
                act.Apply(x, z, isa);
                for (int i = 0; i < n; i++)
                {
                    float want = act.Apply(x[i]);
                    AssertSame(y[i], z[i], $"{act.Kind} {isa} in place vs out of place");
                    if (exact) AssertSame(want, y[i], $"{act.Kind} {isa} n={n} x={x[i]:R}");
                    else Assert.True(Ulps(want, y[i]) <= 4 || MathF.Abs(want - y[i]) < 1e-30f, $"{act.Kind} {isa} x={x[i]:R}: {want:R} vs {y[i]:R}");
                }
            }
        // per-register forms agree with the span form
        var v = Data(64, 9, 12);
        var spanResult = (float[])v.Clone();
        act.Apply(spanResult, IsaSupport.Best);
        for (int i = 0; i + 16 <= v.Length; i += 16)
        {
            var r128 = act.Apply(Vector128.Create(v.AsSpan(i, 4)));
            var r256 = act.Apply(Vector256.Create(v.AsSpan(i, 8)));
            var r512 = act.Apply(Vector512.Create(v.AsSpan(i, 16)));
            for (int k = 0; k < 16; k++)
            {
                if (k < 4) Assert.True(Ulps(spanResult[i + k], r128[k]) <= (exact ? 0 : 4), $"{act.Kind} 128 lane {k}");
                if (k < 8) Assert.True(Ulps(spanResult[i + k], r256[k]) <= (exact ? 0 : 4), $"{act.Kind} 256 lane {k}");
                Assert.True(Ulps(spanResult[i + k], r512[k]) <= (exact ? 0 : 4), $"{act.Kind} 512 lane {k}");
            }
        }
    }
}
