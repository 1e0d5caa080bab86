using EdgeNet.IR;

namespace EdgeNet.Ops.Rnn;

/// <summary>
/// The input checks <c>edgenet.QLstm</c> and <c>edgenet.QGru</c> share: float X, int8 W [dirs, gates·H, input] and
/// R [dirs, gates·H, H], float per-row scales [dirs, gates·H] at <c>scaleInput</c> and the next input, optional B
/// [dirs, 2·gates·H], sequence_lens [batch] and initial_h (inputs 3, 4, 5, as in ONNX LSTM / GRU).
/// </summary>
internal static class QRecurrentShapes
{
    public static RnnGeometry Check(OpContext ctx, RnnAttributes a, int gates, int scaleInput)
    {
        ctx.ExpectType(0, DataType.Float32);
        ctx.ExpectType(1, DataType.Int8);
        ctx.ExpectType(2, DataType.Int8);
        ctx.ExpectType(scaleInput, DataType.Float32);
        ctx.ExpectType(scaleInput + 1, DataType.Float32);
        var x = ctx.InputShape(0);
        var w = ctx.InputShape(1);
        var r = ctx.InputShape(2);
        if (x.Length != 3 || w.Length != 3 || r.Length != 3) throw ctx.Error($"X {Shapes.Format(x)}, W {Shapes.Format(w)} and R {Shapes.Format(r)} must be 3-D");
        int nd = a.Directions, hidden = a.HiddenSize ?? r[2], rows = gates * hidden;
        if (hidden <= 0 || (long)gates * hidden > Shapes.MaxElements) throw ctx.Error($"hidden size {hidden} is invalid");
        int seq = a.BatchMajor ? x[1] : x[0], batch = a.BatchMajor ? x[0] : x[1], input = x[2];
        if ((long)seq * batch * rows > Shapes.MaxElements) throw ctx.Error("the input projection is larger than EdgeNet's tensor limit");
        if (w[0] != nd || w[1] != rows || w[2] != input) throw ctx.Error($"W {Shapes.Format(w)} must be [{nd}, {rows}, {input}]");
        if (r[0] != nd || r[1] != rows || r[2] != hidden) throw ctx.Error($"R {Shapes.Format(r)} must be [{nd}, {rows}, {hidden}]");
        if (input <= 0) throw ctx.Error("input size must be positive");
        for (int i = scaleInput; i <= scaleInput + 1; i++)
            if (!ctx.InputShape(i).AsSpan().SequenceEqual([nd, rows]))
                throw ctx.Error($"{(i == scaleInput ? "W_scale" : "R_scale")} {Shapes.Format(ctx.InputShape(i))} must be [{nd}, {rows}]");
        var g = new RnnGeometry(seq, batch, input, hidden, nd, gates, a.BatchMajor);
        if (ctx.HasInput(3))
        {
            ctx.ExpectType(3, DataType.Float32);
            if (!ctx.InputShape(3).AsSpan().SequenceEqual([nd, 2 * rows])) throw ctx.Error($"B {Shapes.Format(ctx.InputShape(3))} must be [{nd}, {2 * rows}]");
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
        return g;
    }
}
