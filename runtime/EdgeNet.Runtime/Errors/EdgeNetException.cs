using EdgeNet.IR;

namespace EdgeNet;

/// <summary>Base of every error EdgeNet raises on purpose. Anything else escaping is a bug.</summary>
public abstract class EdgeNetException : Exception
{
    protected EdgeNetException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>The file is not a well-formed model: truncated, garbage, wrong magic, bad checksum, malformed protobuf.</summary>
public sealed class ModelFormatException(string message, Exception? inner = null) : EdgeNetException(message, inner);

/// <summary>The model parses but is not valid: cycles, missing inputs, tensor data not matching its dims, bad dims, unsafe external data paths.</summary>
public sealed class InvalidModelException(string message, Exception? inner = null) : EdgeNetException(message, inner);

/// <summary>The graph uses an operator (or an operator feature) EdgeNet does not implement.</summary>
public sealed class UnsupportedOperatorException(string message) : EdgeNetException(message)
{
    public static UnsupportedOperatorException For(Node node, string? detail = null) =>
        new($"Unsupported operator '{(node.Domain.Length > 0 ? node.Domain + "." : "")}{node.OpType}' (node '{node.Name}', opset {node.OpsetVersion})" + (detail is null ? "" : ": " + detail));
}

/// <summary>Shape or type inference failed for a node: attributes or input shapes that the operator's spec does not allow.</summary>
public sealed class ShapeInferenceException(string message) : EdgeNetException(message)
{
    public static ShapeInferenceException For(Node node, string detail) =>
        new($"{node.OpType} node '{node.Name}': {detail}");
}

/// <summary>An input given at session creation or at Run does not match what the model expects (name, shape or data type).</summary>
public sealed class InputMismatchException(string message) : EdgeNetException(message);
