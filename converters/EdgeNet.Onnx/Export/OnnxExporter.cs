using System.Globalization;
using EdgeNet.IR;
using EdgeNet.Kernels.Activation;
using EdgeNet.Onnx.Proto;
using Google.Protobuf;

namespace EdgeNet.Onnx.Export;

/// <summary>
/// Writes an EdgeNet model (typically a fine-tuned .enet) as a standard ONNX model that ONNX Runtime and other tools
/// run: every weight as an initializer with raw_data, graph inputs and outputs with their types and shapes, a
/// value_info for every other value whose type or shape is known, node attributes, nested graphs (If/Loop/Scan).
/// <para>
/// The .enet graph has been through EdgeNet's passes, so the export undoes what is not standard ONNX:
/// a fused activation (the <c>edgenet.activation</c> attribute) becomes the producer node followed by the activation
/// node; <c>edgenet.Swish</c> becomes Sigmoid + Mul. The model keeps its own default-domain opset; a fused node that
/// needs a newer one than the model declares (LayerNormalization from opset 17, HardSwish from 14) is written as the
/// equivalent ops of the model's opset. Anything else outside the standard domains is an
/// <see cref="UnsupportedOperatorException"/>.
/// </para>
/// </summary>
public static class OnnxExporter
{
    /// <summary>The ONNX IR version written for a default-domain opset (the lowest that opset needs, at least 7).</summary>
    public static long IrVersionFor(int opset) => opset switch
    {
        <= 13 => 7,
        <= 18 => 8,
        <= 20 => 9,
        _ => 10,
    };

    public static void Save(Model model, string path)
    {
        var bytes = ToProto(model).ToByteArray();
        string full = Path.GetFullPath(path), temp = full + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, full, overwrite: true);
    }

    public static ModelProto ToProto(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        int opset = model.Opsets.TryGetValue("", out int o) && o > 0 ? o : MaxNodeOpset(model.Graph);
        var proto = new ModelProto
        {
            IrVersion = IrVersionFor(opset),
            ProducerName = "EdgeNet",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "",
            Graph = new GraphWriter(opset).Write(model.Graph),
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        foreach (var (domain, version) in model.Opsets)
            if (domain.Length > 0 && domain != Passes.FuseSwish.Domain) proto.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        foreach (var (k, v) in model.Metadata) proto.MetadataProps.Add(new StringStringEntryProto { Key = k, Value = v });
        return proto;
    }

    private static int MaxNodeOpset(Graph g)
    {
        int max = 1;
        foreach (var n in g.Nodes) if (n.Domain.Length == 0) max = Math.Max(max, n.OpsetVersion);
        return max;
    }

    private sealed class GraphWriter(int opset)
    {
        private GraphProto _g = new();
        private Graph _source = new();
        private int _fresh;

        public GraphProto Write(Graph graph)
        {
            var saved = (_g, _source);
            (_g, _source) = (new GraphProto { Name = graph.Name.Length > 0 ? graph.Name : "edgenet" }, graph);
            try
            {
                foreach (var v in graph.Inputs) _g.Input.Add(ValueInfo(v));
                foreach (var v in graph.Outputs) _g.Output.Add(ValueInfo(v));
                foreach (var v in graph.Values.Values)
                {
                    if (v.Constant is { } c) _g.Initializer.Add(TensorProtoConverter.ToProto(v.Name, c));
                    else if (!graph.Inputs.Contains(v) && !graph.Outputs.Contains(v) && (v.DataType != DataType.Undefined || v.Shape is not null) && v.Producer is not null)
                        _g.ValueInfo.Add(ValueInfo(v));
                }
                foreach (var n in graph.Nodes) WriteNode(n);
                return _g;
            }
            finally
            {
                (_g, _source) = saved;
            }
        }

        private string Fresh(string stem)
        {
            string name;
            do name = $"{stem}__export{_fresh++}";
            while (_source.Values.ContainsKey(name));
            return name;
        }

        private static ValueInfoProto ValueInfo(Value v)
        {
            var info = new ValueInfoProto { Name = v.Name };
            if (v.DataType == DataType.Undefined && v.Shape is null) return info;
            var tensor = new TypeProto.Types.Tensor { ElemType = (int)v.DataType };
            if (v.Shape is not null)
            {
                var shape = new TensorShapeProto();
                foreach (var d in v.Shape)
                    shape.Dim.Add(d.IsKnown ? new TensorShapeProto.Types.Dimension { DimValue = d.Value }
                        : d.Symbol is { Length: > 0 } s ? new TensorShapeProto.Types.Dimension { DimParam = s } : new TensorShapeProto.Types.Dimension());
                tensor.Shape = shape;
            }
            info.Type = new TypeProto { TensorType = tensor };
            return info;
        }

        private NodeProto Emit(string opType, string name, IEnumerable<string> inputs, IEnumerable<string> outputs, string domain = "")
        {
            var n = new NodeProto { OpType = opType, Name = name, Domain = domain };
            n.Input.AddRange(inputs);
            n.Output.AddRange(outputs);
            _g.Node.Add(n);
            return n;
        }

        private string Constant(string stem, Tensor t)
        {
            string name = Fresh(stem);
            _g.Initializer.Add(TensorProtoConverter.ToProto(name, t));
            return name;
        }

        private void WriteNode(Node node)
        {
            var act = FusedActivation.Of(node);
            if (node.Domain == Passes.FuseSwish.Domain)
            {
                if (node.OpType != "Swish") throw UnsupportedOperatorException.For(node, "EdgeNet-internal operator has no ONNX form");
                if (act.Kind != ActivationKind.None) throw UnsupportedOperatorException.For(node, "a fused activation on Swish");
                Swish(node.Name, node.Inputs[0]!.Name, node.Outputs[0].Name);
                return;
            }
            if (node.Domain.Length > 0 && node.Domain != "ai.onnx") { Copy(node, node.Outputs.Select(o => o.Name).ToList()); return; }

            var outputs = node.Outputs.Select(o => o.Name).ToList();
            string? finalOut = null;
            if (act.Kind != ActivationKind.None)
            {
                if (outputs.Count != 1) throw UnsupportedOperatorException.For(node, "a fused activation on a node with several outputs");
                finalOut = outputs[0];
                outputs[0] = Fresh(node.Name.Length > 0 ? node.Name : node.OpType);
            }

            if (node.OpType == "LayerNormalization" && opset < 17) LayerNorm(node, outputs);
            else if (node.OpType == "HardSwish" && opset < 14) HardSwish(node.Name, node.Inputs[0]!.Name, outputs[0]);
            else
            {
                if (node.OpsetVersion > opset)
                    throw UnsupportedOperatorException.For(node, $"needs opset {node.OpsetVersion}, the model declares {opset}");
                Copy(node, outputs);
            }
            if (finalOut is not null) Activation(act, node.Name, outputs[0], finalOut);
        }

        private void Copy(Node node, List<string> outputs)
        {
            var n = Emit(node.OpType, node.Name, node.Inputs.Select(i => i?.Name ?? ""), outputs, node.Domain == "ai.onnx" ? "" : node.Domain);
            foreach (var a in node.Attributes.Values)
                if (!a.Name.StartsWith("edgenet.", StringComparison.Ordinal)) n.Attribute.Add(Attribute(a));
        }

        private AttributeProto Attribute(IR.Attribute a)
        {
            var p = new AttributeProto { Name = a.Name };
            switch (a.Kind)
            {
                case AttributeKind.Float: p.Type = AttributeProto.Types.AttributeType.Float; p.F = a.Float; break;
                case AttributeKind.Int: p.Type = AttributeProto.Types.AttributeType.Int; p.I = a.Int; break;
                case AttributeKind.String: p.Type = AttributeProto.Types.AttributeType.String; p.S = ByteString.CopyFromUtf8(a.String); break;
                case AttributeKind.Tensor: p.Type = AttributeProto.Types.AttributeType.Tensor; p.T = TensorProtoConverter.ToProto("", a.Tensor!); break;
                case AttributeKind.Graph: p.Type = AttributeProto.Types.AttributeType.Graph; p.G = Write(a.Graph!); break;
                case AttributeKind.Floats: p.Type = AttributeProto.Types.AttributeType.Floats; p.Floats.AddRange(a.Floats); break;
                case AttributeKind.Ints: p.Type = AttributeProto.Types.AttributeType.Ints; p.Ints.AddRange(a.Ints); break;
                case AttributeKind.Strings: p.Type = AttributeProto.Types.AttributeType.Strings; foreach (var s in a.Strings) p.Strings.Add(ByteString.CopyFromUtf8(s)); break;
                case AttributeKind.Tensors: p.Type = AttributeProto.Types.AttributeType.Tensors; foreach (var t in a.Tensors) p.Tensors.Add(TensorProtoConverter.ToProto("", t)); break;
                case AttributeKind.Graphs: p.Type = AttributeProto.Types.AttributeType.Graphs; foreach (var g in a.Graphs) p.Graphs.Add(Write(g)); break;
                default: throw new InvalidModelException($"attribute '{a.Name}' has unknown kind {a.Kind}");
            }
            return p;
        }

        private static AttributeProto FloatAttr(string name, float v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = v };
        private static AttributeProto IntsAttr(string name, params long[] v)
        {
            var p = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
            p.Ints.AddRange(v);
            return p;
        }

        /// <summary>The standard node(s) for a fused activation, reading <paramref name="x"/> and writing <paramref name="y"/>.</summary>
        private void Activation(FusedActivation act, string name, string x, string y)
        {
            string n = name + "_act";
            switch (act.Kind)
            {
                case ActivationKind.Relu: Emit("Relu", n, [x], [y]); break;
                case ActivationKind.Sigmoid: Emit("Sigmoid", n, [x], [y]); break;
                case ActivationKind.Tanh: Emit("Tanh", n, [x], [y]); break;
                case ActivationKind.LeakyRelu: Emit("LeakyRelu", n, [x], [y]).Attribute.Add(FloatAttr("alpha", act.Alpha)); break;
                case ActivationKind.LeakyReluFloor:
                    Emit("LeakyRelu", n, [x], [n + "_leaky"]).Attribute.Add(FloatAttr("alpha", act.Alpha));
                    Emit("Max", n + "_floor", [n + "_leaky", Constant(n + "_floor_value", Tensor.Scalar(act.Beta))], [y]);
                    break;
                case ActivationKind.HardSigmoid:
                    {
                        var node = Emit("HardSigmoid", n, [x], [y]);
                        node.Attribute.Add(FloatAttr("alpha", act.Alpha));
                        node.Attribute.Add(FloatAttr("beta", act.Beta));
                        break;
                    }
                case ActivationKind.Clip:
                    if (opset >= 11)
                        Emit("Clip", n, [x, Constant(n + "_min", Tensor.Scalar(act.Alpha)), Constant(n + "_max", Tensor.Scalar(act.Beta))], [y]);
                    else
                    {
                        var node = Emit("Clip", n, [x], [y]);
                        node.Attribute.Add(FloatAttr("min", act.Alpha));
                        node.Attribute.Add(FloatAttr("max", act.Beta));
                    }
                    break;
                case ActivationKind.HardSwish:
                    if (opset >= 14) Emit("HardSwish", n, [x], [y]);
                    else HardSwish(n, x, y);
                    break;
                case ActivationKind.Swish: Swish(n, x, y); break;
                default: throw new InvalidModelException($"node '{name}': fused activation {act.Kind} has no ONNX form");
            }
        }

        private void Swish(string name, string x, string y)
        {
            string s = Fresh(name + "_sigmoid");
            Emit("Sigmoid", name + "_sigmoid", [x], [s]);
            Emit("Mul", name + "_mul", [x, s], [y]);
        }

        /// <summary>HardSwish(x) = x · HardSigmoid(x; α = 1/6, β = 0.5), for opsets before 14.</summary>
        private void HardSwish(string name, string x, string y)
        {
            string h = Fresh(name + "_hsig");
            var hs = Emit("HardSigmoid", name + "_hsig", [x], [h]);
            hs.Attribute.Add(FloatAttr("alpha", 1f / 6));
            hs.Attribute.Add(FloatAttr("beta", 0.5f));
            Emit("Mul", name + "_mul", [x, h], [y]);
        }

        /// <summary>
        /// LayerNormalization for opsets before 17: μ = ReduceMean(x), d = x − μ, σ² = ReduceMean(d·d),
        /// y = d / √(σ² + ε) · scale (+ bias), reducing over the axes from <c>axis</c> to the last.
        /// </summary>
        private void LayerNorm(Node node, List<string> outputs)
        {
            if (outputs.Count > 1 && outputs.Skip(1).Any(o => o.Length > 0) && node.Outputs.Skip(1).Any(o => _source.ConsumersOf(o).Count > 0 || _source.IsGraphOutput(o)))
                throw UnsupportedOperatorException.For(node, "mean/inv-std outputs are used; they cannot be written before opset 17");
            long axis = node.GetInt("axis", -1);
            float eps = node.GetFloat("epsilon", 1e-5f);
            int rank = node.Inputs[0]!.Shape?.Length ?? -1;
            long[] axes;
            if (axis < 0) axes = Enumerable.Range(0, (int)-axis).Select(i => axis + i).ToArray();
            else if (rank > 0) axes = Enumerable.Range((int)axis, rank - (int)axis).Select(i => (long)i).ToArray();
            else throw UnsupportedOperatorException.For(node, "a positive axis on an input of unknown rank");
            string x = node.Inputs[0]!.Name, name = node.Name.Length > 0 ? node.Name : "layernorm";
            string mean = Fresh(name + "_mean"), d = Fresh(name + "_centered"), sq = Fresh(name + "_sq"), var = Fresh(name + "_var");
            string ve = Fresh(name + "_var_eps"), std = Fresh(name + "_std"), norm = Fresh(name + "_norm");
            Emit("ReduceMean", name + "_mean", [x], [mean]).Attribute.Add(IntsAttr("axes", axes));
            Emit("Sub", name + "_sub", [x, mean], [d]);
            Emit("Mul", name + "_square", [d, d], [sq]);
            Emit("ReduceMean", name + "_variance", [sq], [var]).Attribute.Add(IntsAttr("axes", axes));
            Emit("Add", name + "_add_eps", [var, Constant(name + "_eps", Tensor.Scalar(eps))], [ve]);
            Emit("Sqrt", name + "_sqrt", [ve], [std]);
            Emit("Div", name + "_div", [d, std], [norm]);
            bool hasBias = node.Inputs.Count > 2 && node.Inputs[2] is not null;
            string scaled = hasBias ? Fresh(name + "_scaled") : outputs[0];
            Emit("Mul", name + "_scale", [norm, node.Inputs[1]!.Name], [scaled]);
            if (hasBias) Emit("Add", name + "_bias", [scaled, node.Inputs[2]!.Name], [outputs[0]]);
        }
    }
}
