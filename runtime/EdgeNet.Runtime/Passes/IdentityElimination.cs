using EdgeNet.IR;

namespace EdgeNet.Passes;

/// <summary>
/// Removes Identity and inference-mode Dropout (y = x): readers of y read x instead. When y is a graph output, the
/// producer of x is made to write y directly (so output names never change); if x is a graph input or constant the
/// node stays.
/// </summary>
public sealed class IdentityElimination : IGraphPass
{
    public string Name => "IdentityElimination";

    public bool Run(Model model)
    {
        var g = model.Graph;
        foreach (var node in g.Nodes)
        {
            bool isIdentity = node.Domain.Length == 0 && node.OpType == "Identity";
            bool isDropout = node.Domain.Length == 0 && node.OpType == "Dropout" && node.Outputs.Count >= 1
                && (node.Outputs.Count == 1 || g.ConsumersOf(node.Outputs[1]).Count == 0 && !g.IsGraphOutput(node.Outputs[1]))
                && node.Input(2) is null && node.GetInt("is_test", 1) != 0;
            if (!isIdentity && !isDropout) continue;
            var x = node.Inputs[0];
            var y = node.Outputs[0];
            if (x is null) continue;
            if (!g.IsGraphOutput(y))
            {
                GraphEdits.ReplaceUses(g, y, x);
                g.Nodes.Remove(node);
                return true;
            }
            // y is a graph output: let x's producer write y, if x is not itself needed under its own name.
            if (x.Producer is { } producer && g.Nodes.Contains(producer) && !g.IsGraphOutput(x) && !g.Inputs.Contains(x))
            {
                int slot = producer.Outputs.IndexOf(x);
                GraphEdits.ReplaceUses(g, x, y);
                producer.Outputs[slot] = y;
                y.Producer = producer;
                g.Nodes.Remove(node);
                g.Values.Remove(x.Name);
                return true;
            }
        }
        return false;
    }
}
