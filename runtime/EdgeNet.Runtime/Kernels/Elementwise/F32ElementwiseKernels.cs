using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EdgeNet.Execution;
using EdgeNet.Execution.Threading;

namespace EdgeNet.Kernels.Elementwise;

/// <summary>Splits n elements into parts of whole vector multiples (at least <see cref="MinPart"/> elements each).</summary>
internal static class ElementwiseParts
{
    /// <summary>Below this many elements per thread, waking a worker costs more than it saves.</summary>
    public const int MinPart = 1 << 16;

    public static int Count(int n, int threads) => Math.Max(1, Math.Min(threads, n / MinPart));

    public static (int Start, int Length) Range(int part, int parts, int n)
    {
        int per = (n / parts + 63) & ~63;
        int start = Math.Min(n, part * per);
        return (start, part == parts - 1 ? n - start : Math.Min(per, n - start));
    }
}

/// <summary>
/// y = op(x) over float32 with the vector width of the session's ISA (safe in place). Large tensors are split over
/// the session's intra-op threads (the kernel is its own <see cref="IParallelWork"/>, so nothing is allocated).
/// </summary>
public sealed class F32UnaryKernel<TOp>(TOp op, VectorWidth width) : Kernel, IParallelWork where TOp : struct, IF32UnaryOperator
{
    private Memory<byte> _x, _y;
    private int _parts;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute(ExecutionContext ctx)
    {
        var y = Output<float>(ctx, 0);
        int parts = ElementwiseParts.Count(y.Length, ctx.Threads);
        if (parts == 1)
        {
            F32Elementwise.Unary(op, Input<float>(ctx, 0)[..y.Length], y, width);
            return;
        }
        _x = ctx.Buffers[InputSlots[0]];
        _y = ctx.Buffers[OutputSlots[0]];
        _parts = parts;
        ctx.Parallel(this, parts, parts);
        _x = _y = default;
    }

    void IParallelWork.Execute(int part)
    {
        var y = MemoryMarshal.Cast<byte, float>(_y.Span);
        var (start, length) = ElementwiseParts.Range(part, _parts, y.Length);
        F32Elementwise.Unary(op, MemoryMarshal.Cast<byte, float>(_x.Span).Slice(start, length), y.Slice(start, length), width);
    }
}

/// <summary>
/// How a two-input broadcast splits into blocks the vector drivers handle: the longest suffix of output axes over
/// which each input is either contiguous (same layout as the output) or constant (broadcast). Same shapes give one
/// block; a scalar operand gives one block with a constant side; a row [L] against [N, L] gives N blocks of L; a
/// per-channel [C, 1, 1] against [N, C, H, W] gives N·C blocks of H·W with a constant side. All offsets are computed
/// here, so Run does not allocate.
/// </summary>
public sealed class F32BroadcastPlan
{
    private readonly int _block;
    private readonly bool _constA, _constB;
    private readonly int[] _offA, _offB;

    public int BlockLength => _block;
    public int Blocks => _offA.Length;

    public F32BroadcastPlan(Broadcast bc)
    {
        var dims = bc.OutputDims;
        int rank = dims.Length;
        var sa = bc.Strides(0);
        var sb = bc.Strides(1);
        // mode per input: 0 undecided (only size-1 axes so far), 1 contiguous, 2 constant
        int modeA = 0, modeB = 0, block = 1, split = rank;
        for (int axis = rank - 1; axis >= 0; axis--)
        {
            if (dims[axis] == 1) { split = axis; continue; }
            if (!Fits(sa[axis], block, ref modeA) | !Fits(sb[axis], block, ref modeB)) break;
            block *= dims[axis];
            split = axis;
        }
        _block = block;
        _constA = modeA == 2;
        _constB = modeB == 2;
        int blocks = block == 0 ? 0 : bc.Count / block;
        _offA = new int[blocks];
        _offB = new int[blocks];
        var counter = new int[rank];
        int oa = 0, ob = 0;
        for (int k = 0; k < blocks; k++)
        {
            _offA[k] = oa;
            _offB[k] = ob;
            for (int axis = split - 1; axis >= 0; axis--)
            {
                oa += sa[axis];
                ob += sb[axis];
                if (++counter[axis] < dims[axis]) break;
                oa -= sa[axis] * counter[axis];
                ob -= sb[axis] * counter[axis];
                counter[axis] = 0;
            }
        }
    }

    private static bool Fits(int stride, int block, ref int mode)
    {
        int want = stride == 0 ? 2 : stride == block ? 1 : -1;
        if (want < 0 || (mode != 0 && mode != want)) return false;
        mode = want;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run<TOp>(TOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, VectorWidth width) where TOp : struct, IF32BinaryOperator
    {
        int len = _block;
        for (int k = 0; k < _offA.Length; k++)
        {
            var yb = y.Slice(k * len, len);
            if (!_constA && !_constB) F32Elementwise.Binary(op, a.Slice(_offA[k], len), b.Slice(_offB[k], len), yb, width);
            else if (_constB && !_constA) F32Elementwise.BinaryScalarB(op, a.Slice(_offA[k], len), b[_offB[k]], yb, width);
            else if (_constA && !_constB) F32Elementwise.BinaryScalarA(op, a[_offA[k]], b.Slice(_offB[k], len), yb, width);
            else yb.Fill(op.Invoke(a[_offA[k]], b[_offB[k]]));
        }
    }
}

/// <summary>
/// y = op(a, b) over float32 with numpy broadcasting, vectorized block by block (see <see cref="F32BroadcastPlan"/>);
/// a single large block (same shapes, scalar operand) is split over the intra-op threads.
/// </summary>
public sealed class F32BinaryKernel<TOp>(TOp op, Broadcast broadcast, VectorWidth width) : Kernel, IParallelWork where TOp : struct, IF32BinaryOperator
{
    private readonly F32BroadcastPlan _plan = new(broadcast);
    private readonly bool _scalarA = broadcast.IsScalar[0] && !broadcast.IsFull[0];
    private readonly bool _scalarB = broadcast.IsScalar[1] && !broadcast.IsFull[1];
    private Memory<byte> _a, _b, _y;
    private int _parts;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute(ExecutionContext ctx)
    {
        var y = Output<float>(ctx, 0);
        int parts = _plan.Blocks == 1 && !(_scalarA && _scalarB) ? ElementwiseParts.Count(y.Length, ctx.Threads) : 1;
        if (parts == 1)
        {
            _plan.Run(op, Input<float>(ctx, 0), Input<float>(ctx, 1), y, width);
            return;
        }
        _a = ctx.Buffers[InputSlots[0]];
        _b = ctx.Buffers[InputSlots[1]];
        _y = ctx.Buffers[OutputSlots[0]];
        _parts = parts;
        ctx.Parallel(this, parts, parts);
        _a = _b = _y = default;
    }

    void IParallelWork.Execute(int part)
    {
        var a = MemoryMarshal.Cast<byte, float>(_a.Span);
        var b = MemoryMarshal.Cast<byte, float>(_b.Span);
        var y = MemoryMarshal.Cast<byte, float>(_y.Span);
        var (start, length) = ElementwiseParts.Range(part, _parts, y.Length);
        var yp = y.Slice(start, length);
        if (_scalarA) F32Elementwise.BinaryScalarA(op, a[0], b.Slice(start, length), yp, width);
        else if (_scalarB) F32Elementwise.BinaryScalarB(op, a.Slice(start, length), b[0], yp, width);
        else F32Elementwise.Binary(op, a.Slice(start, length), b.Slice(start, length), yp, width);
    }
}
