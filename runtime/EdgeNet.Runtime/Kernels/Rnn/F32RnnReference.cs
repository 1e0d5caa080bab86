using EdgeNet.Ops.Rnn;

namespace EdgeNet.Kernels.Rnn;

/// <summary>
/// Simple RNN, per direction and time step t: Hₜ = f(Xₜ·Wᵀ + Hₜ₋₁·Rᵀ + Wb + Rb), default f = Tanh; clip bounds f's input.
/// </summary>
public static class F32RnnReference
{
    /// <summary>Scratch: the projection, then H of every batch entry.</summary>
    public static int ScratchFloats(RnnGeometry g) => F32RnnCommon.ProjectionFloats(g) + g.Batch * g.HiddenSize;

    public static void Run(RnnGeometry g, RnnAttributes a, RnnTensors t)
    {
        int hidden = g.HiddenSize, batch = g.Batch;
        int projFloats = F32RnnCommon.ProjectionFloats(g);
        var proj = t.Scratch[..projFloats];
        var h = t.Scratch.Slice(projFloats, batch * hidden);
        for (int d = 0; d < g.Directions; d++)
        {
            F32RnnCommon.Project(g, d, t.X, t.W, t.B, hidden, proj);
            F32RnnCommon.LoadState(g, d, t.InitialH, h);
            var r = t.R.Slice(d * hidden * hidden, hidden * hidden);
            var fAct = a.Activation(d, 0);
            bool reverse = a.IsReverse(d);
            for (int s = 0; s < g.SeqLength; s++)
                for (int b = 0; b < batch; b++)
                {
                    int time = F32RnnCommon.TimeAt(s, F32RnnCommon.Length(g, t.SequenceLens, b), reverse);
                    if (time < 0) continue;
                    var pre = proj.Slice((time * batch + b) * hidden, hidden);
                    var hb = h.Slice(b * hidden, hidden);
                    F32RnnCommon.AddRecurrent(hb, r, pre);
                    fAct.Apply(pre, a.Clip);
                    pre.CopyTo(hb);
                    if (!t.Y.IsEmpty) hb.CopyTo(t.Y.Slice(g.YOffset(time, d, b), hidden));
                }
            F32RnnCommon.ZeroPadding(g, d, t.SequenceLens, t.Y);
            F32RnnCommon.StoreState(g, d, t.SequenceLens, h, t.YH);
        }
    }
}
