using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Gemm;
using EdgeNet.Kernels.Quantized;

namespace EdgeNet.KernelBenchmarks;

/// <summary>
/// Single-threaded int8 GEMM on conv-like shapes, C[M×N] = W[M×K] · X[K×N] (M output channels, N = H·W positions,
/// K = Cin·KH·KW), as a pointwise conv runs it: weights packed once, X (uint8, row-major) packed per run, requantized
/// uint8 output with per-channel multipliers. The GFLOP/s column counts 2·M·N·K integer operations (GOPS).
/// <see cref="F32"/> runs the fp32 driver on the same shape the way the fp32 conv does (B read in place).
/// </summary>
[Config(typeof(GflopsConfig))]
public unsafe class QGemmBenchmarks : IFlopCount
{
    [Params("64x3136x576", "128x784x1152", "256x784x576", "128x3136x576", "1x1536x96")]
    public string Shape { get; set; } = "64x3136x576";

    [Params(QVariant.Avx2, QVariant.AvxVnni, QVariant.Avx512)]
    public QVariant Variant { get; set; } = QVariant.AvxVnni;

    public double Flops => 2.0 * Dims.M * Dims.N * Dims.K;

    internal (int M, int N, int K) Dims
    {
        get
        {
            var p = Shape.Split('x');
            return (int.Parse(p[0], CultureInfo.InvariantCulture), int.Parse(p[1], CultureInfo.InvariantCulture), int.Parse(p[2], CultureInfo.InvariantCulture));
        }
    }

    private QGemm _gemm = null!;
    private byte* _x, _y, _scratch;
    private float* _mult;

    [GlobalSetup]
    public void Setup()
    {
        var (m, n, k) = Dims;
        var rng = new Random(1);
        var w = new byte[m * k];
        for (int i = 0; i < w.Length; i++) w[i] = (byte)(sbyte)rng.Next(-127, 128);
        var packed = QPackedWeights.PackRows(QVariants.IsSupported(Variant) ? Variant : QVariant.Scalar, QGemmOrientation.WeightsLeft, w, true, m, k, []);
        _gemm = new QGemm(packed, n, false, QOutputKind.UInt8, 1);
        _x = (byte*)NativeMemory.AlignedAlloc((nuint)(k * n), 64);
        for (int i = 0; i < k * n; i++) _x[i] = (byte)rng.Next(256);
        _y = (byte*)NativeMemory.AlignedAlloc((nuint)(m * n), 64);
        _scratch = (byte*)NativeMemory.AlignedAlloc((nuint)_gemm.ScratchBytes, 64);
        _mult = (float*)NativeMemory.AlignedAlloc((nuint)m * 4, 64);
        for (int i = 0; i < m; i++) _mult[i] = 0.0001f;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_x);
        NativeMemory.AlignedFree(_y);
        NativeMemory.AlignedFree(_scratch);
        NativeMemory.AlignedFree(_mult);
    }

    [Benchmark]
    public void Int8Gemm() => _gemm.Run(null, _x, Dims.N, 128, _y, Dims.N, QEpilogue.Requantize(_mult, 1, 0, 0, 255), _scratch);
}

/// <summary>The fp32 counterpart of <see cref="QGemmBenchmarks"/>: packed weights, B = X[K×N] read in place.</summary>
[Config(typeof(GflopsConfig))]
public unsafe class F32ConvGemmBenchmarks : IFlopCount
{
    [Params("64x3136x576", "128x784x1152", "256x784x576", "128x3136x576", "1x1536x96")]
    public string Shape { get; set; } = "64x3136x576";

    public double Flops => 2.0 * Dims.M * Dims.N * Dims.K;

    private (int M, int N, int K) Dims => new QGemmBenchmarks { Shape = Shape }.Dims;

    private F32GemmDriver _driver = null!;
    private float* _a, _x, _c, _scratch;

    [GlobalSetup]
    public void Setup()
    {
        var (m, n, k) = Dims;
        var uk = F32GemmMicrokernel.For(IsaSupport.Best);
        _driver = new F32GemmDriver(uk, m, n, k, GemmBSource.RowMajor, n, null, [0], [0], [0], null, 0, 0, FusedActivation.None, 1);
        _a = (float*)NativeMemory.AlignedAlloc((nuint)F32GemmPacking.PackedASize(m, k, uk.MR) * 4, 64);
        _x = (float*)NativeMemory.AlignedAlloc((nuint)(k * n) * 4, 64);
        _c = (float*)NativeMemory.AlignedAlloc((nuint)(m * n) * 4, 64);
        _scratch = (float*)NativeMemory.AlignedAlloc((nuint)_driver.ScratchBytes + 64, 64);
        var rng = new Random(1);
        for (int i = 0; i < F32GemmPacking.PackedASize(m, k, uk.MR); i++) _a[i] = (float)rng.NextDouble();
        for (int i = 0; i < k * n; i++) _x[i] = (float)rng.NextDouble();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_a);
        NativeMemory.AlignedFree(_x);
        NativeMemory.AlignedFree(_c);
        NativeMemory.AlignedFree(_scratch);
    }

    [Benchmark(Baseline = true)]
    public void F32() => _driver.Run(_a, _x, _c, null, 0, _scratch);
}

/// <summary>
/// <c>--int8 [SHAPE...]</c>: int8 GOPS per variant and the int8/fp32 speed ratio on a shared, loaded machine: each
/// round times the fp32 GEMM and every int8 variant back to back on the same shape; the best time of each is kept.
/// </summary>
public static class Int8Ratio
{
    public static void Run(string[] shapes, int rounds = 9)
    {
        if (shapes.Length == 0) shapes = ["64x3136x576", "128x784x1152", "256x784x576", "128x3136x576"];
        var variants = QVariants.Available.Where(v => QVariants.IsNative(v) && v != QVariant.Scalar).ToArray();
        Console.WriteLine($"fp32 microkernel {F32GemmMicrokernel.For(IsaSupport.Best).GetType().Name} (ISA {IsaSupport.Best}); int8 variant for that ISA: {QVariants.For(IsaSupport.Best)}");
        Console.WriteLine("| shape MxNxK | fp32 GFLOP/s | " + string.Join(" | ", variants.Select(v => $"{v} GOPS (×fp32)")) + " |");
        Console.WriteLine("|---|---:|" + string.Concat(variants.Select(_ => "---:|")));
        foreach (var shape in shapes)
        {
            var f32 = new F32ConvGemmBenchmarks { Shape = shape };
            f32.Setup();
            var q = variants.Select(v => { var b = new QGemmBenchmarks { Shape = shape, Variant = v }; b.Setup(); return b; }).ToArray();
            double bestF = double.MaxValue;
            var bestQ = new double[q.Length];
            Array.Fill(bestQ, double.MaxValue);
            for (int r = 0; r < rounds; r++)
            {
                bestF = Math.Min(bestF, Time(f32.F32));
                for (int i = 0; i < q.Length; i++) bestQ[i] = Math.Min(bestQ[i], Time(q[i].Int8Gemm));
            }
            var cells = q.Select((b, i) => string.Create(CultureInfo.InvariantCulture, $"{b.Flops / bestQ[i] / 1e9:F1} ({bestF / bestQ[i]:F2}×)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {shape} | {f32.Flops / bestF / 1e9:F1} | {string.Join(" | ", cells)} |"));
            f32.Cleanup();
            foreach (var b in q) b.Cleanup();
        }
    }

    private static double Time(Action action)
    {
        action();
        var sw = Stopwatch.StartNew();
        int reps = 0;
        do { action(); reps++; } while (sw.Elapsed.TotalMilliseconds < 60);
        return sw.Elapsed.TotalSeconds / reps;
    }
}
