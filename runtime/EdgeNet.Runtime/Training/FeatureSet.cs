namespace EdgeNet.Training;

/// <summary>
/// Samples as the trainable part sees them: the frozen backbone's output at the cut tensor, computed once per sample
/// (so an epoch costs only the trainable layers), with class labels.
/// </summary>
public sealed class FeatureSet
{
    public FeatureSet(float[] data, int sampleSize, int[] labels)
    {
        if (sampleSize <= 0 || data.Length != (long)sampleSize * labels.Length)
            throw new InputMismatchException($"{data.Length} feature values do not make {labels.Length} samples of {sampleSize}");
        Data = data; SampleSize = sampleSize; Labels = labels;
    }

    public float[] Data { get; }
    public int SampleSize { get; }
    public int[] Labels { get; }
    public int Count => Labels.Length;
    public ReadOnlySpan<float> Sample(int i) => Data.AsSpan(i * SampleSize, SampleSize);

    /// <summary>The samples at <paramref name="indices"/> (a copy).</summary>
    public FeatureSet Subset(IReadOnlyList<int> indices)
    {
        var data = new float[indices.Count * SampleSize];
        var labels = new int[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            Sample(indices[i]).CopyTo(data.AsSpan(i * SampleSize));
            labels[i] = Labels[indices[i]];
        }
        return new FeatureSet(data, SampleSize, labels);
    }
}
