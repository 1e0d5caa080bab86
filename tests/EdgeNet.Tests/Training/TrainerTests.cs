using EdgeNet.Execution;
using EdgeNet.Format;
using EdgeNet.IR;
using EdgeNet.Kernels;
using EdgeNet.Tests.Support;
using EdgeNet.Training;
using EdgeNet.Training.Optimizers;
using Attribute = EdgeNet.IR.Attribute;

namespace EdgeNet.Tests.Training;

/// <summary>The Trainer end to end on small synthetic models and data.</summary>
public class TrainerTests
{
    /// <summary>x[1,2,4,4] → Conv 3×3 (4 ch, Relu) → GAP → Flatten → Gemm(3) → Softmax: a tiny "backbone + head".</summary>
    private static Model TinyClassifier(int seed = 1)
    {
        var b = new GraphBuilder(seed);
        var conv = b.Op("Conv", [b.X, b.Const([4, 2, 3, 3], 0.6f), b.Const([4], 0.1f)], Attribute.Of("kernel_shape", new long[] { 3, 3 }), Attribute.Of("pads", new long[] { 1, 1, 1, 1 }));
        var relu = b.Op("Relu", [conv]);
        var gap = b.Op("GlobalAveragePool", [relu]);
        var flat = b.Op("Flatten", [gap], Attribute.Of("axis", 1L));
        var logits = b.Op("Gemm", [flat, b.Const([3, 4], 0.5f), b.Const([3])], Attribute.Of("transB", 1L));
        var y = b.Op("Softmax", [logits], Attribute.Of("axis", -1L));
        return b.Model(y, [1, 2, 4, 4]);
    }

    /// <summary>Three classes that differ in the mean of each input channel, with noise.</summary>
    private static (List<Tensor> Inputs, int[] Labels) Blobs(int perClass, int seed)
    {
        var random = new Random(seed);
        var inputs = new List<Tensor>();
        var labels = new List<int>();
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < perClass; i++)
            {
                var data = new float[32];
                for (int j = 0; j < 32; j++)
                {
                    float mean = c switch { 0 => j < 16 ? 1.5f : -1f, 1 => j < 16 ? -1f : 1.5f, _ => 0.2f };
                    data[j] = mean + 0.4f * (random.NextSingle() * 2 - 1);
                }
                inputs.Add(Tensor.FromArray([1, 2, 4, 4], data));
                labels.Add(c);
            }
        return (inputs, labels.ToArray());
    }

    private static TrainerOptions Options(int seed = 7, int epochs = 30) => new() { Epochs = epochs, BatchSize = 8, LearningRate = 0.1f, Momentum = 0.9f, Seed = seed };

    [Fact]
    public void NewHeadLearnsAndTheSavedModelRunsInASession()
    {
        var model = TinyClassifier();
        var trainer = new Trainer(model, new FineTuneSetup { NewHeadClasses = 3 }, Options());
        Assert.Equal("flatten", trainer.FeatureTensor[..7]);
        var (x, y) = Blobs(20, 1);
        var fit = trainer.Fit(x, y);
        Assert.Equal(30, fit.Epochs.Count);
        Assert.True(fit.Epochs[^1].Loss < fit.Epochs[0].Loss / 2, $"loss {fit.Epochs[0].Loss} → {fit.Epochs[^1].Loss}");
        var (tx, ty) = Blobs(20, 2);
        var test = trainer.CacheFeatures(tx.Count, (i, d) => tx[i].AsSpan<float>().CopyTo(d), ty);
        var result = trainer.Evaluate(test);
        Assert.True(result.Accuracy >= 0.9, $"accuracy {result.Accuracy}");

        // the trained model is backbone + head: saved, reloaded and run by a normal session it predicts the same
        string path = Path.Combine(Path.GetTempPath(), $"edgenet-trainer-{Guid.NewGuid():N}.enet");
        EnetWriter.Write(trainer.Model, path);
        var session = new Session(EnetReader.Load(path));
        for (int i = 0; i < tx.Count; i++)
        {
            var probabilities = session.Run(new Dictionary<string, Tensor> { ["x"] = tx[i] })[0].ToFloatArray();
            Assert.Equal(3, probabilities.Length);
            Assert.Equal(result.Predictions[i], Array.IndexOf(probabilities, probabilities.Max()));
            Assert.Equal(1, probabilities.Sum(), 4);
        }
        File.Delete(path);
    }

    [Fact]
    public void TrainableLastReachesIntoTheConvAndSameSeedGivesBitIdenticalWeights()
    {
        float[][] Train(int seed)
        {
            var trainer = new Trainer(TinyClassifier(), new FineTuneSetup { NewHeadClasses = 3, TrainableLast = 2 }, Options(seed, epochs: 5));
            Assert.Equal("x", trainer.Cut);
            Assert.Equal(4, trainer.Graph.Parameters.Count); // conv W, b + head W, b
            var (x, y) = Blobs(10, 3);
            trainer.Fit(x, y);
            return trainer.Graph.Parameters.Select(p => p.Value.ToArray()).ToArray();
        }
        var a = Train(5);
        var b = Train(5);
        var c = Train(6);
        for (int p = 0; p < a.Length; p++) Assert.True(a[p].AsSpan().SequenceEqual(b[p]), $"parameter {p} differs between two runs with the same seed");
        Assert.False(a[^2].AsSpan().SequenceEqual(c[^2]), "a different seed should give a different head");
    }

    [Fact]
    public void ContinuingTheExistingHeadTrainsItsWeights()
    {
        var model = TinyClassifier();
        var before = model.Graph.Nodes.First(n => n.OpType == "Gemm").Inputs[1]!.Constant!.ToFloatArray();
        var trainer = new Trainer(model, new FineTuneSetup(), Options(epochs: 3));
        var (x, y) = Blobs(5, 4);
        trainer.Fit(x, y);
        var after = model.Graph.Nodes.First(n => n.OpType == "Gemm").Inputs[1]!.Constant!.ToFloatArray();
        Assert.Equal(before.Length, after.Length);
        Assert.False(before.AsSpan().SequenceEqual(after));
        Assert.Equal(model.Graph.Outputs[0].Name, trainer.Model.Graph.Outputs[0].Name);
    }

    [Fact]
    public void NonFiniteInputLossOrGradientRejectsTheStepAndLeavesWeightsUntouched()
    {
        var trainer = new Trainer(TinyClassifier(), new FineTuneSetup { NewHeadClasses = 3 }, Options());
        var rejected = new List<StepRejection>();
        trainer.StepRejected += rejected.Add;
        var features = new float[4 * 4];
        for (int i = 0; i < features.Length; i++) features[i] = 0.1f * i;
        features[5] = float.NaN;                 // sample 1: NaN input
        for (int i = 8; i < 12; i++) features[i] = 3e38f; // sample 2: finite but overflows the logits
        var set = new FeatureSet(features, 4, [0, 1, 2, 0]);
        var before = trainer.Graph.Parameters.Select(p => p.Value.ToArray()).ToArray();

        Assert.True(double.IsNaN(trainer.Step(set, [0, 1]).Loss));
        Assert.True(double.IsNaN(trainer.Step(set, [2, 3]).Loss));
        for (int p = 0; p < before.Length; p++) Assert.True(before[p].AsSpan().SequenceEqual(trainer.Graph.Parameters[p].Value), "a rejected step changed weights");
        Assert.Equal(2, trainer.RejectedSteps);
        Assert.Equal(2, rejected.Count);
        Assert.Equal(RejectReason.InputNotFinite, rejected[0].Reason);
        Assert.NotEqual(RejectReason.InputNotFinite, rejected[1].Reason);

        // a clean batch still trains
        Assert.False(double.IsNaN(trainer.Step(set, [0, 3]).Loss));
        Assert.False(before[0].AsSpan().SequenceEqual(trainer.Graph.Parameters[0].Value));
        Assert.Equal(2, trainer.RejectedSteps);
    }

    [Fact]
    public void ATrainingStepAllocatesNothingAfterWarmUp()
    {
        var trainer = new Trainer(TinyClassifier(), new FineTuneSetup { NewHeadClasses = 3, TrainableLast = 2 },
            new TrainerOptions { BatchSize = 4, Optimizer = OptimizerKind.Adam, ClipNorm = 1, Seed = 1 });
        var (x, y) = Blobs(4, 5);
        var set = trainer.CacheFeatures(x.Count, (i, d) => x[i].AsSpan<float>().CopyTo(d), y);
        int[] full = [0, 3, 5, 7], partial = [1, 2, 11];
        Allocations.AssertNoneAfterWarmUp(() => { trainer.Step(set, full); trainer.Step(set, partial); });

        // without clipping the first layer's weight is updated chunk by chunk
        var chunked = new Trainer(TinyClassifier(), new FineTuneSetup { NewHeadClasses = 3 }, new TrainerOptions { BatchSize = 4, Seed = 1 });
        var features = chunked.CacheFeatures(x.Count, (i, d) => x[i].AsSpan<float>().CopyTo(d), y);
        Allocations.AssertNoneAfterWarmUp(() => { chunked.Step(features, full); chunked.Step(features, partial); });
        Assert.True(chunked.ChunkedUpdates > 0);

        // with the weight average (the strip-updated weight blended too)
        var averaged = new Trainer(TinyClassifier(), new FineTuneSetup { NewHeadClasses = 3 }, new TrainerOptions { BatchSize = 4, Seed = 1, EmaDecay = 0.99f });
        var averagedFeatures = averaged.CacheFeatures(x.Count, (i, d) => x[i].AsSpan<float>().CopyTo(d), y);
        Allocations.AssertNoneAfterWarmUp(() => { averaged.Step(averagedFeatures, full); averaged.Step(averagedFeatures, partial); });
        Assert.True(averaged.WeightAverage!.Updates > 2);
    }

    [Fact]
    public void EarlyStoppingRestoresTheBestWeights()
    {
        var trainer = new Trainer(TinyClassifier(), new FineTuneSetup { NewHeadClasses = 3 },
            new TrainerOptions { Epochs = 200, BatchSize = 4, LearningRate = 2f, Momentum = 0.9f, Seed = 1, ValidationSplit = 0.3, EarlyStoppingPatience = 3 });
        var (x, y) = Blobs(6, 6);
        var fit = trainer.Fit(x, y);
        Assert.True(fit.StoppedEarly);
        Assert.True(fit.Epochs.Count < 200);
        double best = fit.Epochs.Min(e => e.ValidationLoss);
        Assert.Equal(best, fit.Epochs[fit.BestEpoch - 1].ValidationLoss);
        Assert.Equal(fit.BestEpoch + 3, fit.Epochs.Count);
    }

    [Fact]
    public void SgdNesterovAndAdamMatchTheirFormulas()
    {
        var w = new float[] { 1f, -2f };
        var g = new float[] { 0.5f, 0.25f };
        var sgd = new TestableSgd(new Sgd { LearningRate = 0.1f, Momentum = 0.9f, Nesterov = true, WeightDecay = 0.01f });
        sgd.Apply(w, g); sgd.Apply(w, g);
        // d = g + λw; v = μv + d; w −= lr(d + μv), twice
        double w0 = 1, v = 0;
        for (int s = 0; s < 2; s++) { double d = 0.5 + 0.01 * w0; v = 0.9 * v + d; w0 -= 0.1 * (d + 0.9 * v); }
        Assert.Equal(w0, w[0], 5);

        var adamW = new float[] { 1f };
        var adam = new TestableSgd(new Adam { LearningRate = 0.01f });
        adam.Apply(adamW, [0.3f]);
        Assert.Equal(1 - 0.01, adamW[0], 5); // first Adam step moves by lr·sign(g)
    }

    /// <summary>The vectorized update loops give the bits of the per-element formula (float, same operation order),
    /// over lengths that leave tails, for three steps of Adam (with weight decay) and Nesterov SGD.</summary>
    [Fact]
    public void VectorizedUpdatesGiveTheBitsOfTheScalarFormula()
    {
        foreach (int n in new[] { 1, 7, 37, 1000 })
        {
            var rng = new Random(n);
            float[] Rand() => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var w0 = Rand();
            var grads = new[] { Rand(), Rand(), Rand() };

            var w = (float[])w0.Clone();
            var adam = new TestableSgd(new Adam { LearningRate = 0.01f, WeightDecay = 0.001f });
            foreach (var g in grads) adam.Apply(w, g);
            var e = (float[])w0.Clone();
            var m = new float[n]; var v = new float[n];
            for (int step = 1; step <= 3; step++)
            {
                float c1 = 1 - MathF.Pow(0.9f, step), c2 = 1 - MathF.Pow(0.999f, step);
                float stepSize = 0.01f / c1, invSqrtC2 = 1 / MathF.Sqrt(c2);
                for (int i = 0; i < n; i++)
                {
                    float d = grads[step - 1][i] + 0.001f * e[i];
                    m[i] = 0.9f * m[i] + (1 - 0.9f) * d;
                    v[i] = 0.999f * v[i] + (1 - 0.999f) * d * d;
                    e[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) * invSqrtC2 + 1e-8f);
                }
            }
            Assert.Equal(e.Select(BitConverter.SingleToInt32Bits), w.Select(BitConverter.SingleToInt32Bits));

            w = (float[])w0.Clone();
            var sgd = new TestableSgd(new Sgd { LearningRate = 0.1f, Momentum = 0.9f, Nesterov = true, WeightDecay = 0.01f });
            foreach (var g in grads) sgd.Apply(w, g);
            e = (float[])w0.Clone();
            v = new float[n];
            foreach (var g in grads)
                for (int i = 0; i < n; i++)
                {
                    float d = g[i] + 0.01f * e[i];
                    v[i] = 0.9f * v[i] + d;
                    e[i] -= 0.1f * (d + 0.9f * v[i]);
                }
            Assert.Equal(e.Select(BitConverter.SingleToInt32Bits), w.Select(BitConverter.SingleToInt32Bits));
        }
    }

    [Fact]
    public void SchedulesFollowStepAndCosine()
    {
        var step = new StepSchedule(2, 0.5f);
        Assert.Equal([1f, 1f, 0.5f, 0.5f, 0.25f], Enumerable.Range(0, 5).Select(e => step.Rate(1, e)));
        var cosine = new CosineSchedule(4, 0.1f);
        Assert.Equal(1f, cosine.Rate(1, 0), 6);
        Assert.Equal(0.55f, cosine.Rate(1, 2), 6);
        Assert.Equal(0.1f, cosine.Rate(1, 4), 6);
    }

    /// <summary>x[1,12] → Gemm(6) Relu → Gemm(3) → Softmax, the first weight stored N×K (transB 1) or K×N (transB 0).</summary>
    private static Model TwoLayerMlp(bool firstTransposed)
    {
        var b = new GraphBuilder(3);
        var w1 = new float[6 * 12];
        var rng = new Random(11);
        for (int i = 0; i < w1.Length; i++) w1[i] = rng.NextSingle() - 0.5f;
        var w1t = new float[w1.Length];
        for (int n = 0; n < 6; n++) for (int k = 0; k < 12; k++) w1t[k * 6 + n] = w1[n * 12 + k];
        var h = firstTransposed
            ? b.Op("Gemm", [b.X, b.Const([6, 12], w1), b.Const([6], 0.1f)], Attribute.Of("transB", 1L))
            : b.Op("Gemm", [b.X, b.Const([12, 6], w1t), b.Const([6], 0.1f)]);
        var logits = b.Op("Gemm", [b.Op("Relu", [h]), b.Const([3, 6], 0.5f), b.Const([3], 0.1f)], Attribute.Of("transB", 1L));
        return b.Model(b.Op("Softmax", [logits], Attribute.Of("axis", -1L)), [1, 12]);
    }

    [Fact]
    public void AFirstLayerWithTransBTrainsOnItsWeightStoredUntransposedWithTheSameBits()
    {
        // the first trained Gemm's Wᵀ would be repacked every step: training stores W as K×N and flips transB
        var random = new Random(4);
        var inputs = new List<Tensor>();
        var labels = new int[60];
        for (int i = 0; i < 60; i++)
        {
            labels[i] = i % 3;
            inputs.Add(Tensor.FromArray([1, 12], Enumerable.Range(0, 12).Select(j => (j % 3 == labels[i] ? 1f : -0.5f) + 0.3f * (random.NextSingle() - 0.5f)).ToArray()));
        }
        var setup = new FineTuneSetup { TrainableLast = 2 };
        var flipped = new Trainer(TwoLayerMlp(firstTransposed: true), setup, Options(epochs: 5));
        var plain = new Trainer(TwoLayerMlp(firstTransposed: false), new FineTuneSetup { TrainableLast = 2 }, Options(epochs: 5));
        var gemm = flipped.Model.Graph.Nodes.First(n => n.OpType == "Gemm");
        Assert.Equal(0, gemm.GetInt("transB", 1));
        Assert.Equal([12, 6], gemm.Inputs[1]!.Constant!.Dims);
        Assert.True(flipped.Graph.Parameters[0].Transposed);
        // the second Gemm's input needs its gradient, so it keeps its layout
        Assert.Equal(1, flipped.Model.Graph.Nodes.Last(n => n.OpType == "Gemm").GetInt("transB", 0));
        Assert.False(flipped.Graph.Parameters[2].Transposed);
        flipped.Fit(inputs, labels);
        plain.Fit(inputs, labels);
        for (int p = 0; p < plain.Graph.Parameters.Count; p++)
            Assert.Equal(plain.Graph.Parameters[p].Value.ToArray().Select(BitConverter.SingleToInt32Bits), flipped.Graph.Parameters[p].Value.ToArray().Select(BitConverter.SingleToInt32Bits));
        // the trained model, saved and reloaded, computes what the training graph computes
        string path = Path.Combine(Path.GetTempPath(), $"edgenet-trainer-{Guid.NewGuid():N}.enet");
        EnetWriter.Write(flipped.Model, path);
        var session = new Session(EnetReader.Load(path));
        var evaluated = flipped.Evaluate(flipped.CacheFeatures(inputs.Count, (i, d) => inputs[i].AsSpan<float>().CopyTo(d), labels));
        for (int i = 0; i < inputs.Count; i++)
        {
            var probabilities = session.Run(new Dictionary<string, Tensor> { ["x"] = inputs[i] })[0].ToFloatArray();
            Assert.Equal(evaluated.Predictions[i], Array.IndexOf(probabilities, probabilities.Max()));
        }
        File.Delete(path);
    }

    /// <summary>x[1,k] → Gemm(n, transB) Relu → Gemm(3) → Softmax with weights of the given scales.</summary>
    private static Model Mlp(int k, int n, float firstScale, float secondScale)
    {
        var b = new GraphBuilder(5);
        var h = b.Op("Relu", [b.Op("Gemm", [b.X, b.Const([n, k], firstScale, firstScale), b.Const([n], 0.1f)], Attribute.Of("transB", 1L))]);
        var logits = b.Op("Gemm", [h, b.Const([3, n], secondScale), b.Const([3], 0.1f)], Attribute.Of("transB", 1L));
        return b.Model(b.Op("Softmax", [logits], Attribute.Of("axis", -1L)), [1, k]);
    }

    private static uint[] Bits(Trainer t) => t.Graph.Parameters.SelectMany(p => p.Value.ToArray()).Select(BitConverter.SingleToUInt32Bits).ToArray();

    [Theory]
    [MemberData(nameof(Isas))]
    public void TheFirstLayersWeightUpdatedChunkByChunkGetsTheBitsOfAWholeUpdate(Isa isa)
    {
        // 300×40 weights: two gradient chunks (the second shorter); clipping that never triggers turns chunking off
        var random = new Random(8);
        var data = new float[50 * 300];
        for (int i = 0; i < data.Length; i++) data[i] = random.NextSingle() * 2 - 1;
        var labels = Enumerable.Range(0, 50).Select(i => i % 3).ToArray();
        foreach (var optimizer in new[] { OptimizerKind.Sgd, OptimizerKind.Adam })
        {
            TrainerOptions Opt(float clip) => new() { Epochs = 3, BatchSize = 8, LearningRate = 0.05f, Momentum = 0.9f, WeightDecay = 1e-3f, Seed = 2, Isa = isa, Optimizer = optimizer, ClipNorm = clip };
            var chunked = new Trainer(Mlp(300, 40, 0.05f, 0.5f), new FineTuneSetup { TrainableLast = 2 }, Opt(0));
            var whole = new Trainer(Mlp(300, 40, 0.05f, 0.5f), new FineTuneSetup { TrainableLast = 2 }, Opt(1e30f));
            var layer = chunked.Graph.Layers.OfType<EdgeNet.Training.Layers.DenseLayer>().First();
            Assert.True(layer.CanDeferWeightGradient);
            chunked.Fit(new FeatureSet(data, 300, labels));
            Assert.True(layer.WeightChunkValues < 300 * 40, $"one chunk of {layer.WeightChunkValues}");
            Assert.Equal(3 * 7, chunked.ChunkedUpdates);
            Assert.Equal(0, whole.ChunkedUpdates);
            whole.Fit(new FeatureSet(data, 300, labels));
            Assert.Equal(Bits(whole), Bits(chunked));
        }
    }

    public static TheoryData<Isa> Isas() => new(IsaSupport.Available);

    [Fact]
    public void AFirstLayerGradientBeyondTheBoundIsComputedWholeAndRejectedOnlyWhenItOverflows()
    {
        // inputs 1e20 and second-layer weights 1e17: the bound (rows·max|x|·max|dZ|) fails, the gradient (~1e37) is finite
        var large = new float[2 * 6];
        Array.Fill(large, 1e20f);
        var chunked = new Trainer(Mlp(6, 4, 1e-21f, 1e17f), new FineTuneSetup { TrainableLast = 2 }, new TrainerOptions { BatchSize = 2, LearningRate = 1e-30f, Momentum = 0 });
        var whole = new Trainer(Mlp(6, 4, 1e-21f, 1e17f), new FineTuneSetup { TrainableLast = 2 }, new TrainerOptions { BatchSize = 2, LearningRate = 1e-30f, Momentum = 0, ClipNorm = 1e38f });
        var set = new FeatureSet(large, 6, [0, 1]);
        Assert.False(double.IsNaN(chunked.Step(set, [0, 1]).Loss));
        Assert.False(double.IsNaN(whole.Step(set, [0, 1]).Loss));
        Assert.Equal(Bits(whole), Bits(chunked));
        Assert.Equal(0, chunked.ChunkedUpdates);

        // inputs 3e38 and second-layer weights 10: the first weight's gradient overflows; the step is rejected untouched
        var huge = new float[2 * 6];
        Array.Fill(huge, 3e38f);
        var trainer = new Trainer(Mlp(6, 4, 1e-40f, 10f), new FineTuneSetup { TrainableLast = 2 }, new TrainerOptions { BatchSize = 2, LearningRate = 0.1f });
        var before = Bits(trainer);
        var rejected = new List<StepRejection>();
        trainer.StepRejected += rejected.Add;
        Assert.True(double.IsNaN(trainer.Step(new FeatureSet(huge, 6, [0, 1]), [0, 1]).Loss));
        Assert.Equal(RejectReason.GradientNotFinite, Assert.Single(rejected).Reason);
        Assert.Equal(before, Bits(trainer));
    }

    [Fact]
    public void GatherRowsCopiesTheIndexedRowsAndRejectsAnIndexOutsideTheSet()
    {
        foreach (int size in new[] { 1, 7, 16, 17, 40, 1536 })
        {
            var data = Enumerable.Range(0, 9 * size).Select(i => (float)i).ToArray();
            int[] indices = [8, 0, 3, 3, 5];
            var dst = new float[indices.Length * size + 3];
            Array.Fill(dst, -1f);
            TrainVectors.GatherRows(data, indices, size, dst);
            for (int i = 0; i < indices.Length; i++)
                Assert.Equal(data.AsSpan(indices[i] * size, size).ToArray(), dst.AsSpan(i * size, size).ToArray());
            Assert.All(dst[^3..], v => Assert.Equal(-1f, v));
            Assert.ThrowsAny<ArgumentException>(() => TrainVectors.GatherRows(data, [1, 9], size, dst));
        }
    }

    [Fact]
    public void ClippingBoundsTheUpdate()
    {
        var a = new Trainer(TinyClassifier(), new FineTuneSetup { NewHeadClasses = 3 }, new TrainerOptions { BatchSize = 2, LearningRate = 1, Momentum = 0, ClipNorm = 1e-3f });
        var before = a.Graph.Parameters.Select(p => p.Value.ToArray()).ToArray();
        var set = new FeatureSet([5, -5, 5, -5, -5, 5, -5, 5], 4, [1, 0]);
        a.Step(set, [0, 1]);
        double moved = 0;
        for (int p = 0; p < before.Length; p++)
            for (int i = 0; i < before[p].Length; i++) moved += Math.Pow(before[p][i] - a.Graph.Parameters[p].Value[i], 2);
        Assert.InRange(Math.Sqrt(moved), 1e-4, 1.0001e-3);
    }

    [Fact]
    public void AnUnsupportedOpInTheTrainablePartNamesTheNode()
    {
        var b = new GraphBuilder();
        var y = b.Op("Erf", [b.Op("Gemm", [b.X, b.Const([3, 4])])]);
        var e = Assert.Throws<UnsupportedOperatorException>(() => b.Trainable(y, [3], 2));
        Assert.Contains("Erf", e.Message);
    }

    private sealed class TestableSgd(Optimizer optimizer)
    {
        public void Apply(float[] w, float[] g)
        {
            var value = new Value("w") { Constant = Tensor.FromArray([w.Length], w) };
            var p = (TrainParameter)Activator.CreateInstance(typeof(TrainParameter), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance, null, [value], null)!;
            g.CopyTo(p.Grad);
            optimizer.Step([p]);
            p.Value.CopyTo(w);
            // the optimizer keeps state per parameter slot: reuse it across calls by keeping the same list length
        }
    }
}
