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

    [Params(Isa.Avx2, Isa.Avx512)]
    public Isa Isa { get; set; } = Isa.Avx512;

    public double Flops => 2.0 * Dims.M * Dims.N * Dims.K;

    private (int M, int N, int K) Dims => new QGemmBenchmarks { Shape = Shape }.Dims;

    private F32GemmDriver _driver = null!;
    private float* _a, _x, _c, _scratch;

    [GlobalSetup]
    public void Setup()
    {
        var (m, n, k) = Dims;
        var uk = F32GemmMicrokernel.For(IsaSupport.IsSupported(Isa) ? Isa : IsaSupport.Best);
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
        var isas = new[] { Isa.Avx2, Isa.Avx512 }.Where(IsaSupport.IsHardwareSupported).ToArray();
        // each int8 variant is compared with the fp32 kernel of the same vector class: int16/VNNI ymm with fp32 AVX2,
        // and every variant with the best fp32 (AVX-512) the session would otherwise use
        Console.WriteLine($"ISA {IsaSupport.Best}; int8 variant chosen for it: {QVariants.For(IsaSupport.Best)}; single thread; fastest call of {rounds}×15 after warm-up");
        Console.WriteLine("| shape MxNxK | " + string.Join(" | ", isas.Select(i => $"fp32 {i} GFLOP/s")) + " | " + string.Join(" | ", variants.Select(v => $"int8 {v} GOPS (× fp32 AVX2 / × fp32 best)")) + " |");
        Console.WriteLine("|---|" + string.Concat(isas.Select(_ => "---:|")) + string.Concat(variants.Select(_ => "---:|")));
        foreach (var shape in shapes)
        {
            var f32 = isas.Select(i => { var b = new F32ConvGemmBenchmarks { Shape = shape, Isa = i }; b.Setup(); return b; }).ToArray();
            var q = variants.Select(v => { var b = new QGemmBenchmarks { Shape = shape, Variant = v }; b.Setup(); return b; }).ToArray();
            var bestF = new double[f32.Length];
            var bestQ = new double[q.Length];
            Array.Fill(bestF, double.MaxValue);
            Array.Fill(bestQ, double.MaxValue);
            WarmUp(f32.Select(b => (Action)b.F32).Concat(q.Select(b => (Action)b.Int8Gemm)));
            for (int r = 0; r < rounds; r++)
            {
                for (int i = 0; i < f32.Length; i++) bestF[i] = Math.Min(bestF[i], Time(f32[i].F32));
                for (int i = 0; i < q.Length; i++) bestQ[i] = Math.Min(bestQ[i], Time(q[i].Int8Gemm));
            }
            double fAvx2 = bestF[0], fBest = bestF.Min();
            var fcells = f32.Select((b, i) => string.Create(CultureInfo.InvariantCulture, $"{b.Flops / bestF[i] / 1e9:F1}"));
            var qcells = q.Select((b, i) => string.Create(CultureInfo.InvariantCulture, $"{b.Flops / bestQ[i] / 1e9:F1} ({fAvx2 / bestQ[i]:F2}× / {fBest / bestQ[i]:F2}×)"));
            Console.WriteLine($"| {shape} | {string.Join(" | ", fcells)} | {string.Join(" | ", qcells)} |");
            foreach (var b in f32) b.Cleanup();
            foreach (var b in q) b.Cleanup();
        }
    }

    /// <summary>The fastest single call of 15 (the least disturbed by other processes on a loaded machine).</summary>
    private static double Time(Action action)
    {
        double best = double.MaxValue;
        for (int i = 0; i < 15; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            action();
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        return best;
    }

    /// <summary>Runs every case for a while first, so the timed code is the JIT's final tier.</summary>
    private static void WarmUp(IEnumerable<Action> actions)
    {
        foreach (var a in actions)
        {
            var sw = Stopwatch.StartNew();
            while (sw.ElapsedMilliseconds < 300) a();
        }
    }
}
