using EdgeNet.Ops.Rnn;

namespace EdgeNet.Kernels.Rnn;

/// <summary>
/// GRU (gate order z, r, h in W, R and B), per direction and time step t:
/// zₜ = f(Xₜ·W_zᵀ + Hₜ₋₁·R_zᵀ + Wb_z + Rb_z)
/// rₜ = f(Xₜ·W_rᵀ + Hₜ₋₁·R_rᵀ + Wb_r + Rb_r)
/// hₜ = g(Xₜ·W_hᵀ + (rₜ∘Hₜ₋₁)·R_hᵀ + Rb_h + Wb_h)            linear_before_reset = 0
/// hₜ = g(Xₜ·W_hᵀ + rₜ∘(Hₜ₋₁·R_hᵀ + Rb_h) + Wb_h)            linear_before_reset ≠ 0
/// Hₜ = (1 − zₜ)∘hₜ + zₜ∘Hₜ₋₁
/// Defaults f = Sigmoid, g = Tanh; clip bounds the inputs of f and g.
/// </summary>
public static class F32GruReference
{
    /// <summary>Scratch: the projection, H of every batch entry, one row for rₜ∘Hₜ₋₁.</summary>
    public static int ScratchFloats(RnnGeometry g) => F32RnnCommon.ProjectionFloats(g) + (g.Batch + 1) * g.HiddenSize;

    public static void Run(RnnGeometry g, RnnAttributes a, RnnTensors t)
    {
        int hidden = g.HiddenSize, rows = g.GateRows, batch = g.Batch;
        int projFloats = F32RnnCommon.ProjectionFloats(g);
        var proj = t.Scratch[..projFloats];
        var h = t.Scratch.Slice(projFloats, batch * hidden);
        var resetH = t.Scratch.Slice(projFloats + batch * hidden, hidden);
        bool lbr = a.LinearBeforeReset;
        for (int d = 0; d < g.Directions; d++)
        {
            // Rb_h is folded into the projection only when it sits outside the reset product
            F32RnnCommon.Project(g, d, t.X, t.W, t.B, lbr ? 2 * hidden : rows, proj);
            F32RnnCommon.LoadState(g, d, t.InitialH, h);
            var r = t.R.Slice(d * rows * hidden, rows * hidden);
            var rzr = r[..(2 * hidden * hidden)];
            var rh = r.Slice(2 * hidden * hidden, hidden * hidden);
            ReadOnlySpan<float> rbh = t.B.IsEmpty ? default : t.B.Slice(d * 2 * rows + rows + 2 * hidden, hidden);
            var fAct = a.Activation(d, 0);
            var gAct = a.Activation(d, 1);
            bool reverse = a.IsReverse(d);
            for (int s = 0; s < g.SeqLength; s++)
                for (int b = 0; b < batch; b++)
                {
                    int time = F32RnnCommon.TimeAt(s, F32RnnCommon.Length(g, t.SequenceLens, b), reverse);
                    if (time < 0) continue;
                    var gates = proj.Slice((time * batch + b) * rows, rows);
                    var hb = h.Slice(b * hidden, hidden);
                    var zg = gates[..hidden];
                    var rg = gates.Slice(hidden, hidden);
                    var hg = gates.Slice(2 * hidden, hidden);
                    F32RnnCommon.AddRecurrent(hb, rzr, gates[..(2 * hidden)]);
                    fAct.Apply(zg, a.Clip);
                    fAct.Apply(rg, a.Clip);
                    if (lbr)
                    {
                        for (int k = 0; k < hidden; k++)
                        {
                            var rRow = rh.Slice(k * hidden, hidden);
                            float sum = rbh.IsEmpty ? 0 : rbh[k];
                            for (int j = 0; j < hidden; j++) sum += hb[j] * rRow[j];
                            hg[k] += rg[k] * sum;
                        }
                    }
                    else
                    {
                        for (int j = 0; j < hidden; j++) resetH[j] = rg[j] * hb[j];
                        F32RnnCommon.AddRecurrent(resetH, rh, hg);
                    }
                    gAct.Apply(hg, a.Clip);
                    for (int j = 0; j < hidden; j++) hb[j] = (1 - zg[j]) * hg[j] + zg[j] * hb[j];
                    if (!t.Y.IsEmpty) hb.CopyTo(t.Y.Slice(g.YOffset(time, d, b), hidden));
                }
            F32RnnCommon.ZeroPadding(g, d, t.SequenceLens, t.Y);
            F32RnnCommon.StoreState(g, d, t.SequenceLens, h, t.YH);
        }
    }
}
