using System.Runtime.InteropServices;
using EdgeNet.Execution;
using EdgeNet.IR;

namespace EdgeNet.Ops.Loss;

/// <summary>
/// NegativeLogLikelihoodLoss (opset 12+) and SoftmaxCrossEntropyLoss (opset 12+), the losses EdgeNet trains with.
/// Input x: [N, C] or [N, C, d1..dk] (log-probabilities for NLL, raw scores for SCE); target t: [N] or [N, d1..dk]
/// (int32/int64); optional class weights w: [C].
///   loss[n, d] = −w[t] · x[n, t, d]  (SCE first replaces x by log_softmax(x) over C), 0 where t = ignore_index
///   reduction "none": loss itself; "sum": Σ loss; "mean": Σ loss / Σ w[t] over the elements not ignored.
/// SCE's optional second output is log_softmax(x), shaped like x.
/// </summary>
public sealed class NegativeLogLikelihoodLossOp(string opType, bool softmaxFirst) : OpDefinition
{
    public override string OpType => opType;

    public override void Infer(OpContext ctx)
    {
        ctx.ExpectType(0, DataType.Float32);
        ctx.ExpectType(1, DataType.Int64, DataType.Int32);
        var x = ctx.InputShape(0);
        var t = ctx.InputShape(1);
        if (x.Length < 2) throw ctx.Error($"input must be [N, C, ...], got rank {x.Length}");
        if (t.Length != x.Length - 1 || t[0] != x[0] || !t.AsSpan(1).SequenceEqual(x.AsSpan(2)))
            throw ctx.Error($"target shape {Shapes.Format(t)} does not match input {Shapes.Format(x)} (expected [N, d1..dk])");
        if (ctx.HasInput(2))
        {
            ctx.ExpectType(2, DataType.Float32);
            if (ctx.InputShape(2) is not [var c] || c != x[1]) throw ctx.Error($"weight must be [C] = [{x[1]}], got {Shapes.Format(ctx.InputShape(2))}");
        }
        ctx.SetOutput(0, DataType.Float32, Reduction(ctx) == LossReduction.None ? t : []);
        if (softmaxFirst && ctx.OutputCount > 1) ctx.SetOutput(1, DataType.Float32, x);
    }

    private enum LossReduction { None, Sum, Mean }

    private static LossReduction Reduction(OpContext ctx) => ctx.String("reduction", "mean") switch
    {
        "none" => LossReduction.None,
        "sum" => LossReduction.Sum,
        "mean" => LossReduction.Mean,
        var r => throw new UnsupportedOperatorException($"{ctx.Node.OpType} node '{ctx.Node.Name}': unknown reduction '{r}'"),
    };

    public override Kernel CreateKernel(OpContext ctx)
    {
        var x = ctx.InputShape(0);
        int inner = 1;
        for (int i = 2; i < x.Length; i++) inner *= x[i];
        bool hasIgnore = ctx.Node.Attributes.ContainsKey("ignore_index");
        return new LossKernel(ctx.Node.Name, softmaxFirst, Reduction(ctx), x[0], x[1], inner,
            ctx.InputType(1) == DataType.Int64, hasIgnore ? ctx.Int("ignore_index", 0) : long.MinValue,
            softmaxFirst && ctx.OutputCount > 1);
    }

    public override long CountMacs(OpContext ctx) => Shapes.Count(ctx.InputShape(0));

    private sealed class LossKernel(string node, bool softmaxFirst, LossReduction reduction, int batch, int classes, int inner,
        bool int64Target, long ignoreIndex, bool writeLogProb) : Kernel
    {
        public override int ScratchBytes => softmaxFirst && !writeLogProb ? batch * classes * inner * sizeof(float) : 0;

        public override void Execute(ExecutionContext ctx)
        {
            var x = Input<float>(ctx, 0);
            if (softmaxFirst)
            {
                var logProb = writeLogProb ? Output<float>(ctx, 1) : MemoryMarshal.Cast<byte, float>(Scratch);
                LogSoftmaxOverClasses(x, logProb);
                x = logProb;
            }
            var loss = Output<float>(ctx, 0);
            bool hasWeight = HasInput(2);
            var weight = hasWeight ? Input<float>(ctx, 2) : default;
            double total = 0, weightSum = 0;
            for (int n = 0; n < batch; n++)
                for (int d = 0; d < inner; d++)
                {
                    int at = n * inner + d;
                    long t = int64Target ? Input<long>(ctx, 1)[at] : Input<int>(ctx, 1)[at];
                    float value = 0;
                    if (t != ignoreIndex)
                    {
                        if ((ulong)t >= (ulong)classes)
                            throw new InputMismatchException($"{(softmaxFirst ? "SoftmaxCrossEntropyLoss" : "NegativeLogLikelihoodLoss")} node '{node}': target {t} is outside [0, {classes})");
                        float w = hasWeight ? weight[(int)t] : 1f;
                        value = -w * x[(n * classes + (int)t) * inner + d];
                        weightSum += w;
                    }
                    if (reduction == LossReduction.None) loss[at] = value;
                    total += value;
                }
            if (reduction == LossReduction.Sum) loss[0] = (float)total;
            else if (reduction == LossReduction.Mean) loss[0] = (float)(total / weightSum);
        }

        private void LogSoftmaxOverClasses(ReadOnlySpan<float> x, Span<float> y)
        {
            for (int n = 0; n < batch; n++)
                for (int d = 0; d < inner; d++)
                {
                    int first = n * classes * inner + d;
                    float max = float.NegativeInfinity;
                    for (int c = 0; c < classes; c++) max = MathF.Max(max, x[first + c * inner]);
                    double sum = 0;
                    for (int c = 0; c < classes; c++) sum += Math.Exp(x[first + c * inner] - max);
                    float logSum = (float)Math.Log(sum);
                    for (int c = 0; c < classes; c++) y[first + c * inner] = x[first + c * inner] - max - logSum;
                }
        }
    }
}
