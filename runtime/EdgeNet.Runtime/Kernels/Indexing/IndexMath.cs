using System.Runtime.InteropServices;
using EdgeNet.IR;

namespace EdgeNet.Kernels.Indexing;

/// <summary>
/// Shared helpers for ops whose indices are run-time data (GatherElements, GatherND, ScatterElements, ScatterND,
/// ReverseSequence): reading int32/int64 indices, bounds-checking them, and the per-position offset tables built once
/// per plan so Execute only adds index × stride.
/// </summary>
public static class IndexMath
{
    /// <summary>Reads index i of an int32 or int64 tensor (the only index types ONNX allows here).</summary>
    public static long Read(ReadOnlySpan<byte> indices, bool is64, int i) =>
        is64 ? MemoryMarshal.Cast<byte, long>(indices)[i] : MemoryMarshal.Cast<byte, int>(indices)[i];

    /// <summary>
    /// Maps a possibly negative index into [0, size) or throws <see cref="InputMismatchException"/>: an index from the
    /// model's data must never reach memory unchecked.
    /// </summary>
    public static int Normalize(long index, int size, string opType, string node)
    {
        long i = index < 0 ? index + size : index;
        if ((ulong)i >= (ulong)size)
            throw new InputMismatchException($"{opType} node '{node}': index {index} is out of range for a dimension of size {size}");
        return (int)i;
    }

    /// <summary>
    /// For every position p of a tensor shaped <paramref name="indexDims"/> (row-major), the flat offset into a tensor
    /// shaped <paramref name="dataDims"/> of the same coordinate with the <paramref name="axis"/> coordinate set to 0.
    /// Adding index × strides[axis] then gives the element GatherElements reads and ScatterElements writes.
    /// </summary>
    public static int[] AxisBaseOffsets(int[] indexDims, int[] dataDims, int axis)
    {
        var strides = Shapes.Strides(dataDims);
        int count = Shapes.Count(indexDims);
        var offsets = new int[count];
        var coord = new int[indexDims.Length];
        for (int p = 0; p < count; p++)
        {
            int off = 0;
            for (int d = 0; d < coord.Length; d++)
                if (d != axis) off += coord[d] * strides[d];
            offsets[p] = off;
            for (int d = coord.Length - 1; d >= 0; d--)
            {
                if (++coord[d] < indexDims[d]) break;
                coord[d] = 0;
            }
        }
        return offsets;
    }

    /// <summary>True if the index input is int64 (else int32); anything else is rejected naming the node.</summary>
    public static bool IsInt64Index(Ops.OpContext ctx, int input)
    {
        ctx.ExpectType(input, DataType.Int64, DataType.Int32);
        return ctx.InputType(input) == DataType.Int64;
    }
}
