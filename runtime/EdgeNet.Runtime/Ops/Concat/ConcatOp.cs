using EdgeNet.Execution;
using EdgeNet.IR;

namespace EdgeNet.Ops.Concat;

/// <summary>Concat along axis: each input contributes a block of dims[axis]·inner elements per outer index.</summary>
public sealed class ConcatOp : OpDefinition
{
    public override string OpType => "Concat";

    public override void Infer(OpContext ctx)
    {
        var first = ctx.InputShape(0);
        int axis = Shapes.NormalizeAxis(ctx.Int("axis", 0), first.Length, ctx.Node);
        var dims = (int[])first.Clone();
        dims[axis] = 0;
        for (int i = 0; i < ctx.InputCount; i++)
        {
            var d = ctx.InputShape(i);
            if (d.Length != first.Length || ctx.InputType(i) != ctx.InputType(0)) throw ctx.Error($"input {i} has a different rank or type");
            for (int k = 0; k < d.Length; k++)
                if (k != axis && d[k] != first[k]) throw ctx.Error($"input {i} shape {Shapes.Format(d)} does not match {Shapes.Format(first)} off axis {axis}");
            dims[axis] += d[axis];
        }
        ctx.SetOutput(0, ctx.InputType(0), dims);
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var output = ctx.OutputShape(0);
        int axis = Shapes.NormalizeAxis(ctx.Int("axis", 0), output.Length, ctx.Node);
        int outer = 1, inner = ctx.InputType(0).SizeOf();
        for (int i = 0; i < axis; i++) outer *= output[i];
        for (int i = axis + 1; i < output.Length; i++) inner *= output[i];
        var blocks = new int[ctx.InputCount];
        for (int i = 0; i < blocks.Length; i++) blocks[i] = ctx.InputShape(i)[axis] * inner;
        return new ConcatKernel(outer, blocks, output[axis] * inner);
    }

    private sealed class ConcatKernel(int outer, int[] blocks, int outputRow) : Kernel
    {
        public override void Execute(ExecutionContext ctx)
        {
            var y = OutputBytes(ctx, 0);
            int at = 0;
            for (int k = 0; k < blocks.Length; k++)
            {
                var x = InputBytes(ctx, k);
                int b = blocks[k];
                for (int o = 0; o < outer; o++) x.Slice(o * b, b).CopyTo(y.Slice(o * outputRow + at, b));
                at += b;
            }
        }
    }
}

/// <summary>Split along axis: sizes from the split attribute (before opset 13), the split input, num_outputs (18), or equal parts.</summary>
public sealed class SplitOp : OpDefinition
{
    public override string OpType => "Split";

    private static int[] Sizes(OpContext ctx, int axis)
    {
        int d = ctx.InputShape(0)[axis];
        long[]? split = ctx.Opset >= 13 ? (ctx.HasInput(1) ? ctx.RequireConstant(1, "split").ToInt64Array() : null) : ctx.Ints("split");
        int n = ctx.OutputCount;
        if (split is not null && split.Length > 0)
        {
            if (split.Length != n || split.Sum() != d || split.Any(s => s < 0)) throw ctx.Error($"split [{string.Join(",", split)}] does not partition {d} into {n}");
            return split.Select(s => (int)s).ToArray();
        }
        int parts = (int)ctx.Int("num_outputs", n);
        int size = (d + parts - 1) / parts;
        var sizes = new int[n];
        for (int i = 0; i < n; i++) sizes[i] = Math.Max(0, Math.Min(size, d - i * size));
        if (ctx.Opset < 18 && d % n != 0) throw ctx.Error($"cannot split {d} into {n} equal parts");
        return sizes;
    }

    public override void Infer(OpContext ctx)
    {
        var input = ctx.InputShape(0);
        int axis = Shapes.NormalizeAxis(ctx.Int("axis", 0), input.Length, ctx.Node);
        var sizes = Sizes(ctx, axis);
        for (int i = 0; i < sizes.Length; i++)
        {
            var dims = (int[])input.Clone();
            dims[axis] = sizes[i];
            ctx.SetOutput(i, ctx.InputType(0), dims);
        }
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var input = ctx.InputShape(0);
        int axis = Shapes.NormalizeAxis(ctx.Int("axis", 0), input.Length, ctx.Node);
        int outer = 1, inner = ctx.InputType(0).SizeOf();
        for (int i = 0; i < axis; i++) outer *= input[i];
        for (int i = axis + 1; i < input.Length; i++) inner *= input[i];
        var blocks = Sizes(ctx, axis).Select(s => s * inner).ToArray();
        return new SplitKernel(outer, blocks, input[axis] * inner);
    }

    private sealed class SplitKernel(int outer, int[] blocks, int inputRow) : Kernel
    {
        public override void Execute(ExecutionContext ctx)
        {
            var x = InputBytes(ctx, 0);
            int at = 0;
            for (int k = 0; k < blocks.Length; k++)
            {
                var y = OutputBytes(ctx, k);
                int b = blocks[k];
                for (int o = 0; o < outer; o++) x.Slice(o * inputRow + at, b).CopyTo(y.Slice(o * b, b));
                at += b;
            }
        }
    }
}
