using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace EdgeNet.Kernels.Quantized;

/// <summary>
/// NEON 4×8 tile without dotprod (Cortex-A72): activations stored as s8 (u8 − 128), each lane's 4 bytes broadcast,
/// smull / smull2 multiply 8 byte pairs into int16 (|128·128| fits), sadalp adds adjacent pairs into int32
/// accumulators; the two partial sums per column are folded by one addp at the end. 16 accumulators.
/// Off ARM the same steps run on portable Vector128 code, so the tile is tested anywhere.
/// </summary>
public sealed unsafe class QGemm4x8Neon : QMicrokernel
{
    public static readonly QGemm4x8Neon Instance = new();
    public override QVariant Variant => QVariant.Neon;
    public override int MR => 4;
    public override int NR => 8;
    public override bool ShiftActivations => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<sbyte> Dup(Vector128<int> v, [System.Diagnostics.CodeAnalysis.ConstantExpected(Max = (byte)3)] byte lane) =>
        AdvSimd.IsSupported ? AdvSimd.DuplicateSelectedScalarToVector128(v, lane).AsSByte() : Vector128.Create(v.GetElement(lane)).AsSByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<short> MulLower(Vector128<sbyte> x, Vector128<sbyte> y) =>
        AdvSimd.IsSupported ? AdvSimd.MultiplyWideningLower(x.GetLower(), y.GetLower()) : Vector128.WidenLower(x) * Vector128.WidenLower(y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<short> MulUpper(Vector128<sbyte> x, Vector128<sbyte> y) =>
        AdvSimd.IsSupported ? AdvSimd.MultiplyWideningUpper(x, y) : Vector128.WidenUpper(x) * Vector128.WidenUpper(y);

    /// <summary>acc[i] + p[2i] + p[2i+1].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Sadalp(Vector128<int> acc, Vector128<short> p)
    {
        if (AdvSimd.IsSupported) return AdvSimd.AddPairwiseWideningAndAdd(acc, p);
        var pi = p.AsInt32();
        return acc + Vector128.ShiftRightArithmetic(Vector128.ShiftLeft(pi, 16), 16) + Vector128.ShiftRightArithmetic(pi, 16);
    }

    /// <summary>Columns 0..3: lo = [c0 c0 c1 c1] partials, hi = [c2 c2 c3 c3].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish(Vector128<int> lo, Vector128<int> hi, int* c)
    {
        if (AdvSimd.Arm64.IsSupported) { AdvSimd.Arm64.AddPairwise(lo, hi).Store(c); return; }
        c[0] = lo.GetElement(0) + lo.GetElement(1);
        c[1] = lo.GetElement(2) + lo.GetElement(3);
        c[2] = hi.GetElement(0) + hi.GetElement(1);
        c[3] = hi.GetElement(2) + hi.GetElement(3);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Run(int groups, byte* a, byte* b, int* c, bool activationsLeft)
    {
        Vector128<int> l00 = Vector128<int>.Zero, h00 = Vector128<int>.Zero, l01 = Vector128<int>.Zero, h01 = Vector128<int>.Zero, l10 = Vector128<int>.Zero, h10 = Vector128<int>.Zero, l11 = Vector128<int>.Zero, h11 = Vector128<int>.Zero, l20 = Vector128<int>.Zero, h20 = Vector128<int>.Zero, l21 = Vector128<int>.Zero, h21 = Vector128<int>.Zero, l30 = Vector128<int>.Zero, h30 = Vector128<int>.Zero, l31 = Vector128<int>.Zero, h31 = Vector128<int>.Zero;
        for (int g = 0; g < groups; g++, a += 16, b += 32)
        {
            var av = Vector128.Load((int*)a);
            var b0 = Vector128.Load((sbyte*)b);
            var b1 = Vector128.Load((sbyte*)(b + 16));
                var a0 = Dup(av, 0);
                l00 = Sadalp(l00, MulLower(a0, b0));
                h00 = Sadalp(h00, MulUpper(a0, b0));
                l01 = Sadalp(l01, MulLower(a0, b1));
                h01 = Sadalp(h01, MulUpper(a0, b1));
                var a1 = Dup(av, 1);
                l10 = Sadalp(l10, MulLower(a1, b0));
                h10 = Sadalp(h10, MulUpper(a1, b0));
                l11 = Sadalp(l11, MulLower(a1, b1));
                h11 = Sadalp(h11, MulUpper(a1, b1));
                var a2 = Dup(av, 2);
                l20 = Sadalp(l20, MulLower(a2, b0));
                h20 = Sadalp(h20, MulUpper(a2, b0));
                l21 = Sadalp(l21, MulLower(a2, b1));
                h21 = Sadalp(h21, MulUpper(a2, b1));
                var a3 = Dup(av, 3);
                l30 = Sadalp(l30, MulLower(a3, b0));
                h30 = Sadalp(h30, MulUpper(a3, b0));
                l31 = Sadalp(l31, MulLower(a3, b1));
                h31 = Sadalp(h31, MulUpper(a3, b1));
        }
        Finish(l00, h00, c + 0);
        Finish(l01, h01, c + 4);
        Finish(l10, h10, c + 8);
        Finish(l11, h11, c + 12);
        Finish(l20, h20, c + 16);
        Finish(l21, h21, c + 20);
        Finish(l30, h30, c + 24);
        Finish(l31, h31, c + 28);
    }
}
