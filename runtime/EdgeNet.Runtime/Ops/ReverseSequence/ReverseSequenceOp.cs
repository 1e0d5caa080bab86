using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Indexing;

namespace EdgeNet.Ops.ReverseSequence;

/// <summary>
/// ReverseSequence (opset 10): for each batch entry b, the first sequence_lens[b] steps along time_axis are reversed
/// and the rest copied: y[t, b] = x[len_b − 1 − t, b] for t &lt; len_b, else x[t, b] (time_axis/batch_axis are 0 and 1
/// in either order). sequence_lens is run-time data; a length outside [0, T] raises <see cref="InputMismatchException"/>.
/// </summary>
public sealed class ReverseSequenceOp : OpDefinition
{
    public override string OpType => "ReverseSequence";

    public override void Infer(OpContext ctx)
    {
        var (dims, _, batchAxis) = Check(ctx);
        if (Shapes.Count(ctx.InputShape(1)) != dims[batchAxis] || ctx.InputRank(1) != 1)
            throw ctx.Error($"sequence_lens shape {Shapes.Format(ctx.InputShape(1))} must be [{dims[batchAxis]}]");
        ctx.SetOutput(0, ctx.InputType(0), dims);
    }

    private static (int[] Dims, int TimeAxis, int BatchAxis) Check(OpContext ctx)
    {
        var dims = ctx.InputShape(0);
        if (dims.Length < 2) throw ctx.Error($"input must have rank ≥ 2, got rank {dims.Length}");
        long time = ctx.Int("time_axis", 0), batch = ctx.Int("batch_axis", 1);
        if (!((time == 0 && batch == 1) || (time == 1 && batch == 0)))
            throw ctx.Error($"time_axis ({time}) and batch_axis ({batch}) must be 0 and 1 in some order");
        IndexMath.IsInt64Index(ctx, 1);
        if (ctx.InputType(0).SizeOf() == 0) throw UnsupportedOperatorException.For(ctx.Node, $"element type {ctx.InputType(0)} is not supported");
        return (dims, (int)time, (int)batch);
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var (dims, time, batch) = Check(ctx);
        int inner = Shapes.Count(dims.AsSpan(2)) * ctx.InputType(0).SizeOf();
        var strides = Shapes.Strides(dims);
        return new ReverseKernel(dims[time], dims[batch], strides[time] * ctx.InputType(0).SizeOf(),
            strides[batch] * ctx.InputType(0).SizeOf(), inner, ctx.InputType(1) == DataType.Int64, ctx.Node.Name);
    }

    private sealed class ReverseKernel(int steps, int batches, int timeStride, int batchStride, int inner, bool index64, string node) : Kernel
    {
        public override void Execute(ExecutionContext ctx)
        {
            var x = InputBytes(ctx, 0);
            var lens = InputBytes(ctx, 1);
            var y = OutputBytes(ctx, 0);
            for (int b = 0; b < batches; b++)
            {
                long len = IndexMath.Read(lens, index64, b);
                if (len < 0 || len > steps)
                    throw new InputMismatchException($"ReverseSequence node '{node}': sequence_lens[{b}] = {len} is outside [0, {steps}]");
                for (int t = 0; t < steps; t++)
                {
                    int source = t < len ? (int)len - 1 - t : t;
                    x.Slice(source * timeStride + b * batchStride, inner).CopyTo(y.Slice(t * timeStride + b * batchStride, inner));
                }
            }
        }
    }
}
