using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EdgeNet.Execution;

namespace EdgeNet.Kernels.Copy;

/// <summary>
/// y[i] = x[map[i]] (or a fill value where map[i] &lt; 0): the reference for every pure data-movement op
/// (Transpose, Slice, Expand, Tile, Pad, DepthToSpace, Trilu, ...). The map is built once per plan.
/// </summary>
public sealed class IndexMapKernel(int[] map, int elementSize, byte[]? fill = null) : Kernel
{
    /// <summary>Builds the map by visiting every output multi-index in row-major order.</summary>
    public static int[] Build(int[] outputDims, Func<int[], int> source)
    {
        int count = IR.Shapes.Count(outputDims);
        var map = new int[count];
        var index = new int[outputDims.Length];
        for (int i = 0; i < count; i++)
        {
            map[i] = source(index);
            for (int axis = outputDims.Length - 1; axis >= 0; axis--)
            {
                if (++index[axis] < outputDims[axis]) break;
                index[axis] = 0;
            }
        }
        return map;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute(ExecutionContext ctx)
    {
        var x = InputBytes(ctx, 0);
        var y = OutputBytes(ctx, 0);
        switch (elementSize)
        {
            case 4: Gather(MemoryMarshal.Cast<byte, int>(x), MemoryMarshal.Cast<byte, int>(y), Fill<int>()); break;
            case 8: Gather(MemoryMarshal.Cast<byte, long>(x), MemoryMarshal.Cast<byte, long>(y), Fill<long>()); break;
            case 2: Gather(MemoryMarshal.Cast<byte, short>(x), MemoryMarshal.Cast<byte, short>(y), Fill<short>()); break;
            default: Gather(x, y, Fill<byte>()); break;
        }
    }

    private T Fill<T>() where T : unmanaged => fill is null ? default : MemoryMarshal.Read<T>(fill);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Gather<T>(ReadOnlySpan<T> x, Span<T> y, T fillValue) where T : unmanaged
    {
        var m = map;
        for (int i = 0; i < m.Length; i++)
        {
            int s = m[i];
            y[i] = s >= 0 ? x[s] : fillValue;
        }
    }
}
