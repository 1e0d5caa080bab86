using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Execution.Threading;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Elementwise;
using ExecutionContext = EdgeNet.Execution.ExecutionContext;

namespace EdgeNet.Kernels.Gemm;

/// <summary>
/// y[1×N] = x[1×K]·W[K×N] + bias, then the fused activation: the matrix-vector product of a batch-1 dense layer with
/// constant weights. Each weight is used once, so the product is bound by how fast W streams in; W is therefore packed
/// once (α folded in) into column blocks of <see cref="BlockVectors"/> vectors, each stored K-major, so a run reads
/// all of W front to back in one linear stream (the hardware prefetcher's best case) and keeps one block of y in
/// registers: for each k, x[k] is broadcast and multiplied into the block's vectors. Two sets of accumulators (even
/// and odd k) give 2·BlockVectors independent FMA chains, enough to hide FMA latency. The last block holds only the
/// vectors the remaining columns need (zero padded to a whole vector). Bias initialises the accumulators; the
/// activation is applied to each block as it is stored. One vector width per ISA (Vector128 on Neon, Vector256 on
/// AVX2, Vector512 on AVX-512); the scalar ISA keeps the blocked GEMM. <see cref="F32GemmReference"/> is the oracle.
/// </summary>
public sealed unsafe class F32Gemv : IParallelWork
{
    /// <summary>Vectors of y each full block keeps in registers.</summary>
    public const int BlockVectors = 4;

    /// <summary>Below this many multiply-adds one core streams W faster than a second one can be woken.</summary>
    private const long MinParallelMacs = 1 << 20;

    private readonly int _k, _n, _vw, _nb, _fullBlocks, _tailVectors, _blocks;
    private readonly VectorWidth _width;
    private readonly float[] _packed;
    private readonly float[] _bias;
    private readonly FusedActivation _activation;
    private float* _x, _y;
    private int _parts;

    private F32Gemv(VectorWidth width, int k, int n, float[] packed, float[] bias, FusedActivation activation, int threads)
    {
        _width = width;
        _k = k; _n = n;
        _vw = FloatsPerVector(width);
        _nb = BlockVectors * _vw;
        _fullBlocks = n / _nb;
        _tailVectors = (n - _fullBlocks * _nb + _vw - 1) / _vw;
        _blocks = _fullBlocks + (_tailVectors > 0 ? 1 : 0);
        _packed = packed;
        _bias = bias;
        _activation = activation;
        Threads = (long)k * n < MinParallelMacs ? 1 : Math.Max(1, Math.Min(threads, _blocks));
    }

    /// <summary>Threads a run uses.</summary>
    public int Threads { get; }

    public int K => _k;
    public int N => _n;

    private static int FloatsPerVector(VectorWidth width) => width switch
    {
        VectorWidth.V512 => 16,
        VectorWidth.V256 => 8,
        _ => 4,
    };

    /// <summary>
    /// The GEMV for a SIMD ISA, or null on the scalar path. <paramref name="b"/> is B (K×N, or N×K when
    /// <paramref name="transposed"/>); <paramref name="bias"/> (N values, β already applied) may be empty.
    /// </summary>
    public static F32Gemv? Create(Isa isa, ReadOnlySpan<float> b, int k, int n, bool transposed, float alpha,
        ReadOnlySpan<float> bias, FusedActivation activation, int threads) =>
        Create(F32Elementwise.WidthOf(isa), b, k, n, transposed, alpha, bias, activation, threads);

    /// <summary>The GEMV for a vector width (tests run every width the machine can execute), or null for Scalar.</summary>
    public static F32Gemv? Create(VectorWidth width, ReadOnlySpan<float> b, int k, int n, bool transposed, float alpha,
        ReadOnlySpan<float> bias, FusedActivation activation, int threads)
    {
        if (width == VectorWidth.Scalar || k <= 0 || n <= 0) return null;
        int vw = FloatsPerVector(width), nb = BlockVectors * vw;
        int full = n / nb;
        int tailVectors = (n - full * nb + vw - 1) / vw;
        int tailWidth = tailVectors * vw;
        var packed = GC.AllocateArray<float>(checked(full * nb * k + tailWidth * k), pinned: true);
        for (int blk = 0; blk <= full; blk++)
        {
            int width0 = blk < full ? nb : tailWidth;
            if (width0 == 0) break;
            int j0 = blk * nb, baseIndex = blk * nb * k;
            for (int p = 0; p < k; p++)
                for (int c = 0; c < width0; c++)
                {
                    int j = j0 + c;
                    packed[baseIndex + p * width0 + c] = j < n ? alpha * (transposed ? b[j * k + p] : b[p * n + j]) : 0;
                }
        }
        var biasPadded = GC.AllocateArray<float>(full * nb + tailWidth, pinned: true);
        bias.CopyTo(biasPadded);
        return new F32Gemv(width, k, n, packed, biasPadded, activation, threads);
    }

    /// <summary>Runs y = x·W + bias (activation applied); x has K floats, y N floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(ExecutionContext ctx, float* x, float* y)
    {
        if (Threads == 1)
        {
            RunBlocks(x, y, 0, _blocks);
            return;
        }
        _x = x; _y = y;
        _parts = Threads;
        ctx.Parallel(this, _parts, _parts);
        _x = _y = null;
    }

    /// <summary>Single-threaded run (tests, benchmarks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(float* x, float* y) => RunBlocks(x, y, 0, _blocks);

    void IParallelWork.Execute(int part)
    {
        int per = (_blocks + _parts - 1) / _parts;
        int b0 = part * per, b1 = Math.Min(_blocks, b0 + per);
        if (b0 < b1) RunBlocks(_x, _y, b0, b1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunBlocks(float* x, float* y, int b0, int b1)
    {
        fixed (float* packed = _packed)
        fixed (float* bias = _bias)
        {
            float* tile = stackalloc float[BlockVectors * 16];
            for (int blk = b0; blk < b1; blk++)
            {
                float* w = packed + (nint)blk * _nb * _k;
                int j0 = blk * _nb;
                bool full = blk < _fullBlocks;
                int vectors = full ? BlockVectors : _tailVectors;
                int cols = full ? _nb : _n - j0;
                // a full block is stored straight into y; the tail goes through a tile (it may hold padding columns)
                float* dst = full ? y + j0 : tile;
                switch (_width)
                {
                    case VectorWidth.V512:
                        if (full) Block512(x, w, _k, bias + j0, dst); else Columns512(x, w, _k, vectors, bias + j0, dst);
                        break;
                    case VectorWidth.V256:
                        if (full) Block256(x, w, _k, bias + j0, dst); else Columns256(x, w, _k, vectors, bias + j0, dst);
                        break;
                    default:
                        if (full) Block128(x, w, _k, bias + j0, dst); else Columns128(x, w, _k, vectors, bias + j0, dst);
                        break;
                }
                var result = new Span<float>(y + j0, cols);
                if (!full) new ReadOnlySpan<float>(tile, cols).CopyTo(result);
                _activation.Apply(result);
            }
        }
    }

    // One block per vector width; the three are the same text with the width swapped.

    /// <summary>Floats ahead of the read position that the x86 blocks ask for (8 KiB): W streams from memory in a model
    /// (other layers evicted it), and the hardware prefetcher alone left MobileNetV2's 1280→1000 classifier ~20% behind
    /// ONNX Runtime.</summary>
    private const int PrefetchDistance = 2048;

    /// <summary>Asks for the cache lines of <paramref name="floats"/> floats <see cref="PrefetchDistance"/> ahead of w
    /// (the packed W is padded by nothing: addresses past its end are only hints, which never fault).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch(float* w, int floats)
    {
        if (!Sse.IsSupported) return;
        for (int i = 0; i < floats; i += 16) Sse.Prefetch0(w + PrefetchDistance + i);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block512(float* x, float* w, int k, float* bias, float* y)
    {
        const int V = 16;
        var a0 = Vector512.Load(bias); var a1 = Vector512.Load(bias + V);
        var a2 = Vector512.Load(bias + 2 * V); var a3 = Vector512.Load(bias + 3 * V);
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
        int p = 0;
        for (; p + 2 <= k; p += 2, w += 8 * V)
        {
            Prefetch(w, 8 * V);
            var x0 = Vector512.Create(x[p]);
            var x1 = Vector512.Create(x[p + 1]);
            a0 = Vector512.FusedMultiplyAdd(Vector512.Load(w), x0, a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Load(w + V), x0, a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 2 * V), x0, a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 3 * V), x0, a3);
            b0 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 4 * V), x1, b0);
            b1 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 5 * V), x1, b1);
            b2 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 6 * V), x1, b2);
            b3 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 7 * V), x1, b3);
        }
        if (p < k)
        {
            var x0 = Vector512.Create(x[p]);
            a0 = Vector512.FusedMultiplyAdd(Vector512.Load(w), x0, a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Load(w + V), x0, a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 2 * V), x0, a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 3 * V), x0, a3);
        }
        (a0 + b0).Store(y);
        (a1 + b1).Store(y + V);
        (a2 + b2).Store(y + 2 * V);
        (a3 + b3).Store(y + 3 * V);
    }

    /// <summary>The last, narrower block: <paramref name="vectors"/> columns of vectors, each with k split four ways.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Columns512(float* x, float* w, int k, int vectors, float* bias, float* y)
    {
        const int V = 16;
        nint stride = (nint)vectors * V;
        for (int v = 0; v < vectors; v++)
        {
            float* wv = w + v * V;
            var a0 = Vector512.Load(bias + v * V);
            Vector512<float> a1 = default, a2 = default, a3 = default;
            int p = 0;
            for (; p + 4 <= k; p += 4, wv += 4 * stride)
            {
                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(wv), Vector512.Create(x[p]), a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Load(wv + stride), Vector512.Create(x[p + 1]), a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Load(wv + 2 * stride), Vector512.Create(x[p + 2]), a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Load(wv + 3 * stride), Vector512.Create(x[p + 3]), a3);
            }
            for (; p < k; p++, wv += stride) a0 = Vector512.FusedMultiplyAdd(Vector512.Load(wv), Vector512.Create(x[p]), a0);
            ((a0 + a1) + (a2 + a3)).Store(y + v * V);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block256(float* x, float* w, int k, float* bias, float* y)
    {
        const int V = 8;
        var a0 = Vector256.Load(bias); var a1 = Vector256.Load(bias + V);
        var a2 = Vector256.Load(bias + 2 * V); var a3 = Vector256.Load(bias + 3 * V);
        Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
        int p = 0;
        for (; p + 2 <= k; p += 2, w += 8 * V)
        {
            Prefetch(w, 8 * V);
            var x0 = Vector256.Create(x[p]);
            var x1 = Vector256.Create(x[p + 1]);
            a0 = Vector256.FusedMultiplyAdd(Vector256.Load(w), x0, a0);
            a1 = Vector256.FusedMultiplyAdd(Vector256.Load(w + V), x0, a1);
            a2 = Vector256.FusedMultiplyAdd(Vector256.Load(w + 2 * V), x0, a2);
            a3 = Vector256.FusedMultiplyAdd(Vector256.Load(w + 3 * V), x0, a3);
            b0 = Vector256.FusedMultiplyAdd(Vector256.Load(w + 4 * V), x1, b0);
            b1 = Vector256.FusedMultiplyAdd(Vector256.Load(w + 5 * V), x1, b1);
            b2 = Vector256.FusedMultiplyAdd(Vector256.Load(w + 6 * V), x1, b2);
            b3 = Vector256.FusedMultiplyAdd(Vector256.Load(w + 7 * V), x1, b3);
        }
        if (p < k)
        {
            var x0 = Vector256.Create(x[p]);
            a0 = Vector256.FusedMultiplyAdd(Vector256.Load(w), x0, a0);
            a1 = Vector256.FusedMultiplyAdd(Vector256.Load(w + V), x0, a1);
            a2 = Vector256.FusedMultiplyAdd(Vector256.Load(w + 2 * V), x0, a2);
            a3 = Vector256.FusedMultiplyAdd(Vector256.Load(w + 3 * V), x0, a3);
        }
        (a0 + b0).Store(y);
        (a1 + b1).Store(y + V);
        (a2 + b2).Store(y + 2 * V);
        (a3 + b3).Store(y + 3 * V);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Columns256(float* x, float* w, int k, int vectors, float* bias, float* y)
    {
        const int V = 8;
        nint stride = (nint)vectors * V;
        for (int v = 0; v < vectors; v++)
        {
            float* wv = w + v * V;
            var a0 = Vector256.Load(bias + v * V);
            Vector256<float> a1 = default, a2 = default, a3 = default;
            int p = 0;
            for (; p + 4 <= k; p += 4, wv += 4 * stride)
            {
                a0 = Vector256.FusedMultiplyAdd(Vector256.Load(wv), Vector256.Create(x[p]), a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.Load(wv + stride), Vector256.Create(x[p + 1]), a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.Load(wv + 2 * stride), Vector256.Create(x[p + 2]), a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.Load(wv + 3 * stride), Vector256.Create(x[p + 3]), a3);
            }
            for (; p < k; p++, wv += stride) a0 = Vector256.FusedMultiplyAdd(Vector256.Load(wv), Vector256.Create(x[p]), a0);
            ((a0 + a1) + (a2 + a3)).Store(y + v * V);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block128(float* x, float* w, int k, float* bias, float* y)
    {
        const int V = 4;
        var a0 = Vector128.Load(bias); var a1 = Vector128.Load(bias + V);
        var a2 = Vector128.Load(bias + 2 * V); var a3 = Vector128.Load(bias + 3 * V);
        Vector128<float> b0 = default, b1 = default, b2 = default, b3 = default;
        int p = 0;
        for (; p + 2 <= k; p += 2, w += 8 * V)
        {
            var x0 = Vector128.Create(x[p]);
            var x1 = Vector128.Create(x[p + 1]);
            a0 = Vector128.FusedMultiplyAdd(Vector128.Load(w), x0, a0);
            a1 = Vector128.FusedMultiplyAdd(Vector128.Load(w + V), x0, a1);
            a2 = Vector128.FusedMultiplyAdd(Vector128.Load(w + 2 * V), x0, a2);
            a3 = Vector128.FusedMultiplyAdd(Vector128.Load(w + 3 * V), x0, a3);
            b0 = Vector128.FusedMultiplyAdd(Vector128.Load(w + 4 * V), x1, b0);
            b1 = Vector128.FusedMultiplyAdd(Vector128.Load(w + 5 * V), x1, b1);
            b2 = Vector128.FusedMultiplyAdd(Vector128.Load(w + 6 * V), x1, b2);
            b3 = Vector128.FusedMultiplyAdd(Vector128.Load(w + 7 * V), x1, b3);
        }
        if (p < k)
        {
            var x0 = Vector128.Create(x[p]);
            a0 = Vector128.FusedMultiplyAdd(Vector128.Load(w), x0, a0);
            a1 = Vector128.FusedMultiplyAdd(Vector128.Load(w + V), x0, a1);
            a2 = Vector128.FusedMultiplyAdd(Vector128.Load(w + 2 * V), x0, a2);
            a3 = Vector128.FusedMultiplyAdd(Vector128.Load(w + 3 * V), x0, a3);
        }
        (a0 + b0).Store(y);
        (a1 + b1).Store(y + V);
        (a2 + b2).Store(y + 2 * V);
        (a3 + b3).Store(y + 3 * V);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Columns128(float* x, float* w, int k, int vectors, float* bias, float* y)
    {
        const int V = 4;
        nint stride = (nint)vectors * V;
        for (int v = 0; v < vectors; v++)
        {
            float* wv = w + v * V;
            var a0 = Vector128.Load(bias + v * V);
            Vector128<float> a1 = default, a2 = default, a3 = default;
            int p = 0;
            for (; p + 4 <= k; p += 4, wv += 4 * stride)
            {
                a0 = Vector128.FusedMultiplyAdd(Vector128.Load(wv), Vector128.Create(x[p]), a0);
                a1 = Vector128.FusedMultiplyAdd(Vector128.Load(wv + stride), Vector128.Create(x[p + 1]), a1);
                a2 = Vector128.FusedMultiplyAdd(Vector128.Load(wv + 2 * stride), Vector128.Create(x[p + 2]), a2);
                a3 = Vector128.FusedMultiplyAdd(Vector128.Load(wv + 3 * stride), Vector128.Create(x[p + 3]), a3);
            }
            for (; p < k; p++, wv += stride) a0 = Vector128.FusedMultiplyAdd(Vector128.Load(wv), Vector128.Create(x[p]), a0);
            ((a0 + a1) + (a2 + a3)).Store(y + v * V);
        }
    }
}
