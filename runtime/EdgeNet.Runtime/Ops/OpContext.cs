using EdgeNet.IR;
using EdgeNet.Kernels;

namespace EdgeNet.Ops;

/// <summary>Concrete facts about one value while a session is planned.</summary>
public sealed class ValueFacts(DataType dataType, int[] dims, Tensor? constant = null)
{
    public DataType DataType { get; } = dataType;
    public int[] Dims { get; } = dims;
    public Tensor? Constant { get; } = constant;
    public int ElementCount => Shapes.Count(Dims);
    public int ByteLength => ElementCount * DataType.SizeOf();
}

/// <summary>
/// What an op sees while it is inferred and prepared: its node (attributes), the concrete type/shape of each input,
/// the input's data when it is known at plan time, and the outputs it declared.
/// </summary>
public sealed class OpContext
{
    private readonly ValueFacts?[] _inputs;
    private readonly ValueFacts?[] _outputs;

    public OpContext(Node node, ValueFacts?[] inputs, int threads = 1, Isa isa = Isa.Scalar)
    {
        Node = node;
        _inputs = inputs;
        _outputs = new ValueFacts?[node.Outputs.Count];
        Threads = threads;
        Isa = isa;
    }

    public Node Node { get; }
    /// <summary>Intra-op threads the session may use.</summary>
    public int Threads { get; }
    /// <summary>The ISA path kernels of this session take (resolved once per session).</summary>
    public Isa Isa { get; }
    /// <summary>Whether Conv may use Winograd kernels (<see cref="Execution.SessionOptions.Winograd"/>).</summary>
    public bool Winograd { get; init; } = true;

    public int InputCount => _inputs.Length;
    public int OutputCount => _outputs.Length;
    public bool HasInput(int i) => i < _inputs.Length && _inputs[i] is not null;
    public ValueFacts InputFacts(int i) => (i < _inputs.Length ? _inputs[i] : null) ?? throw Error($"input {i} is required but missing");
    public DataType InputType(int i) => InputFacts(i).DataType;
    public int[] InputShape(int i) => InputFacts(i).Dims;
    public int InputRank(int i) => InputFacts(i).Dims.Length;
    /// <summary>The input's data when known at plan time (initializer, folded value or specialized input), else null.</summary>
    public Tensor? InputConstant(int i) => HasInput(i) ? _inputs[i]!.Constant : null;

    /// <summary>The input's data, which this op needs at plan time to know its output shape.</summary>
    public Tensor RequireConstant(int i, string what) =>
        InputConstant(i) ?? throw new UnsupportedOperatorException(
            $"{Node.OpType} node '{Node.Name}': input {i} ({what}) must be known when the session is planned; data-dependent shapes are not supported");

    public void SetOutput(int i, DataType type, int[] dims)
    {
        Shapes.Count(dims); // validates
        _outputs[i] = new ValueFacts(type, dims);
    }

    public void SetOutputConstant(int i, Tensor value) => _outputs[i] = new ValueFacts(value.DataType, value.Dims, value);

    public ValueFacts OutputFacts(int i) => _outputs[i] ?? throw new InvalidOperationException($"{Node.OpType} did not set output {i}");
    public int[] OutputShape(int i) => OutputFacts(i).Dims;
    public DataType OutputType(int i) => OutputFacts(i).DataType;
    internal bool OutputSet(int i) => _outputs[i] is not null;

    // attribute shortcuts
    public long Int(string name, long fallback) => Node.GetInt(name, fallback);
    public float Float(string name, float fallback) => Node.GetFloat(name, fallback);
    public string String(string name, string fallback) => Node.GetString(name, fallback);
    public long[]? Ints(string name) => Node.GetInts(name);
    public float[]? Floats(string name) => Node.GetFloats(name);
    public int Opset => Node.OpsetVersion;

    public ShapeInferenceException Error(string detail) => ShapeInferenceException.For(Node, detail);

    /// <summary>Throws unless input i has one of the given types.</summary>
    public void ExpectType(int i, params ReadOnlySpan<DataType> allowed)
    {
        var t = InputType(i);
        foreach (var a in allowed) if (a == t) return;
        throw new UnsupportedOperatorException($"{Node.OpType} node '{Node.Name}': input {i} has type {t}, which EdgeNet does not support for this op");
    }
}
