using EdgeNet.Kernels;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Gemm;

namespace EdgeNet.Training;

/// <summary>
/// C[m×n] = op(A)·op(B) on the fast blocked fp32 GEMM (<see cref="F32GemmDriver"/>, single thread), for operands
/// that change every step: A is packed per call; B is read in place when row-major, or packed per call when stored
/// transposed. Optionally C += instead of C = (through a private temporary). One instance per shape; its buffers are
/// allocated when it is created, so calls allocate nothing.
/// </summary>
public sealed unsafe class TrainGemm
{
    private readonly F32GemmMicrokernel _uk;
    private readonly F32GemmDriver _driver;
    private readonly int _m, _n, _k;
    private readonly bool _transA, _transB;
    private readonly float[] _packedA, _packedB, _scratch, _temp;
    private readonly F32GemmDriver? _rowsDriver, _lastRowsDriver;
    private readonly int _chunkRows;

    /// <param name="transA">A is stored k×m (A[i,p] = a[p·m + i]); else m×k.</param>
    /// <param name="transB">B is stored n×k (B[p,j] = b[j·k + p]); else k×n.</param>
    /// <param name="chunkRows">When above 0 (a multiple of the microkernel's MR), <see cref="RunRows"/> can compute C
    /// that many rows at a time.</param>
    public TrainGemm(Isa isa, int m, int n, int k, bool transA, bool transB, bool accumulate, int chunkRows = 0)
    {
        _uk = F32GemmMicrokernel.For(isa);
        _m = m; _n = n; _k = k; _transA = transA; _transB = transB;
        var source = transB ? GemmBSource.Packed : GemmBSource.RowMajor;
        _driver = new F32GemmDriver(_uk, m, n, k, source, n, null, [0], [0], [0], null, 0, 0, FusedActivation.None, 1);
        _packedA = GC.AllocateArray<float>(F32GemmPacking.PackedASize(m, k, _uk.MR) + 16, pinned: true);
        _packedB = transB ? GC.AllocateArray<float>(F32GemmPacking.PackedBSize(k, n, _uk.NR) + 16, pinned: true) : [];
        int scratchBytes = _driver.ScratchBytes;
        if (chunkRows > 0 && !transB && !accumulate && m > 0)
        {
            _chunkRows = Math.Min(chunkRows, m);
            _rowsDriver = new F32GemmDriver(_uk, _chunkRows, n, k, source, n, null, [0], [0], [0], null, 0, 0, FusedActivation.None, 1);
            if (m % _chunkRows != 0)
                _lastRowsDriver = new F32GemmDriver(_uk, m % _chunkRows, n, k, source, n, null, [0], [0], [0], null, 0, 0, FusedActivation.None, 1);
            scratchBytes = Math.Max(scratchBytes, Math.Max(_rowsDriver.ScratchBytes, _lastRowsDriver?.ScratchBytes ?? 0));
        }
        _scratch = GC.AllocateArray<float>(scratchBytes / sizeof(float) + 16, pinned: true);
        _temp = accumulate ? GC.AllocateArray<float>(m * n, pinned: true) : [];
    }

    /// <summary>Packs A now, for a later <see cref="Run"/> with <c>aPacked</c> (while A is still in the cache).</summary>
    public void PackA(float* a)
    {
        fixed (float* pa = _packedA) F32GemmPacking.PackA(a, _m, _k, _transA ? _m : _k, _transA, 1f, _uk.MR, pa);
    }

    /// <param name="aPacked">A was packed by <see cref="PackA"/> (and has not changed since): <paramref name="a"/> is not read.</param>
    public void Run(float* a, float* b, float* c, bool aPacked = false)
    {
        if (_m == 0 || _n == 0) return;
        if (_k == 0)
        {
            if (_temp.Length == 0) new Span<float>(c, _m * _n).Clear();
            return;
        }
        fixed (float* pa = _packedA, pb = _packedB, scratch = _scratch, temp = _temp)
        {
            if (!aPacked) F32GemmPacking.PackA(a, _m, _k, _transA ? _m : _k, _transA, 1f, _uk.MR, pa);
            float* bIn = b;
            if (_transB)
            {
                F32GemmPacking.PackB(b, _k, _n, _k, transposed: true, _uk.NR, pb);
                bIn = pb;
            }
            float* target = _temp.Length > 0 ? temp : c;
            _driver.Run(pa, bIn, target, null, 0, scratch);
            if (_temp.Length > 0) Add(new Span<float>(c, _m * _n), new ReadOnlySpan<float>(temp, _m * _n));
        }
    }

    /// <summary>Rows this instance computes per <see cref="RunRows"/> call (0: it cannot).</summary>
    public int ChunkRows => _chunkRows;

    /// <summary>
    /// Rows [row0, row0 + ChunkRows) of C (fewer in the last chunk) from A packed by <see cref="PackA"/>: each element
    /// is the same sum as <see cref="Run"/> makes (K is blocked the same way), so a caller can use C a chunk at a time
    /// while it is in the cache. <paramref name="row0"/> is a multiple of <see cref="ChunkRows"/>.
    /// </summary>
    public void RunRows(int row0, float* b, float* c)
    {
        if (_chunkRows == 0 || row0 % _chunkRows != 0 || row0 >= _m) throw new ArgumentOutOfRangeException(nameof(row0));
        var driver = row0 + _chunkRows <= _m ? _rowsDriver! : _lastRowsDriver!;
        fixed (float* pa = _packedA, scratch = _scratch)
            driver.Run(pa + (nint)row0 * _k, b, c + (nint)row0 * _n, null, 0, scratch);
    }

    internal static void Add(Span<float> target, ReadOnlySpan<float> values)
    {
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
            for (int w = System.Numerics.Vector<float>.Count; i + w <= target.Length; i += w)
                (new System.Numerics.Vector<float>(target[i..]) + new System.Numerics.Vector<float>(values[i..])).CopyTo(target[i..]);
        for (; i < target.Length; i++) target[i] += values[i];
    }
}

/// <summary>One <see cref="TrainGemm"/> per mini-batch size, made on first use (the last, partial batch of an epoch
/// has its own), so every size allocates once and later steps allocate nothing.</summary>
internal sealed class TrainGemmCache(Func<int, TrainGemm> create, int maxBatch)
{
    private readonly TrainGemm?[] _byBatch = new TrainGemm?[maxBatch + 1];
    public TrainGemm For(int batch) => _byBatch[batch] ??= create(batch);
}
