using System.Buffers.Binary;
using System.Text;
using EdgeNet.Format;

namespace EdgeNet.Training.Checkpoints;

/// <summary>
/// The checkpoint file format (<c>.enckpt</c>, little-endian):
/// <code>
/// 0    8  magic "ENCKPT\r\n"
/// 8    4  format version (1)
/// 12   4  zero
/// 16   8  sequence number
/// 24   8  payload length P
/// 32   8  CRC-64/XZ of the payload
/// 40   8  CRC-64/XZ of bytes 0..39 (the header)
/// 48   P  payload: metadata, tensors, model
/// 48+P 8  trailer magic "ENCKEND\n"
/// 56+P 8  CRC-64/XZ of the payload again
/// </code>
/// Payload: u32 metadata count, then (string key, string value) pairs; u32 tensor count, then (string name, u32 rank,
/// i32 dims…, f32 data…); u64 model length, then the model's .enet bytes (which carry their own CRC-64).
/// Strings are u32 byte length + UTF-8. A reader checks, in order: length, magic, header CRC, version, declared
/// length = file length, trailer, payload CRC, then parses with every count bounded by the bytes left, then the .enet
/// header and CRC. Any failure is a <see cref="CheckpointException"/> that says what was wrong.
/// </summary>
public static class CheckpointFile
{
    public const string Extension = ".enckpt";
    public const uint Version = 1;
    private const int HeaderSize = 48, TrailerSize = 16;
    private static ReadOnlySpan<byte> Magic => "ENCKPT\r\n"u8;
    private static ReadOnlySpan<byte> TrailerMagic => "ENCKEND\n"u8;

    public static byte[] Serialize(Checkpoint checkpoint, long sequence)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var payload = new MemoryStream();
        var w = new BinaryWriter(payload, Encoding.UTF8, leaveOpen: true);
        w.Write((uint)checkpoint.Metadata.Count);
        foreach (var (k, v) in checkpoint.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            WriteString(w, k);
            WriteString(w, v);
        }
        w.Write((uint)checkpoint.Tensors.Count);
        foreach (var (name, t) in checkpoint.Tensors.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            t.Validate(name);
            WriteString(w, name);
            w.Write((uint)t.Dims.Length);
            foreach (int d in t.Dims) w.Write(d);
            if (BitConverter.IsLittleEndian) w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.Data.AsSpan()));
            else foreach (float f in t.Data) w.Write(f);
        }
        w.Write((ulong)checkpoint.ModelBytes.Length);
        w.Write(checkpoint.ModelBytes);
        w.Flush();

        int p = (int)payload.Length;
        var file = new byte[HeaderSize + p + TrailerSize];
        payload.GetBuffer().AsSpan(0, p).CopyTo(file.AsSpan(HeaderSize));
        ulong payloadCrc = Crc64.Compute(file.AsSpan(HeaderSize, p));
        Magic.CopyTo(file);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(8), Version);
        BinaryPrimitives.WriteInt64LittleEndian(file.AsSpan(16), sequence);
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(24), (ulong)p);
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(32), payloadCrc);
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(40), Crc64.Compute(file.AsSpan(0, 40)));
        TrailerMagic.CopyTo(file.AsSpan(HeaderSize + p));
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(HeaderSize + p + 8), payloadCrc);
        return file;
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((uint)bytes.Length);
        w.Write(bytes);
    }

    public static Checkpoint Read(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new CheckpointException($"cannot read '{path}': {e.Message}", e); }
        return Deserialize(bytes, Path.GetFileName(path));
    }

    public static Checkpoint Deserialize(ReadOnlySpan<byte> b, string name = "checkpoint")
    {
        if (b.Length < HeaderSize + TrailerSize)
            throw Bad(name, b.Length >= 8 && b[..8].SequenceEqual(Magic) ? $"truncated ({b.Length} bytes)" : "not a checkpoint file (bad magic or empty)");
        if (!b[..8].SequenceEqual(Magic)) throw Bad(name, "not a checkpoint file (bad magic)");
        if (Crc64.Compute(b[..40]) != BinaryPrimitives.ReadUInt64LittleEndian(b[40..])) throw Bad(name, "header checksum mismatch");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(b[8..]);
        if (version != Version) throw Bad(name, $"format version {version}, this EdgeNet reads version {Version}");
        long sequence = BinaryPrimitives.ReadInt64LittleEndian(b[16..]);
        ulong p = BinaryPrimitives.ReadUInt64LittleEndian(b[24..]);
        ulong crc = BinaryPrimitives.ReadUInt64LittleEndian(b[32..]);
        if (p != (ulong)(b.Length - HeaderSize - TrailerSize))
            throw Bad(name, p > (ulong)(b.Length - HeaderSize - TrailerSize) ? $"truncated ({b.Length} bytes, the header says {p + HeaderSize + TrailerSize})" : "longer than its header says");
        var payload = b.Slice(HeaderSize, (int)p);
        var trailer = b[(HeaderSize + (int)p)..];
        if (!trailer[..8].SequenceEqual(TrailerMagic) || BinaryPrimitives.ReadUInt64LittleEndian(trailer[8..]) != crc)
            throw Bad(name, "trailer missing or damaged (torn write)");
        if (Crc64.Compute(payload) != crc) throw Bad(name, "payload checksum mismatch");

        var r = new Reader(payload, name);
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        uint metaCount = r.U32();
        for (uint i = 0; i < metaCount; i++)
        {
            string k = r.String();
            if (!meta.TryAdd(k, r.String())) throw Bad(name, $"metadata key '{k}' appears twice");
        }
        var tensors = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        uint tensorCount = r.U32();
        for (uint i = 0; i < tensorCount; i++)
        {
            string tn = r.String();
            uint rank = r.U32();
            if (rank > 16) throw Bad(name, $"tensor '{tn}' has rank {rank}");
            var dims = new int[rank];
            long n = 1;
            for (int d = 0; d < rank; d++)
            {
                dims[d] = r.I32();
                if (dims[d] < 0) throw Bad(name, $"tensor '{tn}' has a negative dimension");
                n *= dims[d];
                if (n * 4 > r.Remaining) throw Bad(name, $"tensor '{tn}' is larger than the file");
            }
            var data = new float[n];
            r.Floats(data);
            if (!tensors.TryAdd(tn, new NamedTensor(dims, data))) throw Bad(name, $"tensor '{tn}' appears twice");
        }
        ulong modelLength = r.U64();
        if (modelLength != (ulong)r.Remaining) throw Bad(name, "model section length does not match");
        var model = r.Bytes((int)modelLength);
        if (model.Length < EnetHeader.Size || !model.AsSpan(0, 8).SequenceEqual(EnetHeader.Magic)) throw Bad(name, "the model section is not an .enet file");
        if (EnetHeader.ChecksumOf(model) != BinaryPrimitives.ReadUInt64LittleEndian(model.AsSpan(EnetHeader.ChecksumOffset)))
            throw Bad(name, "the model's own checksum does not match");
        return new Checkpoint { ModelBytes = model, Metadata = meta, Tensors = tensors, Sequence = sequence };
    }

    private static CheckpointException Bad(string name, string what) => new($"checkpoint '{name}' is unusable: {what}");

    private ref struct Reader(ReadOnlySpan<byte> b, string name)
    {
        private readonly ReadOnlySpan<byte> _b = b;
        private int _at;

        public readonly int Remaining => _b.Length - _at;

        private ReadOnlySpan<byte> Take(int n)
        {
            if (n < 0 || n > Remaining) throw Bad(name, "a field runs past the end of the payload");
            var s = _b.Slice(_at, n);
            _at += n;
            return s;
        }

        public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
        public int I32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));
        public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

        public string String()
        {
            uint n = U32();
            if (n > Remaining) throw Bad(name, "a string runs past the end of the payload");
            try { return new UTF8Encoding(false, true).GetString(Take((int)n)); }
            catch (DecoderFallbackException e) { throw new CheckpointException($"checkpoint '{name}' is unusable: a string is not UTF-8", e); }
        }

        public void Floats(Span<float> dst)
        {
            var src = Take(checked(dst.Length * 4));
            for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadSingleLittleEndian(src[(4 * i)..]);
        }

        public byte[] Bytes(int n) => Take(n).ToArray();
    }
}
