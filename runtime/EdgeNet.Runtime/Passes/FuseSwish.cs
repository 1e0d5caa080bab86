using EdgeNet.IR;

namespace EdgeNet.Passes;

/// <summary>
/// x · Sigmoid(x), either operand order (PyTorch's SiLU as exported) → edgenet.Swish(x) = x / (1 + e^(−x)): one
/// pass over the data instead of two, and FuseActivation can then fold it into a Conv/Gemm/MatMul before it.
/// The Sigmoid output must be read by that Mul only.
/// </summary>
public sealed class FuseSwish : IGraphPass
{
    /// <summary>Domain of the fused op (registered with the math ops).</summary>
    public const string Domain = "edgenet";

    public string Name => "FuseSwish";

    public bool Run(Model model)
    {
        var g = model.Graph;
        foreach (var mul in g.Nodes)
        {
            if (!GraphEdits.Is(mul, "Mul") || mul.Inputs.Count != 2 || mul.Inputs[0] is not { } a || mul.Inputs[1] is not { } b) continue;
            foreach (var (x, gate) in new[] { (a, b), (b, a) })
            {
                var sigmoid = GraphEdits.ProducerIn(g, gate);
                if (!GraphEdits.Is(sigmoid, "Sigmoid") || sigmoid!.Inputs[0] != x || GraphEdits.SoleConsumer(g, gate) != mul) continue;
                var fused = new Node { OpType = "Swish", Domain = Domain, Name = mul.Name, OpsetVersion = 1 };
                fused.Inputs.Add(x);
                GraphEdits.ReplaceChain(g, [sigmoid, mul], fused);
                model.Opsets.TryAdd(Domain, 1);
                return true;
            }
        }
        return false;
    }
}
