using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeNet.Kernels.Gemm;

/// <summary>
/// AVX2+FMA tile of 6×16: 12 ymm accumulators, 2 for the B row, 1 broadcast of A (15 of 16 registers).
/// Per k: two B loads, six broadcasts from the packed A panel, twelve FMAs (the two FMA ports stay busy).
/// </summary>
public sealed unsafe class F32Gemm6x16Avx2 : F32GemmMicrokernel
{
    public static readonly F32Gemm6x16Avx2 Instance = new();
    public override int MR => 6;
    public override int VectorBits => 256;
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TRows>(int kc, float* a, float* b, nint ldb, float* c, nint ldc, bool accumulate) where TRows : IRows
    {
        int mr = TRows.Value;
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        if (accumulate)
        {
            { c00 = Vector256.Load(c + 0 * ldc + 0); c01 = Vector256.Load(c + 0 * ldc + 8); }
            if (mr > 1) { c10 = Vector256.Load(c + 1 * ldc + 0); c11 = Vector256.Load(c + 1 * ldc + 8); }
            if (mr > 2) { c20 = Vector256.Load(c + 2 * ldc + 0); c21 = Vector256.Load(c + 2 * ldc + 8); }
            if (mr > 3) { c30 = Vector256.Load(c + 3 * ldc + 0); c31 = Vector256.Load(c + 3 * ldc + 8); }
            if (mr > 4) { c40 = Vector256.Load(c + 4 * ldc + 0); c41 = Vector256.Load(c + 4 * ldc + 8); }
            if (mr > 5) { c50 = Vector256.Load(c + 5 * ldc + 0); c51 = Vector256.Load(c + 5 * ldc + 8); }
        }
        if (mr == 1)
        {
            // One row has only NR/width dependent FMA chains: four k-phases hide the FMA latency (GEMV, batch-1 dense layers).
            Vector256<float> d0 = default, d1 = default, e0 = default, e1 = default, f0 = default, f1 = default;
            int p = 0;
            for (; p + 4 <= kc; p += 4, a += 4 * 6, b += 4 * ldb)
            {
                var a0 = Vector256.Create(a[0]);
                c00 = Fma.MultiplyAdd(Vector256.Load(b + 0), a0, c00);
                c01 = Fma.MultiplyAdd(Vector256.Load(b + 8), a0, c01);
                var a1 = Vector256.Create(a[6]);
                d0 = Fma.MultiplyAdd(Vector256.Load(b + 1 * ldb + 0), a1, d0);
                d1 = Fma.MultiplyAdd(Vector256.Load(b + 1 * ldb + 8), a1, d1);
                var a2 = Vector256.Create(a[12]);
                e0 = Fma.MultiplyAdd(Vector256.Load(b + 2 * ldb + 0), a2, e0);
                e1 = Fma.MultiplyAdd(Vector256.Load(b + 2 * ldb + 8), a2, e1);
                var a3 = Vector256.Create(a[18]);
                f0 = Fma.MultiplyAdd(Vector256.Load(b + 3 * ldb + 0), a3, f0);
                f1 = Fma.MultiplyAdd(Vector256.Load(b + 3 * ldb + 8), a3, f1);
            }
            for (; p < kc; p++, a += 6, b += ldb)
            {
                var a0 = Vector256.Create(a[0]);
                c00 = Fma.MultiplyAdd(Vector256.Load(b + 0), a0, c00);
                c01 = Fma.MultiplyAdd(Vector256.Load(b + 8), a0, c01);
            }
            c00 += d0 + (e0 + f0);
            c01 += d1 + (e1 + f1);
        }
        else
        {
            for (int p = 0; p < kc; p++, a += 6, b += ldb)
            {
                var b0 = Vector256.Load(b + 0);
                var b1 = Vector256.Load(b + 8);
                { var a0 = Vector256.Create(a[0]); c00 = Fma.MultiplyAdd(b0, a0, c00); c01 = Fma.MultiplyAdd(b1, a0, c01); }
                if (mr > 1) { var a1 = Vector256.Create(a[1]); c10 = Fma.MultiplyAdd(b0, a1, c10); c11 = Fma.MultiplyAdd(b1, a1, c11); }
                if (mr > 2) { var a2 = Vector256.Create(a[2]); c20 = Fma.MultiplyAdd(b0, a2, c20); c21 = Fma.MultiplyAdd(b1, a2, c21); }
                if (mr > 3) { var a3 = Vector256.Create(a[3]); c30 = Fma.MultiplyAdd(b0, a3, c30); c31 = Fma.MultiplyAdd(b1, a3, c31); }
                if (mr > 4) { var a4 = Vector256.Create(a[4]); c40 = Fma.MultiplyAdd(b0, a4, c40); c41 = Fma.MultiplyAdd(b1, a4, c41); }
                if (mr > 5) { var a5 = Vector256.Create(a[5]); c50 = Fma.MultiplyAdd(b0, a5, c50); c51 = Fma.MultiplyAdd(b1, a5, c51); }
            }
        }
        { c00.Store(c + 0 * ldc + 0); c01.Store(c + 0 * ldc + 8); }
        if (mr > 1) { c10.Store(c + 1 * ldc + 0); c11.Store(c + 1 * ldc + 8); }
        if (mr > 2) { c20.Store(c + 2 * ldc + 0); c21.Store(c + 2 * ldc + 8); }
        if (mr > 3) { c30.Store(c + 3 * ldc + 0); c31.Store(c + 3 * ldc + 8); }
        if (mr > 4) { c40.Store(c + 4 * ldc + 0); c41.Store(c + 4 * ldc + 8); }
        if (mr > 5) { c50.Store(c + 5 * ldc + 0); c51.Store(c + 5 * ldc + 8); }
    }
}
