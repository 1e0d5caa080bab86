using System.Runtime.InteropServices;
using EdgeNet.IR;

namespace EdgeNet.Kernels.Elementwise;

/// <summary>Reads/writes one element of any numeric type as double (slow paths: mixed-type ops, casts).</summary>
public static class ElementIO
{
    public static double Read(ReadOnlySpan<byte> data, DataType type, int i) => type switch
    {
        DataType.Float32 => MemoryMarshal.Cast<byte, float>(data)[i],
        DataType.Float64 => MemoryMarshal.Cast<byte, double>(data)[i],
        DataType.Float16 => (double)MemoryMarshal.Cast<byte, Half>(data)[i],
        DataType.Int8 => (sbyte)data[i],
        DataType.UInt8 or DataType.Bool => data[i],
        DataType.Int16 => MemoryMarshal.Cast<byte, short>(data)[i],
        DataType.UInt16 => MemoryMarshal.Cast<byte, ushort>(data)[i],
        DataType.Int32 => MemoryMarshal.Cast<byte, int>(data)[i],
        DataType.UInt32 => MemoryMarshal.Cast<byte, uint>(data)[i],
        DataType.Int64 => MemoryMarshal.Cast<byte, long>(data)[i],
        DataType.UInt64 => MemoryMarshal.Cast<byte, ulong>(data)[i],
        _ => double.NaN,
    };

    public static void Write(Span<byte> data, DataType type, int i, double v)
    {
        switch (type)
        {
            case DataType.Float32: MemoryMarshal.Cast<byte, float>(data)[i] = (float)v; break;
            case DataType.Float64: MemoryMarshal.Cast<byte, double>(data)[i] = v; break;
            case DataType.Float16: MemoryMarshal.Cast<byte, Half>(data)[i] = (Half)v; break;
            case DataType.Int8: data[i] = (byte)(sbyte)v; break;
            case DataType.UInt8: data[i] = (byte)v; break;
            case DataType.Bool: data[i] = v != 0 ? (byte)1 : (byte)0; break;
            case DataType.Int16: MemoryMarshal.Cast<byte, short>(data)[i] = (short)v; break;
            case DataType.UInt16: MemoryMarshal.Cast<byte, ushort>(data)[i] = (ushort)v; break;
            case DataType.Int32: MemoryMarshal.Cast<byte, int>(data)[i] = (int)v; break;
            case DataType.UInt32: MemoryMarshal.Cast<byte, uint>(data)[i] = (uint)v; break;
            case DataType.Int64: MemoryMarshal.Cast<byte, long>(data)[i] = (long)v; break;
            case DataType.UInt64: MemoryMarshal.Cast<byte, ulong>(data)[i] = (ulong)v; break;
        }
    }
}
