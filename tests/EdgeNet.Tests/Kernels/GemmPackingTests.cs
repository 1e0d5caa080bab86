using EdgeNet.Kernels.Gemm;
using Xunit;

namespace EdgeNet.Tests.Kernels;

/// <summary>
/// <see cref="F32GemmPacking.PackA"/> and <see cref="F32GemmPacking.PackB"/> against their definitions: panel j0/NR, row
/// p, lane j holds B[p, j0 + j] (zero past N); panel i0/MR, step p, lane i holds alpha·A[i0 + i, p] (zero past M); for
/// operands stored row-major and transposed (the paths that transpose stored rows run 8×8 register transposes on AVX).
/// </summary>
public unsafe class GemmPackingTests
{
    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    [InlineData(32)]
    public void PackBMatchesItsDefinition(int nr)
    {
        var rng = new Random(nr);
        foreach (var (k, n) in new[] { (1, 1), (7, 5), (8, 8), (9, 17), (16, 33), (31, 8), (64, 40), (1536, 128), (129, 100), (3, 65) })
            foreach (bool transposed in new[] { false, true })
            {
                int ld = (transposed ? k : n) + rng.Next(0, 3);
                var src = new float[(transposed ? n : k) * ld];
                for (int i = 0; i < src.Length; i++) src[i] = (float)rng.NextDouble() - 0.5f;
                var dst = new float[F32GemmPacking.PackedBSize(k, n, nr)];
                Array.Fill(dst, float.NaN); // every slot must be written
                fixed (float* s = src, d = dst) F32GemmPacking.PackB(s, k, n, ld, transposed, nr, d);
                for (int j0 = 0; j0 < n; j0 += nr)
                    for (int p = 0; p < k; p++)
                        for (int j = 0; j < nr; j++)
                        {
                            float expected = j0 + j >= n ? 0f : transposed ? src[(j0 + j) * ld + p] : src[p * ld + j0 + j];
                            float actual = dst[(j0 / nr) * nr * k + p * nr + j];
                            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual),
                                $"k={k} n={n} nr={nr} transposed={transposed}: panel {j0 / nr} row {p} lane {j} is {actual}, expected {expected}");
                        }
            }
    }

    [Theory]
    [InlineData(4)]
    [InlineData(6)]
    [InlineData(8)]
    public void PackAMatchesItsDefinition(int mr)
    {
        var rng = new Random(mr);
        foreach (var (m, k) in new[] { (1, 1), (5, 7), (8, 8), (17, 9), (32, 1536), (33, 16), (100, 129), (65, 3) })
            foreach (bool transposed in new[] { false, true })
                foreach (float alpha in new[] { 1f, 0.5f })
                {
                    int ld = (transposed ? m : k) + rng.Next(0, 3);
                    var src = new float[(transposed ? k : m) * ld];
                    for (int i = 0; i < src.Length; i++) src[i] = (float)rng.NextDouble() - 0.5f;
                    var dst = new float[F32GemmPacking.PackedASize(m, k, mr)];
                    Array.Fill(dst, float.NaN);
                    fixed (float* s = src, d = dst) F32GemmPacking.PackA(s, m, k, ld, transposed, alpha, mr, d);
                    for (int i0 = 0; i0 < m; i0 += mr)
                        for (int p = 0; p < k; p++)
                            for (int i = 0; i < mr; i++)
                            {
                                float expected = i0 + i >= m ? 0f : alpha * (transposed ? src[p * ld + i0 + i] : src[(i0 + i) * ld + p]);
                                float actual = dst[(i0 / mr) * mr * k + p * mr + i];
                                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual),
                                    $"m={m} k={k} mr={mr} transposed={transposed} alpha={alpha}: panel {i0 / mr} step {p} lane {i} is {actual}, expected {expected}");
                            }
                }
    }
}
