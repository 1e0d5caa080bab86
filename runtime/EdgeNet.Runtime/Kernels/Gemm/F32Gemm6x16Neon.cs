using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace EdgeNet.Kernels.Gemm;

/// <summary>
/// NEON (AdvSimd.Arm64) tile of 6×16: 24 q-register accumulators, 4 for the B row, and the 6 A values of one k
/// loaded as one q + one d register and used lane by lane (FMLA by element), 30 of 32 registers.
/// On other CPUs the lane FMA falls back to the portable Vector128 API, so the tile logic is testable anywhere.
/// </summary>
public sealed unsafe class F32Gemm6x16Neon : F32GemmMicrokernel
{
    public static readonly F32Gemm6x16Neon Instance = new();
    public override int MR => 6;
    public override int VectorBits => 128;
    public override int NR => 16;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Run(int mr, int kc, float* a, float* b, nint ldb, float* c, nint ldc, bool accumulate)
    {
        switch (mr)
        {
            case 1: Tile<Rows1>(kc, a, b, ldb, c, ldc, accumulate); break;
            case 2: Tile<Rows2>(kc, a, b, ldb, c, ldc, accumulate); break;
            case 3: Tile<Rows3>(kc, a, b, ldb, c, ldc, accumulate); break;
            case 4: Tile<Rows4>(kc, a, b, ldb, c, ldc, accumulate); break;
            case 5: Tile<Rows5>(kc, a, b, ldb, c, ldc, accumulate); break;
            case 6: Tile<Rows6>(kc, a, b, ldb, c, ldc, accumulate); break;
            default: throw new ArgumentOutOfRangeException(nameof(mr));
        }
    }

    /// <summary>acc + b · a[lane].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Fma(Vector128<float> acc, Vector128<float> b, Vector128<float> a, [ConstantExpected(Max = (byte)3)] byte lane) =>
        AdvSimd.Arm64.IsSupported
            ? AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(acc, b, a, lane)
            : Vector128.FusedMultiplyAdd(b, Vector128.Create(a.GetElement(lane)), acc);

    /// <summary>acc + b · a[lane] with a 2-lane A register.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Fma(Vector128<float> acc, Vector128<float> b, Vector64<float> a, [ConstantExpected(Max = (byte)1)] byte lane) =>
        AdvSimd.Arm64.IsSupported
            ? AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(acc, b, a, lane)
            : Vector128.FusedMultiplyAdd(b, Vector128.Create(a.GetElement(lane)), acc);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TRows>(int kc, float* a, float* b, nint ldb, float* c, nint ldc, bool accumulate) where TRows : IRows
    {
        int mr = TRows.Value;
        Vector128<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default, c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default, c40 = default, c41 = default, c42 = default, c43 = default, c50 = default, c51 = default, c52 = default, c53 = default;
        if (accumulate)
        {
            { c00 = Vector128.Load(c + 0 * ldc + 0); c01 = Vector128.Load(c + 0 * ldc + 4); c02 = Vector128.Load(c + 0 * ldc + 8); c03 = Vector128.Load(c + 0 * ldc + 12); }
            if (mr > 1) { c10 = Vector128.Load(c + 1 * ldc + 0); c11 = Vector128.Load(c + 1 * ldc + 4); c12 = Vector128.Load(c + 1 * ldc + 8); c13 = Vector128.Load(c + 1 * ldc + 12); }
            if (mr > 2) { c20 = Vector128.Load(c + 2 * ldc + 0); c21 = Vector128.Load(c + 2 * ldc + 4); c22 = Vector128.Load(c + 2 * ldc + 8); c23 = Vector128.Load(c + 2 * ldc + 12); }
            if (mr > 3) { c30 = Vector128.Load(c + 3 * ldc + 0); c31 = Vector128.Load(c + 3 * ldc + 4); c32 = Vector128.Load(c + 3 * ldc + 8); c33 = Vector128.Load(c + 3 * ldc + 12); }
            if (mr > 4) { c40 = Vector128.Load(c + 4 * ldc + 0); c41 = Vector128.Load(c + 4 * ldc + 4); c42 = Vector128.Load(c + 4 * ldc + 8); c43 = Vector128.Load(c + 4 * ldc + 12); }
            if (mr > 5) { c50 = Vector128.Load(c + 5 * ldc + 0); c51 = Vector128.Load(c + 5 * ldc + 4); c52 = Vector128.Load(c + 5 * ldc + 8); c53 = Vector128.Load(c + 5 * ldc + 12); }
        }
        for (int p = 0; p < kc; p++, a += 6, b += ldb)
        {
            var b0 = Vector128.Load(b + 0);
            var b1 = Vector128.Load(b + 4);
            var b2 = Vector128.Load(b + 8);
            var b3 = Vector128.Load(b + 12);
            var a0123 = Vector128.Load(a);
            // rows 4 and 5 are loaded only when used (panels are always MR = 6 floats per k, zero padded)
            var a45 = mr > 4 ? Vector64.Load(a + 4) : default;
            { c00 = Fma(c00, b0, a0123, 0); c01 = Fma(c01, b1, a0123, 0); c02 = Fma(c02, b2, a0123, 0); c03 = Fma(c03, b3, a0123, 0); }
            if (mr > 1) { c10 = Fma(c10, b0, a0123, 1); c11 = Fma(c11, b1, a0123, 1); c12 = Fma(c12, b2, a0123, 1); c13 = Fma(c13, b3, a0123, 1); }
            if (mr > 2) { c20 = Fma(c20, b0, a0123, 2); c21 = Fma(c21, b1, a0123, 2); c22 = Fma(c22, b2, a0123, 2); c23 = Fma(c23, b3, a0123, 2); }
            if (mr > 3) { c30 = Fma(c30, b0, a0123, 3); c31 = Fma(c31, b1, a0123, 3); c32 = Fma(c32, b2, a0123, 3); c33 = Fma(c33, b3, a0123, 3); }
            if (mr > 4) { c40 = Fma(c40, b0, a45, 0); c41 = Fma(c41, b1, a45, 0); c42 = Fma(c42, b2, a45, 0); c43 = Fma(c43, b3, a45, 0); }
            if (mr > 5) { c50 = Fma(c50, b0, a45, 1); c51 = Fma(c51, b1, a45, 1); c52 = Fma(c52, b2, a45, 1); c53 = Fma(c53, b3, a45, 1); }
        }
        { c00.Store(c + 0 * ldc + 0); c01.Store(c + 0 * ldc + 4); c02.Store(c + 0 * ldc + 8); c03.Store(c + 0 * ldc + 12); }
        if (mr > 1) { c10.Store(c + 1 * ldc + 0); c11.Store(c + 1 * ldc + 4); c12.Store(c + 1 * ldc + 8); c13.Store(c + 1 * ldc + 12); }
        if (mr > 2) { c20.Store(c + 2 * ldc + 0); c21.Store(c + 2 * ldc + 4); c22.Store(c + 2 * ldc + 8); c23.Store(c + 2 * ldc + 12); }
        if (mr > 3) { c30.Store(c + 3 * ldc + 0); c31.Store(c + 3 * ldc + 4); c32.Store(c + 3 * ldc + 8); c33.Store(c + 3 * ldc + 12); }
        if (mr > 4) { c40.Store(c + 4 * ldc + 0); c41.Store(c + 4 * ldc + 4); c42.Store(c + 4 * ldc + 8); c43.Store(c + 4 * ldc + 12); }
        if (mr > 5) { c50.Store(c + 5 * ldc + 0); c51.Store(c + 5 * ldc + 4); c52.Store(c + 5 * ldc + 8); c53.Store(c + 5 * ldc + 12); }
    }
}
