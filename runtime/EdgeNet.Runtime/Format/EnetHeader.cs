using System.Buffers.Binary;

namespace EdgeNet.Format;

/// <summary>The fixed 64-byte header of an .enet file (see README.md beside this file).</summary>
internal readonly record struct EnetHeader(uint Version, uint HeaderSize, ulong ManifestOffset, ulong ManifestLength, ulong WeightsOffset, ulong WeightsLength, ulong FileLength, ulong Checksum)
{
    public const int Size = 64;
    /// <summary>The newest version this reader loads and <see cref="EnetWriter"/> writes (version 3 only when asked, or for compact weights).</summary>
    public const uint CurrentVersion = 3;
    /// <summary>The oldest version this reader still loads.</summary>
    public const uint OldestVersion = 1;
    public const int ChecksumOffset = 56;
    /// <summary>The weights section and every weight in it start at a multiple of this (cache line, widest vector).</summary>
    public const int Alignment = 64;
    /// <summary>
    /// Version 2: a tensor of at least this many bytes lies in the mapped weights section at a multiple of
    /// <see cref="Alignment"/>; a smaller one is packed, at a multiple of its element size, into the compressed manifest.
    /// </summary>
    public const int BigTensorBytes = 1024;
    /// <summary>Version 2: the largest manifest a reader decompresses (a claim beyond it is a decompression bomb).</summary>
    public const int MaxManifestBytes = 64 << 20;
    public static ReadOnlySpan<byte> Magic => "ENET\r\n\u001a\n"u8;

    public void WriteTo(Span<byte> b)
    {
        Magic.CopyTo(b);
        BinaryPrimitives.WriteUInt32LittleEndian(b[8..], Version);
        BinaryPrimitives.WriteUInt32LittleEndian(b[12..], HeaderSize);
        BinaryPrimitives.WriteUInt64LittleEndian(b[16..], ManifestOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(b[24..], ManifestLength);
        BinaryPrimitives.WriteUInt64LittleEndian(b[32..], WeightsOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(b[40..], WeightsLength);
        BinaryPrimitives.WriteUInt64LittleEndian(b[48..], FileLength);
        BinaryPrimitives.WriteUInt64LittleEndian(b[56..], Checksum);
    }

    public static EnetHeader Read(ReadOnlySpan<byte> b, string file)
    {
        if (b.Length < Size || !b[..8].SequenceEqual(Magic))
            throw new ModelFormatException($"'{file}' is not an .enet file (bad magic)");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(b[8..]);
        if (version is < OldestVersion or > CurrentVersion)
            throw new ModelFormatException($"'{file}' is .enet format version {version}, an unsupported version: this EdgeNet reads versions {OldestVersion} to {CurrentVersion}");
        return new EnetHeader(version, BinaryPrimitives.ReadUInt32LittleEndian(b[12..]),
            BinaryPrimitives.ReadUInt64LittleEndian(b[16..]), BinaryPrimitives.ReadUInt64LittleEndian(b[24..]),
            BinaryPrimitives.ReadUInt64LittleEndian(b[32..]), BinaryPrimitives.ReadUInt64LittleEndian(b[40..]),
            BinaryPrimitives.ReadUInt64LittleEndian(b[48..]), BinaryPrimitives.ReadUInt64LittleEndian(b[56..]));
    }

    /// <summary>CRC-64 over the whole file except the checksum field itself.</summary>
    public static ulong ChecksumOf(ReadOnlySpan<byte> file)
    {
        ulong crc = Crc64.Update(Crc64.Begin, file[..ChecksumOffset]);
        return Crc64.End(Crc64.Update(crc, file[Size..]));
    }
}
