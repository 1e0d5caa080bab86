using System.Numerics;
using EdgeNet.Training.Checkpoints;

namespace EdgeNet.Training.Optimizers;

/// <summary>Updates parameters from their gradients. State (momentum, moments) is allocated on the first step only.</summary>
public abstract class Optimizer
{
    private float[][] _state1 = [], _state2 = [];

    public float LearningRate { get; set; }
    /// <summary>L2 weight decay added to the gradient (g + λ·w), as PyTorch's weight_decay.</summary>
    public float WeightDecay { get; init; }
    /// <summary>Steps taken.</summary>
    public long Steps { get; private set; }

    protected abstract bool NeedsSecondState { get; }

    public void Step(IReadOnlyList<TrainParameter> parameters) => Step(parameters, null);

    /// <summary>
    /// One step, but parameters with <paramref name="later"/>[i] set are left to <see cref="UpdateSlice"/> calls that
    /// follow (before the next step): the trainer updates a large weight chunk by chunk as its gradient is computed.
    /// Every element gets the same arithmetic either way.
    /// </summary>
    internal void Step(IReadOnlyList<TrainParameter> parameters, bool[]? later)
    {
        if (_state1.Length != parameters.Count)
        {
            _state1 = new float[parameters.Count][];
            _state2 = new float[parameters.Count][];
            for (int i = 0; i < parameters.Count; i++)
            {
                _state1[i] = new float[parameters[i].Count];
                _state2[i] = NeedsSecondState ? new float[parameters[i].Count] : [];
            }
        }
        Steps++;
        for (int i = 0; i < parameters.Count; i++)
            if (later is null || !later[i]) Update(parameters[i].Value, parameters[i].Grad, _state1[i], _state2[i]);
    }

    /// <summary>Updates values [start, start + gradient.Length) of parameter <paramref name="index"/> as the current
    /// step, from <paramref name="gradient"/> (those values' gradient, not stored in the parameter).</summary>
    internal void UpdateSlice(IReadOnlyList<TrainParameter> parameters, int index, int start, ReadOnlySpan<float> gradient)
    {
        var s2 = _state2[index];
        int count = gradient.Length;
        Update(parameters[index].Value.Slice(start, count), gradient, _state1[index].AsSpan(start, count), s2.Length == 0 ? default : s2.AsSpan(start, count));
    }

    protected abstract void Update(Span<float> w, ReadOnlySpan<float> g, Span<float> s1, Span<float> s2);

    /// <summary>False when the next step does not read the state (SGD without momentum): nothing to checkpoint.</summary>
    protected virtual bool HasState => true;

    /// <summary>Checkpoint tensor name prefixes (followed by the parameter's name) and metadata keys of the state.</summary>
    public const string FirstStatePrefix = "opt1/", SecondStatePrefix = "opt2/", KindKey = "opt.kind", StepsKey = "opt.steps";

    /// <summary>
    /// Writes the optimizer's state (momentum, or Adam's two moments, per parameter, and the steps taken) into
    /// <paramref name="checkpoint"/>, so a restored trainer continues bit for bit. Nothing before the first step.
    /// </summary>
    public void Save(Checkpoint checkpoint, IReadOnlyList<TrainParameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (!HasState || _state1.Length != parameters.Count) return;
        checkpoint.Metadata[KindKey] = GetType().Name;
        checkpoint.Metadata[StepsKey] = Steps.ToString(System.Globalization.CultureInfo.InvariantCulture);
        for (int i = 0; i < parameters.Count; i++)
        {
            checkpoint.Tensors[FirstStatePrefix + parameters[i].Name] = new NamedTensor([_state1[i].Length], (float[])_state1[i].Clone());
            if (NeedsSecondState) checkpoint.Tensors[SecondStatePrefix + parameters[i].Name] = new NamedTensor([_state2[i].Length], (float[])_state2[i].Clone());
        }
    }

    /// <summary>
    /// Restores <see cref="Save"/>'s state; returns false (the state then starts afresh at the next step, as after a
    /// new start) when the checkpoint has none. A state saved by another optimizer, or one that does not fit the
    /// parameters, is a <see cref="CheckpointException"/> and changes nothing.
    /// </summary>
    public bool Restore(Checkpoint checkpoint, IReadOnlyList<TrainParameter> parameters) => PrepareRestore(checkpoint, parameters)();

    /// <summary><see cref="Restore"/> in two phases: checks and reads the state now (throwing before anything
    /// changes), and returns the call that puts it in place, so a trainer can check every part first.</summary>
    internal Func<bool> PrepareRestore(Checkpoint checkpoint, IReadOnlyList<TrainParameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (!checkpoint.Metadata.TryGetValue(KindKey, out var kind))
        {
            return () =>
            {
                _state1 = []; _state2 = []; Steps = 0;
                return false;
            };
        }
        if (kind != GetType().Name) throw new CheckpointException($"the checkpoint's optimizer state is {kind}'s; this trainer uses {GetType().Name}");
        if (!HasState) throw new CheckpointException($"the checkpoint has optimizer state; this {GetType().Name} keeps none (momentum 0)");
        long steps = checkpoint.GetLong(StepsKey, -1);
        if (steps < 0) throw new CheckpointException($"the checkpoint's optimizer state has no valid '{StepsKey}'");
        var first = new float[parameters.Count][];
        var second = new float[parameters.Count][];
        for (int i = 0; i < parameters.Count; i++)
        {
            first[i] = State(FirstStatePrefix, parameters[i]);
            second[i] = NeedsSecondState ? State(SecondStatePrefix, parameters[i]) : [];
        }
        return () =>
        {
            _state1 = first; _state2 = second; Steps = steps;
            return true;
        };

        float[] State(string prefix, TrainParameter p)
        {
            if (!checkpoint.Tensors.TryGetValue(prefix + p.Name, out var t))
                throw new CheckpointException($"the checkpoint's optimizer state has no '{prefix}{p.Name}'");
            if (t.Data.Length != p.Count)
                throw new CheckpointException($"the checkpoint's optimizer state '{prefix}{p.Name}' has {t.Data.Length} values, the parameter {p.Count}");
            return (float[])t.Data.Clone();
        }
    }
}

/// <summary>
/// SGD with momentum μ, optional Nesterov, and weight decay λ (PyTorch's update, dampening 0):
/// d = g + λw; v = μv + d; w −= lr·(Nesterov ? d + μv : v). With μ = 0 it is plain SGD.
/// </summary>
public sealed class Sgd : Optimizer
{
    public float Momentum { get; init; }
    public bool Nesterov { get; init; }
    protected override bool NeedsSecondState => false;
    protected override bool HasState => Momentum != 0;

    protected override void Update(Span<float> w, ReadOnlySpan<float> g, Span<float> v, Span<float> unused)
    {
        float lr = LearningRate, mu = Momentum, wd = WeightDecay;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vlr = new Vector<float>(lr); var vmu = new Vector<float>(mu); var vwd = new Vector<float>(wd);
            for (int c = Vector<float>.Count; i + c <= w.Length; i += c)
            {
                var wi = new Vector<float>(w[i..]);
                var d = new Vector<float>(g[i..]) + vwd * wi;
                var vi = vmu * new Vector<float>(v[i..]) + d;
                vi.CopyTo(v[i..]);
                (wi - vlr * (Nesterov ? d + vmu * vi : vi)).CopyTo(w[i..]);
            }
        }
        for (; i < w.Length; i++)
        {
            float d = g[i] + wd * w[i];
            v[i] = mu * v[i] + d;
            w[i] -= lr * (Nesterov ? d + mu * v[i] : v[i]);
        }
    }
}

/// <summary>Adam (Kingma &amp; Ba) with bias correction; weight decay added to the gradient as in PyTorch's Adam.</summary>
public sealed class Adam : Optimizer
{
    public float Beta1 { get; init; } = 0.9f;
    public float Beta2 { get; init; } = 0.999f;
    public float Epsilon { get; init; } = 1e-8f;
    protected override bool NeedsSecondState => true;

    protected override void Update(Span<float> w, ReadOnlySpan<float> g, Span<float> m, Span<float> v)
    {
        float b1 = Beta1, b2 = Beta2, wd = WeightDecay;
        float c1 = 1 - MathF.Pow(b1, Steps), c2 = 1 - MathF.Pow(b2, Steps);
        float stepSize = LearningRate / c1, invSqrtC2 = 1 / MathF.Sqrt(c2);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            // the same operations in the same order as the loop below, lane by lane (no fused multiply-add), so both
            // give the same bits
            var vb1 = new Vector<float>(b1); var vb2 = new Vector<float>(b2); var vwd = new Vector<float>(wd);
            var v1b1 = new Vector<float>(1 - b1); var v1b2 = new Vector<float>(1 - b2);
            var vstep = new Vector<float>(stepSize); var vinv = new Vector<float>(invSqrtC2); var veps = new Vector<float>(Epsilon);
            for (int c = Vector<float>.Count; i + c <= w.Length; i += c)
            {
                var wi = new Vector<float>(w[i..]);
                var d = new Vector<float>(g[i..]) + vwd * wi;
                var mi = vb1 * new Vector<float>(m[i..]) + v1b1 * d;
                var vi = vb2 * new Vector<float>(v[i..]) + v1b2 * d * d;
                mi.CopyTo(m[i..]);
                vi.CopyTo(v[i..]);
                (wi - vstep * mi / (Vector.SquareRoot(vi) * vinv + veps)).CopyTo(w[i..]);
            }
        }
        for (; i < w.Length; i++)
        {
            float d = g[i] + wd * w[i];
            m[i] = b1 * m[i] + (1 - b1) * d;
            v[i] = b2 * v[i] + (1 - b2) * d * d;
            w[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) * invSqrtC2 + Epsilon);
        }
    }
}

/// <summary>Learning rate per epoch (0-based) from the base rate.</summary>
public abstract class LearningRateSchedule
{
    public abstract float Rate(float baseRate, int epoch);
    public static LearningRateSchedule Constant { get; } = new ConstantSchedule();

    private sealed class ConstantSchedule : LearningRateSchedule
    {
        public override float Rate(float baseRate, int epoch) => baseRate;
    }
}

/// <summary>Multiplies the rate by <see cref="Gamma"/> every <see cref="Every"/> epochs.</summary>
public sealed class StepSchedule(int every, float gamma) : LearningRateSchedule
{
    public int Every { get; } = every > 0 ? every : throw new ArgumentOutOfRangeException(nameof(every));
    public float Gamma { get; } = gamma;
    public override float Rate(float baseRate, int epoch) => baseRate * MathF.Pow(Gamma, epoch / Every);
}

/// <summary>Cosine annealing from the base rate to <see cref="Minimum"/> over <see cref="Epochs"/> epochs.</summary>
public sealed class CosineSchedule(int epochs, float minimum = 0) : LearningRateSchedule
{
    public int Epochs { get; } = epochs > 0 ? epochs : throw new ArgumentOutOfRangeException(nameof(epochs));
    public float Minimum { get; } = minimum;
    public override float Rate(float baseRate, int epoch) =>
        Minimum + (baseRate - Minimum) * 0.5f * (1 + MathF.Cos(MathF.PI * Math.Min(epoch, Epochs) / Epochs));
}
