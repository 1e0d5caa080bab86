using EdgeNet.Execution;

namespace EdgeNet.Kernels.Elementwise;

public interface IUnaryOperator<TIn, TOut>
{
    TOut Invoke(TIn x);
}

/// <summary>y = op(x), element by element (safe in place: each element is read before it is written).</summary>
public sealed class UnaryKernel<TOp, TIn, TOut>(TOp op) : Kernel
    where TOp : struct, IUnaryOperator<TIn, TOut>
    where TIn : unmanaged
    where TOut : unmanaged
{
    public override void Execute(ExecutionContext ctx)
    {
        var x = Input<TIn>(ctx, 0);
        var y = Output<TOut>(ctx, 0);
        for (int i = 0; i < y.Length; i++) y[i] = op.Invoke(x[i]);
    }
}
