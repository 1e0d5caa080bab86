using EdgeNet.IR;
using EdgeNet.Kernels.Activation;

namespace EdgeNet.Passes;

/// <summary>
/// DequantizeLinear(a_q) + DequantizeLinear(b_q) → [Relu | Clip] → QuantizeLinear ⇒ edgenet.QAdd (residual adds).
/// <para>
/// Math: QAdd evaluates y = Q(act(s_a(a_q − z_a) + s_b(b_q − z_b))) per element with exactly the float operations
/// of the chain in the same order (two products, a sum, a division by s_y, round half to even), and the activation
/// folded into the clamp (exact: Q is monotonic). So the fold is bit-exact with running the chain; what it saves is
/// the two float tensors and their memory traffic.
/// </para>
/// Requirements: both operands per-tensor DequantizeLinear outputs with constant parameters; the Add and the
/// activation read only by the next node.
/// </summary>
public sealed class FuseQdqAdd : IGraphPass
{
    public string Name => "FuseQdqAdd";

    public bool Run(Model model)
    {
        var g = model.Graph;
        foreach (var add in g.Nodes)
        {
            if (!GraphEdits.Is(add, "Add") || add.HasAttribute(FusedActivation.KindAttribute) || add.Inputs.Count != 2) continue;
            if (FuseQdqPatterns.Dequantized(g, add.Inputs[0], perTensor: true) is not { } a) continue;
            if (FuseQdqPatterns.Dequantized(g, add.Inputs[1], perTensor: true) is not { } b) continue;
            if (FuseQdqPatterns.ActivationThenQuantize(g, add.Outputs[0]) is not var (act, kind, q)) continue;
            var fused = new Node { OpType = "QAdd", Domain = "edgenet", Name = add.Name, OpsetVersion = 1 };
            fused.Inputs.AddRange([
                a.Data, a.Scale, FuseQdqPatterns.ZeroPoint(g, a.ZeroPoint, a.Type, add.Name + "_a"),
                b.Data, b.Scale, FuseQdqPatterns.ZeroPoint(g, b.ZeroPoint, b.Type, add.Name + "_b"),
                q.Scale, FuseQdqPatterns.ZeroPoint(g, q.ZeroPoint, q.Type, add.Name + "_y")]);
            if (kind.Kind != ActivationKind.None) kind.WriteTo(fused);
            GraphEdits.ReplaceChain(g, act is null ? [add, q.Node] : [add, act, q.Node], fused);
            return true;
        }
        return false;
    }
}
