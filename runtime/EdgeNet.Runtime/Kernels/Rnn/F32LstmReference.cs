using EdgeNet.Ops.Rnn;

namespace EdgeNet.Kernels.Rnn;

/// <summary>
/// LSTM (gate order i, o, f, c in W, R and B; peepholes P in order i, o, f), per direction and time step t:
/// iₜ = f(Xₜ·Wᵢᵀ + Hₜ₋₁·Rᵢᵀ + Pᵢ∘Cₜ₋₁ + Wbᵢ + Rbᵢ)
/// fₜ = f(Xₜ·W_fᵀ + Hₜ₋₁·R_fᵀ + P_f∘Cₜ₋₁ + Wb_f + Rb_f)   (1 − iₜ with input_forget)
/// cₜ = g(Xₜ·W_cᵀ + Hₜ₋₁·R_cᵀ + Wb_c + Rb_c)
/// Cₜ = fₜ∘Cₜ₋₁ + iₜ∘cₜ
/// oₜ = f(Xₜ·W_oᵀ + Hₜ₋₁·R_oᵀ + P_o∘Cₜ + Wb_o + Rb_o)
/// Hₜ = oₜ∘h(Cₜ)
/// Defaults f = Sigmoid, g = h = Tanh; clip bounds the inputs of f and g.
/// </summary>
public static class F32LstmReference
{
    /// <summary>Scratch: the projection, then H and C of every batch entry.</summary>
    public static int ScratchFloats(RnnGeometry g) => F32RnnCommon.ProjectionFloats(g) + 2 * g.Batch * g.HiddenSize;

    public static void Run(RnnGeometry g, RnnAttributes a, RnnTensors t)
    {
        int hidden = g.HiddenSize, rows = g.GateRows, batch = g.Batch;
        int projFloats = F32RnnCommon.ProjectionFloats(g);
        var proj = t.Scratch[..projFloats];
        var h = t.Scratch.Slice(projFloats, batch * hidden);
        var c = t.Scratch.Slice(projFloats + batch * hidden, batch * hidden);
        for (int d = 0; d < g.Directions; d++)
        {
            F32RnnCommon.Project(g, d, t.X, t.W, t.B, rows, proj);
            F32RnnCommon.LoadState(g, d, t.InitialH, h);
            F32RnnCommon.LoadState(g, d, t.InitialC, c);
            var r = t.R.Slice(d * rows * hidden, rows * hidden);
            bool peep = !t.P.IsEmpty;
            ReadOnlySpan<float> pi = peep ? t.P.Slice(d * 3 * hidden, hidden) : default;
            ReadOnlySpan<float> po = peep ? t.P.Slice(d * 3 * hidden + hidden, hidden) : default;
            ReadOnlySpan<float> pf = peep ? t.P.Slice(d * 3 * hidden + 2 * hidden, hidden) : default;
            var fAct = a.Activation(d, 0);
            var gAct = a.Activation(d, 1);
            var hAct = a.Activation(d, 2);
            bool reverse = a.IsReverse(d);
            for (int s = 0; s < g.SeqLength; s++)
                for (int b = 0; b < batch; b++)
                {
                    int time = F32RnnCommon.TimeAt(s, F32RnnCommon.Length(g, t.SequenceLens, b), reverse);
                    if (time < 0) continue;
                    var gates = proj.Slice((time * batch + b) * rows, rows);
                    var hb = h.Slice(b * hidden, hidden);
                    var cb = c.Slice(b * hidden, hidden);
                    F32RnnCommon.AddRecurrent(hb, r, gates);
                    Cell(gates, hb, cb, pi, po, pf, fAct, gAct, hAct, a);
                    if (!t.Y.IsEmpty) hb.CopyTo(t.Y.Slice(g.YOffset(time, d, b), hidden));
                }
            F32RnnCommon.ZeroPadding(g, d, t.SequenceLens, t.Y);
            F32RnnCommon.StoreState(g, d, t.SequenceLens, h, t.YH);
            F32RnnCommon.StoreState(g, d, t.SequenceLens, c, t.YC);
        }
    }
    /// <summary>
    /// One batch entry's cell update from its summed gate pre-activations (projection + recurrent, order i, o, f, c):
    /// peepholes, activations, Cₜ into <paramref name="c"/>, Hₜ into <paramref name="h"/>. Overwrites <paramref name="gates"/>.
    /// </summary>
    public static void Cell(Span<float> gates, Span<float> h, Span<float> c, ReadOnlySpan<float> pi, ReadOnlySpan<float> po,
        ReadOnlySpan<float> pf, RnnActivation fAct, RnnActivation gAct, RnnActivation hAct, RnnAttributes a)
    {
        int hidden = h.Length;
        bool peep = !pi.IsEmpty;
        var ig = gates[..hidden];
        var og = gates.Slice(hidden, hidden);
        var fg = gates.Slice(2 * hidden, hidden);
        var cg = gates.Slice(3 * hidden, hidden);
        if (peep)
            for (int j = 0; j < hidden; j++)
            {
                ig[j] += pi[j] * c[j];
                fg[j] += pf[j] * c[j];
            }
        fAct.Apply(ig, a.Clip);
        if (a.InputForget)
            for (int j = 0; j < hidden; j++) fg[j] = 1 - ig[j];
        else
            fAct.Apply(fg, a.Clip);
        gAct.Apply(cg, a.Clip);
        for (int j = 0; j < hidden; j++) c[j] = fg[j] * c[j] + ig[j] * cg[j];
        if (peep)
            for (int j = 0; j < hidden; j++) og[j] += po[j] * c[j];
        fAct.Apply(og, a.Clip);
        // h(Cₜ) goes through the spent cell-gate row so Cₜ itself stays intact
        c.CopyTo(cg);
        hAct.Apply(cg, float.PositiveInfinity);
        for (int j = 0; j < hidden; j++) h[j] = og[j] * cg[j];
    }
}
