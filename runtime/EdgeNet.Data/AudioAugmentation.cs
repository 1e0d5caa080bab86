namespace EdgeNet.Data;

/// <summary>
/// Random audio augmentations applied to a mono clip in place, each drawn from the caller's seeded
/// <see cref="Random"/> in a fixed order (gain, time shift, background noise), so the same seed gives the same clips.
/// </summary>
public sealed record AudioAugmentation
{
    /// <summary>Gain drawn uniformly from [−MaxGainDb, +MaxGainDb] decibels; 0 disables.</summary>
    public double MaxGainDb { get; init; } = 6;

    /// <summary>The clip moves left or right by up to this many samples, the gap filled with silence; 0 disables.</summary>
    public int MaxShiftSamples { get; init; } = 1600;

    /// <summary>Clips to mix in (a random stretch of a random one, looped if shorter); null or empty disables.</summary>
    public IReadOnlyList<float[]>? BackgroundNoise { get; init; }

    /// <summary>Signal-to-noise ratio of the mix, drawn uniformly from [MinSnrDb, MaxSnrDb].</summary>
    public double MinSnrDb { get; init; } = 5;
    public double MaxSnrDb { get; init; } = 20;

    /// <summary>Augments <paramref name="samples"/> in place (allocates nothing).</summary>
    public void Apply(Span<float> samples, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (MinSnrDb > MaxSnrDb) throw new ArgumentException($"MinSnrDb {MinSnrDb} is above MaxSnrDb {MaxSnrDb}");
        // Draw every random number whatever is enabled, so turning one step off does not change the others.
        double gainDb = (random.NextDouble() * 2 - 1) * MaxGainDb;
        int shift = (int)Math.Round((random.NextDouble() * 2 - 1) * MaxShiftSamples);
        double noisePick = random.NextDouble(), noiseStart = random.NextDouble();
        double snrDb = MinSnrDb + random.NextDouble() * (MaxSnrDb - MinSnrDb);

        if (MaxGainDb > 0)
        {
            float g = (float)Math.Pow(10, gainDb / 20);
            for (int i = 0; i < samples.Length; i++) samples[i] *= g;
        }

        if (shift > 0 && shift < samples.Length)
        {
            samples[..^shift].CopyTo(samples[shift..]);
            samples[..shift].Clear();
        }
        else if (shift < 0 && -shift < samples.Length)
        {
            samples[-shift..].CopyTo(samples);
            samples[^(-shift)..].Clear();
        }
        else if (shift != 0) samples.Clear();

        if (BackgroundNoise is { Count: > 0 } noises)
        {
            var noise = noises[Math.Min((int)(noisePick * noises.Count), noises.Count - 1)];
            if (noise.Length == 0) return;
            int start = Math.Min((int)(noiseStart * noise.Length), noise.Length - 1);
            double signalPower = 0, noisePower = 0;
            for (int i = 0; i < samples.Length; i++)
            {
                double s = samples[i], v = noise[(start + i) % noise.Length];
                signalPower += s * s;
                noisePower += v * v;
            }
            if (noisePower <= 0 || signalPower <= 0) return; // silence on either side: no level to set the SNR against
            float k = (float)Math.Sqrt(signalPower / (noisePower * Math.Pow(10, snrDb / 10)));
            for (int i = 0; i < samples.Length; i++) samples[i] += k * noise[(start + i) % noise.Length];
        }
    }
}
