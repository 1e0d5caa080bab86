using EdgeNet.IR;

namespace EdgeNet.Passes;

/// <summary>Small helpers passes share: replacing uses of a value, finding single consumers.</summary>
internal static class GraphEdits
{
    /// <summary>Makes every reader of <paramref name="from"/> (nodes, subgraph captures, graph outputs) read <paramref name="to"/>.</summary>
    public static void ReplaceUses(IR.Graph graph, Value from, Value to)
    {
        foreach (var n in graph.Nodes)
        {
            for (int i = 0; i < n.Inputs.Count; i++) if (n.Inputs[i] == from) n.Inputs[i] = to;
            foreach (var a in n.Attributes.Values)
            {
                if (a.Graph is { } g) ReplaceUses(g, from, to);
                foreach (var sub in a.Graphs) ReplaceUses(sub, from, to);
            }
        }
        for (int i = 0; i < graph.Outputs.Count; i++) if (graph.Outputs[i] == from) graph.Outputs[i] = to;
    }

    /// <summary>The only node reading this value, if exactly one does and it is not a graph output.</summary>
    public static Node? SoleConsumer(IR.Graph graph, Value value)
    {
        if (graph.IsGraphOutput(value)) return null;
        var consumers = graph.ConsumersOf(value);
        return consumers.Count == 1 && consumers[0].Inputs.Count(v => v == value) == 1 ? consumers[0] : null;
    }
}
