using EdgeNet.IR;
using EdgeNet.Kernels;
using EdgeNet.Ops;
using EdgeNet.Planning;

namespace EdgeNet.Execution;

/// <summary>
/// Turns a graph plus concrete input shapes into an <see cref="ExecutionPlan"/>:
/// 1. walks nodes in order, inferring every value's type and shape and evaluating nodes whose inputs are all known
///    (so Shape→Gather→Concat→Reshape chains and constant If conditions vanish);
/// 2. records views (Reshape-like ops, If outputs) and in-place candidates;
/// 3. computes buffer lifetimes and places them in one arena with <see cref="GreedyMemoryPlanner"/>;
/// 4. creates one kernel per remaining node and binds its slots.
/// </summary>
public sealed class PlanBuilder
{
    private readonly IR.Graph _graph;
    private readonly SessionOptions _options;
    private readonly Isa _isa;
    private readonly Dictionary<Value, ValueFacts> _facts = new();
    private readonly Dictionary<Value, Value> _viewOf = new();
    private readonly List<(Node Node, OpDefinition Op, OpContext Ctx)> _steps = new();
    /// <summary>Runtime values of an enclosing graph that this (branch) graph reads; bound to memory at run time.</summary>
    private readonly HashSet<Value> _external = new();
    private readonly List<(int Slot, Value Source)> _externalBindings = new();

    public PlanBuilder(IR.Graph graph, SessionOptions options) : this(graph, options, null) { }

    /// <summary>A plan for a subgraph (If branch) that reads values of its enclosing plan, given with their facts.</summary>
    internal PlanBuilder(IR.Graph graph, SessionOptions options, IReadOnlyDictionary<Value, ValueFacts>? outer)
    {
        _graph = graph;
        _options = options;
        _isa = IsaSupport.Resolve(options.Isa);
        if (outer is null) return;
        foreach (var (v, f) in outer)
        {
            _facts[v] = f;
            if (f.Constant is null) _external.Add(v);
        }
    }

    /// <summary>Shapes of the graph inputs for this plan (given, else declared, symbolic/unknown dims = 1).</summary>
    public static int[] ResolveInputShape(Value input, SessionOptions options)
    {
        if (options.SpecializedInputs.TryGetValue(input.Name, out var fixedValue)) return fixedValue.Dims;
        var declared = input.Shape;
        if (options.InputShapes.TryGetValue(input.Name, out var given))
        {
            if (declared is not null)
            {
                bool ok = declared.Length == given.Length;
                for (int i = 0; ok && i < given.Length; i++) ok = !declared[i].IsKnown || declared[i].Value == given[i];
                if (!ok)
                    throw new InputMismatchException(
                        $"Input '{input.Name}' expects shape [{string.Join("x", declared.Select(d => d.ToString()))}], got {Shapes.Format(given)}");
            }
            foreach (int d in given)
                if (d < 0) throw new InputMismatchException($"Input '{input.Name}': negative dimension in {Shapes.Format(given)}");
            return given;
        }
        if (declared is null) throw new InputMismatchException($"Input '{input.Name}' has no declared shape; give one (e.g. --shape {input.Name}=1x16000)");
        return declared.Select(d => d.IsKnown ? checked((int)d.Value) : 1).ToArray();
    }

    public ExecutionPlan Build()
    {
        var inputFacts = new ValueFacts[_graph.Inputs.Count];
        for (int i = 0; i < _graph.Inputs.Count; i++)
        {
            var input = _graph.Inputs[i];
            if (_options.SpecializedInputs.TryGetValue(input.Name, out var value))
            {
                if (input.DataType != DataType.Undefined && value.DataType != input.DataType)
                    throw new InputMismatchException($"Input '{input.Name}' expects {input.DataType}, got {value.DataType}");
                _facts[input] = new ValueFacts(value.DataType, value.Dims, value);
            }
            else
            {
                if (!input.DataType.IsSupported()) throw new InvalidModelException($"Input '{input.Name}' has unsupported type {input.DataType}");
                _facts[input] = new ValueFacts(input.DataType, ResolveInputShape(input, _options));
            }
            inputFacts[i] = _facts[input];
        }
        AddConstants(_graph);
        foreach (var node in _graph.Nodes) Visit(node);

        var outputFacts = new ValueFacts[_graph.Outputs.Count];
        for (int i = 0; i < outputFacts.Length; i++)
            outputFacts[i] = _facts.TryGetValue(_graph.Outputs[i], out var f) ? f
                : throw new InvalidModelException($"Graph output '{_graph.Outputs[i].Name}' is never produced");
        return Assemble(inputFacts, outputFacts);
    }

    private void AddConstants(IR.Graph graph)
    {
        foreach (var v in graph.Values.Values)
            if (v.Constant is { } c) _facts[v] = new ValueFacts(c.DataType, c.Dims, c);
    }

    private ValueFacts FactsOf(Value v, Node reader) =>
        _facts.TryGetValue(v, out var f) ? f
            : throw new InvalidModelException($"Node '{reader.Name}' ({reader.OpType}) reads '{v.Name}' before it is produced");

    private void Visit(Node node)
    {
        if (node.OpType == "If" && node.Domain.Length == 0)
        {
            var cond = node.Input(0) is { } c ? FactsOf(c, node) : throw ShapeInferenceException.For(node, "missing condition");
            if (cond.Constant is not null) InlineIf(node); else PlanRuntimeIf(node);
            return;
        }
        var op = OpRegistry.Find(node.Domain, node.OpType) ?? throw UnsupportedOperatorException.For(node);
        var inputs = new ValueFacts?[node.Inputs.Count];
        bool allConstant = true;
        for (int i = 0; i < inputs.Length; i++)
        {
            if (node.Inputs[i] is not { } v) continue;
            inputs[i] = FactsOf(v, node);
            allConstant &= inputs[i]!.Constant is not null;
        }
        var ctx = new OpContext(node, inputs, _options.Threads, _isa) { Winograd = _options.Winograd };
        op.Infer(ctx);
        for (int i = 0; i < node.Outputs.Count; i++)
            if (!ctx.OutputSet(i)) throw ShapeInferenceException.For(node, $"output {i} was not inferred");

        bool outputsConstant = true;
        for (int i = 0; i < node.Outputs.Count; i++) outputsConstant &= ctx.OutputFacts(i).Constant is not null;

        bool view = op.IsView || (op is Ops.Transpose.TransposeOp && Ops.Transpose.TransposeOp.KeepsMemoryOrder(ctx));
        if (!outputsConstant && view && inputs[0]?.Constant is { } source)
        {
            var of = ctx.OutputFacts(0);
            ctx.SetOutputConstant(0, new Tensor(of.DataType, of.Dims, source.Data));
        }
        else if (!outputsConstant && allConstant && op.Foldable && _options.FoldConstants)
        {
            Fold(node, op, ctx, inputs);
        }
        else if (!outputsConstant)
        {
            if (view) _viewOf[node.Outputs[0]] = node.Inputs[0]!;
            else _steps.Add((node, op, ctx));
        }
        for (int i = 0; i < node.Outputs.Count; i++) _facts[node.Outputs[i]] = ctx.OutputFacts(i);
    }

    /// <summary>Runs a node whose inputs are all known now and stores its outputs as constants.</summary>
    internal static void Fold(Node node, OpDefinition op, OpContext ctx, ValueFacts?[] inputs)
    {
        var kernel = op.CreateKernel(ctx);
        var buffers = new Memory<byte>[inputs.Length + node.Outputs.Count + 1];
        var inSlots = new int[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            if (inputs[i] is null) { inSlots[i] = -1; continue; }
            buffers[i] = inputs[i]!.Constant!.Data;
            inSlots[i] = i;
        }
        var outSlots = new int[node.Outputs.Count];
        var results = new Tensor[node.Outputs.Count];
        for (int i = 0; i < outSlots.Length; i++)
        {
            var f = ctx.OutputFacts(i);
            results[i] = Tensor.Zeros(f.DataType, f.Dims);
            outSlots[i] = inputs.Length + i;
            buffers[outSlots[i]] = results[i].Data;
        }
        kernel.InputSlots = inSlots;
        kernel.OutputSlots = outSlots;
        kernel.ScratchMemory = new byte[kernel.ScratchBytes];
        kernel.Execute(new ExecutionContext(buffers, 1));
        for (int i = 0; i < results.Length; i++) ctx.SetOutputConstant(i, results[i]);
    }

    /// <summary>If with a condition known at plan time: the chosen branch's nodes run in place of the If.</summary>
    private void InlineIf(Node node)
    {
        var cond = FactsOf(node.Inputs[0] ?? throw ShapeInferenceException.For(node, "missing condition"), node).Constant
            ?? throw UnsupportedOperatorException.For(node, "the condition must be known when the session is planned");
        if (cond.ElementCount != 1) throw ShapeInferenceException.For(node, "the condition must have exactly one element");
        var branch = node.GetGraph(cond.GetAsDouble(0) != 0 ? "then_branch" : "else_branch")
            ?? throw ShapeInferenceException.For(node, "missing branch graph");
        if (branch.Outputs.Count != node.Outputs.Count)
            throw ShapeInferenceException.For(node, $"branch has {branch.Outputs.Count} outputs, node has {node.Outputs.Count}");
        AddConstants(branch);
        foreach (var inner in branch.Nodes) Visit(inner);
        for (int i = 0; i < node.Outputs.Count; i++)
        {
            var source = branch.Outputs[i];
            var f = FactsOf(source, node);
            _facts[node.Outputs[i]] = f;
            if (f.Constant is null) _viewOf[node.Outputs[i]] = source;
        }
    }

    /// <summary>
    /// If with a condition only known at run time: both branches get their own plan (and arena); the step's inputs are
    /// the condition plus every outer value either branch reads, so the outer plan keeps them alive across the If.
    /// </summary>
    private void PlanRuntimeIf(Node node)
    {
        var thenGraph = node.GetGraph("then_branch") ?? throw ShapeInferenceException.For(node, "missing then_branch");
        var elseGraph = node.GetGraph("else_branch") ?? throw ShapeInferenceException.For(node, "missing else_branch");
        var captured = new List<Value>();
        CollectCaptures(thenGraph, captured);
        CollectCaptures(elseGraph, captured);
        var outer = new Dictionary<Value, ValueFacts>();
        foreach (var v in captured) outer[v] = FactsOf(v, node);
        var thenPlan = new PlanBuilder(thenGraph, _options, outer).Build();
        var elsePlan = new PlanBuilder(elseGraph, _options, outer).Build();
        if (thenPlan.OutputFacts.Length != node.Outputs.Count || elsePlan.OutputFacts.Length != node.Outputs.Count)
            throw ShapeInferenceException.For(node, "branch output count differs from the node's");

        var step = new Node { OpType = "If", Name = node.Name, OpsetVersion = node.OpsetVersion };
        step.Inputs.Add(node.Inputs[0]);
        foreach (var v in captured) if (outer[v].Constant is null) step.Inputs.Add(v);
        step.Outputs.AddRange(node.Outputs);
        var ctx = new OpContext(step, step.Inputs.Select(v => (ValueFacts?)FactsOf(v!, node)).ToArray(), _options.Threads, _isa);
        for (int i = 0; i < node.Outputs.Count; i++)
        {
            ValueFacts a = thenPlan.OutputFacts[i], b = elsePlan.OutputFacts[i];
            if (a.DataType != b.DataType || !a.Dims.AsSpan().SequenceEqual(b.Dims))
                throw new UnsupportedOperatorException($"If node '{node.Name}': branches give output {i} different types or shapes ({a.DataType}{Shapes.Format(a.Dims)} vs {b.DataType}{Shapes.Format(b.Dims)})");
            ctx.SetOutput(i, a.DataType, a.Dims);
            _facts[node.Outputs[i]] = ctx.OutputFacts(i);
        }
        _steps.Add((step, new RuntimeIfOp(thenPlan, elsePlan, step.Inputs.Skip(1).Select(v => v!).ToArray()), ctx));
    }

    /// <summary>Values a subgraph (and its nested subgraphs) reads but does not own, in first-use order.</summary>
    private void CollectCaptures(IR.Graph g, List<Value> into)
    {
        void Consider(Value? v)
        {
            if (v is null || g.Values.TryGetValue(v.Name, out var own) && ReferenceEquals(own, v)) return;
            if (!into.Contains(v) && _facts.ContainsKey(v)) into.Add(v);
        }
        foreach (var n in g.Nodes)
        {
            foreach (var v in n.Inputs) Consider(v);
            foreach (var a in n.Attributes.Values)
                if (a.Graph is { } inner)
                {
                    var nested = new List<Value>();
                    CollectCaptures(inner, nested);
                    foreach (var v in nested) Consider(v);
                }
        }
        foreach (var v in g.Outputs) Consider(v);
    }

    private Value RootOf(Value v)
    {
        while (_viewOf.TryGetValue(v, out var source)) v = source;
        return v;
    }

    private ExecutionPlan Assemble(ValueFacts[] inputFacts, ValueFacts[] outputFacts)
    {
        // Union-find over buffers: a view shares its source's buffer; an in-place output shares its input's.
        var parent = new Dictionary<Value, Value>();
        Value Find(Value v)
        {
            v = RootOf(v);
            while (parent.TryGetValue(v, out var p)) v = RootOf(p);
            return v;
        }
        bool IsRuntime(Value v) => _facts.TryGetValue(v, out var f) && f.Constant is null;

        const int Forever = int.MaxValue;
        var first = new Dictionary<Value, int>();
        var last = new Dictionary<Value, int>();
        var pinned = new HashSet<Value>();
        void Touch(Value root, int step)
        {
            first[root] = first.TryGetValue(root, out int a) ? Math.Min(a, step) : step;
            last[root] = last.TryGetValue(root, out int b) ? Math.Max(b, step) : step;
        }

        pinned.UnionWith(_external);
        foreach (var input in _graph.Inputs)
            if (IsRuntime(input)) { Touch(input, -1); Touch(input, Forever); pinned.Add(input); } // inputs stay intact: Run may be repeated on them
        for (int s = 0; s < _steps.Count; s++)
        {
            var node = _steps[s].Node;
            foreach (var v in node.Inputs) if (v is not null && IsRuntime(v) && !_external.Contains(RootOf(v))) Touch(RootOf(v), s);
            foreach (var v in node.Outputs) Touch(RootOf(v), s);
        }
        foreach (var output in _graph.Outputs)
            if (IsRuntime(output) && !_external.Contains(RootOf(output))) { Touch(RootOf(output), Forever); pinned.Add(RootOf(output)); }
        foreach (var name in _options.KeepAlive)
        {
            var v = FindValue(name);
            if (v is not null && IsRuntime(v) && !_external.Contains(RootOf(v))) { Touch(RootOf(v), Forever); pinned.Add(RootOf(v)); }
        }

        if (_options.AllowInPlace)
        {
            for (int s = 0; s < _steps.Count; s++)
            {
                var (node, op, ctx) = _steps[s];
                int k = op.InPlaceInput;
                if (k < 0 || node.Input(k) is not { } source || !IsRuntime(source)) continue;
                var r = Find(source);
                var outRoot = Find(node.Outputs[0]);
                if (pinned.Contains(r) || last[r] != s || first[outRoot] != s) continue;
                if (_facts[r].ByteLength != ctx.OutputFacts(0).ByteLength) continue;
                if (node.Inputs.Count(v => v is not null && IsRuntime(v) && Find(v) == r) != 1) continue;
                parent[outRoot] = r;
                last[r] = last[outRoot];
                if (pinned.Contains(outRoot)) pinned.Add(r);
            }
        }

        // Kernels (their scratch needs go into the plan as one-step buffers).
        var kernels = new Kernel[_steps.Count];
        for (int s = 0; s < _steps.Count; s++) kernels[s] = _steps[s].Op.CreateKernel(_steps[s].Ctx);

        var roots = first.Keys.Where(v => Find(v) == v).ToList();
        var requests = new List<BufferRequest>();
        var requestOf = new Dictionary<Value, int>();
        foreach (var root in roots)
        {
            requestOf[root] = requests.Count;
            requests.Add(new BufferRequest(root.Name, _facts[root].ByteLength, first[root], last[root]));
        }
        var scratchRequest = new int[kernels.Length];
        for (int s = 0; s < kernels.Length; s++)
        {
            scratchRequest[s] = -1;
            if (kernels[s].ScratchBytes <= 0) continue;
            scratchRequest[s] = requests.Count;
            requests.Add(new BufferRequest($"scratch:{_steps[s].Node.Name}", kernels[s].ScratchBytes, s, s));
        }
        var (placements, arenaBytes) = GreedyMemoryPlanner.Plan(requests);
        if (arenaBytes > _options.MaxArenaBytes)
            throw new InvalidModelException($"The plan needs a {arenaBytes}-byte arena, over the {_options.MaxArenaBytes}-byte limit (SessionOptions.MaxArenaBytes)");
        var arena = GC.AllocateArray<byte>(checked((int)arenaBytes + GreedyMemoryPlanner.Alignment), pinned: true);
        int baseOffset = AlignedBase(arena);

        // Slots: one per value the kernels or the caller touch.
        var buffers = new List<Memory<byte>>();
        var slotOf = new Dictionary<Value, int>();
        int SlotFor(Value v)
        {
            if (slotOf.TryGetValue(v, out int slot)) return slot;
            var f = _facts[v];
            if (f.Constant is null && _external.Contains(Find(v)))
            {
                _externalBindings.Add((buffers.Count, Find(v)));
                slotOf[v] = buffers.Count;
                buffers.Add(Memory<byte>.Empty); // bound by the enclosing If before each run
                return buffers.Count - 1;
            }
            Memory<byte> memory = f.Constant is { } c
                ? c.Data
                : arena.AsMemory(baseOffset + (int)placements[requestOf[Find(v)]].Offset, f.ByteLength);
            slotOf[v] = buffers.Count;
            buffers.Add(memory);
            return buffers.Count - 1;
        }

        var steps = new PlanStep[_steps.Count];
        for (int s = 0; s < _steps.Count; s++)
        {
            var (node, op, ctx) = _steps[s];
            var kernel = kernels[s];
            kernel.InputSlots = node.Inputs.Select(v => v is null ? -1 : SlotFor(v)).ToArray();
            kernel.OutputSlots = node.Outputs.Select(SlotFor).ToArray();
            if (scratchRequest[s] >= 0)
                kernel.ScratchMemory = arena.AsMemory(baseOffset + (int)placements[scratchRequest[s]].Offset, kernel.ScratchBytes);
            var outFacts = Enumerable.Range(0, node.Outputs.Count).Select(ctx.OutputFacts).ToArray();
            steps[s] = new PlanStep(node, op, kernel, outFacts, op.CountMacs(ctx));
        }
        var inputSlots = _graph.Inputs.Select(SlotFor).ToArray();
        var outputSlots = _graph.Outputs.Select(SlotFor).ToArray();
        foreach (var name in _options.KeepAlive) if (FindValue(name) is { } kept && _facts.ContainsKey(kept)) SlotFor(kept);

        var context = new ExecutionContext(buffers.ToArray(), _options.Threads);
        return new ExecutionPlan(steps, context, arena, arenaBytes, placements, slotOf, _facts,
            inputSlots, outputSlots, inputFacts, outputFacts) { ExternalBindings = _externalBindings.ToArray() };
    }

    private Value? FindValue(string name)
    {
        if (_graph.Values.TryGetValue(name, out var v)) return v;
        foreach (var known in _facts.Keys) if (known.Name == name) return known;
        return null;
    }

    private static unsafe int AlignedBase(byte[] pinnedArray)
    {
        fixed (byte* p = pinnedArray)
        {
            long address = (long)p;
            long aligned = (address + GreedyMemoryPlanner.Alignment - 1) & ~(long)(GreedyMemoryPlanner.Alignment - 1);
            return (int)(aligned - address);
        }
    }
}
