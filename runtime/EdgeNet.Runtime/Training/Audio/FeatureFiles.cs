using System.Runtime.InteropServices;
using System.Text;

namespace EdgeNet.Training.Audio;

/// <summary>
/// Writes a float32 matrix as a NumPy .npy file (version 1, little-endian, C order) straight from a span, in blocks:
/// no tensor is built, so the size is bound only by the array (the wake-word windows of a training set,
/// e.g. 52k × 1536 values, are more than one tensor may hold).
/// </summary>
public static class FeatureFiles
{
    /// <summary>Writes <paramref name="data"/> as a [<paramref name="rows"/>, <paramref name="columns"/>] float32 .npy file.</summary>
    public static void WriteNpy(string path, ReadOnlySpan<float> data, long rows, int columns)
    {
        if (rows < 0 || columns <= 0 || data.Length != rows * columns)
            throw new ArgumentException($"{data.Length} values do not make a [{rows}, {columns}] matrix");
        using var stream = File.Create(path);
        WriteHeader(stream, "<f4", $"({rows}, {columns})");
        const int block = 1 << 16;
        for (int at = 0; at < data.Length; at += block)
            stream.Write(MemoryMarshal.AsBytes(data.Slice(at, Math.Min(block, data.Length - at))));
    }

    /// <summary>Writes <paramref name="labels"/> as a 1-d int64 .npy file.</summary>
    public static void WriteNpy(string path, ReadOnlySpan<int> labels)
    {
        using var stream = File.Create(path);
        WriteHeader(stream, "<i8", $"({labels.Length},)");
        Span<byte> buffer = stackalloc byte[8];
        foreach (int l in labels)
        {
            BitConverter.TryWriteBytes(buffer, (long)l);
            stream.Write(buffer);
        }
    }

    private static void WriteHeader(Stream stream, string descr, string shape)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException(".npy dumps are written on little-endian machines only");
        string header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        int total = 10 + header.Length + 1;
        header += new string(' ', (64 - total % 64) % 64) + "\n";
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(Encoding.ASCII.GetBytes(header));
    }
}
