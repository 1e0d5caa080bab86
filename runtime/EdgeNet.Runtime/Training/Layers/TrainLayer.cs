using EdgeNet.Kernels;

namespace EdgeNet.Training.Layers;

/// <summary>What every layer of a trainable graph is planned with.</summary>
public sealed class LayerSetup
{
    public required int MaxBatch { get; init; }
    public required Isa Isa { get; init; }
    /// <summary>BatchNormalization uses the mini-batch statistics (and updates the running ones) instead of the frozen running statistics.</summary>
    public bool TrainBatchNorm { get; init; }
    public int Seed { get; init; }
}

/// <summary>
/// One operator of a trainable graph, forward and backward over a mini-batch. Forward reads <see cref="Inputs"/> and
/// writes <see cref="Output"/>; Backward reads the output's gradient and writes (or, when the input has several
/// consumers, adds to) the gradient of every input that needs one, and writes its parameters' gradients.
/// Layers keep what the backward pass needs in arena scratch reserved in <see cref="Plan"/>: a step allocates nothing.
/// </summary>
public abstract class TrainLayer
{
    protected TrainLayer(string name, TrainTensor[] inputs, int[] outputSampleShape)
    {
        Name = name;
        Inputs = inputs;
        Output = new TrainTensor(name + ":out", outputSampleShape);
    }

    public string Name { get; }
    public TrainTensor[] Inputs { get; }
    public TrainTensor Output { get; internal set; }
    public virtual IReadOnlyList<TrainParameter> Parameters => [];

    /// <summary>Reserves this layer's scratch in the arena (called once, before the arena is allocated).</summary>
    internal virtual void Plan(TrainArena arena, LayerSetup setup) { }

    public abstract void Forward(int batch, bool training);
    public abstract void Backward(int batch);

    /// <summary>Writes or accumulates an input gradient value.</summary>
    protected static void Put(Span<float> grad, int i, float value, bool accumulate)
    {
        if (accumulate) grad[i] += value; else grad[i] = value;
    }

    public override string ToString() => $"{GetType().Name}({Name})";
}
