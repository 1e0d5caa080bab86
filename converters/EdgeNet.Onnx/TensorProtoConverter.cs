using System.Runtime.InteropServices;
using EdgeNet.IR;
using EdgeNet.Onnx.Proto;
using Google.Protobuf;

namespace EdgeNet.Onnx;

/// <summary>ONNX TensorProto ⇄ EdgeNet Tensor, for initializers, attributes and .pb files.</summary>
public static class TensorProtoConverter
{
    /// <summary>Decodes a TensorProto; external data is read relative to <paramref name="baseDirectory"/> and may not leave it.</summary>
    public static Tensor FromProto(TensorProto proto, string? baseDirectory = null)
    {
        string name = proto.Name.Length > 0 ? proto.Name : "(unnamed tensor)";
        var type = (DataType)proto.DataType;
        if (type == DataType.String || !type.IsSupported())
            throw new UnsupportedOperatorException($"Tensor '{name}' has element type {DescribeType(proto.DataType)}, which EdgeNet does not support");
        if (proto.Segment is not null) throw new UnsupportedOperatorException($"Tensor '{name}' is segmented, which EdgeNet does not support");
        int[] dims = Shapes.FromLongs(proto.Dims.ToArray(), $"Tensor '{name}'");
        int count = Shapes.Count(dims);
        int size = type.SizeOf();
        long bytes = (long)count * size;

        if (proto.DataLocation == TensorProto.Types.DataLocation.External)
            return new Tensor(type, dims, ExternalData.Read(proto, name, bytes, baseDirectory));

        if (!proto.RawData.IsEmpty)
        {
            if (proto.RawData.Length != bytes)
                throw new InvalidModelException($"Tensor '{name}' ({type}{Shapes.Format(dims)}) needs {bytes} bytes of raw_data but has {proto.RawData.Length}");
            return new Tensor(type, dims, proto.RawData.ToByteArray());
        }

        int available = type switch
        {
            DataType.Float32 => proto.FloatData.Count,
            DataType.Float64 => proto.DoubleData.Count,
            DataType.Int64 => proto.Int64Data.Count,
            DataType.UInt32 or DataType.UInt64 => proto.Uint64Data.Count,
            _ => proto.Int32Data.Count,
        };
        if (available != count)
            throw new InvalidModelException($"Tensor '{name}' ({type}{Shapes.Format(dims)}) needs {count} values but its typed field holds {available}");
        var data = new byte[bytes];
        var t = new Tensor(type, dims, data);
        switch (type)
        {
            case DataType.Float32: Copy(proto.FloatData, t.AsSpan<float>()); break;
            case DataType.Float64: Copy(proto.DoubleData, t.AsSpan<double>()); break;
            case DataType.Int64: Copy(proto.Int64Data, t.AsSpan<long>()); break;
            case DataType.UInt64: Copy(proto.Uint64Data, t.AsSpan<ulong>()); break;
            case DataType.UInt32: { var s = t.AsSpan<uint>(); for (int i = 0; i < count; i++) s[i] = (uint)proto.Uint64Data[i]; break; }
            case DataType.Int32: Copy(proto.Int32Data, t.AsSpan<int>()); break;
            case DataType.Int16: { var s = t.AsSpan<short>(); for (int i = 0; i < count; i++) s[i] = (short)proto.Int32Data[i]; break; }
            case DataType.UInt16 or DataType.Float16: { var s = t.AsSpan<ushort>(); for (int i = 0; i < count; i++) s[i] = (ushort)proto.Int32Data[i]; break; }
            case DataType.Int8: { var s = t.AsSpan<sbyte>(); for (int i = 0; i < count; i++) s[i] = (sbyte)proto.Int32Data[i]; break; }
            case DataType.UInt8 or DataType.Bool: { var s = t.AsSpan<byte>(); for (int i = 0; i < count; i++) s[i] = (byte)(type == DataType.Bool ? (proto.Int32Data[i] != 0 ? 1 : 0) : proto.Int32Data[i]); break; }
            default: throw new UnsupportedOperatorException($"Tensor '{name}' has element type {type}, which EdgeNet does not support");
        }
        return t;
    }

    private static void Copy<T>(Google.Protobuf.Collections.RepeatedField<T> from, Span<T> to)
    {
        for (int i = 0; i < to.Length; i++) to[i] = from[i];
    }

    /// <summary>Encodes a tensor as a TensorProto with raw_data (little-endian, as ONNX specifies).</summary>
    public static TensorProto ToProto(string name, Tensor tensor)
    {
        var proto = new TensorProto { Name = name, DataType = (int)tensor.DataType, RawData = ByteString.CopyFrom(tensor.Data.Span) };
        foreach (int d in tensor.Dims) proto.Dims.Add(d);
        return proto;
    }

    internal static string DescribeType(int onnxType) => onnxType switch
    {
        8 => "STRING",
        14 => "COMPLEX64",
        15 => "COMPLEX128",
        16 => "BFLOAT16",
        >= 17 and <= 20 => "FLOAT8",
        21 => "UINT4",
        22 => "INT4",
        _ => Enum.IsDefined((DataType)onnxType) ? ((DataType)onnxType).ToString() : $"#{onnxType}",
    };

    internal static ReadOnlySpan<byte> Bytes<T>(ReadOnlySpan<T> values) where T : unmanaged => MemoryMarshal.AsBytes(values);
}
