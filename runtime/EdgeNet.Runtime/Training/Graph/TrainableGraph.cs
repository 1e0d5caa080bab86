using EdgeNet.IR;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Activation;
using EdgeNet.Training.Layers;

namespace EdgeNet.Training;

/// <summary>How a <see cref="TrainableGraph"/> is cut out of a model and planned.</summary>
public sealed class TrainableGraphOptions
{
    /// <summary>Largest mini-batch: the arena is sized for it.</summary>
    public int MaxBatch { get; init; } = 32;
    /// <summary>Kernel path (null: the best the CPU has, or EDGENET_ISA).</summary>
    public Isa? Isa { get; init; }
    /// <summary>Train BatchNormalization with batch statistics (default: frozen running statistics, γ/β still trained).</summary>
    public bool TrainBatchNorm { get; init; }
    /// <summary>Leave off a final Softmax or Sigmoid (a node, or fused into the last layer) because the loss applies it.</summary>
    public string? StripFinalActivation { get; init; }
    /// <summary>Also compute the gradient of the cut input (gradient checks).</summary>
    public bool InputGradient { get; init; }
    /// <summary>Seed of dropout masks.</summary>
    public int Seed { get; init; }
}

/// <summary>
/// The part of a model from a cut tensor to an output, as layers with forward and backward passes over a mini-batch,
/// planned once into one <see cref="TrainArena"/> (every value, gradient and layer scratch; sized for
/// <see cref="TrainableGraphOptions.MaxBatch"/>). Its parameters are the model's own float initializers, replaced by
/// pinned copies that training updates in place, so after training the model holds the trained weights.
/// </summary>
public sealed class TrainableGraph
{
    private readonly List<TrainLayer> _layers;
    private readonly List<TrainLayer> _backwardLayers;
    private readonly List<TrainTensor> _zeroBeforeBackward;

    private TrainableGraph(TrainTensor input, TrainTensor output, List<TrainLayer> layers, List<TrainParameter> parameters, TrainArena arena, int maxBatch, List<Node> nodes)
    {
        Input = input; Output = output; _layers = layers; Parameters = parameters; Arena = arena; MaxBatch = maxBatch; Nodes = nodes;
        _backwardLayers = [];
        for (int i = layers.Count - 1; i >= 0; i--)
            if (layers[i].Parameters.Count > 0 || layers[i].Inputs.Any(t => t.NeedsGrad)) _backwardLayers.Add(layers[i]);
        _zeroBeforeBackward = [];
        foreach (var l in layers) foreach (var t in l.Inputs) if (t.NeedsGrad && t.AccumulateGrad && !_zeroBeforeBackward.Contains(t)) _zeroBeforeBackward.Add(t);
    }

    public TrainTensor Input { get; }
    /// <summary>The value the loss reads (logits when the final activation was stripped).</summary>
    public TrainTensor Output { get; }
    public IReadOnlyList<TrainLayer> Layers => _layers;
    public IReadOnlyList<TrainParameter> Parameters { get; }
    public TrainArena Arena { get; }
    public int MaxBatch { get; }
    /// <summary>The model nodes this graph trains, in order.</summary>
    public IReadOnlyList<Node> Nodes { get; }

    public void Forward(int batch, bool training)
    {
        CheckBatch(batch);
        foreach (var l in _layers) l.Forward(batch, training);
    }

    /// <summary>Backward pass: <see cref="Output"/>'s gradient must hold dLoss/dOutput.</summary>
    public void Backward(int batch)
    {
        CheckBatch(batch);
        foreach (var t in _zeroBeforeBackward) t.Grad(batch).Clear();
        foreach (var l in _backwardLayers) l.Backward(batch);
    }

    private void CheckBatch(int batch)
    {
        if (batch < 1 || batch > MaxBatch) throw new ArgumentOutOfRangeException(nameof(batch), $"batch {batch} is outside 1..{MaxBatch}");
    }

    /// <summary>
    /// Cuts <paramref name="graph"/> at <paramref name="cut"/> (a tensor whose per-sample shape is
    /// <paramref name="cutSampleShape"/>) and builds the layers from it to <paramref name="output"/>.
    /// </summary>
    public static TrainableGraph Build(IR.Graph graph, string cut, int[] cutSampleShape, string output, TrainableGraphOptions options)
    {
        if (!graph.Values.TryGetValue(cut, out var cutValue)) throw new InvalidModelException($"The model has no tensor named '{cut}'");
        if (!graph.Values.TryGetValue(output, out var outValue)) throw new InvalidModelException($"The model has no tensor named '{output}'");
        var nodes = NodesBetween(graph, cutValue, outValue);
        var builder = new Builder(options, cutValue, cutSampleShape);
        Node? last = nodes.Count > 0 ? nodes[^1] : null;
        TrainTensor result = builder.Input;
        foreach (var node in nodes)
        {
            bool isLast = ReferenceEquals(node, last);
            if (isLast && options.StripFinalActivation is { } strip && node.OpType == strip && node.Domain.Length == 0)
            {
                result = builder.Tensor(node.Inputs[0]!);
                builder.Alias(node.Outputs[0], result);
                continue;
            }
            result = builder.Add(node, isLast ? options.StripFinalActivation : null);
        }
        return builder.Finish(result, nodes, graph);
    }

    /// <summary>Inputs of a node that carry data (gradients flow through them); the others are constants or shapes.</summary>
    internal static IEnumerable<Value> DataInputs(Node node)
    {
        switch (node.OpType)
        {
            case "Add": case "Sub": case "Mul": case "Div":
                foreach (var v in node.Inputs) if (v is not null && !v.IsConstant) yield return v;
                break;
            default:
                if (node.Inputs.Count > 0 && node.Inputs[0] is { IsConstant: false } v0) yield return v0;
                break;
        }
    }

    /// <summary>The nodes on data paths from <paramref name="cut"/> to <paramref name="output"/>, in graph order.</summary>
    internal static List<Node> NodesBetween(IR.Graph graph, Value cut, Value output)
    {
        var producer = new Dictionary<Value, Node>();
        foreach (var n in graph.Nodes) foreach (var o in n.Outputs) producer[o] = n;
        var needed = new HashSet<Node>();
        var stack = new Stack<Value>();
        stack.Push(output);
        var seen = new HashSet<Value>();
        while (stack.Count > 0)
        {
            var v = stack.Pop();
            if (v == cut || !seen.Add(v)) continue;
            if (!producer.TryGetValue(v, out var node))
                throw new InvalidModelException($"'{output.Name}' depends on '{v.Name}', which does not come from the cut tensor '{cut.Name}': cut the model where one tensor separates it");
            needed.Add(node);
            foreach (var input in DataInputs(node)) stack.Push(input);
        }
        return graph.Nodes.Where(needed.Contains).ToList();
    }

    private sealed class Builder
    {
        private readonly TrainableGraphOptions _options;
        private readonly LayerSetup _setup;
        private readonly Dictionary<Value, TrainTensor> _tensors = [];
        private readonly Dictionary<string, TrainParameter> _parameters = new(StringComparer.Ordinal);
        private readonly List<TrainParameter> _parameterOrder = [];
        private readonly List<TrainLayer> _layers = [];
        private readonly Dictionary<Value, Node> _producerOps = [];
        private readonly List<(DenseLayer Layer, Node Node)> _gemms = [];
        private int _dropouts;

        public Builder(TrainableGraphOptions options, Value cut, int[] sampleShape)
        {
            _options = options;
            _setup = new LayerSetup { MaxBatch = options.MaxBatch, Isa = IsaSupport.Resolve(options.Isa), TrainBatchNorm = options.TrainBatchNorm, Seed = options.Seed };
            Input = new TrainTensor(cut.Name, sampleShape);
            _tensors[cut] = Input;
        }

        public TrainTensor Input { get; }

        public TrainTensor Tensor(Value v) => _tensors.TryGetValue(v, out var t) ? t
            : throw new InvalidModelException($"Tensor '{v.Name}' is used before it is computed in the trainable part");

        public void Alias(Value v, TrainTensor t) => _tensors[v] = t;

        private TrainParameter Parameter(Node node, int input, string what)
        {
            var v = node.Input(input) ?? throw new InvalidModelException($"{node.OpType} node '{node.Name}' has no {what}");
            if (v.Constant is null) throw new UnsupportedOperatorException($"{node.OpType} node '{node.Name}': a runtime {what} ('{v.Name}') cannot be trained; it must be an initializer");
            if (_parameters.ContainsKey(v.Name)) throw new UnsupportedOperatorException($"Initializer '{v.Name}' is shared by several layers; shared weights cannot be trained");
            var p = new TrainParameter(v);
            _parameters[v.Name] = p;
            _parameterOrder.Add(p);
            return p;
        }

        private static float[] ConstantFloats(Node node, int input, string what) =>
            node.Input(input)?.Constant?.ToFloatArray() ?? throw new UnsupportedOperatorException($"{node.OpType} node '{node.Name}': {what} must be a constant");

        public TrainTensor Add(Node node, string? stripFused)
        {
            if (node.Domain.Length > 0) throw new UnsupportedOperatorException($"{node.Domain}.{node.OpType} node '{node.Name}' cannot be trained");
            var activation = FusedActivation.Of(node);
            if (stripFused is not null && activation.Kind.ToString() == stripFused) activation = FusedActivation.None;
            string name = node.Name.Length > 0 ? node.Name : node.Outputs[0].Name;
            TrainLayer layer = node.OpType switch
            {
                "Gemm" => Gemm(node, name, activation),
                "MatMul" => new DenseLayer(name, Tensor(node.Inputs[0]!), Parameter(node, 1, "weight"), false, null, activation),
                "Conv" => Conv(node, name, activation),
                "Add" => Binary(node, name, BinaryKind.Add),
                "Sub" => Binary(node, name, BinaryKind.Sub),
                "Mul" => Binary(node, name, BinaryKind.Mul),
                "Div" => Binary(node, name, BinaryKind.Div),
                "Relu" => Act(node, name, new FusedActivation(ActivationKind.Relu)),
                "LeakyRelu" => Act(node, name, new FusedActivation(ActivationKind.LeakyRelu, node.GetFloat("alpha", 0.01f))),
                "Clip" => Act(node, name, ClipOf(node)),
                "HardSigmoid" => Act(node, name, new FusedActivation(ActivationKind.HardSigmoid, node.GetFloat("alpha", 0.2f), node.GetFloat("beta", 0.5f))),
                "HardSwish" => Act(node, name, new FusedActivation(ActivationKind.HardSwish)),
                "Sigmoid" => Act(node, name, new FusedActivation(ActivationKind.Sigmoid)),
                "Tanh" => Act(node, name, new FusedActivation(ActivationKind.Tanh)),
                "Softmax" => Softmax(node, name),
                "BatchNormalization" => BatchNorm(node, name),
                "LayerNormalization" => LayerNorm(node, name),
                "Flatten" => Flatten(node, name),
                "Reshape" => Reshape(node, name),
                "Squeeze" or "Unsqueeze" or "Identity" => SqueezeLike(node, name),
                "GlobalAveragePool" => new GlobalAveragePoolLayer(name, Tensor(node.Inputs[0]!)),
                "MaxPool" or "AveragePool" => Pool(node, name),
                "Dropout" => new DropoutLayer(name, Tensor(node.Inputs[0]!), DropoutRatio(node), _options.Seed * 7919 + _dropouts++),
                _ => throw new UnsupportedOperatorException($"{node.OpType} node '{node.Name}' has no backward pass; cut the model after it (a later --feature, or fewer --trainable-last layers)"),
            };
            _layers.Add(layer);
            _tensors[node.Outputs[0]] = layer.Output;
            _producerOps[node.Outputs[0]] = node;
            if (activation.Kind != ActivationKind.None && layer is not (DenseLayer or ConvLayer))
                throw new UnsupportedOperatorException($"{node.OpType} node '{node.Name}' has a fused {activation.Kind} that cannot be trained");
            return layer.Output;
        }

        private TrainLayer Gemm(Node node, string name, FusedActivation activation)
        {
            if (node.GetInt("transA", 0) != 0 || node.GetFloat("alpha", 1) != 1 || (node.HasInput(2) && node.GetFloat("beta", 1) != 1))
                throw new UnsupportedOperatorException($"Gemm node '{node.Name}': only transA=0, alpha=1, beta=1 can be trained");
            var bias = node.HasInput(2) ? Parameter(node, 2, "bias") : null;
            var layer = new DenseLayer(name, Tensor(node.Inputs[0]!), Parameter(node, 1, "weight"), node.GetInt("transB", 0) != 0, bias, activation);
            _gemms.Add((layer, node));
            return layer;
        }

        private TrainLayer Conv(Node node, string name, FusedActivation activation)
        {
            var x = Tensor(node.Inputs[0]!);
            var wv = node.Input(1)?.Constant ?? throw new UnsupportedOperatorException($"Conv node '{node.Name}': weights must be an initializer");
            if (x.SampleShape.Length != 3 || wv.Rank != 4) throw new UnsupportedOperatorException($"Conv node '{node.Name}': only 2-D convolution can be trained");
            string autoPad = node.GetString("auto_pad", "NOTSET");
            int groups = (int)node.GetInt("group", 1);
            var strides = node.GetInts("strides") ?? [1, 1];
            var dilations = node.GetInts("dilations") ?? [1, 1];
            var pads = node.GetInts("pads") ?? [0, 0, 0, 0];
            int inC = x.SampleShape[0], inH = x.SampleShape[1], inW = x.SampleShape[2], kh = wv.Dims[2], kw = wv.Dims[3];
            if (inC != wv.Dims[1] * groups || wv.Dims[0] % groups != 0) throw new ShapeInferenceException($"Conv node '{node.Name}': {inC} input channels do not match weights {Shapes.Format(wv.Dims)} with group {groups}");
            int eh = (kh - 1) * (int)dilations[0] + 1, ew = (kw - 1) * (int)dilations[1] + 1;
            int pt = (int)pads[0], pl = (int)pads[1], pb = (int)pads[2], pr = (int)pads[3];
            if (autoPad is "SAME_UPPER" or "SAME_LOWER")
            {
                int oh0 = (inH + (int)strides[0] - 1) / (int)strides[0], ow0 = (inW + (int)strides[1] - 1) / (int)strides[1];
                int th = Math.Max(0, (oh0 - 1) * (int)strides[0] + eh - inH), tw = Math.Max(0, (ow0 - 1) * (int)strides[1] + ew - inW);
                pt = autoPad == "SAME_UPPER" ? th / 2 : th - th / 2; pb = th - pt;
                pl = autoPad == "SAME_UPPER" ? tw / 2 : tw - tw / 2; pr = tw - pl;
            }
            else if (autoPad == "VALID") pt = pl = pb = pr = 0;
            int oh = (inH + pt + pb - eh) / (int)strides[0] + 1, ow = (inW + pl + pr - ew) / (int)strides[1] + 1;
            if (oh < 1 || ow < 1) throw new ShapeInferenceException($"Conv node '{node.Name}': kernel larger than the padded input");
            var geometry = new Conv2dGeometry(inC, inH, inW, wv.Dims[0], oh, ow, kh, kw, (int)strides[0], (int)strides[1], pt, pl, (int)dilations[0], (int)dilations[1], groups);
            var weight = Parameter(node, 1, "weight");
            var bias = node.HasInput(2) ? Parameter(node, 2, "bias") : null;
            return new ConvLayer(name, x, weight, bias, geometry, activation);
        }

        private TrainLayer Binary(Node node, string name, BinaryKind kind)
        {
            BinaryOperand Operand(int i)
            {
                var v = node.Input(i) ?? throw new InvalidModelException($"{node.OpType} node '{node.Name}' misses input {i}");
                if (v.Constant is { } c)
                {
                    // the bias of a MatMul (exported as MatMul + Add) is trained with it; other constants stay fixed
                    var other = node.Input(1 - i);
                    bool bias = kind == BinaryKind.Add && other is not null && _producerOps.TryGetValue(other, out var p)
                        && p.OpType == "MatMul" && c.DataType == DataType.Float32 && !_parameters.ContainsKey(v.Name);
                    if (bias) return new BinaryOperand { Parameter = Parameter(node, i, "bias"), Shape = c.Dims };
                    return new BinaryOperand { Constant = c.ToFloatArray(), Shape = c.Dims };
                }
                var t = Tensor(v);
                return new BinaryOperand { Tensor = t, Shape = [1, .. t.SampleShape] };
            }
            return new BinaryLayer(name, kind, Operand(0), Operand(1));
        }

        private ActivationLayer Act(Node node, string name, FusedActivation a) => new(name, Tensor(node.Inputs[0]!), a, _setup.Isa);

        private static FusedActivation ClipOf(Node node)
        {
            float min = node.GetFloat("min", float.MinValue), max = node.GetFloat("max", float.MaxValue);
            if (node.Input(1) is { } lo) min = (float)(lo.Constant ?? throw new UnsupportedOperatorException($"Clip node '{node.Name}': min must be a constant")).GetAsDouble(0);
            if (node.Input(2) is { } hi) max = (float)(hi.Constant ?? throw new UnsupportedOperatorException($"Clip node '{node.Name}': max must be a constant")).GetAsDouble(0);
            return new FusedActivation(ActivationKind.Clip, min, max);
        }

        private SoftmaxLayer Softmax(Node node, string name)
        {
            var x = Tensor(node.Inputs[0]!);
            int rank = x.SampleShape.Length + 1;
            long axis = node.GetInt("axis", node.OpsetVersion is > 0 and < 13 ? 1 : -1);
            if (axis < 0) axis += rank;
            if (axis != rank - 1) throw new UnsupportedOperatorException($"Softmax node '{node.Name}': only the last axis can be trained");
            return new SoftmaxLayer(name, x);
        }

        private BatchNormLayer BatchNorm(Node node, string name) =>
            new(name, Tensor(node.Inputs[0]!), Parameter(node, 1, "scale"), Parameter(node, 2, "bias"), Parameter(node, 3, "mean"), Parameter(node, 4, "variance"),
                node.GetFloat("epsilon", 1e-5f), node.GetFloat("momentum", 0.9f));

        private LayerNormLayer LayerNorm(Node node, string name)
        {
            var x = Tensor(node.Inputs[0]!);
            int rank = x.SampleShape.Length + 1;
            int axis = (int)node.GetInt("axis", -1);
            if (axis < 0) axis += rank;
            if (axis < 1 || axis >= rank) throw new UnsupportedOperatorException($"LayerNormalization node '{node.Name}': axis {axis} includes the batch");
            int length = Shapes.Count(x.SampleShape[(axis - 1)..]);
            var bias = node.HasInput(2) ? Parameter(node, 2, "bias") : null;
            return new LayerNormLayer(name, x, length, Parameter(node, 1, "scale"), bias, node.GetFloat("epsilon", 1e-5f));
        }

        private ReshapeLayer Flatten(Node node, string name)
        {
            var x = Tensor(node.Inputs[0]!);
            long axis = node.GetInt("axis", 1);
            if (axis < 0) axis += x.SampleShape.Length + 1;
            if (axis != 1) throw new UnsupportedOperatorException($"Flatten node '{node.Name}': only axis 1 (keep the batch) can be trained");
            return new ReshapeLayer(name, x, [x.SampleSize]);
        }

        private ReshapeLayer Reshape(Node node, string name)
        {
            var x = Tensor(node.Inputs[0]!);
            if (node.Input(1)?.Constant is not { } shapeTensor) return new ReshapeLayer(name, x, [x.SampleSize]);
            var target = shapeTensor.ToInt64Array();
            int[] full = [1, .. x.SampleShape];
            var dims = new int[target.Length];
            int infer = -1;
            long known = 1;
            for (int i = 0; i < target.Length; i++)
            {
                long d = target[i] == 0 && node.GetInt("allowzero", 0) == 0 ? (i < full.Length ? full[i] : 0) : target[i];
                if (d == -1) { infer = i; dims[i] = 1; continue; }
                dims[i] = (int)d;
                known *= d;
            }
            if (infer >= 0) dims[infer] = (int)(x.SampleSize / Math.Max(1, known));
            if (dims.Length == 0 || dims[0] != 1) throw new UnsupportedOperatorException($"Reshape node '{node.Name}': reshaping across the batch axis cannot be trained");
            return new ReshapeLayer(name, x, dims[1..]);
        }

        private ReshapeLayer SqueezeLike(Node node, string name)
        {
            var x = Tensor(node.Inputs[0]!);
            if (node.OpType == "Identity") return new ReshapeLayer(name, x, x.SampleShape);
            var axes = node.GetInts("axes") ?? node.Input(1)?.Constant?.ToInt64Array();
            var full = new List<int> { 1 };
            full.AddRange(x.SampleShape);
            if (node.OpType == "Squeeze")
            {
                if (axes is null) { var kept = x.SampleShape.Where(d => d != 1).ToArray(); return new ReshapeLayer(name, x, kept); }
                var drop = axes.Select(a => (int)(a < 0 ? a + full.Count : a)).ToHashSet();
                if (drop.Contains(0)) throw new UnsupportedOperatorException($"Squeeze node '{node.Name}': squeezing the batch axis cannot be trained");
                return new ReshapeLayer(name, x, full.Where((d, i) => !drop.Contains(i)).Skip(1).ToArray());
            }
            if (axes is null) throw new InvalidModelException($"Unsqueeze node '{node.Name}' has no axes");
            int outRank = full.Count + axes.Length;
            foreach (int a in axes.Select(a => (int)(a < 0 ? a + outRank : a)).Order())
            {
                if (a == 0) throw new UnsupportedOperatorException($"Unsqueeze node '{node.Name}': a new leading axis cannot be trained");
                full.Insert(a, 1);
            }
            return new ReshapeLayer(name, x, full.Skip(1).ToArray());
        }

        private Pool2dLayer Pool(Node node, string name)
        {
            var k = node.GetInts("kernel_shape") ?? throw new InvalidModelException($"{node.OpType} node '{node.Name}' has no kernel_shape");
            if (k.Length != 2 || node.GetInt("ceil_mode", 0) != 0 || node.GetString("auto_pad", "NOTSET") != "NOTSET" || (node.GetInts("dilations") ?? [1, 1]).Any(d => d != 1))
                throw new UnsupportedOperatorException($"{node.OpType} node '{node.Name}': only 2-D pooling without ceil_mode, auto_pad or dilation can be trained");
            var s = node.GetInts("strides") ?? [1, 1];
            var p = node.GetInts("pads") ?? [0, 0, 0, 0];
            return new Pool2dLayer(name, Tensor(node.Inputs[0]!), node.OpType == "MaxPool", (int)k[0], (int)k[1], (int)s[0], (int)s[1],
                (int)p[0], (int)p[1], (int)p[2], (int)p[3], node.GetInt("count_include_pad", 0) != 0);
        }

        private static float DropoutRatio(Node node) =>
            node.Input(1)?.Constant is { } r ? (float)r.GetAsDouble(0) : node.GetFloat("ratio", 0.5f);

        public TrainableGraph Finish(TrainTensor output, List<Node> nodes, IR.Graph graph)
        {
            // which values need gradients: those downstream of a parameter (or of the input, for gradient checks)
            Input.NeedsGrad = _options.InputGradient;
            foreach (var l in _layers)
            {
                l.Output.NeedsGrad = l.Parameters.Count > 0 || l.Inputs.Any(t => t.NeedsGrad);
                foreach (var t in l.Inputs) t.Consumers++;
            }
            // a Gemm with transB whose input gets no gradient trains on its weight stored K×N (no per-step transpose);
            // the model's node follows, unless another node also reads that initializer
            foreach (var (layer, node) in _gemms)
            {
                var weight = node.Input(1)!;
                if (graph.Nodes.Any(n => !ReferenceEquals(n, node) && n.Inputs.Contains(weight)) || graph.Outputs.Contains(weight)) continue;
                if (layer.TryStoreWeightUntransposed()) node.SetAttribute(IR.Attribute.Of("transB", 0));
            }
            var arena = new TrainArena();
            var all = new List<TrainTensor> { Input };
            foreach (var l in _layers) all.Add(l.Output);
            // a reshape's output is a view of its input's floats (no layer writes its input, nor its output after its
            // forward); gradients stay separate, so several consumers never add into one another's
            var views = _layers.OfType<ReshapeLayer>().ToDictionary(l => l.Output, l => l.Inputs[0]);
            foreach (var t in all)
            {
                t.Arena = arena;
                t.DataOffset = views.TryGetValue(t, out var source) ? source.DataOffset : arena.Reserve(_options.MaxBatch * t.SampleSize);
                if (t.NeedsGrad || ReferenceEquals(t, output) || (t != Input && t.Consumers > 0)) t.GradOffset = arena.Reserve(_options.MaxBatch * t.SampleSize);
            }
            foreach (var l in _layers) l.Plan(arena, _setup);
            arena.Allocate();
            var trainable = new List<TrainParameter>();
            foreach (var l in _layers) foreach (var p in l.Parameters) trainable.Add(p);
            return new TrainableGraph(Input, output, _layers, trainable, arena, _options.MaxBatch, nodes);
        }
    }
}
