using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Gemm;

namespace EdgeNet.KernelBenchmarks;

/// <summary>Work of a benchmark case in floating-point operations, for the GFLOP/s column.</summary>
public interface IFlopCount
{
    double Flops { get; }
}

/// <summary>GFLOP/s = the case's FLOPs (from a fresh instance with the case's parameters) / mean time.</summary>
public sealed class GflopsColumn : IColumn
{
    public string Id => "GFLOPs";
    public string ColumnName => "GFLOP/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "2·M·N·K (or FMA-loop FLOPs) divided by the mean time";
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        if (stats is null) return "-";
        var instance = (IFlopCount)Activator.CreateInstance(benchmarkCase.Descriptor.Type)!;
        foreach (var p in benchmarkCase.Parameters.Items)
            benchmarkCase.Descriptor.Type.GetProperty(p.Name)?.SetValue(instance, p.Value);
        return (instance.Flops / stats.Mean).ToString("F1", System.Globalization.CultureInfo.InvariantCulture); // FLOP/ns = GFLOP/s
    }
}

public sealed class GflopsConfig : ManualConfig
{
    public GflopsConfig() => AddColumn(new GflopsColumn());
}

/// <summary>
/// Single-threaded blocked GEMM (packed A and B, the microkernel of the best ISA) on square and model shapes, next to
/// a register-only FMA loop that measures the core's FMA peak on the same machine in the same run: run them back to
/// back, since other processes load the machine.
/// </summary>
[Config(typeof(GflopsConfig))]
public unsafe class GemmBenchmarks : IFlopCount
{
    /// <summary>M×N×K: square sizes, then shapes from the target models (hey_jarvis dense layers, resnet18 / mobilenet 1×1 and 3×3 convs as GEMM).</summary>
    [Params("256x256x256", "512x512x512", "1x96x1536", "1x1536x96", "64x3136x576", "128x784x1152", "96x3136x16", "512x49x4608")]
    public string Shape { get; set; } = "256x256x256";

    public double Flops => 2.0 * Dims.M * Dims.N * Dims.K;

    private (int M, int N, int K) Dims
    {
        get
        {
            var p = Shape.Split('x');
            return (int.Parse(p[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture), int.Parse(p[2], System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    private float* _a, _b, _c, _scratch;
    private F32GemmDriver _driver = null!;

    [GlobalSetup]
    public void Setup()
    {
        var (m, n, k) = Dims;
        var uk = F32GemmMicrokernel.For(IsaSupport.Best);
        _driver = new F32GemmDriver(uk, m, n, k, GemmBSource.Packed, n, null, [0], [0], [0], null, 0, 0, FusedActivation.None, 1);
        _a = Alloc(F32GemmPacking.PackedASize(m, k, uk.MR));
        _b = Alloc(F32GemmPacking.PackedBSize(k, n, uk.NR));
        _c = Alloc(m * n);
        _scratch = Alloc(_driver.ScratchBytes / 4 + 16);
        var rng = new Random(1);
        for (int i = 0; i < F32GemmPacking.PackedASize(m, k, uk.MR); i++) _a[i] = (float)rng.NextDouble();
        for (int i = 0; i < F32GemmPacking.PackedBSize(k, n, uk.NR); i++) _b[i] = (float)rng.NextDouble();
    }

    private static float* Alloc(int floats) => (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)Math.Max(1, floats) * 4, 64);

    [GlobalCleanup]
    public void Cleanup()
    {
        System.Runtime.InteropServices.NativeMemory.AlignedFree(_a);
        System.Runtime.InteropServices.NativeMemory.AlignedFree(_b);
        System.Runtime.InteropServices.NativeMemory.AlignedFree(_c);
        System.Runtime.InteropServices.NativeMemory.AlignedFree(_scratch);
    }

    [Benchmark]
    public void Gemm() => _driver.Run(_a, _b, _c, null, 0, _scratch);
}

/// <summary>
/// The core's FMA peak: 12 independent accumulator chains (more than latency × ports = 4 × 2 on current x86
/// cores), no memory operands. GFLOP/s of this case is the ceiling the GEMM cases are compared to.
/// </summary>
[Config(typeof(GflopsConfig))]
public class FmaPeakBenchmarks : IFlopCount
{
    private const int PeakIterations = 1 << 20;

    /// <summary>iterations × 12 independent FMAs × lanes × 2.</summary>
    public double Flops => (double)PeakIterations * 12 * Vector256<float>.Count * 2;

    [Benchmark]
    public float FmaPeak()
    {
        if (!Fma.IsSupported) return 0;
        var m = Vector256.Create(0.999f);
        var add = Vector256.Create(1e-3f);
        Vector256<float> c0 = Vector256.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int i = 0; i < PeakIterations; i++)
        {
            c0 = Fma.MultiplyAdd(c0, m, add); c1 = Fma.MultiplyAdd(c1, m, add); c2 = Fma.MultiplyAdd(c2, m, add); c3 = Fma.MultiplyAdd(c3, m, add);
            c4 = Fma.MultiplyAdd(c4, m, add); c5 = Fma.MultiplyAdd(c5, m, add); c6 = Fma.MultiplyAdd(c6, m, add); c7 = Fma.MultiplyAdd(c7, m, add);
            c8 = Fma.MultiplyAdd(c8, m, add); c9 = Fma.MultiplyAdd(c9, m, add); c10 = Fma.MultiplyAdd(c10, m, add); c11 = Fma.MultiplyAdd(c11, m, add);
        }
        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).ToScalar();
    }

    /// <summary>iterations × 12 independent 512-bit FMAs × 16 lanes × 2.</summary>
    public double Flops512 => (double)PeakIterations * 12 * Vector512<float>.Count * 2;

    /// <summary>
    /// The same loop on 512-bit registers (AVX-512F): the ceiling of the AVX-512 GEMM path (used by --ratio; not a
    /// BenchmarkDotNet case, whose GFLOP/s column counts <see cref="Flops"/>).
    /// </summary>
    public float FmaPeak512()
    {
        if (!Avx512F.IsSupported) return 0;
        var m = Vector512.Create(0.999f);
        var add = Vector512.Create(1e-3f);
        Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int i = 0; i < PeakIterations; i++)
        {
            c0 = Avx512F.FusedMultiplyAdd(c0, m, add); c1 = Avx512F.FusedMultiplyAdd(c1, m, add); c2 = Avx512F.FusedMultiplyAdd(c2, m, add); c3 = Avx512F.FusedMultiplyAdd(c3, m, add);
            c4 = Avx512F.FusedMultiplyAdd(c4, m, add); c5 = Avx512F.FusedMultiplyAdd(c5, m, add); c6 = Avx512F.FusedMultiplyAdd(c6, m, add); c7 = Avx512F.FusedMultiplyAdd(c7, m, add);
            c8 = Avx512F.FusedMultiplyAdd(c8, m, add); c9 = Avx512F.FusedMultiplyAdd(c9, m, add); c10 = Avx512F.FusedMultiplyAdd(c10, m, add); c11 = Avx512F.FusedMultiplyAdd(c11, m, add);
        }
        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).ToScalar();
    }
}
