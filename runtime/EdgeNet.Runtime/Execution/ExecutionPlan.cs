using System.Globalization;
using System.Text;
using EdgeNet.IR;
using EdgeNet.Ops;
using EdgeNet.Planning;

namespace EdgeNet.Execution;

/// <summary>One kernel to run, with the node it came from (for diagnostics and profiling).</summary>
public sealed record PlanStep(Node Node, OpDefinition Op, Kernel Kernel, ValueFacts[] OutputFacts, long Macs);

/// <summary>
/// Everything needed to run a model for one set of input shapes: the kernels in order, one arena holding every
/// activation, and the slot table mapping values to memory. Built once by <see cref="PlanBuilder"/>; Run allocates nothing.
/// </summary>
public sealed class ExecutionPlan
{
    internal ExecutionPlan(PlanStep[] steps, ExecutionContext context, byte[] arena, long arenaBytes,
        Placement[] placements, Dictionary<Value, int> slotOf, Dictionary<Value, ValueFacts> facts,
        int[] inputSlots, int[] outputSlots, ValueFacts[] inputFacts, ValueFacts[] outputFacts)
    {
        Steps = steps; Context = context; Arena = arena; ArenaBytes = arenaBytes; Placements = placements;
        SlotOf = slotOf; Facts = facts; InputSlots = inputSlots; OutputSlots = outputSlots;
        InputFacts = inputFacts; OutputFacts = outputFacts;
    }

    public PlanStep[] Steps { get; }
    public ExecutionContext Context { get; }
    internal byte[] Arena { get; }
    /// <summary>Planned arena size in bytes (activations + scratch).</summary>
    public long ArenaBytes { get; }
    public Placement[] Placements { get; }
    internal Dictionary<Value, int> SlotOf { get; }
    /// <summary>Concrete type, shape and (for folded values) data of every value of the graph.</summary>
    public Dictionary<Value, ValueFacts> Facts { get; }
    internal int[] InputSlots { get; }
    internal int[] OutputSlots { get; }
    public ValueFacts[] InputFacts { get; }
    public ValueFacts[] OutputFacts { get; }

    /// <summary>For a branch plan: slots that show values of the enclosing plan, bound before each run.</summary>
    internal (int Slot, Value Source)[] ExternalBindings { get; init; } = [];

    public long TotalMacs => Steps.Sum(s => s.Macs);

    public void Run()
    {
        var ctx = Context;
        var steps = Steps;
        for (int i = 0; i < steps.Length; i++) steps[i].Kernel.Execute(ctx);
    }

    /// <summary>The memory of any runtime value by name (e.g. an activation kept alive), or empty when it was folded away.</summary>
    public Memory<byte> MemoryOf(Value value) => SlotOf.TryGetValue(value, out int slot) ? Context.Buffers[slot] : Memory<byte>.Empty;

    public string Describe()
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"{Steps.Length} kernels");
        for (int i = 0; i < Steps.Length; i++)
        {
            var s = Steps[i];
            string outs = string.Join(", ", s.OutputFacts.Select(f => f.DataType + Shapes.Format(f.Dims)));
            sb.AppendLine(CultureInfo.InvariantCulture, $"  {i,4} {s.Node.OpType,-20} {s.Node.Name,-40} -> {outs}");
        }
        sb.Append(GreedyMemoryPlanner.Describe(Placements, ArenaBytes));
        return sb.ToString();
    }
}
