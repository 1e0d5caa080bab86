using EdgeNet.Kernels.Gemm;

namespace EdgeNet.Tests.Kernels;

/// <summary>
/// <see cref="F32GemmEpilogue.TransposeTile"/> (a finished GEMM tile stored transposed: the 8-row AVX-512 tile and
/// the 6-row AVX2 tile go through register transposes) against the index formula, for every tile height 1–8, widths
/// 1–20 (whole 8-column blocks and tails) and padded strides; nothing outside the destination block is written.
/// </summary>
public unsafe class TransposeTileTests
{
    [Fact]
    public void EveryTileShapeLandsTransposed()
    {
        var rng = new Random(5);
        for (int rows = 1; rows <= 8; rows++)
            for (int cols = 1; cols <= 20; cols++)
            {
                int lds = cols + rng.Next(0, 5), ldd = rows + rng.Next(0, 5);
                var src = new float[rows * lds];
                for (int i = 0; i < src.Length; i++) src[i] = (float)rng.NextDouble();
                var dst = new float[cols * ldd + 8];
                Array.Fill(dst, float.NaN);
                fixed (float* s = src, d = dst) F32GemmEpilogue.TransposeTile(s, lds, rows, cols, d, ldd);
                for (int c = 0; c < cols; c++)
                    for (int r = 0; r < ldd; r++)
                    {
                        float v = dst[c * ldd + r];
                        if (r < rows) Assert.True(v == src[r * lds + c], $"rows {rows} cols {cols}: [{c},{r}] = {v}, expected {src[r * lds + c]}");
                        else Assert.True(float.IsNaN(v), $"rows {rows} cols {cols}: wrote past row {rows} at [{c},{r}]");
                    }
                for (int i = cols * ldd; i < dst.Length; i++) Assert.True(float.IsNaN(dst[i]), $"rows {rows} cols {cols}: wrote past the block");
            }
    }
}
