using System.Buffers.Binary;
using System.IO.Compression;
using EdgeNet.Format.Proto;
using EdgeNet.IR;
using Google.Protobuf;

namespace EdgeNet.Format;

/// <summary>
/// Version 2 of the .enet layout (README.md beside this file): a string table and implicit weight lengths make the
/// manifest small; tensors under <see cref="EnetHeader.BigTensorBytes"/> (scales, zero points, biases) are packed at
/// their element size into the manifest instead of each taking 64 bytes; Brotli compresses both. Big tensors stay
/// 64-byte aligned in the mapped weights section.
/// </summary>
internal static class EnetV2Writer
{
    /// <summary>Brotli settings: the best quality (a manifest is small, compressing it takes milliseconds) and a 4 MiB window.</summary>
    private const int Quality = 11, Window = 22;

    /// <summary>
    /// The whole file in format <paramref name="version"/> (2 or 3), or, when null, the lowest of them that holds the
    /// model: 3 if a weight is stored compactly, else 2. With <paramref name="compact"/> (version 3 only) every float32
    /// weight of at least <see cref="EnetHeader.BigTensorBytes"/> that is exactly int8 per channel or exactly half is
    /// stored so (<see cref="WeightStorage"/>).
    /// </summary>
    public static byte[] Encode(Model model, uint? version = 2, bool compact = false)
    {
        if (version == 2 && compact) throw new ArgumentException("version 2 has no compact weight storage (version 3 has)", nameof(compact));
        var encodings = compact ? new Encodings() : null;
        // the string table in ordinal order compresses better than in order of first use (measured 2-3 % smaller)
        var first = new StringTable();
        Encode(model, first, 3, encodings);
        version ??= encodings is { Any: true } ? 3u : 2u;
        return Encode(model, new StringTable(first.All.Order(StringComparer.Ordinal)), version.Value, encodings);
    }

    /// <summary>The compact form of each float32 tensor, found once (by reference) and reused by both passes.</summary>
    private sealed class Encodings
    {
        private readonly Dictionary<Tensor, (int StoredType, int Axis, float[]? Scales, byte[] Bytes)?> _found = new(ReferenceEqualityComparer.Instance);
        public bool Any { get; private set; }

        public (int StoredType, int Axis, float[]? Scales, byte[] Bytes)? Of(Tensor t)
        {
            if (t.DataType != DataType.Float32 || t.Data.Length < EnetHeader.BigTensorBytes) return null;
            if (_found.TryGetValue(t, out var known)) return known;
            var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(t.Data.Span);
            (int, int, float[]?, byte[])? found = null;
            // int8 only where it beats half with its scales (not with one or two elements per channel)
            if (WeightStorage.TryInt8(values, t.Dims) is var (bytes, axis, scales) && bytes.Length + 4L * scales.Length < 2L * values.Length)
                found = (WeightStorage.Int8, axis, scales, bytes);
            else if (WeightStorage.TryHalf(values) is { } half) found = (WeightStorage.Float16, 0, null, half);
            Any |= found is not null;
            _found[t] = found;
            return found;
        }
    }

    private static byte[] Encode(Model model, StringTable strings, uint version, Encodings? encodings)
    {
        var runs = new Runs();
        var placed = new List<(WeightDef2 Def, int Run)>();
        var def = new ModelDef { FormatVersion = version, Producer = strings[model.ProducerName] };
        foreach (var (k, v) in model.Opsets)
        {
            def.OpsetDomains.Add(strings[k]);
            def.OpsetVersions.Add(v);
        }
        foreach (var (k, v) in model.Metadata)
        {
            def.Metadata.Add(strings[k]);
            def.Metadata.Add(strings[v]);
        }
        def.Graph = new GraphWriter(strings, runs, placed, version >= 3 ? encodings : null).Write(model.Graph);
        var (section, packed, groups, offsets) = runs.Layout();
        foreach (var (w, run) in placed)
        {
            w.Offset = (ulong)offsets[run];
            w.Packed = !Runs.IsBig(runs.Length(run));
        }
        def.Strings.AddRange(strings.All);
        def.Packed = ByteString.CopyFrom(Shuffle(packed, groups));
        foreach (var (elementSize, length) in groups)
        {
            def.PackedGroups.Add((uint)elementSize);
            def.PackedGroups.Add((uint)length);
        }
        return EnetWriter.Assemble(version, CompressManifest(def.ToByteArray()), section);
    }

    /// <summary>The manifest region: the uncompressed length (uint32, little-endian), then the Brotli stream.</summary>
    internal static byte[] CompressManifest(ReadOnlySpan<byte> raw)
    {
        if (raw.Length > EnetHeader.MaxManifestBytes) throw new InvalidOperationException($"The manifest is {raw.Length} bytes, more than the {EnetHeader.MaxManifestBytes} a reader accepts");
        var region = new byte[4 + BrotliEncoder.GetMaxCompressedLength(raw.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(region, (uint)raw.Length);
        if (!BrotliEncoder.TryCompress(raw, region.AsSpan(4), out int written, Quality, Window))
            throw new InvalidOperationException("Brotli could not compress the manifest");
        return region[..(4 + written)];
    }

    /// <summary>
    /// Byte planes: within each group of elements of size k, byte j of every element, for j = 0..k-1. The exponent
    /// bytes of float scales and the sign bytes of int32 biases then form long similar runs that Brotli compresses
    /// (measured 5-10 % smaller packed bytes).
    /// </summary>
    internal static byte[] Shuffle(ReadOnlySpan<byte> plain, List<(int ElementSize, int Length)> groups)
    {
        var shuffled = new byte[plain.Length];
        int at = 0;
        foreach (var (k, length) in groups)
        {
            int n = length / k;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < k; j++) shuffled[at + j * n + i] = plain[at + i * k + j];
            at += length;
        }
        return shuffled;
    }

    /// <summary>Every distinct string once; index 0 is the empty string.</summary>
    private sealed class StringTable
    {
        private readonly Dictionary<string, uint> _index = new(StringComparer.Ordinal) { [""] = 0 };
        public List<string> All { get; } = [""];

        public StringTable() { }

        /// <summary>A table holding <paramref name="sorted"/> (which starts with "") in that order.</summary>
        public StringTable(IEnumerable<string> sorted)
        {
            All.Clear();
            _index.Clear();
            foreach (string s in sorted) _ = this[s];
        }

        public uint this[string s]
        {
            get
            {
                ArgumentNullException.ThrowIfNull(s);
                if (_index.TryGetValue(s, out uint i)) return i;
                i = (uint)All.Count;
                All.Add(s);
                _index[s] = i;
                return i;
            }
        }
    }

    /// <summary>
    /// The distinct runs of bytes (tensors with equal bytes share one, as in version 1) and where each goes: runs of at
    /// least <see cref="EnetHeader.BigTensorBytes"/> into the mapped section, in order of first use, each at a multiple
    /// of 64; smaller ones into the packed bytes inside the compressed manifest, largest element size first so that
    /// each sits at a multiple of its element size with no padding.
    /// </summary>
    private sealed class Runs
    {
        private readonly List<ReadOnlyMemory<byte>> _data = [];
        private readonly List<int> _elementSize = [];
        private readonly Dictionary<ulong, List<int>> _byHash = [];

        public static bool IsBig(int length) => length >= EnetHeader.BigTensorBytes;

        public int Add(ReadOnlyMemory<byte> data, int elementSize)
        {
            ulong hash = Crc64.Compute(data.Span);
            if (!_byHash.TryGetValue(hash, out var same)) _byHash[hash] = same = [];
            foreach (int r in same)
                if (_data[r].Span.SequenceEqual(data.Span))
                {
                    _elementSize[r] = Math.Max(_elementSize[r], elementSize);
                    return r;
                }
            _data.Add(data);
            _elementSize.Add(Math.Max(1, elementSize));
            same.Add(_data.Count - 1);
            return _data.Count - 1;
        }

        public int Length(int run) => _data[run].Length;

        public (byte[] Section, byte[] Packed, List<(int ElementSize, int Length)> Groups, long[] Offsets) Layout()
        {
            var offsets = new long[_data.Count];
            long end = 0;
            for (int r = 0; r < _data.Count; r++)
                if (IsBig(_data[r].Length))
                {
                    offsets[r] = AlignUp(end, EnetHeader.Alignment);
                    end = offsets[r] + _data[r].Length;
                }
            if (end > int.MaxValue) throw new InvalidOperationException($"The weights need {end} bytes; .enet files are limited to 2 GiB");
            var section = new byte[end];
            long packedEnd = 0;
            var groups = new List<(int ElementSize, int Length)>();
            foreach (int r in Enumerable.Range(0, _data.Count).Where(r => !IsBig(_data[r].Length)).OrderByDescending(r => _elementSize[r]).ThenBy(r => r))
            {
                offsets[r] = packedEnd; // the groups go by falling element size, each a multiple of its size: aligned
                packedEnd += _data[r].Length;
                if (groups.Count == 0 || groups[^1].ElementSize != _elementSize[r]) groups.Add((_elementSize[r], 0));
                groups[^1] = (_elementSize[r], groups[^1].Length + _data[r].Length);
            }
            var packed = new byte[packedEnd];
            for (int r = 0; r < _data.Count; r++) _data[r].Span.CopyTo(IsBig(_data[r].Length) ? section.AsSpan((int)offsets[r]) : packed.AsSpan((int)offsets[r]));
            return (section, packed, groups, offsets);
        }

        private static long AlignUp(long x, int a) => (x + a - 1) / a * a;
    }

    private sealed class GraphWriter(StringTable strings, Runs runs, List<(WeightDef2, int)> placed, Encodings? encodings)
    {
        private WeightDef2 Weight(string name, Tensor t)
        {
            var def = new WeightDef2 { Name = strings[name], DataType = (int)t.DataType };
            foreach (int d in t.Dims) def.Dims.Add(d);
            if (encodings?.Of(t) is var (storedType, axis, scales, bytes))
            {
                def.StoredType = storedType;
                def.ChannelAxis = axis;
                if (scales is not null) def.Scales.AddRange(scales);
                placed.Add((def, runs.Add(bytes, storedType == WeightStorage.Int8 ? 1 : 2)));
                return def;
            }
            placed.Add((def, runs.Add(t.Data, t.DataType.SizeOf())));
            return def;
        }

        private ValueDef2 Value(Value v)
        {
            var def = new ValueDef2 { Name = strings[v.Name], DataType = (int)v.DataType, HasShape = v.Shape is not null };
            if (v.Shape is null) return def;
            foreach (var d in v.Shape) def.Dims.Add(d.Value);
            if (v.Shape.Any(d => d.Symbol is { Length: > 0 }))
                foreach (var d in v.Shape) def.Symbols.Add(strings[d.Symbol ?? ""]);
            return def;
        }

        public GraphDef2 Write(IR.Graph g)
        {
            var def = new GraphDef2 { Name = strings[g.Name] };
            foreach (var v in g.Inputs) def.Inputs.Add(Value(v));
            foreach (var v in g.Outputs) def.Outputs.Add(Value(v));
            foreach (var v in g.Values.Values)
            {
                if (v.Constant is { } c) def.Weights.Add(Weight(v.Name, c));
                else if (v.Shape is not null || v.DataType != DataType.Undefined) def.Values.Add(Value(v));
            }
            foreach (var n in g.Nodes)
            {
                var nd = new NodeDef2 { Name = strings[n.Name], OpType = strings[n.OpType], Domain = strings[n.Domain], Opset = n.OpsetVersion };
                foreach (var v in n.Inputs) nd.Inputs.Add(v is null ? 0 : strings[v.Name]);
                foreach (var v in n.Outputs) nd.Outputs.Add(strings[v.Name]);
                foreach (var a in n.Attributes.Values) nd.Attributes.Add(Attribute(a));
                def.Nodes.Add(nd);
            }
            return def;
        }

        private AttributeDef2 Attribute(IR.Attribute a)
        {
            var d = new AttributeDef2 { Name = strings[a.Name], Kind = (int)a.Kind, F = a.Float, I = a.Int, S = strings[a.String ?? ""] };
            if (a.Tensor is not null) d.T = Weight(a.Name, a.Tensor);
            if (a.Graph is not null) d.G = Write(a.Graph);
            d.Floats.AddRange(a.Floats);
            d.Ints.AddRange(a.Ints);
            foreach (var s in a.Strings) d.Strings.Add(strings[s]);
            foreach (var t in a.Tensors) d.Tensors.Add(Weight(a.Name, t));
            foreach (var g in a.Graphs) d.Graphs.Add(Write(g));
            return d;
        }
    }
}
