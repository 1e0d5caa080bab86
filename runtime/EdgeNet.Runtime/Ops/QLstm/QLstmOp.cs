using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Quantized;
using EdgeNet.Kernels.Rnn;
using EdgeNet.Ops.Rnn;

namespace EdgeNet.Ops.QLstm;

/// <summary>
/// <c>edgenet.QLstm</c>: ONNX LSTM (same attributes, same float X, B, sequence_lens, initial_h, initial_c, P and
/// float outputs Y, Y_h, Y_c) with int8 weights. Inputs:
/// 0 X, 1 W int8 [dirs, 4H, input], 2 R int8 [dirs, 4H, H], 3 B, 4 sequence_lens, 5 initial_h, 6 initial_c, 7 P
/// (all as LSTM, optional ones may be empty names), 8 W_scale float [dirs, 4H], 9 R_scale float [dirs, 4H].
/// W and R are symmetric (zero point 0) per gate row, i.e. per output channel: W_real[d, k, :] = W_scale[d, k] · W[d, k, :].
/// Both are constant (packed at plan time). Gate order i, o, f, c as in ONNX.
/// <para>Arithmetic: X is quantized to uint8 once per run (dynamic, per tensor, DynamicQuantizeLinear's rule) and the
/// input projection of every time step is one int8 GEMM with int32 accumulation, dequantized with
/// x_scale · W_scale[k] plus the folded biases Wb + Rb. Each step quantizes H_{t−1} the same way (per tensor, per
/// step) for the recurrent int8 GEMM. Gate math (activations, cell update, peepholes, clip) stays in float32: the
/// state never gets requantized, so the error does not compound through C, and the gates cost O(H) per step against
/// the GEMMs' O(H·(input + H)).</para>
/// </summary>
public sealed class QLstmOp : OpDefinition
{
    public const string DomainName = "edgenet";
    public override string OpType => "QLstm";
    public override string Domain => DomainName;
    public override bool Foldable => false;

    private static readonly RnnActivation[] s_defaults = [RnnActivation.Sigmoid, RnnActivation.Tanh, RnnActivation.Tanh];

    internal static (RnnAttributes A, RnnGeometry G) Prepare(OpContext ctx)
    {
        if (ctx.InputCount < 10) throw ctx.Error($"{ctx.InputCount} inputs; QLstm takes 10 (X, W, R, B, sequence_lens, initial_h, initial_c, P, W_scale, R_scale)");
        if (ctx.OutputCount > 3) throw ctx.Error($"{ctx.OutputCount} outputs; QLstm has at most 3");
        var a = RnnAttributes.Parse(ctx, s_defaults);
        var g = QRecurrentShapes.Check(ctx, a, gates: 4, scaleInput: 8);
        if (ctx.HasInput(6))
        {
            ctx.ExpectType(6, DataType.Float32);
            if (!ctx.InputShape(6).AsSpan().SequenceEqual(g.StateShape)) throw ctx.Error($"initial_c must be {Shapes.Format(g.StateShape)}");
        }
        if (ctx.HasInput(7))
        {
            ctx.ExpectType(7, DataType.Float32);
            if (!ctx.InputShape(7).AsSpan().SequenceEqual([g.Directions, 3 * g.HiddenSize])) throw ctx.Error($"P {Shapes.Format(ctx.InputShape(7))} must be [{g.Directions}, {3 * g.HiddenSize}]");
        }
        return (a, g);
    }

    public override void Infer(OpContext ctx)
    {
        var (_, g) = Prepare(ctx);
        for (int i = 0; i < ctx.OutputCount; i++) ctx.SetOutput(i, DataType.Float32, i == 0 ? g.YShape : g.StateShape);
    }

    public override long CountMacs(OpContext ctx)
    {
        var (_, g) = Prepare(ctx);
        return (long)g.SeqLength * g.Batch * g.Directions * g.GateRows * (g.InputSize + g.HiddenSize);
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var (a, g) = Prepare(ctx);
        var w = ctx.RequireConstant(1, "W");
        var r = ctx.RequireConstant(2, "R");
        var ws = ctx.RequireConstant(8, "W_scale");
        var rs = ctx.RequireConstant(9, "R_scale");
        return new QLstmKernel(ctx, g, a, QVariants.For(ctx.Isa), w.AsSpan<sbyte>().ToArray(), r.AsSpan<sbyte>().ToArray(), ws.AsSpan<float>().ToArray(), rs.AsSpan<float>().ToArray());
    }
}
