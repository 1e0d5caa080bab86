using System.Globalization;
using System.Text;
using EdgeNet.IR;

namespace EdgeNet.Onnx;

/// <summary>NumPy .npy files (format versions 1–3, little-endian, C order).</summary>
public static class Npy
{
    private static readonly byte[] s_magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    private static readonly (string Code, DataType Type)[] s_types =
    [
        ("f4", DataType.Float32), ("f8", DataType.Float64), ("f2", DataType.Float16), ("i1", DataType.Int8), ("u1", DataType.UInt8),
        ("i2", DataType.Int16), ("u2", DataType.UInt16), ("i4", DataType.Int32), ("u4", DataType.UInt32),
        ("i8", DataType.Int64), ("u8", DataType.UInt64), ("b1", DataType.Bool),
    ];

    public static Tensor Read(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException($"Cannot read '{path}': {e.Message}", e);
        }
        return Parse(bytes, Path.GetFileName(path));
    }

    public static Tensor Parse(byte[] bytes, string what)
    {
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(s_magic)) throw new ModelFormatException($"'{what}' is not a .npy file");
        int major = bytes[6];
        int headerLength, start;
        if (major == 1) { headerLength = BitConverter.ToUInt16(bytes, 8); start = 10; }
        else if (major is 2 or 3 && bytes.Length >= 12) { headerLength = checked((int)BitConverter.ToUInt32(bytes, 8)); start = 12; }
        else throw new ModelFormatException($"'{what}': unsupported .npy version {major}");
        if (headerLength < 0 || start + headerLength > bytes.Length) throw new ModelFormatException($"'{what}': .npy header runs past the end");
        string header = Encoding.UTF8.GetString(bytes, start, headerLength);
        string descr = Field(header, "descr", what).Trim('\'', '"');
        bool fortran = Field(header, "fortran_order", what).StartsWith("True", StringComparison.Ordinal);
        if (fortran) throw new UnsupportedOperatorException($"'{what}': Fortran-order .npy arrays are not supported");
        if (descr.Length != 3 || descr[0] is not ('<' or '|' or '=')) throw new UnsupportedOperatorException($"'{what}': .npy dtype '{descr}' is not supported (little-endian numeric only)");
        var type = DataType.Undefined;
        foreach (var (code, t) in s_types) if (descr[1..] == code) type = t;
        if (type == DataType.Undefined) throw new UnsupportedOperatorException($"'{what}': .npy dtype '{descr}' is not supported");
        string shapeText = Field(header, "shape", what).Trim().TrimStart('(').TrimEnd(')');
        var dims = new List<long>();
        foreach (var part in shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            dims.Add(long.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out long d) ? d
                : throw new ModelFormatException($"'{what}': bad .npy shape '{shapeText}'"));
        int[] shape = Shapes.FromLongs(dims.ToArray(), what);
        long size = (long)Shapes.Count(shape) * type.SizeOf();
        int dataStart = start + headerLength;
        if (bytes.Length - dataStart != size) throw new InvalidModelException($"'{what}': .npy data is {bytes.Length - dataStart} bytes, shape {Shapes.Format(shape)} needs {size}");
        return new Tensor(type, shape, bytes.AsSpan(dataStart).ToArray());
    }

    private static string Field(string header, string key, string what)
    {
        int at = header.IndexOf("'" + key + "'", StringComparison.Ordinal);
        if (at < 0) throw new ModelFormatException($"'{what}': .npy header lacks '{key}'");
        int colon = header.IndexOf(':', at);
        int end = key == "shape" ? header.IndexOf(')', colon) + 1 : header.IndexOfAny([',', '}'], colon);
        if (colon < 0 || end <= colon) throw new ModelFormatException($"'{what}': malformed .npy header");
        return header[(colon + 1)..end].Trim();
    }

    public static void Write(string path, Tensor tensor)
    {
        string code = s_types.First(t => t.Type == tensor.DataType).Code;
        string shape = tensor.Rank == 1 ? $"({tensor.Dims[0]},)" : "(" + string.Join(", ", tensor.Dims) + ")";
        string header = $"{{'descr': '{(code == "b1" || code[1] == '1' ? "|" : "<")}{code}', 'fortran_order': False, 'shape': {shape}, }}";
        int total = 10 + header.Length + 1;
        header += new string(' ', (64 - total % 64) % 64) + "\n";
        using var stream = File.Create(path);
        stream.Write(s_magic);
        stream.Write([1, 0]);
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(Encoding.ASCII.GetBytes(header));
        stream.Write(tensor.Data.Span);
    }
}
