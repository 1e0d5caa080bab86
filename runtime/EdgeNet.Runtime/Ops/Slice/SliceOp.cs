using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Copy;

namespace EdgeNet.Ops.Slice;

/// <summary>
/// Slice: starts/ends/axes as attributes before opset 10, as inputs (with steps) after. Negative indices count from the
/// end; starts clamp to [0, d] (or [0, d−1] for negative steps), ends to [−1, d]; INT_MAX means "to the end".
/// </summary>
public sealed class SliceOp : OpDefinition
{
    public override string OpType => "Slice";

    private static (int[] Start, int[] Step, int[] Dims) Resolve(OpContext ctx)
    {
        var input = ctx.InputShape(0);
        int rank = input.Length;
        long[] starts, ends;
        long[]? axes, steps = null;
        if (ctx.Opset < 10)
        {
            starts = ctx.Ints("starts") ?? throw ctx.Error("missing starts");
            ends = ctx.Ints("ends") ?? throw ctx.Error("missing ends");
            axes = ctx.Ints("axes");
        }
        else
        {
            starts = ctx.RequireConstant(1, "starts").ToInt64Array();
            ends = ctx.RequireConstant(2, "ends").ToInt64Array();
            axes = ctx.HasInput(3) ? ctx.RequireConstant(3, "axes").ToInt64Array() : null;
            steps = ctx.HasInput(4) ? ctx.RequireConstant(4, "steps").ToInt64Array() : null;
        }
        axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        if (ends.Length != starts.Length || axes.Length != starts.Length || (steps is not null && steps.Length != starts.Length))
            throw ctx.Error("starts, ends, axes and steps must have the same length");
        var start = new int[rank];
        var step = Enumerable.Repeat(1, rank).ToArray();
        var dims = (int[])input.Clone();
        for (int k = 0; k < starts.Length; k++)
        {
            int axis = Shapes.NormalizeAxis(axes[k], rank, ctx.Node);
            long d = input[axis];
            long st = steps?[k] ?? 1;
            if (st == 0) throw ctx.Error("step 0");
            long s = starts[k], e = ends[k];
            if (s < 0) s += d;
            if (e < 0) e += d;
            if (st > 0)
            {
                s = Math.Clamp(s, 0, d);
                e = Math.Clamp(e, 0, d);
            }
            else
            {
                s = Math.Clamp(s, 0, d - 1);
                e = Math.Clamp(e, -1, d - 1);
            }
            long n = st > 0 ? (e - s + st - 1) / st : (s - e + (-st) - 1) / -st;
            start[axis] = (int)s;
            step[axis] = (int)st;
            dims[axis] = (int)Math.Max(0, n);
        }
        return (start, step, dims);
    }

    public override void Infer(OpContext ctx) => ctx.SetOutput(0, ctx.InputType(0), Resolve(ctx).Dims);

    public override Kernel CreateKernel(OpContext ctx)
    {
        var (start, step, dims) = Resolve(ctx);
        var strides = Shapes.Strides(ctx.InputShape(0));
        var map = IndexMapKernel.Build(dims, idx =>
        {
            int s = 0;
            for (int i = 0; i < idx.Length; i++) s += (start[i] + idx[i] * step[i]) * strides[i];
            return s;
        });
        return new IndexMapKernel(map, ctx.InputType(0).SizeOf());
    }
}
