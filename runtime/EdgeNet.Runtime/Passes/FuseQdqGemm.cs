using EdgeNet.IR;
using EdgeNet.Kernels.Activation;

namespace EdgeNet.Passes;

/// <summary>
/// Folds the matrix products of a QDQ graph into integer ops:
/// <list type="bullet">
/// <item>DequantizeLinear(a_q) → Gemm(·, DequantizeLinear(w_q), [bias]) → [Relu | Clip] → QuantizeLinear ⇒
///       edgenet.QGemm (requantized output);</item>
/// <item>the same without the final QuantizeLinear (a float output, typically the logits) ⇒ edgenet.QGemm with a
///       float output y = (float)(acc + B[n]) · s_a·s_w[n];</item>
/// <item>DequantizeLinear(a_q) → MatMul(·, DequantizeLinear(w_q)) → [Relu | Clip] → QuantizeLinear ⇒ QLinearMatMul;</item>
/// <item>the same MatMul with a float output (2-D constant weights, A of rank ≥ 2) ⇒ edgenet.QGemm with a float output
///       y = (float)acc · s_a·s_w[n] (A's leading dims are rows of one GEMM), so the int8 weights stay int8.</item>
/// </list>
/// Math (as <see cref="FuseQdqConv"/>, with the output channel n a column): Σ_k a[k]·w[k, n] + b[n] =
/// s_a·s_w[n]·(Σ_k (a_q − z_a)(w_q − z_w[n]) + B[n]), B[n] = b[n] / (s_a·s_w[n]) (the quantizer's int32 bias as is,
/// see <see cref="FuseQdqBias"/>). Gemm needs alpha = beta = 1, transA = 0; the weight's per-channel axis must be its
/// output-channel axis (0 with transB, 1 without; 1 for MatMul). Within one quantization step of the literal chain
/// (exact integer sums against rounded float sums).
/// </summary>
public sealed class FuseQdqGemm : IGraphPass
{
    public string Name => "FuseQdqGemm";

    public bool Run(Model model)
    {
        var g = model.Graph;
        foreach (var node in g.Nodes)
        {
            bool gemm = GraphEdits.Is(node, "Gemm");
            if (!gemm && !GraphEdits.Is(node, "MatMul")) continue;
            if (node.HasAttribute(FusedActivation.KindAttribute) || node.Inputs.Count < 2) continue;
            if (gemm && (node.GetFloat("alpha", 1) != 1 || node.GetFloat("beta", 1) != 1 || node.GetInt("transA", 0) != 0)) continue;
            bool transB = gemm && node.GetInt("transB", 0) != 0;
            if (FuseQdqPatterns.Dequantized(g, node.Inputs[0], perTensor: true) is not { } a) continue;
            if (FuseQdqPatterns.Dequantized(g, node.Inputs[1], perTensor: false) is not { } w || w.Data.Constant is not { Rank: 2 } wt) continue;
            int n = transB ? wt.Dims[0] : wt.Dims[1];
            if (w.ScaleCount != 1 && (w.ScaleCount != n || w.Axis(2) != (transB ? 0 : 1))) continue;
            var chain = FuseQdqPatterns.ActivationThenQuantize(g, node.Outputs[0]);
            bool asGemm = gemm || chain is null;
            // a float-output MatMul becomes QGemm, which needs A of known rank ≥ 2 (MatMul also takes a 1-D A)
            if (!gemm && chain is null && (node.Inputs[0]!.Shape ?? a.Data.Shape ?? (GraphEdits.Is(a.Data.Producer, "QuantizeLinear") ? a.Data.Producer!.Inputs[0]?.Shape : null)) is not { Length: >= 2 }) continue;
            if (chain is null && (g.ConsumersOf(node.Outputs[0]).Any(c => GraphEdits.Is(c, "QuantizeLinear")))) continue;
            Value? bias = null;
            if (gemm && FuseQdqBias.AccumulatorBias(g, node.Input(2), a, w, n) is var (b, ok))
            {
                if (!ok) continue;
                bias = b;
            }

            var fused = asGemm
                ? new Node { OpType = "QGemm", Domain = "edgenet", Name = node.Name, OpsetVersion = 1 }
                : new Node { OpType = "QLinearMatMul", Name = node.Name, OpsetVersion = Math.Max(10, node.OpsetVersion) };
            fused.Inputs.AddRange([
                a.Data, a.Scale, FuseQdqPatterns.ZeroPoint(g, a.ZeroPoint, a.Type, node.Name + "_a"),
                w.Data, w.Scale, FuseQdqPatterns.ZeroPoint(g, w.ZeroPoint, w.Type, node.Name + "_w")]);
            if (chain is var (_, _, q))
                fused.Inputs.AddRange([q.Scale, FuseQdqPatterns.ZeroPoint(g, q.ZeroPoint, q.Type, node.Name + "_y")]);
            else fused.Inputs.AddRange([null, null]);
            if (bias is not null) fused.Inputs.Add(bias);
            if (transB) fused.SetAttribute(IR.Attribute.Of("transB", 1L));
            if (chain is var (act, kind, quantize))
            {
                if (kind.Kind != ActivationKind.None) kind.WriteTo(fused);
                GraphEdits.ReplaceChain(g, act is null ? [node, quantize.Node] : [node, act, quantize.Node], fused);
            }
            else GraphEdits.ReplaceChain(g, [node], fused);
            // trailing nulls of absent optional inputs are dropped so input counts stay what the op expects
            while (fused.Inputs.Count > 0 && fused.Inputs[^1] is null) fused.Inputs.RemoveAt(fused.Inputs.Count - 1);
            return true;
        }
        return false;
    }
}
