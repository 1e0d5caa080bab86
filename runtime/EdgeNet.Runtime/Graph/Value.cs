namespace EdgeNet.IR;

/// <summary>A named edge of the graph: a graph input, an initializer (Constant != null), or a node output.</summary>
public sealed class Value(string name)
{
    public string Name { get; set; } = name;
    public DataType DataType { get; set; }
    /// <summary>Declared or inferred shape, possibly symbolic; null when unknown.</summary>
    public Dim[]? Shape { get; set; }
    /// <summary>Constant data (initializer or folded); null for runtime values.</summary>
    public Tensor? Constant { get; set; }
    /// <summary>The node that produces this value, or null for graph inputs and constants.</summary>
    public Node? Producer { get; set; }

    public bool IsConstant => Constant is not null;
    public override string ToString() => Name;
}
