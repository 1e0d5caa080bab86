using EdgeNet.Data;

namespace EdgeNet.Tests.Data;

public class AugmentationTests
{
    private static float[] Ramp(int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (i * 37 % 101) / 100f;
        return x;
    }

    [Fact]
    public void ImageAugmentationIsSeededAndDeterministic()
    {
        var aug = new ImageAugmentation();
        var a = Ramp(3 * 12 * 10);
        var b = Ramp(3 * 12 * 10);
        var c = Ramp(3 * 12 * 10);
        aug.Apply(a, 3, 12, 10, new Random(7));
        aug.Apply(b, 3, 12, 10, new Random(7));
        aug.Apply(c, 3, 12, 10, new Random(8));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.NotEqual(Ramp(360), a);
        foreach (var v in a) Assert.InRange(v, 0f, 1f);
    }

    [Fact]
    public void FlipMirrorsEachRowAndOtherStepsCanBeOff()
    {
        var x = Ramp(2 * 3 * 5);
        var y = (float[])x.Clone();
        new ImageAugmentation { FlipProbability = 1, MaxCropFraction = 0, MaxBrightness = 0 }.Apply(y, 2, 3, 5, new Random(1));
        for (int c = 0; c < 2; c++) for (int r = 0; r < 3; r++) for (int i = 0; i < 5; i++)
                    Assert.Equal(x[(c * 3 + r) * 5 + i], y[(c * 3 + r) * 5 + 4 - i]);
        var z = (float[])x.Clone();
        new ImageAugmentation { FlipProbability = 0, MaxCropFraction = 0, MaxBrightness = 0 }.Apply(z, 2, 3, 5, new Random(1));
        Assert.Equal(x, z);
    }

    [Fact]
    public void BrightnessScalesWithinItsRangeAndCropStaysInTheImage()
    {
        var x = new float[4 * 4];
        Array.Fill(x, 0.5f);
        for (int seed = 0; seed < 20; seed++)
        {
            var y = (float[])x.Clone();
            new ImageAugmentation { FlipProbability = 0, MaxCropFraction = 0.3, MaxBrightness = 0.2 }.Apply(y, 1, 4, 4, new Random(seed));
            foreach (var v in y) Assert.InRange(v, 0.4f - 1e-6f, 0.6f + 1e-6f); // a flat image stays flat under any crop
            Assert.All(y, v => Assert.Equal(y[0], v, 6));
        }
        // A crop of a horizontal ramp keeps it increasing and inside the original range.
        var ramp = new float[] { 0f, 0.25f, 0.5f, 0.75f, 1f };
        new ImageAugmentation { FlipProbability = 0, MaxCropFraction = 0.4, MaxBrightness = 0 }.Apply(ramp, 1, 1, 5, new Random(3));
        for (int i = 1; i < 5; i++) Assert.True(ramp[i] >= ramp[i - 1]);
        Assert.True(ramp[4] - ramp[0] < 1f, "the crop must zoom in");
    }

    [Fact]
    public void AudioGainAndShiftAreExact()
    {
        var x = new float[] { 1, 2, 3, 4, 5 };
        var y = (float[])x.Clone();
        new AudioAugmentation { MaxGainDb = 0, MaxShiftSamples = 0 }.Apply(y, new Random(1));
        Assert.Equal(x, y);
        // With a fixed seed, the drawn gain and shift are those of the same draws from Random(seed).
        var r = new Random(5);
        double gainDb = (r.NextDouble() * 2 - 1) * 6;
        int shift = (int)Math.Round((r.NextDouble() * 2 - 1) * 2);
        var z = (float[])x.Clone();
        new AudioAugmentation { MaxGainDb = 6, MaxShiftSamples = 2 }.Apply(z, new Random(5));
        float g = (float)Math.Pow(10, gainDb / 20);
        for (int i = 0; i < 5; i++)
        {
            int src = i - shift;
            float expected = src is >= 0 and < 5 ? x[src] * g : 0f;
            Assert.Equal(expected, z[i], 5);
        }
    }

    [Fact]
    public void NoiseIsMixedAtTheRequestedSnrWithoutAllocating()
    {
        var signal = new float[4000];
        for (int i = 0; i < signal.Length; i++) signal[i] = (float)Math.Sin(i * 0.05);
        var noiseRng = new Random(11);
        var noise = new float[1500];
        for (int i = 0; i < noise.Length; i++) noise[i] = (float)(noiseRng.NextDouble() * 2 - 1);
        var aug = new AudioAugmentation { MaxGainDb = 0, MaxShiftSamples = 0, BackgroundNoise = [noise], MinSnrDb = 10, MaxSnrDb = 10 };
        var y = (float[])signal.Clone();
        var random = new Random(2);
        aug.Apply(y, random); // warm up
        y = (float[])signal.Clone();
        long before = GC.GetAllocatedBytesForCurrentThread();
        aug.Apply(y, random);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        double ps = 0, pn = 0;
        for (int i = 0; i < y.Length; i++)
        {
            ps += signal[i] * (double)signal[i];
            pn += (y[i] - signal[i]) * (double)(y[i] - signal[i]);
        }
        Assert.Equal(10.0, 10 * Math.Log10(ps / pn), 2);

        var a = (float[])signal.Clone();
        var b = (float[])signal.Clone();
        var full = new AudioAugmentation { BackgroundNoise = [noise] };
        full.Apply(a, new Random(9));
        full.Apply(b, new Random(9));
        Assert.Equal(a, b);
    }
}
