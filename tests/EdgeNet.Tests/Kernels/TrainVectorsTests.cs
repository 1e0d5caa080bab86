using EdgeNet.Training;

namespace EdgeNet.Tests.Kernels;

/// <summary>The training step's vector checks against their definitions, on the vector paths the CPU has (NEON under
/// qemu): lengths 0–40 cover every vector body and tail.</summary>
public class TrainVectorsTests
{
    [Fact]
    public void MaxAbsIsTheLargestMagnitudeOrInfinityWhenAValueIsNotFinite()
    {
        var rng = new Random(3);
        for (int n = 0; n <= 40; n++)
        {
            var x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 200 - 100);
            float expected = n == 0 ? 0 : x.Max(Math.Abs);
            Assert.Equal(expected, TrainVectors.MaxAbs(x));
            for (int bad = 0; bad < n; bad++)
                foreach (float v in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
                {
                    var y = (float[])x.Clone();
                    y[bad] = v;
                    Assert.True(float.IsPositiveInfinity(TrainVectors.MaxAbs(y)), $"n={n}: {v} at {bad} gave {TrainVectors.MaxAbs(y)}");
                }
        }
    }

    [Fact]
    public void GatherRowsReturnsTheMaxAbsOfWhatItCopied()
    {
        var rng = new Random(5);
        foreach (int size in new[] { 1, 7, 16, 17, 40, 1536 })
        {
            var data = new float[9 * size];
            for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 200 - 100);
            int[] indices = [4, 0, 8, 4];
            var dst = new float[indices.Length * size];
            float max = TrainVectors.GatherRows(data, indices, size, dst);
            for (int i = 0; i < indices.Length; i++) Assert.Equal(data.AsSpan(indices[i] * size, size).ToArray(), dst.AsSpan(i * size, size).ToArray());
            Assert.Equal(TrainVectors.MaxAbs(dst), max);
            // a row not copied does not count; a non-finite value in a copied row (body or tail) does
            data[1 * size] = float.PositiveInfinity;
            Assert.Equal(max, TrainVectors.GatherRows(data, indices, size, dst));
            foreach (float bad in new[] { float.NaN, float.NegativeInfinity })
            {
                data[8 * size + size - 1] = bad;
                Assert.True(float.IsPositiveInfinity(TrainVectors.GatherRows(data, indices, size, dst)), $"size {size}: {bad}");
                data[8 * size + size - 1] = 1;
            }
        }
    }
}
