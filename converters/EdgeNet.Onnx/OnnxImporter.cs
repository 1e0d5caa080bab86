using System.Text;
using EdgeNet.IR;
using EdgeNet.Onnx.Proto;

namespace EdgeNet.Onnx;

/// <summary>Reads an ONNX ModelProto into EdgeNet's IR (a <see cref="Model"/> with topologically sorted nodes).</summary>
public static class OnnxImporter
{
    /// <summary>Loads an .onnx file; external data is read from (and confined to) the file's folder.</summary>
    public static Model Load(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException($"Cannot read model file '{path}': {e.Message}", e);
        }
        return Load(bytes, Path.GetDirectoryName(Path.GetFullPath(path)), $"'{Path.GetFileName(path)}'");
    }

    /// <summary>Loads a model from bytes; external data (if any) is resolved inside <paramref name="baseDirectory"/>.</summary>
    public static Model Load(byte[] bytes, string? baseDirectory) => Load(bytes, baseDirectory, "The model");

    private static Model Load(byte[] bytes, string? baseDirectory, string what)
    {
        var proto = OnnxFormatGuard.Parse(() => ModelProto.Parser.ParseFrom(bytes), what);
        if (proto.Graph is null) throw new ModelFormatException($"{what} has no graph (is it an ONNX model?)");
        try
        {
            return FromProto(proto, baseDirectory);
        }
        catch (EdgeNetException) { throw; }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ModelFormatException($"{what} is malformed: {e.GetType().Name}: {e.Message}", e);
        }
    }

    public static Model FromProto(ModelProto proto, string? baseDirectory = null)
    {
        var opsets = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var o in proto.OpsetImport)
            opsets[Ops.OpRegistry.NormalizeDomain(o.Domain)] = (int)Math.Clamp(o.Version, 0, int.MaxValue);
        if (!opsets.ContainsKey("")) opsets[""] = proto.IrVersion < 3 ? 1 : 1;
        var graph = new GraphImporter(opsets, baseDirectory, null).Import(proto.Graph);
        var model = new Model { Graph = graph, ProducerName = proto.ProducerName };
        foreach (var (k, v) in opsets) model.Opsets[k] = v;
        foreach (var p in proto.MetadataProps) model.Metadata[p.Key] = p.Value;
        return model;
    }

    /// <summary>Imports one graph; subgraphs get a child importer so names resolve through enclosing scopes.</summary>
    private sealed class GraphImporter(Dictionary<string, int> opsets, string? baseDirectory, GraphImporter? parent)
    {
        private IR.Graph _graph = new();
        private int _dummy;

        private Value? Lookup(string name)
        {
            if (_graph.Values.TryGetValue(name, out var v)) return v;
            return parent?.Lookup(name);
        }

        public IR.Graph Import(GraphProto proto)
        {
            _graph = new IR.Graph { Name = proto.Name };
            foreach (var init in proto.Initializer)
            {
                if (init.Name.Length == 0) throw new InvalidModelException("An initializer has no name");
                _graph.AddConstantExact(init.Name, TensorProtoConverter.FromProto(init, baseDirectory));
            }
            if (proto.SparseInitializer.Count > 0)
                throw new UnsupportedOperatorException($"Graph '{proto.Name}' has sparse initializers, which EdgeNet does not support");
            foreach (var input in proto.Input)
            {
                if (_graph.Values.TryGetValue(input.Name, out var existing) && existing.IsConstant) continue; // initializer listed as input
                var v = _graph.GetOrAddValue(input.Name);
                ApplyType(v, input);
                _graph.Inputs.Add(v);
            }
            // Pass 1: every node output is owned by this graph (so later nodes may be read before being sorted).
            foreach (var node in proto.Node)
                foreach (var output in node.Output)
                    if (output.Length > 0)
                    {
                        if (_graph.Values.TryGetValue(output, out var clash) && (clash.IsConstant || _graph.Inputs.Contains(clash) || clash.Producer is not null))
                            throw new InvalidModelException($"Value '{output}' is produced twice (node '{node.Name}' and another)");
                        _graph.GetOrAddValue(output).Producer = null;
                        MarkProduced(output);
                    }
            int index = 0;
            foreach (var node in proto.Node) ImportNode(node, index++);
            foreach (var info in proto.ValueInfo)
                if (_graph.Values.TryGetValue(info.Name, out var v) && !v.IsConstant) ApplyType(v, info);
            foreach (var output in proto.Output)
            {
                var v = Lookup(output.Name) ?? throw new InvalidModelException($"Graph output '{output.Name}' is not produced by any node");
                if (!v.IsConstant) ApplyType(v, output);
                _graph.Outputs.Add(v);
            }
            _produced.Clear();
            _graph.SortTopologically();
            return _graph;
        }

        private readonly HashSet<string> _produced = new(StringComparer.Ordinal);
        private void MarkProduced(string name)
        {
            if (!_produced.Add(name)) throw new InvalidModelException($"Value '{name}' is produced by more than one node");
        }

        private void ImportNode(NodeProto proto, int index)
        {
            string domain = Ops.OpRegistry.NormalizeDomain(proto.Domain);
            var node = new Node
            {
                OpType = proto.OpType,
                Domain = domain,
                Name = proto.Name.Length > 0 ? proto.Name : $"{proto.OpType}_{index}",
                OpsetVersion = opsets.TryGetValue(domain, out int version) ? version : 0,
            };
            foreach (var a in proto.Attribute)
                if (ConvertAttribute(a, node) is { } attribute) node.Attributes[attribute.Name] = attribute;

            if (node.OpType == "Constant" && domain.Length == 0)
            {
                if (proto.Output.Count != 1 || proto.Output[0].Length == 0) throw new InvalidModelException($"Constant node '{node.Name}' must have one output");
                var value = _graph.Values[proto.Output[0]];
                var tensor = ConstantValue(node);
                value.Constant = tensor;
                value.DataType = tensor.DataType;
                value.Shape = Array.ConvertAll(tensor.Dims, d => Dim.Known(d));
                return;
            }
            foreach (var input in proto.Input)
            {
                if (input.Length == 0) { node.Inputs.Add(null); continue; }
                node.Inputs.Add(Lookup(input) ?? _graph.GetOrAddValue(input));
            }
            foreach (var output in proto.Output)
            {
                var v = output.Length > 0 ? _graph.Values[output] : _graph.GetOrAddValue(_graph.UniqueName($"{node.Name}_unused{_dummy++}"));
                v.Producer = node;
                node.Outputs.Add(v);
            }
            _graph.Nodes.Add(node);
        }

        /// <summary>Constant node → tensor (value, value_float(s), value_int(s)); Paddle stores weights this way.</summary>
        private static Tensor ConstantValue(Node node)
        {
            if (node.GetTensor("value") is { } t) return t;
            if (node.HasAttribute("value_float")) return Tensor.Scalar(node.GetFloat("value_float", 0));
            if (node.GetFloats("value_floats") is { } fs) return Tensor.FromArray([fs.Length], fs);
            if (node.HasAttribute("value_int")) return Tensor.Scalar(node.GetInt("value_int", 0));
            if (node.GetInts("value_ints") is { } ints) return Tensor.FromArray([ints.Length], ints);
            throw new UnsupportedOperatorException($"Constant node '{node.Name}' (opset {node.OpsetVersion}) has no tensor, float or int value EdgeNet supports");
        }

        private IR.Attribute? ConvertAttribute(AttributeProto a, Node node)
        {
            var type = a.Type;
            if (type == AttributeProto.Types.AttributeType.Undefined) type = GuessType(a);
            return type switch
            {
                AttributeProto.Types.AttributeType.Float => new IR.Attribute { Name = a.Name, Kind = AttributeKind.Float, Float = a.F },
                AttributeProto.Types.AttributeType.Int => new IR.Attribute { Name = a.Name, Kind = AttributeKind.Int, Int = a.I },
                AttributeProto.Types.AttributeType.String => new IR.Attribute { Name = a.Name, Kind = AttributeKind.String, String = Utf8(a.S) },
                AttributeProto.Types.AttributeType.Tensor => new IR.Attribute { Name = a.Name, Kind = AttributeKind.Tensor, Tensor = TensorProtoConverter.FromProto(a.T ?? new TensorProto(), baseDirectory) },
                AttributeProto.Types.AttributeType.Graph => new IR.Attribute { Name = a.Name, Kind = AttributeKind.Graph, Graph = Subgraph(a.G, node) },
                AttributeProto.Types.AttributeType.Floats => new IR.Attribute { Name = a.Name, Kind = AttributeKind.Floats, Floats = a.Floats.ToArray() },
                AttributeProto.Types.AttributeType.Ints => new IR.Attribute { Name = a.Name, Kind = AttributeKind.Ints, Ints = a.Ints.ToArray() },
                AttributeProto.Types.AttributeType.Strings => new IR.Attribute { Name = a.Name, Kind = AttributeKind.Strings, Strings = a.Strings.Select(Utf8).ToArray() },
                AttributeProto.Types.AttributeType.Tensors => new IR.Attribute { Name = a.Name, Kind = AttributeKind.Tensors, Tensors = a.Tensors.Select(t => TensorProtoConverter.FromProto(t, baseDirectory)).ToArray() },
                AttributeProto.Types.AttributeType.Graphs => new IR.Attribute { Name = a.Name, Kind = AttributeKind.Graphs, Graphs = a.Graphs.Select(g => Subgraph(g, node)).ToArray() },
                _ => null, // sparse tensors and type protos: an op that needs them reports it as unsupported
            };
        }

        private IR.Graph Subgraph(GraphProto? g, Node node)
        {
            if (g is null) throw new InvalidModelException($"Node '{node.Name}' has an empty graph attribute");
            return new GraphImporter(opsets, baseDirectory, this).Import(g);
        }

        private static AttributeProto.Types.AttributeType GuessType(AttributeProto a)
        {
            if (a.T is not null) return AttributeProto.Types.AttributeType.Tensor;
            if (a.G is not null) return AttributeProto.Types.AttributeType.Graph;
            if (a.Floats.Count > 0) return AttributeProto.Types.AttributeType.Floats;
            if (a.Ints.Count > 0) return AttributeProto.Types.AttributeType.Ints;
            if (a.Strings.Count > 0) return AttributeProto.Types.AttributeType.Strings;
            if (a.Tensors.Count > 0) return AttributeProto.Types.AttributeType.Tensors;
            if (a.Graphs.Count > 0) return AttributeProto.Types.AttributeType.Graphs;
            if (!a.S.IsEmpty) return AttributeProto.Types.AttributeType.String;
            if (a.F != 0) return AttributeProto.Types.AttributeType.Float;
            return AttributeProto.Types.AttributeType.Int;
        }

        private static string Utf8(Google.Protobuf.ByteString s) => Encoding.UTF8.GetString(s.Span);

        private static void ApplyType(Value v, ValueInfoProto info)
        {
            var type = info.Type;
            if (type is null) return;
            if (type.ValueCase != TypeProto.ValueOneofCase.TensorType)
                throw new UnsupportedOperatorException($"Value '{info.Name}' is a {type.ValueCase}, not a tensor; EdgeNet supports tensors only");
            var tensorType = type.TensorType;
            var dt = (DataType)tensorType.ElemType;
            if (tensorType.ElemType != 0 && !dt.IsSupported())
                throw new UnsupportedOperatorException($"Value '{info.Name}' has element type {TensorProtoConverter.DescribeType(tensorType.ElemType)}, which EdgeNet does not support");
            if (tensorType.ElemType != 0) v.DataType = dt;
            if (tensorType.Shape is null) return;
            var dims = new Dim[tensorType.Shape.Dim.Count];
            for (int i = 0; i < dims.Length; i++)
            {
                var d = tensorType.Shape.Dim[i];
                dims[i] = d.ValueCase switch
                {
                    TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue when d.DimValue >= 0 && d.DimValue <= int.MaxValue => Dim.Known(d.DimValue),
                    TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => throw new InvalidModelException($"Value '{info.Name}' declares dimension {i} as {d.DimValue}"),
                    TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam => Dim.Named(d.DimParam),
                    _ => Dim.Unknown,
                };
            }
            v.Shape = dims;
        }
    }
}
