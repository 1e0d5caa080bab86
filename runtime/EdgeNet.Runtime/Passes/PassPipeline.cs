using EdgeNet.IR;

namespace EdgeNet.Passes;

/// <summary>Runs the graph passes to a fixed point. `edgenet convert` runs it once, so loading an .enet does no graph work.</summary>
public static class PassPipeline
{
    /// <summary>
    /// Folding and If inlining come first (each exposes more constants to the other; the outer loop repeats them);
    /// the pattern fusions run before FuseActivation, which would otherwise swallow the Clip/Sigmoid/Add they look for;
    /// dead-node elimination drops the constants and values the others left unused.
    /// </summary>
    public static IReadOnlyList<IGraphPass> Default { get; } =
    [
        new IdentityElimination(),
        // QDQ folding before ConstantFolding, which would turn the int8 weights behind DequantizeLinear into floats
        new FuseQdqConv(),
        new FuseQdqGemm(),
        new FuseQdqAdd(),
        new FuseQdqPool(),
        new FuseQdqPassThrough(),
        new FuseQdqActivation(),
        new ConstantFolding(),
        new InlineConstantIf(),
        new FuseConvBatchNorm(),
        new FuseLayerNorm(),
        new FuseHardSwish(),
        new FuseSwish(),
        new FuseActivation(),
        new DeadNodeElimination(),
    ];

    /// <summary>Optimizes in place; returns a one-line report of which passes changed the graph and how often.</summary>
    public static string Optimize(Model model, IReadOnlyList<IGraphPass>? passes = null)
    {
        passes ??= Default;
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int round = 0; round < 10; round++)
        {
            bool changed = false;
            foreach (var pass in passes)
                while (pass.Run(model))
                {
                    changed = true;
                    counts[pass.Name] = counts.GetValueOrDefault(pass.Name) + 1;
                    if (counts[pass.Name] > 10_000) break;
                }
            if (!changed) break;
        }
        model.Graph.RelinkProducers();
        model.Graph.SortTopologically();
        return counts.Count == 0 ? "no changes" : string.Join(", ", counts.Select(c => $"{c.Key} x{c.Value}"));
    }
}
