using EdgeNet.IR;
using EdgeNet.Onnx.Proto;

namespace EdgeNet.Onnx.Quantization;

/// <summary>A Conv / Gemm / MatMul with a constant weight, or an LSTM / GRU with constant W and R, that the quantizer can turn into int8.</summary>
/// <param name="Recurrence">LSTM / GRU: the recurrence weight R (input 2), quantized like W along the gate axis 1.</param>
/// <param name="Output">The tensor whose QuantizeLinear/DequantizeLinear pair follows the layer: its output, or the output of the Relu/Clip that alone reads it; null when that is a graph output (it stays float).</param>
public sealed record QuantizableLayer(string Node, string Op, string Input, string Weight, int WeightAxis, string? Bias, string RawOutput, string? Output, string? Recurrence = null);

/// <summary>uint8 activation quantization of one tensor: x ≈ (q − ZeroPoint) · Scale.</summary>
public readonly record struct ActivationParams(float Scale, byte ZeroPoint)
{
    /// <summary>Asymmetric uint8 over [lo, hi] widened to hold 0 (so zero padding and Relu are exact).</summary>
    public static ActivationParams FromRange(float lo, float hi)
    {
        lo = Math.Min(lo, 0);
        hi = Math.Max(hi, 0);
        float scale = (hi - lo) / 255f;
        if (!(scale > 0) || !float.IsFinite(scale)) return new ActivationParams(1f, 0);
        return new ActivationParams(scale, (byte)Math.Clamp(MathF.Round(-lo / scale, MidpointRounding.ToEven), 0, 255));
    }
}

/// <summary>
/// Writes the standard ONNX QDQ form of a float model (opset ≥ 13): each chosen layer reads its activation through
/// QuantizeLinear→DequantizeLinear (uint8, per tensor, asymmetric), its weight as an int8 initializer through a
/// per-axis DequantizeLinear (symmetric, [-127, 127], zero point 0, one scale per output channel), its bias as int32
/// with scale a_scale·w_scale[n]. Activations are quantized where an int8 layer reads them (one pair per tensor, read
/// by the int8 layers only).
/// ONNX Runtime runs the result as is; EdgeNet's QDQ fold pass turns the patterns into integer ops at plan time.
/// </summary>
public static class QdqRewriter
{
    /// <summary>The layers of <paramref name="model"/> that can be quantized; <paramref name="isFloatActivation"/> says which runtime tensors calibration saw as float.</summary>
    public static List<QuantizableLayer> FindLayers(ModelProto model, Func<string, bool> isFloatActivation)
    {
        var g = model.Graph;
        var inits = g.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var outputs = g.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var consumers = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
        foreach (var n in g.Node)
            foreach (var i in n.Input)
                if (i.Length > 0) { if (!consumers.TryGetValue(i, out var l)) consumers[i] = l = []; l.Add(n); }
        var layers = new List<QuantizableLayer>();
        foreach (var n in g.Node)
        {
            if (n.Domain is not ("" or "ai.onnx") || n.Output.Count == 0 || n.Input.Count < 2) continue;
            if (n.Output.Count != 1 && n.OpType is not ("LSTM" or "GRU")) continue;
            string x = n.Input[0], w = n.Input[1];
            if (!isFloatActivation(x) || inits.ContainsKey(x) || !inits.TryGetValue(w, out var weight) || weight.DataType != (int)DataType.Float32) continue;
            int axis;
            string? bias = null, recurrence = null;
            switch (n.OpType)
            {
                // weights int8 per gate row, the gate math stays float: W [dirs, gates·H, in] and R [dirs, gates·H, H] along axis 1
                case "LSTM" or "GRU" when weight.Dims.Count == 3 && n.Input.Count > 2 && inits.TryGetValue(n.Input[2], out var r)
                                          && r.DataType == (int)DataType.Float32 && r.Dims.Count == 3 && n.Output[0].Length > 0:
                    axis = 1;
                    recurrence = n.Input[2];
                    layers.Add(new QuantizableLayer(n.Name, n.OpType, x, w, axis, null, n.Output[0], null, recurrence));
                    continue;
                case "Conv" when weight.Dims.Count >= 3:
                    axis = 0;
                    if (n.Input.Count > 2 && n.Input[2].Length > 0)
                    {
                        if (!inits.TryGetValue(n.Input[2], out var b) || b.DataType != (int)DataType.Float32) continue;
                        bias = n.Input[2];
                    }
                    break;
                case "Gemm" when weight.Dims.Count == 2 && Int(n, "transA", 0) == 0:
                    axis = Int(n, "transB", 0) != 0 ? 0 : 1;
                    if (n.Input.Count > 2 && n.Input[2].Length > 0)
                    {
                        if (!inits.TryGetValue(n.Input[2], out var c) || c.DataType != (int)DataType.Float32) continue;
                        // an int32 bias needs C = one value per output channel added as is
                        if (c.Dims.Count == 1 && c.Dims[0] == weight.Dims[axis] && Float(n, "alpha", 1) == 1 && Float(n, "beta", 1) == 1) bias = n.Input[2];
                    }
                    break;
                case "MatMul" when weight.Dims.Count == 2:
                    axis = 1;
                    break;
                default:
                    continue;
            }
            string raw = n.Output[0];
            string? output = raw;
            if (consumers.TryGetValue(raw, out var readers) && readers.Count == 1 && !outputs.Contains(raw)
                && readers[0].OpType is "Relu" or "Clip" && readers[0].Domain is "" or "ai.onnx" && readers[0].Input[0] == raw)
                output = readers[0].Output[0];
            if (outputs.Contains(output) || !isFloatActivation(output) || FeedsHead(output, consumers, outputs)) output = null;
            layers.Add(new QuantizableLayer(n.Name, n.OpType, x, w, axis, bias, raw, output));
        }
        return layers;
    }

    /// <summary>True when the tensor reaches a graph output without passing another Conv / Gemm / MatMul / RNN: the model's head (logits), kept float.</summary>
    private static bool FeedsHead(string tensor, Dictionary<string, List<NodeProto>> consumers, HashSet<string> outputs)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var todo = new Stack<string>();
        todo.Push(tensor);
        while (todo.Count > 0)
        {
            string t = todo.Pop();
            if (!seen.Add(t)) continue;
            if (outputs.Contains(t)) return true;
            if (!consumers.TryGetValue(t, out var readers)) continue;
            foreach (var r in readers)
                if (r.OpType is not ("Conv" or "Gemm" or "MatMul" or "LSTM" or "GRU"))
                    foreach (var o in r.Output) if (o.Length > 0) todo.Push(o);
        }
        return false;
    }

    private static long Int(NodeProto n, string name, long fallback) => n.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.I : fallback;
    private static float Float(NodeProto n, string name, float fallback) => n.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.F : fallback;

    /// <summary>A copy of <paramref name="model"/> with <paramref name="layers"/> in QDQ form; <paramref name="activation"/> gives each activation's quantization.</summary>
    public static ModelProto Rewrite(ModelProto model, IReadOnlyList<QuantizableLayer> layers, Func<string, ActivationParams> activation)
    {
        var result = model.Clone();
        var g = result.Graph;
        var inits = g.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in g.Initializer) names.Add(t.Name);
        foreach (var v in g.Input) names.Add(v.Name);
        foreach (var n in g.Node) foreach (var o in n.Output) names.Add(o);
        string Fresh(string stem)
        {
            string name = stem;
            for (int i = 1; !names.Add(name); i++) name = $"{stem}_{i}";
            return name;
        }

        // activations: one Q/DQ pair per tensor, however many layers read or write it
        var activations = new Dictionary<string, (string Dq, ActivationParams P)>(StringComparer.Ordinal);
        var pairs = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal); // producer tensor → its Q, DQ nodes
        void Quantize(string tensor)
        {
            if (activations.ContainsKey(tensor)) return;
            var p = activation(tensor);
            string scale = Fresh(tensor + ".s"), zp = Fresh(tensor + ".zp"), q = Fresh(tensor + ".q"), dq = Fresh(tensor + ".dq");
            g.Initializer.Add(TensorProtoConverter.ToProto(scale, Tensor.Scalar(p.Scale)));
            g.Initializer.Add(TensorProtoConverter.ToProto(zp, Tensor.Scalar(p.ZeroPoint)));
            pairs[tensor] =
            [
                Node("QuantizeLinear", q, [tensor, scale, zp], q),
                Node("DequantizeLinear", dq, [q, scale, zp], dq),
            ];
            activations[tensor] = (dq, p);
        }
        // Activations are quantized where an int8 layer reads them. When that tensor is also an int8 layer's output
        // (after a Relu/Clip that alone reads it), every reader takes the dequantized copy, so the producer feeds Q
        // alone and the fold pass finds DQ → layer → Q. Other outputs stay float (HardSwish, squeeze-excite gates,
        // logits), and so do float readers of other quantized tensors: measured more accurate on the real models.
        var inputs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var l in layers) { Quantize(l.Input); inputs.Add(l.Input); }
        var produced = new HashSet<string>(StringComparer.Ordinal);
        var readers = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
        foreach (var n in g.Node) foreach (var i in n.Input) if (i.Length > 0) { if (!readers.TryGetValue(i, out var r)) readers[i] = r = []; r.Add(n); }
        foreach (var l in layers)
        {
            if (l.Output is null) continue;
            // read by an int8 layer, or only by residual Adds whose sums an int8 layer reads
            bool residual = readers.TryGetValue(l.Output, out var rs) && rs.All(r => r.OpType == "Add" && inputs.Contains(r.Output[0]));
            if (inputs.Contains(l.Output)) produced.Add(l.Output);
            else if (residual) { Quantize(l.Output); produced.Add(l.Output); }
        }

        var prefix = new List<NodeProto>();
        var layerInputs = new Dictionary<string, (int Index, string Name)[]>(StringComparer.Ordinal);
        foreach (var l in layers)
        {
            var w = TensorProtoConverter.FromProto(inits[l.Weight]);
            var (wq, wScale) = QuantizeWeight(w, l.WeightAxis);
            // zero point omitted: ONNX defaults it to 0 of the input's type (int8)
            string wName = Fresh(l.Weight + ".q"), wScaleName = Fresh(l.Weight + ".s"), wDq = Fresh(l.Weight + ".dq");
            g.Initializer.Add(TensorProtoConverter.ToProto(wName, wq));
            g.Initializer.Add(TensorProtoConverter.ToProto(wScaleName, Tensor.FromArray([wScale.Length], wScale)));
            var wNode = Node("DequantizeLinear", wDq, [wName, wScaleName], wDq);
            wNode.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = l.WeightAxis });
            prefix.Add(wNode);
            var replaced = new List<(int, string)> { (0, activations[l.Input].Dq), (1, wDq) };
            if (l.Recurrence is not null)
            {
                var (rq, rScale) = QuantizeWeight(TensorProtoConverter.FromProto(inits[l.Recurrence]), l.WeightAxis);
                string rName = Fresh(l.Recurrence + ".q"), rScaleName = Fresh(l.Recurrence + ".s"), rDq = Fresh(l.Recurrence + ".dq");
                g.Initializer.Add(TensorProtoConverter.ToProto(rName, rq));
                g.Initializer.Add(TensorProtoConverter.ToProto(rScaleName, Tensor.FromArray([rScale.Length], rScale)));
                var rNode = Node("DequantizeLinear", rDq, [rName, rScaleName], rDq);
                rNode.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = l.WeightAxis });
                prefix.Add(rNode);
                replaced.Add((2, rDq));
            }
            if (l.Bias is not null)
            {
                float aScale = activations[l.Input].P.Scale;
                var b = TensorProtoConverter.FromProto(inits[l.Bias]).ToFloatArray();
                var bScale = new float[b.Length];
                var bq = new int[b.Length];
                for (int i = 0; i < b.Length; i++)
                {
                    bScale[i] = aScale * wScale[i];
                    bq[i] = (int)Math.Clamp(Math.Round((double)b[i] / bScale[i], MidpointRounding.ToEven), int.MinValue, int.MaxValue);
                }
                string bName = Fresh(l.Bias + ".q"), bScaleName = Fresh(l.Bias + ".s"), bDq = Fresh(l.Bias + ".dq");
                g.Initializer.Add(TensorProtoConverter.ToProto(bName, Tensor.FromArray([bq.Length], bq)));
                g.Initializer.Add(TensorProtoConverter.ToProto(bScaleName, Tensor.FromArray([bScale.Length], bScale)));
                var bNode = Node("DequantizeLinear", bDq, [bName, bScaleName], bDq);
                bNode.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
                prefix.Add(bNode);
                replaced.Add((2, bDq));
            }
            layerInputs[l.Node] = replaced.ToArray();
        }
        var outputs = g.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var nodes = new List<NodeProto>(prefix);
        foreach (var v in g.Input) if (pairs.TryGetValue(v.Name, out var pair)) nodes.AddRange(pair);
        foreach (var n in g.Node)
        {
            // an int8 layer's output is read dequantized by everyone (its producer must feed Q alone to fold); other
            // quantized tensors only by the int8 layers, float readers (e.g. of the graph input) keep full precision
            if (layerInputs.TryGetValue(n.Name, out var own))
                foreach (var (index, name) in own) n.Input[index] = name;
            for (int i = 0; i < n.Input.Count; i++)
                if (produced.Contains(n.Input[i]) && activations.TryGetValue(n.Input[i], out var a)) n.Input[i] = a.Dq;
            nodes.Add(n);
            foreach (var o in n.Output) if (pairs.TryGetValue(o, out var pair)) nodes.AddRange(pair);
        }
        g.Node.Clear();
        g.Node.AddRange(nodes);
        DropUnusedInitializers(g);
        return result;
    }

    /// <summary>Symmetric per-channel int8: w_q = clamp(round(w / s_c), −127, 127) with s_c = max|w_c| / 127 along <paramref name="axis"/>.</summary>
    public static (Tensor Quantized, float[] Scales) QuantizeWeight(Tensor weight, int axis)
    {
        var w = weight.ToFloatArray();
        int channels = weight.Dims[axis], inner = 1;
        for (int d = axis + 1; d < weight.Rank; d++) inner *= weight.Dims[d];
        var absMax = new float[channels];
        for (int i = 0; i < w.Length; i++) { int c = i / inner % channels; absMax[c] = Math.Max(absMax[c], Math.Abs(w[i])); }
        var scales = new float[channels];
        for (int c = 0; c < channels; c++) scales[c] = absMax[c] > 0 ? absMax[c] / 127f : 1f;
        var q = new sbyte[w.Length];
        for (int i = 0; i < w.Length; i++)
            q[i] = (sbyte)Math.Clamp(MathF.Round(w[i] / scales[i / inner % channels], MidpointRounding.ToEven), -127, 127);
        return (Tensor.FromArray((int[])weight.Dims.Clone(), q), scales);
    }

    internal static NodeProto Node(string op, string name, string[] inputs, string output)
    {
        var n = new NodeProto { OpType = op, Name = name };
        n.Input.AddRange(inputs);
        n.Output.Add(output);
        return n;
    }

    internal static void DropUnusedInitializers(GraphProto g)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in g.Node) { foreach (var i in n.Input) used.Add(i); foreach (var a in n.Attribute) if (a.G is not null) CollectCaptured(a.G, used); }
        foreach (var o in g.Output) used.Add(o.Name);
        for (int i = g.Initializer.Count - 1; i >= 0; i--) if (!used.Contains(g.Initializer[i].Name)) g.Initializer.RemoveAt(i);
    }

    private static void CollectCaptured(GraphProto g, HashSet<string> used)
    {
        foreach (var n in g.Node) { foreach (var i in n.Input) used.Add(i); foreach (var a in n.Attribute) if (a.G is not null) CollectCaptured(a.G, used); }
        foreach (var o in g.Output) used.Add(o.Name);
    }
}
