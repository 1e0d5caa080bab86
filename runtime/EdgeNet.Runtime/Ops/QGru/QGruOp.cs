using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Quantized;
using EdgeNet.Kernels.Rnn;
using EdgeNet.Ops.Rnn;

namespace EdgeNet.Ops.QGru;

/// <summary>
/// <c>edgenet.QGru</c>: ONNX GRU (same attributes, including linear_before_reset; same float X, B, sequence_lens,
/// initial_h and float outputs Y, Y_h) with int8 weights. Inputs:
/// 0 X, 1 W int8 [dirs, 3H, input], 2 R int8 [dirs, 3H, H], 3 B, 4 sequence_lens, 5 initial_h (optional ones may be
/// empty names), 6 W_scale float [dirs, 3H], 7 R_scale float [dirs, 3H]. W and R are symmetric (zero point 0) per gate
/// row: W_real[d, k, :] = W_scale[d, k] · W[d, k, :]. Both constant (packed at plan time). Gate order z, r, h as in ONNX.
/// <para>Arithmetic as <c>edgenet.QLstm</c>: X quantized to uint8 once per run (dynamic, per tensor) and projected
/// for every time step by one int8 GEMM; per step H_{t−1} quantized the same way for the recurrent int8 GEMMs (z and r
/// rows, then the h rows); with linear_before_reset = 0 the h rows multiply rₜ∘Hₜ₋₁, quantized per step in turn. Gate
/// math (activations, clip, the update) stays float32, as <see cref="F32GruReference"/>.</para>
/// </summary>
public sealed class QGruOp : OpDefinition
{
    public const string DomainName = "edgenet";
    public override string OpType => "QGru";
    public override string Domain => DomainName;
    public override bool Foldable => false;

    private static readonly RnnActivation[] s_defaults = [RnnActivation.Sigmoid, RnnActivation.Tanh];

    internal static (RnnAttributes A, RnnGeometry G) Prepare(OpContext ctx)
    {
        if (ctx.InputCount < 8) throw ctx.Error($"{ctx.InputCount} inputs; QGru takes 8 (X, W, R, B, sequence_lens, initial_h, W_scale, R_scale)");
        if (ctx.OutputCount > 2) throw ctx.Error($"{ctx.OutputCount} outputs; QGru has at most 2");
        var a = RnnAttributes.Parse(ctx, s_defaults);
        var g = QRecurrentShapes.Check(ctx, a, gates: 3, scaleInput: 6);
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
        var ws = ctx.RequireConstant(6, "W_scale");
        var rs = ctx.RequireConstant(7, "R_scale");
        return new QGruKernel(ctx, g, a, QVariants.For(ctx.Isa), w.AsSpan<sbyte>().ToArray(), r.AsSpan<sbyte>().ToArray(), ws.AsSpan<float>().ToArray(), rs.AsSpan<float>().ToArray());
    }
}
