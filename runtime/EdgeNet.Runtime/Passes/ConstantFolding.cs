using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Ops;

namespace EdgeNet.Passes;

/// <summary>
/// Evaluates, once at convert time, every node whose outputs are already determined: y = op(c₁, …, cₙ) with all
/// inputs constants (initializers or earlier folds), and shape-only ops (Shape, Size) over values whose shape is fully
/// static (declared graph input shapes without symbolic dims, propagated through each op's own shape rule). Each such
/// y becomes an initializer, so PyTorch's Shape→Gather→Concat→Reshape chains on static shapes vanish from the saved
/// model instead of being re-folded each time a session is planned. The op's own Infer and kernel do the arithmetic
/// (the same helper the PlanBuilder folds with), so folded values equal computed ones.
/// Kept: ops that are not <see cref="OpDefinition.Foldable"/> (random generators), ops with subgraphs, unknown ops,
/// nodes the op rejects (the error then surfaces, with context, when a session is planned), and nodes whose outputs
/// would be more than <see cref="MaxGrowthBytes"/> larger than their inputs (ConstantOfShape, Expand, Tile): a
/// small generator is cheaper to store than its output. Likewise a DequantizeLinear of an 8-bit constant (an int8
/// weight of a layer that computes in float) stays: the file keeps the int8 bytes, and the session folds it into
/// float once, when it is planned.
/// </summary>
public sealed class ConstantFolding : IGraphPass
{
    /// <summary>Folding may grow the stored bytes by at most this much per node.</summary>
    public const long MaxGrowthBytes = 1 << 20;

    public string Name => "ConstantFolding";

    public bool Run(Model model)
    {
        // Static facts (type and concrete dims) of runtime values, seeded from fully declared graph inputs.
        var facts = new Dictionary<Value, ValueFacts>();
        foreach (var input in model.Graph.Inputs)
        {
            if (!input.DataType.IsSupported() || input.Shape is not { } shape || !shape.All(d => d.IsKnown)) continue;
            if (shape.Any(d => d.Value > int.MaxValue)) continue;
            facts[input] = new ValueFacts(input.DataType, Array.ConvertAll(shape, d => (int)d.Value));
        }
        return FoldGraph(model.Graph, facts);
    }

    private static bool FoldGraph(IR.Graph g, Dictionary<Value, ValueFacts> facts)
    {
        bool changed = false;
        for (int i = 0; i < g.Nodes.Count; i++)
        {
            var node = g.Nodes[i];
            bool hasSubgraph = false;
            foreach (var a in node.Attributes.Values)
            {
                if (a.Graph is { } sub) { hasSubgraph = true; changed |= FoldGraph(sub, facts); }
                foreach (var s in a.Graphs) { hasSubgraph = true; changed |= FoldGraph(s, facts); }
            }
            if (hasSubgraph || !TryFold(node, facts)) continue;
            g.Nodes.RemoveAt(i--);
            changed = true;
        }
        return changed;
    }

    /// <summary>DequantizeLinear of a constant 8-bit tensor of at least 64 elements (a quantized weight, not a scalar).</summary>
    private static bool IsNarrowWeightDequantize(Node node) =>
        node.OpType == "DequantizeLinear" && node.Domain.Length == 0 && node.Inputs.Count > 0
        && node.Inputs[0]?.Constant is { DataType: DataType.Int8 or DataType.UInt8 } c && c.ElementCount >= 64;

    private static ValueFacts? FactsOf(Value v, Dictionary<Value, ValueFacts> facts) =>
        v.Constant is { } c ? new ValueFacts(c.DataType, c.Dims, c) : facts.GetValueOrDefault(v);

    /// <summary>
    /// Evaluates the node and turns its outputs into constants; false (graph untouched) when it must stay, after
    /// recording its outputs' static shapes when they are known.
    /// </summary>
    private static bool TryFold(Node node, Dictionary<Value, ValueFacts> facts)
    {
        if (node.Outputs.Count == 0) return false;
        if (OpRegistry.Find(node.Domain, node.OpType) is not { Foldable: true } op) return false;
        bool storedNarrow = IsNarrowWeightDequantize(node);
        var inputs = new ValueFacts?[node.Inputs.Count];
        long inputBytes = 0;
        bool allConstant = true;
        for (int i = 0; i < inputs.Length; i++)
        {
            if (node.Inputs[i] is not { } v) continue;
            if (FactsOf(v, facts) is not { } f) return false;
            inputs[i] = f;
            allConstant &= f.Constant is not null;
            if (f.Constant is { } c) inputBytes += c.Data.Length;
        }
        var ctx = new OpContext(node, inputs);
        try
        {
            op.Infer(ctx);
            long outputBytes = 0;
            bool allKnown = true;
            for (int i = 0; i < node.Outputs.Count; i++)
            {
                if (!ctx.OutputSet(i)) return false;
                outputBytes += ctx.OutputFacts(i).ByteLength;
                allKnown &= ctx.OutputFacts(i).Constant is not null;
            }
            if (!allKnown && !allConstant || outputBytes - inputBytes > MaxGrowthBytes || storedNarrow)
            {
                // Only the shapes travel on: a kept generator's data must not be folded into its readers.
                for (int i = 0; i < node.Outputs.Count; i++)
                    facts[node.Outputs[i]] = new ValueFacts(ctx.OutputFacts(i).DataType, ctx.OutputFacts(i).Dims);
                return false;
            }
            if (!allKnown)
            {
                if (op.IsView)
                {
                    if (node.Outputs.Count != 1 || inputs[0]?.Constant is not { } source) return false;
                    var f = ctx.OutputFacts(0);
                    ctx.SetOutputConstant(0, new Tensor(f.DataType, f.Dims, source.Data.ToArray()));
                }
                else PlanBuilder.Fold(node, op, ctx, inputs);
            }
        }
        catch (EdgeNetException)
        {
            return false;
        }

        for (int i = 0; i < node.Outputs.Count; i++)
        {
            var t = ctx.OutputFacts(i).Constant!;
            // an op may hand back (a view of) an input tensor; a stored initializer must own its bytes
            foreach (var input in inputs)
                if (input?.Constant is { } c && c.Data.Span.Overlaps(t.Data.Span)) { t = t.Clone(); break; }
            var v = node.Outputs[i];
            v.Constant = t;
            v.DataType = t.DataType;
            v.Shape = Array.ConvertAll(t.Dims, d => Dim.Known(d));
            v.Producer = null;
        }
        return true;
    }
}
