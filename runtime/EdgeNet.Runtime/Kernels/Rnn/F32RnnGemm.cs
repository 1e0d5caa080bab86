using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EdgeNet.Kernels.Rnn;

/// <summary>
/// The small packed-weight GEMM of the fast recurrent kernels: C = Init + A·Mᵀ where M is a gate-stacked weight matrix
/// (W [gates·hidden, input] or R [gates·hidden, hidden]) packed once by <see cref="Pack"/>. Used for the input projection
/// of all time steps (m = seq·batch) and for the recurrent step (m = batch or 1). Self-contained on purpose: the one
/// entry <see cref="Run{TS,TVec}"/> can later be switched to the general GEMM of Kernels/Gemm.
/// <para>
/// Each gate is padded to Hp = hidden rounded up to the lane count (zero weights for units j ≥ hidden), so every gate of
/// a vector of units sits at a fixed vector offset of the output row (see <see cref="Column"/>) and the gate math needs
/// no tail. The packed matrix is a sequence of panels of up to
/// <see cref="PanelVectors"/> vectors of columns, each stored [k][panel width] so the microkernel streams it linearly.
/// </para>
/// </summary>
internal static class F32RnnGemm
{
    public const int PanelVectors = 4;

    public static int PaddedHidden(int hidden, int lanes) => (hidden + lanes - 1) / lanes * lanes;

    public static int PackedFloats(int gates, int hidden, int k, int lanes) => gates * PaddedHidden(hidden, lanes) * k;

    /// <summary>
    /// Output column of gate g, unit j. Gate-major: g·Hp + j. Unit blocks (LSTM, whose 4 gates fill exactly one
    /// panel): block j/lanes holds the lanes-wide vectors of every gate in turn, so one panel is all gates of a vector of
    /// units and the cell math can run right after that panel's dot products.
    /// </summary>
    public static int Column(int g, int j, int gates, int hp, int lanes, bool unitBlocks) =>
        unitBlocks ? (j / lanes * gates + g) * lanes + j % lanes : g * hp + j;

    /// <summary>Packs rows [firstRow, firstRow + gates·hidden) of the row-major [*, k] matrix m.</summary>
    public static void Pack(ReadOnlySpan<float> m, int firstRow, int gates, int hidden, int k, int lanes, bool unitBlocks, Span<float> packed)
    {
        int hp = PaddedHidden(hidden, lanes), n = gates * hp, panel = PanelVectors * lanes;
        packed[..(n * k)].Clear();
        for (int g = 0; g < gates; g++)
            for (int j = 0; j < hidden; j++)
            {
                int col = Column(g, j, gates, hp, lanes, unitBlocks);
                int p0 = col / panel * panel, w = Math.Min(panel, n - p0);
                // every earlier panel is full, so this one starts at p0·k
                var dst = packed.Slice(p0 * k, w * k);
                var src = m.Slice((firstRow + g * hidden + j) * k, k);
                for (int kk = 0; kk < k; kk++) dst[kk * w + col - p0] = src[kk];
            }
    }

    /// <summary>
    /// c[i·cStride + col] = init[i·initStride + col] + Σₖ a[i·aStride + k]·M[col, k] for i &lt; m, col &lt; n (n = gates·Hp,
    /// a multiple of the lane count). init may be c itself (accumulate, initStride = cStride) or one bias row (initStride 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TS, TVec>(int m, int k, int n, ReadOnlySpan<float> a, int aStride, ReadOnlySpan<float> packed,
        ReadOnlySpan<float> init, int initStride, Span<float> c, int cStride)
        where TS : IRnnSimd<TVec> where TVec : unmanaged
    {
        if (m <= 0 || n <= 0) return;
        // one check up front instead of per element: the loops below run on unchecked refs
        if (n % TS.Lanes != 0 || packed.Length < n * k || a.Length < (m - 1) * aStride + k
            || c.Length < (m - 1) * cStride + n || init.Length < (m - 1) * initStride + n)
            throw new ArgumentException("recurrent GEMM operands are smaller than their shape");
        ref float a0 = ref MemoryMarshal.GetReference(a);
        ref float b0 = ref MemoryMarshal.GetReference(packed);
        ref float i0 = ref MemoryMarshal.GetReference(init);
        ref float c0 = ref MemoryMarshal.GetReference(c);
        int lanes = TS.Lanes, panel = PanelVectors * lanes;
        for (int p0 = 0; p0 < n; p0 += panel)
        {
            int w = Math.Min(panel, n - p0);
            ref float bp = ref Unsafe.Add(ref b0, p0 * k);
            if (w == panel)
            {
                int i = 0;
                for (; i + 2 <= m; i += 2)
                    Tile2x4<TS, TVec>(k, ref Unsafe.Add(ref a0, i * aStride), aStride, ref bp,
                        ref Unsafe.Add(ref i0, i * initStride + p0), initStride, ref Unsafe.Add(ref c0, i * cStride + p0), cStride);
                if (i < m)
                    Tile1x4<TS, TVec>(k, ref Unsafe.Add(ref a0, i * aStride), ref bp,
                        ref Unsafe.Add(ref i0, i * initStride + p0), ref Unsafe.Add(ref c0, i * cStride + p0));
            }
            else
            {
                for (int i = 0; i < m; i++)
                    for (int v = 0; v < w; v += lanes)
                        Tile1x1<TS, TVec>(k, w, ref Unsafe.Add(ref a0, i * aStride), ref Unsafe.Add(ref bp, v),
                            ref Unsafe.Add(ref i0, i * initStride + p0 + v), ref Unsafe.Add(ref c0, i * cStride + p0 + v));
            }
        }
    }

    /// <summary>Two rows × one full panel: 8 independent FMA chains, each panel vector loaded once for both rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile2x4<TS, TVec>(int k, ref float a, int aStride, ref float b, ref float init, int initStride, ref float c, int cStride)
        where TS : IRnnSimd<TVec> where TVec : unmanaged
    {
        int l = TS.Lanes, w = PanelVectors * l;
        ref float init1 = ref Unsafe.Add(ref init, initStride);
        var x0 = TS.Load(ref init);
        var x1 = TS.Load(ref Unsafe.Add(ref init, l));
        var x2 = TS.Load(ref Unsafe.Add(ref init, 2 * l));
        var x3 = TS.Load(ref Unsafe.Add(ref init, 3 * l));
        var y0 = TS.Load(ref init1);
        var y1 = TS.Load(ref Unsafe.Add(ref init1, l));
        var y2 = TS.Load(ref Unsafe.Add(ref init1, 2 * l));
        var y3 = TS.Load(ref Unsafe.Add(ref init1, 3 * l));
        ref float a1 = ref Unsafe.Add(ref a, aStride);
        for (int kk = 0; kk < k; kk++)
        {
            var w0 = TS.Load(ref b);
            var w1 = TS.Load(ref Unsafe.Add(ref b, l));
            var w2 = TS.Load(ref Unsafe.Add(ref b, 2 * l));
            var w3 = TS.Load(ref Unsafe.Add(ref b, 3 * l));
            var s0 = TS.Splat(Unsafe.Add(ref a, kk));
            var s1 = TS.Splat(Unsafe.Add(ref a1, kk));
            x0 = TS.MulAdd(s0, w0, x0);
            x1 = TS.MulAdd(s0, w1, x1);
            x2 = TS.MulAdd(s0, w2, x2);
            x3 = TS.MulAdd(s0, w3, x3);
            y0 = TS.MulAdd(s1, w0, y0);
            y1 = TS.MulAdd(s1, w1, y1);
            y2 = TS.MulAdd(s1, w2, y2);
            y3 = TS.MulAdd(s1, w3, y3);
            b = ref Unsafe.Add(ref b, w);
        }
        ref float c1 = ref Unsafe.Add(ref c, cStride);
        TS.Store(x0, ref c);
        TS.Store(x1, ref Unsafe.Add(ref c, l));
        TS.Store(x2, ref Unsafe.Add(ref c, 2 * l));
        TS.Store(x3, ref Unsafe.Add(ref c, 3 * l));
        TS.Store(y0, ref c1);
        TS.Store(y1, ref Unsafe.Add(ref c1, l));
        TS.Store(y2, ref Unsafe.Add(ref c1, 2 * l));
        TS.Store(y3, ref Unsafe.Add(ref c1, 3 * l));
    }

    /// <summary>One row × one full panel (the recurrent step of a single sequence).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile1x4<TS, TVec>(int k, ref float a, ref float b, ref float init, ref float c)
        where TS : IRnnSimd<TVec> where TVec : unmanaged
    {
        int l = TS.Lanes;
        Dot4<TS, TVec>(k, ref a, ref b, ref init, out var x0, out var x1, out var x2, out var x3);
        TS.Store(x0, ref c);
        TS.Store(x1, ref Unsafe.Add(ref c, l));
        TS.Store(x2, ref Unsafe.Add(ref c, 2 * l));
        TS.Store(x3, ref Unsafe.Add(ref c, 3 * l));
    }

    /// <summary>
    /// init[v] + Σₖ a[k]·panel[k, v] for the 4 vectors v of one full panel: even and odd k go to separate accumulators
    /// so 8 FMA chains are in flight instead of 4, which would leave the FMA units waiting on latency.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Dot4<TS, TVec>(int k, ref float a, ref float b, ref float init, out TVec r0, out TVec r1, out TVec r2, out TVec r3)
        where TS : IRnnSimd<TVec> where TVec : unmanaged
    {
        int l = TS.Lanes, w = PanelVectors * l;
        var x0 = TS.Load(ref init);
        var x1 = TS.Load(ref Unsafe.Add(ref init, l));
        var x2 = TS.Load(ref Unsafe.Add(ref init, 2 * l));
        var x3 = TS.Load(ref Unsafe.Add(ref init, 3 * l));
        var zero = TS.Splat(0f);
        TVec y0 = zero, y1 = zero, y2 = zero, y3 = zero;
        int kk = 0;
        for (; kk + 2 <= k; kk += 2)
        {
            var s0 = TS.Splat(Unsafe.Add(ref a, kk));
            var s1 = TS.Splat(Unsafe.Add(ref a, kk + 1));
            ref float bn = ref Unsafe.Add(ref b, w);
            x0 = TS.MulAdd(s0, TS.Load(ref b), x0);
            x1 = TS.MulAdd(s0, TS.Load(ref Unsafe.Add(ref b, l)), x1);
            x2 = TS.MulAdd(s0, TS.Load(ref Unsafe.Add(ref b, 2 * l)), x2);
            x3 = TS.MulAdd(s0, TS.Load(ref Unsafe.Add(ref b, 3 * l)), x3);
            y0 = TS.MulAdd(s1, TS.Load(ref bn), y0);
            y1 = TS.MulAdd(s1, TS.Load(ref Unsafe.Add(ref bn, l)), y1);
            y2 = TS.MulAdd(s1, TS.Load(ref Unsafe.Add(ref bn, 2 * l)), y2);
            y3 = TS.MulAdd(s1, TS.Load(ref Unsafe.Add(ref bn, 3 * l)), y3);
            b = ref Unsafe.Add(ref b, 2 * w);
        }
        if (kk < k)
        {
            var s0 = TS.Splat(Unsafe.Add(ref a, kk));
            x0 = TS.MulAdd(s0, TS.Load(ref b), x0);
            x1 = TS.MulAdd(s0, TS.Load(ref Unsafe.Add(ref b, l)), x1);
            x2 = TS.MulAdd(s0, TS.Load(ref Unsafe.Add(ref b, 2 * l)), x2);
            x3 = TS.MulAdd(s0, TS.Load(ref Unsafe.Add(ref b, 3 * l)), x3);
        }
        r0 = TS.Add(x0, y0);
        r1 = TS.Add(x1, y1);
        r2 = TS.Add(x2, y2);
        r3 = TS.Add(x3, y3);
    }

    /// <summary>One row × one vector of a narrower last panel (width w floats).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile1x1<TS, TVec>(int k, int w, ref float a, ref float b, ref float init, ref float c)
        where TS : IRnnSimd<TVec> where TVec : unmanaged
    {
        var x = TS.Load(ref init);
        var y = TS.Splat(0f);
        int kk = 0;
        for (; kk + 2 <= k; kk += 2)
        {
            x = TS.MulAdd(TS.Splat(Unsafe.Add(ref a, kk)), TS.Load(ref b), x);
            y = TS.MulAdd(TS.Splat(Unsafe.Add(ref a, kk + 1)), TS.Load(ref Unsafe.Add(ref b, w)), y);
            b = ref Unsafe.Add(ref b, 2 * w);
        }
        if (kk < k) x = TS.MulAdd(TS.Splat(Unsafe.Add(ref a, kk)), TS.Load(ref b), x);
        TS.Store(TS.Add(x, y), ref c);
    }
}
