using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Onnx.Proto;
using EdgeNet.Passes;

namespace EdgeNet.Onnx.Quantization;

/// <summary>Settings of <see cref="Quantizer.Quantize"/>.</summary>
public sealed class QuantizerOptions
{
    /// <summary>How activation ranges are picked (see docs/QUANTIZATION.md for the measurements behind the default).</summary>
    public CalibrationMethod Method { get; set; } = CalibrationMethod.Percentile;
    /// <summary>For <see cref="CalibrationMethod.Percentile"/>: the share of values kept, in percent; the rest is cut off both tails.</summary>
    public double Percentile { get; set; } = 99.99;
    /// <summary>A layer stays int8 when quantizing it alone keeps the model output's SNR at least this high (dB); 0 quantizes every layer.</summary>
    public double MinLayerSnrDb { get; set; } = 30;
    /// <summary>
    /// After the per-layer choice, while the whole model's output SNR (dB) is below this, the int8 layer that cost most
    /// alone goes back to float (at most two thirds of the layers, a third with <see cref="FloatWeightStorage.Keep"/>);
    /// 0 turns this off. 35 dB (33 before float layers stored int8 weights): at 33 the rounded weights of the layers
    /// kept float cost ch_ppocr_mobile_v2.0_cls 1–2 more top-1 flips of 400 (98.75 %); at 35 it agrees on 99.5 %, and
    /// mobilenet_v2, resnet18 and ds_cnn still have every layer int8 (37.7, 37.0, 45 dB).
    /// </summary>
    public double TargetModelSnrDb { get; set; } = 35;
    /// <summary>Measure each layer alone and keep the costly ones float (on by default); off quantizes every layer unmeasured.</summary>
    public bool AnalyzeLayers { get; set; } = true;
    /// <summary>At most this many calibration samples (spread over the set) measure each layer's error.</summary>
    public int SensitivitySamples { get; set; } = 32;
    /// <summary>
    /// How float32 weights that stay float are stored (layers kept float, other constants of at least 1 KiB, also in
    /// subgraphs): by default int8 per channel, decoded to float32 once at load (.enet version 3), float16 where int8
    /// would leave the model output below <see cref="TargetModelSnrDb"/> (see <see cref="StorageLossDb"/>). Compute
    /// stays float. Each layer's own cost is measured on float32 weights; the whole-model checks (the target loop)
    /// include the rounded weights, so layers go back to float compute until the stored model meets the target.
    /// </summary>
    public FloatWeightStorage FloatWeights { get; set; } = FloatWeightStorage.Int8;
    /// <summary>
    /// When the target loop's give-back could not bring the model with rounded weights up to <see cref="TargetModelSnrDb"/>,
    /// the rounded weights may still cost this much (dB) against the same layers on float32 weights before the costliest
    /// go to float16 (so a model whose int8 layers alone miss the target is not pushed to float16 everywhere).
    /// The weights go in order of noise removed per byte added (<see cref="WeightStoragePlan.Demote"/>), so a model that
    /// lands near this floor grows little either side of it: embedding_model (35.7 dB on float32 weights, 30.5 dB with
    /// every float weight int8) gets one small weight float16 (0.259× fp32); with the floor 1 dB stricter, six (0.278×).
    /// Ordered by SNR alone, the same model had gone to 0.321× when the float kernels' last bits moved it under the floor.
    /// </summary>
    public double StorageLossDb { get; set; } = 4;
    /// <summary>How weights are rounded to int8 (int8 layers and int8-stored float weights alike).</summary>
    public WeightRounding Rounding { get; set; } = WeightRounding.Hessian;
}

/// <summary>How the quantizer rounds a weight to int8 × a scale per channel.</summary>
public enum WeightRounding
{
    /// <summary>Each value to its nearest int8 step.</summary>
    Nearest,
    /// <summary>
    /// So the layer's output on the calibration samples moves least (<see cref="HessianRounding"/>): the default; layers
    /// with more than <see cref="WeightHessians.MaxK"/> inputs per channel, and weights read by several nodes, round to nearest.
    /// </summary>
    Hessian,
}

/// <summary>One row of the per-layer error report.</summary>
/// <param name="LayerSnrDb">SNR of the layer's own output when only this layer is quantized.</param>
/// <param name="ModelSnrDb">SNR of the model output when only this layer is quantized.</param>
/// <param name="Storage">How a float layer's weight is stored in the file: int8, float16 or float32 (<see cref="QuantizerOptions.FloatWeights"/>).</param>
public sealed record LayerReport(string Node, string Op, double LayerSnrDb, double ModelSnrDb, bool Int8, string Storage = "float32", string Weight = "");

public sealed class QuantizationResult
{
    /// <summary>The float model the quantizer started from (after the float passes, opset ≥ 13).</summary>
    public required ModelProto FloatModel { get; init; }
    /// <summary>The QDQ model: standard ONNX that ONNX Runtime runs too.</summary>
    public required ModelProto QdqModel { get; init; }
    public required List<LayerReport> Layers { get; init; }
    /// <summary>Every float32 weight of at least 1 KiB the float model has, and how the file stores it if it stays float.</summary>
    public List<StoredWeight> StoredWeights { get; init; } = [];
    /// <summary>SNR (dB) of the model output before the float weights were rounded (<see cref="ModelSnrDb"/> is after); NaN when none was.</summary>
    public double SnrBeforeStorageDb { get; init; } = double.NaN;
    /// <summary>SNR (dB) of the QDQ model's outputs against the float model over the measured samples.</summary>
    public double ModelSnrDb { get; init; }
    public int CalibrationSamples { get; init; }
    /// <summary>The weights of the layers in <see cref="Layers"/> (the rest of <see cref="StoredWeights"/> are other constants).</summary>
    public HashSet<string> LayerWeights { get; init; } = new(StringComparer.Ordinal);

    public string Report()
    {
        var sb = new StringBuilder();
        int width = Math.Max(5, Layers.Count == 0 ? 5 : Layers.Max(l => l.Node.Length));
        sb.AppendLine(CultureInfo.InvariantCulture, $"{"layer".PadRight(width)}  {"op",-7} {"layer SNR",10} {"model SNR",10}  kept");
        foreach (var l in Layers)
            sb.AppendLine(CultureInfo.InvariantCulture, $"{l.Node.PadRight(width)}  {l.Op,-7} {Db(l.LayerSnrDb),10} {Db(l.ModelSnrDb),10}  {(l.Int8 ? "int8" : $"float compute, {l.Storage} weights{Alone(l)}")}");
        var others = StoredWeights.Where(w => !LayerWeights.Contains(w.Name)).ToList();
        foreach (var w in others)
            sb.AppendLine(CultureInfo.InvariantCulture, $"constant {w.Name} [{w.Shape}]: stored {w.Storage}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"{Layers.Count(l => l.Int8)} of {Layers.Count} layers int8; " +
            $"{Layers.Count(l => !l.Int8 && l.Storage == "int8")} float layers and {others.Count(w => w.Storage == "int8")} other constants store int8 weights, " +
            $"{Layers.Count(l => !l.Int8 && l.Storage == "float16") + others.Count(w => w.Storage == "float16")} float16 " +
            $"(model output SNR {Db(SnrBeforeStorageDb)} dB before they were rounded)");
        sb.Append(CultureInfo.InvariantCulture, $"model output SNR {Db(ModelSnrDb)} dB over {CalibrationSamples} calibration samples");
        return sb.ToString();
    }

    /// <summary>For a float layer whose weight was measured alone: what rounding it to int8 cost the float model.</summary>
    private string Alone(LayerReport l) =>
        StoredWeights.FirstOrDefault(w => w.Name == l.Weight) is { AloneSnrDb: var a } && !double.IsNaN(a) ? $" (int8 alone: model SNR {Db(a)} dB)" : "";

    private static string Db(double v) => double.IsNaN(v) ? "-" : double.IsPositiveInfinity(v) ? "exact" : v.ToString("F1", CultureInfo.InvariantCulture);
}

/// <summary>
/// Post-training int8 quantization: float passes, calibration, one measurement per layer, and the QDQ rewrite of the
/// layers that keep the model accurate.
/// </summary>
public static class Quantizer
{
    /// <summary>The float passes that keep the graph standard ONNX (activation fusion runs after quantization, on the QDQ graph).</summary>
    private static readonly IGraphPass[] s_floatPasses =
        [new IdentityElimination(), new ConstantFolding(), new InlineConstantIf(), new FuseConvBatchNorm(), new DeadNodeElimination()];

    public static QuantizationResult Quantize(Model model, IReadOnlyList<Dictionary<string, Tensor>> samples, QuantizerOptions? options = null)
    {
        options ??= new QuantizerOptions();
        if (samples.Count == 0) throw new InputMismatchException("Quantization needs at least one calibration sample");
        var floatProto = Prepare(model, samples[0]);
        var floatModel = OnnxImporter.FromProto(floatProto);
        var stats = Calibrator.Collect(floatModel, samples);
        var ranges = new Dictionary<string, ActivationParams>(StringComparer.Ordinal);
        foreach (var (name, s) in stats)
        {
            var (lo, hi) = s.Range(options.Method, options.Percentile);
            ranges[name] = ActivationParams.FromRange(lo, hi);
        }
        ActivationParams Params(string name) => ranges[name];
        var layers = QdqRewriter.FindLayers(floatProto, ranges.ContainsKey);

        var measured = Spread(samples, options.SensitivitySamples);
        var rawOutputs = layers.Select(l => l.RawOutput).ToArray();
        var scored = ScoredTensors(floatProto);
        var reference = RunAll(floatProto, measured, scored, rawOutputs);
        var reports = new List<LayerReport>();
        var chosen = new List<QuantizableLayer>();
        foreach (var layer in layers)
        {
            if (!options.AnalyzeLayers)
            {
                chosen.Add(layer);
                reports.Add(new LayerReport(layer.Node, layer.Op, double.NaN, double.NaN, true));
                continue;
            }
            var one = RunAll(QdqSimulation.Lower(QdqRewriter.Rewrite(floatProto, [layer], Params)), measured, scored, [layer.RawOutput]);
            double layerSnr = Snr(reference, one, s => s.Kept[layer.RawOutput], s => s.Kept[layer.RawOutput]);
            double modelSnr = Snr(reference, one, s => s.Outputs, s => s.Outputs);
            bool keep = modelSnr >= options.MinLayerSnrDb;
            if (keep) chosen.Add(layer);
            reports.Add(new LayerReport(layer.Node, layer.Op, layerSnr, modelSnr, keep));
        }
        // Float weights are rounded to what the file stores compactly (int8 per channel, float16 for vectors): every
        // measurement from here on includes that, so layers go back to float until the stored model meets the target
        var axes = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var l in layers)
        {
            axes[l.Weight] = l.WeightAxis;
            if (l.Recurrence is not null) axes[l.Recurrence] = l.WeightAxis;
        }
        var hessians = options.Rounding == WeightRounding.Hessian && options.FloatWeights != FloatWeightStorage.Keep
            ? WeightHessians.Collect(floatProto, layers, measured) : null;
        var plan = new WeightStoragePlan(floatProto, options.FloatWeights, axes, hessians);
        var stored = plan.Apply(floatProto);
        var qdq = QdqRewriter.Rewrite(stored, chosen, Params);
        double totalSnr = Snr(reference, RunAll(QdqSimulation.Lower(qdq), measured, scored, []), s => s.Outputs, s => s.Outputs);
        // noise of many layers adds up: give back the costliest ones until the whole model meets the target
        // With compact float weights a layer given back costs speed only, not file size: up to two thirds of the
        // layers may go back (a third when float weights keep float32 storage)
        int budget = !options.AnalyzeLayers ? 0 : options.FloatWeights == FloatWeightStorage.Keep ? layers.Count / 3 : layers.Count * 2 / 3;
        while (totalSnr < options.TargetModelSnrDb && budget-- > 0 && chosen.Count > 0)
        {
            var worst = chosen.MinBy(l => reports.First(r => r.Node == l.Node).ModelSnrDb)!;
            chosen.Remove(worst);
            int at = reports.FindIndex(r => r.Node == worst.Node);
            reports[at] = reports[at] with { Int8 = false };
            qdq = QdqRewriter.Rewrite(stored, chosen, Params);
            totalSnr = Snr(reference, RunAll(QdqSimulation.Lower(qdq), measured, scored, []), s => s.Outputs, s => s.Outputs);
        }
        // Then, if the target loop could not make up for the rounded weights and they leave the model below the target
        // and more than StorageLossDb below the same layers on float32 weights, the costliest float-layer weights go to
        // float16
        double snrBefore = double.NaN;
        var int8Weights = chosen.SelectMany(l => l.Recurrence is null ? [l.Weight] : new[] { l.Weight, l.Recurrence }).ToHashSet(StringComparer.Ordinal);
        if (plan.Any)
        {
            snrBefore = Snr(reference, RunAll(QdqSimulation.Lower(QdqRewriter.Rewrite(floatProto, chosen, Params)), measured, scored, []), s => s.Outputs, s => s.Outputs);
            double floor = Math.Min(options.TargetModelSnrDb, snrBefore - options.StorageLossDb);
            ModelProto Build(ModelProto m) => QdqRewriter.Rewrite(m, chosen, Params);
            totalSnr = plan.Demote(floatProto, totalSnr, floor, int8Weights,
                m => Snr(reference, RunAll(QdqSimulation.Lower(m), measured, scored, []), s => s.Outputs, s => s.Outputs), Build);
            qdq = Build(plan.Apply(floatProto));
        }
        // report the weights that stay float initializers in the result (not those an int8 layer turned into int8 / int32)
        var floatInitializers = new HashSet<string>(StringComparer.Ordinal);
        CollectFloatInitializers(qdq.Graph, floatInitializers);
        var storedWeights = plan.Report(int8Weights).Where(w => floatInitializers.Contains(w.Name)).ToList();
        var storage = storedWeights.ToDictionary(w => w.Name, w => w.Storage, StringComparer.Ordinal);
        for (int i = 0; i < reports.Count; i++)
            if (!reports[i].Int8 && storage.TryGetValue(layers[i].Weight, out var how)) reports[i] = reports[i] with { Storage = how, Weight = layers[i].Weight };
        return new QuantizationResult
        {
            FloatModel = floatProto, QdqModel = qdq, Layers = reports, ModelSnrDb = totalSnr, CalibrationSamples = samples.Count,
            StoredWeights = storedWeights, SnrBeforeStorageDb = snrBefore, LayerWeights = layers.Select(l => l.Weight).ToHashSet(StringComparer.Ordinal),
        };
    }

    private static void CollectFloatInitializers(GraphProto g, HashSet<string> names)
    {
        foreach (var t in g.Initializer) if (t.DataType == (int)DataType.Float32) names.Add(t.Name);
        foreach (var n in g.Node)
            foreach (var a in n.Attribute)
            {
                if (a.G is not null) CollectFloatInitializers(a.G, names);
                foreach (var sub in a.Graphs) CollectFloatInitializers(sub, names);
            }
    }

    /// <summary>Float passes, then ONNX opset 13 (per-axis DequantizeLinear) — the model every measurement starts from.</summary>
    public static ModelProto Prepare(Model model, Dictionary<string, Tensor> sample)
    {
        PassPipeline.Optimize(model, s_floatPasses);
        var session = new Session(model);
        session.Run(sample);
        var facts = session.Plan.Facts;
        int? RankOf(string name) => model.Graph.Values.TryGetValue(name, out var v)
            ? facts.TryGetValue(v, out var f) ? f.Dims.Length : v.Shape?.Length
            : null;
        var proto = Export.OnnxExporter.ToProto(model);
        UniqueNodeNames(proto.Graph);
        OpsetUpgrade.ToOpset13(proto, RankOf);
        return proto;
    }

    /// <summary>Node names key the per-layer decisions and the report: make them unique (ONNX does not require it).</summary>
    private static void UniqueNodeNames(GraphProto graph)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in graph.Node)
        {
            string stem = n.Name.Length > 0 ? n.Name : n.OpType, name = stem;
            for (int i = 1; !names.Add(name); i++) name = $"{stem}_{i}";
            n.Name = name;
        }
    }

    private static List<Dictionary<string, Tensor>> Spread(IReadOnlyList<Dictionary<string, Tensor>> samples, int count)
    {
        if (samples.Count <= count) return samples.ToList();
        var picked = new List<Dictionary<string, Tensor>>(count);
        for (int i = 0; i < count; i++) picked.Add(samples[(int)((long)i * samples.Count / count)]);
        return picked;
    }

    /// <summary>
    /// The tensors whose error scores a candidate: the graph outputs, or the logits before a final Softmax / LogSoftmax /
    /// Sigmoid (a saturated probability hides the error that flips a close call).
    /// </summary>
    private static string[] ScoredTensors(ModelProto model)
    {
        var producers = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        foreach (var n in model.Graph.Node) foreach (var o in n.Output) producers[o] = n;
        return model.Graph.Output.Select(o => producers.TryGetValue(o.Name, out var p) && p.OpType is "Softmax" or "LogSoftmax" or "Sigmoid" && p.Input.Count == 1
            ? p.Input[0] : o.Name).ToArray();
    }

    internal sealed record SampleResult(float[] Outputs, Dictionary<string, float[]> Kept);

    /// <summary>Runs a model over samples; per sample, the scored float tensors concatenated and the kept tensors.</summary>
    internal static List<SampleResult> RunAll(ModelProto proto, IReadOnlyList<Dictionary<string, Tensor>> samples, IReadOnlyList<string> scored, IReadOnlyList<string> keep)
    {
        var model = OnnxImporter.FromProto(proto);
        var options = new SessionOptions { AllowInPlace = false };
        foreach (var k in keep) options.KeepAlive.Add(k);
        foreach (var k in scored) options.KeepAlive.Add(k);
        var session = new Session(model, options);
        var results = new List<SampleResult>(samples.Count);
        foreach (var sample in samples)
        {
            session.Run(sample);
            float[] Read(string name)
            {
                var value = model.Graph.Values[name];
                var facts = session.Plan.Facts[value];
                if (facts.DataType != DataType.Float32) return [];
                if (facts.Constant is { } c) return c.ToFloatArray();
                return MemoryMarshal.Cast<byte, float>(session.Plan.MemoryOf(value).Span)[..facts.ElementCount].ToArray();
            }
            var flat = new List<float>();
            foreach (var name in scored) flat.AddRange(Read(name));
            var kept = new Dictionary<string, float[]>(StringComparer.Ordinal);
            foreach (var k in keep) kept[k] = Read(k);
            results.Add(new SampleResult(flat.ToArray(), kept));
        }
        return results;
    }

    /// <summary>10·log10(Σ ref² / Σ (ref − q)²) over all samples; +∞ when equal.</summary>
    internal static double Snr(List<SampleResult> reference, List<SampleResult> test, Func<SampleResult, float[]> refOf, Func<SampleResult, float[]> testOf)
    {
        double signal = 0, noise = 0;
        for (int s = 0; s < reference.Count; s++)
        {
            var r = refOf(reference[s]);
            var t = testOf(test[s]);
            for (int i = 0; i < r.Length; i++) { signal += (double)r[i] * r[i]; double d = (double)r[i] - t[i]; noise += d * d; }
        }
        if (noise == 0) return double.PositiveInfinity;
        return 10 * Math.Log10(Math.Max(signal, 1e-30) / noise);
    }
}
