using EdgeNet.IR;
using EdgeNet.Kernels.Activation;

namespace EdgeNet.Passes;

/// <summary>
/// Finds HardSwish written out and replaces it with the HardSwish op, hswish(x) = x · max(0, min(1, x/6 + ½)):
/// <list type="bullet">
/// <item>x · HardSigmoid(x; α=1/6, β=½), either operand order (ONNX exporters before opset 14);</item>
/// <item>x · Clip(x + 3, 0, 6) / 6, with "/ 6" also as "· (1/6)" (PyTorch's x * relu6(x + 3) / 6), since
///       clip(x+3, 0, 6)/6 = clip(x/6 + ½, 0, 1);</item>
/// <item>x · (Clip(x + 3, 0, 6) / 6), the same with the division applied to the gate first.</item>
/// </list>
/// Every intermediate must be read by the next node of the pattern only (not by another node or as a graph output).
/// </summary>
public sealed class FuseHardSwish : IGraphPass
{
    public string Name => "FuseHardSwish";

    public bool Run(Model model)
    {
        var g = model.Graph;
        foreach (var top in g.Nodes)
        {
            if (top.HasAttribute(FusedActivation.KindAttribute)) continue;
            if (Match(g, top) is not var (x, chain)) continue;
            var fused = new Node { OpType = "HardSwish", Name = top.Name, OpsetVersion = Math.Max(14, top.OpsetVersion) };
            fused.Inputs.Add(x);
            GraphEdits.ReplaceChain(g, chain, fused);
            return true;
        }
        return false;
    }

    private static (Value X, List<Node> Chain)? Match(IR.Graph g, Node top)
    {
        if (GraphEdits.Is(top, "Mul") && top.Inputs.Count == 2 && top.Inputs[0] is { } a && top.Inputs[1] is { } b)
        {
            // x · HardSigmoid(x)
            foreach (var (x, gate) in new[] { (a, b), (b, a) })
            {
                var hs = GraphEdits.ProducerIn(g, gate);
                if (GraphEdits.Is(hs, "HardSigmoid") && hs!.Inputs[0] == x && Sole(g, hs, top)
                    && GraphEdits.Near(hs.GetFloat("alpha", 0.2f), 1f / 6) && GraphEdits.Near(hs.GetFloat("beta", 0.5f), 0.5f))
                    return (x, [hs, top]);
            }
            // x · (Clip(x+3, 0, 6) / 6)
            foreach (var (x, gate) in new[] { (a, b), (b, a) })
            {
                var scale = GraphEdits.ProducerIn(g, gate);
                if (scale is null || !Sole(g, scale, top) || DividedBySix(g, scale) is not { } clipOut) continue;
                if (ClipOfXPlus3(g, clipOut, x, scale) is { } inner) return (x, [.. inner, scale, top]);
            }
            // (x · Clip(x+3, 0, 6)) · (1/6)
        }
        if (DividedBySix(g, top) is { } product && GraphEdits.ProducerIn(g, product) is { } mul && GraphEdits.Is(mul, "Mul")
            && mul.Inputs.Count == 2 && Sole(g, mul, top) && mul.Inputs[0] is { } m0 && mul.Inputs[1] is { } m1)
        {
            foreach (var (x, gate) in new[] { (m0, m1), (m1, m0) })
                if (ClipOfXPlus3(g, gate, x, mul) is { } inner) return (x, [.. inner, mul, top]);
        }
        return null;
    }

    /// <summary>For y = v / 6 or v · (1/6) (either order), the v; else null.</summary>
    private static Value? DividedBySix(IR.Graph g, Node node)
    {
        if (node.Inputs.Count != 2 || node.Inputs[0] is not { } a || node.Inputs[1] is not { } b) return null;
        if (node.HasAttribute(FusedActivation.KindAttribute)) return null;
        if (GraphEdits.Is(node, "Div")) return GraphEdits.Near(GraphEdits.Scalar(b, a), 6) ? a : null;
        if (!GraphEdits.Is(node, "Mul")) return null;
        if (GraphEdits.Near(GraphEdits.Scalar(b, a), 1f / 6)) return a;
        if (GraphEdits.Near(GraphEdits.Scalar(a, b), 1f / 6)) return b;
        return null;
    }

    /// <summary>When <paramref name="gate"/> = Clip(x + 3, 0, 6), read only by <paramref name="reader"/>: [Add, Clip].</summary>
    private static List<Node>? ClipOfXPlus3(IR.Graph g, Value gate, Value x, Node reader)
    {
        var clip = GraphEdits.ProducerIn(g, gate);
        if (!GraphEdits.Is(clip, "Clip") || !Sole(g, clip!, reader) || clip!.Input(0) is not { } shifted) return null;
        if (GraphEdits.ClipBounds(clip) is not var (lo, hi) || lo != 0 || hi != 6) return null;
        var add = GraphEdits.ProducerIn(g, shifted);
        if (!GraphEdits.Is(add, "Add") || add!.Inputs.Count != 2 || !Sole(g, add, clip)) return null;
        if (add.HasAttribute(FusedActivation.KindAttribute)) return null;
        bool plus3 = add.Inputs[0] == x && GraphEdits.Near(GraphEdits.Scalar(add.Inputs[1], x), 3)
            || add.Inputs[1] == x && GraphEdits.Near(GraphEdits.Scalar(add.Inputs[0], x), 3);
        return plus3 ? [add, clip] : null;
    }

    /// <summary>True when <paramref name="reader"/> is the only reader of the node's output.</summary>
    private static bool Sole(IR.Graph g, Node node, Node reader) => GraphEdits.SoleConsumer(g, node.Outputs[0]) == reader;
}
