using EdgeNet.Format.Proto;
using EdgeNet.IR;

namespace EdgeNet.Format;

/// <summary>
/// Loads an .enet file: maps it, checks magic, version, length and the CRC-64 before parsing anything, then builds
/// the IR with every weight pointing into the mapping (no copy). No graph passes run: convert already did them.
/// Every problem with the bytes is a <see cref="ModelFormatException"/>; a well-formed manifest describing an invalid
/// graph (duplicate names, a weight outside its section, a cycle) is an <see cref="InvalidModelException"/>.
/// </summary>
public static class EnetReader
{
    public static Model Load(string path)
    {
        string name = Path.GetFileName(path);
        long length;
        try { length = new FileInfo(path).Length; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ModelFormatException($"Cannot read '{path}': {e.Message}", e); }
        if (length < EnetHeader.Size) throw TooShort(path, name, length);
        if (length > int.MaxValue) throw new ModelFormatException($"'{name}' is larger than 2 GiB");
        MappedFile mapped;
        try { mapped = new MappedFile(path, length); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ModelFormatException($"Cannot map '{path}': {e.Message}", e); }
        try
        {
            var memory = mapped.Memory;
            var span = memory.Span;
            // Order matters for the message: magic and version first (they decide how the rest is laid out), then a
            // short file (no need to checksum what is missing), then the checksum, which covers every other header
            // field; the layout is only checked once the bytes are known to be the ones written.
            var header = EnetHeader.Read(span, name);
            if (header.FileLength > (ulong)length)
                throw new ModelFormatException($"'{name}' is truncated: {length} bytes, its header says {header.FileLength}");
            if (EnetHeader.ChecksumOf(span) != header.Checksum)
                throw new ModelFormatException($"'{name}': checksum mismatch (the file is corrupt)");
            if (header.FileLength != (ulong)length || header.HeaderSize != EnetHeader.Size
                || header.ManifestOffset < EnetHeader.Size || header.ManifestOffset > (ulong)length || header.ManifestLength > (ulong)length - header.ManifestOffset
                || header.WeightsOffset % EnetHeader.Alignment != 0 || header.WeightsOffset < header.ManifestOffset + header.ManifestLength
                || header.WeightsOffset > (ulong)length || header.WeightsLength != (ulong)length - header.WeightsOffset)
                throw new ModelFormatException($"'{name}': section offsets in the header are out of range");

            var weights = memory.Slice((int)header.WeightsOffset, (int)header.WeightsLength);
            var region = span.Slice((int)header.ManifestOffset, (int)header.ManifestLength);
            return header.Version == 1 ? ReadVersion1(region, weights, name) : EnetV2Reader.Read(region, weights, name, header.Version);
        }
        catch
        {
            mapped.Release(); // nothing built from the mapping escapes a failed load
            throw;
        }
    }

    private static Model ReadVersion1(ReadOnlySpan<byte> region, Memory<byte> weights, string name)
    {
        Manifest manifest;
        try { manifest = Manifest.Parser.ParseFrom(region); }
        catch (Google.Protobuf.InvalidProtocolBufferException e) { throw new ModelFormatException($"'{name}': the manifest does not parse: {e.Message}", e); }
        if (manifest.Graph is null) throw new ModelFormatException($"'{name}': the manifest has no graph");
        if (manifest.FormatVersion != 1)
            throw new ModelFormatException($"'{name}': the manifest says format version {manifest.FormatVersion}, the header 1");
        var graph = new GraphReader(weights, name, null).Read(manifest.Graph);
        var model = new Model { Graph = graph, ProducerName = manifest.Producer };
        foreach (var (k, v) in manifest.Opsets) model.Opsets[k] = v;
        foreach (var (k, v) in manifest.Metadata) model.Metadata[k] = v;
        return model;
    }

    /// <summary>A file shorter than the header: truncated if what is there starts like an .enet file, else not one.</summary>
    private static ModelFormatException TooShort(string path, string name, long length)
    {
        var start = new byte[Math.Min(length, 8)];
        try
        {
            using var f = File.OpenRead(path);
            f.ReadExactly(start);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return new ModelFormatException($"Cannot read '{path}': {e.Message}", e); }
        return start.AsSpan().SequenceEqual(EnetHeader.Magic[..start.Length])
            ? new ModelFormatException($"'{name}' is truncated ({length} bytes, smaller than the {EnetHeader.Size}-byte .enet header)")
            : new ModelFormatException($"'{name}' is not an .enet file (bad magic)");
    }

    private sealed class GraphReader(Memory<byte> weights, string file, GraphReader? parent)
    {
        private IR.Graph _graph = new();

        private Value? Lookup(string name) => _graph.Values.TryGetValue(name, out var v) ? v : parent?.Lookup(name);

        public IR.Graph Read(GraphDef def)
        {
            _graph = new IR.Graph { Name = def.Name };
            foreach (var w in def.Weights) _graph.AddConstantExact(w.Name, Weight(w));
            foreach (var v in def.Inputs) _graph.Inputs.Add(Declare(v));
            foreach (var v in def.Values) Declare(v);
            foreach (var n in def.Nodes)
                foreach (var o in n.Outputs) _graph.GetOrAddValue(o);
            foreach (var nd in def.Nodes)
            {
                var node = new Node { Name = nd.Name, OpType = nd.OpType, Domain = nd.Domain, OpsetVersion = nd.Opset };
                foreach (var a in nd.Attributes) node.Attributes[a.Name] = Attribute(a);
                foreach (var i in nd.Inputs) node.Inputs.Add(i.Length == 0 ? null : Lookup(i) ?? _graph.GetOrAddValue(i));
                foreach (var o in nd.Outputs)
                {
                    var v = _graph.Values[o];
                    v.Producer = node;
                    node.Outputs.Add(v);
                }
                _graph.Nodes.Add(node);
            }
            foreach (var o in def.Outputs)
            {
                var v = Lookup(o.Name) ?? throw new InvalidModelException($"'{file}': graph output '{o.Name}' is never produced");
                if (!v.IsConstant) Apply(v, o);
                _graph.Outputs.Add(v);
            }
            _graph.SortTopologically();
            return _graph;
        }

        private Value Declare(ValueDef def)
        {
            var v = _graph.GetOrAddValue(def.Name);
            if (!v.IsConstant) Apply(v, def);
            return v;
        }

        private void Apply(Value v, ValueDef def)
        {
            var type = (DataType)def.DataType;
            if (def.DataType != 0 && !type.IsSupported()) throw new InvalidModelException($"'{file}': value '{def.Name}' has unknown type #{def.DataType}");
            v.DataType = type;
            if (!def.HasShape) return;
            v.Shape = def.Shape.Select(d => d.Value >= 0 ? Dim.Known(d.Value) : d.Symbol.Length > 0 ? Dim.Named(d.Symbol) : Dim.Unknown).ToArray();
        }

        private Tensor Weight(WeightDef w)
        {
            var type = (DataType)w.DataType;
            if (!type.IsSupported()) throw new InvalidModelException($"'{file}': weight '{w.Name}' has unknown type #{w.DataType}");
            int[] dims = Shapes.FromLongs(w.Dims.ToArray(), $"'{file}': weight '{w.Name}'");
            if (w.Offset > (ulong)weights.Length || w.Length > (ulong)weights.Length - w.Offset)
                throw new InvalidModelException($"'{file}': weight '{w.Name}' lies outside the weights section");
            return new Tensor(type, dims, weights.Slice((int)w.Offset, (int)w.Length));
        }

        private IR.Attribute Attribute(AttributeDef a)
        {
            var kind = (AttributeKind)a.Kind;
            if (!Enum.IsDefined(kind)) throw new InvalidModelException($"'{file}': attribute '{a.Name}' has unknown kind {a.Kind}");
            return new IR.Attribute
            {
                Name = a.Name, Kind = kind, Float = a.F, Int = a.I, String = a.S,
                Tensor = a.T is null ? null : Weight(a.T),
                Graph = a.G is null ? null : new GraphReader(weights, file, this).Read(a.G),
                Floats = a.Floats.ToArray(), Ints = a.Ints.ToArray(), Strings = a.Strings.ToArray(),
                Tensors = a.Tensors.Select(Weight).ToArray(),
                Graphs = a.Graphs.Select(g => new GraphReader(weights, file, this).Read(g)).ToArray(),
            };
        }
    }
}
