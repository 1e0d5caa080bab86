using EdgeNet.Execution;

namespace EdgeNet.Kernels.Elementwise;

/// <summary>y = op(x) over float32 with the vector width of the session's ISA (safe in place).</summary>
public sealed class F32UnaryKernel<TOp>(TOp op, VectorWidth width) : Kernel where TOp : struct, IF32UnaryOperator
{
    public override void Execute(ExecutionContext ctx)
    {
        var y = Output<float>(ctx, 0);
        F32Elementwise.Unary(op, Input<float>(ctx, 0)[..y.Length], y, width);
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

/// <summary>y = op(a, b) over float32 with numpy broadcasting, vectorized block by block (see <see cref="F32BroadcastPlan"/>).</summary>
public sealed class F32BinaryKernel<TOp>(TOp op, Broadcast broadcast, VectorWidth width) : Kernel where TOp : struct, IF32BinaryOperator
{
    private readonly F32BroadcastPlan _plan = new(broadcast);

    public override void Execute(ExecutionContext ctx) =>
        _plan.Run(op, Input<float>(ctx, 0), Input<float>(ctx, 1), Output<float>(ctx, 0), width);
}
