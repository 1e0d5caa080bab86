using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Elementwise;

namespace EdgeNet.Ops.Normalization;

/// <summary>
/// BatchNormalization (inference) and InstanceNormalization over channel axis 1:
/// y = (x − μ_c) / √(σ²_c + ε) · γ_c + β_c. For BatchNorm μ, σ² are the running statistics (inputs 3, 4);
/// for InstanceNorm they are computed per (n, c) plane.
/// </summary>
public sealed class BatchNormalizationOp(string opType) : OpDefinition
{
    private bool Instance => opType == "InstanceNormalization";
    public override string OpType => opType;
    public override int InPlaceInput => 0;

    public override void Infer(OpContext ctx)
    {
        ctx.ExpectType(0, DataType.Float32);
        if (!Instance && ctx.Int("training_mode", 0) != 0) throw UnsupportedOperatorException.For(ctx.Node, "training_mode=1");
        if (!Instance && ctx.Opset < 6 && ctx.Int("is_test", 0) == 0 && ctx.OutputCount > 1)
            throw UnsupportedOperatorException.For(ctx.Node, "training outputs");
        var x = ctx.InputShape(0);
        if (x.Length < 2) throw ctx.Error("input must have a channel axis");
        ctx.SetOutput(0, DataType.Float32, x);
        for (int i = 1; i < ctx.OutputCount; i++) ctx.SetOutput(i, DataType.Float32, [x[1]]);
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var x = ctx.InputShape(0);
        return new NormKernel(Instance, x[0], x[1], Shapes.Count(x[2..]), ctx.Float("epsilon", 1e-5f), F32Elementwise.WidthOf(ctx.Isa));
    }

    /// <summary>Per (n, c) plane y = x·a + b, a = γ/√(σ² + ε), b = β − μ·a; on SIMD paths the plane pass and the
    /// instance statistics are vectorized (statistics then accumulate in float lanes instead of double).</summary>
    private sealed class NormKernel(bool instance, int batch, int channels, int plane, float epsilon, VectorWidth width) : Kernel
    {
        public override void Execute(ExecutionContext ctx)
        {
            var x = Input<float>(ctx, 0);
            var scale = Input<float>(ctx, 1);
            var bias = Input<float>(ctx, 2);
            var y = Output<float>(ctx, 0);
            ReadOnlySpan<float> mean = instance ? default : Input<float>(ctx, 3);
            ReadOnlySpan<float> variance = instance ? default : Input<float>(ctx, 4);
            for (int n = 0; n < batch; n++)
                for (int c = 0; c < channels; c++)
                {
                    int at = (n * channels + c) * plane;
                    var src = x.Slice(at, plane);
                    double mu, v;
                    if (instance && width != VectorWidth.Scalar && plane > 0)
                    {
                        mu = F32Elementwise.Sum(src, width) / plane;
                        v = F32Elementwise.SumSquaredDeviation(src, (float)mu, width) / plane;
                    }
                    else if (instance)
                    {
                        double s = 0, sq = 0;
                        foreach (float e in src) s += e;
                        mu = s / plane;
                        foreach (float e in src) sq += (e - mu) * (e - mu);
                        v = sq / plane;
                    }
                    else { mu = mean[c]; v = variance[c]; }
                    float a = (float)(scale[c] / Math.Sqrt(v + epsilon));
                    float b = (float)(bias[c] - mu * a);
                    var dst = y.Slice(at, plane);
                    if (width != VectorWidth.Scalar)
                    {
                        F32Elementwise.Affine(src, a, b, dst, width);
                        continue;
                    }
                    for (int i = 0; i < plane; i++) dst[i] = src[i] * a + b;
                }
        }
    }
}
