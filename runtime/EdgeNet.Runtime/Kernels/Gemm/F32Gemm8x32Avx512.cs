using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgeNet.Kernels.Gemm;

/// <summary>
/// AVX-512 tile of 8×32: 16 zmm accumulators, 2 for the B row, 1 broadcast of A.
/// Written with the portable Vector512 API (which compiles to vfmadd231ps on AVX-512 hardware), so its logic is
/// also testable, emulated, on CPUs without AVX-512. 8 rows rather than 14: no AVX-512 machine was available to
/// measure on, and 8×32 keeps the edge-tile waste low for the channel counts of the target models.
/// </summary>
public sealed unsafe class F32Gemm8x32Avx512 : F32GemmMicrokernel
{
    public static readonly F32Gemm8x32Avx512 Instance = new();
    public override int MR => 8;
    public override int VectorBits => 512;
    public override int NR => 32;

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
            case 7: Tile<Rows7>(kc, a, b, ldb, c, ldc, accumulate); break;
            case 8: Tile<Rows8>(kc, a, b, ldb, c, ldc, accumulate); break;
            default: throw new ArgumentOutOfRangeException(nameof(mr));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TRows>(int kc, float* a, float* b, nint ldb, float* c, nint ldc, bool accumulate) where TRows : IRows
    {
        int mr = TRows.Value;
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        if (accumulate)
        {
            { c00 = Vector512.Load(c + 0 * ldc + 0); c01 = Vector512.Load(c + 0 * ldc + 16); }
            if (mr > 1) { c10 = Vector512.Load(c + 1 * ldc + 0); c11 = Vector512.Load(c + 1 * ldc + 16); }
            if (mr > 2) { c20 = Vector512.Load(c + 2 * ldc + 0); c21 = Vector512.Load(c + 2 * ldc + 16); }
            if (mr > 3) { c30 = Vector512.Load(c + 3 * ldc + 0); c31 = Vector512.Load(c + 3 * ldc + 16); }
            if (mr > 4) { c40 = Vector512.Load(c + 4 * ldc + 0); c41 = Vector512.Load(c + 4 * ldc + 16); }
            if (mr > 5) { c50 = Vector512.Load(c + 5 * ldc + 0); c51 = Vector512.Load(c + 5 * ldc + 16); }
            if (mr > 6) { c60 = Vector512.Load(c + 6 * ldc + 0); c61 = Vector512.Load(c + 6 * ldc + 16); }
            if (mr > 7) { c70 = Vector512.Load(c + 7 * ldc + 0); c71 = Vector512.Load(c + 7 * ldc + 16); }
        }
        if (mr == 1)
        {
            // One row has only NR/width dependent FMA chains: four k-phases hide the FMA latency (GEMV, batch-1 dense layers).
            Vector512<float> d0 = default, d1 = default, e0 = default, e1 = default, f0 = default, f1 = default;
            int p = 0;
            for (; p + 4 <= kc; p += 4, a += 4 * 8, b += 4 * ldb)
            {
                var a0 = Vector512.Create(a[0]);
                c00 = Vector512.FusedMultiplyAdd(Vector512.Load(b + 0), a0, c00);
                c01 = Vector512.FusedMultiplyAdd(Vector512.Load(b + 16), a0, c01);
                var a1 = Vector512.Create(a[8]);
                d0 = Vector512.FusedMultiplyAdd(Vector512.Load(b + 1 * ldb + 0), a1, d0);
                d1 = Vector512.FusedMultiplyAdd(Vector512.Load(b + 1 * ldb + 16), a1, d1);
                var a2 = Vector512.Create(a[16]);
                e0 = Vector512.FusedMultiplyAdd(Vector512.Load(b + 2 * ldb + 0), a2, e0);
                e1 = Vector512.FusedMultiplyAdd(Vector512.Load(b + 2 * ldb + 16), a2, e1);
                var a3 = Vector512.Create(a[24]);
                f0 = Vector512.FusedMultiplyAdd(Vector512.Load(b + 3 * ldb + 0), a3, f0);
                f1 = Vector512.FusedMultiplyAdd(Vector512.Load(b + 3 * ldb + 16), a3, f1);
            }
            for (; p < kc; p++, a += 8, b += ldb)
            {
                var a0 = Vector512.Create(a[0]);
                c00 = Vector512.FusedMultiplyAdd(Vector512.Load(b + 0), a0, c00);
                c01 = Vector512.FusedMultiplyAdd(Vector512.Load(b + 16), a0, c01);
            }
            c00 += d0 + (e0 + f0);
            c01 += d1 + (e1 + f1);
        }
        else
        {
            for (int p = 0; p < kc; p++, a += 8, b += ldb)
            {
                var b0 = Vector512.Load(b + 0);
                var b1 = Vector512.Load(b + 16);
                { var a0 = Vector512.Create(a[0]); c00 = Vector512.FusedMultiplyAdd(b0, a0, c00); c01 = Vector512.FusedMultiplyAdd(b1, a0, c01); }
                if (mr > 1) { var a1 = Vector512.Create(a[1]); c10 = Vector512.FusedMultiplyAdd(b0, a1, c10); c11 = Vector512.FusedMultiplyAdd(b1, a1, c11); }
                if (mr > 2) { var a2 = Vector512.Create(a[2]); c20 = Vector512.FusedMultiplyAdd(b0, a2, c20); c21 = Vector512.FusedMultiplyAdd(b1, a2, c21); }
                if (mr > 3) { var a3 = Vector512.Create(a[3]); c30 = Vector512.FusedMultiplyAdd(b0, a3, c30); c31 = Vector512.FusedMultiplyAdd(b1, a3, c31); }
                if (mr > 4) { var a4 = Vector512.Create(a[4]); c40 = Vector512.FusedMultiplyAdd(b0, a4, c40); c41 = Vector512.FusedMultiplyAdd(b1, a4, c41); }
                if (mr > 5) { var a5 = Vector512.Create(a[5]); c50 = Vector512.FusedMultiplyAdd(b0, a5, c50); c51 = Vector512.FusedMultiplyAdd(b1, a5, c51); }
                if (mr > 6) { var a6 = Vector512.Create(a[6]); c60 = Vector512.FusedMultiplyAdd(b0, a6, c60); c61 = Vector512.FusedMultiplyAdd(b1, a6, c61); }
                if (mr > 7) { var a7 = Vector512.Create(a[7]); c70 = Vector512.FusedMultiplyAdd(b0, a7, c70); c71 = Vector512.FusedMultiplyAdd(b1, a7, c71); }
            }
        }
        { c00.Store(c + 0 * ldc + 0); c01.Store(c + 0 * ldc + 16); }
        if (mr > 1) { c10.Store(c + 1 * ldc + 0); c11.Store(c + 1 * ldc + 16); }
        if (mr > 2) { c20.Store(c + 2 * ldc + 0); c21.Store(c + 2 * ldc + 16); }
        if (mr > 3) { c30.Store(c + 3 * ldc + 0); c31.Store(c + 3 * ldc + 16); }
        if (mr > 4) { c40.Store(c + 4 * ldc + 0); c41.Store(c + 4 * ldc + 16); }
        if (mr > 5) { c50.Store(c + 5 * ldc + 0); c51.Store(c + 5 * ldc + 16); }
        if (mr > 6) { c60.Store(c + 6 * ldc + 0); c61.Store(c + 6 * ldc + 16); }
        if (mr > 7) { c70.Store(c + 7 * ldc + 0); c71.Store(c + 7 * ldc + 16); }
    }
}
