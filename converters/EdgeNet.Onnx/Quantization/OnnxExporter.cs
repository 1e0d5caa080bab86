using EdgeNet.IR;
using EdgeNet.Onnx.Proto;
using Google.Protobuf;

namespace EdgeNet.Onnx.Quantization;

/// <summary>
/// EdgeNet IR → ONNX ModelProto. The quantizer edits graphs as ONNX (cheap to clone, standard QDQ that ONNX Runtime
/// can also run) after the float passes ran on the IR. Graph inputs and outputs carry their type and shape; every
/// constant becomes an initializer.
/// </summary>
public static class OnnxExporter
{
    public static ModelProto Export(Model model)
    {
        var proto = new ModelProto { IrVersion = 8, ProducerName = model.ProducerName.Length > 0 ? model.ProducerName : "edgenet", Graph = ExportGraph(model.Graph) };
        foreach (var (domain, version) in model.Opsets) proto.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        foreach (var (k, v) in model.Metadata) proto.MetadataProps.Add(new StringStringEntryProto { Key = k, Value = v });
        return proto;
    }

    private static GraphProto ExportGraph(IR.Graph graph)
    {
        var g = new GraphProto { Name = graph.Name.Length > 0 ? graph.Name : "graph" };
        var used = new HashSet<string>(StringComparer.Ordinal);
        CollectUsed(graph, used);
        foreach (var v in graph.Values.Values)
            if (v.Constant is { } c && used.Contains(v.Name)) g.Initializer.Add(TensorProtoConverter.ToProto(v.Name, c));
        foreach (var v in graph.Inputs) g.Input.Add(Info(v));
        foreach (var v in graph.Outputs) g.Output.Add(Info(v));
        var nodeNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in graph.Nodes)
        {
            var p = ExportNode(n);
            // node names key the quantizer's per-layer decisions: make them unique
            string name = p.Name.Length > 0 ? p.Name : p.OpType;
            for (int i = 1; !nodeNames.Add(name); i++) name = $"{p.Name}_{i}";
            p.Name = name;
            g.Node.Add(p);
        }
        return g;
    }

    /// <summary>Names read by the graph's nodes and outputs, and by its subgraphs (which may capture this graph's constants).</summary>
    private static void CollectUsed(IR.Graph graph, HashSet<string> used)
    {
        foreach (var n in graph.Nodes)
        {
            foreach (var i in n.Inputs) if (i is not null) used.Add(i.Name);
            foreach (var a in n.Attributes.Values)
            {
                if (a.Graph is { } sub) CollectUsed(sub, used);
                foreach (var s in a.Graphs) CollectUsed(s, used);
            }
        }
        foreach (var o in graph.Outputs) used.Add(o.Name);
    }

    private static ValueInfoProto Info(Value v)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)v.DataType };
        if (v.Shape is { } shape)
        {
            tensorType.Shape = new TensorShapeProto();
            foreach (var d in shape)
            {
                var dim = new TensorShapeProto.Types.Dimension();
                if (d.IsKnown) dim.DimValue = d.Value;
                else if (d.Symbol is { Length: > 0 } name) dim.DimParam = name;
                tensorType.Shape.Dim.Add(dim);
            }
        }
        return new ValueInfoProto { Name = v.Name, Type = new TypeProto { TensorType = tensorType } };
    }

    private static NodeProto ExportNode(Node n)
    {
        var p = new NodeProto { Name = n.Name, OpType = n.OpType, Domain = n.Domain };
        foreach (var i in n.Inputs) p.Input.Add(i?.Name ?? "");
        foreach (var o in n.Outputs) p.Output.Add(o.Name);
        foreach (var a in n.Attributes.Values) p.Attribute.Add(ExportAttribute(a));
        return p;
    }

    private static AttributeProto ExportAttribute(IR.Attribute a)
    {
        var p = new AttributeProto { Name = a.Name };
        switch (a.Kind)
        {
            case AttributeKind.Float: p.Type = AttributeProto.Types.AttributeType.Float; p.F = a.Float; break;
            case AttributeKind.Int: p.Type = AttributeProto.Types.AttributeType.Int; p.I = a.Int; break;
            case AttributeKind.String: p.Type = AttributeProto.Types.AttributeType.String; p.S = ByteString.CopyFromUtf8(a.String); break;
            case AttributeKind.Tensor: p.Type = AttributeProto.Types.AttributeType.Tensor; p.T = TensorProtoConverter.ToProto(a.Name, a.Tensor!); break;
            case AttributeKind.Graph: p.Type = AttributeProto.Types.AttributeType.Graph; p.G = ExportGraph(a.Graph!); break;
            case AttributeKind.Floats: p.Type = AttributeProto.Types.AttributeType.Floats; p.Floats.AddRange(a.Floats); break;
            case AttributeKind.Ints: p.Type = AttributeProto.Types.AttributeType.Ints; p.Ints.AddRange(a.Ints); break;
            case AttributeKind.Strings: p.Type = AttributeProto.Types.AttributeType.Strings; foreach (var s in a.Strings) p.Strings.Add(ByteString.CopyFromUtf8(s)); break;
            case AttributeKind.Tensors: p.Type = AttributeProto.Types.AttributeType.Tensors; foreach (var t in a.Tensors) p.Tensors.Add(TensorProtoConverter.ToProto("", t)); break;
            case AttributeKind.Graphs: p.Type = AttributeProto.Types.AttributeType.Graphs; foreach (var s in a.Graphs) p.Graphs.Add(ExportGraph(s)); break;
        }
        return p;
    }
}
