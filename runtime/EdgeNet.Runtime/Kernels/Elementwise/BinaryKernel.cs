using EdgeNet.Execution;

namespace EdgeNet.Kernels.Elementwise;

/// <summary>An element-wise binary operator (TensorPrimitives style): one struct per op, one driver loop for all.</summary>
public interface IBinaryOperator<TIn, TOut>
{
    TOut Invoke(TIn a, TIn b);
}

/// <summary>y = op(a, b) with numpy broadcasting. Fast paths: same shapes, scalar operand; otherwise row by row.</summary>
public sealed class BinaryKernel<TOp, TIn, TOut>(TOp op, Broadcast broadcast) : Kernel
    where TOp : struct, IBinaryOperator<TIn, TOut>
    where TIn : unmanaged
    where TOut : unmanaged
{
    private readonly int[] _rows = new int[2];

    public override void Execute(ExecutionContext ctx)
    {
        var a = Input<TIn>(ctx, 0);
        var b = Input<TIn>(ctx, 1);
        var y = Output<TOut>(ctx, 0);
        Run(op, broadcast, a, b, y, _rows);
    }

    public static void Run(TOp op, Broadcast broadcast, ReadOnlySpan<TIn> a, ReadOnlySpan<TIn> b, Span<TOut> y, int[] rows)
    {
        int n = y.Length;
        if (broadcast.IsFull[0] && broadcast.IsFull[1])
        {
            for (int i = 0; i < n; i++) y[i] = op.Invoke(a[i], b[i]);
            return;
        }
        if (broadcast.IsFull[0] && broadcast.IsScalar[1])
        {
            TIn s = b[0];
            for (int i = 0; i < n; i++) y[i] = op.Invoke(a[i], s);
            return;
        }
        if (broadcast.IsScalar[0] && broadcast.IsFull[1])
        {
            TIn s = a[0];
            for (int i = 0; i < n; i++) y[i] = op.Invoke(s, b[i]);
            return;
        }
        int inner = broadcast.InnerLength;
        if (n == 0 || inner == 0) return;
        int sa = broadcast.InnerStride(0), sb = broadcast.InnerStride(1);
        broadcast.Reset(rows);
        for (int start = 0; start < n; start += inner)
        {
            int oa = rows[0], ob = rows[1];
            var row = y.Slice(start, inner);
            for (int i = 0; i < row.Length; i++) row[i] = op.Invoke(a[oa + i * sa], b[ob + i * sb]);
            broadcast.NextRow(rows);
        }
    }
}
