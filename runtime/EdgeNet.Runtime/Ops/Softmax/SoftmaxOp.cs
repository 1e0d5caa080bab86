using System.Runtime.CompilerServices;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Elementwise;

namespace EdgeNet.Ops.Softmax;

public enum SoftmaxKind { Softmax, LogSoftmax, Hardmax }

/// <summary>
/// Softmax / LogSoftmax / Hardmax. Opset &lt; 13: the input is seen as 2-D [prod(dims[..axis]), prod(dims[axis..])]
/// (default axis 1). Opset ≥ 13: along one axis (default −1). softmax(x)_i = e^(x_i − max) / Σ e^(x_j − max).
/// </summary>
public sealed class SoftmaxOp(string opType, SoftmaxKind kind) : OpDefinition
{
    public override string OpType => opType;
    public override int InPlaceInput => 0;

    public override void Infer(OpContext ctx)
    {
        ctx.ExpectType(0, DataType.Float32);
        ctx.SetOutput(0, DataType.Float32, ctx.InputShape(0));
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var dims = ctx.InputShape(0);
        int rank = dims.Length;
        int axis = Shapes.NormalizeAxis(ctx.Int("axis", ctx.Opset < 13 ? 1 : -1), rank, ctx.Node);
        int outer = 1, length = 1, inner = 1;
        if (ctx.Opset < 13)
        {
            for (int i = 0; i < axis; i++) outer *= dims[i];
            for (int i = axis; i < rank; i++) length *= dims[i];
        }
        else
        {
            for (int i = 0; i < axis; i++) outer *= dims[i];
            length = rank == 0 ? 1 : dims[axis];
            for (int i = axis + 1; i < rank; i++) inner *= dims[i];
        }
        var width = F32Elementwise.WidthOf(ctx.Isa);
        if (inner == 1 && kind != SoftmaxKind.Hardmax && width != VectorWidth.Scalar && length > 0)
            return new F32SoftmaxLastAxisKernel(kind == SoftmaxKind.LogSoftmax, outer, length, width);
        return new SoftmaxKernel(kind, outer, length, inner);
    }

    /// <summary>
    /// Softmax / LogSoftmax over contiguous rows, vectorized: one pass for the maximum, one computing e^(x − max) into
    /// y while summing (LogSoftmax only sums), one scaling (y = x − max − log Σ). Safe in place.
    /// </summary>
    private sealed class F32SoftmaxLastAxisKernel(bool log, int rows, int length, VectorWidth width) : Kernel
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public override void Execute(ExecutionContext ctx)
        {
            var x = Input<float>(ctx, 0);
            var y = Output<float>(ctx, 0);
            for (int r = 0; r < rows; r++)
            {
                var row = x.Slice(r * length, length);
                var dst = y.Slice(r * length, length);
                float max = F32Elementwise.Max(row, width);
                if (log)
                {
                    float logSum = MathF.Log(F32Elementwise.ExpShiftedSumOnly(row, max, width));
                    F32Elementwise.BinaryScalarB(new F32Sub(), row, max + logSum, dst, width);
                }
                else
                {
                    float sum = F32Elementwise.ExpShiftedSum(row, max, dst, width);
                    F32Elementwise.BinaryScalarB(new F32Mul(), dst, 1 / sum, dst, width);
                }
            }
        }
    }

    private sealed class SoftmaxKernel(SoftmaxKind kind, int outer, int length, int inner) : Kernel
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public override void Execute(ExecutionContext ctx)
        {
            var x = Input<float>(ctx, 0);
            var y = Output<float>(ctx, 0);
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    int baseIndex = o * length * inner + i;
                    float max = float.NegativeInfinity;
                    int argmax = 0;
                    for (int k = 0; k < length; k++)
                    {
                        float v = x[baseIndex + k * inner];
                        if (v > max) { max = v; argmax = k; }
                    }
                    if (kind == SoftmaxKind.Hardmax)
                    {
                        for (int k = 0; k < length; k++) y[baseIndex + k * inner] = k == argmax ? 1 : 0;
                        continue;
                    }
                    double sum = 0;
                    for (int k = 0; k < length; k++) sum += MathF.Exp(x[baseIndex + k * inner] - max);
                    if (kind == SoftmaxKind.Softmax)
                    {
                        float scale = (float)(1 / sum);
                        for (int k = 0; k < length; k++) y[baseIndex + k * inner] = MathF.Exp(x[baseIndex + k * inner] - max) * scale;
                    }
                    else
                    {
                        float logSum = (float)Math.Log(sum);
                        for (int k = 0; k < length; k++) y[baseIndex + k * inner] = x[baseIndex + k * inner] - max - logSum;
                    }
                }
        }
    }
}
