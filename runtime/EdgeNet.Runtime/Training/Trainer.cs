using System.Diagnostics;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Activation;
using EdgeNet.Training.Checkpoints;
using EdgeNet.Training.Layers;
using EdgeNet.Training.Losses;
using EdgeNet.Training.Optimizers;

namespace EdgeNet.Training;

/// <summary>
/// Fine-tunes a model on the device, Keras style: the layers before a cut tensor are frozen and run once per sample
/// (<see cref="CacheFeatures"/>), the layers after it are trained with mini-batch SGD (or Adam) by
/// <see cref="Fit(FeatureSet, FeatureSet?)"/>; <see cref="Evaluate"/> scores a set. The head may be replaced by a new
/// Dense layer + Softmax. <see cref="Model"/> is updated in place: after training it is the backbone plus the trained
/// layers, ready for a normal <see cref="Session"/> or <see cref="Format.EnetWriter"/>.
/// A step whose input, loss or gradients are not finite is rejected: the weights stay as they were,
/// <see cref="RejectedSteps"/> counts it and <see cref="StepRejected"/> reports it. With
/// <see cref="TrainerOptions.EmaDecay"/> a moving average of the weights follows every accepted step; validation,
/// early stopping and the weights Fit leaves in <see cref="Model"/> are then the average's, while training itself
/// continues from the live (last-iterate) weights.
/// </summary>
public sealed class Trainer
{
    private static readonly HashSet<string> s_weightLayers = ["Gemm", "MatMul", "Conv"];

    private readonly TrainerOptions _options;
    private readonly Loss _loss;
    private readonly Optimizer _optimizer;
    private readonly Session? _backbone;
    private readonly int[] _batchLabels;
    private readonly int _width;
    private readonly float[][] _best;
    private readonly WeightAverage? _average;
    private long _steps;

    public Trainer(Model model, FineTuneSetup setup, TrainerOptions options)
    {
        Model = model;
        _options = options;
        if (options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), "BatchSize must be at least 1");
        if (model.Graph.Outputs.Count == 0) throw new InvalidModelException("The model has no output");
        var graph = model.Graph;
        var sessionOptions = new SessionOptions { Isa = options.Isa };
        foreach (var (k, v) in setup.InputShapes) sessionOptions.InputShapes[k] = v;

        FeatureTensor = setup.Feature ?? DefaultFeature(graph);
        if (!graph.Values.ContainsKey(FeatureTensor)) throw new InvalidModelException($"The model has no tensor named '{FeatureTensor}'");
        if (setup.NewHeadClasses is int classes)
        {
            if (classes < 1) throw new ArgumentOutOfRangeException(nameof(setup), "a head needs at least one class");
            var featureShape = ShapeOf(graph, FeatureTensor, sessionOptions);
            ReplaceHead(model, FeatureTensor, featureShape, classes, setup.HeadInit, options.Seed);
        }
        string output = graph.Outputs[0].Name;
        var finalNode = graph.Nodes.LastOrDefault(n => n.Outputs.Contains(graph.Outputs[0]));
        _loss = ChooseLoss(setup.Loss, finalNode);

        Cut = setup.TrainFrom ?? ChooseCut(graph, setup.TrainableLast);
        bool cutIsInput = graph.Inputs.Any(v => v.Name == Cut);
        int[] cutShape;
        if (cutIsInput)
        {
            var v = graph.Values[Cut];
            cutShape = sessionOptions.InputShapes.TryGetValue(Cut, out var s) ? s : PlanBuilder.ResolveInputShape(v, sessionOptions);
        }
        else
        {
            _backbone = new Session(BackboneModel(model, Cut), sessionOptions);
            cutShape = _backbone.OutputShape(0);
        }
        if (cutShape.Length == 0 || cutShape[0] != 1) throw new InvalidModelException($"The cut tensor '{Cut}' must have batch 1 first, got {Shapes.Format(cutShape)}");
        Graph = TrainableGraph.Build(graph, Cut, cutShape[1..], output, new TrainableGraphOptions
        {
            MaxBatch = options.BatchSize, Isa = options.Isa, TrainBatchNorm = options.TrainBatchNorm,
            StripFinalActivation = _loss.FusedActivation, Seed = options.Seed,
        });
        _width = Graph.Output.SampleSize;
        InputShape = sessionOptions.InputShapes;
        _optimizer = options.Optimizer == OptimizerKind.Adam
            ? new Adam { LearningRate = options.LearningRate, WeightDecay = options.WeightDecay }
            : new Sgd { LearningRate = options.LearningRate, Momentum = options.Momentum, Nesterov = options.Nesterov, WeightDecay = options.WeightDecay };
        if (options.EmaDecay != 0) _average = new WeightAverage(options.EmaDecay);
        _batchLabels = new int[options.BatchSize];
        _best = Graph.Parameters.Select(p => new float[p.Count]).ToArray();
        // without clipping (which needs the whole gradient's norm first), a first layer's weight is updated chunk by
        // chunk right as its gradient is computed, so the gradient is not streamed through memory twice more
        _deferred = options.ClipNorm > 0 ? [] : Graph.Layers.OfType<DenseLayer>().Where(l => l.CanDeferWeightGradient).ToArray();
        _deferredIndex = _deferred.Select(l => Graph.Parameters.ToList().IndexOf(l.Weight)).ToArray();
        _deferredReadsInput = _deferred.Select(l => l.Inputs[0].DataOffset == Graph.Input.DataOffset).ToArray();
        _later = new bool[Graph.Parameters.Count];
        _stripUpdates = _deferred.Select((l, d) => new GradientStripUpdate(_optimizer, Graph.Parameters, _deferredIndex[d], l.WeightColumns, _average)).ToArray();
    }

    private readonly GradientStripUpdate[] _stripUpdates;

    private readonly DenseLayer[] _deferred;
    private readonly int[] _deferredIndex;
    private readonly bool[] _deferredReadsInput;
    private readonly bool[] _later;

    /// <summary>Weight updates made chunk by chunk as their gradient was computed (tests).</summary>
    internal long ChunkedUpdates { get; private set; }

    /// <summary>The model being trained (its head replaced when asked): after Fit it holds the trained weights.</summary>
    public Model Model { get; }
    /// <summary>Where the (new) head is attached.</summary>
    public string FeatureTensor { get; }
    /// <summary>Where the frozen part ends: everything after this tensor is trained.</summary>
    public string Cut { get; }
    public TrainableGraph Graph { get; }
    public Loss Loss => _loss;
    /// <summary>Input shapes the backbone was planned with.</summary>
    public IReadOnlyDictionary<string, int[]> InputShape { get; }
    public int RejectedSteps { get; private set; }
    public event Action<StepRejection>? StepRejected;
    public event Action<EpochResult>? EpochCompleted;
    public Optimizer Optimizer => _optimizer;
    /// <summary>The moving average of the weights (null when <see cref="TrainerOptions.EmaDecay"/> is 0).</summary>
    public WeightAverage? WeightAverage => _average;

    /// <summary>Runs the frozen backbone once per sample; <paramref name="fill"/> writes sample i's model input (batch 1).</summary>
    public FeatureSet CacheFeatures(int count, Action<int, Span<float>> fill, IReadOnlyList<int> labels)
    {
        if (labels.Count != count) throw new ArgumentException("one label per sample", nameof(labels));
        int size = Graph.Input.SampleSize;
        var data = new float[(long)count * size];
        for (int i = 0; i < count; i++)
        {
            if (_backbone is null) fill(i, data.AsSpan(i * size, size));
            else
            {
                fill(i, _backbone.Input<float>(0));
                _backbone.Run();
                _backbone.Output<float>(0)[..size].CopyTo(data.AsSpan(i * size, size));
            }
        }
        return new FeatureSet(data, size, labels.ToArray());
    }

    /// <summary>Keras-style: caches the backbone outputs of <paramref name="inputs"/> and trains.</summary>
    public FitResult Fit(IReadOnlyList<Tensor> inputs, int[] labels, IReadOnlyList<Tensor>? validationInputs = null, int[]? validationLabels = null)
    {
        var train = CacheFeatures(inputs.Count, (i, dst) => inputs[i].AsSpan<float>().CopyTo(dst), labels);
        FeatureSet? validation = validationInputs is null ? null
            : CacheFeatures(validationInputs.Count, (i, dst) => validationInputs[i].AsSpan<float>().CopyTo(dst), validationLabels ?? throw new ArgumentNullException(nameof(validationLabels)));
        return Fit(train, validation);
    }

    /// <summary>Trains on cached features for <see cref="TrainerOptions.Epochs"/> epochs (fewer with early stopping).</summary>
    public FitResult Fit(FeatureSet train, FeatureSet? validation = null)
    {
        if (train.SampleSize != Graph.Input.SampleSize) throw new InputMismatchException($"Features of {train.SampleSize} values, the trainable part takes {Graph.Input.SampleSize}");
        if (validation is null && _options.ValidationSplit > 0)
        {
            var split = Enumerable.Range(0, train.Count).ToArray();
            new Random(_options.Seed ^ 0x5eed).Shuffle(split);
            int held = (int)Math.Round(train.Count * _options.ValidationSplit);
            validation = train.Subset(split[..held]);
            train = train.Subset(split[held..]);
        }
        var order = new int[train.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var random = new Random(_options.Seed);
        var parameters = Graph.Parameters;
        _average?.Unapply(parameters); // a second Fit trains on from the live weights
        var epochs = new List<EpochResult>();
        double bestLoss = double.PositiveInfinity;
        int bestEpoch = -1, sinceBest = 0;
        bool stopped = false;
        for (int epoch = 0; epoch < _options.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            float lr = _options.Schedule.Rate(_options.LearningRate, epoch);
            _optimizer.LearningRate = lr;
            if (_options.Shuffle) random.Shuffle(order);
            int rejectedBefore = RejectedSteps;
            double lossSum = 0;
            int correct = 0, counted = 0;
            for (int start = 0; start < order.Length; start += _options.BatchSize)
            {
                int batch = Math.Min(_options.BatchSize, order.Length - start);
                var (loss, hits) = Step(train, order.AsSpan(start, batch));
                if (double.IsNaN(loss)) continue;
                lossSum += loss * batch;
                correct += hits;
                counted += batch;
            }
            double valLoss = double.NaN, valAcc = double.NaN;
            if (validation is { Count: > 0 })
            {
                _average?.Apply(parameters); // validated (and kept as the best) with the averaged weights
                var r = Evaluate(validation);
                valLoss = r.Loss; valAcc = r.Accuracy;
            }
            var record = new EpochResult(epoch + 1, counted > 0 ? lossSum / counted : double.NaN, counted > 0 ? (double)correct / counted : double.NaN,
                valLoss, valAcc, lr, clock.Elapsed.TotalSeconds, RejectedSteps - rejectedBefore);
            epochs.Add(record);
            EpochCompleted?.Invoke(record);
            if (_options.EarlyStoppingPatience > 0 && !double.IsNaN(valLoss))
            {
                if (valLoss < bestLoss)
                {
                    bestLoss = valLoss; bestEpoch = epoch + 1; sinceBest = 0;
                    for (int p = 0; p < _best.Length; p++) Graph.Parameters[p].Value.CopyTo(_best[p]);
                }
                else if (++sinceBest >= _options.EarlyStoppingPatience)
                {
                    _average?.Unapply(parameters);
                    for (int p = 0; p < _best.Length; p++) _best[p].CopyTo(Graph.Parameters[p].Value);
                    stopped = true;
                    break;
                }
            }
            _average?.Unapply(parameters);
        }
        // the model keeps the averaged weights (the live ones stay aside for further training)
        if (!stopped) _average?.Apply(parameters);
        return new FitResult(epochs, stopped, bestEpoch < 0 ? epochs.Count : bestEpoch);
    }

    /// <summary>
    /// One optimizer step on the samples at <paramref name="indices"/> of <paramref name="data"/>. Returns the mean
    /// loss and the number of correct predictions, or NaN when the step was rejected. Allocates nothing once every
    /// batch size has been seen.
    /// </summary>
    public (double Loss, int Correct) Step(FeatureSet data, ReadOnlySpan<int> indices)
    {
        if (_average is { Applied: true }) _average.Unapply(Graph.Parameters); // train the live weights
        int batch = indices.Length;
        var input = Graph.Input.Data(batch);
        int size = data.SampleSize;
        for (int i = 0; i < batch; i++) _batchLabels[i] = data.Labels[indices[i]];
        // max |x| (+Inf when a value is not finite) also bounds a first layer's weight gradient below
        float inputMaxAbs = TrainVectors.GatherRows(data.Data, indices, size, input);
        _steps++;
        if (float.IsInfinity(inputMaxAbs)) return Reject(RejectReason.InputNotFinite);
        Graph.Forward(batch, training: true);
        var output = Graph.Output.Data(batch);
        double loss = _loss.Compute(output, batch, _width, _batchLabels.AsSpan(0, batch), Graph.Output.Grad(batch));
        if (!double.IsFinite(loss)) return Reject(RejectReason.LossNotFinite);
        foreach (var l in _deferred) l.DeferWeightGradient = true;
        try { Graph.Backward(batch); }
        finally { foreach (var l in _deferred) l.DeferWeightGradient = false; }
        var parameters = Graph.Parameters;
        for (int d = 0; d < _deferred.Length; d++)
        {
            // a deferred weight gradient is checked by a bound on its factors; where that fails it is computed now
            _later[_deferredIndex[d]] = _deferred[d].WeightGradientIsBounded(batch, _deferredReadsInput[d] ? inputMaxAbs : null);
            if (!_later[_deferredIndex[d]]) _deferred[d].WeightGradient(batch);
        }
        double squares = 0;
        for (int p = 0; p < parameters.Count; p++) if (!_later[p]) squares += TrainVectors.SumOfSquares(parameters[p].Grad);
        if (!double.IsFinite(squares)) return Reject(RejectReason.GradientNotFinite);
        if (_options.ClipNorm > 0 && squares > (double)_options.ClipNorm * _options.ClipNorm)
        {
            float scale = (float)(_options.ClipNorm / Math.Sqrt(squares));
            for (int p = 0; p < parameters.Count; p++) TrainVectors.Scale(parameters[p].Grad, scale);
        }
        _optimizer.Step(parameters, _later);
        if (_average is not null)
        {
            _average.Begin(parameters);
            for (int p = 0; p < parameters.Count; p++) if (!_later[p]) _average.Update(parameters, p, 0, parameters[p].Count);
        }
        for (int d = 0; d < _deferred.Length; d++)
        {
            int index = _deferredIndex[d];
            if (!_later[index]) continue;
            _deferred[d].WeightGradientStrips(batch, _stripUpdates[d]); // (each strip also goes into the average)
            _later[index] = false;
            ChunkedUpdates++;
        }
        return (loss, CountCorrect(output, batch));
    }

    private (double, int) Reject(RejectReason reason)
    {
        RejectedSteps++;
        StepRejected?.Invoke(new StepRejection(_steps, reason));
        return (double.NaN, 0);
    }

    private int CountCorrect(ReadOnlySpan<float> output, int batch)
    {
        int correct = 0;
        for (int n = 0; n < batch; n++) if (Predict(output.Slice(n * _width, _width)) == _batchLabels[n]) correct++;
        return correct;
    }

    /// <summary>The class of one output row: argmax, or for a single (logit) output 1 when it is positive.</summary>
    private int Predict(ReadOnlySpan<float> row)
    {
        if (row.Length == 1) return _loss is SigmoidBinaryCrossEntropyLoss ? (row[0] > 0 ? 1 : 0) : (row[0] > 0.5f ? 1 : 0);
        int best = 0;
        for (int i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }

    /// <summary>Loss and accuracy of the current weights on a feature set (inference mode: no dropout, frozen statistics).</summary>
    public EvaluationResult Evaluate(FeatureSet data)
    {
        var predictions = new int[data.Count];
        double lossSum = 0;
        int correct = 0;
        var scratchGrad = new float[_options.BatchSize * _width];
        for (int start = 0; start < data.Count; start += _options.BatchSize)
        {
            int batch = Math.Min(_options.BatchSize, data.Count - start);
            var input = Graph.Input.Data(batch);
            data.Data.AsSpan(start * data.SampleSize, batch * data.SampleSize).CopyTo(input);
            Graph.Forward(batch, training: false);
            var output = Graph.Output.Data(batch);
            lossSum += _loss.Compute(output, batch, _width, data.Labels.AsSpan(start, batch), scratchGrad) * batch;
            for (int n = 0; n < batch; n++)
            {
                predictions[start + n] = Predict(output.Slice(n * _width, _width));
                if (predictions[start + n] == data.Labels[start + n]) correct++;
            }
        }
        return new EvaluationResult(data.Count > 0 ? lossSum / data.Count : double.NaN, data.Count > 0 ? (double)correct / data.Count : double.NaN, predictions, data.Labels);
    }

    // ---- checkpoints -----------------------------------------------------------------------------------------------

    /// <summary>Checkpoint metadata key of the number of steps taken.</summary>
    public const string StepsKey = "trainer.steps";

    /// <summary>
    /// A checkpoint of the training state: the model with the live (last-iterate) weights, the steps taken, the
    /// optimizer's state (momentum or Adam's moments, <see cref="Optimizer.Save"/>) and with
    /// <see cref="TrainerOptions.EmaDecay"/> the weight average (<see cref="Optimizers.WeightAverage.Save"/>).
    /// </summary>
    public Checkpoint CreateCheckpoint()
    {
        var parameters = Graph.Parameters;
        bool applied = _average is { Applied: true };
        if (applied) _average!.Unapply(parameters);
        try
        {
            var checkpoint = Checkpoint.FromModel(Model);
            checkpoint.Metadata[StepsKey] = _steps.ToString(System.Globalization.CultureInfo.InvariantCulture);
            _average?.Save(checkpoint, parameters);
            _optimizer.Save(checkpoint, parameters);
            return checkpoint;
        }
        finally
        {
            if (applied) _average!.Apply(parameters);
        }
    }

    /// <summary>
    /// Restores <see cref="CreateCheckpoint"/>'s state into this trainer (built on the same model and setup): the
    /// trained weights (by name, from the checkpoint's model), the optimizer's state (a checkpoint without one restarts
    /// it) and the weight average. A checkpoint without an average
    /// (saved with averaging off) still loads: the average then starts afresh at the next step, and this returns
    /// false. A checkpoint whose weights, optimizer state or average do not fit the trained parameters is a
    /// <see cref="CheckpointException"/>, and the trainer is left as it was.
    /// </summary>
    public bool RestoreCheckpoint(Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var parameters = Graph.Parameters;
        _average?.Unapply(parameters);
        var saved = checkpoint.LoadModel().Graph;
        var weights = new Tensor[parameters.Count];
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            if (!saved.Values.TryGetValue(p.Name, out var v) || v.Constant is not { } t)
                throw new CheckpointException($"the checkpoint's model has no weight '{p.Name}'");
            if (t.DataType != DataType.Float32 || !t.Dims.AsSpan().SequenceEqual(p.Tensor.Dims))
                throw new CheckpointException($"the checkpoint's weight '{p.Name}' is {t.DataType} {Shapes.Format(t.Dims)}, the trained parameter {Shapes.Format(p.Tensor.Dims)}");
            weights[i] = t;
        }
        // every part checked before any is put in place: a bad checkpoint changes nothing
        var optimizerState = _optimizer.PrepareRestore(checkpoint, parameters);
        var average = _average?.PrepareRestore(checkpoint, parameters);
        optimizerState();
        bool restored = average?.Invoke() ?? false;
        for (int i = 0; i < parameters.Count; i++) weights[i].AsSpan<float>().CopyTo(parameters[i].Value);
        _steps = checkpoint.GetLong(StepsKey, _steps);
        return restored;
    }

    // ---- model surgery -------------------------------------------------------------------------------------------

    /// <summary>The input of the last weight layer on the path to the first output (the tensor feeding the final Gemm/MatMul).</summary>
    public static string DefaultFeature(IR.Graph graph)
    {
        foreach (var node in ChainToOutput(graph))
            if (IsWeightLayer(node)) return node.Inputs[0]!.Name;
        throw new InvalidModelException("The model has no Gemm, MatMul or Conv layer before its output; give the feature tensor");
    }

    private static bool IsWeightLayer(Node n) => n.Domain.Length == 0 && s_weightLayers.Contains(n.OpType) && n.Input(1) is { IsConstant: true };

    /// <summary>Nodes from the first output backwards along each node's first data input.</summary>
    private static IEnumerable<Node> ChainToOutput(IR.Graph graph)
    {
        var producer = new Dictionary<Value, Node>();
        foreach (var n in graph.Nodes) foreach (var o in n.Outputs) producer[o] = n;
        var v = graph.Outputs[0];
        while (producer.TryGetValue(v, out var node))
        {
            yield return node;
            var next = TrainableGraph.DataInputs(node).FirstOrDefault();
            if (next is null) yield break;
            v = next;
        }
    }

    /// <summary>
    /// The input of the <paramref name="lastN"/>-th weight layer from the output; if that tensor does not separate
    /// the model (a skip connection passes it), the cut moves further back to the first tensor that does.
    /// </summary>
    private static string ChooseCut(IR.Graph graph, int lastN)
    {
        if (lastN < 1) throw new ArgumentOutOfRangeException(nameof(lastN), "at least one layer must be trainable");
        var output = graph.Outputs[0];
        int seen = 0;
        bool reached = false;
        foreach (var node in ChainToOutput(graph))
        {
            if (IsWeightLayer(node) && ++seen == lastN) reached = true;
            if (!reached) continue;
            var input = TrainableGraph.DataInputs(node).FirstOrDefault();
            if (input is null) break;
            try
            {
                TrainableGraph.NodesBetween(graph, input, output);
                return input.Name;
            }
            catch (InvalidModelException)
            {
                // a skip connection bypasses this tensor: keep walking back
            }
        }
        var first = graph.Inputs.FirstOrDefault() ?? throw new InvalidModelException("The model has no input");
        return first.Name;
    }

    private static Model BackboneModel(Model model, string cut)
    {
        var g = model.Graph;
        var target = g.Values[cut];
        var needed = new HashSet<Value> { target };
        var nodes = new List<Node>();
        for (int i = g.Nodes.Count - 1; i >= 0; i--)
        {
            var n = g.Nodes[i];
            if (!n.Outputs.Any(needed.Contains)) continue;
            nodes.Add(n);
            foreach (var v in n.Inputs) if (v is not null) needed.Add(v);
            foreach (var a in n.Attributes.Values)
                if (a.Graph is not null) foreach (var v in g.Values.Values) if (a.Graph.Captures(v)) needed.Add(v);
        }
        nodes.Reverse();
        var sub = new IR.Graph { Name = g.Name + ".backbone" };
        sub.Nodes.AddRange(nodes);
        foreach (var v in g.Inputs) if (needed.Contains(v)) sub.Inputs.Add(v);
        foreach (var (k, v) in g.Values) if (needed.Contains(v) || v.IsConstant) sub.Values[k] = v;
        sub.Outputs.Add(target);
        var m = new Model { Graph = sub, ProducerName = model.ProducerName };
        foreach (var (k, v) in model.Opsets) m.Opsets[k] = v;
        return m;
    }

    private static int[] ShapeOf(IR.Graph graph, string tensor, SessionOptions options)
    {
        if (graph.Inputs.FirstOrDefault(v => v.Name == tensor) is { } input)
            return options.InputShapes.TryGetValue(tensor, out var s) ? s : PlanBuilder.ResolveInputShape(input, options);
        var o = new SessionOptions { Isa = options.Isa };
        foreach (var (k, v) in options.InputShapes) o.InputShapes[k] = v;
        return new Session(BackboneModel(new Model { Graph = graph }, tensor), o).OutputShape(0);
    }

    /// <summary>Drops everything after <paramref name="feature"/> and puts Flatten (if needed) → Gemm (new weights) → Softmax there.</summary>
    private static void ReplaceHead(Model model, string feature, int[] featureShape, int classes, HeadInit init, int seed)
    {
        var g = model.Graph;
        var x = g.Values[feature];
        if (featureShape.Length < 2) throw new InvalidModelException($"Feature tensor '{feature}' has shape {Shapes.Format(featureShape)}; it needs a batch axis and features");
        int features = Shapes.Count(featureShape[1..]);
        if (featureShape.Length > 2)
        {
            var flat = g.GetOrAddValue(g.UniqueName("edgenet.head.flatten"));
            var flatten = new Node { OpType = "Flatten", Name = flat.Name, OpsetVersion = model.Opsets.GetValueOrDefault("", 13) };
            flatten.SetAttribute(IR.Attribute.Of("axis", 1L));
            flatten.Inputs.Add(x);
            flatten.Outputs.Add(flat);
            flat.Producer = flatten;
            g.Nodes.Add(flatten);
            x = flat;
        }
        var random = new Random(seed);
        var w = new float[classes * features];
        if (init == HeadInit.He)
        {
            double std = Math.Sqrt(2.0 / features);
            for (int i = 0; i < w.Length; i++) w[i] = (float)(std * Gaussian(random));
        }
        else
        {
            double limit = Math.Sqrt(6.0 / (features + classes));
            for (int i = 0; i < w.Length; i++) w[i] = (float)((random.NextDouble() * 2 - 1) * limit);
        }
        var weight = g.AddConstant("edgenet.head.weight", Tensor.FromArray([classes, features], w));
        var bias = g.AddConstant("edgenet.head.bias", Tensor.FromArray([classes], new float[classes]));
        var logits = g.GetOrAddValue(g.UniqueName("edgenet.head.logits"));
        var gemm = new Node { OpType = "Gemm", Name = logits.Name, OpsetVersion = model.Opsets.GetValueOrDefault("", 13) };
        gemm.SetAttribute(IR.Attribute.Of("transB", 1L));
        gemm.Inputs.AddRange([x, weight, bias]);
        gemm.Outputs.Add(logits);
        logits.Producer = gemm;
        logits.DataType = DataType.Float32;
        var probabilities = g.GetOrAddValue(g.UniqueName("probabilities"));
        int opset = model.Opsets.GetValueOrDefault("", 13);
        var softmax = new Node { OpType = "Softmax", Name = probabilities.Name, OpsetVersion = opset };
        softmax.SetAttribute(IR.Attribute.Of("axis", opset < 13 ? 1L : -1L));
        softmax.Inputs.Add(logits);
        softmax.Outputs.Add(probabilities);
        probabilities.Producer = softmax;
        probabilities.DataType = DataType.Float32;
        probabilities.Shape = [Dim.Known(1), Dim.Known(classes)];
        g.Nodes.Add(gemm);
        g.Nodes.Add(softmax);
        g.Outputs.Clear();
        g.Outputs.Add(probabilities);
        new Passes.DeadNodeElimination().Run(model);
    }

    private static double Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private static Loss ChooseLoss(LossKind kind, Node? final)
    {
        if (kind == LossKind.SoftmaxCrossEntropy) return new SoftmaxCrossEntropyLoss();
        if (kind == LossKind.SigmoidBinaryCrossEntropy) return new SigmoidBinaryCrossEntropyLoss();
        if (kind == LossKind.MeanSquaredError) return new MeanSquaredErrorLoss();
        if (final is not null && (final.OpType == "Sigmoid" || FusedActivation.Of(final).Kind == ActivationKind.Sigmoid)) return new SigmoidBinaryCrossEntropyLoss();
        return new SoftmaxCrossEntropyLoss();
    }
}
