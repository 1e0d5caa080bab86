using EdgeNet.IR;
using EdgeNet.Kernels.Activation;

namespace EdgeNet.Passes;

/// <summary>
/// DequantizeLinear(x_q) → f → QuantizeLinear ⇒ edgenet.QLookup(x_q, table), for a stand-alone element-wise
/// activation f (Relu, Clip, LeakyRelu, HardSigmoid, HardSwish, Sigmoid, Tanh) or none (DequantizeLinear feeding
/// QuantizeLinear directly: a requantization).
/// <para>
/// Math: x_q takes at most 256 values, so y = Q(f(DQ(x_q))) is a table, evaluated here for every x_q with the
/// quantizer's own scalar arithmetic and f's scalar form (<see cref="FusedActivation.Apply(float)"/>). Bit-exact
/// with the chain for the piecewise-linear f (Relu, Clip, LeakyRelu, HardSigmoid, HardSwish — same float
/// operations); for Sigmoid / Tanh the chain's vector kernels may round their last bit differently from the scalar
/// form, which can move a value sitting on a rounding boundary by one step.
/// </para>
/// </summary>
public sealed class FuseQdqActivation : IGraphPass
{
    public string Name => "FuseQdqActivation";

    public bool Run(Model model)
    {
        var g = model.Graph;
        foreach (var node in g.Nodes)
        {
            if (GraphEdits.Is(node, "DequantizeLinear"))
            {
                // a requantization: DequantizeLinear read only by a QuantizeLinear
                if (FuseQdqPatterns.Dequantized(g, node.Outputs[0], perTensor: true) is not { } dq) continue;
                if (FuseQdqPatterns.QuantizedBy(g, node.Outputs[0]) is not { } rq) continue;
                var requantize = new Node { OpType = "QLookup", Domain = "edgenet", Name = node.Name, OpsetVersion = 1 };
                requantize.Inputs.AddRange([dq.Data, g.AddConstant(g.UniqueName(node.Name + "_table"), FuseQdqPatterns.Table(dq, rq, v => v))]);
                GraphEdits.ReplaceChain(g, [node, rq.Node], requantize);
                return true;
            }
            if (node.Domain.Length != 0 || node.Outputs.Count != 1 || node.Inputs.Count == 0) continue;
            if (Activation(node) is not { } f) continue;
            if (FuseQdqPatterns.Dequantized(g, node.Inputs[0], perTensor: true) is not { } x) continue;
            if (FuseQdqPatterns.QuantizedBy(g, node.Outputs[0]) is not { } q) continue;
            var lookup = new Node { OpType = "QLookup", Domain = "edgenet", Name = node.Name, OpsetVersion = 1 };
            lookup.Inputs.AddRange([x.Data, g.AddConstant(g.UniqueName(node.Name + "_table"), FuseQdqPatterns.Table(x, q, f.Apply))]);
            GraphEdits.ReplaceChain(g, [node, q.Node], lookup);
            return true;
        }
        return false;
    }

    private static FusedActivation? Activation(Node act)
    {
        if (act.HasAttribute(FusedActivation.KindAttribute)) return null;
        return act.OpType switch
        {
            "Relu" => new FusedActivation(ActivationKind.Relu),
            "LeakyRelu" => new FusedActivation(ActivationKind.LeakyRelu, act.GetFloat("alpha", 0.01f)),
            "HardSigmoid" => new FusedActivation(ActivationKind.HardSigmoid, act.GetFloat("alpha", 0.2f), act.GetFloat("beta", 0.5f)),
            "HardSwish" => new FusedActivation(ActivationKind.HardSwish),
            "Sigmoid" => new FusedActivation(ActivationKind.Sigmoid),
            "Tanh" => new FusedActivation(ActivationKind.Tanh),
            "Clip" => GraphEdits.ClipBounds(act) is var (lo, hi) ? new FusedActivation(ActivationKind.Clip, lo, hi) : null,
            _ => null,
        };
    }
}
