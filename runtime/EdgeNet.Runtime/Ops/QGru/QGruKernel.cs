using EdgeNet.Execution;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Quantized;
using EdgeNet.Kernels.Rnn;
using EdgeNet.Ops.Rnn;

namespace EdgeNet.Ops.QGru;

/// <summary>
/// The <see cref="QGruOp"/> kernel: per direction one int8 GEMM for the input projection of all time steps
/// (dequantized straight into the float projection with the folded biases), then per step a dynamic quantization of
/// H, the recurrent int8 GEMM of the z and r rows, the float z and r gates, the h rows' int8 GEMM (on H, or on the
/// quantized rₜ∘Hₜ₋₁ when linear_before_reset = 0), and the float update of <see cref="F32GruReference"/>.
/// </summary>
internal sealed unsafe class QGruKernel : Kernel
{
    private readonly RnnGeometry _g;
    private readonly RnnAttributes _a;
    private readonly QGemm[] _wGemm, _zrGemm, _hGemm;
    private readonly float[] _wScale, _rScale;
    private readonly int _xq, _proj, _h, _hq, _reset, _recZr, _recH, _scale, _bias, _rbh, _gemmScratch, _total;

    public QGruKernel(OpContext ctx, RnnGeometry g, RnnAttributes a, QVariant variant, sbyte[] w, sbyte[] r, float[] wScale, float[] rScale)
    {
        _g = g;
        _a = a;
        _wScale = wScale;
        _rScale = rScale;
        int rows = g.GateRows, input = g.InputSize, hidden = g.HiddenSize, batch = g.Batch;
        _wGemm = new QGemm[g.Directions];
        _zrGemm = new QGemm[g.Directions];
        _hGemm = new QGemm[g.Directions];
        int gemmScratch = 0;
        for (int d = 0; d < g.Directions; d++)
        {
            fixed (sbyte* wp = &w[d * rows * input])
                _wGemm[d] = new QGemm(QPackedWeights.Pack(variant, QGemmOrientation.WeightsRight, (byte*)wp, true, rows, input, input, 1, []),
                    g.SeqLength * batch, false, QOutputKind.Float32, ctx.Threads);
            fixed (sbyte* rp = &r[d * rows * hidden])
            {
                _zrGemm[d] = new QGemm(QPackedWeights.Pack(variant, QGemmOrientation.WeightsRight, (byte*)rp, true, 2 * hidden, hidden, hidden, 1, []),
                    batch, false, QOutputKind.Float32, 1);
                _hGemm[d] = new QGemm(QPackedWeights.Pack(variant, QGemmOrientation.WeightsRight, (byte*)(rp + 2 * hidden * hidden), true, hidden, hidden, hidden, 1, []),
                    batch, false, QOutputKind.Float32, 1);
            }
            gemmScratch = Math.Max(gemmScratch, Math.Max(_wGemm[d].ScratchBytes, Math.Max(_zrGemm[d].ScratchBytes, _hGemm[d].ScratchBytes)));
        }
        static int Align(int bytes) => (bytes + 63) & ~63;
        int offset = 0;
        int Take(int bytes) { int at = offset; offset += Align(bytes); return at; }
        _xq = Take(g.SeqLength * batch * input);
        _proj = Take(g.SeqLength * batch * rows * sizeof(float));
        _h = Take(batch * hidden * sizeof(float));
        _hq = Take(batch * hidden);
        _reset = Take(batch * hidden * sizeof(float));
        _recZr = Take(batch * 2 * hidden * sizeof(float));
        _recH = Take(batch * hidden * sizeof(float));
        _scale = Take(2 * rows * sizeof(float));
        _bias = Take(rows * sizeof(float));
        _rbh = Take(hidden * sizeof(float));
        _gemmScratch = Take(gemmScratch);
        _total = offset + 64;
    }

    public override int ScratchBytes => _total;

    public override void Execute(ExecutionContext ctx)
    {
        var g = _g;
        var a = _a;
        int rows = g.GateRows, hidden = g.HiddenSize, batch = g.Batch, input = g.InputSize;
        bool lbr = a.LinearBeforeReset;
        var x = Input<float>(ctx, 0);
        var bias = HasInput(3) ? Input<float>(ctx, 3) : default;
        var lens = HasInput(4) ? Input<int>(ctx, 4) : default;
        var initialH = HasInput(5) ? Input<float>(ctx, 5) : default;
        var y = OutputSlots.Length > 0 && OutputSlots[0] >= 0 ? Output<float>(ctx, 0) : default;
        var yh = OutputSlots.Length > 1 && OutputSlots[1] >= 0 ? Output<float>(ctx, 1) : default;
        for (int b = 0; b < lens.Length; b++)
            if ((uint)lens[b] > (uint)g.SeqLength) throw new InputMismatchException($"QGru: sequence_lens[{b}] = {lens[b]} is outside [0, {g.SeqLength}]");

        fixed (byte* s0 = Scratch)
        {
            byte* s = (byte*)(((nint)s0 + 63) & ~(nint)63);
            byte* xq = s + _xq;
            var proj = new Span<float>(s + _proj, g.SeqLength * batch * rows);
            var h = new Span<float>(s + _h, batch * hidden);
            byte* hq = s + _hq;
            var reset = new Span<float>(s + _reset, batch * hidden);
            float* recZr = (float*)(s + _recZr);
            float* recH = (float*)(s + _recH);
            float* scale = (float*)(s + _scale);
            float* foldedBias = (float*)(s + _bias);
            float* rbh = (float*)(s + _rbh);
            byte* gemmScratch = s + _gemmScratch;
            var (xScale, xZp) = QDynamicQuantize.Quantize(x[..(g.SeqLength * batch * input)], new Span<byte>(xq, g.SeqLength * batch * input));
            for (int d = 0; d < g.Directions; d++)
            {
                // the recurrent bias of the h rows sits inside the reset product when linear_before_reset ≠ 0
                for (int k = 0; k < rows; k++)
                {
                    scale[k] = xScale * _wScale[d * rows + k];
                    float rb = bias.IsEmpty || (lbr && k >= 2 * hidden) ? 0 : bias[d * 2 * rows + rows + k];
                    foldedBias[k] = (bias.IsEmpty ? 0 : bias[d * 2 * rows + k]) + rb;
                }
                for (int k = 0; k < hidden; k++) rbh[k] = bias.IsEmpty || !lbr ? 0 : bias[d * 2 * rows + rows + 2 * hidden + k];
                fixed (float* projPtr = proj)
                    _wGemm[d].Run(ctx, xq, input, xZp, projPtr, rows, QEpilogue.Dequantize(scale, 1, foldedBias), gemmScratch);
                F32RnnCommon.LoadState(g, d, initialH, h);
                var fAct = a.Activation(d, 0);
                var gAct = a.Activation(d, 1);
                bool reverse = a.IsReverse(d);
                float* rScale = scale + rows;
                for (int step = 0; step < g.SeqLength; step++)
                {
                    var (hScale, hZp) = QDynamicQuantize.Quantize(h, new Span<byte>(hq, batch * hidden));
                    for (int k = 0; k < rows; k++) rScale[k] = hScale * _rScale[d * rows + k];
                    _zrGemm[d].Run(null, hq, hidden, hZp, recZr, 2 * hidden, QEpilogue.Dequantize(rScale, 1), gemmScratch);
                    if (lbr) _hGemm[d].Run(null, hq, hidden, hZp, recH, hidden, QEpilogue.Dequantize(rScale + 2 * hidden, 1, rbh), gemmScratch);

                    // z and r for every batch entry (the h rows may need all of rₜ∘Hₜ₋₁ first)
                    for (int b = 0; b < batch; b++)
                    {
                        int time = F32RnnCommon.TimeAt(step, F32RnnCommon.Length(g, lens, b), reverse);
                        var resetRow = reset.Slice(b * hidden, hidden);
                        if (time < 0) { resetRow.Clear(); continue; }
                        var gates = proj.Slice(g.XOffset(time, b) / input * rows, rows);
                        var zr = gates[..(2 * hidden)];
                        var rec = new ReadOnlySpan<float>(recZr + b * 2 * hidden, 2 * hidden);
                        for (int k = 0; k < zr.Length; k++) zr[k] += rec[k];
                        fAct.Apply(zr[..hidden], a.Clip);
                        fAct.Apply(zr[hidden..], a.Clip);
                        if (!lbr)
                        {
                            var hb = h.Slice(b * hidden, hidden);
                            for (int j = 0; j < hidden; j++) resetRow[j] = zr[hidden + j] * hb[j];
                        }
                    }
                    if (!lbr)
                    {
                        var (resetScale, resetZp) = QDynamicQuantize.Quantize(reset, new Span<byte>(hq, batch * hidden));
                        for (int k = 0; k < hidden; k++) rScale[2 * hidden + k] = resetScale * _rScale[d * rows + 2 * hidden + k];
                        _hGemm[d].Run(null, hq, hidden, resetZp, recH, hidden, QEpilogue.Dequantize(rScale + 2 * hidden, 1), gemmScratch);
                    }
                    for (int b = 0; b < batch; b++)
                    {
                        int time = F32RnnCommon.TimeAt(step, F32RnnCommon.Length(g, lens, b), reverse);
                        if (time < 0) continue;
                        var gates = proj.Slice(g.XOffset(time, b) / input * rows, rows);
                        var z = gates[..hidden];
                        var r = gates.Slice(hidden, hidden);
                        var hg = gates.Slice(2 * hidden, hidden);
                        var rec = new ReadOnlySpan<float>(recH + b * hidden, hidden);
                        if (lbr) for (int k = 0; k < hidden; k++) hg[k] += r[k] * rec[k];
                        else for (int k = 0; k < hidden; k++) hg[k] += rec[k];
                        gAct.Apply(hg, a.Clip);
                        var hb = h.Slice(b * hidden, hidden);
                        for (int j = 0; j < hidden; j++) hb[j] = (1 - z[j]) * hg[j] + z[j] * hb[j];
                        if (!y.IsEmpty) hb.CopyTo(y.Slice(g.YOffset(time, d, b), hidden));
                    }
                }
                F32RnnCommon.ZeroPadding(g, d, lens, y);
                F32RnnCommon.StoreState(g, d, lens, h, yh);
            }
        }
    }
}
