using EdgeNet.IR;

namespace EdgeNet.Passes;

/// <summary>
/// Replaces an If whose condition is a constant c by the branch it will always take: then_branch when c ≠ 0, else
/// else_branch. The branch's own values (node outputs, its initializers) move into the enclosing graph under fresh
/// names "{if}/{name}" (branch scopes may reuse names the outer graph or the other branch use); values it captures
/// from outer scopes keep pointing at the same outer values. Output i of the If becomes Identity(branch output i),
/// which IdentityElimination then removes where it can.
/// </summary>
public sealed class InlineConstantIf : IGraphPass
{
    public string Name => "InlineConstantIf";

    public bool Run(Model model) => InlineIn(model.Graph);

    private static bool InlineIn(IR.Graph g)
    {
        for (int i = 0; i < g.Nodes.Count; i++)
        {
            var node = g.Nodes[i];
            if (node.OpType == "If" && node.Domain.Length == 0 && node.Input(0)?.Constant is { ElementCount: 1 } cond)
            {
                var branch = node.GetGraph(cond.GetAsDouble(0) != 0 ? "then_branch" : "else_branch");
                if (branch is null || branch.Outputs.Count != node.Outputs.Count) continue;
                Inline(g, i, node, branch);
                return true;
            }
            foreach (var a in node.Attributes.Values)
            {
                if (a.Graph is { } sub && InlineIn(sub)) return true;
                foreach (var s in a.Graphs) if (InlineIn(s)) return true;
            }
        }
        return false;
    }

    private static void Inline(IR.Graph g, int index, Node ifNode, IR.Graph branch)
    {
        string prefix = ifNode.Name.Length > 0 ? ifNode.Name : "if";
        // Value objects move as they are, so nested subgraphs that capture them keep working after the rename.
        foreach (var v in branch.Values.Values.ToList())
        {
            v.Name = g.UniqueName($"{prefix}/{v.Name}");
            g.Values[v.Name] = v;
        }
        var nodeNames = new HashSet<string>(g.Nodes.Select(n => n.Name), StringComparer.Ordinal);
        var inlined = new List<Node>(branch.Nodes.Count + ifNode.Outputs.Count);
        foreach (var n in branch.Nodes)
        {
            n.Name = UniqueNodeName(nodeNames, $"{prefix}/{n.Name}");
            inlined.Add(n);
        }
        for (int o = 0; o < ifNode.Outputs.Count; o++)
        {
            var identity = new Node { OpType = "Identity", Name = UniqueNodeName(nodeNames, $"{prefix}/output{o}"), OpsetVersion = ifNode.OpsetVersion };
            identity.Inputs.Add(branch.Outputs[o]);
            identity.Outputs.Add(ifNode.Outputs[o]);
            ifNode.Outputs[o].Producer = identity;
            inlined.Add(identity);
        }
        g.Nodes.RemoveAt(index);
        g.Nodes.InsertRange(index, inlined);
        branch.Nodes.Clear();
        branch.Values.Clear();
    }

    private static string UniqueNodeName(HashSet<string> taken, string stem)
    {
        string name = stem;
        for (int i = 1; !taken.Add(name); i++) name = $"{stem}_{i}";
        return name;
    }
}
