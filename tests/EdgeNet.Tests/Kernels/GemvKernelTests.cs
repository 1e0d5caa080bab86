using EdgeNet.Execution;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Elementwise;
using EdgeNet.Kernels.Gemm;

namespace EdgeNet.Tests.Kernels;

/// <summary>
/// <see cref="F32Gemv"/> (the batch-1 dense layer) against a double-precision matrix-vector product, for every
/// vector width this machine executes (V128 is the Neon path; V512 runs emulated where AVX-512 is missing), over
/// K and N sweeps that hit every full-block / tail-block / odd-K case, both weight layouts, α, bias and activations.
/// </summary>
public class GemvKernelTests
{
    public static IEnumerable<object[]> Widths() =>
        F32Elementwise.AvailableWidths.Where(w => w != VectorWidth.Scalar).Select(w => new object[] { w });

    private static readonly FusedActivation[] Activations =
        [FusedActivation.None, new(ActivationKind.Relu), new(ActivationKind.Sigmoid), new(ActivationKind.Clip, -0.5f, 0.5f)];

    private static float[] Expected(float[] x, float[] b, int k, int n, bool transposed, float alpha, float[]? bias, FusedActivation act)
    {
        var y = new float[n];
        for (int j = 0; j < n; j++)
        {
            double s = 0;
            for (int p = 0; p < k; p++) s += (double)x[p] * (transposed ? b[j * k + p] : b[p * n + j]);
            s = alpha * s + (bias is null ? 0 : bias[j]);
            y[j] = act.Apply((float)s);
        }
        return y;
    }

    private static unsafe void Check(VectorWidth width, int k, int n, bool transposed, float alpha, bool withBias, FusedActivation act, int threads, int seed)
    {
        var x = GemmKernelTests.Random(k, seed);
        var b = GemmKernelTests.Random(k * n, seed + 1);
        var bias = withBias ? GemmKernelTests.Random(n, seed + 2) : null;
        var gemv = F32Gemv.Create(width, b, k, n, transposed, alpha, bias ?? [], act, threads)!;
        // y has a guard zone after N: the tail block must not write past it
        var y = new float[n + 64];
        Array.Fill(y, 12345f);
        fixed (float* xp = x)
        fixed (float* yp = y)
        {
            if (threads == 1) gemv.Run(xp, yp);
            else gemv.Run(new ExecutionContext([], threads), xp, yp);
        }
        string what = $"{width} k{k} n{n} t{transposed} a{alpha} bias{withBias} {act.Kind} threads{threads}";
        GemmKernelTests.AssertClose(Expected(x, b, k, n, transposed, alpha, bias, act), y.AsSpan(0, n), what);
        for (int i = n; i < y.Length; i++) Assert.True(y[i] == 12345f, $"{what}: wrote past N at {i}");
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void MatchesTheReferenceOverShapes(VectorWidth width)
    {
        int[] ks = [1, 2, 3, 4, 5, 7, 16, 17, 31, 64, 97, 128, 257];
        int[] ns = [.. Enumerable.Range(1, 70), 96, 127, 128, 129, 200, 257];
        int seed = 0;
        foreach (int k in ks)
            foreach (int n in ns)
            {
                seed++;
                Check(width, k, n, transposed: seed % 2 == 0, alpha: seed % 3 == 0 ? 0.75f : 1, withBias: seed % 4 != 0,
                    Activations[seed % Activations.Length], threads: 1, seed);
            }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void WakeWordShapesAndThreadedRunsMatchTheReference(VectorWidth width)
    {
        // the openWakeWord heads (1536→128→128→1) and a layer large enough to split over two threads
        Check(width, 1536, 128, true, 1, true, Activations[1], 1, 1);
        Check(width, 128, 128, true, 1, true, Activations[0], 1, 2);
        Check(width, 128, 1, true, 1, true, Activations[2], 1, 3);
        Check(width, 1031, 1100, false, 0.5f, true, Activations[1], 2, 4);
        Check(width, 1024, 1027, true, 1, false, Activations[0], 2, 5);
    }

    [Fact]
    public void ScalarWidthHasNoGemv() =>
        Assert.Null(F32Gemv.Create(VectorWidth.Scalar, new float[4], 2, 2, false, 1, [], FusedActivation.None, 1));
}
