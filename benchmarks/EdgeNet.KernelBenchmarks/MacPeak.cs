using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeNet.KernelBenchmarks;

/// <summary>
/// <c>--mac-peak</c>: the core's multiply-accumulate ceiling per instruction family the kernels can use from .NET,
/// measured by register-only loops (12 independent accumulator chains, no memory operands), and the int8 / fp32
/// ceilings it implies. These bound what int8 can gain over fp32 on this machine with this runtime: .NET 10 exposes
/// <c>vpdpbusd</c> only on 256-bit registers (<see cref="AvxVnni"/>), while fp32 FMA runs on 512-bit registers.
/// Each case is timed back to back in rounds; the best time of each is kept (least disturbed on a shared machine).
/// </summary>
public static class MacPeak
{
    private const int Iterations = 1 << 20;

    private sealed record Case(string Name, double Macs, Func<float> Body);

    public static void Run(int rounds = 15)
    {
        // the fp32 loops are FmaPeakBenchmarks' (the --ratio ceiling), same iteration count and chains
        var fma = new FmaPeakBenchmarks();
        var cases = new List<Case>();
        if (Fma.IsSupported) cases.Add(new("fp32 FMA 256-bit (AVX2 path)", fma.Flops / 2, fma.FmaPeak));
        if (Avx512F.IsSupported) cases.Add(new("fp32 FMA 512-bit (AVX-512 path)", fma.Flops512 / 2, fma.FmaPeak512));
        if (Avx2.IsSupported) cases.Add(new("int8 vpmaddubsw+vpmaddwd+vpaddd 256-bit (AVX2 path)", 12.0 * 32 * Iterations, Int16Pairs256));
        if (Avx512BW.IsSupported) cases.Add(new("int8 vpmaddubsw+vpmaddwd+vpaddd 512-bit (AVX-512BW)", 12.0 * 64 * Iterations, Int16Pairs512));
        if (AvxVnni.IsSupported) cases.Add(new("int8 vpdpbusd 256-bit (AVX-VNNI path)", 12.0 * 32 * Iterations, Vnni256));
        var best = new double[cases.Count];
        Array.Fill(best, double.MaxValue);
        foreach (var c in cases) c.Body();
        for (int r = 0; r < rounds; r++)
            for (int i = 0; i < cases.Count; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                cases[i].Body();
                best[i] = Math.Min(best[i], Stopwatch.GetElapsedTime(t0).TotalSeconds);
            }
        Console.WriteLine("| instruction family | GMAC/s (one core) |");
        Console.WriteLine("|---|---:|");
        var gmacs = new Dictionary<string, double>();
        for (int i = 0; i < cases.Count; i++)
        {
            gmacs[cases[i].Name] = cases[i].Macs / best[i] / 1e9;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {cases[i].Name} | {gmacs[cases[i].Name]:F1} |"));
        }
        Ratio(gmacs, "int8 vpdpbusd 256-bit (AVX-VNNI path)", "fp32 FMA 512-bit (AVX-512 path)");
        Ratio(gmacs, "int8 vpmaddubsw+vpmaddwd+vpaddd 256-bit (AVX2 path)", "fp32 FMA 256-bit (AVX2 path)");
        Ratio(gmacs, "int8 vpmaddubsw+vpmaddwd+vpaddd 512-bit (AVX-512BW)", "fp32 FMA 512-bit (AVX-512 path)");
    }

    private static void Ratio(Dictionary<string, double> gmacs, string int8, string fp32)
    {
        if (gmacs.TryGetValue(int8, out double q) && gmacs.TryGetValue(fp32, out double f))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ceiling of int8 over fp32, {int8} / {fp32}: {q / f:F2}×"));
    }

    private static float Vnni256()
    {
        var a = Vector256.Create((byte)3);
        var b = Vector256.Create((sbyte)-2);
        Vector256<int> c0 = Vector256<int>.Zero, c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int i = 0; i < Iterations; i++)
        {
            c0 = AvxVnni.MultiplyWideningAndAdd(c0, a, b); c1 = AvxVnni.MultiplyWideningAndAdd(c1, a, b); c2 = AvxVnni.MultiplyWideningAndAdd(c2, a, b); c3 = AvxVnni.MultiplyWideningAndAdd(c3, a, b);
            c4 = AvxVnni.MultiplyWideningAndAdd(c4, a, b); c5 = AvxVnni.MultiplyWideningAndAdd(c5, a, b); c6 = AvxVnni.MultiplyWideningAndAdd(c6, a, b); c7 = AvxVnni.MultiplyWideningAndAdd(c7, a, b);
            c8 = AvxVnni.MultiplyWideningAndAdd(c8, a, b); c9 = AvxVnni.MultiplyWideningAndAdd(c9, a, b); c10 = AvxVnni.MultiplyWideningAndAdd(c10, a, b); c11 = AvxVnni.MultiplyWideningAndAdd(c11, a, b);
        }
        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).ToScalar();
    }

    private static float Int16Pairs256()
    {
        // as the kernels' step: u8×s8 pairs to int16 (vpmaddubsw), int16 pairs to int32 (vpmaddwd), accumulate; 3 activation
        // vectors (changed every iteration, as loads would be, so no product is hoisted) × 4 weight vectors = 12 chains
        Vector256<byte> a0 = Vector256.Create((byte)3), a1 = Vector256.Create((byte)5), a2 = Vector256.Create((byte)7), step = Vector256.Create((byte)1);
        Vector256<sbyte> b0 = Vector256.Create((sbyte)-2), b1 = Vector256.Create((sbyte)3), b2 = Vector256.Create((sbyte)-4), b3 = Vector256.Create((sbyte)5);
        var ones = Vector256.Create((short)1);
        Vector256<int> c0 = Vector256<int>.Zero, c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int i = 0; i < Iterations; i++)
        {
            a0 = Avx2.Add(a0, step); a1 = Avx2.Add(a1, step); a2 = Avx2.Add(a2, step);
            c0 = Avx2.Add(c0, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a0, b0), ones)); c1 = Avx2.Add(c1, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a0, b1), ones));
            c2 = Avx2.Add(c2, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a0, b2), ones)); c3 = Avx2.Add(c3, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a0, b3), ones));
            c4 = Avx2.Add(c4, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a1, b0), ones)); c5 = Avx2.Add(c5, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a1, b1), ones));
            c6 = Avx2.Add(c6, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a1, b2), ones)); c7 = Avx2.Add(c7, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a1, b3), ones));
            c8 = Avx2.Add(c8, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a2, b0), ones)); c9 = Avx2.Add(c9, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a2, b1), ones));
            c10 = Avx2.Add(c10, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a2, b2), ones)); c11 = Avx2.Add(c11, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a2, b3), ones));
        }
        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).ToScalar();
    }

    private static float Int16Pairs512()
    {
        // as the kernels' step: u8×s8 pairs to int16 (vpmaddubsw), int16 pairs to int32 (vpmaddwd), accumulate; 3 activation
        // vectors (changed every iteration, as loads would be, so no product is hoisted) × 4 weight vectors = 12 chains
        Vector512<byte> a0 = Vector512.Create((byte)3), a1 = Vector512.Create((byte)5), a2 = Vector512.Create((byte)7), step = Vector512.Create((byte)1);
        Vector512<sbyte> b0 = Vector512.Create((sbyte)-2), b1 = Vector512.Create((sbyte)3), b2 = Vector512.Create((sbyte)-4), b3 = Vector512.Create((sbyte)5);
        var ones = Vector512.Create((short)1);
        Vector512<int> c0 = Vector512<int>.Zero, c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int i = 0; i < Iterations; i++)
        {
            a0 = Avx512BW.Add(a0, step); a1 = Avx512BW.Add(a1, step); a2 = Avx512BW.Add(a2, step);
            c0 = Avx512F.Add(c0, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a0, b0), ones)); c1 = Avx512F.Add(c1, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a0, b1), ones));
            c2 = Avx512F.Add(c2, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a0, b2), ones)); c3 = Avx512F.Add(c3, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a0, b3), ones));
            c4 = Avx512F.Add(c4, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a1, b0), ones)); c5 = Avx512F.Add(c5, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a1, b1), ones));
            c6 = Avx512F.Add(c6, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a1, b2), ones)); c7 = Avx512F.Add(c7, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a1, b3), ones));
            c8 = Avx512F.Add(c8, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a2, b0), ones)); c9 = Avx512F.Add(c9, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a2, b1), ones));
            c10 = Avx512F.Add(c10, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a2, b2), ones)); c11 = Avx512F.Add(c11, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a2, b3), ones));
        }
        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).ToScalar();
    }
}
