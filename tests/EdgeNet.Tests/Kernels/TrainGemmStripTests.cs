using EdgeNet.Kernels;
using EdgeNet.Training;
using Xunit;

namespace EdgeNet.Tests.Kernels;

/// <summary>
/// <see cref="TrainGemm.RunStrips"/> (a first trained layer's weight gradient Xᵀ·dZ, strip by strip into the
/// optimizer) against <see cref="TrainGemm.Run"/> on the blocked driver: the same bits for every element, each row
/// handed over exactly once and in order, on every ISA path: odd M (edge strips of 1 row, where the AVX-512 tile
/// splits K into phases), N with a partial last panel, K beyond the microkernel's KC (several K blocks).
/// </summary>
public unsafe class TrainGemmStripTests
{
    public static TheoryData<Isa> Isas() => new(IsaSupport.Available);

    private sealed class Collect(float[] c, int n) : IGemmRowSink
    {
        public int NextRow { get; private set; }

        public void Rows(int row0, int rows, float* values, int stride)
        {
            Assert.Equal(NextRow, row0);
            Assert.True(rows >= 1 && stride >= n);
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < n; j++) c[(row0 + r) * n + j] = values[r * stride + j];
            NextRow = row0 + rows;
        }
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void StripsGiveTheBitsOfTheWholeProduct(Isa isa)
    {
        var rng = new Random(3);
        foreach (var (m, n, k) in new[] { (1, 1, 1), (7, 5, 3), (300, 40, 8), (9, 128, 32), (25, 37, 129), (17, 16, 300), (33, 70, 600), (8, 8, 0), (13, 64, 33), (1536, 128, 32), (5, 32, 700) })
        {
            // A is stored k×m (the layer input X, batch×features, read transposed), B k×n (dZ)
            var a = new float[k * m];
            var b = new float[k * n];
            for (int i = 0; i < a.Length; i++) a[i] = (float)rng.NextDouble() * 2 - 1;
            for (int i = 0; i < b.Length; i++) b[i] = (float)rng.NextDouble() * 2 - 1;
            var whole = new float[m * n];
            var strips = new float[m * n];
            Array.Fill(strips, float.NaN);
            var gemm = new TrainGemm(isa, m, n, k, transA: true, transB: false, accumulate: false, rowStrips: true);
            var sink = new Collect(strips, n);
            fixed (float* pa = a, pb = b, pc = whole)
            {
                gemm.Run(pa, pb, pc);
                gemm.PackA(pa);
                gemm.RunStrips(pb, sink);
            }
            Assert.Equal(m, sink.NextRow);
            for (int i = 0; i < whole.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(whole[i]) == BitConverter.SingleToInt32Bits(strips[i]),
                    $"{isa} m={m} n={n} k={k}: element {i} is {strips[i]}, the whole product has {whole[i]}");
            // and the product itself (double reference)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += (double)a[p * m + i] * b[p * n + j];
                    Assert.True(Math.Abs(s - strips[i * n + j]) <= 1e-4 * Math.Max(1, Math.Sqrt(k)), $"{isa} m={m} n={n} k={k} [{i},{j}]: {strips[i * n + j]} vs {s}");
                }
        }
    }

    [Fact]
    public void StripsNeedTheirOption()
    {
        var gemm = new TrainGemm(IsaSupport.Resolve(), 4, 4, 4, transA: true, transB: false, accumulate: false);
        Assert.Throws<InvalidOperationException>(() => gemm.RunStrips(null, new Collect(new float[16], 4)));
        Assert.Throws<ArgumentException>(() => new TrainGemm(IsaSupport.Resolve(), 4, 4, 4, false, transB: true, accumulate: false, rowStrips: true));
    }
}
