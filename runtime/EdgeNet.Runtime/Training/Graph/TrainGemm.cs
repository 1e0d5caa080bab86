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
    private readonly float[] _strip = [], _tailPanels = [];
    private readonly int _stripStride;

    /// <param name="transA">A is stored k×m (A[i,p] = a[p·m + i]); else m×k.</param>
    /// <param name="transB">B is stored n×k (B[p,j] = b[j·k + p]); else k×n.</param>
    /// <param name="rowStrips">Enables <see cref="RunStrips"/> (B row-major, C = A·B).</param>
    public TrainGemm(Isa isa, int m, int n, int k, bool transA, bool transB, bool accumulate, bool rowStrips = false)
    {
        _uk = F32GemmMicrokernel.For(isa);
        _m = m; _n = n; _k = k; _transA = transA; _transB = transB;
        var source = transB ? GemmBSource.Packed : GemmBSource.RowMajor;
        _driver = new F32GemmDriver(_uk, m, n, k, source, n, null, [0], [0], [0], null, 0, 0, FusedActivation.None, 1);
        _packedA = GC.AllocateArray<float>(F32GemmPacking.PackedASize(m, k, _uk.MR) + 16, pinned: true);
        _packedB = transB ? GC.AllocateArray<float>(F32GemmPacking.PackedBSize(k, n, _uk.NR) + 16, pinned: true) : [];
        _scratch = GC.AllocateArray<float>(_driver.ScratchBytes / sizeof(float) + 16, pinned: true);
        if (rowStrips)
        {
            if (transB || accumulate) throw new ArgumentException("row strips need a row-major B and C = A·B");
            // one strip of MR rows, its rows padded to whole panels (the microkernel writes NR columns)
            _stripStride = (n + _uk.NR - 1) / _uk.NR * _uk.NR;
            _strip = GC.AllocateArray<float>(_uk.MR * _stripStride + 16, pinned: true);
            if (n % _uk.NR != 0) _tailPanels = GC.AllocateArray<float>(k * _uk.NR + 16, pinned: true);
        }
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

    /// <summary>Rows per strip of <see cref="RunStrips"/>.</summary>
    public int StripRows => _uk.MR;

    /// <summary>
    /// C = A·B (A packed by <see cref="PackA"/>) a strip of <see cref="StripRows"/> rows at a time, each handed to
    /// <paramref name="sink"/> while it is in L1 and never written whole: a caller that only needs each value once
    /// (an optimizer update right after its gradient) saves writing C to memory and reading it back, and its own
    /// memory traffic overlaps the next strip's arithmetic. Each element is the sum <see cref="Run"/> makes, in the
    /// same order: K is blocked as the driver blocks it.
    /// </summary>
    public void RunStrips(float* b, IGemmRowSink sink)
    {
        if (_strip.Length == 0) throw new InvalidOperationException("this TrainGemm was made without row strips");
        int mr = _uk.MR, nr = _uk.NR, kcMax = _uk.KC, fullPanels = _n / nr;
        fixed (float* pa = _packedA, strip = _strip, tail = _tailPanels)
        {
            // the last, partial panel of B, copied once for the whole run (K×NR, zero beyond column N)
            if (_tailPanels.Length > 0) F32GemmPacking.PackBTail(b, _n, 0, _k, fullPanels * nr, _n - fullPanels * nr, nr, tail);
            for (int i = 0; i < _m; i += mr)
            {
                int rows = Math.Min(mr, _m - i);
                if (_k == 0) new Span<float>(strip, mr * _stripStride).Clear();
                for (int k0 = 0; k0 < _k; k0 += kcMax)
                {
                    int kc = Math.Min(kcMax, _k - k0);
                    float* aPanel = pa + (nint)i * _k + (nint)k0 * mr;
                    for (int p = 0; p < fullPanels; p++)
                        _uk.Run(rows, kc, aPanel, b + (nint)k0 * _n + p * nr, _n, strip + p * nr, _stripStride, k0 > 0);
                    if (_tailPanels.Length > 0)
                        _uk.Run(rows, kc, aPanel, tail + (nint)k0 * nr, nr, strip + fullPanels * nr, _stripStride, k0 > 0);
                }
                sink.Rows(i, rows, strip, _stripStride);
            }
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

/// <summary>Takes the rows of a product as <see cref="TrainGemm.RunStrips"/> makes them.</summary>
public unsafe interface IGemmRowSink
{
    /// <summary>Rows [row0, row0 + rows) of C: row r at <paramref name="values"/> + r·<paramref name="stride"/>
    /// (N values each; the buffer is reused for the next strip).</summary>
    void Rows(int row0, int rows, float* values, int stride);
}

/// <summary>One <see cref="TrainGemm"/> per mini-batch size, made on first use (the last, partial batch of an epoch
/// has its own), so every size allocates once and later steps allocate nothing.</summary>
internal sealed class TrainGemmCache(Func<int, TrainGemm> create, int maxBatch)
{
    private readonly TrainGemm?[] _byBatch = new TrainGemm?[maxBatch + 1];
    public TrainGemm For(int batch) => _byBatch[batch] ??= create(batch);
}
