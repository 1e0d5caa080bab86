namespace EdgeNet.Ops;

/// <summary>
/// Every operator EdgeNet knows, by (domain, op type). Each op family registers itself in its own partial file
/// (OpRegistry.Nn.cs, OpRegistry.Math.cs, ...) so families can be added without touching this one.
/// </summary>
public static partial class OpRegistry
{
    private static readonly Dictionary<(string Domain, string OpType), OpDefinition> s_ops = Build();

    private static Dictionary<(string, string), OpDefinition> Build()
    {
        var ops = new Dictionary<(string, string), OpDefinition>();
        void Add(OpDefinition op) => ops[(NormalizeDomain(op.Domain), op.OpType)] = op;
        RegisterNn(Add);
        RegisterMath(Add);
        RegisterTensor(Add);
        RegisterRnn(Add);
        RegisterFused(Add);
        RegisterQuantized(Add);
        return ops;
    }

    static partial void RegisterNn(Action<OpDefinition> add);
    static partial void RegisterMath(Action<OpDefinition> add);
    static partial void RegisterTensor(Action<OpDefinition> add);
    static partial void RegisterRnn(Action<OpDefinition> add);
    static partial void RegisterFused(Action<OpDefinition> add);
    static partial void RegisterQuantized(Action<OpDefinition> add);

    /// <summary>"ai.onnx" is the default domain spelled out.</summary>
    public static string NormalizeDomain(string domain) => domain == "ai.onnx" ? "" : domain;

    public static OpDefinition? Find(string domain, string opType)
    {
        lock (s_ops) return s_ops.TryGetValue((NormalizeDomain(domain), opType), out var op) ? op : null;
    }

    /// <summary>Adds an op at run time (test-only ops, user extensions). Not thread-safe against concurrent planning.</summary>
    public static void RegisterForTests(OpDefinition op)
    {
        lock (s_ops) s_ops[(NormalizeDomain(op.Domain), op.OpType)] = op;
    }

    public static IEnumerable<string> Supported => s_ops.Keys.Select(k => k.Domain.Length == 0 ? k.OpType : k.Domain + "." + k.OpType).Order();
}
