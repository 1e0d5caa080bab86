using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using EdgeNet.Format.Proto;
using EdgeNet.IR;

namespace EdgeNet.Format;

/// <summary>
/// Reads the manifest of a version 2 file (README.md beside this file) and builds the IR over the mapped weights. The
/// caller has checked the header, the checksum and the section bounds; this checks everything the manifest says
/// about bytes — decompressed size, string indices, where each weight lies, its alignment, overlaps — and fails with
/// a <see cref="ModelFormatException"/> naming the problem.
/// </summary>
internal static class EnetV2Reader
{
    /// <param name="version">The header's version, 2 or 3 (3 adds compact float weights: <see cref="WeightStorage"/>).</param>
    public static Model Read(ReadOnlySpan<byte> region, Memory<byte> weights, string file, uint version = 2)
    {
        var def = Parse(Decompress(region, file), file);
        var strings = def.Strings;
        if (strings.Count == 0 || strings[0].Length != 0) throw new ModelFormatException($"'{file}': the string table does not start with the empty string");
        if (def.Graph is null) throw new ModelFormatException($"'{file}': the manifest has no graph");
        if (def.FormatVersion != version) throw new ModelFormatException($"'{file}': the manifest says format version {def.FormatVersion}, the header {version}");
        if (def.OpsetDomains.Count != def.OpsetVersions.Count) throw new ModelFormatException($"'{file}': {def.OpsetDomains.Count} opset domains but {def.OpsetVersions.Count} versions");
        if (def.Metadata.Count % 2 != 0) throw new ModelFormatException($"'{file}': the metadata has a key without a value");

        // the small tensors: one pinned array (kernels may hold pointers to weights, as into the mapping)
        var packed = Unshuffle(def.Packed.Span, def.PackedGroups, file);
        var context = new Context(weights, packed, file, strings, version);
        var graph = new GraphReader(context, null).Read(def.Graph);
        context.CheckOverlaps();
        var model = new Model { Graph = graph, ProducerName = context.String(def.Producer) };
        for (int i = 0; i < def.OpsetDomains.Count; i++) model.Opsets[context.String(def.OpsetDomains[i])] = def.OpsetVersions[i];
        for (int i = 0; i < def.Metadata.Count; i += 2) model.Metadata[context.String(def.Metadata[i])] = context.String(def.Metadata[i + 1]);
        return model;
    }

    /// <summary>Undoes the writer's byte planes, group by group, into one pinned array.</summary>
    private static byte[] Unshuffle(ReadOnlySpan<byte> shuffled, IList<uint> groups, string file)
    {
        if (groups.Count % 2 != 0) throw new ModelFormatException($"'{file}': the packed groups list has an element size without a length");
        var packed = GC.AllocateUninitializedArray<byte>(shuffled.Length, pinned: true);
        long at = 0;
        for (int g = 0; g < groups.Count; g += 2)
        {
            uint k = groups[g], length = groups[g + 1];
            if (k is not (1 or 2 or 4 or 8) || length % k != 0 || length > shuffled.Length - at)
                throw new ModelFormatException($"'{file}': packed group {g / 2} ({length} bytes of {k}-byte elements at {at}) does not fit the {shuffled.Length} packed bytes");
            int n = (int)(length / k), start = (int)at;
            for (int j = 0; j < k; j++)
                for (int i = 0; i < n; i++) packed[start + i * (int)k + j] = shuffled[start + j * n + i];
            at += length;
        }
        if (at != shuffled.Length) throw new ModelFormatException($"'{file}': the packed groups cover {at} of the {shuffled.Length} packed bytes");
        return packed;
    }

    private static ModelDef Parse(byte[] raw, string file)
    {
        try { return ModelDef.Parser.ParseFrom(raw); }
        catch (Google.Protobuf.InvalidProtocolBufferException e) { throw new ModelFormatException($"'{file}': the manifest does not parse: {e.Message}", e); }
    }

    /// <summary>
    /// The manifest region is the uncompressed length (uint32) and a Brotli stream that must give exactly that many
    /// bytes. The length is capped (<see cref="EnetHeader.MaxManifestBytes"/>) and the output buffer only grows as
    /// bytes actually come out, so neither a false claim nor a bomb costs more than the cap.
    /// </summary>
    internal static byte[] Decompress(ReadOnlySpan<byte> region, string file)
    {
        if (region.Length < 4) throw new ModelFormatException($"'{file}': the manifest region is {region.Length} bytes, too short for its length field");
        uint claimed = BinaryPrimitives.ReadUInt32LittleEndian(region);
        if (claimed > EnetHeader.MaxManifestBytes)
            throw new ModelFormatException($"'{file}': the manifest claims {claimed} bytes uncompressed, more than the {EnetHeader.MaxManifestBytes} allowed (decompression bomb)");
        var source = region[4..];
        int capacity = (int)claimed + 1; // one byte more than claimed shows a stream that goes on
        var buffer = new byte[Math.Min(capacity, Math.Max(4096, source.Length * 8))];
        int written = 0, consumed = 0;
        using var decoder = new BrotliDecoder();
        while (true)
        {
            var status = decoder.Decompress(source[consumed..], buffer.AsSpan(written), out int read, out int wrote);
            consumed += read;
            written += wrote;
            if (written > claimed)
                throw new ModelFormatException($"'{file}': the manifest decompresses to more than the {claimed} bytes it claims (decompression bomb)");
            if (status == OperationStatus.Done) break;
            if (status == OperationStatus.DestinationTooSmall)
            {
                Array.Resize(ref buffer, (int)Math.Min(capacity, 2L * buffer.Length));
                continue;
            }
            throw new ModelFormatException(status == OperationStatus.NeedMoreData
                ? $"'{file}': the compressed manifest is cut short"
                : $"'{file}': the compressed manifest is corrupt (not a Brotli stream)");
        }
        if (written != claimed) throw new ModelFormatException($"'{file}': the manifest decompresses to {written} bytes, it claims {claimed}");
        if (consumed != source.Length) throw new ModelFormatException($"'{file}': {source.Length - consumed} bytes follow the compressed manifest");
        return written == buffer.Length ? buffer : buffer[..written];
    }

    /// <summary>What the graphs of one file share: the weights section, the string table and every run a weight takes.</summary>
    private sealed class Context(Memory<byte> weights, Memory<byte> packed, string file, IReadOnlyList<string> strings, uint version)
    {
        private readonly List<(bool Packed, long Offset, long Length, uint Name)> _runs = [];
        public string File => file;

        public string String(uint index) => index < (uint)strings.Count ? strings[(int)index]
            : throw new ModelFormatException($"'{file}': string index {index} is out of range ({strings.Count} strings)");

        public Tensor Weight(WeightDef2 w)
        {
            string name = String(w.Name);
            var type = (DataType)w.DataType;
            if (!type.IsSupported()) throw new InvalidModelException($"'{file}': weight '{name}' has unknown type #{w.DataType}");
            int[] dims = Shapes.FromLongs(w.Dims.ToArray(), $"'{file}': weight '{name}'");
            var stored = StoredType(w, name, type, dims);
            long length = (long)Shapes.Count(dims) * stored.SizeOf();
            var region = w.Packed ? packed : weights;
            string where = w.Packed ? "packed bytes" : "weights section";
            if (w.Offset > (ulong)region.Length || (ulong)length > (ulong)region.Length - w.Offset)
                throw new ModelFormatException($"'{file}': weight '{name}' ({length} bytes at {w.Offset}) lies outside the {region.Length}-byte {where}");
            long offset = (long)w.Offset;
            int alignment = !w.Packed && length >= EnetHeader.BigTensorBytes ? EnetHeader.Alignment : stored.SizeOf();
            if (length > 0)
            {
                if (offset % alignment != 0)
                    throw new ModelFormatException($"'{file}': weight '{name}' ({length} bytes at {offset} in the {where}) is misaligned: it must start at a multiple of {alignment}");
                _runs.Add((w.Packed, offset, length, w.Name));
            }
            var bytes = region.Slice((int)offset, (int)length);
            if (stored == type) return new Tensor(type, dims, bytes);
            // compact storage: decoded once, here, into pinned 64-byte aligned float32 memory the model owns
            var decoded = WeightStorage.AlignedFloats((int)Shapes.Count(dims));
            var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(decoded.Span);
            if (stored == DataType.Int8) WeightStorage.DecodeInt8(bytes.Span, dims, w.ChannelAxis, w.Scales, floats);
            else WeightStorage.DecodeHalf(bytes.Span, floats);
            return new Tensor(type, dims, decoded);
        }

        /// <summary>
        /// The type a weight's bytes are stored as: its own, or (version 3) int8 with per-channel scales or float16 for a
        /// float32 weight. Every field of the compact form is checked before any byte is read.
        /// </summary>
        private DataType StoredType(WeightDef2 w, string name, DataType type, int[] dims)
        {
            if (w.StoredType == WeightStorage.AsIs)
            {
                if (w.ChannelAxis != 0 || w.Scales.Count != 0)
                    throw new ModelFormatException($"'{file}': weight '{name}' has a channel axis or scales but is stored as its own type");
                return type;
            }
            if (version < 3)
                throw new ModelFormatException($"'{file}': weight '{name}' has stored type {w.StoredType}, but compact weights need format version 3 (the header says {version})");
            if (type != DataType.Float32)
                throw new ModelFormatException($"'{file}': weight '{name}' of type {type} has stored type {w.StoredType}: only float32 weights are stored compactly");
            switch (w.StoredType)
            {
                case WeightStorage.Float16:
                    if (w.ChannelAxis != 0 || w.Scales.Count != 0)
                        throw new ModelFormatException($"'{file}': weight '{name}' is stored as float16 but has a channel axis or scales");
                    return DataType.Float16;
                case WeightStorage.Int8:
                    if (dims.Length == 0 || w.ChannelAxis < 0 || w.ChannelAxis >= dims.Length)
                        throw new ModelFormatException($"'{file}': weight '{name}' is stored as int8 per channel along axis {w.ChannelAxis}, outside its rank {dims.Length}");
                    if (w.Scales.Count != dims[w.ChannelAxis])
                        throw new ModelFormatException($"'{file}': weight '{name}' has {w.Scales.Count} scales for its {dims[w.ChannelAxis]} channels");
                    for (int i = 0; i < w.Scales.Count; i++)
                        if (!float.IsFinite(w.Scales[i]) || w.Scales[i] < 0)
                            throw new ModelFormatException($"'{file}': weight '{name}' has scale {i} = {w.Scales[i]}: scales must be finite and not negative");
                    return DataType.Int8;
                default:
                    throw new ModelFormatException($"'{file}': weight '{name}' has unknown stored type {w.StoredType} (0 as is, 3 int8 per channel, 10 float16)");
            }
        }

        /// <summary>Weights share bytes only whole (equal tensors stored once); any other overlap is corruption.</summary>
        public void CheckOverlaps()
        {
            _runs.Sort((a, b) => a.Packed != b.Packed ? a.Packed.CompareTo(b.Packed) : a.Offset != b.Offset ? a.Offset.CompareTo(b.Offset) : a.Length.CompareTo(b.Length));
            for (int i = 1; i < _runs.Count; i++)
            {
                var (pp, po, pl, pn) = _runs[i - 1];
                var (p, o, l, n) = _runs[i];
                if (p != pp || (o == po && l == pl)) continue;
                if (o < po + pl)
                    throw new ModelFormatException($"'{file}': weights '{String(pn)}' ({pl} bytes at {po}) and '{String(n)}' ({l} bytes at {o}) overlap");
            }
        }
    }

    private sealed class GraphReader(Context context, GraphReader? parent)
    {
        private IR.Graph _graph = new();

        private Value? Lookup(string name) => _graph.Values.TryGetValue(name, out var v) ? v : parent?.Lookup(name);

        public IR.Graph Read(GraphDef2 def)
        {
            _graph = new IR.Graph { Name = context.String(def.Name) };
            foreach (var w in def.Weights) _graph.AddConstantExact(context.String(w.Name), context.Weight(w));
            foreach (var v in def.Inputs) _graph.Inputs.Add(Declare(v));
            foreach (var v in def.Values) Declare(v);
            foreach (var n in def.Nodes)
                foreach (uint o in n.Outputs) _graph.GetOrAddValue(context.String(o));
            foreach (var nd in def.Nodes)
            {
                var node = new Node { Name = context.String(nd.Name), OpType = context.String(nd.OpType), Domain = context.String(nd.Domain), OpsetVersion = nd.Opset };
                foreach (var a in nd.Attributes)
                {
                    var attribute = Attribute(a);
                    node.Attributes[attribute.Name] = attribute;
                }
                foreach (uint i in nd.Inputs)
                {
                    string name = context.String(i);
                    node.Inputs.Add(name.Length == 0 ? null : Lookup(name) ?? _graph.GetOrAddValue(name));
                }
                foreach (uint o in nd.Outputs)
                {
                    var v = _graph.Values[context.String(o)];
                    v.Producer = node;
                    node.Outputs.Add(v);
                }
                _graph.Nodes.Add(node);
            }
            foreach (var o in def.Outputs)
            {
                string name = context.String(o.Name);
                var v = Lookup(name) ?? throw new InvalidModelException($"'{context.File}': graph output '{name}' is never produced");
                if (!v.IsConstant) Apply(v, o);
                _graph.Outputs.Add(v);
            }
            _graph.SortTopologically();
            return _graph;
        }

        private Value Declare(ValueDef2 def)
        {
            var v = _graph.GetOrAddValue(context.String(def.Name));
            if (!v.IsConstant) Apply(v, def);
            return v;
        }

        private void Apply(Value v, ValueDef2 def)
        {
            var type = (DataType)def.DataType;
            if (def.DataType != 0 && !type.IsSupported()) throw new InvalidModelException($"'{context.File}': value '{v.Name}' has unknown type #{def.DataType}");
            v.DataType = type;
            if (!def.HasShape) return;
            if (def.Symbols.Count != 0 && def.Symbols.Count != def.Dims.Count)
                throw new ModelFormatException($"'{context.File}': value '{v.Name}' has {def.Dims.Count} dims but {def.Symbols.Count} dim names");
            var shape = new Dim[def.Dims.Count];
            for (int i = 0; i < shape.Length; i++)
            {
                string symbol = def.Symbols.Count == 0 ? "" : context.String(def.Symbols[i]);
                long d = def.Dims[i];
                shape[i] = d >= 0 ? Dim.Known(d) : symbol.Length > 0 ? Dim.Named(symbol) : Dim.Unknown;
            }
            v.Shape = shape;
        }

        private IR.Attribute Attribute(AttributeDef2 a)
        {
            string name = context.String(a.Name);
            var kind = (AttributeKind)a.Kind;
            if (!Enum.IsDefined(kind)) throw new InvalidModelException($"'{context.File}': attribute '{name}' has unknown kind {a.Kind}");
            return new IR.Attribute
            {
                Name = name, Kind = kind, Float = a.F, Int = a.I, String = context.String(a.S),
                Tensor = a.T is null ? null : context.Weight(a.T),
                Graph = a.G is null ? null : new GraphReader(context, this).Read(a.G),
                Floats = a.Floats.ToArray(), Ints = a.Ints.ToArray(), Strings = a.Strings.Select(context.String).ToArray(),
                Tensors = a.Tensors.Select(context.Weight).ToArray(),
                Graphs = a.Graphs.Select(g => new GraphReader(context, this).Read(g)).ToArray(),
            };
        }
    }
}
