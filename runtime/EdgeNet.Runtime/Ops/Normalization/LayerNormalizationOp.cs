using System.Runtime.CompilerServices;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Elementwise;

namespace EdgeNet.Ops.Normalization;

/// <summary>
/// LayerNormalization (opset 17): over dims[axis..], y = (x − μ) / √(σ² + ε) · scale + bias, with optional outputs
/// Mean and InvStdDev shaped dims[..axis] followed by ones.
/// </summary>
public sealed class LayerNormalizationOp : OpDefinition
{
    public override string OpType => "LayerNormalization";

    public override void Infer(OpContext ctx)
    {
        ctx.ExpectType(0, DataType.Float32);
        var dims = ctx.InputShape(0);
        int axis = Shapes.NormalizeAxis(ctx.Int("axis", -1), dims.Length, ctx.Node);
        ctx.SetOutput(0, DataType.Float32, dims);
        var stat = dims.Select((d, i) => i < axis ? d : 1).ToArray();
        for (int i = 1; i < ctx.OutputCount; i++) ctx.SetOutput(i, DataType.Float32, stat);
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var dims = ctx.InputShape(0);
        int axis = Shapes.NormalizeAxis(ctx.Int("axis", -1), dims.Length, ctx.Node);
        int outer = 1, length = 1;
        for (int i = 0; i < axis; i++) outer *= dims[i];
        for (int i = axis; i < dims.Length; i++) length *= dims[i];
        int scaleCount = Shapes.Count(ctx.InputShape(1));
        int biasCount = ctx.HasInput(2) ? Shapes.Count(ctx.InputShape(2)) : 0;
        var width = F32Elementwise.WidthOf(ctx.Isa);
        if (width != VectorWidth.Scalar && length > 0 && scaleCount == length && (biasCount == 0 || biasCount == length))
            return new F32LayerNormKernel(outer, length, ctx.Float("epsilon", 1e-5f), biasCount > 0, ctx.OutputCount, width);
        return new LayerNormKernel(outer, length, ctx.Float("epsilon", 1e-5f), scaleCount, biasCount, ctx.OutputCount);
    }

    /// <summary>Rows normalized with vector sums (two passes: mean, then Σ(x − μ)², for accuracy) and a fused scale/bias pass.</summary>
    private sealed class F32LayerNormKernel(int outer, int length, float epsilon, bool hasBias, int outputs, VectorWidth width) : Kernel
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public override void Execute(ExecutionContext ctx)
        {
            var x = Input<float>(ctx, 0);
            var scale = Input<float>(ctx, 1);
            var bias = hasBias ? Input<float>(ctx, 2) : default;
            var y = Output<float>(ctx, 0);
            var meanOut = outputs > 1 && OutputSlots.Length > 1 && OutputSlots[1] >= 0 ? Output<float>(ctx, 1) : default;
            var invOut = outputs > 2 && OutputSlots.Length > 2 && OutputSlots[2] >= 0 ? Output<float>(ctx, 2) : default;
            for (int o = 0; o < outer; o++)
            {
                var row = x.Slice(o * length, length);
                float mean = F32Elementwise.Sum(row, width) / length;
                float variance = F32Elementwise.SumSquaredDeviation(row, mean, width) / length;
                float inv = 1 / MathF.Sqrt(variance + epsilon);
                F32Elementwise.Normalize(row, mean, inv, scale[..length], bias, y.Slice(o * length, length), width);
                if (!meanOut.IsEmpty) meanOut[o] = mean;
                if (!invOut.IsEmpty) invOut[o] = inv;
            }
        }
    }

    private sealed class LayerNormKernel(int outer, int length, float epsilon, int scaleCount, int biasCount, int outputs) : Kernel
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public override void Execute(ExecutionContext ctx)
        {
            var x = Input<float>(ctx, 0);
            var scale = Input<float>(ctx, 1);
            var bias = biasCount > 0 ? Input<float>(ctx, 2) : default;
            var y = Output<float>(ctx, 0);
            var meanOut = outputs > 1 && OutputSlots.Length > 1 ? Output<float>(ctx, 1) : default;
            var invOut = outputs > 2 && OutputSlots.Length > 2 ? Output<float>(ctx, 2) : default;
            for (int o = 0; o < outer; o++)
            {
                var row = x.Slice(o * length, length);
                double sum = 0;
                foreach (float v in row) sum += v;
                double mean = sum / length;
                double sq = 0;
                foreach (float v in row) sq += (v - mean) * (v - mean);
                float inv = (float)(1 / Math.Sqrt(sq / length + epsilon));
                var dst = y.Slice(o * length, length);
                for (int i = 0; i < length; i++)
                {
                    float n = (float)(row[i] - mean) * inv * scale[i % scaleCount];
                    dst[i] = biasCount > 0 ? n + bias[i % biasCount] : n;
                }
                if (!meanOut.IsEmpty) meanOut[o] = (float)mean;
                if (!invOut.IsEmpty) invOut[o] = inv;
            }
        }
    }
}
