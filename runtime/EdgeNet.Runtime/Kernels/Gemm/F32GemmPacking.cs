using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
namespace EdgeNet.Kernels.Gemm;

/// <summary>
/// Packed operand layouts of the blocked GEMM. A (the left, M×K) is stored as ⌈M/MR⌉ panels, each K groups of MR
/// floats (one per row, rows past M zero): the microkernel reads it strictly sequentially. B (the right, K×N) is
/// stored as ⌈N/NR⌉ panels, each K rows of NR floats (columns past N zero). A K block [k0, k0+kc) of a panel starts
/// at k0·MR (resp. k0·NR), so one packing serves every K block.
/// </summary>
public static unsafe class F32GemmPacking
{
    public static int PackedASize(int m, int k, int mr) => (m + mr - 1) / mr * mr * k;
    public static int PackedBSize(int k, int n, int nr) => (n + nr - 1) / nr * nr * k;

    /// <summary>Packs alpha·A (A[i,p] = src[i·lda + p], or src[p·lda + i] when transposed) into MR panels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA(float* src, int m, int k, nint lda, bool transposed, float alpha, int mr, float* dst)
    {
        if (!transposed && alpha == 1 && mr == 8)
        {
            // a panel is the transpose of 8 stored rows: 8×8 register transposes where the CPU has them
            for (int i0 = 0; i0 < m; i0 += mr, dst += (nint)mr * k)
            {
                int rows = Math.Min(mr, m - i0);
                F32GemmEpilogue.TransposeTile(src + i0 * lda, lda, rows, k, dst, mr);
                if (rows < mr)
                    for (int p = 0; p < k; p++)
                        for (int i = rows; i < mr; i++) dst[(nint)p * mr + i] = 0;
            }
            return;
        }
        if (!transposed && alpha == 1 && mr >= 4 && (Sse.IsSupported || AdvSimd.Arm64.IsSupported))
        {
            // MR 6 (AVX2, NEON): 4×4 register transposes of rows [0, 4) of each full panel, rows 4.. one float at a time
            int full = m / mr;
            for (int panel = 0; panel < full; panel++, dst += (nint)mr * k)
            {
                float* rows = src + (nint)panel * mr * lda;
                int p = 0;
                for (; p + 4 <= k; p += 4)
                {
                    float* d = dst + (nint)p * mr;
                    for (int r0 = 0; r0 + 4 <= mr; r0 += 4)
                    {
                        float* s = rows + r0 * lda + p;
                        Transpose4x4(Vector128.Load(s), Vector128.Load(s + lda), Vector128.Load(s + 2 * lda), Vector128.Load(s + 3 * lda),
                            out var o0, out var o1, out var o2, out var o3);
                        Vector128.Store(o0, d + r0);
                        Vector128.Store(o1, d + mr + r0);
                        Vector128.Store(o2, d + 2 * mr + r0);
                        Vector128.Store(o3, d + 3 * mr + r0);
                    }
                    for (int r = mr / 4 * 4; r < mr; r++)
                        for (int q = 0; q < 4; q++) d[q * mr + r] = rows[r * lda + p + q];
                }
                for (; p < k; p++)
                    for (int r = 0; r < mr; r++) dst[(nint)p * mr + r] = rows[r * lda + p];
            }
            src += (nint)full * mr * lda;
            m -= full * mr;
            if (m == 0) return;
        }
        if (transposed && alpha == 1 && Vector128.IsHardwareAccelerated)
        {
            // a panel row is mr consecutive stored floats: vector copies (a trained layer's weight gradient Xᵀ·dZ packs
            // its whole input batch this way every step). Stored rows are taken 4 at a time, so each panel gets 4·mr
            // contiguous floats, whole cache lines: one row at a time wrote each line in two halves with an eviction
            // in between (panels a power of two apart share few cache sets)
            int done = m / mr * mr;
            nint panel = (nint)mr * k;
            for (int p0 = 0; p0 < k; p0 += 4)
            {
                int steps = Math.Min(4, k - p0);
                float* s = src + p0 * lda, d = dst + (nint)p0 * mr;
                for (int i0 = 0; i0 < done; i0 += mr, d += panel)
                    for (int q = 0; q < steps; q++)
                    {
                        float* sq = s + q * lda + i0, dq = d + q * mr;
                        if (mr == 8 && Vector256.IsHardwareAccelerated) { Vector256.Store(Vector256.Load(sq), dq); continue; }
                        int i = 0;
                        for (; i + 4 <= mr; i += 4) Vector128.Store(Vector128.Load(sq + i), dq + i);
                        for (; i < mr; i++) dq[i] = sq[i];
                    }
            }
            dst += panel * (done / mr);
            if (done == m) return;
            src += done;
            m -= done;
        }
        for (int i0 = 0; i0 < m; i0 += mr)
        {
            int rows = Math.Min(mr, m - i0);
            for (int p = 0; p < k; p++, dst += mr)
            {
                int i = 0;
                if (transposed)
                {
                    float* s = src + p * lda + i0;
                    for (; i < rows; i++) dst[i] = alpha * s[i];
                }
                else
                {
                    float* s = src + i0 * lda + p;
                    for (; i < rows; i++) dst[i] = alpha * s[i * lda];
                }
                for (; i < mr; i++) dst[i] = 0;
            }
        }
    }

    /// <summary>o_q = (r0[q], r1[q], r2[q], r3[q]): the transpose of four rows of four.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4x4(Vector128<float> r0, Vector128<float> r1, Vector128<float> r2, Vector128<float> r3,
        out Vector128<float> o0, out Vector128<float> o1, out Vector128<float> o2, out Vector128<float> o3)
    {
        if (Sse.IsSupported)
        {
            var t0 = Sse.UnpackLow(r0, r1); var t1 = Sse.UnpackLow(r2, r3);   // a0 b0 a1 b1 | c0 d0 c1 d1
            var t2 = Sse.UnpackHigh(r0, r1); var t3 = Sse.UnpackHigh(r2, r3); // a2 b2 a3 b3 | c2 d2 c3 d3
            o0 = Sse.MoveLowToHigh(t0, t1); o1 = Sse.MoveHighToLow(t1, t0);
            o2 = Sse.MoveLowToHigh(t2, t3); o3 = Sse.MoveHighToLow(t3, t2);
        }
        else
        {
            var t0 = AdvSimd.Arm64.ZipLow(r0, r1).AsDouble(); var t1 = AdvSimd.Arm64.ZipLow(r2, r3).AsDouble();
            var t2 = AdvSimd.Arm64.ZipHigh(r0, r1).AsDouble(); var t3 = AdvSimd.Arm64.ZipHigh(r2, r3).AsDouble();
            o0 = AdvSimd.Arm64.ZipLow(t0, t1).AsSingle(); o1 = AdvSimd.Arm64.ZipHigh(t0, t1).AsSingle();
            o2 = AdvSimd.Arm64.ZipLow(t2, t3).AsSingle(); o3 = AdvSimd.Arm64.ZipHigh(t2, t3).AsSingle();
        }
    }

    /// <summary>Packs B (B[p,j] = src[p·ldb + j], or src[j·ldb + p] when transposed) into NR panels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB(float* src, int k, int n, nint ldb, bool transposed, int nr, float* dst)
    {
        if (transposed)
        {
            // each panel is the transpose of NR stored rows: 8 rows at a time through 8×8 register transposes where
            // the CPU has them (a strided scalar gather here was a fifth of a training step that repacks its weights)
            for (int j0 = 0; j0 < n; j0 += nr, dst += (nint)nr * k)
            {
                int cols = Math.Min(nr, n - j0);
                for (int jb = 0; jb < cols; jb += 8)
                    F32GemmEpilogue.TransposeTile(src + (j0 + jb) * ldb, ldb, Math.Min(8, cols - jb), k, dst + jb, nr);
                if (cols < nr)
                    for (int p = 0; p < k; p++)
                        for (int j = cols; j < nr; j++) dst[(nint)p * nr + j] = 0;
            }
            return;
        }
        for (int j0 = 0; j0 < n; j0 += nr)
        {
            int cols = Math.Min(nr, n - j0);
            for (int p = 0; p < k; p++, dst += nr)
            {
                int j = 0;
                float* s = src + p * ldb + j0;
                for (; j < cols; j++) dst[j] = s[j];
                for (; j < nr; j++) dst[j] = 0;
            }
        }
    }

    /// <summary>Packs rows [k0, k0+kc) of the columns [j0, j0+cols) (cols ≤ NR) of a row-major B into one panel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackBTail(float* src, nint ldb, int k0, int kc, int j0, int cols, int nr, float* dst)
    {
        for (int p = 0; p < kc; p++, dst += nr)
        {
            float* s = src + (k0 + p) * ldb + j0;
            int j = 0;
            for (; j < cols; j++) dst[j] = s[j];
            for (; j < nr; j++) dst[j] = 0;
        }
    }
}
