namespace EdgeNet.IR;

/// <summary>
/// The IR: nodes over named values. Nodes may be in any order until <see cref="SortTopologically"/>.
/// A subgraph (If branch) may reference Value objects of its enclosing graph directly.
/// </summary>
public sealed class Graph
{
    public string Name { get; set; } = "";
    public List<Node> Nodes { get; } = [];
    /// <summary>Runtime inputs (initializers are not listed here even if the ONNX file lists them as inputs).</summary>
    public List<Value> Inputs { get; } = [];
    public List<Value> Outputs { get; } = [];
    /// <summary>Every value owned by this graph, by name (inputs, initializers, node outputs).</summary>
    public Dictionary<string, Value> Values { get; } = new(StringComparer.Ordinal);

    public Value GetOrAddValue(string name)
    {
        if (!Values.TryGetValue(name, out var v)) Values[name] = v = new Value(name);
        return v;
    }

    /// <summary>Adds a constant value (initializer) under a fresh or given name.</summary>
    public Value AddConstant(string name, Tensor tensor)
    {
        var v = GetOrAddValue(UniqueName(name));
        v.Constant = tensor;
        v.DataType = tensor.DataType;
        v.Shape = Array.ConvertAll(tensor.Dims, d => Dim.Known(d));
        return v;
    }

    /// <summary>Adds a constant under exactly this name (importers); a duplicate name is an invalid model.</summary>
    public Value AddConstantExact(string name, Tensor tensor)
    {
        if (Values.ContainsKey(name)) throw new InvalidModelException($"Initializer '{name}' is defined twice");
        var v = GetOrAddValue(name);
        v.Constant = tensor;
        v.DataType = tensor.DataType;
        v.Shape = Array.ConvertAll(tensor.Dims, d => Dim.Known(d));
        return v;
    }

    public string UniqueName(string stem)
    {
        if (!Values.ContainsKey(stem)) return stem;
        for (int i = 1; ; i++)
        {
            string candidate = $"{stem}_{i}";
            if (!Values.ContainsKey(candidate)) return candidate;
        }
    }

    public IEnumerable<Value> Initializers => Values.Values.Where(v => v.Constant is not null);

    /// <summary>All nodes that read the given value (linear scan; passes call it rarely).</summary>
    public List<Node> ConsumersOf(Value value)
    {
        var result = new List<Node>();
        foreach (var n in Nodes)
        {
            if (n.Inputs.Contains(value)) { result.Add(n); continue; }
            // a subgraph that captures the value counts as a consumer too
            foreach (var a in n.Attributes.Values)
                if (a.Graph is { } g && g.Captures(value)) { result.Add(n); break; }
        }
        return result;
    }

    /// <summary>True when this graph (or a nested one) reads a value it does not own.</summary>
    public bool Captures(Value value)
    {
        foreach (var n in Nodes)
        {
            if (n.Inputs.Contains(value)) return true;
            foreach (var a in n.Attributes.Values)
                if (a.Graph is { } g && g.Captures(value)) return true;
        }
        return Outputs.Contains(value);
    }

    public bool IsGraphOutput(Value value) => Outputs.Contains(value);

    /// <summary>
    /// Orders nodes so each runs after the producers of its inputs (Kahn's algorithm, stable w.r.t. file order).
    /// Throws <see cref="InvalidModelException"/> on cycles or inputs that nothing produces.
    /// </summary>
    public void SortTopologically()
    {
        var produced = new HashSet<Value>();
        foreach (var v in Values.Values) if (v.Constant is not null) produced.Add(v);
        foreach (var v in Inputs) produced.Add(v);
        var pending = new List<Node>(Nodes);
        var order = new List<Node>(Nodes.Count);
        bool progress = true;
        while (pending.Count > 0 && progress)
        {
            progress = false;
            for (int i = 0; i < pending.Count; i++)
            {
                var node = pending[i];
                if (!Ready(node, produced)) continue;
                order.Add(node);
                foreach (var o in node.Outputs) produced.Add(o);
                pending.RemoveAt(i--);
                progress = true;
            }
        }
        if (pending.Count > 0)
        {
            var stuck = pending[0];
            var missing = stuck.Inputs.FirstOrDefault(v => v is not null && !produced.Contains(v) && !IsProducedByAny(v, pending));
            if (missing is not null)
                throw new InvalidModelException($"Node '{stuck.Name}' ({stuck.OpType}) reads '{missing.Name}', which is not a graph input, an initializer or any node's output");
            throw new InvalidModelException($"The graph has a cycle through node '{stuck.Name}' ({stuck.OpType})");
        }
        Nodes.Clear();
        Nodes.AddRange(order);
        foreach (var o in Outputs)
            if (!produced.Contains(o)) throw new InvalidModelException($"Graph output '{o.Name}' is not produced by any node");
    }

    private bool Ready(Node node, HashSet<Value> produced)
    {
        foreach (var v in node.Inputs)
            if (v is not null && !produced.Contains(v) && Values.TryGetValue(v.Name, out var own) && ReferenceEquals(own, v)) return false;
        // subgraph captures of this graph's values must be produced first
        foreach (var a in node.Attributes.Values)
            if (a.Graph is { } g)
                foreach (var v in Values.Values)
                    if (!produced.Contains(v) && v.Producer is not null && g.Captures(v)) return false;
        return true;
    }

    private static bool IsProducedByAny(Value v, List<Node> nodes)
    {
        foreach (var n in nodes) if (n.Outputs.Contains(v)) return true;
        return false;
    }

    /// <summary>Recomputes Value.Producer links from the node list.</summary>
    public void RelinkProducers()
    {
        foreach (var v in Values.Values) if (v.Producer is not null && !Nodes.Contains(v.Producer)) v.Producer = null;
        foreach (var n in Nodes) foreach (var o in n.Outputs) o.Producer = n;
    }
}

/// <summary>A loaded model: its main graph, the opsets it was exported with, and metadata.</summary>
public sealed class Model
{
    public required Graph Graph { get; init; }
    /// <summary>Opset version per domain ("" = ONNX default domain).</summary>
    public Dictionary<string, int> Opsets { get; } = new(StringComparer.Ordinal);
    public string ProducerName { get; set; } = "";
    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    /// <summary>Trainable parameters by name: every float initializer. Kernels read these tensors directly, so updates are seen by the next Run.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> Parameters =>
        Graph.Initializers.Where(v => v.Constant!.DataType == DataType.Float32).Select(v => (v.Name, v.Constant!));
}
