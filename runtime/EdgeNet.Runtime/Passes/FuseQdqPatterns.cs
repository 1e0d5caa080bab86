using EdgeNet.IR;
using EdgeNet.Kernels.Activation;
using EdgeNet.Ops.Quantized;

namespace EdgeNet.Passes;

/// <summary>A DequantizeLinear feeding a pattern: its quantized data and constant parameters.</summary>
internal sealed record QdqDequantize(Node Node, Value Data, Value Scale, Value? ZeroPoint)
{
    /// <summary>
    /// The quantized element type: the data's declared type, else (an intermediate value without type information)
    /// the zero point's, else uint8 when a zero-point-less QuantizeLinear made it.
    /// </summary>
    public DataType Type =>
        Data.Constant?.DataType ?? (Data.DataType != DataType.Undefined ? Data.DataType
        : ZeroPoint?.Constant?.DataType ?? (GraphEdits.Is(Data.Producer, "QuantizeLinear") && !Data.Producer!.HasInput(2) && !Data.Producer.HasAttribute("output_dtype") ? DataType.UInt8 : DataType.Undefined));
    public int ScaleCount => Scale.Constant!.ElementCount;
    public float ScaleAt(int i) => Scale.Constant!.AsSpan<float>()[i];
    public int ZeroPointAt(int i) => ZeroPoint?.Constant is { } t ? QuantInputs.ZeroPoint(t.Data.Span, t.DataType, t.ElementCount == 1 ? 0 : i) : 0;
    /// <summary>The axis a per-axis scale applies to (the attribute, default 1), normalized for the given rank.</summary>
    public int Axis(int rank) { long a = Node.GetInt("axis", 1); return (int)(a < 0 ? a + rank : a); }
}

/// <summary>A QuantizeLinear ending a pattern, with constant per-tensor parameters.</summary>
internal sealed record QdqQuantize(Node Node, Value Scale, Value? ZeroPoint, DataType Type)
{
    public float ScaleValue => Scale.Constant!.AsSpan<float>()[0];
    public int ZeroPointValue => ZeroPoint?.Constant is { } t ? QuantInputs.ZeroPoint(t.Data.Span, t.DataType, 0) : 0;
}

/// <summary>
/// The matching helpers of the QDQ folding passes (FuseQdq*.cs). A QDQ graph (ONNX Runtime's and PyTorch's
/// quantizers, EdgeNet's own) stores every int8 tensor t as q = QuantizeLinear(t) and hands its readers
/// DequantizeLinear(q); weights are int8 initializers behind a DequantizeLinear. Each pass finds
/// DequantizeLinear → op → [activation] → QuantizeLinear and computes the op on q directly.
/// </summary>
internal static class FuseQdqPatterns
{
    /// <summary>The DequantizeLinear producing <paramref name="v"/> with constant scale and zero point (per tensor if asked), or null.</summary>
    public static QdqDequantize? Dequantized(IR.Graph g, Value? v, bool perTensor, bool allowInt32 = false)
    {
        var dq = GraphEdits.ProducerIn(g, v);
        if (!GraphEdits.Is(dq, "DequantizeLinear") || dq!.Inputs.Count < 2 || dq.Inputs[0] is not { } data || dq.Inputs[1] is not { } scale) return null;
        if (scale.Constant is not { DataType: DataType.Float32 } s || s.ElementCount == 0) return null;
        var zp = dq.Input(2);
        if (zp is not null && (zp.Constant is not { } z || z.ElementCount != s.ElementCount)) return null;
        if (perTensor && s.ElementCount != 1) return null;
        if (dq.GetInt("block_size", 0) != 0) return null;
        var info = new QdqDequantize(dq, data, scale, zp);
        var type = info.Type;
        if (type is not (DataType.UInt8 or DataType.Int8) && !(allowInt32 && type == DataType.Int32)) return null;
        if (zp?.Constant is { } zt && zt.DataType != type) return null;
        return info;
    }

    /// <summary>The QuantizeLinear that alone reads <paramref name="v"/>, with constant per-tensor uint8/int8 parameters, or null.</summary>
    public static QdqQuantize? QuantizedBy(IR.Graph g, Value v)
    {
        var q = GraphEdits.SoleConsumer(g, v);
        if (!GraphEdits.Is(q, "QuantizeLinear") || q!.Inputs[0] != v || q.Input(1)?.Constant is not { DataType: DataType.Float32, ElementCount: 1 }) return null;
        var zp = q.Input(2);
        DataType type;
        if (zp is not null)
        {
            if (zp.Constant is not { ElementCount: 1 } z || z.DataType is not (DataType.UInt8 or DataType.Int8)) return null;
            type = z.DataType;
        }
        else type = q.GetInt("output_dtype", 0) is var code and not 0 ? (DataType)code : DataType.UInt8;
        if (type is not (DataType.UInt8 or DataType.Int8) || q.GetInt("block_size", 0) != 0) return null;
        return new QdqQuantize(q, q.Inputs[1]!, zp, type);
    }

    /// <summary>
    /// Follows <paramref name="v"/> through a Relu or a Clip with constant bounds that alone reads it, to the
    /// QuantizeLinear that alone reads the result. Returns the activation node (or null) and the quantizer.
    /// </summary>
    public static (Node? Activation, FusedActivation Kind, QdqQuantize Quantize)? ActivationThenQuantize(IR.Graph g, Value v)
    {
        if (QuantizedBy(g, v) is { } direct) return (null, FusedActivation.None, direct);
        var act = GraphEdits.SoleConsumer(g, v);
        if (act is null || act.Inputs.Count == 0 || act.Inputs[0] != v || act.Outputs.Count != 1) return null;
        FusedActivation kind;
        if (GraphEdits.Is(act, "Relu")) kind = new FusedActivation(ActivationKind.Relu);
        else if (GraphEdits.Is(act, "Clip") && GraphEdits.ClipBounds(act) is var (lo, hi)) kind = new FusedActivation(ActivationKind.Clip, lo, hi);
        else return null;
        return QuantizedBy(g, act.Outputs[0]) is { } q ? (act, kind, q) : null;
    }

    /// <summary>The Relu or constant-bound Clip that alone reads <paramref name="v"/> (for a float-output fold), or (null, None).</summary>
    public static (Node? Activation, FusedActivation Kind) FloatActivation(IR.Graph g, Value v)
    {
        var act = GraphEdits.SoleConsumer(g, v);
        if (act is null || act.Inputs.Count == 0 || act.Inputs[0] != v || act.Outputs.Count != 1) return (null, FusedActivation.None);
        if (GraphEdits.Is(act, "Relu")) return (act, new FusedActivation(ActivationKind.Relu));
        if (GraphEdits.Is(act, "Clip") && GraphEdits.ClipBounds(act) is var (lo, hi)) return (act, new FusedActivation(ActivationKind.Clip, lo, hi));
        return (null, FusedActivation.None);
    }

    /// <summary>The zero-point value to hand a fused node: the given one, or a new constant 0 of <paramref name="type"/>.</summary>
    public static Value ZeroPoint(IR.Graph g, Value? zp, DataType type, string stem) =>
        zp ?? g.AddConstant(g.UniqueName(stem + "_zero_point"), type switch
        {
            DataType.Int8 => Tensor.Scalar<sbyte>(0),
            DataType.Int32 => Tensor.Scalar(0),
            _ => Tensor.Scalar<byte>(0),
        });

    /// <summary>True when a dequantizer and a quantizer use bit-identical per-tensor parameters and type (Q(DQ(q)) = q).</summary>
    public static bool SameParameters(QdqDequantize dq, QdqQuantize q) =>
        dq.ScaleCount == 1 && dq.Type == q.Type && BitConverter.SingleToInt32Bits(dq.ScaleAt(0)) == BitConverter.SingleToInt32Bits(q.ScaleValue)
        && dq.ZeroPointAt(0) == q.ZeroPointValue;

    /// <summary>
    /// The 256-entry table of y = Q(f(DQ(x))) indexed by x's stored byte, evaluated with the element-wise kernels'
    /// own scalar arithmetic (QuantizeMath; f as given).
    /// </summary>
    public static Tensor Table(QdqDequantize dq, QdqQuantize q, Func<float, float> f)
    {
        var (qmin, qmax) = QuantizeMath.Range(q.Type);
        float sx = dq.ScaleAt(0), sy = q.ScaleValue;
        int zx = dq.ZeroPointAt(0), zy = q.ZeroPointValue;
        var table = new byte[256];
        for (int raw = 0; raw < 256; raw++)
        {
            int x = dq.Type == DataType.Int8 ? (sbyte)(byte)raw : raw;
            table[raw] = (byte)QuantizeMath.Quantize(f((x - zx) * sx), sy, zy, qmin, qmax);
        }
        return q.Type == DataType.Int8
            ? Tensor.FromArray([256], Array.ConvertAll(table, b => (sbyte)b))
            : Tensor.FromArray([256], table);
    }

    /// <summary>Copies the attributes of <paramref name="from"/> that are not EdgeNet's own fused-activation markers.</summary>
    public static void CopyAttributes(Node from, Node to)
    {
        foreach (var (name, a) in from.Attributes)
            if (!name.StartsWith("edgenet.", StringComparison.Ordinal)) to.Attributes[name] = a;
    }
}
