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
}
