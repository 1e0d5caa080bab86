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
        ctx.ExpectType(0, DataType.Float32);
        ctx.ExpectType(1, DataType.Int8);
        ctx.ExpectType(2, DataType.Int8);
        ctx.ExpectType(8, DataType.Float32);
        ctx.ExpectType(9, DataType.Float32);
        var x = ctx.InputShape(0);
        var w = ctx.InputShape(1);
        var r = ctx.InputShape(2);
        if (x.Length != 3 || w.Length != 3 || r.Length != 3) throw ctx.Error($"X {Shapes.Format(x)}, W {Shapes.Format(w)} and R {Shapes.Format(r)} must be 3-D");
        int nd = a.Directions, hidden = a.HiddenSize ?? r[2];
        if (hidden <= 0 || (long)4 * hidden > Shapes.MaxElements) throw ctx.Error($"hidden size {hidden} is invalid");
        int seq = a.BatchMajor ? x[1] : x[0], batch = a.BatchMajor ? x[0] : x[1], input = x[2];
        if ((long)seq * batch * 4 * hidden > Shapes.MaxElements) throw ctx.Error("the input projection is larger than EdgeNet's tensor limit");
        if (w[0] != nd || w[1] != 4 * hidden || w[2] != input) throw ctx.Error($"W {Shapes.Format(w)} must be [{nd}, {4 * hidden}, {input}]");
        if (r[0] != nd || r[1] != 4 * hidden || r[2] != hidden) throw ctx.Error($"R {Shapes.Format(r)} must be [{nd}, {4 * hidden}, {hidden}]");
        if (input <= 0) throw ctx.Error("input size must be positive");
        foreach (int i in new[] { 8, 9 })
            if (!ctx.InputShape(i).AsSpan().SequenceEqual([nd, 4 * hidden]))
                throw ctx.Error($"{(i == 8 ? "W_scale" : "R_scale")} {Shapes.Format(ctx.InputShape(i))} must be [{nd}, {4 * hidden}]");
        var g = new RnnGeometry(seq, batch, input, hidden, nd, 4, a.BatchMajor);
        if (ctx.HasInput(3))
        {
            ctx.ExpectType(3, DataType.Float32);
            if (!ctx.InputShape(3).AsSpan().SequenceEqual([nd, 8 * hidden])) throw ctx.Error($"B {Shapes.Format(ctx.InputShape(3))} must be [{nd}, {8 * hidden}]");
        }
        if (ctx.HasInput(4))
        {
            ctx.ExpectType(4, DataType.Int32);
            if (!ctx.InputShape(4).AsSpan().SequenceEqual([batch])) throw ctx.Error($"sequence_lens {Shapes.Format(ctx.InputShape(4))} must be [{batch}]");
        }
        for (int i = 5; i <= 6; i++)
            if (ctx.HasInput(i))
            {
                ctx.ExpectType(i, DataType.Float32);
                if (!ctx.InputShape(i).AsSpan().SequenceEqual(g.StateShape)) throw ctx.Error($"{(i == 5 ? "initial_h" : "initial_c")} must be {Shapes.Format(g.StateShape)}");
            }
        if (ctx.HasInput(7))
        {
            ctx.ExpectType(7, DataType.Float32);
            if (!ctx.InputShape(7).AsSpan().SequenceEqual([nd, 3 * hidden])) throw ctx.Error($"P {Shapes.Format(ctx.InputShape(7))} must be [{nd}, {3 * hidden}]");
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
