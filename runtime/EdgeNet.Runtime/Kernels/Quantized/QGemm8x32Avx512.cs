using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeNet.Kernels.Quantized;

/// <summary>
/// AVX-512 8×32 tile on the int16 layout (two k values per lane): 512-bit vpmaddwd, 16 accumulators. .NET 10 has
/// no 512-bit vpdpbusd API. Without AVX-512 BW (emulation) the pair product falls back to portable Vector512 shifts
/// and multiplies with the same exact int32 result.
/// </summary>
public sealed unsafe class QGemm8x32Avx512 : QMicrokernel
{
    public static readonly QGemm8x32Avx512 Instance = new();
    public override QVariant Variant => QVariant.Avx512;
    public override int MR => 8;
    public override int NR => 32;
    public override int GroupK => 2;
    public override bool Wide => true;

    /// <summary>lane i: x[2i]·y[2i] + x[2i+1]·y[2i+1] (int16 × int16 → int32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<int> Madd(Vector512<short> x, Vector512<short> y)
    {
        if (Avx512BW.IsSupported) return Avx512BW.MultiplyAddAdjacent(x, y);
        var xi = x.AsInt32();
        var yi = y.AsInt32();
        return Vector512.ShiftRightArithmetic(Vector512.ShiftLeft(xi, 16), 16) * Vector512.ShiftRightArithmetic(Vector512.ShiftLeft(yi, 16), 16)
            + Vector512.ShiftRightArithmetic(xi, 16) * Vector512.ShiftRightArithmetic(yi, 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Run(int groups, byte* a, byte* b, int* c, bool activationsLeft)
    {
        Vector512<int> c00 = Vector512<int>.Zero, c01 = Vector512<int>.Zero, c10 = Vector512<int>.Zero, c11 = Vector512<int>.Zero, c20 = Vector512<int>.Zero, c21 = Vector512<int>.Zero, c30 = Vector512<int>.Zero, c31 = Vector512<int>.Zero, c40 = Vector512<int>.Zero, c41 = Vector512<int>.Zero, c50 = Vector512<int>.Zero, c51 = Vector512<int>.Zero, c60 = Vector512<int>.Zero, c61 = Vector512<int>.Zero, c70 = Vector512<int>.Zero, c71 = Vector512<int>.Zero;
        for (int g = 0; g < groups; g++, a += 32, b += 128)
        {
            var b0 = Vector512.Load((short*)b);
            var b1 = Vector512.Load((short*)(b + 64));
                var a0 = Vector512.Create(*(int*)(a + 0)).AsInt16();
                c00 += Madd(b0, a0);
                c01 += Madd(b1, a0);
                var a1 = Vector512.Create(*(int*)(a + 4)).AsInt16();
                c10 += Madd(b0, a1);
                c11 += Madd(b1, a1);
                var a2 = Vector512.Create(*(int*)(a + 8)).AsInt16();
                c20 += Madd(b0, a2);
                c21 += Madd(b1, a2);
                var a3 = Vector512.Create(*(int*)(a + 12)).AsInt16();
                c30 += Madd(b0, a3);
                c31 += Madd(b1, a3);
                var a4 = Vector512.Create(*(int*)(a + 16)).AsInt16();
                c40 += Madd(b0, a4);
                c41 += Madd(b1, a4);
                var a5 = Vector512.Create(*(int*)(a + 20)).AsInt16();
                c50 += Madd(b0, a5);
                c51 += Madd(b1, a5);
                var a6 = Vector512.Create(*(int*)(a + 24)).AsInt16();
                c60 += Madd(b0, a6);
                c61 += Madd(b1, a6);
                var a7 = Vector512.Create(*(int*)(a + 28)).AsInt16();
                c70 += Madd(b0, a7);
                c71 += Madd(b1, a7);
        }
        c00.Store(c + 0);
        c01.Store(c + 16);
        c10.Store(c + 32);
        c11.Store(c + 48);
        c20.Store(c + 64);
        c21.Store(c + 80);
        c30.Store(c + 96);
        c31.Store(c + 112);
        c40.Store(c + 128);
        c41.Store(c + 144);
        c50.Store(c + 160);
        c51.Store(c + 176);
        c60.Store(c + 192);
        c61.Store(c + 208);
        c70.Store(c + 224);
        c71.Store(c + 240);
    }
}
