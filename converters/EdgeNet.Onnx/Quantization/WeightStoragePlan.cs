using EdgeNet.Format;
using EdgeNet.IR;
using EdgeNet.Onnx.Proto;

namespace EdgeNet.Onnx.Quantization;

/// <summary>How the quantizer stores the float32 weights that stay float (layers kept float for accuracy, other big constants).</summary>
public enum FloatWeightStorage
{
    /// <summary>int8 per channel where the model's accuracy allows it, else float16 (the default): a quarter or half of the bytes.</summary>
    Int8,
    /// <summary>float16 everywhere the accuracy allows it: half of the bytes.</summary>
    Float16,
    /// <summary>float32, as in the ONNX model.</summary>
    Keep,
}

/// <summary>One float32 weight of at least 1 KiB and how the file stores it.</summary>
/// <param name="AloneSnrDb">Model output SNR (dB, against fp32) with only this weight rounded to int8; NaN when not measured.</param>
public sealed record StoredWeight(string Name, string Shape, string Storage, double AloneSnrDb);

/// <summary>
/// Weight-only compression of float weights: rounds float32 initializers (of the main graph and of every subgraph) to
/// the values the .enet file can store exactly — int8 × a float32 scale per channel, or IEEE half
/// (<see cref="WeightStorage"/>) — so the writer stores them in a quarter or half of the bytes and the loader decodes
/// them once; compute stays float. The quantizer starts with every weight int8 (float16 for vectors) and moves the
/// costliest to float16 while the model misses its accuracy floor (<see cref="Demote"/>).
/// </summary>
internal sealed class WeightStoragePlan
{
    private sealed record Candidate(GraphProto Graph, int Index, string Name, int[] Dims, float[]? Int8, float[]? Half);

    private readonly List<Candidate> _candidates;
    /// <summary>Per candidate: 0 = float32, 1 = float16, 2 = int8.</summary>
    private readonly int[] _choice;
    private readonly double[] _alone;

    /// <param name="axes">The channel axis of the layers' weights (their output channels, as the int8 layers use): a
    /// layer given back to float later keeps the same rounding, and an int8 layer requantizes it without loss.</param>
    /// <param name="hessians">Per layer weight, its input's second moment: the weight is rounded to int8 so the layer's
    /// output moves least (<see cref="HessianRounding"/>) instead of to the nearest values.</param>
    public WeightStoragePlan(ModelProto floatModel, FloatWeightStorage mode, IReadOnlyDictionary<string, int> axes, IReadOnlyDictionary<string, WeightHessian>? hessians = null)
    {
        _candidates = mode == FloatWeightStorage.Keep ? [] : Candidates(floatModel, axes, hessians ?? new Dictionary<string, WeightHessian>());
        _choice = _candidates.Select(c => mode == FloatWeightStorage.Int8 && c.Int8 is not null ? 2 : c.Half is not null ? 1 : 0).ToArray();
        _alone = new double[_candidates.Count];
        Array.Fill(_alone, double.NaN);
    }

    public bool Any => _choice.Any(c => c != 0);

    /// <summary>A copy of the float model with each weight rounded as planned.</summary>
    public ModelProto Apply(ModelProto floatModel) => Apply(floatModel, _candidates, _choice);

    /// <summary>
    /// While <paramref name="snr"/> (of the model built from the current plan) is below <paramref name="floorDb"/>, the
    /// int8 weight (not among <paramref name="skip"/>: those become int8 layers anyway) whose rounding alone costs the
    /// float model most per element goes to float16; at the end everything goes back to float32 if even that misses the floor.
    /// </summary>
    /// <param name="snrOf">Model output SNR (dB, against fp32) of a model.</param>
    /// <param name="build">The model to score from a rounded float model (the QDQ rewrite of the chosen layers).</param>
    public double Demote(ModelProto floatModel, double snr, double floorDb, IReadOnlySet<string> skip, Func<ModelProto, double> snrOf, Func<ModelProto, ModelProto> build)
    {
        bool Movable(int i) => _choice[i] == 2 && !skip.Contains(_candidates[i].Name);
        if (snr >= floorDb || !Enumerable.Range(0, _candidates.Count).Any(Movable)) return snr;
        for (int i = 0; i < _candidates.Count; i++)
            if (Movable(i))
            {
                var only = new int[_candidates.Count];
                only[i] = 2;
                _alone[i] = snrOf(Apply(floatModel, _candidates, only));
            }
        while (snr < floorDb && Enumerable.Range(0, _candidates.Count).Any(Movable))
        {
            // most noise removed per byte added: a weight's rounding noise alone (power relative to the output,
            // 10^(-SNR/10)) over its element count, so small costly weights go before big cheap ones and a model
            // that lands just under the floor grows by little
            int worst = Enumerable.Range(0, _candidates.Count).Where(Movable)
                .MaxBy(i => Math.Pow(10, -_alone[i] / 10) / _candidates[i].Dims.Aggregate(1L, (a, d) => a * d));
            _choice[worst] = _candidates[worst].Half is not null ? 1 : 0;
            snr = snrOf(build(Apply(floatModel)));
        }
        if (snr < floorDb)
        {
            Array.Fill(_choice, 0); // even float16 costs too much (not seen on the project's models): float32
            snr = snrOf(build(floatModel));
        }
        return snr;
    }

    /// <summary>How each weight not in <paramref name="skip"/> is stored.</summary>
    public List<StoredWeight> Report(IReadOnlySet<string> skip) =>
        Enumerable.Range(0, _candidates.Count).Where(i => !skip.Contains(_candidates[i].Name)).Select(i =>
            new StoredWeight(_candidates[i].Name, string.Join('x', _candidates[i].Dims), _choice[i] switch { 2 => "int8", 1 => "float16", _ => "float32" }, _alone[i])).ToList();

    /// <summary>
    /// Float32 initializers of at least <see cref="EnetHeader.BigTensorBytes"/> bytes in every graph, except those read
    /// by QuantizeLinear / DequantizeLinear (scales: the integer ops derive their multipliers from them).
    /// </summary>
    private static readonly Dictionary<string, WeightHessian> s_none = new(StringComparer.Ordinal);

    private static List<Candidate> Candidates(ModelProto model, IReadOnlyDictionary<string, int> axes, IReadOnlyDictionary<string, WeightHessian> hessians)
    {
        var list = new List<Candidate>();
        Visit(model.Graph, list, axes, hessians);
        return list;
    }

    private static void Visit(GraphProto g, List<Candidate> list, IReadOnlyDictionary<string, int> axes, IReadOnlyDictionary<string, WeightHessian> hessians)
    {
        var qdqInputs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in g.Node)
            if (n.OpType is "QuantizeLinear" or "DequantizeLinear")
                foreach (var i in n.Input) qdqInputs.Add(i);
        for (int i = 0; i < g.Initializer.Count; i++)
        {
            var t = g.Initializer[i];
            if (t.DataType != (int)DataType.Float32 || qdqInputs.Contains(t.Name)) continue;
            long count = t.Dims.Aggregate(1L, (a, d) => a * d);
            if (count * 4 < EnetHeader.BigTensorBytes) continue;
            var tensor = TensorProtoConverter.FromProto(t);
            var values = tensor.ToFloatArray();
            var dims = (int[])tensor.Dims.Clone();
            float[]? int8 = null;
            if (dims.Length >= 2 && axes.TryGetValue(t.Name, out int layerAxis) && hessians.TryGetValue(t.Name, out var h))
                int8 = HessianRounding.RoundInt8(values, dims, layerAxis, h);
            if (int8 is null && dims.Length >= 2)
            {
                // per channel along the axis that loses least: the output channels of a Conv (0), of a MatMul weight
                // (last), the gate rows of an LSTM / GRU (1)
                double best = double.PositiveInfinity;
                foreach (int axis in axes.TryGetValue(t.Name, out int own) ? new[] { own } : new[] { 0, dims.Length - 1, 1 }.Distinct())
                {
                    var r = WeightStorage.RoundInt8(values, dims, axis);
                    double e = SquaredError(values, r);
                    if (e < best) (best, int8) = (e, r);
                }
            }
            var half = WeightStorage.RoundHalf(values);
            list.Add(new Candidate(g, i, t.Name, dims, int8, WeightStorage.IsFinite(half) ? half : null));
        }
        foreach (var n in g.Node)
            foreach (var a in n.Attribute)
            {
                // the second moments are the main graph's layers' (a subgraph's initializer may reuse a name)
                if (a.G is not null) Visit(a.G, list, axes, s_none);
                foreach (var sub in a.Graphs) Visit(sub, list, axes, s_none);
            }
    }

    private static double SquaredError(float[] a, float[] b)
    {
        double e = 0;
        for (int i = 0; i < a.Length; i++) { double d = (double)a[i] - b[i]; e += d * d; }
        return e;
    }

    /// <summary>A copy of <paramref name="model"/> with each candidate's values replaced by its chosen rounding.</summary>
    private static ModelProto Apply(ModelProto model, List<Candidate> candidates, int[] choice)
    {
        // the candidates point into the original; swap the rounded tensors in, clone, and swap the originals back
        var swapped = new List<(GraphProto Graph, int Index, TensorProto Original)>();
        void Swap(GraphProto g, int index, TensorProto t)
        {
            swapped.Add((g, index, g.Initializer[index]));
            g.Initializer[index] = t;
        }
        try
        {
            for (int i = 0; i < candidates.Count; i++)
            {
                var c = candidates[i];
                var values = choice[i] switch { 2 => c.Int8, 1 => c.Half, _ => null };
                if (values is not null) Swap(c.Graph, c.Index, TensorProtoConverter.ToProto(c.Name, Tensor.FromArray(c.Dims, values)));
            }
            return model.Clone();
        }
        finally
        {
            for (int i = swapped.Count - 1; i >= 0; i--) swapped[i].Graph.Initializer[swapped[i].Index] = swapped[i].Original;
        }
    }
}
