using System.Buffers.Binary;
using System.IO.Compression;

namespace EdgeNet.Training.Metrics;

/// <summary>CRC-32 as PNG and zlib's crc32 define it (reflected polynomial 0xEDB88320, init and xor-out all ones).</summary>
public static class Crc32
{
    private static readonly uint[] s_table = BuildTable();

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? (c >> 1) ^ 0xEDB88320u : c >> 1;
            table[i] = c;
        }
        return table;
    }

    public const uint Begin = uint.MaxValue;
    public static uint End(uint crc) => crc ^ uint.MaxValue;

    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        var table = s_table;
        foreach (byte b in data) crc = table[(byte)(crc ^ b)] ^ (crc >> 8);
        return crc;
    }

    public static uint Compute(ReadOnlySpan<byte> data) => End(Update(Begin, data));
}

/// <summary>
/// Writes 8-bit grey or RGB images as PNG: signature, IHDR, one IDAT (zlib stream, filter type 0 on every row), IEND, each
/// chunk with its CRC-32. Enough for plots; no interlacing, palette or ancillary chunks.
/// </summary>
public static class PngWriter
{
    private static readonly byte[] s_signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Encodes <paramref name="rgb"/> (height × width × 3 bytes, row-major) as a PNG file's bytes.</summary>
    public static byte[] EncodeRgb(ReadOnlySpan<byte> rgb, int width, int height) => Encode(rgb, width, height, 3);

    /// <summary>Encodes <paramref name="grey"/> (height × width bytes, row-major) as a PNG file's bytes.</summary>
    public static byte[] EncodeGrey(ReadOnlySpan<byte> grey, int width, int height) => Encode(grey, width, height, 1);

    private static byte[] Encode(ReadOnlySpan<byte> pixels, int width, int height, int channels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (pixels.Length != checked(width * height * channels)) throw new ArgumentException($"{pixels.Length} bytes for a {width}x{height}x{channels} image", nameof(pixels));
        var output = new MemoryStream();
        output.Write(s_signature);
        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr[4..], height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = (byte)(channels == 3 ? 2 : 0); // colour type: truecolour or greyscale
        ihdr[10] = ihdr[11] = ihdr[12] = 0; // deflate, adaptive filtering, no interlace
        WriteChunk(output, "IHDR"u8, ihdr);

        var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            int stride = width * channels;
            for (int y = 0; y < height; y++)
            {
                z.WriteByte(0); // filter: none
                z.Write(pixels.Slice(y * stride, stride));
            }
        }
        WriteChunk(output, "IDAT"u8, compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
        WriteChunk(output, "IEND"u8, []);
        return output.ToArray();
    }

    private static void WriteChunk(Stream s, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        s.Write(word);
        s.Write(type);
        s.Write(data);
        uint crc = Crc32.End(Crc32.Update(Crc32.Update(Crc32.Begin, type), data));
        BinaryPrimitives.WriteUInt32BigEndian(word, crc);
        s.Write(word);
    }
}
