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

    /// <param name="transA">A is stored k×m (A[i,p] = a[p·m + i]); else m×k.</param>
    /// <param name="transB">B is stored n×k (B[p,j] = b[j·k + p]); else k×n.</param>
    public TrainGemm(Isa isa, int m, int n, int k, bool transA, bool transB, bool accumulate)
    {
        _uk = F32GemmMicrokernel.For(isa);
        _m = m; _n = n; _k = k; _transA = transA; _transB = transB;
        var source = transB ? GemmBSource.Packed : GemmBSource.RowMajor;
        _driver = new F32GemmDriver(_uk, m, n, k, source, n, null, [0], [0], [0], null, 0, 0, FusedActivation.None, 1);
        _packedA = GC.AllocateArray<float>(F32GemmPacking.PackedASize(m, k, _uk.MR) + 16, pinned: true);
        _packedB = transB ? GC.AllocateArray<float>(F32GemmPacking.PackedBSize(k, n, _uk.NR) + 16, pinned: true) : [];
        _scratch = GC.AllocateArray<float>(_driver.ScratchBytes / sizeof(float) + 16, pinned: true);
        _temp = accumulate ? GC.AllocateArray<float>(m * n, pinned: true) : [];
    }

    public void Run(float* a, float* b, float* c)
    {
        if (_m == 0 || _n == 0) return;
        if (_k == 0)
        {
            if (_temp.Length == 0) new Span<float>(c, _m * _n).Clear();
            return;
        }
        fixed (float* pa = _packedA, pb = _packedB, scratch = _scratch, temp = _temp)
        {
            F32GemmPacking.PackA(a, _m, _k, _transA ? _m : _k, _transA, 1f, _uk.MR, pa);
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
