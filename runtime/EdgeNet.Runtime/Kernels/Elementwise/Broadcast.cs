using EdgeNet.IR;

namespace EdgeNet.Kernels.Elementwise;

/// <summary>
/// Numpy broadcasting of N inputs to one output shape, precomputed once: per input, strides aligned to the output's
/// rank with 0 on broadcast dims. Walk(...) visits the output in row-major order carrying each input's offset, using
/// only the counters array allocated here (so kernels stay allocation-free).
/// </summary>
public sealed class Broadcast
{
    public int[] OutputDims { get; }
    public int Count { get; }
    /// <summary>strides[input][axis] in elements; 0 where the input is broadcast.</summary>
    private readonly int[][] _strides;
    private readonly int[] _counter;
    /// <summary>Input i has exactly the output's shape (flat index = output index).</summary>
    public bool[] IsFull { get; }
    /// <summary>Input i holds a single element.</summary>
    public bool[] IsScalar { get; }

    public Broadcast(int[] outputDims, params int[][] inputDims)
    {
        OutputDims = outputDims;
        Count = Shapes.Count(outputDims);
        int rank = outputDims.Length;
        _strides = new int[inputDims.Length][];
        IsFull = new bool[inputDims.Length];
        IsScalar = new bool[inputDims.Length];
        for (int k = 0; k < inputDims.Length; k++)
        {
            var d = inputDims[k];
            var s = new int[rank];
            int acc = 1;
            for (int i = d.Length - 1; i >= 0; i--)
            {
                int axis = rank - d.Length + i;
                s[axis] = d[i] == 1 && outputDims[axis] != 1 ? 0 : acc;
                acc *= d[i];
            }
            _strides[k] = s;
            IsScalar[k] = acc == 1;
            IsFull[k] = acc == Count && d.Length <= rank && d.AsSpan().SequenceEqual(outputDims.AsSpan(rank - d.Length));
        }
        _counter = new int[rank];
    }

    /// <summary>Strides of input k aligned to the output's axes (0 on broadcast axes).</summary>
    public ReadOnlySpan<int> Strides(int k) => _strides[k];

    /// <summary>Output shape of broadcasting the given shapes, or null if incompatible.</summary>
    public static int[]? Shape(params int[][] dims)
    {
        int[] r = [];
        foreach (var d in dims)
        {
            var next = Shapes.Broadcast(r, d);
            if (next is null) return null;
            r = next;
        }
        return r;
    }

    /// <summary>Element offset of input k for every output index, written to offsets (length Count) — used by generic loops.</summary>
    public void Offsets(int k, Span<int> offsets)
    {
        var strides = _strides[k];
        int rank = OutputDims.Length;
        Array.Clear(_counter);
        int offset = 0;
        for (int i = 0; i < Count; i++)
        {
            offsets[i] = offset;
            for (int axis = rank - 1; axis >= 0; axis--)
            {
                offset += strides[axis];
                if (++_counter[axis] < OutputDims[axis]) break;
                offset -= strides[axis] * _counter[axis];
                _counter[axis] = 0;
            }
        }
    }

    /// <summary>Walks the output in order along the innermost axis: calls body(outStart, length, offsets of each input, innermost stride of each input).</summary>
    public int InnerLength => OutputDims.Length == 0 ? 1 : OutputDims[^1];
    public int InnerStride(int k) => OutputDims.Length == 0 ? 0 : _strides[k][^1];

    /// <summary>Advances per-input row offsets to the next innermost row; call Count/InnerLength times after Reset.</summary>
    public void Reset(Span<int> rowOffsets)
    {
        Array.Clear(_counter);
        rowOffsets.Clear();
    }

    public void NextRow(Span<int> rowOffsets)
    {
        int rank = OutputDims.Length;
        for (int axis = rank - 2; axis >= 0; axis--)
        {
            for (int k = 0; k < rowOffsets.Length; k++) rowOffsets[k] += _strides[k][axis];
            if (++_counter[axis] < OutputDims[axis]) return;
            for (int k = 0; k < rowOffsets.Length; k++) rowOffsets[k] -= _strides[k][axis] * _counter[axis];
            _counter[axis] = 0;
        }
    }
}
