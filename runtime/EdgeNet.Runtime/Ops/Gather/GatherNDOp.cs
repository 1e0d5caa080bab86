using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Indexing;

namespace EdgeNet.Ops.Gather;

/// <summary>
/// GatherND (opset 11/12/13). With b = batch_dims, data rank r, indices rank q and m = indices.shape[−1]
/// (1 ≤ m ≤ r − b): the first b dims of data and indices are shared batch dims, and every m-tuple of indices
/// selects the slice data[batch, i₀, …, i_{m−1}, :]. Output shape = indices.shape[:−1] + data.shape[b+m:].
/// Indices are run-time data (negative from the end, out of range → <see cref="InputMismatchException"/>).
/// </summary>
public sealed class GatherNDOp : OpDefinition
{
    public override string OpType => "GatherND";

    public override void Infer(OpContext ctx)
    {
        var (data, indices, b, m) = Check(ctx);
        var dims = indices[..^1].Concat(data[(b + m)..]).ToArray();
        ctx.SetOutput(0, ctx.InputType(0), dims);
    }

    /// <summary>Validates the shapes; shared with ScatterND (which has batch_dims = 0).</summary>
    internal static (int[] Data, int[] Indices, int BatchDims, int TupleLength) Check(OpContext ctx, long batchDims = -1)
    {
        var data = ctx.InputShape(0);
        var indices = ctx.InputShape(1);
        IndexMath.IsInt64Index(ctx, 1);
        long b = batchDims >= 0 ? batchDims : ctx.Int("batch_dims", 0);
        if (data.Length < 1 || indices.Length < 1) throw ctx.Error("data and indices must have rank ≥ 1");
        if (b < 0 || b >= Math.Min(data.Length, indices.Length)) throw ctx.Error($"batch_dims {b} must be in [0, min(rank(data), rank(indices)))");
        for (int d = 0; d < b; d++)
            if (data[d] != indices[d]) throw ctx.Error($"batch dim {d} is {data[d]} in data but {indices[d]} in indices");
        int m = indices[^1];
        if (m < 1 || m > data.Length - b) throw ctx.Error($"indices.shape[-1] = {m} must be in [1, {data.Length - b}]");
        return (data, indices, (int)b, m);
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var (data, indices, b, m) = Check(ctx);
        return new GatherNDKernel(GatherNDLayout.Create(data, indices, b, m), ctx.InputType(0).SizeOf(), IndexMath.IsInt64Index(ctx, 1), ctx.Node.Name);
    }

    private sealed class GatherNDKernel(GatherNDLayout layout, int elementSize, bool index64, string node) : Kernel
    {
        public override void Execute(ExecutionContext ctx)
        {
            var x = InputBytes(ctx, 0);
            var indices = InputBytes(ctx, 1);
            var y = OutputBytes(ctx, 0);
            int sliceBytes = layout.SliceSize * elementSize;
            for (int t = 0; t < layout.TupleCount; t++)
            {
                int offset = layout.Offset(indices, index64, t, "GatherND", node);
                x.Slice(offset * elementSize, sliceBytes).CopyTo(y.Slice(t * sliceBytes, sliceBytes));
            }
        }
    }
}

/// <summary>
/// Where each index tuple of GatherND / ScatterND points: tuple t belongs to batch t / TuplesPerBatch, and its element
/// offset is batch × BatchStride + Σ normalize(index_j) × Strides[j]; the slice that follows holds SliceSize elements.
/// </summary>
internal sealed class GatherNDLayout
{
    public required int TupleCount { get; init; }
    public required int TuplesPerBatch { get; init; }
    public required int BatchStride { get; init; }
    public required int SliceSize { get; init; }
    public required int[] Sizes { get; init; }
    public required int[] Strides { get; init; }

    public static GatherNDLayout Create(int[] data, int[] indices, int b, int m)
    {
        var strides = Shapes.Strides(data);
        int tuples = Shapes.Count(indices.AsSpan(0, indices.Length - 1));
        int perBatch = Shapes.Count(indices.AsSpan(b, indices.Length - 1 - b));
        return new GatherNDLayout
        {
            TupleCount = tuples,
            TuplesPerBatch = perBatch,
            BatchStride = b == 0 ? 0 : strides[b - 1],
            SliceSize = Shapes.Count(data.AsSpan(b + m)),
            Sizes = data[b..(b + m)],
            Strides = strides[b..(b + m)],
        };
    }

    public int Offset(ReadOnlySpan<byte> indices, bool index64, int tuple, string opType, string node)
    {
        int m = Sizes.Length;
        int offset = TuplesPerBatch == 0 ? 0 : tuple / TuplesPerBatch * BatchStride;
        for (int j = 0; j < m; j++)
            offset += IndexMath.Normalize(IndexMath.Read(indices, index64, tuple * m + j), Sizes[j], opType, node) * Strides[j];
        return offset;
    }
}
