using System.Globalization;
using System.Numerics;
using EdgeNet.Training.Checkpoints;

namespace EdgeNet.Training.Optimizers;

/// <summary>
/// An exponential moving average of the trained parameters (Polyak averaging; Keras' <c>use_ema</c> /
/// <c>ema_momentum</c>), updated after every accepted optimizer step: a = d·a + (1 − d)·w with decay d, except the
/// first update, which copies the weights (a = w), as Keras does. The optimizer never reads it: it is what
/// validation, early stopping and the saved model use (<see cref="Trainer"/>). Storage is allocated on the first
/// update only; updates allocate nothing.
/// </summary>
public sealed class WeightAverage
{
    /// <summary>Checkpoint tensor name prefix (followed by the parameter's name) and metadata keys.</summary>
    public const string TensorPrefix = "ema/", UpdatesKey = "ema.updates", DecayKey = "ema.decay";

    private float[][] _average = [];
    private float[][] _live = [];
    private float _momentum;

    /// <param name="decay">d in (0, 1): each update keeps d of the average (0.999 averages over roughly the last 1000 steps).</param>
    public WeightAverage(float decay)
    {
        if (!(decay > 0 && decay < 1)) throw new ArgumentOutOfRangeException(nameof(decay), decay, "the average's decay must be in (0, 1)");
        Decay = decay;
    }

    public float Decay { get; }

    /// <summary>Updates made (accepted steps since the average started).</summary>
    public long Updates { get; private set; }

    /// <summary>True while <see cref="Apply"/> has put the average into the parameters and <see cref="Unapply"/> has not yet put the live weights back.</summary>
    public bool Applied { get; private set; }

    /// <summary>The average of parameter <paramref name="index"/> (empty before the first update).</summary>
    public ReadOnlySpan<float> Values(int index) => index < _average.Length ? _average[index] : [];

    /// <summary>Starts one update: the following <see cref="Update"/> calls blend with this step's momentum.</summary>
    internal void Begin(IReadOnlyList<TrainParameter> parameters)
    {
        if (_average.Length != parameters.Count)
        {
            _average = new float[parameters.Count][];
            for (int i = 0; i < parameters.Count; i++) _average[i] = new float[parameters[i].Count];
            Updates = 0;
        }
        _momentum = Updates == 0 ? 0 : Decay;
        Updates++;
    }

    /// <summary>Blends values [start, start + count) of parameter <paramref name="index"/> into the average (after the optimizer wrote them).</summary>
    internal void Update(IReadOnlyList<TrainParameter> parameters, int index, int start, int count) =>
        Blend(_average[index].AsSpan(start, count), parameters[index].Value.Slice(start, count), _momentum);

    /// <summary>a = m·a + (1 − m)·w element by element; the vector and scalar paths give the same bits (no fused multiply-add).</summary>
    public static void Blend(Span<float> average, ReadOnlySpan<float> w, float momentum)
    {
        if (w.Length != average.Length) throw new ArgumentException("the average and the weights differ in length", nameof(w));
        if (momentum == 0)
        {
            w.CopyTo(average); // m·a would turn a non-finite old average into NaN
            return;
        }
        float rest = 1 - momentum;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vm = new Vector<float>(momentum); var vr = new Vector<float>(rest);
            for (int c = Vector<float>.Count; i + c <= w.Length; i += c)
                (vm * new Vector<float>(average[i..]) + vr * new Vector<float>(w[i..])).CopyTo(average[i..]);
        }
        for (; i < w.Length; i++) average[i] = momentum * average[i] + rest * w[i];
    }

    /// <summary>Puts the average into the parameters, keeping the live weights aside for <see cref="Unapply"/>. No-op before the first update.</summary>
    public void Apply(IReadOnlyList<TrainParameter> parameters)
    {
        if (Applied) throw new InvalidOperationException("the average is already applied");
        if (Updates == 0) return;
        if (_live.Length != parameters.Count)
        {
            _live = new float[parameters.Count][];
            for (int i = 0; i < parameters.Count; i++) _live[i] = new float[parameters[i].Count];
        }
        for (int i = 0; i < parameters.Count; i++)
        {
            parameters[i].Value.CopyTo(_live[i]);
            _average[i].CopyTo(parameters[i].Value);
        }
        Applied = true;
    }

    /// <summary>Puts back the live weights that <see cref="Apply"/> set aside.</summary>
    public void Unapply(IReadOnlyList<TrainParameter> parameters)
    {
        if (!Applied) return;
        for (int i = 0; i < parameters.Count; i++) _live[i].CopyTo(parameters[i].Value);
        Applied = false;
    }

    /// <summary>Writes the average (one tensor per parameter, in the parameter's stored layout) and its update count into <paramref name="checkpoint"/>.</summary>
    public void Save(Checkpoint checkpoint, IReadOnlyList<TrainParameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        checkpoint.Metadata[DecayKey] = Decay.ToString("R", CultureInfo.InvariantCulture);
        checkpoint.Metadata[UpdatesKey] = Updates.ToString(CultureInfo.InvariantCulture);
        if (Updates == 0) return;
        for (int i = 0; i < parameters.Count; i++)
            checkpoint.Tensors[TensorPrefix + parameters[i].Name] = new NamedTensor((int[])parameters[i].Tensor.Dims.Clone(), (float[])_average[i].Clone());
    }

    /// <summary>
    /// Restores the average saved by <see cref="Save"/>. A checkpoint without one (saved without averaging, or
    /// before its first update) leaves the average to start afresh at the next step and returns false. A saved
    /// average that does not fit <paramref name="parameters"/> is a <see cref="CheckpointException"/>.
    /// </summary>
    public bool Restore(Checkpoint checkpoint, IReadOnlyList<TrainParameter> parameters) => PrepareRestore(checkpoint, parameters)();

    /// <summary><see cref="Restore"/> in two phases: checks and reads the average now (throwing before anything
    /// changes), and returns the call that puts it in place.</summary>
    internal Func<bool> PrepareRestore(Checkpoint checkpoint, IReadOnlyList<TrainParameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (Applied) throw new InvalidOperationException("put the live weights back (Unapply) before restoring");
        long updates = checkpoint.GetLong(UpdatesKey);
        bool any = checkpoint.Tensors.Keys.Any(k => k.StartsWith(TensorPrefix, StringComparison.Ordinal));
        if (updates <= 0 || !any)
        {
            return () =>
            {
                _average = [];
                Updates = 0;
                return false;
            };
        }
        var restored = new float[parameters.Count][];
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            if (!checkpoint.Tensors.TryGetValue(TensorPrefix + p.Name, out var t))
                throw new CheckpointException($"the checkpoint's weight average has no tensor for parameter '{p.Name}'");
            if (!t.Dims.AsSpan().SequenceEqual(p.Tensor.Dims) || t.Data.Length != p.Count)
                throw new CheckpointException($"the checkpoint's weight average of '{p.Name}' is [{string.Join(",", t.Dims)}], the parameter is [{string.Join(",", p.Tensor.Dims)}]");
            restored[i] = (float[])t.Data.Clone();
        }
        return () =>
        {
            _average = restored;
            Updates = updates;
            return true;
        };
    }
}
