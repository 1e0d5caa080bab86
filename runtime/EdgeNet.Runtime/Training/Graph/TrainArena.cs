using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EdgeNet.Training;

/// <summary>
/// The training step's memory: one pinned float block, laid out once when the trainable graph is planned (values,
/// their gradients, each layer's scratch), sized for the largest mini-batch. A step only reads and writes inside it,
/// so it allocates nothing.
/// </summary>
public sealed unsafe class TrainArena
{
    private float[] _data = [];
    private int _size;

    /// <summary>Reserves <paramref name="floats"/> floats (64-byte aligned) and returns their offset.</summary>
    public int Reserve(int floats)
    {
        if (_data.Length > 0) throw new InvalidOperationException("The arena is already allocated");
        int offset = _size;
        _size += (floats + 15) & ~15;
        return offset;
    }

    /// <summary>Floats in the arena.</summary>
    public int Size => _size;

    internal void Allocate()
    {
        _data = GC.AllocateArray<float>(Math.Max(16, _size + 16), pinned: true);
        // 64-byte alignment of the base
        fixed (float* p = _data) _shift = (int)(((64 - ((nint)p & 63)) & 63) / sizeof(float));
    }

    private int _shift;

    public Span<float> Span(int offset, int count) => _data.AsSpan(_shift + offset, count);

    public float* Pointer(int offset) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_data)) + _shift + offset;
}
