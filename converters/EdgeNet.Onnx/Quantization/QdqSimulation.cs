using EdgeNet.IR;
using EdgeNet.Onnx.Proto;

namespace EdgeNet.Onnx.Quantization;

/// <summary>
/// Lowers a QDQ model to float operators that compute the same numbers, so the quantizer can measure a candidate's
/// accuracy on any runtime that runs float models: DequantizeLinear of a constant becomes the float constant
/// (q − zp)·s, and each QuantizeLinear→DequantizeLinear pair becomes (Clip(Round(x / s) + zp, 0, 255) − zp) · s —
/// ONNX's QuantizeLinear (round half to even, saturate to uint8) followed by DequantizeLinear.
/// </summary>
public static class QdqSimulation
{
    public static ModelProto Lower(ModelProto qdq)
    {
        var result = qdq.Clone();
        var g = result.Graph;
        var inits = g.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var quantizers = g.Node.Where(n => n.OpType == "QuantizeLinear").ToDictionary(n => n.Output[0], StringComparer.Ordinal);
        var nodes = new List<NodeProto>();
        int counter = 0;
        foreach (var n in g.Node)
        {
            if (n.OpType == "QuantizeLinear") continue;
            if (n.OpType != "DequantizeLinear") { nodes.Add(n); continue; }
            if (inits.TryGetValue(n.Input[0], out var constant))
            {
                g.Initializer.Add(TensorProtoConverter.ToProto(n.Output[0], Dequantize(n, constant, inits)));
                continue;
            }
            var q = quantizers.TryGetValue(n.Input[0], out var qn) ? qn
                : throw new InvalidModelException($"DequantizeLinear '{n.Name}' reads '{n.Input[0]}', which no QuantizeLinear of this model makes");
            string x = q.Input[0], scale = q.Input[1];
            float zp = TensorProtoConverter.FromProto(inits[q.Input[2]]).AsSpan<byte>()[0];
            string Tmp(string what) => $"{n.Output[0]}_sim_{what}_{counter++}";
            string zpName = Tmp("zp"), lo = Tmp("lo"), hi = Tmp("hi");
            g.Initializer.Add(TensorProtoConverter.ToProto(zpName, Tensor.Scalar(zp)));
            g.Initializer.Add(TensorProtoConverter.ToProto(lo, Tensor.Scalar(0f)));
            g.Initializer.Add(TensorProtoConverter.ToProto(hi, Tensor.Scalar(255f)));
            string div = Tmp("div"), round = Tmp("round"), shifted = Tmp("shift"), clipped = Tmp("clip"), centered = Tmp("center");
            nodes.Add(QdqRewriter.Node("Div", div, [x, scale], div));
            nodes.Add(QdqRewriter.Node("Round", round, [div], round));
            nodes.Add(QdqRewriter.Node("Add", shifted, [round, zpName], shifted));
            nodes.Add(QdqRewriter.Node("Clip", clipped, [shifted, lo, hi], clipped));
            nodes.Add(QdqRewriter.Node("Sub", centered, [clipped, zpName], centered));
            nodes.Add(QdqRewriter.Node("Mul", n.Output[0], [centered, scale], n.Output[0]));
        }
        g.Node.Clear();
        g.Node.AddRange(nodes);
        QdqRewriter.DropUnusedInitializers(g);
        return result;
    }

    /// <summary>DequantizeLinear of a constant, per tensor or per axis: (float)(q − zp) · scale.</summary>
    private static Tensor Dequantize(NodeProto n, TensorProto constant, Dictionary<string, TensorProto> inits)
    {
        var q = TensorProtoConverter.FromProto(constant);
        var scale = TensorProtoConverter.FromProto(inits[n.Input[1]]).ToFloatArray();
        var zp = n.Input.Count > 2 && n.Input[2].Length > 0 ? TensorProtoConverter.FromProto(inits[n.Input[2]]).ToInt64Array() : new long[scale.Length];
        long axis = n.Attribute.FirstOrDefault(a => a.Name == "axis")?.I ?? 1;
        if (axis < 0) axis += q.Rank;
        int inner = 1;
        for (long d = axis + 1; d < q.Rank; d++) inner *= q.Dims[d];
        int channels = scale.Length == 1 ? 1 : q.Dims[axis];
        var result = new float[q.ElementCount];
        for (int i = 0; i < result.Length; i++)
        {
            int c = channels == 1 ? 0 : i / inner % channels;
            result[i] = (float)((long)q.GetAsDouble(i) - zp[c]) * scale[c];
        }
        return Tensor.FromArray((int[])q.Dims.Clone(), result);
    }
}
