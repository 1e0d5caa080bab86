namespace EdgeNet.IR;

public enum AttributeKind { Float, Int, String, Tensor, Graph, Floats, Ints, Strings, Tensors, Graphs }

/// <summary>An operator attribute (ONNX AttributeProto), typed by Kind.</summary>
public sealed class Attribute
{
    public required string Name { get; init; }
    public required AttributeKind Kind { get; init; }
    public float Float { get; init; }
    public long Int { get; init; }
    public string String { get; init; } = "";
    public Tensor? Tensor { get; init; }
    public Graph? Graph { get; init; }
    public float[] Floats { get; init; } = [];
    public long[] Ints { get; init; } = [];
    public string[] Strings { get; init; } = [];
    public Tensor[] Tensors { get; init; } = [];
    public Graph[] Graphs { get; init; } = [];

    public static Attribute Of(string name, long value) => new() { Name = name, Kind = AttributeKind.Int, Int = value };
    public static Attribute Of(string name, float value) => new() { Name = name, Kind = AttributeKind.Float, Float = value };
    public static Attribute Of(string name, string value) => new() { Name = name, Kind = AttributeKind.String, String = value };
    public static Attribute Of(string name, long[] values) => new() { Name = name, Kind = AttributeKind.Ints, Ints = values };
    public static Attribute Of(string name, float[] values) => new() { Name = name, Kind = AttributeKind.Floats, Floats = values };
    public static Attribute Of(string name, Tensor value) => new() { Name = name, Kind = AttributeKind.Tensor, Tensor = value };
    public static Attribute Of(string name, Graph value) => new() { Name = name, Kind = AttributeKind.Graph, Graph = value };
}
