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
        ctx.ExpectType(0, DataType.Float32);
        ctx.ExpectType(1, DataType.Int8);
        ctx.ExpectType(2, DataType.Int8);
        ctx.ExpectType(6, DataType.Float32);
        ctx.ExpectType(7, DataType.Float32);
        var x = ctx.InputShape(0);
        var w = ctx.InputShape(1);
        var r = ctx.InputShape(2);
        if (x.Length != 3 || w.Length != 3 || r.Length != 3) throw ctx.Error($"X {Shapes.Format(x)}, W {Shapes.Format(w)} and R {Shapes.Format(r)} must be 3-D");
        int nd = a.Directions, hidden = a.HiddenSize ?? r[2];
        if (hidden <= 0 || (long)3 * hidden > Shapes.MaxElements) throw ctx.Error($"hidden size {hidden} is invalid");
        int seq = a.BatchMajor ? x[1] : x[0], batch = a.BatchMajor ? x[0] : x[1], input = x[2];
        if ((long)seq * batch * 3 * hidden > Shapes.MaxElements) throw ctx.Error("the input projection is larger than EdgeNet's tensor limit");
        if (w[0] != nd || w[1] != 3 * hidden || w[2] != input) throw ctx.Error($"W {Shapes.Format(w)} must be [{nd}, {3 * hidden}, {input}]");
        if (r[0] != nd || r[1] != 3 * hidden || r[2] != hidden) throw ctx.Error($"R {Shapes.Format(r)} must be [{nd}, {3 * hidden}, {hidden}]");
        if (input <= 0) throw ctx.Error("input size must be positive");
        foreach (int i in new[] { 6, 7 })
            if (!ctx.InputShape(i).AsSpan().SequenceEqual([nd, 3 * hidden]))
                throw ctx.Error($"{(i == 6 ? "W_scale" : "R_scale")} {Shapes.Format(ctx.InputShape(i))} must be [{nd}, {3 * hidden}]");
        var g = new RnnGeometry(seq, batch, input, hidden, nd, 3, a.BatchMajor);
        if (ctx.HasInput(3))
        {
            ctx.ExpectType(3, DataType.Float32);
            if (!ctx.InputShape(3).AsSpan().SequenceEqual([nd, 6 * hidden])) throw ctx.Error($"B {Shapes.Format(ctx.InputShape(3))} must be [{nd}, {6 * hidden}]");
        }
        if (ctx.HasInput(4))
        {
            ctx.ExpectType(4, DataType.Int32);
            if (!ctx.InputShape(4).AsSpan().SequenceEqual([batch])) throw ctx.Error($"sequence_lens {Shapes.Format(ctx.InputShape(4))} must be [{batch}]");
        }
        if (ctx.HasInput(5))
        {
            ctx.ExpectType(5, DataType.Float32);
            if (!ctx.InputShape(5).AsSpan().SequenceEqual(g.StateShape)) throw ctx.Error($"initial_h must be {Shapes.Format(g.StateShape)}");
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
        var ws = ctx.RequireConstant(6, "W_scale");
        var rs = ctx.RequireConstant(7, "R_scale");
        return new QGruKernel(ctx, g, a, QVariants.For(ctx.Isa), w.AsSpan<sbyte>().ToArray(), r.AsSpan<sbyte>().ToArray(), ws.AsSpan<float>().ToArray(), rs.AsSpan<float>().ToArray());
    }
}
