namespace EdgeNet.Kernels.Gemm;

/// <summary>
/// C[M×N] (+)= A[M×K] · B[K×N], row-major with leading dimensions, the scalar oracle. The i-k-j loop order streams
/// B and C rows contiguously.
/// </summary>
public static class F32GemmReference
{
    public static void Run(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
    {
        for (int i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            if (!accumulate) row.Clear();
            var aRow = a.Slice(i * lda, k);
            for (int p = 0; p < k; p++)
            {
                float av = aRow[p];
                var bRow = b.Slice(p * ldb, n);
                for (int j = 0; j < n; j++) row[j] += av * bRow[j];
            }
        }
    }
}
