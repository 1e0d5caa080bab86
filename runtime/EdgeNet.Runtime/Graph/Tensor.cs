using System.Runtime.InteropServices;

namespace EdgeNet.IR;

/// <summary>
/// A host tensor with concrete dims: initializers, folded constants, and user inputs/outputs outside a session.
/// Data is raw little-endian bytes; it may be a managed array or a memory-mapped region of an .enet file.
/// </summary>
public sealed class Tensor
{
    public DataType DataType { get; }
    public int[] Dims { get; }
    public int ElementCount { get; }
    /// <summary>Raw bytes, exactly ElementCount * SizeOf(DataType) long.</summary>
    public Memory<byte> Data { get; }

    public Tensor(DataType dataType, int[] dims, Memory<byte> data)
    {
        if (!dataType.IsSupported()) throw new InvalidModelException($"Tensor data type {dataType} is not supported");
        DataType = dataType;
        Dims = dims;
        ElementCount = Shapes.Count(dims);
        long expected = (long)ElementCount * dataType.SizeOf();
        if (data.Length != expected)
            throw new InvalidModelException($"Tensor of type {dataType} and shape {Shapes.Format(dims)} needs {expected} bytes but has {data.Length}");
        Data = data;
    }

    /// <summary>A zero-filled tensor.</summary>
    public static Tensor Zeros(DataType dataType, int[] dims) =>
        new(dataType, dims, new byte[(long)Shapes.Count(dims) * dataType.SizeOf()]);

    public static Tensor FromArray<T>(int[] dims, T[] values) where T : unmanaged
    {
        var t = Zeros(DataTypes.Of<T>(), dims);
        if (values.Length != t.ElementCount) throw new ArgumentException($"{values.Length} values for shape {Shapes.Format(dims)}");
        values.AsSpan().CopyTo(t.AsSpan<T>());
        return t;
    }

    public static Tensor Scalar<T>(T value) where T : unmanaged => FromArray([], [value]);

    public Span<T> AsSpan<T>() where T : unmanaged => MemoryMarshal.Cast<byte, T>(Data.Span);

    public int Rank => Dims.Length;

    /// <summary>Reads element i as a double whatever the element type (for small shape tensors and tests).</summary>
    public double GetAsDouble(int i) => DataType switch
    {
        DataType.Float32 => AsSpan<float>()[i],
        DataType.Float64 => AsSpan<double>()[i],
        DataType.Int64 => AsSpan<long>()[i],
        DataType.Int32 => AsSpan<int>()[i],
        DataType.Int16 => AsSpan<short>()[i],
        DataType.UInt16 => AsSpan<ushort>()[i],
        DataType.Int8 => AsSpan<sbyte>()[i],
        DataType.UInt8 => AsSpan<byte>()[i],
        DataType.Bool => AsSpan<byte>()[i] != 0 ? 1 : 0,
        DataType.UInt32 => AsSpan<uint>()[i],
        DataType.UInt64 => AsSpan<ulong>()[i],
        DataType.Float16 => (double)AsSpan<Half>()[i],
        _ => throw new InvalidOperationException($"Cannot read {DataType}"),
    };

    /// <summary>Reads an integer tensor (int64/int32/...) as longs: shape, axes, pads inputs.</summary>
    public long[] ToInt64Array()
    {
        var r = new long[ElementCount];
        if (DataType == DataType.Int64) AsSpan<long>().CopyTo(r);
        else for (int i = 0; i < r.Length; i++) r[i] = checked((long)GetAsDouble(i));
        return r;
    }

    public float[] ToFloatArray()
    {
        var r = new float[ElementCount];
        if (DataType == DataType.Float32) AsSpan<float>().CopyTo(r);
        else for (int i = 0; i < r.Length; i++) r[i] = (float)GetAsDouble(i);
        return r;
    }

    /// <summary>A deep copy into a fresh managed array.</summary>
    public Tensor Clone() => new(DataType, (int[])Dims.Clone(), Data.ToArray());

    public override string ToString() => $"{DataType}{Shapes.Format(Dims)}";
}
