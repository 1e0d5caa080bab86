using EdgeNet.IR;

namespace EdgeNet.Passes;

/// <summary>Removes nodes none of whose outputs reach a graph output, and constants nobody reads.</summary>
public sealed class DeadNodeElimination : IGraphPass
{
    public string Name => "DeadNodeElimination";

    public bool Run(Model model)
    {
        var g = model.Graph;
        var live = new HashSet<Value>(g.Outputs);
        var keep = new HashSet<Node>();
        for (int i = g.Nodes.Count - 1; i >= 0; i--)
        {
            var n = g.Nodes[i];
            if (!n.Outputs.Any(live.Contains)) continue;
            keep.Add(n);
            foreach (var v in n.Inputs) if (v is not null) live.Add(v);
            foreach (var a in n.Attributes.Values)
                if (a.Graph is { } sub) MarkCaptures(sub, live);
        }
        int removed = g.Nodes.RemoveAll(n => !keep.Contains(n));
        var deadConstants = g.Values.Values.Where(v => v.Constant is not null && !live.Contains(v)).Select(v => v.Name).ToList();
        foreach (var name in deadConstants) g.Values.Remove(name);
        var deadValues = g.Values.Values.Where(v => v.Constant is null && !live.Contains(v) && !g.Inputs.Contains(v)
            && (v.Producer is null || !keep.Contains(v.Producer))).Select(v => v.Name).ToList();
        foreach (var name in deadValues) g.Values.Remove(name);
        return removed > 0 || deadConstants.Count > 0;
    }

    private static void MarkCaptures(IR.Graph sub, HashSet<Value> live)
    {
        foreach (var n in sub.Nodes)
        {
            foreach (var v in n.Inputs) if (v is not null) live.Add(v);
            foreach (var a in n.Attributes.Values) if (a.Graph is { } inner) MarkCaptures(inner, live);
        }
        foreach (var v in sub.Outputs) live.Add(v);
    }
}
