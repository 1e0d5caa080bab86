using EdgeNet.IR;
using EdgeNet.Kernels.Activation;

namespace EdgeNet.Passes;

/// <summary>
/// Layer normalization written out over the last axis, as PyTorch exports it before opset 17:
/// <code>
///   μ = ReduceMean(x)   d = x − μ   σ² = ReduceMean(d²)   (d² as Pow(d, 2) or d · d)
///   y = d / √(σ² + ε) · γ + β        (the + β is optional; · and + in either operand order)
/// </code>
/// → LayerNormalization(x, γ, β; axis = −1, epsilon = ε). Both ReduceMeans must reduce exactly the last axis with
/// keepdims (axes as an attribute before opset 18, a constant input from 18); ε, γ, β must be constants, γ and β
/// shaped [C] or [1,…,1,C]. d must be read by the square and the division only, every other intermediate by the next
/// node only, so no value outside the pattern goes missing.
/// </summary>
public sealed class FuseLayerNorm : IGraphPass
{
    public string Name => "FuseLayerNorm";

    public bool Run(Model model)
    {
        var g = model.Graph;
        foreach (var mean in g.Nodes)
        {
            if (Match(g, mean) is not { } m) continue;
            var fused = new Node { OpType = "LayerNormalization", Name = m.Chain[^1].Name, OpsetVersion = Math.Max(17, mean.OpsetVersion) };
            fused.Inputs.Add(m.X);
            fused.Inputs.Add(AsVector(g, m.Gamma));
            if (m.Beta is not null) fused.Inputs.Add(AsVector(g, m.Beta));
            fused.SetAttribute(IR.Attribute.Of("axis", -1L));
            fused.SetAttribute(IR.Attribute.Of("epsilon", m.Epsilon));
            GraphEdits.ReplaceChain(g, m.Chain, fused);
            return true;
        }
        return false;
    }

    private sealed record Matched(Value X, Value Gamma, Value? Beta, float Epsilon, List<Node> Chain);

    private static Matched? Match(IR.Graph g, Node mean)
    {
        if (!GraphEdits.Is(mean, "ReduceMean") || mean.Input(0) is not { } x || !LastAxisOnly(mean, x)) return null;
        var chain = new List<Node> { mean };
        // d = x − μ
        if (Next(g, mean, chain) is not { } sub || !GraphEdits.Is(sub, "Sub") || sub.Input(0) != x || sub.Input(1) != mean.Outputs[0]) return null;
        var d = sub.Outputs[0];
        if (g.IsGraphOutput(d)) return null;
        var readers = g.ConsumersOf(d);
        if (readers.Count != 2) return null;
        Node? square = null, div = null;
        foreach (var r in readers)
        {
            if (GraphEdits.Is(r, "Div") && r.Inputs.Count == 2 && r.Inputs[0] == d && r.Inputs[1] != d) div = r;
            else if (IsSquareOf(r, d)) square = r;
        }
        if (square is null || div is null) return null;
        chain.Add(square);
        // σ² + ε, then √
        if (Next(g, square, chain) is not { } variance || !GraphEdits.Is(variance, "ReduceMean") || !LastAxisOnly(variance, x)) return null;
        if (Next(g, variance, chain) is not { } addEps || !GraphEdits.Is(addEps, "Add") || addEps.Inputs.Count != 2) return null;
        var varOut = variance.Outputs[0];
        float? eps = addEps.Inputs[0] == varOut ? GraphEdits.Scalar(addEps.Inputs[1], x) : addEps.Inputs[1] == varOut ? GraphEdits.Scalar(addEps.Inputs[0], x) : null;
        if (eps is null) return null;
        if (Next(g, addEps, chain) is not { } sqrt || !GraphEdits.Is(sqrt, "Sqrt")) return null;
        if (Next(g, sqrt, chain) != div || div.Inputs[1] != sqrt.Outputs[0]) return null;
        // · γ  (+ β)
        if (Next(g, div, chain) is not { } mulGamma || Affine(mulGamma, div.Outputs[0], x) is not { } gamma || !GraphEdits.Is(mulGamma, "Mul")) return null;
        Value? beta = null;
        if (GraphEdits.SoleConsumer(g, mulGamma.Outputs[0]) is { } addBeta && GraphEdits.Is(addBeta, "Add")
            && Affine(addBeta, mulGamma.Outputs[0], x) is { } b && !addBeta.HasAttribute(FusedActivation.KindAttribute))
        {
            beta = b;
            chain.Add(addBeta);
        }
        foreach (var n in chain) if (n.HasAttribute(FusedActivation.KindAttribute)) return null;
        return new Matched(x, gamma, beta, eps.Value, chain);
    }

    /// <summary>The sole reader of the node's output (appended to the chain), or null.</summary>
    private static Node? Next(IR.Graph g, Node node, List<Node> chain)
    {
        var next = GraphEdits.SoleConsumer(g, node.Outputs[0]);
        if (next is not null && !chain.Contains(next)) chain.Add(next);
        return next;
    }

    private static bool IsSquareOf(Node n, Value d)
    {
        if (n.Inputs.Count != 2) return false;
        if (GraphEdits.Is(n, "Mul")) return n.Inputs[0] == d && n.Inputs[1] == d;
        return GraphEdits.Is(n, "Pow") && n.Inputs[0] == d && GraphEdits.Near(GraphEdits.Scalar(n.Inputs[1], d), 2)
            || GraphEdits.Is(n, "Pow") && n.Inputs[0] == d && n.Inputs[1]?.Constant is { ElementCount: 1 } t
               && t.DataType is DataType.Int64 or DataType.Int32 && t.GetAsDouble(0) == 2 && t.Rank == 0;
    }

    /// <summary>For op(v, c) or op(c, v) with c a float32 constant of shape [C] or [1,…,1,C] (rank ≤ x's): c.</summary>
    private static Value? Affine(Node n, Value v, Value x)
    {
        if (n.Inputs.Count != 2) return null;
        var c = n.Inputs[0] == v ? n.Inputs[1] : n.Inputs[1] == v ? n.Inputs[0] : null;
        if (c?.Constant is not { DataType: DataType.Float32 } t || t.Rank == 0) return null;
        for (int i = 0; i < t.Rank - 1; i++) if (t.Dims[i] != 1) return null;
        if (t.Rank > 1 && (x.Shape is null || x.Shape.Length < t.Rank)) return null;
        if (x.Shape is { Length: > 0 } s && s[^1].IsKnown && t.Dims[^1] != s[^1].Value && t.Dims[^1] != 1) return null;
        return c;
    }

    /// <summary>ReduceMean over exactly the last axis, keeping it (axes attribute before opset 18, input after).</summary>
    private static bool LastAxisOnly(Node reduce, Value x)
    {
        if (reduce.GetInt("keepdims", 1) == 0) return false;
        long[]? axes;
        if (reduce.OpsetVersion >= 18)
        {
            if (reduce.Inputs.Count > 2 || reduce.Input(1)?.Constant is not { } t || t.DataType is not (DataType.Int64 or DataType.Int32)) return false;
            axes = t.ToInt64Array();
        }
        else
        {
            if (reduce.Inputs.Count > 1) return false;
            axes = reduce.GetInts("axes");
        }
        if (axes is not [long axis]) return false;
        return axis == -1 || x.Shape is { } s && axis == s.Length - 1;
    }

    /// <summary>γ/β as the 1-D vector LayerNormalization wants (a [1,…,1,C] constant gets a reshaped copy).</summary>
    private static Value AsVector(IR.Graph g, Value c)
    {
        var t = c.Constant!;
        if (t.Rank == 1) return c;
        return g.AddConstant(c.Name + "_vector", new Tensor(t.DataType, [t.Dims[^1]], t.Data.ToArray()));
    }
}
