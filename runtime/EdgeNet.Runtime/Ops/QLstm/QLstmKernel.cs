using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using EdgeNet.Kernels;
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
        _defaultGates = !a.InputForget && float.IsPositiveInfinity(a.Clip);
        for (int d = 0; d < g.Directions; d++)
            _defaultGates &= a.Activation(d, 0).Kind == RnnActivationKind.Sigmoid && a.Activation(d, 1).Kind == RnnActivationKind.Tanh
                && a.Activation(d, 2).Kind == RnnActivationKind.Tanh;
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

    /// <summary>Sigmoid / tanh / tanh, no clip, no input_forget: the fused vector gate update below applies.</summary>
    private readonly bool _defaultGates;

    /// <summary>
    /// One batch entry's step with the default activations, 4 hidden units per vector (VectorMath's sigmoid and tanh,
    /// as the fp32 SIMD LSTM uses): gates = projection + recurrent (+ peepholes), C = f∘C + i∘g(c̃), H = o∘h(C).
    /// </summary>
    private static void DefaultGates(Span<float> gates, ReadOnlySpan<float> rec, Span<float> h, Span<float> c,
        ReadOnlySpan<float> pi, ReadOnlySpan<float> po, ReadOnlySpan<float> pf, bool peep)
    {
        int hidden = h.Length;
        ref float gi = ref gates[0], go = ref gates[hidden], gf = ref gates[2 * hidden], gc = ref gates[3 * hidden];
        ref float ri = ref MemoryMarshal.GetReference(rec);
        ref float ro = ref Unsafe.Add(ref ri, hidden), rf = ref Unsafe.Add(ref ri, 2 * hidden), rc = ref Unsafe.Add(ref ri, 3 * hidden);
        for (int j = 0; j < hidden; j += 4)
        {
            if (j + 4 > hidden)
            {
                // tail: the same vector math on one lane at a time
                for (; j < hidden; j++)
                {
                    float cPrev1 = c[j];
                    float i1 = gates[j] + rec[j], f1 = gates[2 * hidden + j] + rec[2 * hidden + j];
                    float cc1 = gates[3 * hidden + j] + rec[3 * hidden + j], o1 = gates[hidden + j] + rec[hidden + j];
                    if (peep) { i1 += pi[j] * cPrev1; f1 += pf[j] * cPrev1; }
                    float cNew1 = S(f1) * cPrev1 + S(i1) * T(cc1);
                    if (peep) o1 += po[j] * cNew1;
                    c[j] = cNew1;
                    h[j] = S(o1) * T(cNew1);
                }
                break;
            }
            var cPrev = Vector128.LoadUnsafe(ref c[0], (nuint)j);
            var i = Vector128.LoadUnsafe(ref gi, (nuint)j) + Vector128.LoadUnsafe(ref ri, (nuint)j);
            var f = Vector128.LoadUnsafe(ref gf, (nuint)j) + Vector128.LoadUnsafe(ref rf, (nuint)j);
            var cc = Vector128.LoadUnsafe(ref gc, (nuint)j) + Vector128.LoadUnsafe(ref rc, (nuint)j);
            var o = Vector128.LoadUnsafe(ref go, (nuint)j) + Vector128.LoadUnsafe(ref ro, (nuint)j);
            if (peep)
            {
                i += Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(pi), (nuint)j) * cPrev;
                f += Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(pf), (nuint)j) * cPrev;
            }
            var cNew = VectorMath.Sigmoid(f) * cPrev + VectorMath.Sigmoid(i) * VectorMath.Tanh(cc);
            if (peep) o += Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(po), (nuint)j) * cNew;
            cNew.StoreUnsafe(ref c[0], (nuint)j);
            (VectorMath.Sigmoid(o) * VectorMath.Tanh(cNew)).StoreUnsafe(ref h[0], (nuint)j);
        }

        static float S(float x) => VectorMath.Sigmoid(Vector128.Create(x)).ToScalar();
        static float T(float x) => VectorMath.Tanh(Vector128.Create(x)).ToScalar();
    }

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
                        var hb = h.Slice(b * hidden, hidden);
                        var cb = c.Slice(b * hidden, hidden);
                        if (_defaultGates)
                        {
                            DefaultGates(gates, recurrent, hb, cb, pi, po, pf, peep);
                            if (!y.IsEmpty) hb.CopyTo(y.Slice(g.YOffset(time, d, b), hidden));
                            continue;
                        }
                        for (int k = 0; k < rows; k++) gates[k] += recurrent[k];
                        F32LstmReference.Cell(gates, hb, cb, pi, po, pf, fAct, gAct, hAct, a);
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
