using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Copy;

namespace EdgeNet.Ops.Transpose;

/// <summary>Transpose: output axis i is input axis perm[i] (default: reversed axes).</summary>
public sealed class TransposeOp : OpDefinition
{
    public override string OpType => "Transpose";

    private static int[] Perm(OpContext ctx)
    {
        int rank = ctx.InputRank(0);
        var perm = ctx.Ints("perm")?.Select(p => (int)p).ToArray() ?? Enumerable.Range(0, rank).Reverse().ToArray();
        if (perm.Length != rank || perm.Order().Where((p, i) => p != i).Any()) throw ctx.Error($"perm [{string.Join(",", perm)}] is not a permutation of rank {rank}");
        return perm;
    }

    /// <summary>
    /// True when the permutation only moves axes of size 1 (e.g. [1, T, C] → [T, 1, C]): the elements keep their
    /// memory order, so the planner makes the output a view of the input instead of copying.
    /// </summary>
    internal static bool KeepsMemoryOrder(OpContext ctx)
    {
        var dims = ctx.InputShape(0);
        int last = -1;
        foreach (int p in Perm(ctx))
        {
            if (dims[p] == 1) continue;
            if (p < last) return false;
            last = p;
        }
        return true;
    }

    public override void Infer(OpContext ctx)
    {
        var dims = ctx.InputShape(0);
        ctx.SetOutput(0, ctx.InputType(0), Perm(ctx).Select(p => dims[p]).ToArray());
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var perm = Perm(ctx);
        var strides = Shapes.Strides(ctx.InputShape(0));
        var map = IndexMapKernel.Build(ctx.OutputShape(0), idx =>
        {
            int s = 0;
            for (int i = 0; i < idx.Length; i++) s += idx[i] * strides[perm[i]];
            return s;
        });
        return new IndexMapKernel(map, ctx.InputType(0).SizeOf());
    }
}
