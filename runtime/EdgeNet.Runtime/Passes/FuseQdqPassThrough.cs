using EdgeNet.IR;

namespace EdgeNet.Passes;

/// <summary>
/// Ops that only move, select or compare values run on the quantized data itself:
/// DequantizeLinear(x_q) → op → QuantizeLinear ⇒ op(x_q), for MaxPool, Reshape, Flatten, Transpose, Squeeze,
/// Unsqueeze, Slice, DepthToSpace, SpaceToDepth, Identity; and Concat(DequantizeLinear(x_i), ...) → QuantizeLinear ⇒
/// Concat of the quantized inputs. MaxPool is written as edgenet.QMaxPool (same attributes, vector byte kernel).
/// <para>
/// Math: such an op commutes with any element-wise monotonic map (data movement with any element-wise map, max with
/// monotonic ones), so Q(op(DQ(x_q))) = op(Q(DQ(x_q))). With the same scale, zero point and type on both sides,
/// Q(DQ(q)) = round((q − z)·s / s) + z = q (the product and quotient are within an ulp of the integer q − z), so
/// the op runs on x_q alone. Otherwise an edgenet.QLookup applies the 256-entry table of Q(DQ(·)), the chain's own
/// arithmetic. Either way the fold is bit-exact.
/// </para>
/// </summary>
public sealed class FuseQdqPassThrough : IGraphPass
{
    private static readonly HashSet<string> s_ops =
        ["MaxPool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Slice", "DepthToSpace", "SpaceToDepth", "Identity"];

    public string Name => "FuseQdqPassThrough";

    public bool Run(Model model)
    {
        var g = model.Graph;
        foreach (var op in g.Nodes)
        {
            if (op.Domain.Length != 0 || op.Outputs.Count != 1 || op.Inputs.Count == 0) continue;
            if (s_ops.Contains(op.OpType))
            {
                if (op.HasAttribute(Kernels.Activation.FusedActivation.KindAttribute)) continue;
                if (FuseQdqPatterns.Dequantized(g, op.Inputs[0], perTensor: true) is not { } x) continue;
                if (FuseQdqPatterns.QuantizedBy(g, op.Outputs[0]) is not { } q) continue;
                // MaxPool becomes edgenet.QMaxPool (the vector byte kernel; ONNX MaxPool's int8 path is the generic loop)
                bool pool = op.OpType == "MaxPool";
                var moved = pool
                    ? new Node { OpType = "QMaxPool", Domain = "edgenet", Name = op.Name, OpsetVersion = 1 }
                    : new Node { OpType = op.OpType, Name = op.Name, OpsetVersion = op.OpsetVersion };
                moved.Inputs.AddRange(op.Inputs);
                moved.Inputs[0] = x.Data;
                foreach (var (name, a) in op.Attributes) moved.Attributes[name] = a;
                Finish(g, [op, q.Node], moved, FuseQdqPatterns.SameParameters(x, q) ? null : FuseQdqPatterns.Table(x, q, v => v));
                return true;
            }
            if (GraphEdits.Is(op, "Concat"))
            {
                var inputs = new List<QdqDequantize>();
                foreach (var v in op.Inputs)
                    if (FuseQdqPatterns.Dequantized(g, v, perTensor: true) is { } dq) inputs.Add(dq);
                if (inputs.Count != op.Inputs.Count || FuseQdqPatterns.QuantizedBy(g, op.Outputs[0]) is not { } q) continue;
                var concat = new Node { OpType = "Concat", Name = op.Name, OpsetVersion = op.OpsetVersion };
                foreach (var (name, a) in op.Attributes) concat.Attributes[name] = a;
                foreach (var dq in inputs)
                {
                    if (FuseQdqPatterns.SameParameters(dq, q)) { concat.Inputs.Add(dq.Data); continue; }
                    // requantize this input to the output's parameters first
                    var table = g.AddConstant(g.UniqueName(op.Name + "_requantize"), FuseQdqPatterns.Table(dq, q, v => v));
                    var requantized = g.GetOrAddValue(g.UniqueName(op.Name + "_requantized"));
                    var lookup = new Node { OpType = "QLookup", Domain = "edgenet", Name = requantized.Name, OpsetVersion = 1 };
                    lookup.Inputs.AddRange([dq.Data, table]);
                    lookup.Outputs.Add(requantized);
                    requantized.Producer = lookup;
                    g.Nodes.Insert(g.Nodes.IndexOf(op), lookup);
                    concat.Inputs.Add(requantized);
                }
                GraphEdits.ReplaceChain(g, [op, q.Node], concat);
                return true;
            }
        }
        return false;
    }

    /// <summary>Replaces the chain by <paramref name="moved"/>, followed by a QLookup with <paramref name="table"/> when given.</summary>
    internal static void Finish(IR.Graph g, List<Node> chain, Node moved, Tensor? table)
    {
        if (table is null)
        {
            GraphEdits.ReplaceChain(g, chain, moved);
            return;
        }
        var mid = g.GetOrAddValue(g.UniqueName(moved.Name + "_quantized"));
        moved.Outputs.Add(mid);
        mid.Producer = moved;
        g.Nodes.Insert(g.Nodes.IndexOf(chain[0]), moved);
        var lookup = new Node { OpType = "QLookup", Domain = "edgenet", Name = moved.Name + "_requantize", OpsetVersion = 1 };
        lookup.Inputs.AddRange([mid, g.AddConstant(g.UniqueName(moved.Name + "_table"), table)]);
        GraphEdits.ReplaceChain(g, chain, lookup);
    }
}
