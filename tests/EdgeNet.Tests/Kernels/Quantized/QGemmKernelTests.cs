using EdgeNet.Kernels.Quantized;
using ExecutionContext = EdgeNet.Execution.ExecutionContext;

namespace EdgeNet.Tests.Kernels.Quantized;

/// <summary>
/// Every quantized GEMM variant this process runs (including the NEON and AVX-512 tiles' portable fallbacks) against
/// <see cref="QGemmReference"/>, bit for bit, over shape sweeps (odd/prime K, tails, 1), both orientations, u8/s8
/// activations and weights, zero points 0/128/random, per-tensor and per-channel, every output kind, and the
/// extreme values that make vpmaddubsw saturate.
/// </summary>
public unsafe class QGemmKernelTests
{
    public static TheoryData<QVariant> Variants()
    {
        var data = new TheoryData<QVariant>();
        foreach (var v in QVariants.Available) data.Add(v);
        return data;
    }

    internal sealed class Case
    {
        public QGemmOrientation Orientation;
        public int M, N, K;
        public bool ASigned, WSigned, PerChannel, Extreme;
        public int AZp;
        public int[] WZp = [];
        public QOutputKind Output;
        public int Seed;
        public bool WithBias = true;
        public int Threads = 1;
    }

    /// <summary>Runs one case on a variant and on the reference and asserts identical output bytes.</summary>
    internal static void Check(QVariant variant, Case t)
    {
        var rng = new Random(t.Seed);
        int m = t.M, n = t.N, k = t.K;
        bool right = t.Orientation == QGemmOrientation.WeightsRight;
        int channels = right ? n : m, positions = right ? m : n;
        var act = new byte[positions * k];
        var w = new byte[channels * k];
        if (t.Extreme)
        {
            // activations at 255 (u8) and weights at −128 / 127 (s8): pair sums far outside int16
            for (int i = 0; i < act.Length; i++) act[i] = (byte)(t.ASigned ? (rng.Next(4) == 0 ? 0x80 : 0x7F) : (rng.Next(4) == 0 ? 0 : 255));
            for (int i = 0; i < w.Length; i++) w[i] = (byte)(t.WSigned ? (rng.Next(2) == 0 ? 0x80 : 0x7F) : (rng.Next(2) == 0 ? 0 : 255));
        }
        else
        {
            rng.NextBytes(act);
            rng.NextBytes(w);
        }
        var bias = new int[channels];
        for (int i = 0; i < channels; i++) bias[i] = rng.Next(-100000, 100000);
        var mult = new float[t.PerChannel ? channels : 1];
        for (int i = 0; i < mult.Length; i++) mult[i] = (float)(rng.NextDouble() * 0.002 + 0.00005);
        var fbias = new float[channels];
        for (int i = 0; i < channels; i++) fbias[i] = (float)rng.NextDouble();
        int outBytes = t.Output is QOutputKind.Int32 or QOutputKind.Float32 ? 4 : 1;
        var expected = new byte[m * n * outBytes];
        var actual = new byte[m * n * outBytes];
        int yzp = t.Output == QOutputKind.Int8 ? rng.Next(-20, 20) : rng.Next(100, 140);
        int qmin = t.Output == QOutputKind.Int8 ? -128 : 0, qmax = t.Output == QOutputKind.Int8 ? 127 : 255;
        if (t.Seed % 3 == 0) qmin = yzp; // fused Relu
        // WeightsRight: w is a MatMul B[K×N] (channel stride 1); WeightsLeft: conv-style [channels × K]
        var packed = right
            ? QPackedWeights.PackMatMul(variant, w, t.WSigned, k, channels, t.WZp)
            : QPackedWeights.PackRows(variant, t.Orientation, w, t.WSigned, channels, k, t.WZp);
        var gemm = new QGemm(packed, positions, t.ASigned, t.Output, t.Threads);
        var scratch = new byte[gemm.ScratchBytes];
        fixed (byte* a = act)
        fixed (byte* wp = w)
        fixed (int* zp = t.WZp)
        fixed (int* b = bias)
        fixed (float* mp = mult)
        fixed (float* fb = fbias)
        fixed (byte* e = expected)
        fixed (byte* y = actual)
        fixed (byte* s = scratch)
        {
            var ep = t.Output switch
            {
                QOutputKind.Int32 => QEpilogue.Exact(t.WithBias ? b : null),
                QOutputKind.Float32 => QEpilogue.Dequantize(mp, t.PerChannel ? 1 : 0, t.WithBias ? fb : null, t.WithBias ? b : null),
                _ => QEpilogue.Requantize(mp, t.PerChannel ? 1 : 0, yzp, qmin, qmax, t.WithBias ? b : null),
            };
            // activations: WeightsRight A[M×K] rows; WeightsLeft X[K×N] row-major
            if (right)
                QGemmReference.Run(t.Orientation, m, n, k, a, k, 1, t.ASigned, t.AZp, wp, 1, channels, t.WSigned, t.WZp.Length == 0 ? null : zp, t.WZp.Length > 1 ? 1 : 0, t.Output, e, n, ep);
            else
                QGemmReference.Run(t.Orientation, m, n, k, a, 1, n, t.ASigned, t.AZp, wp, k, 1, t.WSigned, t.WZp.Length == 0 ? null : zp, t.WZp.Length > 1 ? 1 : 0, t.Output, e, n, ep);
            var ctx = t.Threads > 1 ? new ExecutionContext([], t.Threads) : null;
            gemm.Run(ctx, a, right ? k : n, t.AZp, y, n, ep, s);
        }
        if (!expected.AsSpan().SequenceEqual(actual))
        {
            int i = 0;
            while (expected[i] == actual[i]) i++;
            Assert.Fail($"{variant} {t.Orientation} M={m} N={n} K={k} a{(t.ASigned ? "s8" : "u8")} zp={t.AZp} w{(t.WSigned ? "s8" : "u8")} zps=[{string.Join(",", t.WZp.Take(4))}] {t.Output} extreme={t.Extreme}: first difference at byte {i} (element {i / outBytes})");
        }
    }

    private static int[] ZeroPoints(Random rng, bool signed, int channels, int mode) => mode switch
    {
        0 => [],
        1 => [signed ? 0 : 128],
        2 => [signed ? rng.Next(-128, 128) : rng.Next(0, 256)],
        _ => Enumerable.Range(0, channels).Select(_ => signed ? rng.Next(-128, 128) : rng.Next(0, 256)).ToArray(),
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void MatchesReferenceOverShapes(QVariant variant)
    {
        var kinds = Enum.GetValues<QOutputKind>();
        int seed = 0;
        foreach (var orientation in new[] { QGemmOrientation.WeightsRight, QGemmOrientation.WeightsLeft })
            foreach (int m in new[] { 1, 2, 5, 8, 13, 33 })
                foreach (int n in new[] { 1, 3, 16, 17, 40 })
                    foreach (int k in new[] { 1, 2, 3, 4, 7, 31, 67 })
                    {
                        seed++;
                        var rng = new Random(seed);
                        bool aSigned = (seed & 1) != 0, wSigned = (seed & 2) != 0;
                        int channels = orientation == QGemmOrientation.WeightsRight ? n : m;
                        int mode = seed % 4;
                        Check(variant, new Case
                        {
                            Orientation = orientation, M = m, N = n, K = k, ASigned = aSigned, WSigned = wSigned,
                            AZp = (seed % 3) switch { 0 => 0, 1 => aSigned ? 0 : 128, _ => aSigned ? rng.Next(-128, 128) : rng.Next(256) },
                            WZp = ZeroPoints(rng, wSigned, channels, mode), PerChannel = seed % 5 != 0,
                            Output = kinds[seed % kinds.Length], Seed = seed, WithBias = seed % 7 != 0,
                        });
                    }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void ExtremeValuesStayExact(QVariant variant)
    {
        int seed = 1000;
        foreach (var orientation in new[] { QGemmOrientation.WeightsRight, QGemmOrientation.WeightsLeft })
            foreach (bool aSigned in new[] { false, true })
                foreach (bool wSigned in new[] { false, true })
                    foreach (var output in new[] { QOutputKind.Int32, QOutputKind.UInt8 })
                    {
                        seed++;
                        Check(variant, new Case
                        {
                            Orientation = orientation, M = 11, N = 19, K = 259, ASigned = aSigned, WSigned = wSigned, Extreme = true,
                            AZp = aSigned ? -128 : 0, WZp = wSigned ? [] : [128], Output = output, Seed = seed, PerChannel = true,
                        });
                    }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void LargeThreadedShapesMatch(QVariant variant)
    {
        if (!QVariants.IsNative(variant)) return; // the portable fallbacks are checked on the smaller sweeps
        Check(variant, new Case { Orientation = QGemmOrientation.WeightsLeft, M = 70, N = 797, K = 293, AZp = 3, WZp = [], Output = QOutputKind.UInt8, Seed = 5, PerChannel = true, Threads = 2 });
        Check(variant, new Case { Orientation = QGemmOrientation.WeightsRight, M = 301, N = 131, K = 577, ASigned = true, AZp = -5, WZp = [7], WSigned = true, Output = QOutputKind.Float32, Seed = 6, PerChannel = true, Threads = 2 });
        Check(variant, new Case { Orientation = QGemmOrientation.WeightsRight, M = 1, N = 1031, K = 2053, AZp = 200, WZp = [], Output = QOutputKind.Int32, Seed = 7, Threads = 2 });
    }

    [Fact]
    public void VariantForIsaIsRunnable()
    {
        foreach (var isa in EdgeNet.Kernels.IsaSupport.Available)
            Assert.Contains(QVariants.For(isa), QVariants.Available);
        Assert.Contains(QVariant.Scalar, QVariants.Available);
    }

    [Fact]
    public void RequantizeRoundsHalfToEvenAndClamps()
    {
        Assert.Equal(2, QMath.Requantize(5, 0.5f, 0, 0, 255));   // 2.5 → 2
        Assert.Equal(4, QMath.Requantize(7, 0.5f, 0, 0, 255));   // 3.5 → 4
        Assert.Equal(-2, QMath.Requantize(-5, 0.5f, 0, -128, 127));
        Assert.Equal(255, QMath.Requantize(int.MaxValue, 1f, 10, 0, 255));
        Assert.Equal(0, QMath.Requantize(int.MinValue, 1f, 10, 0, 255));
        Assert.Equal(10, QMath.Requantize(-50, 1f, 10, 10, 255)); // fused Relu: qmin = zero point
    }

    [Fact]
    public void BadWeightsThrowEdgeNetErrors()
    {
        Assert.Throws<InvalidModelException>(() => QPackedWeights.PackMatMul(QVariant.Scalar, new byte[5], true, 2, 3, []));
        Assert.Throws<InvalidModelException>(() => QPackedWeights.PackMatMul(QVariant.Scalar, new byte[6], true, 2, 3, [1, 2]));
        Assert.Throws<InvalidModelException>(() => QPackedWeights.PackMatMul(QVariant.Scalar, new byte[6], true, 2, 3, [300]));
    }
}
