using EdgeNet.IR;

namespace EdgeNet.Passes;

/// <summary>Small helpers passes share: replacing uses of a value, finding single consumers, reading small constants.</summary>
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

    /// <summary>The node of this graph producing the value (null for inputs, constants and outer-scope values).</summary>
    public static Node? ProducerIn(IR.Graph graph, Value? value) =>
        value?.Producer is { } p && p.Outputs.Contains(value) && graph.Nodes.Contains(p) ? p : null;

    /// <summary>True for a single-output node of the ONNX default domain with this op type.</summary>
    public static bool Is(Node? node, string opType) =>
        node is not null && node.OpType == opType && node.Domain.Length == 0 && node.Outputs.Count == 1;

    /// <summary>
    /// The value of a one-element float constant that broadcasting against <paramref name="other"/> cannot reshape:
    /// rank 0, or a rank no higher than <paramref name="other"/>'s known rank. Null otherwise.
    /// </summary>
    public static float? Scalar(Value? constant, Value other)
    {
        if (constant?.Constant is not { ElementCount: 1 } t) return null;
        if (t.DataType is not (DataType.Float32 or DataType.Float64 or DataType.Float16)) return null;
        if (t.Rank > 0 && (other.Shape is null || other.Shape.Length < t.Rank)) return null;
        return (float)t.GetAsDouble(0);
    }

    public static bool Near(float? value, float target) =>
        value is { } v && MathF.Abs(v - target) <= 1e-6f * MathF.Max(1, MathF.Abs(target));

    /// <summary>Clip's bounds when they are known (attributes before opset 11, constant inputs after); null otherwise.</summary>
    public static (float Min, float Max)? ClipBounds(Node clip)
    {
        if (clip.OpsetVersion < 11) return (clip.GetFloat("min", float.MinValue), clip.GetFloat("max", float.MaxValue));
        float lo = float.NegativeInfinity, hi = float.PositiveInfinity;
        if (clip.HasInput(1)) { if (clip.Inputs[1]!.Constant is not { ElementCount: 1 } t) return null; lo = (float)t.GetAsDouble(0); }
        if (clip.HasInput(2)) { if (clip.Inputs[2]!.Constant is not { ElementCount: 1 } t) return null; hi = (float)t.GetAsDouble(0); }
        return (lo, hi);
    }

    /// <summary>
    /// Replaces a matched chain of nodes by <paramref name="fused"/>, which writes the last node's output (so the name
    /// survives) and takes its place in the node list; the chain's intermediate values disappear.
    /// </summary>
    public static void ReplaceChain(IR.Graph graph, IReadOnlyList<Node> chain, Node fused)
    {
        var last = chain[^1];
        var output = last.Outputs[0];
        fused.Outputs.Add(output);
        output.Producer = fused;
        graph.Nodes[graph.Nodes.IndexOf(last)] = fused;
        foreach (var n in chain)
        {
            if (n == last) continue;
            graph.Nodes.Remove(n);
            foreach (var o in n.Outputs)
                if (graph.Values.TryGetValue(o.Name, out var own) && ReferenceEquals(own, o)) graph.Values.Remove(o.Name);
        }
    }
}
