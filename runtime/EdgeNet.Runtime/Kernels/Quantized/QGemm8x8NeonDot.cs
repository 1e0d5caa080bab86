using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace EdgeNet.Kernels.Quantized;

/// <summary>
/// NEON dotprod 8×8 tile (Cortex-A76): sdot by lane, acc[i, 4j..4j+3] += B(4 columns × 4 k) · A(row i's 4 k).
/// sdot is s8 × s8, so activations are stored shifted to s8 (u8 − 128); the driver adds 128·Σw back through the
/// per-channel correction. 16 accumulators, 2 + 2 operand registers. Portable scalar fallback off ARM.
/// </summary>
public sealed unsafe class QGemm8x8NeonDot : QMicrokernel
{
    public static readonly QGemm8x8NeonDot Instance = new();
    public override QVariant Variant => QVariant.NeonDot;
    public override int MR => 8;
    public override int NR => 8;
    public override bool ShiftActivations => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Dot(Vector128<int> acc, Vector128<sbyte> b, Vector128<sbyte> a, [System.Diagnostics.CodeAnalysis.ConstantExpected(Max = (byte)3)] byte lane)
    {
        if (Dp.IsSupported) return Dp.DotProductBySelectedQuadruplet(acc, b, a, lane);
        int* r = stackalloc int[4];
        for (int j = 0; j < 4; j++)
        {
            int s = 0;
            for (int e = 0; e < 4; e++) s += b.GetElement(4 * j + e) * a.GetElement(4 * lane + e);
            r[j] = s;
        }
        return acc + Vector128.Load(r);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Run(int groups, byte* a, byte* b, int* c, bool activationsLeft)
    {
        Vector128<int> c00 = Vector128<int>.Zero, c01 = Vector128<int>.Zero, c10 = Vector128<int>.Zero, c11 = Vector128<int>.Zero, c20 = Vector128<int>.Zero, c21 = Vector128<int>.Zero, c30 = Vector128<int>.Zero, c31 = Vector128<int>.Zero, c40 = Vector128<int>.Zero, c41 = Vector128<int>.Zero, c50 = Vector128<int>.Zero, c51 = Vector128<int>.Zero, c60 = Vector128<int>.Zero, c61 = Vector128<int>.Zero, c70 = Vector128<int>.Zero, c71 = Vector128<int>.Zero;
        for (int g = 0; g < groups; g++, a += 32, b += 32)
        {
            var a0 = Vector128.Load((sbyte*)a);
            var a1 = Vector128.Load((sbyte*)(a + 16));
            var b0 = Vector128.Load((sbyte*)b);
            var b1 = Vector128.Load((sbyte*)(b + 16));
                c00 = Dot(c00, b0, a0, 0);
                c01 = Dot(c01, b1, a0, 0);
                c10 = Dot(c10, b0, a0, 1);
                c11 = Dot(c11, b1, a0, 1);
                c20 = Dot(c20, b0, a0, 2);
                c21 = Dot(c21, b1, a0, 2);
                c30 = Dot(c30, b0, a0, 3);
                c31 = Dot(c31, b1, a0, 3);
                c40 = Dot(c40, b0, a1, 0);
                c41 = Dot(c41, b1, a1, 0);
                c50 = Dot(c50, b0, a1, 1);
                c51 = Dot(c51, b1, a1, 1);
                c60 = Dot(c60, b0, a1, 2);
                c61 = Dot(c61, b1, a1, 2);
                c70 = Dot(c70, b0, a1, 3);
                c71 = Dot(c71, b1, a1, 3);
        }
        c00.Store(c + 0);
        c01.Store(c + 4);
        c10.Store(c + 8);
        c11.Store(c + 12);
        c20.Store(c + 16);
        c21.Store(c + 20);
        c30.Store(c + 24);
        c31.Store(c + 28);
        c40.Store(c + 32);
        c41.Store(c + 36);
        c50.Store(c + 40);
        c51.Store(c + 44);
        c60.Store(c + 48);
        c61.Store(c + 52);
        c70.Store(c + 56);
        c71.Store(c + 60);
    }
}
