using EdgeNet.Format.Proto;
using EdgeNet.IR;
using Google.Protobuf;

namespace EdgeNet.Format;

/// <summary>
/// Writes a Model as an .enet file: header, manifest, weights, CRC-64 over all of it. Version 2 (the default) stores a
/// Brotli-compressed manifest with a string table and packs small tensors; version 1 (64-byte aligned tensors, plain
/// manifest) is still written on request, for readers that only know it.
/// </summary>
public sealed class EnetWriteOptions
{
    /// <summary>Store float32 weights that are exactly int8 per channel or exactly IEEE half in that form (version 3, lossless).</summary>
    public bool CompactFloatWeights { get; init; }
}

public static class EnetWriter
{
    /// <summary>Writes format version 2 (every weight as its data type), readable by every EdgeNet since version 2.</summary>
    public static void Write(Model model, string path) => Write(model, path, 2);

    /// <summary>Writes format <paramref name="formatVersion"/> (1, 2 or 3; version 3 without compact weights).</summary>
    public static void Write(Model model, string path, uint formatVersion) => WriteBytes(Encode(model, formatVersion), path);

    /// <summary>
    /// Writes with <paramref name="options"/>: with <see cref="EnetWriteOptions.CompactFloatWeights"/>, float32 weights
    /// that are exactly int8 per channel or exactly half are stored so (version 3; version 2 when there are none).
    /// </summary>
    public static void Write(Model model, string path, EnetWriteOptions options) => WriteBytes(Encode(model, options), path);

    internal static byte[] Encode(Model model, EnetWriteOptions options) =>
        options.CompactFloatWeights ? EnetV2Writer.Encode(model, null, compact: true) : EnetV2Writer.Encode(model);

    private static void WriteBytes(byte[] file, string path)
    {
        // Write beside the target (same file system, so the rename is atomic), flush to disk, then rename: readers and
        // a crash mid-write see the old file or the new one, never a mix. The old file's inode lives on for anyone
        // who has it mapped.
        string full = Path.GetFullPath(path);
        string temp = $"{full}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(file);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>The bytes of the whole file.</summary>
    internal static byte[] Encode(Model model, uint formatVersion)
    {
        if (formatVersion is 2 or 3) return EnetV2Writer.Encode(model, formatVersion);
        if (formatVersion != 1) throw new ArgumentOutOfRangeException(nameof(formatVersion), formatVersion, $"EdgeNet writes .enet versions {EnetHeader.OldestVersion} to {EnetHeader.CurrentVersion}");
        var weights = new WeightsSection();
        var manifest = new Manifest { FormatVersion = 1, Producer = model.ProducerName, Graph = WriteGraph(model.Graph, weights) };
        foreach (var (k, v) in model.Opsets) manifest.Opsets[k] = v;
        foreach (var (k, v) in model.Metadata) manifest.Metadata[k] = v;
        return Assemble(1, manifest.ToByteArray(), weights.Bytes);
    }

    /// <summary>Header, manifest region at 64, zero padding, weights at the next multiple of 64, then the checksum.</summary>
    internal static byte[] Assemble(uint version, ReadOnlySpan<byte> manifest, ReadOnlySpan<byte> weights)
    {
        ulong manifestOffset = EnetHeader.Size;
        ulong weightsOffset = Align((ulong)EnetHeader.Size + (ulong)manifest.Length);
        ulong total = weightsOffset + (ulong)weights.Length;
        if (total > int.MaxValue) throw new InvalidOperationException($"The model needs {total} bytes; .enet files are limited to 2 GiB");
        var file = new byte[total];
        manifest.CopyTo(file.AsSpan((int)manifestOffset));
        weights.CopyTo(file.AsSpan((int)weightsOffset));
        var header = new EnetHeader(version, EnetHeader.Size, manifestOffset, (ulong)manifest.Length, weightsOffset, (ulong)weights.Length, total, 0);
        header.WriteTo(file);
        (header with { Checksum = EnetHeader.ChecksumOf(file) }).WriteTo(file);
        return file;
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // the original error matters more
    }

    private static ulong Align(ulong x) => (x + EnetHeader.Alignment - 1) / EnetHeader.Alignment * EnetHeader.Alignment;

    /// <summary>
    /// The weights section being built: each distinct run of bytes once, 64-byte aligned. Tensors with equal bytes
    /// (the many equal scales and zero points of a quantized graph, tied weights) share one run; readers never assume
    /// that weights do not overlap.
    /// </summary>
    private sealed class WeightsSection
    {
        private readonly MemoryStream _stream = new();
        private readonly Dictionary<ulong, List<long>> _byHash = [];

        public long Length => _stream.Length;
        public ReadOnlySpan<byte> Bytes => _stream.GetBuffer().AsSpan(0, (int)_stream.Length);

        public long Add(ReadOnlySpan<byte> data)
        {
            ulong hash = Crc64.Compute(data);
            if (!_byHash.TryGetValue(hash, out var offsets)) _byHash[hash] = offsets = [];
            foreach (long at in offsets)
                if (Bytes.Slice((int)at, data.Length).SequenceEqual(data)) return at;
            long offset = (long)Align((ulong)_stream.Length);
            _stream.SetLength(offset);
            _stream.Position = offset;
            _stream.Write(data);
            offsets.Add(offset);
            return offset;
        }
    }

    private static WeightDef WriteWeight(string name, Tensor t, WeightsSection weights)
    {
        long offset = weights.Add(t.Data.Span);
        var def = new WeightDef { Name = name, DataType = (int)t.DataType, Offset = (ulong)offset, Length = (ulong)t.Data.Length };
        foreach (int d in t.Dims) def.Dims.Add(d);
        return def;
    }

    private static ValueDef WriteValue(Value v)
    {
        var def = new ValueDef { Name = v.Name, DataType = (int)v.DataType, HasShape = v.Shape is not null };
        if (v.Shape is not null)
            foreach (var d in v.Shape) def.Shape.Add(new DimDef { Value = d.Value, Symbol = d.Symbol ?? "" });
        return def;
    }

    private static GraphDef WriteGraph(IR.Graph g, WeightsSection weights)
    {
        var def = new GraphDef { Name = g.Name };
        foreach (var v in g.Inputs) def.Inputs.Add(WriteValue(v));
        foreach (var v in g.Outputs) def.Outputs.Add(WriteValue(v));
        foreach (var v in g.Values.Values)
        {
            if (v.Constant is { } c) def.Weights.Add(WriteWeight(v.Name, c, weights));
            else if (v.Shape is not null || v.DataType != DataType.Undefined) def.Values.Add(WriteValue(v));
        }
        foreach (var n in g.Nodes)
        {
            var nd = new NodeDef { Name = n.Name, OpType = n.OpType, Domain = n.Domain, Opset = n.OpsetVersion };
            foreach (var v in n.Inputs) nd.Inputs.Add(v?.Name ?? "");
            foreach (var v in n.Outputs) nd.Outputs.Add(v.Name);
            foreach (var a in n.Attributes.Values) nd.Attributes.Add(WriteAttribute(a, weights));
            def.Nodes.Add(nd);
        }
        return def;
    }

    private static AttributeDef WriteAttribute(IR.Attribute a, WeightsSection weights)
    {
        var d = new AttributeDef { Name = a.Name, Kind = (int)a.Kind, F = a.Float, I = a.Int, S = a.String };
        if (a.Tensor is not null) d.T = WriteWeight(a.Name, a.Tensor, weights);
        if (a.Graph is not null) d.G = WriteGraph(a.Graph, weights);
        d.Floats.AddRange(a.Floats);
        d.Ints.AddRange(a.Ints);
        d.Strings.AddRange(a.Strings);
        foreach (var t in a.Tensors) d.Tensors.Add(WriteWeight(a.Name, t, weights));
        foreach (var g in a.Graphs) d.Graphs.Add(WriteGraph(g, weights));
        return d;
    }
}
