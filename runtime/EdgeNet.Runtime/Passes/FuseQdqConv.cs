using EdgeNet.IR;
using EdgeNet.Kernels.Activation;

namespace EdgeNet.Passes;

/// <summary>
/// DequantizeLinear(x_q) → Conv(·, DequantizeLinear(w_q), [bias]) → [Relu | Clip] → QuantizeLinear ⇒ QLinearConv.
/// Without the QuantizeLinear (the Conv's output feeds float consumers) ⇒ edgenet.QConv with a float output (below).
/// <para>
/// Math: with x = s_x(x_q − z_x), w[m] = s_w[m](w_q[m] − z_w[m]) and bias b[m] = s_x·s_w[m]·B[m],
/// conv(x, w)[m] + b[m] = s_x·s_w[m]·(Σ (x_q − z_x)(w_q − z_w[m]) + B[m]) = s_x·s_w[m]·acc[m], so
/// Q(conv) = round(acc[m] · s_x·s_w[m] / s_y) + z_y: QLinearConv's integer accumulation and float requantization.
/// A Relu / Clip between Conv and Q folds into the output clamp (the quantizer is monotonic:
/// Q(relu(v)) = max(Q(v), z_y), Q(clip(v, lo, hi)) = clamp(Q(v), Q(lo), Q(hi))).
/// </para>
/// <para>
/// Bias: a DequantizeLinear of int32 data whose scale is exactly s_x·s_w[m] (float32) with zero point 0 — what
/// quantizers write — is used as is; any other bias (float, or another scale) is rounded to that scale:
/// B[m] = round(b[m] / (s_x·s_w[m])), the one approximation of this rewrite (at most half an accumulator unit).
/// </para>
/// <para>
/// Equality with running the chain literally: the integer sum is exact where the float chain rounds each product and
/// partial sum, so an output can differ by one quantization step when the exact value lies within float rounding of
/// a rounding boundary (tests: within 1 step, nearly always equal).
/// </para>
/// <para>
/// Float output: a Conv whose output is not quantized (it feeds float consumers, e.g. HardSwish, Add, the head)
/// becomes edgenet.QConv, the same integer accumulation with the dequantizing epilogue
/// y[m] = (float)acc[m] · (s_x·s_w[m]) (one float32 multiply per output, the scale product computed in float32),
/// then a Relu / Clip that alone read the Conv's output, applied in float. This keeps the int8 weights int8 (constant
/// folding would otherwise turn DequantizeLinear(w_q) into float weights) and runs the conv on the integer kernels.
/// Against the literal chain the difference is float rounding only: the exact integer sum times one rounded scale
/// against a float sum of rounded products (tests: relative error ~1e-6 of the output range), plus the bias
/// rounding above when the bias was not the quantizer's int32 one.
/// </para>
/// Requirements: x per tensor, w a constant int8/uint8 initializer with a constant per-tensor or per-output-channel
/// (axis 0) scale, a 1-D or 2-D convolution, y per tensor, every intermediate read only by the next node of the chain.
/// </summary>
public sealed class FuseQdqConv : IGraphPass
{
    public string Name => "FuseQdqConv";

    public bool Run(Model model)
    {
        var g = model.Graph;
        foreach (var conv in g.Nodes)
        {
            if (!GraphEdits.Is(conv, "Conv") || conv.HasAttribute(FusedActivation.KindAttribute) || conv.Inputs.Count < 2) continue;
            if (FuseQdqPatterns.Dequantized(g, conv.Inputs[0], perTensor: true) is not { } x) continue;
            if (FuseQdqPatterns.Dequantized(g, conv.Inputs[1], perTensor: false) is not { } w || w.Data.Constant is not { } wt || wt.Rank is < 3 or > 4) continue; // 1-D and 2-D convolutions (QLinearConvOp)
            int m = wt.Dims[0];
            if (w.ScaleCount != 1 && (w.ScaleCount != m || w.Axis(wt.Rank) != 0)) continue;
            var chain = FuseQdqPatterns.ActivationThenQuantize(g, conv.Outputs[0]);
            var (bias, ok) = FuseQdqBias.AccumulatorBias(g, conv.Input(2), x, w, m);
            if (!ok) continue;
            if (chain is not var (act, kind, q))
            {
                FoldFloatOutput(g, conv, x, w, bias);
                return true;
            }

            var fused = new Node { OpType = "QLinearConv", Name = conv.Name, OpsetVersion = Math.Max(10, conv.OpsetVersion) };
            fused.Inputs.AddRange([
                x.Data, x.Scale, FuseQdqPatterns.ZeroPoint(g, x.ZeroPoint, x.Type, conv.Name + "_x"),
                w.Data, w.Scale, FuseQdqPatterns.ZeroPoint(g, w.ZeroPoint, w.Type, conv.Name + "_w"),
                q.Scale, FuseQdqPatterns.ZeroPoint(g, q.ZeroPoint, q.Type, conv.Name + "_y")]);
            if (bias is not null) fused.Inputs.Add(bias);
            FuseQdqPatterns.CopyAttributes(conv, fused);
            if (kind.Kind != ActivationKind.None) kind.WriteTo(fused);
            GraphEdits.ReplaceChain(g, act is null ? [conv, q.Node] : [conv, act, q.Node], fused);
            return true;
        }
        return false;
    }

    /// <summary>DequantizeLinear(x_q) → Conv(·, DequantizeLinear(w_q), [bias]) → [Relu | Clip] with a float output ⇒ edgenet.QConv.</summary>
    private static void FoldFloatOutput(IR.Graph g, Node conv, QdqDequantize x, QdqDequantize w, Value? bias)
    {
        var fused = new Node { OpType = "QConv", Domain = "edgenet", Name = conv.Name, OpsetVersion = 1 };
        fused.Inputs.AddRange([
            x.Data, x.Scale, FuseQdqPatterns.ZeroPoint(g, x.ZeroPoint, x.Type, conv.Name + "_x"),
            w.Data, w.Scale, FuseQdqPatterns.ZeroPoint(g, w.ZeroPoint, w.Type, conv.Name + "_w")]);
        if (bias is not null) fused.Inputs.AddRange([null, null, bias]);
        FuseQdqPatterns.CopyAttributes(conv, fused);
        var (act, kind) = FuseQdqPatterns.FloatActivation(g, conv.Outputs[0]);
        if (kind.Kind != ActivationKind.None) kind.WriteTo(fused);
        GraphEdits.ReplaceChain(g, act is null ? [conv] : [conv, act], fused);
    }
}

/// <summary>The int32 accumulator-domain bias shared by the Conv and Gemm folds (see <see cref="FuseQdqConv"/>).</summary>
internal static class FuseQdqBias
{
    /// <summary>
    /// (null, true) without bias; (int32 bias value, true) when it can be expressed at scale s_x·s_w[m];
    /// (null, false) when the bias is not a constant (the fold is skipped).
    /// </summary>
    public static (Value? Bias, bool Ok) AccumulatorBias(IR.Graph g, Value? bias, QdqDequantize x, QdqDequantize w, int channels)
    {
        if (bias is null) return (null, true);
        var expected = new float[channels];
        for (int c = 0; c < channels; c++) expected[c] = x.ScaleAt(0) * w.ScaleAt(w.ScaleCount == 1 ? 0 : c);
        var result = new int[channels];
        if (FuseQdqPatterns.Dequantized(g, bias, perTensor: false, allowInt32: true) is { } b && b.Data.Constant is { } bt && bt.DataType == DataType.Int32)
        {
            if (bt.ElementCount != channels && bt.ElementCount != 1) return (null, false);
            if (b.ScaleCount != 1 && b.ScaleCount != channels) return (null, false);
            var bq = bt.AsSpan<int>();
            for (int c = 0; c < channels; c++)
            {
                int raw = bq[bt.ElementCount == 1 ? 0 : c];
                int zp = b.ZeroPointAt(b.ScaleCount == 1 ? 0 : c);
                float scale = b.ScaleAt(b.ScaleCount == 1 ? 0 : c);
                result[c] = zp == 0 && BitConverter.SingleToInt32Bits(scale) == BitConverter.SingleToInt32Bits(expected[c])
                    ? raw
                    : Round((double)((long)raw - zp) * scale / expected[c]);
            }
        }
        else if (bias.Constant is { } f && f.DataType == DataType.Float32 && (f.ElementCount == channels || f.ElementCount == 1))
        {
            var fv = f.AsSpan<float>();
            for (int c = 0; c < channels; c++) result[c] = Round((double)fv[f.ElementCount == 1 ? 0 : c] / expected[c]);
        }
        else return (null, false);
        return (g.AddConstant(g.UniqueName("qdq_bias"), Tensor.FromArray([channels], result)), true);
    }

    private static int Round(double v) => (int)Math.Clamp(Math.Round(v, MidpointRounding.ToEven), int.MinValue, int.MaxValue);
}
