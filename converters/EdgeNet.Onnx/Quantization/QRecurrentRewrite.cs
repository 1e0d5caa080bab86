using EdgeNet.IR;

namespace EdgeNet.Onnx.Quantization;

/// <summary>
/// Turns each LSTM / GRU of a quantized graph whose W and R are DequantizeLinear(int8 constant, per-gate-row scale,
/// zero point 0) into <c>edgenet.QLstm</c> / <c>edgenet.QGru</c> (runtime/EdgeNet.Runtime/Kernels/Quantized/README.md):
/// int8 W and R with scales [dirs, gates·H], int8 GEMMs with int32 accumulation, float gate math. Both quantize X
/// themselves (dynamic, per run), so they read the float X in front of the quantizer's Q/DQ pair. Runs before the
/// graph passes.
/// </summary>
public static class QRecurrentRewrite
{
    public static int Apply(Model model)
    {
        var g = model.Graph;
        int count = 0;
        for (int i = 0; i < g.Nodes.Count; i++)
        {
            var lstm = g.Nodes[i];
            if (lstm.OpType is not ("LSTM" or "GRU") || lstm.Domain.Length != 0) continue;
            bool gru = lstm.OpType == "GRU";
            if (Int8Weight(g, lstm.Input(1)) is not var (w, wScale) || Int8Weight(g, lstm.Input(2)) is not var (r, rScale)) continue;
            var x = lstm.Inputs[0]!;
            if (x.Producer is { OpType: "DequantizeLinear" } dq && dq.Inputs[0]?.Producer is { OpType: "QuantizeLinear" } q) x = q.Inputs[0]!;
            var node = new Node { OpType = gru ? "QGru" : "QLstm", Domain = "edgenet", Name = lstm.Name, OpsetVersion = 1 };
            node.Inputs.Add(x);
            node.Inputs.Add(g.AddConstant(lstm.Name + ".W", w));
            node.Inputs.Add(g.AddConstant(lstm.Name + ".R", r));
            for (int k = 3; k <= (gru ? 5 : 7); k++) node.Inputs.Add(lstm.Input(k));
            node.Inputs.Add(g.AddConstant(lstm.Name + ".W_scale", PerDirection(wScale, w.Dims[0], w.Dims[1])));
            node.Inputs.Add(g.AddConstant(lstm.Name + ".R_scale", PerDirection(rScale, r.Dims[0], r.Dims[1])));
            foreach (var (k, a) in lstm.Attributes) node.Attributes[k] = a;
            foreach (var o in lstm.Outputs) { node.Outputs.Add(o); o.Producer = node; }
            g.Nodes[i] = node;
            count++;
        }
        if (count > 0) model.Opsets.TryAdd("edgenet", 1);
        return count;
    }

    /// <summary>The int8 tensor and per-row scales behind DequantizeLinear(constant int8, constant scale, zero point 0, axis 1 or per tensor).</summary>
    private static (Tensor Q, float[] Scale)? Int8Weight(Graph g, Value? v)
    {
        if (v?.Producer is not { OpType: "DequantizeLinear", Domain: "" } dq) return null;
        if (dq.Input(0)?.Constant is not { DataType: DataType.Int8, Rank: 3 } q || dq.Input(1)?.Constant is not { DataType: DataType.Float32 } s) return null;
        if (dq.Input(2)?.Constant is { } zp && zp.ToInt64Array().Any(z => z != 0)) return null;
        var scale = s.ToFloatArray();
        long axis = dq.GetInt("axis", 1);
        if (scale.Length != 1 && (axis is not (1 or -2) || scale.Length != q.Dims[1])) return null;
        return (q, scale);
    }

    private static Tensor PerDirection(float[] scale, int dirs, int rows)
    {
        var result = new float[dirs * rows];
        for (int d = 0; d < dirs; d++)
            for (int k = 0; k < rows; k++) result[d * rows + k] = scale.Length == 1 ? scale[0] : scale[k];
        return Tensor.FromArray([dirs, rows], result);
    }
}
