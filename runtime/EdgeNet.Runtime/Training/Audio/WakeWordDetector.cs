namespace EdgeNet.Training.Audio;

/// <summary>
/// The decision rule of a wake-word detector scoring every 80 ms: it fires when the score has been at or above
/// <see cref="Threshold"/> on <see cref="Consecutive"/> frames in a row, then ignores the next
/// <see cref="RefractoryFrames"/> frames (one utterance counts once). The same rule counts clip detections (recall,
/// negative clips) and false accepts on a stream.
/// </summary>
public sealed class WakeWordDetector
{
    private int _run, _quiet;

    public WakeWordDetector(float threshold, int consecutive = 1, int refractoryFrames = 25)
    {
        if (consecutive < 1) throw new ArgumentOutOfRangeException(nameof(consecutive), "at least 1 frame");
        if (refractoryFrames < 0) throw new ArgumentOutOfRangeException(nameof(refractoryFrames), "cannot be negative");
        Threshold = threshold; Consecutive = consecutive; RefractoryFrames = refractoryFrames;
    }

    public float Threshold { get; }
    public int Consecutive { get; }
    public int RefractoryFrames { get; }
    public int Detections { get; private set; }

    /// <summary>
    /// The highest threshold at which a fresh detector fires on <paramref name="scores"/>: the maximum over frames of
    /// the minimum of <paramref name="consecutive"/> scores in a row (0 when there are fewer scores than that).
    /// </summary>
    public static float Peak(ReadOnlySpan<float> scores, int consecutive)
    {
        if (consecutive < 1) throw new ArgumentOutOfRangeException(nameof(consecutive), "at least 1 frame");
        float peak = 0;
        for (int i = 0; i + consecutive <= scores.Length; i++)
        {
            float low = scores[i];
            for (int k = 1; k < consecutive; k++) low = Math.Min(low, scores[i + k]);
            peak = Math.Max(peak, low);
        }
        return peak;
    }

    /// <summary>Starts over (a new clip): no run, no refractory period, no detections.</summary>
    public void Reset() { _run = 0; _quiet = 0; Detections = 0; }

    /// <summary>Feeds the next 80 ms score; true when the detector fires on this frame.</summary>
    public bool Push(float score)
    {
        if (_quiet > 0)
        {
            _quiet--;
            _run = 0;
            return false;
        }
        _run = score >= Threshold ? _run + 1 : 0;
        if (_run < Consecutive) return false;
        _run = 0;
        _quiet = RefractoryFrames;
        Detections++;
        return true;
    }
}
