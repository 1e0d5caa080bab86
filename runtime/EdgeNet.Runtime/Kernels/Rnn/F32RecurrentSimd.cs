using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using EdgeNet.Ops.Rnn;

namespace EdgeNet.Kernels.Rnn;

/// <summary>
/// Vectorized LSTM, GRU and RNN with the default activations (LSTM σ/tanh/tanh, GRU σ/tanh, RNN tanh), same math and
/// options as <see cref="F32LstmReference"/>, <see cref="F32GruReference"/> and <see cref="F32RnnReference"/>
/// (directions, sequence_lens, initial states, peepholes, clip, input_forget, linear_before_reset, layout).
/// Per direction: the input projection of all time steps is one <see cref="F32RnnGemm"/> call into scratch (biases
/// folded in), then each time step adds Hₜ₋₁·Rᵀ with the same GEMM (m = batch when every entry is at the same time
/// step, else per entry) and runs the gate math on whole vectors of units with the shared vector math (Kernels/Math/VectorMath); LSTM fuses
/// the two, one vector of units (all 4 gates) at a time.
/// Weights are packed once when they are constants (<see cref="RnnPackedWeights"/>), else into scratch on every run.
/// The hot methods are AggressiveOptimization: tier-0 code of these generic vector loops is ~20× slower, and a model
/// run a few times a second would stay on it for a long time.
/// </summary>
internal static class F32RecurrentSimd
{
    /// <summary>Lane count of an ISA's instantiation (the packed layout depends on it).</summary>
    public static int LanesOf(Isa isa) => isa switch
    {
        Isa.Avx512 => Vector512<float>.Count,
        Isa.Avx2 => Vector256<float>.Count,
        Isa.Neon => Vector128<float>.Count,
        _ => throw new ArgumentOutOfRangeException(nameof(isa), isa, "the scalar path runs the reference kernels"),
    };

    /// <summary>True when every direction uses the op's default activations (the only ones vectorized here).</summary>
    public static bool HandlesActivations(RnnAttributes a, RnnActivation[] defaults)
    {
        for (int i = 0; i < a.Activations.Length; i++)
            if (a.Activations[i].Kind != defaults[i % defaults.Length].Kind) return false;
        return true;
    }

    /// <summary>
    /// False when padding each gate to the lane count would push the packed weights or scratch past 2 GiB (tiny hidden
    /// sizes with huge sequences): such nodes run the reference kernel.
    /// </summary>
    public static bool Fits(RnnGeometry g, int lanes)
    {
        long hp = F32RnnGemm.PaddedHidden(g.HiddenSize, lanes);
        long packed = g.Directions * (g.Gates * hp * ((long)g.InputSize + g.HiddenSize + 2) + 3 * hp);
        long scratch = (long)g.SeqLength * g.Batch * g.Gates * hp + 2L * g.Batch * hp + packed;
        return scratch * sizeof(float) <= int.MaxValue;
    }

    /// <summary>
    /// Scratch floats: projection, H (and C, or GRU's per-entry row), LSTM's next H of one entry, and the packed weights
    /// unless prepacked.
    /// </summary>
    public static int ScratchFloats(RnnPackedWeights l, bool prepacked)
    {
        var g = l.Geometry;
        int stateRows = g.Gates == 1 ? 1 : 2;
        return g.SeqLength * g.Batch * g.Gates * l.Hp + (stateRows * g.Batch + 1) * l.Hp + (prepacked ? 0 : l.Floats);
    }

    /// <summary>
    /// Runs the node on <paramref name="isa"/>'s instantiation. <paramref name="packed"/> holds the weights packed by
    /// <paramref name="layout"/> or is empty, in which case they are packed into scratch first.
    /// </summary>
    public static void Run(Isa isa, RnnPackedWeights layout, RnnAttributes a, RnnTensors t, ReadOnlySpan<float> packed)
    {
        switch (isa)
        {
            case Isa.Avx512: Run<Avx512Lanes, Vector512<float>>(layout, a, t, packed); break;
            case Isa.Avx2: Run<Avx2Lanes, Vector256<float>>(layout, a, t, packed); break;
            case Isa.Neon: Run<NeonLanes, Vector128<float>>(layout, a, t, packed); break;
            default: throw new ArgumentOutOfRangeException(nameof(isa), isa, "the scalar path runs the reference kernels");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TS, TVec>(RnnPackedWeights l, RnnAttributes a, RnnTensors t, ReadOnlySpan<float> packed)
        where TS : IRnnSimd<TVec> where TVec : unmanaged
    {
        if (l.Lanes != TS.Lanes) throw new ArgumentException("weights were packed for another lane width");
        var g = l.Geometry;
        int hp = l.Hp, n = g.Gates * hp, batch = g.Batch;
        var scratch = t.Scratch;
        var proj = scratch[..(g.SeqLength * batch * n)];
        var h = scratch.Slice(proj.Length, batch * hp);
        // LSTM: C; GRU: rₜ∘Hₜ₋₁ or Hₜ₋₁·R_hᵀ + Rb_h per entry
        var second = g.Gates == 1 ? default : scratch.Slice(proj.Length + batch * hp, batch * hp);
        int stateEnd = proj.Length + (g.Gates == 1 ? 1 : 2) * batch * hp;
        var hNext = scratch.Slice(stateEnd, hp);
        if (packed.IsEmpty)
        {
            var into = scratch.Slice(stateEnd + hp, l.Floats);
            l.Pack(t.W, t.R, t.B, t.P, into);
            packed = into;
        }
        for (int d = 0; d < g.Directions; d++)
        {
            var wts = packed.Slice(l.Direction(d), l.DirectionFloats);
            Project<TS, TVec>(l, t.X, wts, proj);
            LoadState(g, d, t.InitialH, h, hp);
            if (g.Gates == 4) LoadState(g, d, t.InitialC, second, hp);
            var step = new Step(l, a.Clip, d, a.InputForget);
            for (int s = 0; s < g.SeqLength; s++)
            {
                if (t.SequenceLens.IsEmpty)
                {
                    step.Run<TS, TVec>(a.IsReverse(d) ? g.SeqLength - 1 - s : s, 0, batch, wts, proj, h, second, hNext, t.Y, (s & 1) != 0);
                    continue;
                }
                for (int b = 0; b < batch; b++)
                {
                    int time = F32RnnCommon.TimeAt(s, t.SequenceLens[b], a.IsReverse(d));
                    if (time >= 0) step.Run<TS, TVec>(time, b, 1, wts, proj, h, second, hNext, t.Y, (s & 1) != 0);
                }
            }
            F32RnnCommon.ZeroPadding(g, d, t.SequenceLens, t.Y);
            StoreState(g, d, t.SequenceLens, h, hp, t.YH);
            if (g.Gates == 4) StoreState(g, d, t.SequenceLens, second, hp, t.YC);
        }
    }

    /// <summary>proj[(t·batch + b)·n + col] = bias[col] + X[t, b]·W[col]ᵀ for every time step, in either layout.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Project<TS, TVec>(RnnPackedWeights l, ReadOnlySpan<float> x, ReadOnlySpan<float> wts, Span<float> proj)
        where TS : IRnnSimd<TVec> where TVec : unmanaged
    {
        var g = l.Geometry;
        int n = g.Gates * l.Hp, input = g.InputSize;
        var w = wts[l.W..];
        var bias = wts.Slice(l.Bias, n);
        if (g.SeqLength == 0 || g.Batch == 0) return;
        if (!g.BatchMajor)
        {
            F32RnnGemm.Run<TS, TVec>(g.SeqLength * g.Batch, input, n, x, input, w, bias, 0, proj, n);
            return;
        }
        // batch-major X: entry b's time steps are consecutive rows; its projection rows are batch rows apart
        for (int b = 0; b < g.Batch; b++)
            F32RnnGemm.Run<TS, TVec>(g.SeqLength, input, n, x[(b * g.SeqLength * input)..], input, w, bias, 0, proj[(b * n)..], g.Batch * n);
    }

    private static void LoadState(RnnGeometry g, int d, ReadOnlySpan<float> initial, Span<float> state, int hp)
    {
        // padding lanes must be zero (and finite) so padded units stay exactly zero
        state.Clear();
        if (initial.IsEmpty) return;
        int h = g.HiddenSize;
        for (int b = 0; b < g.Batch; b++) initial.Slice(g.StateOffset(d, b), h).CopyTo(state.Slice(b * hp, h));
    }

    /// <summary>As <see cref="F32RnnCommon.StoreState"/>, from a state with rows Hp apart.</summary>
    private static void StoreState(RnnGeometry g, int d, ReadOnlySpan<int> lens, ReadOnlySpan<float> state, int hp, Span<float> output)
    {
        if (output.IsEmpty) return;
        int h = g.HiddenSize;
        for (int b = 0; b < g.Batch; b++)
        {
            var dst = output.Slice(g.StateOffset(d, b), h);
            if (F32RnnCommon.Length(g, lens, b) == 0) dst.Clear();
            else state.Slice(b * hp, h).CopyTo(dst);
        }
    }

    /// <summary>One direction's per-time-step work for entries [b0, b0 + count), all at the same time step.</summary>
    private readonly struct Step(RnnPackedWeights l, float clip, int direction, bool inputForget)
    {
        private readonly bool _clip = float.IsFinite(clip);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private TVec Clip<TS, TVec>(TVec v) where TS : IRnnSimd<TVec> where TVec : unmanaged =>
            _clip ? TS.Max(TS.Min(v, TS.Splat(clip)), TS.Splat(-clip)) : v;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run<TS, TVec>(int time, int b0, int count, ReadOnlySpan<float> wts, Span<float> proj, Span<float> h, Span<float> second, Span<float> hNext, Span<float> y, bool backward)
            where TS : IRnnSimd<TVec> where TVec : unmanaged
        {
            var g = l.Geometry;
            int hp = l.Hp, n = g.Gates * hp, hidden = g.HiddenSize;
            var rows = proj.Slice((time * g.Batch + b0) * n, count * n);
            var hs = h.Slice(b0 * hp, count * hp);
            switch (g.Gates)
            {
                case 4:
                    for (int b = 0; b < count; b++)
                        Lstm<TS, TVec>(rows.Slice(b * n, n), hs.Slice(b * hp, hp), second.Slice((b0 + b) * hp, hp), hNext, wts, backward);
                    break;
                case 3:
                    Gru<TS, TVec>(count, rows, hs, second.Slice(b0 * hp, count * hp), wts);
                    break;
                default:
                    F32RnnGemm.Run<TS, TVec>(count, hidden, n, hs, hp, wts[l.R..], rows, n, rows, n);
                    for (int b = 0; b < count; b++) RnnCell<TS, TVec>(rows.Slice(b * n, n), hs.Slice(b * hp, hp));
                    break;
            }
            if (y.IsEmpty) return;
            for (int b = 0; b < count; b++)
                hs.Slice(b * hp, hidden).CopyTo(y.Slice(g.YOffset(time, direction, b0 + b), hidden));
        }

        /// <summary>
        /// One entry's LSTM step. W, R and the bias are in unit-block order, so panel u of R is the 4 gates (i, o, f, c) of
        /// units [u·lanes, (u+1)·lanes): its dot products with Hₜ₋₁ land in registers and the cell math runs on them at
        /// once, overlapping the next panel's loads. gates is the entry's projection row; H and C (Hp long) are updated,
        /// H through <paramref name="hNext"/> since every panel still reads Hₜ₋₁. Alternate steps walk the panels
        /// <paramref name="backward"/>: R is usually larger than L1, and a step that starts where the last one ended finds
        /// that end still cached instead of evicting every line just before it is needed again.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Lstm<TS, TVec>(Span<float> gates, Span<float> h, Span<float> c, Span<float> hNext, ReadOnlySpan<float> wts, bool backward)
            where TS : IRnnSimd<TVec> where TVec : unmanaged
        {
            int hp = l.Hp, lanes = TS.Lanes, k = l.Geometry.HiddenSize, panel = F32RnnGemm.PanelVectors * lanes;
            var r = wts.Slice(l.R, 4 * hp * k);
            ref float rr = ref MemoryMarshal.GetReference(r);
            ref float gr = ref MemoryMarshal.GetReference(gates[..(4 * hp)]);
            ref float hr = ref MemoryMarshal.GetReference(h[..hp]);
            ref float cr = ref MemoryMarshal.GetReference(c[..hp]);
            ref float nr = ref MemoryMarshal.GetReference(hNext[..hp]);
            bool peep = l.Peepholes;
            var p = peep ? wts.Slice(l.P, 3 * hp) : wts.Slice(l.Bias, 3 * hp); // any in-range span when unused
            ref float pi = ref MemoryMarshal.GetReference(p);
            ref float po = ref Unsafe.Add(ref pi, hp);
            ref float pf = ref Unsafe.Add(ref pi, 2 * hp);
            var one = TS.Splat(1f);
            int blocks = hp / lanes;
            for (int step = 0; step < blocks; step++)
            {
                int u = backward ? blocks - 1 - step : step, j = u * lanes;
                F32RnnGemm.Dot4<TS, TVec>(k, ref hr, ref Unsafe.Add(ref rr, u * panel * k), ref Unsafe.Add(ref gr, u * panel),
                    out var i, out var o, out var f, out var cc);
                var cPrev = TS.Load(ref Unsafe.Add(ref cr, j));
                if (peep)
                {
                    i = TS.MulAdd(TS.Load(ref Unsafe.Add(ref pi, j)), cPrev, i);
                    f = TS.MulAdd(TS.Load(ref Unsafe.Add(ref pf, j)), cPrev, f);
                }
                i = TS.Sigmoid(Clip<TS, TVec>(i));
                f = inputForget ? TS.Sub(one, i) : TS.Sigmoid(Clip<TS, TVec>(f));
                var cand = TS.Tanh(Clip<TS, TVec>(cc));
                var cNew = TS.MulAdd(f, cPrev, TS.Mul(i, cand));
                TS.Store(cNew, ref Unsafe.Add(ref cr, j));
                if (peep) o = TS.MulAdd(TS.Load(ref Unsafe.Add(ref po, j)), cNew, o);
                o = TS.Sigmoid(Clip<TS, TVec>(o));
                TS.Store(TS.Mul(o, TS.Tanh(cNew)), ref Unsafe.Add(ref nr, j));
            }
            hNext[..hp].CopyTo(h);
        }

        /// <summary>pre = Xₜ·Wᵀ + Hₜ₋₁·Rᵀ + biases (Hp long); H = tanh(pre) in place.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void RnnCell<TS, TVec>(Span<float> pre, Span<float> h)
            where TS : IRnnSimd<TVec> where TVec : unmanaged
        {
            ref float pr = ref MemoryMarshal.GetReference(pre);
            ref float hr = ref MemoryMarshal.GetReference(h);
            for (int j = 0; j < l.Hp; j += TS.Lanes)
                TS.Store(TS.Tanh(Clip<TS, TVec>(TS.Load(ref Unsafe.Add(ref pr, j)))), ref Unsafe.Add(ref hr, j));
        }

        /// <summary>
        /// rows = [z | r | h] projections of <paramref name="count"/> entries, h their states, aux one Hp row per entry:
        /// Hₜ₋₁·R_hᵀ + Rb_h with linear_before_reset, else rₜ∘Hₜ₋₁ (whose product with R_hᵀ goes into the h gate row).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Gru<TS, TVec>(int count, Span<float> rows, Span<float> h, Span<float> aux, ReadOnlySpan<float> wts)
            where TS : IRnnSimd<TVec> where TVec : unmanaged
        {
            int hp = l.Hp, n = 3 * hp, hidden = l.Geometry.HiddenSize, lanes = TS.Lanes;
            F32RnnGemm.Run<TS, TVec>(count, hidden, 2 * hp, h, hp, wts[l.R..], rows, n, rows, n);
            bool lbr = l.LinearBeforeReset;
            if (lbr) F32RnnGemm.Run<TS, TVec>(count, hidden, hp, h, hp, wts[l.RHidden..], wts.Slice(l.RecurrentHiddenBias, hp), 0, aux, hp);
            for (int b = 0; b < count; b++)
            {
                ref float gz = ref MemoryMarshal.GetReference(rows.Slice(b * n, n));
                ref float gr = ref Unsafe.Add(ref gz, hp);
                ref float gh = ref Unsafe.Add(ref gz, 2 * hp);
                ref float hr = ref MemoryMarshal.GetReference(h.Slice(b * hp, hp));
                ref float ar = ref MemoryMarshal.GetReference(aux.Slice(b * hp, hp));
                for (int j = 0; j < hp; j += lanes)
                {
                    var z = TS.Sigmoid(Clip<TS, TVec>(TS.Load(ref Unsafe.Add(ref gz, j))));
                    var r = TS.Sigmoid(Clip<TS, TVec>(TS.Load(ref Unsafe.Add(ref gr, j))));
                    var hPrev = TS.Load(ref Unsafe.Add(ref hr, j));
                    if (lbr)
                    {
                        var pre = TS.MulAdd(r, TS.Load(ref Unsafe.Add(ref ar, j)), TS.Load(ref Unsafe.Add(ref gh, j)));
                        var cand = TS.Tanh(Clip<TS, TVec>(pre));
                        TS.Store(TS.MulAdd(z, TS.Sub(hPrev, cand), cand), ref Unsafe.Add(ref hr, j));
                    }
                    else
                    {
                        // keep zₜ for after the h gate's product, which needs every rₜ∘Hₜ₋₁ first
                        TS.Store(z, ref Unsafe.Add(ref gz, j));
                        TS.Store(TS.Mul(r, hPrev), ref Unsafe.Add(ref ar, j));
                    }
                }
            }
            if (lbr) return;
            F32RnnGemm.Run<TS, TVec>(count, hidden, hp, aux, hp, wts[l.RHidden..], rows[(2 * hp)..], n, rows[(2 * hp)..], n);
            for (int b = 0; b < count; b++)
            {
                ref float gz = ref MemoryMarshal.GetReference(rows.Slice(b * n, n));
                ref float gh = ref Unsafe.Add(ref gz, 2 * hp);
                ref float hr = ref MemoryMarshal.GetReference(h.Slice(b * hp, hp));
                for (int j = 0; j < hp; j += lanes)
                {
                    var cand = TS.Tanh(Clip<TS, TVec>(TS.Load(ref Unsafe.Add(ref gh, j))));
                    var hPrev = TS.Load(ref Unsafe.Add(ref hr, j));
                    TS.Store(TS.MulAdd(TS.Load(ref Unsafe.Add(ref gz, j)), TS.Sub(hPrev, cand), cand), ref Unsafe.Add(ref hr, j));
                }
            }
        }
    }
}
