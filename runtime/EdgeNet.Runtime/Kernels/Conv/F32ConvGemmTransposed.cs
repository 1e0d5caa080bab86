using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Execution;
using EdgeNet.Execution.Threading;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Gemm;
using ExecutionContext = EdgeNet.Execution.ExecutionContext;

namespace EdgeNet.Kernels.Conv;

/// <summary>
/// A pointwise (1×1, stride 1, unpadded, one group) conv on a small plane as the transposed GEMM with the positions
/// broadcast straight from the NCHW input: Yᵀ[N × M] = Xᵀ[N × K] · Wᵀ[K × M]. A tile is up to MR positions × 2 vectors
/// of filters: per K step two vector loads of the packed weights and one broadcast per position from x[k·N + p]
/// (no packing of the input at all). In the NCHW orientation (<see cref="F32ConvGemm"/>) the positions are the vector
/// lanes, and 49 positions (a 7×7 plane) in 32-wide AVX-512 tiles keep only 49 of 64 lanes busy; here every lane is a
/// filter and a short last tile has only its own rows. Bias and activation are applied to the accumulators; the tile
/// is then stored transposed into the NCHW output while in L1 (8×8 register transposes for full AVX tiles).
/// Loops: (image, filter panel) items, claimed dynamically by up to <see cref="Threads"/> parts → position tiles, so
/// a K × 2-vector weight panel is read once per image from memory and reused by every tile from cache; on several
/// threads, panels that do not divide evenly among them are split into groups of position tiles as well.
/// </summary>
public abstract unsafe class F32ConvGemmTransposed
{
    /// <summary>Deepest K taken (the weight panel of K × 2 vectors then stays within L2).</summary>
    public const int MaxDepth = 2048;

    /// <summary>The kernel for <paramref name="isa"/>, or null for the scalar path and shapes it does not take.</summary>
    /// <param name="m">filters (output channels)</param>
    /// <param name="n">positions of one output plane (= input plane)</param>
    /// <param name="k">input channels</param>
    public static F32ConvGemmTransposed? Create(Isa isa, int batch, int m, int n, int k, ReadOnlySpan<float> weights,
        FusedActivation activation, int threads)
    {
        if (k <= 0 || k > MaxDepth || m <= 0 || n <= 0 || batch <= 0) return null;
        return isa switch
        {
            Isa.Avx512 => new F32ConvGemmTransposed<F32Avx512, Vector512<float>>(8, batch, m, n, k, weights, activation, threads),
            Isa.Avx2 => new F32ConvGemmTransposed<F32Avx2, Vector256<float>>(6, batch, m, n, k, weights, activation, threads),
            Isa.Neon => new F32ConvGemmTransposed<F32Neon, Vector128<float>>(8, batch, m, n, k, weights, activation, threads),
            _ => null,
        };
    }

    /// <summary>Positions per tile (the broadcast rows).</summary>
    public int MR { get; protected init; }

    /// <summary>Filters per tile (two vectors).</summary>
    public int NR { get; protected init; }

    /// <summary>Threads a run uses (1 below about a million multiply-adds).</summary>
    public int Threads { get; protected init; }

    /// <summary>Y = act(W·X + bias) for every image; x: batch × K × N, y: batch × M × N; bias: M floats or null.</summary>
    public abstract void Run(ExecutionContext ctx, float* x, float* y, float* bias);

    /// <summary>Single-threaded run without an execution context (benchmarks, tests).</summary>
    public abstract void Run(float* x, float* y, float* bias);
}

/// <summary><see cref="F32ConvGemmTransposed"/> at one vector width.</summary>
internal sealed unsafe class F32ConvGemmTransposed<TS, TV> : F32ConvGemmTransposed, IParallelWork where TS : IF32Simd<TV> where TV : struct
{
    private const long MinParallelMacs = 1 << 20;

    private readonly int _m, _n, _k, _panels, _items, _splits, _tiles;
    private readonly float[] _packedWeights;
    private readonly FusedActivation _activation;

    // per run
    private float* _x, _y, _bias, _w;
    private int _next;

    public F32ConvGemmTransposed(int mr, int batch, int m, int n, int k, ReadOnlySpan<float> weights, FusedActivation activation, int threads)
    {
        if (weights.Length < (long)m * k) throw new ArgumentException("weights are shorter than M × K");
        (MR, NR, _m, _n, _k, _activation) = (mr, 2 * TS.Count, m, n, k, activation);
        // the filters are the GEMM's columns: Wᵀ (K × M) packed into panels of NR filters, K rows of NR floats each
        _packedWeights = GC.AllocateArray<float>(F32GemmPacking.PackedBSize(k, m, NR), pinned: true);
        fixed (float* src = weights)
        fixed (float* dst = _packedWeights)
            F32GemmPacking.PackB(src, k, m, k, transposed: true, NR, dst);
        _panels = (m + NR - 1) / NR;
        _tiles = (n + mr - 1) / mr;
        long macs = (long)batch * m * n * k;
        int parts = macs < MinParallelMacs ? 1 : Math.Max(1, threads);
        // a few filter panels that do not divide among the threads (MobileNetV2's 96- and 160-filter projections: 3
        // and 5 panels) leave one thread idle for a panel's time: the panels' position tiles are then split too, into
        // the fewest groups that make the items a multiple of the threads or at least four per thread
        _splits = 1;
        while (parts > 1 && _splits < Math.Min(4, _tiles) && batch * _panels * _splits % parts != 0 && batch * _panels * _splits < 4 * parts) _splits++;
        _items = batch * _panels * _splits;
        Threads = Math.Max(1, Math.Min(parts, _items));
    }

    public override void Run(ExecutionContext ctx, float* x, float* y, float* bias)
    {
        fixed (float* w = _packedWeights)
        {
            Bind(x, y, bias, w);
            ctx.Parallel(this, Threads, Threads);
        }
    }

    public override void Run(float* x, float* y, float* bias)
    {
        fixed (float* w = _packedWeights)
        {
            Bind(x, y, bias, w);
            for (int part = 0; part < Threads; part++) Execute(part);
        }
    }

    private void Bind(float* x, float* y, float* bias, float* w)
    {
        _x = x;
        _y = y;
        _bias = bias;
        _w = w;
        _next = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int part)
    {
        int nr = NR, n = _n, k = _k;
        float* temp = stackalloc float[8 * 32];
        float* panelBias = stackalloc float[32];
        int item;
        while ((item = System.Threading.Interlocked.Increment(ref _next) - 1) < _items)
        {
            int split = item % _splits, image = item / _splits / _panels, panel = item / _splits % _panels, f0 = panel * nr, cols = Math.Min(nr, _m - f0);
            int pBegin = split * _tiles / _splits * MR, pEnd = Math.Min(n, (split + 1) * _tiles / _splits * MR);
            float* x = _x + (nint)image * k * n;
            float* y = _y + ((nint)image * _m + f0) * n;
            float* w = _w + (nint)panel * k * nr;
            float* bias = null;
            if (_bias is not null)
            {
                int j = 0;
                for (; j < cols; j++) panelBias[j] = _bias[f0 + j];
                for (; j < nr; j++) panelBias[j] = 0;
                bias = panelBias;
            }
            // the weights are streamed from memory once per run: the first tile of a panel prefetches the next panel
            // at the pace it reads its own (one K row per K step), so no first tile waits on memory at every K step
            // (inside MobileNetV2, 7×7 and 14×14 layers: 1.0–1.2 → 0.96–1.06 × ORT's time; a burst of prefetches at
            // the start of each tile: 1.0–1.19). Against SmallOutputConvKernel inside the model (minima of three
            // runs each): 7×7 expands 160→960 98–108 → 90–97 µs, projections 960→160 91–100 → 88–92 µs, 320→1280 ±2%.
            float* next = panel + 1 < _panels && split == 0 ? w + (nint)k * nr : null;
            for (int p0 = pBegin; p0 < pEnd; p0 += MR)
            {
                int rows = Math.Min(MR, n - p0);
                F32TransposedTile<TS, TV>.Run(rows, k, x + p0, n, w, temp, bias, _activation, p0 == pBegin ? next : null);
                F32GemmEpilogue.TransposeTile(temp, nr, rows, cols, y + p0, n);
            }
        }
    }
}

/// <summary>
/// One tile of the transposed pointwise conv: c[r·NR + ·] = act(Σ_p x[p·ldx + r] · w[p·NR + ·] + bias[·]) for
/// r &lt; rows, NR = 2 vectors. The sums are zero-started fused multiply-adds in p order, as in the GEMM microkernels.
/// A non-null <c>prefetch</c> (the next weight panel) is touched one K row per K step (x86).
/// </summary>
internal static unsafe class F32TransposedTile<TS, TV> where TS : IF32Simd<TV> where TV : struct
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(int rows, int k, float* x, nint ldx, float* w, float* c, float* bias, FusedActivation act, float* prefetch = null)
    {
        var (lo, hi) = ClipActivation.Bounds<TS, TV>(act);
        switch (act.Kind)
        {
            case ActivationKind.None: Rows<NoActivation>(rows, k, x, ldx, w, c, bias, lo, hi, act, prefetch); break;
            case ActivationKind.Relu or ActivationKind.Clip: Rows<ClipActivation>(rows, k, x, ldx, w, c, bias, lo, hi, act, prefetch); break;
            default: Rows<AnyActivation>(rows, k, x, ldx, w, c, bias, lo, hi, act, prefetch); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows<TA>(int rows, int k, float* x, nint ldx, float* w, float* c, float* bias, TV lo, TV hi, FusedActivation act, float* prefetch)
        where TA : IRegisterActivation
    {
        switch (rows)
        {
            case 1: Tile<Rows1, TA>(k, x, ldx, w, c, bias, lo, hi, act, prefetch); break;
            case 2: Tile<Rows2, TA>(k, x, ldx, w, c, bias, lo, hi, act, prefetch); break;
            case 3: Tile<Rows3, TA>(k, x, ldx, w, c, bias, lo, hi, act, prefetch); break;
            case 4: Tile<Rows4, TA>(k, x, ldx, w, c, bias, lo, hi, act, prefetch); break;
            case 5: Tile<Rows5, TA>(k, x, ldx, w, c, bias, lo, hi, act, prefetch); break;
            case 6: Tile<Rows6, TA>(k, x, ldx, w, c, bias, lo, hi, act, prefetch); break;
            case 7: Tile<Rows7, TA>(k, x, ldx, w, c, bias, lo, hi, act, prefetch); break;
            case 8: Tile<Rows8, TA>(k, x, ldx, w, c, bias, lo, hi, act, prefetch); break;
            default: throw new ArgumentOutOfRangeException(nameof(rows));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TRows, TA>(int k, float* x, nint ldx, float* w, float* c, float* bias, TV lo, TV hi, FusedActivation act, float* prefetch)
        where TRows : IRows where TA : IRegisterActivation
    {
        int rows = TRows.Value, v = TS.Count, nr = 2 * v;
        TV zero = TS.Splat(0);
        TV c00 = zero, c01 = zero, c10 = zero, c11 = zero, c20 = zero, c21 = zero, c30 = zero, c31 = zero;
        TV c40 = zero, c41 = zero, c50 = zero, c51 = zero, c60 = zero, c61 = zero, c70 = zero, c71 = zero;
        for (int p = 0; p < k; p++, x += ldx, w += nr)
        {
            if (Sse.IsSupported && prefetch is not null)
            {
                Sse.Prefetch1(prefetch);
                if (nr > 16) Sse.Prefetch1(prefetch + 16);
                prefetch += nr;
            }
            TV b0 = TS.Load(ref Unsafe.AsRef<float>(w), 0), b1 = TS.Load(ref Unsafe.AsRef<float>(w), v);
            { TV s = TS.Splat(x[0]); c00 = TS.MultiplyAdd(b0, s, c00); c01 = TS.MultiplyAdd(b1, s, c01); }
            if (rows > 1) { TV s = TS.Splat(x[1]); c10 = TS.MultiplyAdd(b0, s, c10); c11 = TS.MultiplyAdd(b1, s, c11); }
            if (rows > 2) { TV s = TS.Splat(x[2]); c20 = TS.MultiplyAdd(b0, s, c20); c21 = TS.MultiplyAdd(b1, s, c21); }
            if (rows > 3) { TV s = TS.Splat(x[3]); c30 = TS.MultiplyAdd(b0, s, c30); c31 = TS.MultiplyAdd(b1, s, c31); }
            if (rows > 4) { TV s = TS.Splat(x[4]); c40 = TS.MultiplyAdd(b0, s, c40); c41 = TS.MultiplyAdd(b1, s, c41); }
            if (rows > 5) { TV s = TS.Splat(x[5]); c50 = TS.MultiplyAdd(b0, s, c50); c51 = TS.MultiplyAdd(b1, s, c51); }
            if (rows > 6) { TV s = TS.Splat(x[6]); c60 = TS.MultiplyAdd(b0, s, c60); c61 = TS.MultiplyAdd(b1, s, c61); }
            if (rows > 7) { TV s = TS.Splat(x[7]); c70 = TS.MultiplyAdd(b0, s, c70); c71 = TS.MultiplyAdd(b1, s, c71); }
        }
        TV bias0 = zero, bias1 = zero;
        if (bias is not null)
        {
            bias0 = TS.Load(ref Unsafe.AsRef<float>(bias), 0);
            bias1 = TS.Load(ref Unsafe.AsRef<float>(bias), v);
        }
        bool hasBias = bias is not null;
        Finish<TA>(c00, c01, hasBias, bias0, bias1, c, lo, hi, act);
        if (rows > 1) Finish<TA>(c10, c11, hasBias, bias0, bias1, c + nr, lo, hi, act);
        if (rows > 2) Finish<TA>(c20, c21, hasBias, bias0, bias1, c + 2 * nr, lo, hi, act);
        if (rows > 3) Finish<TA>(c30, c31, hasBias, bias0, bias1, c + 3 * nr, lo, hi, act);
        if (rows > 4) Finish<TA>(c40, c41, hasBias, bias0, bias1, c + 4 * nr, lo, hi, act);
        if (rows > 5) Finish<TA>(c50, c51, hasBias, bias0, bias1, c + 5 * nr, lo, hi, act);
        if (rows > 6) Finish<TA>(c60, c61, hasBias, bias0, bias1, c + 6 * nr, lo, hi, act);
        if (rows > 7) Finish<TA>(c70, c71, hasBias, bias0, bias1, c + 7 * nr, lo, hi, act);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish<TA>(TV s0, TV s1, bool hasBias, TV bias0, TV bias1, float* c, TV lo, TV hi, FusedActivation act) where TA : IRegisterActivation
    {
        // no addition without a bias, so −0 stays −0 as in the GEMM epilogue
        if (hasBias)
        {
            s0 = TS.Add(s0, bias0);
            s1 = TS.Add(s1, bias1);
        }
        TS.Store(TA.Apply<TS, TV>(s0, lo, hi, act), ref Unsafe.AsRef<float>(c), 0);
        TS.Store(TA.Apply<TS, TV>(s1, lo, hi, act), ref Unsafe.AsRef<float>(c), TS.Count);
    }
}
