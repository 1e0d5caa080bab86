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
/// them once; compute stays float. Which weights may be rounded is measured: all of them to int8 at once, and when the
/// model output drifts below the floor, each alone, the costliest going to float16 until the floor holds.
/// </summary>
internal static class WeightStoragePlan
{
    private sealed record Candidate(GraphProto Graph, int Index, string Name, int[] Dims, float[]? Int8, float[]? Half);

    /// <param name="snrOf">Model output SNR (dB) against the fp32 model of a rounded copy.</param>
    public static (ModelProto Model, List<StoredWeight> Plan, double SnrDb) Round(ModelProto model, FloatWeightStorage mode, double floorDb, Func<ModelProto, double> snrOf)
    {
        var plan = new List<StoredWeight>();
        if (mode == FloatWeightStorage.Keep) return (model, plan, double.PositiveInfinity);
        var candidates = Candidates(model);
        if (candidates.Count == 0) return (model, plan, double.PositiveInfinity);
        // 0 = keep, 1 = half, 2 = int8
        var choice = candidates.Select(c => mode == FloatWeightStorage.Int8 && c.Int8 is not null ? 2 : c.Half is not null ? 1 : 0).ToArray();
        var alone = new double[candidates.Count];
        Array.Fill(alone, double.NaN);
        var rounded = Apply(model, candidates, choice);
        double snr = snrOf(rounded);
        if (snr < floorDb && choice.Any(c => c == 2))
        {
            for (int i = 0; i < candidates.Count; i++)
                if (choice[i] == 2)
                {
                    var only = new int[candidates.Count];
                    only[i] = 2;
                    alone[i] = snrOf(Apply(model, candidates, only));
                }
            // the costliest int8 weight goes to float16 until the whole model is back above the floor
            while (snr < floorDb && choice.Any(c => c == 2))
            {
                int worst = Enumerable.Range(0, candidates.Count).Where(i => choice[i] == 2).MinBy(i => alone[i]);
                choice[worst] = candidates[worst].Half is not null ? 1 : 0;
                rounded = Apply(model, candidates, choice);
                snr = snrOf(rounded);
            }
        }
        if (snr < floorDb)
        {
            // even float16 costs too much (not seen on the project's models): keep everything float32
            Array.Fill(choice, 0);
            rounded = model;
            snr = double.PositiveInfinity;
        }
        for (int i = 0; i < candidates.Count; i++)
            plan.Add(new StoredWeight(candidates[i].Name, string.Join('x', candidates[i].Dims), choice[i] switch { 2 => "int8", 1 => "float16", _ => "float32" }, alone[i]));
        return (rounded, plan, snr);
    }

    /// <summary>
    /// Float32 initializers of at least <see cref="EnetHeader.BigTensorBytes"/> bytes in every graph, except those read
    /// by QuantizeLinear / DequantizeLinear (scales: the integer ops derive their multipliers from them).
    /// </summary>
    private static List<Candidate> Candidates(ModelProto model)
    {
        var list = new List<Candidate>();
        Visit(model.Graph, list);
        return list;
    }

    private static void Visit(GraphProto g, List<Candidate> list)
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
            if (dims.Length >= 2)
            {
                // per channel along the axis that loses least: the output channels of a Conv (0), of a MatMul weight
                // (last), the gate rows of an LSTM / GRU (1)
                double best = double.PositiveInfinity;
                foreach (int axis in new[] { 0, dims.Length - 1, 1 }.Distinct())
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
                if (a.G is not null) Visit(a.G, list);
                foreach (var sub in a.Graphs) Visit(sub, list);
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
        var originals = candidates.Select(c => c.Graph.Initializer[c.Index]).ToArray();
        try
        {
            for (int i = 0; i < candidates.Count; i++)
            {
                var values = choice[i] switch { 2 => candidates[i].Int8, 1 => candidates[i].Half, _ => null };
                if (values is not null)
                    candidates[i].Graph.Initializer[candidates[i].Index] = TensorProtoConverter.ToProto(candidates[i].Name, Tensor.FromArray(candidates[i].Dims, values));
            }
            return model.Clone();
        }
        finally
        {
            for (int i = 0; i < candidates.Count; i++) candidates[i].Graph.Initializer[candidates[i].Index] = originals[i];
        }
    }
}
