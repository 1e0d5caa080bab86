using System.Runtime.InteropServices;
using EdgeNet.Execution;
using EdgeNet.Kernels.Quantized;
using EdgeNet.Kernels.Rnn;
using EdgeNet.Ops.Rnn;

namespace EdgeNet.Ops.QLstm;

/// <summary>
/// The <see cref="QLstmOp"/> kernel: per direction one int8 GEMM for the input projection of all time steps
/// (dequantized straight into the float projection with the folded biases), then per step a dynamic quantization of
/// H, the recurrent int8 GEMM (M = batch), and the float gate math of <see cref="F32LstmReference"/>.
/// </summary>
internal sealed unsafe class QLstmKernel : Kernel
{
    private readonly RnnGeometry _g;
    private readonly RnnAttributes _a;
    private readonly QGemm[] _wGemm, _rGemm;
    private readonly float[] _wScale, _rScale;
    private readonly int _xq, _proj, _h, _c, _hq, _rec, _scale, _bias, _gemmScratch, _total;

    public QLstmKernel(OpContext ctx, RnnGeometry g, RnnAttributes a, QVariant variant, sbyte[] w, sbyte[] r, float[] wScale, float[] rScale)
    {
        _g = g;
        _a = a;
        _wScale = wScale;
        _rScale = rScale;
        int rows = g.GateRows, input = g.InputSize, hidden = g.HiddenSize, batch = g.Batch;
        _wGemm = new QGemm[g.Directions];
        _rGemm = new QGemm[g.Directions];
        int gemmScratch = 0;
        for (int d = 0; d < g.Directions; d++)
        {
            fixed (sbyte* wp = &w[d * rows * input])
                _wGemm[d] = new QGemm(QPackedWeights.Pack(variant, QGemmOrientation.WeightsRight, (byte*)wp, true, rows, input, input, 1, []),
                    g.SeqLength * batch, false, QOutputKind.Float32, ctx.Threads);
            fixed (sbyte* rp = &r[d * rows * hidden])
                _rGemm[d] = new QGemm(QPackedWeights.Pack(variant, QGemmOrientation.WeightsRight, (byte*)rp, true, rows, hidden, hidden, 1, []),
                    batch, false, QOutputKind.Float32, 1);
            gemmScratch = Math.Max(gemmScratch, Math.Max(_wGemm[d].ScratchBytes, _rGemm[d].ScratchBytes));
        }
        static int Align(int bytes) => (bytes + 63) & ~63;
        int offset = 0;
        int Take(int bytes) { int at = offset; offset += Align(bytes); return at; }
        _xq = Take(g.SeqLength * batch * input);
        _proj = Take(g.SeqLength * batch * rows * sizeof(float));
        _h = Take(batch * hidden * sizeof(float));
        _c = Take(batch * hidden * sizeof(float));
        _hq = Take(batch * hidden);
        _rec = Take(batch * rows * sizeof(float));
        _scale = Take(2 * rows * sizeof(float));
        _bias = Take(rows * sizeof(float));
        _gemmScratch = Take(gemmScratch);
        _total = offset + 64;
    }

    public override int ScratchBytes => _total;

    public override void Execute(ExecutionContext ctx)
    {
        var g = _g;
        var a = _a;
        int rows = g.GateRows, hidden = g.HiddenSize, batch = g.Batch, input = g.InputSize;
        var x = Input<float>(ctx, 0);
        var bias = HasInput(3) ? Input<float>(ctx, 3) : default;
        var lens = HasInput(4) ? Input<int>(ctx, 4) : default;
        var initialH = HasInput(5) ? Input<float>(ctx, 5) : default;
        var initialC = HasInput(6) ? Input<float>(ctx, 6) : default;
        var p = HasInput(7) ? Input<float>(ctx, 7) : default;
        var y = OutputSlots.Length > 0 && OutputSlots[0] >= 0 ? Output<float>(ctx, 0) : default;
        var yh = OutputSlots.Length > 1 && OutputSlots[1] >= 0 ? Output<float>(ctx, 1) : default;
        var yc = OutputSlots.Length > 2 && OutputSlots[2] >= 0 ? Output<float>(ctx, 2) : default;
        for (int b = 0; b < lens.Length; b++)
            if ((uint)lens[b] > (uint)g.SeqLength) throw new InputMismatchException($"QLstm: sequence_lens[{b}] = {lens[b]} is outside [0, {g.SeqLength}]");

        var scratch = Scratch;
        fixed (byte* s0 = scratch)
        {
            byte* s = (byte*)(((nint)s0 + 63) & ~(nint)63);
            byte* xq = s + _xq;
            float* proj = (float*)(s + _proj);
            var h = new Span<float>(s + _h, batch * hidden);
            var c = new Span<float>(s + _c, batch * hidden);
            byte* hq = s + _hq;
            float* rec = (float*)(s + _rec);
            float* scale = (float*)(s + _scale);
            float* foldedBias = (float*)(s + _bias);
            byte* gemmScratch = s + _gemmScratch;
            var proj0 = new Span<float>(proj, g.SeqLength * batch * rows);
            var (xScale, xZp) = QDynamicQuantize.Quantize(x[..(g.SeqLength * batch * input)], new Span<byte>(xq, g.SeqLength * batch * input));
            for (int d = 0; d < g.Directions; d++)
            {
                for (int k = 0; k < rows; k++)
                {
                    scale[k] = xScale * _wScale[d * rows + k];
                    foldedBias[k] = bias.IsEmpty ? 0 : bias[d * 2 * rows + k] + bias[d * 2 * rows + rows + k];
                }
                _wGemm[d].Run(ctx, xq, input, xZp, proj, rows, QEpilogue.Dequantize(scale, 1, foldedBias), gemmScratch);
                F32RnnCommon.LoadState(g, d, initialH, h);
                F32RnnCommon.LoadState(g, d, initialC, c);
                bool peep = !p.IsEmpty;
                ReadOnlySpan<float> pi = peep ? p.Slice(d * 3 * hidden, hidden) : default;
                ReadOnlySpan<float> po = peep ? p.Slice(d * 3 * hidden + hidden, hidden) : default;
                ReadOnlySpan<float> pf = peep ? p.Slice(d * 3 * hidden + 2 * hidden, hidden) : default;
                var fAct = a.Activation(d, 0);
                var gAct = a.Activation(d, 1);
                var hAct = a.Activation(d, 2);
                bool reverse = a.IsReverse(d);
                float* rScale = scale + rows;
                for (int step = 0; step < g.SeqLength; step++)
                {
                    var (hScale, hZp) = QDynamicQuantize.Quantize(h, new Span<byte>(hq, batch * hidden));
                    for (int k = 0; k < rows; k++) rScale[k] = hScale * _rScale[d * rows + k];
                    _rGemm[d].Run(null, hq, hidden, hZp, rec, rows, QEpilogue.Dequantize(rScale, 1), gemmScratch);
                    for (int b = 0; b < batch; b++)
                    {
                        int time = F32RnnCommon.TimeAt(step, F32RnnCommon.Length(g, lens, b), reverse);
                        if (time < 0) continue;
                        var gates = proj0.Slice(g.XOffset(time, b) / input * rows, rows);
                        var recurrent = new ReadOnlySpan<float>(rec + b * rows, rows);
                        for (int k = 0; k < rows; k++) gates[k] += recurrent[k];
                        var hb = h.Slice(b * hidden, hidden);
                        var cb = c.Slice(b * hidden, hidden);
                        var ig = gates[..hidden];
                        var og = gates.Slice(hidden, hidden);
                        var fg = gates.Slice(2 * hidden, hidden);
                        var cg = gates.Slice(3 * hidden, hidden);
                        if (peep)
                            for (int j = 0; j < hidden; j++)
                            {
                                ig[j] += pi[j] * cb[j];
                                fg[j] += pf[j] * cb[j];
                            }
                        fAct.Apply(ig, a.Clip);
                        if (a.InputForget)
                            for (int j = 0; j < hidden; j++) fg[j] = 1 - ig[j];
                        else
                            fAct.Apply(fg, a.Clip);
                        gAct.Apply(cg, a.Clip);
                        for (int j = 0; j < hidden; j++) cb[j] = fg[j] * cb[j] + ig[j] * cg[j];
                        if (peep)
                            for (int j = 0; j < hidden; j++) og[j] += po[j] * cb[j];
                        fAct.Apply(og, a.Clip);
                        cb.CopyTo(cg);
                        hAct.Apply(cg, float.PositiveInfinity);
                        for (int j = 0; j < hidden; j++) hb[j] = og[j] * cg[j];
                        if (!y.IsEmpty) hb.CopyTo(y.Slice(g.YOffset(time, d, b), hidden));
                    }
                }
                F32RnnCommon.ZeroPadding(g, d, lens, y);
                F32RnnCommon.StoreState(g, d, lens, h, yh);
                F32RnnCommon.StoreState(g, d, lens, c, yc);
            }
        }
    }
}
