namespace EdgeNet.Training.Audio;

/// <summary>
/// Which of a clip's 80 ms windows a wake-word head trains on, and as what. A detector scoring every 80 ms should
/// fire on the windows that end just after the phrase ends and on no other window, so:
/// <list type="bullet">
/// <item>a negative clip (or stream): every window is a negative;</item>
/// <item>a positive clip: windows ending in [phrase end + <see cref="PositiveFrom"/>, phrase end + <see cref="PositiveTo"/>]
/// are positives; windows ending at or before phrase end − <see cref="NegativeBefore"/> (silence, noise and the
/// first part of the phrase, e.g. "hey edge") are negatives; the rest (almost the whole phrase, or the phrase
/// followed by a pause) are not used — a detector may fire there or not.</item>
/// </list>
/// Window k of <see cref="WakeWordFeatures.Embeddings(ReadOnlySpan{float}, bool)"/> (afterSilence) ends at sample
/// (k + 1) · 1280 of the audio.
/// </summary>
public sealed record WakeWordWindows
{
    /// <summary>Start of the positive span, seconds after the phrase end.</summary>
    public double PositiveFrom { get; init; }
    /// <summary>End of the positive span, seconds after the phrase end.</summary>
    public double PositiveTo { get; init; } = 0.32;
    /// <summary>Windows of a positive clip ending this many seconds (or more) before the phrase end are negatives.</summary>
    public double NegativeBefore { get; init; } = 0.4;

    public const int Ignore = -1, Negative = 0, Positive = 1;

    /// <summary>The label of a window of a positive clip ending at <paramref name="windowEnd"/> s when the phrase ends at <paramref name="phraseEnd"/> s.</summary>
    public int LabelPositiveClip(double windowEnd, double phraseEnd)
    {
        if (PositiveTo < PositiveFrom || NegativeBefore < 0) throw new ArgumentException($"bad window spans: positive [{PositiveFrom}, {PositiveTo}] s, negative before {NegativeBefore} s");
        const double eps = 1e-9;
        if (windowEnd >= phraseEnd + PositiveFrom - eps && windowEnd <= phraseEnd + PositiveTo + eps) return Positive;
        if (windowEnd <= phraseEnd - NegativeBefore + eps) return Negative;
        return Ignore;
    }

    /// <summary>
    /// Adds the windows of <paramref name="audio"/> (int16 scale, 16 kHz, scored after digital silence) to
    /// <paramref name="windows"/> with their labels in <paramref name="labels"/> (<see cref="Negative"/> or
    /// <see cref="Positive"/>). <paramref name="phraseEnd"/> is the phrase end in seconds for a positive clip, null for
    /// negative audio (every window a negative). <paramref name="firstEnd"/>: only windows ending at or after this many
    /// seconds are taken (skips windows of almost only silence); <paramref name="stride"/> takes every n-th window.
    /// Returns the number of windows added.
    /// </summary>
    public int Add(WakeWordFeatures features, ReadOnlySpan<float> audio, double? phraseEnd, List<float> windows, List<int> labels, double firstEnd = 0, int stride = 1)
    {
        ArgumentNullException.ThrowIfNull(features);
        return AddEmbeddings(features, features.Embeddings(audio, afterSilence: true), phraseEnd, windows, labels, firstEnd, stride);
    }

    /// <summary>As <see cref="Add"/>, from the audio's embeddings (<see cref="WakeWordFeatures.Embeddings(ReadOnlySpan{float}, bool)"/> with afterSilence).</summary>
    public int AddEmbeddings(WakeWordFeatures features, float[] embeddings, double? phraseEnd, List<float> windows, List<int> labels, double firstEnd = 0, int stride = 1)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(embeddings);
        if (stride < 1) throw new ArgumentOutOfRangeException(nameof(stride), "stride must be at least 1");
        int count = features.WindowCount(embeddings), added = 0;
        for (int k = 0; k < count; k += stride)
        {
            double end = WakeWordFeatures.WindowEnd(k) / (double)WakeWordFeatures.SampleRate;
            if (end < firstEnd - 1e-9) continue;
            int label = phraseEnd is double p ? LabelPositiveClip(end, p) : Negative;
            if (label == Ignore) continue;
            windows.AddRange(embeddings.AsSpan(k * WakeWordFeatures.EmbeddingSize, features.WindowSize));
            labels.Add(label);
            added++;
        }
        return added;
    }
}
