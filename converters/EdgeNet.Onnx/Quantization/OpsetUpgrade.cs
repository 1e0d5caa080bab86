using EdgeNet.IR;
using EdgeNet.Onnx.Proto;

namespace EdgeNet.Onnx.Quantization;

/// <summary>
/// Raises a model's default-domain opset to 13, the first with per-axis QuantizeLinear / DequantizeLinear. Only the
/// operators whose signature changed between the old opset and 13 are rewritten (attributes that became inputs, and
/// Softmax-family axis semantics); an operator whose old form cannot be expressed at 13 is reported as unsupported.
/// </summary>
public static class OpsetUpgrade
{
    public const int Target = 13;

    /// <param name="rankOf">Rank of a value, when known (Softmax before 13 flattens from its axis: same as 13 only on the last axis).</param>
    public static void ToOpset13(ModelProto model, Func<string, int?> rankOf)
    {
        var opset = model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx");
        int from = opset is null ? 1 : (int)opset.Version;
        if (from >= Target) return;
        var g = model.Graph;
        int counter = 0;
        string AddInts(string stem, IEnumerable<long> values)
        {
            var arr = values.ToArray();
            string name = $"{stem}_opset13_{counter++}";
            g.Initializer.Add(TensorProtoConverter.ToProto(name, Tensor.FromArray([arr.Length], arr)));
            return name;
        }
        string AddFloat(string stem, float value)
        {
            string name = $"{stem}_opset13_{counter++}";
            g.Initializer.Add(TensorProtoConverter.ToProto(name, Tensor.Scalar(value)));
            return name;
        }
        foreach (var n in g.Node)
        {
            if (n.Domain is not ("" or "ai.onnx")) continue;
            switch (n.OpType)
            {
                case "Clip" when from < 11:
                {
                    float lo = Attr(n, "min")?.F ?? float.MinValue, hi = Attr(n, "max")?.F ?? float.MaxValue;
                    Remove(n, "min"); Remove(n, "max");
                    while (n.Input.Count > 1) n.Input.RemoveAt(n.Input.Count - 1);
                    n.Input.Add(AddFloat(n.Name + "_min", lo));
                    n.Input.Add(AddFloat(n.Name + "_max", hi));
                    break;
                }
                case "Slice" when from < 10:
                {
                    var starts = Attr(n, "starts")?.Ints.ToArray() ?? [];
                    var ends = Attr(n, "ends")?.Ints.ToArray() ?? [];
                    var axes = Attr(n, "axes")?.Ints.ToArray();
                    Remove(n, "starts"); Remove(n, "ends"); Remove(n, "axes");
                    n.Input.Add(AddInts(n.Name + "_starts", starts));
                    n.Input.Add(AddInts(n.Name + "_ends", ends));
                    if (axes is not null) n.Input.Add(AddInts(n.Name + "_axes", axes));
                    break;
                }
                case "Unsqueeze" or "Squeeze" or "ReduceSum" when Attr(n, "axes") is { } axesAttr:
                {
                    var axes = axesAttr.Ints.ToArray();
                    Remove(n, "axes");
                    if (n.Input.Count < 2) n.Input.Add(AddInts(n.Name + "_axes", axes));
                    break;
                }
                case "Split" when Attr(n, "split") is { } splitAttr:
                {
                    var split = splitAttr.Ints.ToArray();
                    Remove(n, "split");
                    n.Input.Add(AddInts(n.Name + "_split", split));
                    break;
                }
                case "Pad" when from < 11:
                {
                    var pads = Attr(n, "pads")?.Ints.ToArray() ?? Attr(n, "paddings")?.Ints.ToArray() ?? [];
                    float value = Attr(n, "value")?.F ?? 0;
                    Remove(n, "pads"); Remove(n, "paddings"); Remove(n, "value");
                    n.Input.Add(AddInts(n.Name + "_pads", pads));
                    n.Input.Add(AddFloat(n.Name + "_value", value));
                    break;
                }
                case "Softmax" or "LogSoftmax" or "Hardmax":
                {
                    long axis = Attr(n, "axis")?.I ?? 1;
                    int? rank = rankOf(n.Input[0]);
                    if (rank is null || (axis != -1 && axis != rank - 1))
                        throw new UnsupportedOperatorException($"{n.OpType} node '{n.Name}' (opset {from}) flattens from axis {axis} of a rank-{rank?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"} input, which opset 13 cannot express; quantization needs opset 13");
                    break;
                }
                case "Upsample" or "Resize" or "Dropout" or "TopK" or "Scan" or "BatchNormalization" when from < 11:
                    throw new UnsupportedOperatorException($"{n.OpType} node '{n.Name}' is at opset {from}; the quantizer upgrades models to opset 13 and cannot convert this operator");
            }
        }
        if (opset is null) model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Target });
        else opset.Version = Target;
    }

    private static AttributeProto? Attr(NodeProto n, string name) => n.Attribute.FirstOrDefault(a => a.Name == name);

    private static void Remove(NodeProto n, string name)
    {
        for (int i = n.Attribute.Count - 1; i >= 0; i--) if (n.Attribute[i].Name == name) n.Attribute.RemoveAt(i);
    }
}
