using System.Numerics;
using System.Runtime.CompilerServices;
using ExecutionContext = EdgeNet.Execution.ExecutionContext;
using EdgeNet.Execution;
using EdgeNet.Execution.Threading;
using EdgeNet.Kernels.Activation;

namespace EdgeNet.Kernels.Gemm;

/// <summary>Where the right operand B (K×N) of a <see cref="F32GemmDriver"/> comes from.</summary>
public enum GemmBSource
{
    /// <summary>Already in NR panels (<see cref="F32GemmPacking.PackB"/>): weights packed once, or B packed per run.</summary>
    Packed,
    /// <summary>Row-major K×N with row stride ldb, read in place; only the last, partial panel is copied.</summary>
    RowMajor,
    /// <summary>Produced tile by tile into scratch panels by a <see cref="F32GemmTilePacker"/> (implicit-GEMM im2col).</summary>
    Tiled,
    /// <summary>
    /// Row-major pieces read in place (<see cref="GemmKSegment"/>): K rows [K0, K0+Kc) of B are rows of a matrix at
    /// <c>B + Offset</c> with row stride Ldb (a stride-1 conv's taps as shifted views of its input). Every panel,
    /// the last, partial one is copied (as for <see cref="RowMajor"/>), so only columns below N are read.
    /// </summary>
    Segments,
}

/// <summary>One K block of a <see cref="GemmBSource.Segments"/> B: rows [K0, K0+Kc) at B + Offset, Ldb floats apart.</summary>
public readonly record struct GemmKSegment(int K0, int Kc, nint Offset, nint Ldb);

/// <summary>Writes B rows [k0, k0+kc) × columns [j0, j0+nc) of one batch item as NR panels (kc×NR each, zero padded past N).</summary>
public abstract unsafe class F32GemmTilePacker
{
    public abstract void Pack(float* source, int k0, int kc, int j0, int nc, int nr, float* dst);
}

/// <summary>
/// Blocked, threaded fp32 GEMM over a batch of independent items: C_t[M×N] = A_t·B_t (+ bias) then activation, where
/// A_t is packed (<see cref="F32GemmPacking.PackA"/>; alpha folded in), B_t comes from a <see cref="GemmBSource"/>,
/// and the per-item offsets are fixed at plan time. Loops (BLIS order, with A in panels and B read once per tile):
/// item (batch, row split, column block of NC) → K block of KC (the B block stays in L2) → row block of MC (A block
/// in L2) → B panel of NR (in L1) → A panel of MR: the microkernel. Bias, β·C and the activation are applied to each
/// tile right after its last K block, while it is in L1.
/// Items are claimed dynamically from a shared counter by at most <see cref="Threads"/> parts; part i owns scratch
/// slot i. The driver is the <see cref="IParallelWork"/> itself, so a run allocates nothing.
/// </summary>
public sealed unsafe class F32GemmDriver : IParallelWork
{
    /// <summary>Below about a million multiply-adds (~20 µs on one core) waking a worker costs more than it saves.</summary>
    private const long MinParallelMacs = 1 << 20;

    private readonly F32GemmMicrokernel _uk;
    private readonly int _m, _n, _k, _mr, _nr, _kc, _nc, _mc, _mSplit, _mSplits, _nBlocks, _items;
    private readonly GemmBSource _bSource;
    private readonly F32GemmTilePacker? _packer;
    private readonly int[] _aOffset, _bOffset, _cOffset, _biasOffset;
    private readonly nint _ldb;
    private readonly FusedActivation _activation;
    private readonly int _biasRowStride, _biasColStride;
    private readonly int _width;
    private readonly GemmKSegment[]? _segments;
    private readonly bool _kInner;

    // per run
    private float* _a, _b, _c, _bias, _scratch, _transposed;
    private int[]? _transposedOffset;
    private nint _transposedLd;
    private float _beta;
    private int _next;

    /// <param name="biasRowStride">bias element of row i, column j is bias[i·rowStride + j·colStride] (colStride 0 or 1).</param>
    /// <param name="maxKc">K block limit (0: the microkernel's KC); K is then split into equal blocks. Longer blocks
    /// load and store each C tile less often, which pays when few row tiles share each B panel.</param>
    public F32GemmDriver(F32GemmMicrokernel microkernel, int m, int n, int k, GemmBSource bSource, nint ldb, F32GemmTilePacker? packer,
        int[] aOffset, int[] bOffset, int[] cOffset, int[]? biasOffset, int biasRowStride, int biasColStride, FusedActivation activation, int threads,
        GemmKSegment[]? segments = null, int maxKc = 0)
    {
        if ((bSource == GemmBSource.Segments) != (segments is not null)) throw new ArgumentException("segments go with GemmBSource.Segments");
        _segments = segments;
        // Short segments (a shifted conv's taps) with the whole K of one B panel small enough for L1: each C tile
        // runs every segment while it stays in L1, instead of the whole C (often beyond L1) being loaded and
        // stored once per segment. The same sums in the same order.
        _kInner = segments is { Length: > 1 } && (long)k * microkernel.NR * sizeof(float) <= 16384;
        _uk = microkernel;
        _m = m; _n = n; _k = k;
        _mr = microkernel.MR; _nr = microkernel.NR;
        _bSource = bSource; _ldb = ldb; _packer = packer;
        _aOffset = aOffset; _bOffset = bOffset; _cOffset = cOffset; _biasOffset = biasOffset ?? new int[aOffset.Length];
        _biasRowStride = biasRowStride; _biasColStride = biasColStride;
        _activation = activation;
        _width = microkernel.VectorBits;
        int batches = aOffset.Length;
        // K blocks of at most maxKc (the microkernel's KC by default), split evenly
        int kcMax = maxKc > 0 ? maxKc : microkernel.KC, kBlocks = Math.Max(1, (k + kcMax - 1) / kcMax);
        _kc = segments is null ? (maxKc > 0 ? (k + kBlocks - 1) / kBlocks : Math.Min(k, kcMax)) : Math.Max(1, segments.Max(g => g.Kc));
        // B block KC×NC about 128 KiB (L2); A block MC×KC about 64 KiB.
        int nPanels = (n + _nr - 1) / _nr;
        int ncPanels = Math.Clamp(32768 / Math.Max(1, _kc) / _nr, 1, nPanels);
        // (with longer K blocks the A block grows with them, so a B panel still serves as many row tiles)
        int aBlockFloats = 16384 * Math.Max(1, kcMax / microkernel.KC);
        _mc = Math.Clamp(aBlockFloats / Math.Max(1, _kc) / _mr, 1, (m + _mr - 1) / _mr) * _mr;
        long macs = (long)batches * m * n * k;
        Threads = macs < MinParallelMacs ? 1 : threads;
        _mSplits = 1;
        if (Threads > 1)
        {
            // enough items for every thread to get about two: narrower column blocks first, then row splits
            int want = 2 * Threads;
            if ((long)batches * ((nPanels + ncPanels - 1) / ncPanels) < want)
                ncPanels = Math.Max(1, nPanels / Math.Max(1, (want + batches - 1) / batches));
            int blocks = batches * ((nPanels + ncPanels - 1) / ncPanels);
            if (blocks < want) _mSplits = Math.Clamp((want + blocks - 1) / blocks, 1, (m + _mr - 1) / _mr);
        }
        _nc = ncPanels * _nr;
        _nBlocks = (n + _nc - 1) / _nc;
        int mPanels = (m + _mr - 1) / _mr;
        _mSplit = (mPanels + _mSplits - 1) / _mSplits * _mr;
        _mSplits = (m + _mSplit - 1) / _mSplit;
        _items = batches * _mSplits * _nBlocks;
        Threads = Math.Max(1, Math.Min(Threads, _items));
    }

    /// <summary>Threads a run uses (1 below ~100k multiply-adds).</summary>
    public int Threads { get; }

    /// <summary>Floats of scratch each part needs for B panels.</summary>
    private int PartScratchFloats => _bSource switch
    {
        GemmBSource.Tiled => _kc * _nc,
        GemmBSource.Segments when _kInner => _k * _nr,
        GemmBSource.RowMajor or GemmBSource.Segments => _kc * _nr,
        _ => 0,
    };

    /// <summary>Scratch bytes a run needs (all parts).</summary>
    public int ScratchBytes => Threads * PartScratchFloats * sizeof(float);

    /// <summary>
    /// Runs every item. <paramref name="a"/>: packed A base; <paramref name="b"/>: B base (packed panels, row-major, or
    /// the packer's source); <paramref name="bias"/> may be null; <paramref name="scratch"/>: <see cref="ScratchBytes"/>.
    /// </summary>
    public void Run(ExecutionContext ctx, float* a, float* b, float* c, float* bias, float beta, float* scratch)
    {
        _a = a; _b = b; _c = c; _bias = bias; _beta = beta; _scratch = scratch;
        _next = 0;
        ctx.Parallel(this, Threads, Threads);
    }

    /// <summary>
    /// As <see cref="Run(ExecutionContext, float*, float*, float*, float*, float, float*)"/>, and each finished tile
    /// (after bias and activation) is also stored transposed, while in L1: y_t[j·ld + i] = C_t[i, j] with
    /// y_t = <paramref name="y"/> + <paramref name="yOffset"/>[t] (a conv computed positions × filters, stored NCHW).
    /// </summary>
    public void RunTransposed(ExecutionContext ctx, float* a, float* b, float* c, float* bias, float* scratch, float* y, int[] yOffset, nint ld)
    {
        _transposed = y; _transposedOffset = yOffset; _transposedLd = ld;
        Run(ctx, a, b, c, bias, 1, scratch);
        _transposed = null; _transposedOffset = null;
    }

    /// <summary>Single-threaded <see cref="RunTransposed(ExecutionContext, float*, float*, float*, float*, float*, float*, int[], nint)"/> without an execution context (tests).</summary>
    public void RunTransposed(float* a, float* b, float* c, float* bias, float* scratch, float* y, int[] yOffset, nint ld)
    {
        _transposed = y; _transposedOffset = yOffset; _transposedLd = ld;
        Run(a, b, c, bias, 1, scratch);
        _transposed = null; _transposedOffset = null;
    }

    /// <summary>Single-threaded run without an execution context (tests, benchmarks).</summary>
    public void Run(float* a, float* b, float* c, float* bias, float beta, float* scratch)
    {
        _a = a; _b = b; _c = c; _bias = bias; _beta = beta; _scratch = scratch;
        _next = 0;
        for (int part = 0; part < Threads; part++) Execute(part);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int part)
    {
        float* partScratch = _scratch + part * PartScratchFloats;
        float* temp = stackalloc float[8 * 32];
        int item;
        while ((item = System.Threading.Interlocked.Increment(ref _next) - 1) < _items)
        {
            int nb = item % _nBlocks, rest = item / _nBlocks;
            int ms = rest % _mSplits, batch = rest / _mSplits;
            RunItem(batch, ms * _mSplit, Math.Min(_m, (ms + 1) * _mSplit), nb * _nc, Math.Min(_n, (nb + 1) * _nc), partScratch, temp);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunItem(int batch, int i0, int i1, int j0, int j1, float* partScratch, float* temp)
    {
        if (_kInner)
        {
            RunItemSegmentsInner(batch, i0, i1, j0, j1, partScratch, temp);
            return;
        }
        int mr = _mr, nr = _nr, k = _k;
        float* aBase = _a + _aOffset[batch];
        float* bBase = _b + _bOffset[batch];
        float* cBase = _c + _cOffset[batch];
        float* bias = _bias is null ? null : _bias + _biasOffset[batch];
        float* yT = _transposed is null ? null : _transposed + _transposedOffset![batch];
        nint ldc = _n;
        int blocks = _segments is null ? (k + _kc - 1) / _kc : _segments.Length;
        for (int block = 0; block < blocks; block++)
        {
            int k0, kc;
            float* segment = null;
            nint segmentLdb = 0;
            if (_segments is null) { k0 = block * _kc; kc = Math.Min(_kc, k - k0); }
            else
            {
                var sg = _segments[block];
                k0 = sg.K0; kc = sg.Kc; segment = bBase + sg.Offset; segmentLdb = sg.Ldb;
            }
            bool accumulate = block > 0, last = block == blocks - 1;
            if (_bSource == GemmBSource.Tiled) _packer!.Pack(bBase, k0, kc, j0, j1 - j0, nr, partScratch);
            for (int ic = i0; ic < i1; ic += _mc)
            {
                int icEnd = Math.Min(i1, ic + _mc);
                for (int j = j0; j < j1; j += nr)
                {
                    int cols = Math.Min(nr, j1 - j);
                    float* panel;
                    nint ldb;
                    switch (_bSource)
                    {
                        case GemmBSource.Packed: panel = bBase + (nint)j * k + k0 * nr; ldb = nr; break;
                        case GemmBSource.Tiled: panel = partScratch + (nint)(j - j0) * kc; ldb = nr; break;
                        case GemmBSource.Segments:
                            if (cols == nr) { panel = segment + j; ldb = segmentLdb; }
                            else
                            {
                                if (ic == i0) F32GemmPacking.PackBTail(segment, segmentLdb, 0, kc, j, cols, nr, partScratch);
                                panel = partScratch; ldb = nr;
                            }
                            break;
                        default:
                            if (cols == nr) { panel = bBase + k0 * _ldb + j; ldb = _ldb; }
                            else
                            {
                                // the last partial panel: pack it once per row block (cheap: kc×NR)
                                if (ic == i0) F32GemmPacking.PackBTail(bBase, _ldb, k0, kc, j, cols, nr, partScratch);
                                panel = partScratch; ldb = nr;
                            }
                            break;
                    }
                    for (int i = ic; i < icEnd; i += mr)
                    {
                        int rows = Math.Min(mr, icEnd - i);
                        float* aPanel = aBase + (nint)i * k + k0 * mr;
                        float* cTile = cBase + i * ldc + j;
                        if (cols == nr) _uk.Run(rows, kc, aPanel, panel, ldb, cTile, ldc, accumulate);
                        else
                        {
                            if (accumulate)
                                for (int r = 0; r < rows; r++) new ReadOnlySpan<float>(cTile + r * ldc, cols).CopyTo(new Span<float>(temp + r * nr, cols));
                            _uk.Run(rows, kc, aPanel, panel, ldb, temp, nr, accumulate);
                            for (int r = 0; r < rows; r++) new ReadOnlySpan<float>(temp + r * nr, cols).CopyTo(new Span<float>(cTile + r * ldc, cols));
                        }
                        if (last)
                        {
                            Epilogue(i, rows, j, cols, cTile, ldc, bias);
                            if (yT is not null) F32GemmEpilogue.TransposeTile(cTile, ldc, rows, cols, yT + j * _transposedLd + i, _transposedLd);
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// <see cref="RunItem"/> for short K segments, K innermost: per column panel (its partial last one copied,
    /// every segment's rows into one K×NR scratch panel), per row tile, every segment in order into the same tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunItemSegmentsInner(int batch, int i0, int i1, int j0, int j1, float* partScratch, float* temp)
    {
        int mr = _mr, nr = _nr, k = _k;
        var segments = _segments!;
        float* aBase = _a + _aOffset[batch];
        float* bBase = _b + _bOffset[batch];
        float* cBase = _c + _cOffset[batch];
        float* bias = _bias is null ? null : _bias + _biasOffset[batch];
        float* yT = _transposed is null ? null : _transposed + _transposedOffset![batch];
        nint ldc = _n;
        for (int j = j0; j < j1; j += nr)
        {
            int cols = Math.Min(nr, j1 - j);
            if (cols < nr)
                foreach (var sg in segments)
                    F32GemmPacking.PackBTail(bBase + sg.Offset, sg.Ldb, 0, sg.Kc, j, cols, nr, partScratch + (nint)sg.K0 * nr);
            for (int i = i0; i < i1; i += mr)
            {
                int rows = Math.Min(mr, i1 - i);
                float* cTile = cBase + i * ldc + j;
                for (int s = 0; s < segments.Length; s++)
                {
                    var sg = segments[s];
                    float* aPanel = aBase + (nint)i * k + sg.K0 * mr;
                    if (cols == nr) _uk.Run(rows, sg.Kc, aPanel, bBase + sg.Offset + j, sg.Ldb, cTile, ldc, s > 0);
                    else _uk.Run(rows, sg.Kc, aPanel, partScratch + (nint)sg.K0 * nr, nr, temp, nr, s > 0);
                }
                if (cols < nr)
                    for (int r = 0; r < rows; r++) new ReadOnlySpan<float>(temp + r * nr, cols).CopyTo(new Span<float>(cTile + r * ldc, cols));
                Epilogue(i, rows, j, cols, cTile, ldc, bias);
                if (yT is not null) F32GemmEpilogue.TransposeTile(cTile, ldc, rows, cols, yT + j * _transposedLd + i, _transposedLd);
            }
        }
    }

    /// <summary>
    /// Bias (β·bias) and the activation over one finished tile, in vectors of the microkernel's width while the tile
    /// is in L1; a row's tail (cols not a multiple of the width) goes through a stack vector, so every element gets
    /// the same vector arithmetic.
    /// </summary>
    private void Epilogue(int i, int rows, int j, int cols, float* cTile, nint ldc, float* bias)
    {
        bool hasBias = bias is not null && _beta != 0;
        if (!hasBias && _activation.Kind == ActivationKind.None) return;
        for (int r = 0; r < rows; r++)
        {
            float* row = cTile + r * ldc;
            float* brow = hasBias ? bias + (nint)(i + r) * _biasRowStride : null;
            if (_biasColStride != 0 && hasBias) F32GemmEpilogue.RowVector(_width, row, cols, brow + j, _beta, _activation);
            else F32GemmEpilogue.RowScalar(_width, row, cols, hasBias, hasBias ? _beta * brow[0] : 0, _activation);
        }
    }
}
