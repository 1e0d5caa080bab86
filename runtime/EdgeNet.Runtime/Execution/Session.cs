using System.Runtime.InteropServices;
using EdgeNet.IR;
using EdgeNet.Ops;

namespace EdgeNet.Execution;

/// <summary>
/// Runs one model. Created once; each distinct set of input shapes gets its own <see cref="ExecutionPlan"/>, built on
/// first use and cached. The zero-allocation path is: write <see cref="Input{T}"/>, call <see cref="Run()"/>, read
/// <see cref="Output{T}"/>. Input and output indices follow the graph's declared order.
/// </summary>
public sealed class Session
{
    private readonly Dictionary<string, ExecutionPlan> _plans = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _inputIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _outputIndex = new(StringComparer.Ordinal);

    public Session(Model model, SessionOptions? options = null)
    {
        Model = model;
        Options = options ?? new SessionOptions();
        for (int i = 0; i < Graph.Inputs.Count; i++) _inputIndex[Graph.Inputs[i].Name] = i;
        for (int i = 0; i < Graph.Outputs.Count; i++) _outputIndex[Graph.Outputs[i].Name] = i;
        // Plan now (so an unsupported op fails at load) unless some input still has a symbolic dim no one bound yet:
        // that plan is built when shapes are given (SetInputShape / Run) or on first use with symbolic dims = 1.
        if (Graph.Inputs.All(v => Options.InputShapes.ContainsKey(v.Name) || Options.SpecializedInputs.ContainsKey(v.Name)
                                   || (v.Shape is not null && v.Shape.All(d => d.IsKnown))))
            _plan = GetOrBuildPlan();
    }

    private ExecutionPlan? _plan;

    public Model Model { get; }
    public SessionOptions Options { get; }
    private IR.Graph Graph => Model.Graph;

    /// <summary>The plan for the current input shapes (built on first use).</summary>
    public ExecutionPlan Plan => _plan ??= GetOrBuildPlan();

    public IReadOnlyList<Value> InputValues => Graph.Inputs;
    public IReadOnlyList<Value> OutputValues => Graph.Outputs;

    public int InputIndex(string name) => _inputIndex.TryGetValue(name, out int i) ? i
        : throw new InputMismatchException($"The model has no input named '{name}' (inputs: {string.Join(", ", Graph.Inputs.Select(v => v.Name))})");

    public int OutputIndex(string name) => _outputIndex.TryGetValue(name, out int i) ? i
        : throw new InputMismatchException($"The model has no output named '{name}' (outputs: {string.Join(", ", Graph.Outputs.Select(v => v.Name))})");

    public int[] InputShape(int index) => Plan.InputFacts[index].Dims;
    public DataType InputType(int index) => Plan.InputFacts[index].DataType;
    public int[] OutputShape(int index) => Plan.OutputFacts[index].Dims;
    public DataType OutputType(int index) => Plan.OutputFacts[index].DataType;

    /// <summary>Switches to the plan for these input shapes (built and cached on first use). Specialized inputs keep their values.</summary>
    public void SetInputShape(string name, int[] dims)
    {
        InputIndex(name);
        if (Options.InputShapes.TryGetValue(name, out var current) && current.AsSpan().SequenceEqual(dims)) return;
        var previousPlan = _plan;
        Options.InputShapes[name] = (int[])dims.Clone();
        _plan = null;
        try
        {
            _ = Plan;
        }
        catch
        {
            // a shape the model cannot take leaves the session as it was
            if (current is null) Options.InputShapes.Remove(name); else Options.InputShapes[name] = current;
            _plan = previousPlan;
            throw;
        }
    }

    private ExecutionPlan GetOrBuildPlan()
    {
        string key = string.Join(";", Graph.Inputs.Select(v =>
            Options.SpecializedInputs.ContainsKey(v.Name) ? "#" : string.Join("x", PlanBuilder.ResolveInputShape(v, Options))));
        if (!_plans.TryGetValue(key, out var plan)) _plans[key] = plan = new PlanBuilder(Graph, Options).Build();
        return plan;
    }

    /// <summary>The writable memory of input <paramref name="index"/> for the current plan.</summary>
    public Span<T> Input<T>(int index) where T : unmanaged
    {
        CheckType<T>(Plan.InputFacts[index].DataType, Graph.Inputs[index].Name);
        return MemoryMarshal.Cast<byte, T>(Plan.Context.Buffers[Plan.InputSlots[index]].Span);
    }

    /// <summary>The result memory of output <paramref name="index"/>; valid until the next Run.</summary>
    public ReadOnlySpan<T> Output<T>(int index) where T : unmanaged
    {
        CheckType<T>(Plan.OutputFacts[index].DataType, Graph.Outputs[index].Name);
        return MemoryMarshal.Cast<byte, T>(Plan.Context.Buffers[Plan.OutputSlots[index]].Span);
    }

    private static void CheckType<T>(DataType actual, string name) where T : unmanaged
    {
        var wanted = typeof(T) == typeof(byte) && actual is DataType.Bool or DataType.UInt8 ? actual : DataTypes.Of<T>();
        if (wanted != actual) throw new InputMismatchException($"'{name}' holds {actual}, not {typeof(T).Name}");
    }

    /// <summary>Runs the current plan on whatever the input buffers hold. Allocates nothing.</summary>
    public void Run() => Plan.Run();

    /// <summary>Convenience: copies the given inputs in (switching plan if shapes changed), runs, and returns copies of all outputs.</summary>
    public Tensor[] Run(IReadOnlyDictionary<string, Tensor> inputs)
    {
        foreach (var (name, tensor) in inputs)
        {
            int i = InputIndex(name);
            if (Options.SpecializedInputs.ContainsKey(name)) continue;
            var declared = Graph.Inputs[i].DataType;
            if (declared != DataType.Undefined && tensor.DataType != declared)
                throw new InputMismatchException($"Input '{name}' expects {declared}, got {tensor.DataType}");
        }
        foreach (var v in Graph.Inputs)
            if (!inputs.ContainsKey(v.Name) && !Options.SpecializedInputs.ContainsKey(v.Name))
                throw new InputMismatchException($"Input '{v.Name}' was not given");

        // switch plan when shapes changed; a shape the model cannot take leaves the session as it was
        var previousPlan = _plan;
        var previousShapes = new Dictionary<string, int[]>(Options.InputShapes, StringComparer.Ordinal);
        try
        {
            foreach (var (name, tensor) in inputs)
            {
                if (Options.SpecializedInputs.ContainsKey(name)) continue;
                if (!Options.InputShapes.TryGetValue(name, out var current) || !current.AsSpan().SequenceEqual(tensor.Dims))
                {
                    Options.InputShapes[name] = (int[])tensor.Dims.Clone();
                    _plan = null;
                }
            }
            _ = Plan;
        }
        catch
        {
            Options.InputShapes.Clear();
            foreach (var (name, dims) in previousShapes) Options.InputShapes[name] = dims;
            _plan = previousPlan;
            throw;
        }
        foreach (var (name, tensor) in inputs)
        {
            int i = InputIndex(name);
            if (Options.SpecializedInputs.ContainsKey(name)) continue;
            tensor.Data.Span.CopyTo(Plan.Context.Buffers[Plan.InputSlots[i]].Span);
        }
        Run();
        var results = new Tensor[Graph.Outputs.Count];
        for (int i = 0; i < results.Length; i++)
        {
            var f = Plan.OutputFacts[i];
            results[i] = new Tensor(f.DataType, (int[])f.Dims.Clone(), Plan.Context.Buffers[Plan.OutputSlots[i]].ToArray());
        }
        return results;
    }
}
