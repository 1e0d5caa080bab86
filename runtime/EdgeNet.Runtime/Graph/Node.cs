namespace EdgeNet.IR;

/// <summary>One operator application. Missing optional inputs are null entries in Inputs.</summary>
public sealed class Node
{
    public string Name { get; set; } = "";
    public required string OpType { get; set; }
    /// <summary>Operator domain: "" for the ONNX default domain, "com.microsoft", "edgenet" for fused ops, ...</summary>
    public string Domain { get; set; } = "";
    /// <summary>The opset version of this node's domain the model was exported with.</summary>
    public int OpsetVersion { get; set; }
    public List<Value?> Inputs { get; } = [];
    public List<Value> Outputs { get; } = [];
    public Dictionary<string, Attribute> Attributes { get; } = new(StringComparer.Ordinal);

    public Value? Input(int i) => i < Inputs.Count ? Inputs[i] : null;
    public bool HasInput(int i) => Input(i) is not null;

    public bool HasAttribute(string name) => Attributes.ContainsKey(name);

    public long GetInt(string name, long fallback) => Attributes.TryGetValue(name, out var a) ? Expect(a, AttributeKind.Int).Int : fallback;
    public float GetFloat(string name, float fallback) => Attributes.TryGetValue(name, out var a) ? Expect(a, AttributeKind.Float).Float : fallback;
    public string GetString(string name, string fallback) => Attributes.TryGetValue(name, out var a) ? Expect(a, AttributeKind.String).String : fallback;
    public long[]? GetInts(string name) => Attributes.TryGetValue(name, out var a) ? Expect(a, AttributeKind.Ints).Ints : null;
    public float[]? GetFloats(string name) => Attributes.TryGetValue(name, out var a) ? Expect(a, AttributeKind.Floats).Floats : null;
    public string[]? GetStrings(string name) => Attributes.TryGetValue(name, out var a) ? Expect(a, AttributeKind.Strings).Strings : null;
    public Tensor? GetTensor(string name) => Attributes.TryGetValue(name, out var a) ? Expect(a, AttributeKind.Tensor).Tensor : null;
    public Graph? GetGraph(string name) => Attributes.TryGetValue(name, out var a) ? Expect(a, AttributeKind.Graph).Graph : null;

    public void SetAttribute(Attribute attribute) => Attributes[attribute.Name] = attribute;

    private Attribute Expect(Attribute a, AttributeKind kind)
    {
        // ONNX writers sometimes store a single int where a list is expected and vice versa; accept the obvious widenings.
        if (a.Kind == kind) return a;
        if (kind == AttributeKind.Ints && a.Kind == AttributeKind.Int) return new Attribute { Name = a.Name, Kind = kind, Ints = [a.Int] };
        if (kind == AttributeKind.Floats && a.Kind == AttributeKind.Float) return new Attribute { Name = a.Name, Kind = kind, Floats = [a.Float] };
        if (kind == AttributeKind.Float && a.Kind == AttributeKind.Int) return new Attribute { Name = a.Name, Kind = kind, Float = a.Int };
        throw new InvalidModelException($"{OpType} node '{Name}': attribute '{a.Name}' is {a.Kind}, expected {kind}");
    }

    public override string ToString() => $"{OpType}({Name})";
}
