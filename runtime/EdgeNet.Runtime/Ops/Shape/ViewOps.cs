using EdgeNet.Execution;
using EdgeNet.IR;

namespace EdgeNet.Ops.Shape;

/// <summary>Ops whose output is input 0's bytes with another shape: no kernel runs, the planner aliases the buffer.</summary>
public abstract class ViewOp : OpDefinition
{
    public override bool IsView => true;
    public override Kernel CreateKernel(OpContext ctx) => throw new InvalidOperationException($"{OpType} is a view and has no kernel");
    protected abstract int[] OutputShape(OpContext ctx);

    public override void Infer(OpContext ctx)
    {
        var dims = OutputShape(ctx);
        if (Shapes.Count(dims) != Shapes.Count(ctx.InputShape(0)))
            throw ctx.Error($"cannot view {Shapes.Format(ctx.InputShape(0))} as {Shapes.Format(dims)}");
        ctx.SetOutput(0, ctx.InputType(0), dims);
    }
}

/// <summary>Reshape: shape from input 1 (opset ≥ 5) or attribute; 0 copies the input dim (unless allowzero), −1 is inferred.</summary>
public sealed class ReshapeOp : ViewOp
{
    public override string OpType => "Reshape";

    protected override int[] OutputShape(OpContext ctx)
    {
        long[] shape = ctx.Opset >= 5 ? ctx.RequireConstant(1, "shape").ToInt64Array() : ctx.Ints("shape") ?? throw ctx.Error("missing shape");
        var input = ctx.InputShape(0);
        bool allowZero = ctx.Int("allowzero", 0) != 0;
        var dims = new int[shape.Length];
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            long d = shape[i];
            if (d == -1)
            {
                if (inferred >= 0) throw ctx.Error("more than one -1 in the shape");
                inferred = i;
                continue;
            }
            if (d == 0 && !allowZero)
            {
                if (i >= input.Length) throw ctx.Error($"shape has 0 at axis {i} beyond the input rank");
                d = input[i];
            }
            if (d < 0 || d > int.MaxValue) throw ctx.Error($"invalid dimension {d}");
            dims[i] = (int)d;
            known *= d;
        }
        if (inferred >= 0)
        {
            int total = Shapes.Count(input);
            if (known == 0 || total % known != 0) throw ctx.Error($"cannot infer -1 reshaping {Shapes.Format(input)} to [{string.Join(",", shape)}]");
            dims[inferred] = (int)(total / known);
        }
        return dims;
    }
}

/// <summary>Flatten to 2-D at axis (default 1): [prod(dims[..axis]), prod(dims[axis..])].</summary>
public sealed class FlattenOp : ViewOp
{
    public override string OpType => "Flatten";

    protected override int[] OutputShape(OpContext ctx)
    {
        var input = ctx.InputShape(0);
        long axis = ctx.Int("axis", 1);
        if (axis < 0) axis += input.Length;
        if (axis < 0 || axis > input.Length) throw ctx.Error($"axis {ctx.Int("axis", 1)} out of range for rank {input.Length}");
        int outer = 1;
        for (int i = 0; i < axis; i++) outer *= input[i];
        return [outer, Shapes.Count(input) / Math.Max(outer, 1) * (outer == 0 ? 0 : 1)];
    }
}

/// <summary>Squeeze: axes attribute before opset 13, input after; none = all size-1 axes.</summary>
public sealed class SqueezeOp : ViewOp
{
    public override string OpType => "Squeeze";

    protected override int[] OutputShape(OpContext ctx)
    {
        var input = ctx.InputShape(0);
        long[]? axes = ctx.Opset >= 13 ? (ctx.HasInput(1) ? ctx.RequireConstant(1, "axes").ToInt64Array() : null) : ctx.Ints("axes");
        var drop = new bool[input.Length];
        if (axes is null || axes.Length == 0) for (int i = 0; i < input.Length; i++) drop[i] = input[i] == 1;
        else
            foreach (long a in axes)
            {
                int axis = Shapes.NormalizeAxis(a, input.Length, ctx.Node);
                if (input[axis] != 1) throw ctx.Error($"cannot squeeze axis {a} of size {input[axis]}");
                drop[axis] = true;
            }
        return input.Where((_, i) => !drop[i]).ToArray();
    }
}

/// <summary>Unsqueeze: axes attribute before opset 13, input after; axes index the output.</summary>
public sealed class UnsqueezeOp : ViewOp
{
    public override string OpType => "Unsqueeze";

    protected override int[] OutputShape(OpContext ctx)
    {
        var input = ctx.InputShape(0);
        long[] axes = ctx.Opset >= 13 ? ctx.RequireConstant(1, "axes").ToInt64Array() : ctx.Ints("axes") ?? throw ctx.Error("missing axes");
        int rank = input.Length + axes.Length;
        var insert = new bool[rank];
        foreach (long a in axes)
        {
            int axis = Shapes.NormalizeAxis(a, rank, ctx.Node);
            if (insert[axis]) throw ctx.Error($"axis {a} given twice");
            insert[axis] = true;
        }
        var dims = new int[rank];
        for (int i = 0, k = 0; i < rank; i++) dims[i] = insert[i] ? 1 : input[k++];
        return dims;
    }
}

/// <summary>Identity, and Dropout in inference (output 0 = input 0; the optional mask output is all true).</summary>
public sealed class IdentityOp(string opType) : OpDefinition
{
    public override string OpType => opType;
    public override bool IsView => opType == "Identity";

    public override void Infer(OpContext ctx)
    {
        if (opType == "Dropout" && ctx.HasInput(2) && ctx.InputConstant(2) is { } training && training.GetAsDouble(0) != 0
            && (!ctx.HasInput(1) || ctx.RequireConstant(1, "ratio").GetAsDouble(0) != 0))
            throw UnsupportedOperatorException.For(ctx.Node, "training-mode Dropout is not supported for inference");
        ctx.SetOutput(0, ctx.InputType(0), ctx.InputShape(0));
        if (ctx.OutputCount > 1) ctx.SetOutput(1, DataType.Bool, ctx.InputShape(0));
    }

    public override Kernel CreateKernel(OpContext ctx) => new DropoutKernel();

    private sealed class DropoutKernel : Kernel
    {
        public override void Execute(ExecutionContext ctx)
        {
            var x = InputBytes(ctx, 0);
            var y = OutputBytes(ctx, 0);
            if (!x.Overlaps(y)) x.CopyTo(y);
            if (OutputSlots.Length > 1) OutputBytes(ctx, 1).Fill(1);
        }
    }
}

/// <summary>Shape (with start/end, opset 15) and Size: known when the plan is built, so their outputs are constants.</summary>
public sealed class ShapeOp(string opType) : OpDefinition
{
    public override string OpType => opType;

    public override void Infer(OpContext ctx)
    {
        var dims = ctx.InputShape(0);
        if (opType == "Size")
        {
            ctx.SetOutputConstant(0, Tensor.Scalar((long)Shapes.Count(dims)));
            return;
        }
        int rank = dims.Length;
        long start = ctx.Int("start", 0), end = ctx.Int("end", rank);
        if (start < 0) start += rank;
        if (end < 0) end += rank;
        start = Math.Clamp(start, 0, rank);
        end = Math.Clamp(end, start, rank);
        var values = new long[end - start];
        for (long i = start; i < end; i++) values[i - start] = dims[i];
        ctx.SetOutputConstant(0, Tensor.FromArray([values.Length], values));
    }

    public override Kernel CreateKernel(OpContext ctx) => throw new InvalidOperationException("Shape outputs are plan-time constants");
}
