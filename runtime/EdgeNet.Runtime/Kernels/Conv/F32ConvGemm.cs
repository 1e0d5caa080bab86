using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using EdgeNet.Execution;
using EdgeNet.Execution.Threading;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Gemm;
using ExecutionContext = EdgeNet.Execution.ExecutionContext;

namespace EdgeNet.Kernels.Conv;

/// <summary>
/// Conv as one GEMM per image with a finished-tile store: Y[M × N] = act(W[M × K] · B[K × N] + bias), NCHW, one group,
/// K at most <see cref="MaxDepth"/> (so the whole K is one block). B is either the input itself (a 1×1, stride-1,
/// unpadded conv: its K rows are contiguous rows of N positions, read in place, only the last partial panel copied)
/// or im2col panels a <see cref="F32Im2ColPacker"/> writes per column block. The difference from the blocked GEMM
/// driver is the epilogue: the tile's bias and activation are applied to the accumulators in registers before the
/// one store (<see cref="F32ConvTile{TS, TV}"/>), instead of storing the tile and passing over it again — for the few
/// input channels of a mobile net's first layers (K = 16..32) that second pass cost as much as the multiply-adds.
/// Per column block (K × NC floats of B, about 32 KiB) the row tiles run along their rows. Column blocks of all
/// images are the work items, claimed dynamically by up to <see cref="Threads"/> parts.
/// </summary>
public abstract unsafe class F32ConvGemm
{
    /// <summary>Deepest K taken: a K × NR panel of B (128 KiB at NR = 32) and the MR × K panel of A stay in L2
    /// (MobileNetV2's 576-deep projections at 14×14 run 5% faster here than transposed).</summary>
    public const int MaxDepth = 1024;

    /// <summary>Deepest K taken with im2col panels: a column block is then at least two NR = 32 panels (blocks of one
    /// panel re-enter the packer every 32 columns: ResNet-18's 7×7/2 stem, K = 147, ran 2.75 ms here against 2.0 ms on
    /// the blocked driver, its 3×3/2 layer2 conv, K = 576, 1.07 against 0.96 ms; MobileNetV2's stem, K = 27, and
    /// DS-CNN's first conv, K = 40, are faster here).</summary>
    public const int MaxIm2ColDepth = 128;

    /// <summary>The kernel for <paramref name="isa"/>, or null for the scalar path and shapes it does not take.</summary>
    /// <param name="inVolume">floats of one image of the input (channels × spatial volume)</param>
    /// <param name="packer">im2col panels for B, or null when B is the input read in place (1×1, stride 1, no pads)</param>
    public static F32ConvGemm? Create(Isa isa, int batch, int m, int n, int k, int inVolume, F32Im2ColPacker? packer,
        ReadOnlySpan<float> weights, FusedActivation activation, int threads)
    {
        if (k <= 0 || k > MaxDepth || m <= 0 || n <= 0 || batch <= 0) return null;
        if (packer is not null && k > MaxIm2ColDepth) return null;
        return isa switch
        {
            Isa.Avx512 => new F32ConvGemm<F32Avx512, Vector512<float>>(8, batch, m, n, k, inVolume, packer, weights, activation, threads),
            Isa.Avx2 => new F32ConvGemm<F32Avx2, Vector256<float>>(6, batch, m, n, k, inVolume, packer, weights, activation, threads),
            Isa.Neon => new F32ConvGemm<F32Neon, Vector128<float>>(8, batch, m, n, k, inVolume, packer, weights, activation, threads),
            _ => null,
        };
    }

    /// <summary>Threads a run uses (1 below about a million multiply-adds).</summary>
    public int Threads { get; protected init; }

    /// <summary>Scratch bytes a run needs (all parts).</summary>
    public abstract int ScratchBytes { get; }

    /// <summary>Y = act(W·B + bias) for every image; x: batch × inVolume floats, y: batch × M × N, bias: M floats or null.</summary>
    public abstract void Run(ExecutionContext ctx, float* x, float* y, float* bias, float* scratch);

    /// <summary>Single-threaded run without an execution context (benchmarks).</summary>
    public abstract void Run(float* x, float* y, float* bias, float* scratch);
}

/// <summary><see cref="F32ConvGemm"/> at one vector width: tiles of MR rows × 2 vectors.</summary>
internal sealed unsafe class F32ConvGemm<TS, TV> : F32ConvGemm, IParallelWork where TS : IF32Simd<TV> where TV : struct
{
    /// <summary>Below about a million multiply-adds waking a worker costs more than it saves.</summary>
    private const long MinParallelMacs = 1 << 20;

    private readonly int _mr, _nr, _m, _n, _k, _inVolume, _nc, _nBlocks, _items, _partFloats;
    private readonly F32Im2ColPacker? _packer;
    private readonly float[] _packedWeights;
    private readonly FusedActivation _activation;

    // per run
    private float* _x, _y, _bias, _scratch, _a;
    private int _next;

    public F32ConvGemm(int mr, int batch, int m, int n, int k, int inVolume, F32Im2ColPacker? packer, ReadOnlySpan<float> weights,
        FusedActivation activation, int threads)
    {
        if (weights.Length < (long)m * k) throw new ArgumentException("weights are shorter than M × K");
        (_mr, _nr, _m, _n, _k, _inVolume, _packer, _activation) = (mr, 2 * TS.Count, m, n, k, inVolume, packer, activation);
        _packedWeights = GC.AllocateArray<float>(F32GemmPacking.PackedASize(m, k, mr), pinned: true);
        fixed (float* src = weights)
        fixed (float* dst = _packedWeights)
            F32GemmPacking.PackA(src, m, k, k, false, 1, mr, dst);
        int nPanels = (n + _nr - 1) / _nr;
        // a column block of B about 32 KiB, whole panels
        int ncPanels = Math.Clamp(8192 / k / _nr, 1, nPanels);
        long macs = (long)batch * m * n * k;
        int parts = macs < MinParallelMacs ? 1 : Math.Max(1, threads);
        // at least four blocks per thread when threaded: claimed dynamically, the last block is the imbalance (28×28
        // expands 32→192 made four blocks of 8, 8, 8 and 1 panels: 16 against 9 panels on two threads)
        if (parts > 1 && (long)batch * ((nPanels + ncPanels - 1) / ncPanels) < 4 * parts)
            ncPanels = Math.Max(1, nPanels / Math.Max(1, (4 * parts + batch - 1) / batch));
        _nc = ncPanels * _nr;
        _nBlocks = (n + _nc - 1) / _nc;
        _items = batch * _nBlocks;
        Threads = Math.Min(parts, _items);
        _partFloats = packer is null ? k * _nr : k * _nc;
    }

    public override int ScratchBytes => Threads * _partFloats * sizeof(float);

    public override void Run(ExecutionContext ctx, float* x, float* y, float* bias, float* scratch)
    {
        if (Threads == 1)
        {
            Run(x, y, bias, scratch);
            return;
        }
        fixed (float* a = _packedWeights)
        {
            Bind(x, y, bias, scratch, a);
            ctx.Parallel(this, Threads, Threads);
        }
    }

    private void Bind(float* x, float* y, float* bias, float* scratch, float* a)
    {
        _x = x;
        _y = y;
        _bias = bias;
        _scratch = scratch;
        _a = a;
        _next = 0;
    }

    public override void Run(float* x, float* y, float* bias, float* scratch)
    {
        fixed (float* a = _packedWeights)
        {
            Bind(x, y, bias, scratch, a);
            for (int part = 0; part < Threads; part++) Execute(part);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int part)
    {
        float* partScratch = _scratch + (nint)part * _partFloats;
        int item;
        while ((item = System.Threading.Interlocked.Increment(ref _next) - 1) < _items)
        {
            int image = item / _nBlocks, j0 = item % _nBlocks * _nc;
            Block(_x + (nint)image * _inVolume, _y + (nint)image * _m * _n, j0, Math.Min(_n, j0 + _nc), partScratch);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Block(float* x, float* y, int j0, int j1, float* scratch)
    {
        int mr = _mr, nr = _nr, k = _k, m = _m;
        nint n = _n;
        int fullEnd = j0 + (j1 - j0) / nr * nr, cols = j1 - fullEnd;
        float* temp = stackalloc float[8 * 32];
        if (_packer is not null) _packer.Pack(x, 0, k, j0, j1 - j0, nr, scratch);
        else if (cols > 0) F32GemmPacking.PackBTail(x, n, 0, k, fullEnd, cols, nr, scratch);
        var (lo, hi) = ClipActivation.Bounds<TS, TV>(_activation);
        for (int i = 0; i < m; i += mr)
        {
            int rows = Math.Min(mr, m - i);
            float* aPanel = _a + (nint)i * k;
            float* rowBias = _bias is null ? null : _bias + i;
            float* yRows = y + i * n;
            for (int j = j0; j < fullEnd; j += nr)
            {
                float* b = _packer is null ? x + j : scratch + (nint)(j - j0) * k;
                nint ldb = _packer is null ? n : nr;
                F32ConvTile<TS, TV>.Run(rows, mr, k, aPanel, b, ldb, yRows + j, n, rowBias, lo, hi, _activation);
            }
            if (cols > 0)
            {
                float* b = _packer is null ? scratch : scratch + (nint)(fullEnd - j0) * k;
                F32ConvTile<TS, TV>.Run(rows, mr, k, aPanel, b, nr, temp, nr, rowBias, lo, hi, _activation);
                for (int r = 0; r < rows; r++)
                    new ReadOnlySpan<float>(temp + r * nr, cols).CopyTo(new Span<float>(yRows + r * n + fullEnd, cols));
            }
        }
    }
}

/// <summary>
/// A tile of up to MR rows × 2 vectors with its epilogue in registers: c[i, ·] = act(Σ_p a[p·MR + i] · b[p·ldb + ·]
/// + bias[i]) (no addition without a bias, so −0 stays −0 as in the GEMM epilogue), stored once. The sums are
/// accumulated as the GEMM microkernels do (zero-started, fused multiply-adds in p order), then the bias is added and
/// the activation applied, the same arithmetic as the GEMM epilogue.
/// </summary>
internal static unsafe class F32ConvTile<TS, TV> where TS : IF32Simd<TV> where TV : struct
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(int rows, int mr, int kc, float* a, float* b, nint ldb, float* c, nint ldc, float* bias, TV lo, TV hi, FusedActivation act)
    {
        switch (act.Kind)
        {
            case ActivationKind.None: Rows<NoActivation>(rows, mr, kc, a, b, ldb, c, ldc, bias, lo, hi, act); break;
            case ActivationKind.Relu or ActivationKind.Clip: Rows<ClipActivation>(rows, mr, kc, a, b, ldb, c, ldc, bias, lo, hi, act); break;
            default: Rows<AnyActivation>(rows, mr, kc, a, b, ldb, c, ldc, bias, lo, hi, act); break;
        }
    }

    private static void Rows<TA>(int rows, int mr, int kc, float* a, float* b, nint ldb, float* c, nint ldc, float* bias, TV lo, TV hi, FusedActivation act)
        where TA : IRegisterActivation
    {
        switch (rows)
        {
            case 1: Tile<Rows1, TA>(mr, kc, a, b, ldb, c, ldc, bias, lo, hi, act); break;
            case 2: Tile<Rows2, TA>(mr, kc, a, b, ldb, c, ldc, bias, lo, hi, act); break;
            case 3: Tile<Rows3, TA>(mr, kc, a, b, ldb, c, ldc, bias, lo, hi, act); break;
            case 4: Tile<Rows4, TA>(mr, kc, a, b, ldb, c, ldc, bias, lo, hi, act); break;
            case 5: Tile<Rows5, TA>(mr, kc, a, b, ldb, c, ldc, bias, lo, hi, act); break;
            case 6: Tile<Rows6, TA>(mr, kc, a, b, ldb, c, ldc, bias, lo, hi, act); break;
            case 7: Tile<Rows7, TA>(mr, kc, a, b, ldb, c, ldc, bias, lo, hi, act); break;
            case 8: Tile<Rows8, TA>(mr, kc, a, b, ldb, c, ldc, bias, lo, hi, act); break;
            default: throw new ArgumentOutOfRangeException(nameof(rows));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TRows, TA>(int mr, int kc, float* a, float* b, nint ldb, float* c, nint ldc, float* bias, TV lo, TV hi, FusedActivation act)
        where TRows : IRows where TA : IRegisterActivation
    {
        int rows = TRows.Value, v = TS.Count;
        TV zero = TS.Splat(0);
        TV c00 = zero, c01 = zero, c10 = zero, c11 = zero, c20 = zero, c21 = zero, c30 = zero, c31 = zero;
        TV c40 = zero, c41 = zero, c50 = zero, c51 = zero, c60 = zero, c61 = zero, c70 = zero, c71 = zero;
        for (int p = 0; p < kc; p++, a += mr, b += ldb)
        {
            TV b0 = TS.Load(ref Unsafe.AsRef<float>(b), 0), b1 = TS.Load(ref Unsafe.AsRef<float>(b), v);
            { TV s = TS.Splat(a[0]); c00 = TS.MultiplyAdd(b0, s, c00); c01 = TS.MultiplyAdd(b1, s, c01); }
            if (rows > 1) { TV s = TS.Splat(a[1]); c10 = TS.MultiplyAdd(b0, s, c10); c11 = TS.MultiplyAdd(b1, s, c11); }
            if (rows > 2) { TV s = TS.Splat(a[2]); c20 = TS.MultiplyAdd(b0, s, c20); c21 = TS.MultiplyAdd(b1, s, c21); }
            if (rows > 3) { TV s = TS.Splat(a[3]); c30 = TS.MultiplyAdd(b0, s, c30); c31 = TS.MultiplyAdd(b1, s, c31); }
            if (rows > 4) { TV s = TS.Splat(a[4]); c40 = TS.MultiplyAdd(b0, s, c40); c41 = TS.MultiplyAdd(b1, s, c41); }
            if (rows > 5) { TV s = TS.Splat(a[5]); c50 = TS.MultiplyAdd(b0, s, c50); c51 = TS.MultiplyAdd(b1, s, c51); }
            if (rows > 6) { TV s = TS.Splat(a[6]); c60 = TS.MultiplyAdd(b0, s, c60); c61 = TS.MultiplyAdd(b1, s, c61); }
            if (rows > 7) { TV s = TS.Splat(a[7]); c70 = TS.MultiplyAdd(b0, s, c70); c71 = TS.MultiplyAdd(b1, s, c71); }
        }
        if (typeof(TA) == typeof(AnyActivation))
        {
            // an activation that is a call (HardSwish, Sigmoid, ...) would spill the other accumulators around each
            // call: store the biased sums, then activate the tile row by row while it is in L1
            Finish<NoActivation>(c00, c01, bias, 0, c, lo, hi, act);
            if (rows > 1) Finish<NoActivation>(c10, c11, bias, 1, c + ldc, lo, hi, act);
            if (rows > 2) Finish<NoActivation>(c20, c21, bias, 2, c + 2 * ldc, lo, hi, act);
            if (rows > 3) Finish<NoActivation>(c30, c31, bias, 3, c + 3 * ldc, lo, hi, act);
            if (rows > 4) Finish<NoActivation>(c40, c41, bias, 4, c + 4 * ldc, lo, hi, act);
            if (rows > 5) Finish<NoActivation>(c50, c51, bias, 5, c + 5 * ldc, lo, hi, act);
            if (rows > 6) Finish<NoActivation>(c60, c61, bias, 6, c + 6 * ldc, lo, hi, act);
            if (rows > 7) Finish<NoActivation>(c70, c71, bias, 7, c + 7 * ldc, lo, hi, act);
            for (int r = 0; r < rows; r++)
            {
                ref float row = ref Unsafe.AsRef<float>(c + r * ldc);
                TS.Store(TS.Activate(TS.Load(ref row, 0), act), ref row, 0);
                TS.Store(TS.Activate(TS.Load(ref row, v), act), ref row, v);
            }
            return;
        }
        Finish<TA>(c00, c01, bias, 0, c, lo, hi, act);
        if (rows > 1) Finish<TA>(c10, c11, bias, 1, c + ldc, lo, hi, act);
        if (rows > 2) Finish<TA>(c20, c21, bias, 2, c + 2 * ldc, lo, hi, act);
        if (rows > 3) Finish<TA>(c30, c31, bias, 3, c + 3 * ldc, lo, hi, act);
        if (rows > 4) Finish<TA>(c40, c41, bias, 4, c + 4 * ldc, lo, hi, act);
        if (rows > 5) Finish<TA>(c50, c51, bias, 5, c + 5 * ldc, lo, hi, act);
        if (rows > 6) Finish<TA>(c60, c61, bias, 6, c + 6 * ldc, lo, hi, act);
        if (rows > 7) Finish<TA>(c70, c71, bias, 7, c + 7 * ldc, lo, hi, act);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish<TA>(TV s0, TV s1, float* bias, int row, float* c, TV lo, TV hi, FusedActivation act) where TA : IRegisterActivation
    {
        if (bias is not null)
        {
            TV add = TS.Splat(bias[row]);
            s0 = TS.Add(s0, add);
            s1 = TS.Add(s1, add);
        }
        TS.Store(TA.Apply<TS, TV>(s0, lo, hi, act), ref Unsafe.AsRef<float>(c), 0);
        TS.Store(TA.Apply<TS, TV>(s1, lo, hi, act), ref Unsafe.AsRef<float>(c), TS.Count);
    }
}
