namespace EdgeNet.Data;

/// <summary>
/// Random image augmentations applied to a CHW tensor in [0,1] (before normalization), each drawn from the caller's
/// seeded <see cref="Random"/> in a fixed order (flip, crop, brightness), so the same seed gives the same images.
/// </summary>
public sealed record ImageAugmentation
{
    /// <summary>Chance of a left–right mirror (0 disables). Leave 0 for data where handedness matters (digits, text).</summary>
    public double FlipProbability { get; init; } = 0.5;

    /// <summary>Up to this fraction of the height and of the width is cut away (at a random place) and the rest resized back; 0 disables.</summary>
    public double MaxCropFraction { get; init; } = 0.1;

    /// <summary>Pixels are multiplied by a factor drawn uniformly from [1 − MaxBrightness, 1 + MaxBrightness], then clamped to [0,1]; 0 disables.</summary>
    public double MaxBrightness { get; init; } = 0.2;

    /// <summary>Augments <paramref name="chw"/> in place.</summary>
    public void Apply(Span<float> chw, int channels, int height, int width, Random random)
    {
        var scratch = new float[chw.Length];
        Apply(chw, channels, height, width, random, scratch);
    }

    /// <summary>Augments <paramref name="chw"/> in place, using <paramref name="scratch"/> (same length) instead of allocating.</summary>
    public void Apply(Span<float> chw, int channels, int height, int width, Random random, Span<float> scratch)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (chw.Length != channels * height * width) throw new ArgumentException($"{chw.Length} floats for a {channels}x{height}x{width} image", nameof(chw));
        if (scratch.Length < chw.Length) throw new ArgumentException("scratch is smaller than the image", nameof(scratch));
        // Draw every random number whether or not the step is enabled, so turning one step off does not change the others.
        bool flip = random.NextDouble() < FlipProbability;
        double cropH = random.NextDouble() * MaxCropFraction, cropW = random.NextDouble() * MaxCropFraction;
        double offY = random.NextDouble(), offX = random.NextDouble();
        double brightness = 1 + (random.NextDouble() * 2 - 1) * MaxBrightness;

        if (flip)
            for (int c = 0; c < channels; c++)
                for (int y = 0; y < height; y++)
                    chw.Slice((c * height + y) * width, width).Reverse();

        if (MaxCropFraction > 0)
        {
            float keepH = (float)(height * (1 - cropH)), keepW = (float)(width * (1 - cropW));
            var crop = ((float)((height - keepH) * offY), (float)((width - keepW) * offX), keepH, keepW);
            chw.CopyTo(scratch);
            ImageTransform.ResizePlanes(scratch[..chw.Length], channels, height, width, crop, chw, height, width);
        }

        if (MaxBrightness > 0)
        {
            float f = (float)brightness;
            for (int i = 0; i < chw.Length; i++) chw[i] = Math.Clamp(chw[i] * f, 0f, 1f);
        }
    }
}
