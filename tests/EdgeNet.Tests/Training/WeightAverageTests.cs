using EdgeNet.Execution;
using EdgeNet.Format;
using EdgeNet.IR;
using EdgeNet.Tests.Support;
using EdgeNet.Training;
using EdgeNet.Training.Checkpoints;
using EdgeNet.Training.Optimizers;
using Attribute = EdgeNet.IR.Attribute;

namespace EdgeNet.Tests.Training;

/// <summary>The moving average of the trained weights (TrainerOptions.EmaDecay, finetune --ema).</summary>
public class WeightAverageTests
{
    /// <summary>x[1,k] → Gemm(n, transB) Relu → Gemm(3) → Softmax: the first layer's weight is updated strip by strip as its gradient is computed when nothing clips.</summary>
    private static Model Mlp(int k = 300, int n = 40)
    {
        var b = new GraphBuilder(5);
        var h = b.Op("Relu", [b.Op("Gemm", [b.X, b.Const([n, k], 0.05f, 0.05f), b.Const([n], 0.1f)], Attribute.Of("transB", 1L))]);
        var logits = b.Op("Gemm", [h, b.Const([3, n], 0.5f), b.Const([3], 0.1f)], Attribute.Of("transB", 1L));
        return b.Model(b.Op("Softmax", [logits], Attribute.Of("axis", -1L)), [1, k]);
    }

    /// <summary>Three classes, each raising a different third of the features, with noise.</summary>
    private static FeatureSet Data(int count, int seed, int k = 300)
    {
        var random = new Random(seed);
        var data = new float[count * k];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = i % 3;
            for (int j = 0; j < k; j++) data[i * k + j] = (j * 3 / k == labels[i] ? 0.8f : 0f) + (random.NextSingle() * 2 - 1);
        }
        return new FeatureSet(data, k, labels);
    }

    private static TrainerOptions Options(float ema, float clip = 0, int epochs = 3, int seed = 3) => new()
    {
        Epochs = epochs, BatchSize = 8, LearningRate = 0.01f, Momentum = 0.9f, WeightDecay = 1e-3f, Seed = seed, Optimizer = OptimizerKind.Adam,
        ClipNorm = clip, EmaDecay = ema,
    };

    private static FineTuneSetup Setup() => new() { TrainableLast = 2 };

    private static int[] Bits(ReadOnlySpan<float> v) => v.ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();

    private static float[][] Live(Trainer t) => t.Graph.Parameters.Select(p => p.Value.ToArray()).ToArray();

    /// <summary>After each step the average is a = w (first step), then a = d·a + (1 − d)·w in float, to the bit — with the
    /// first layer updated strip by strip (no clipping) and whole (clipping that never triggers) — and the live weights
    /// are those of training without the average.</summary>
    [Fact]
    public void TheAverageFollowsTheScalarFormulaStepByStepAndLeavesTrainingAsItWas()
    {
        var set = Data(40, 1);
        foreach (float clip in new[] { 0f, 1e30f })
        {
            const float decay = 0.8f;
            var trainer = new Trainer(Mlp(), Setup(), Options(decay, clip));
            var plain = new Trainer(Mlp(), Setup(), Options(0, clip));
            Assert.NotNull(trainer.WeightAverage);
            Assert.Null(plain.WeightAverage);
            var parameters = trainer.Graph.Parameters;
            float[][]? expected = null;
            for (int step = 0; step < 5; step++)
            {
                int[] batch = [.. Enumerable.Range(step * 8 % 40, 8)];
                trainer.Step(set, batch);
                plain.Step(set, batch);
                var live = Live(trainer);
                if (expected is null) expected = live.Select(w => (float[])w.Clone()).ToArray();
                else
                    for (int p = 0; p < live.Length; p++)
                        for (int i = 0; i < live[p].Length; i++) expected[p][i] = decay * expected[p][i] + (1 - decay) * live[p][i];
                Assert.Equal(step + 1, trainer.WeightAverage!.Updates);
                for (int p = 0; p < parameters.Count; p++)
                {
                    Assert.Equal(Bits(expected[p]), Bits(trainer.WeightAverage.Values(p)));
                    Assert.Equal(Bits(plain.Graph.Parameters[p].Value), Bits(live[p]));
                }
            }
            Assert.Equal(clip == 0 ? 5 : 0, trainer.ChunkedUpdates);
            Assert.False(Bits(expected![0]).SequenceEqual(Bits(parameters[0].Value)), "after five steps the average should differ from the last weights");
        }
    }

    /// <summary>The vector loop gives the bits of the scalar formula over lengths with tails; momentum 0 copies.</summary>
    [Fact]
    public void BlendVectorizedGivesTheBitsOfTheScalarFormula()
    {
        foreach (int n in new[] { 1, 7, 8, 17, 37, 1000 })
        {
            var random = new Random(n);
            var w = Enumerable.Range(0, n).Select(_ => random.NextSingle() * 4 - 2).ToArray();
            var a = Enumerable.Range(0, n).Select(_ => random.NextSingle() * 4 - 2).ToArray();
            var expected = a.Select((x, i) => 0.999f * x + (1 - 0.999f) * w[i]).ToArray();
            WeightAverage.Blend(a, w, 0.999f);
            Assert.Equal(Bits(expected), Bits(a));
            var stale = Enumerable.Repeat(float.NaN, n).ToArray();
            WeightAverage.Blend(stale, w, 0);
            Assert.Equal(Bits(w), Bits(stale));
        }
        Assert.Throws<ArgumentException>(() => WeightAverage.Blend(new float[3], new float[4], 0.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WeightAverage(1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WeightAverage(-0.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(Mlp(), Setup(), Options(1.5f)));
    }

    [Fact]
    public void RejectedStepsLeaveTheAverageUntouched()
    {
        var trainer = new Trainer(Mlp(), Setup(), Options(0.9f));
        var features = new float[4 * 300];
        for (int i = 0; i < features.Length; i++) features[i] = 0.001f * i;
        features[313] = float.NaN;                            // sample 1: NaN input
        for (int i = 600; i < 900; i++) features[i] = 3e38f; // sample 2: finite, overflows the first layer
        var set = new FeatureSet(features, 300, [0, 1, 2, 0]);
        var reasons = new List<RejectReason>();
        trainer.StepRejected += r => reasons.Add(r.Reason);
        trainer.Step(set, [0, 3]);
        trainer.Step(set, [3, 0]);
        var average = Enumerable.Range(0, trainer.Graph.Parameters.Count).Select(p => Bits(trainer.WeightAverage!.Values(p))).ToArray();
        var live = Live(trainer);
        Assert.True(double.IsNaN(trainer.Step(set, [0, 1]).Loss));
        Assert.True(double.IsNaN(trainer.Step(set, [2, 3]).Loss));
        Assert.Equal(2, trainer.RejectedSteps);
        Assert.Equal(RejectReason.InputNotFinite, reasons[0]);
        Assert.NotEqual(RejectReason.InputNotFinite, reasons[1]);
        Assert.Equal(2, trainer.WeightAverage!.Updates);
        for (int p = 0; p < average.Length; p++)
        {
            Assert.Equal(average[p], Bits(trainer.WeightAverage.Values(p)));
            Assert.Equal(Bits(live[p]), Bits(trainer.Graph.Parameters[p].Value));
        }
        Assert.False(double.IsNaN(trainer.Step(set, [0, 3]).Loss));
        Assert.Equal(3, trainer.WeightAverage.Updates);
        Assert.False(average[0].SequenceEqual(Bits(trainer.WeightAverage.Values(0))));
    }

    [Fact]
    public void AStepWithTheAverageAllocatesNothingAfterWarmUp()
    {
        var set = Data(24, 2);
        int[] full = [0, 3, 5, 7, 9, 11, 13, 15], partial = [1, 2, 11];
        foreach (float clip in new[] { 0f, 1f })
        {
            var trainer = new Trainer(Mlp(), Setup(), Options(0.99f, clip));
            Allocations.AssertNoneAfterWarmUp(() => { trainer.Step(set, full); trainer.Step(set, partial); });
            Assert.True(trainer.WeightAverage!.Updates > 2);
            Assert.Equal(clip == 0, trainer.ChunkedUpdates > 0);
        }
    }

    /// <summary>Fit validates the average each epoch and leaves it in the model: the last epoch's validation loss is that
    /// of the weights left, which are the average, not the last iterate; the saved model is the average.</summary>
    [Fact]
    public void FitValidatesAndLeavesTheAveragedWeightsInTheSavedModel()
    {
        var train = Data(60, 4);
        var validation = Data(30, 5);
        var trainer = new Trainer(Mlp(), Setup(), Options(0.9f));
        var fit = trainer.Fit(train, validation);
        var average = trainer.WeightAverage!;
        Assert.True(average.Applied);
        var parameters = trainer.Graph.Parameters;
        for (int p = 0; p < parameters.Count; p++) Assert.Equal(Bits(average.Values(p)), Bits(parameters[p].Value));
        var evaluated = trainer.Evaluate(validation);
        Assert.Equal(fit.Epochs[^1].ValidationLoss, evaluated.Loss);

        // the model file holds the average and computes what the trainer evaluated
        string path = Path.Combine(Path.GetTempPath(), $"edgenet-ema-{Guid.NewGuid():N}.enet");
        try
        {
            EnetWriter.Write(trainer.Model, path);
            var saved = EnetReader.Load(path);
            for (int p = 0; p < parameters.Count; p++)
                Assert.Equal(Bits(average.Values(p)), Bits(saved.Graph.Values[parameters[p].Name].Constant!.AsSpan<float>()));
            var session = new Session(saved);
            for (int i = 0; i < validation.Count; i++)
            {
                var x = Tensor.FromArray([1, 300], validation.Data.AsSpan(i * 300, 300).ToArray());
                var probabilities = session.Run(new Dictionary<string, Tensor> { ["x"] = x })[0].ToFloatArray();
                Assert.Equal(evaluated.Predictions[i], Array.IndexOf(probabilities, probabilities.Max()));
            }
        }
        finally { File.Delete(path); }

        // the last iterate is kept aside: it is what training without the average ends with, and it differs
        var plain = new Trainer(Mlp(), Setup(), Options(0));
        var plainFit = plain.Fit(train, validation);
        average.Unapply(parameters);
        for (int p = 0; p < parameters.Count; p++) Assert.Equal(Bits(plain.Graph.Parameters[p].Value), Bits(parameters[p].Value));
        Assert.NotEqual(plainFit.Epochs[^1].ValidationLoss, fit.Epochs[^1].ValidationLoss);
        Assert.Equal(plainFit.Epochs.Select(e => e.Loss), fit.Epochs.Select(e => e.Loss)); // training losses are the last iterate's
    }

    /// <summary>Off (decay 0), Fit leaves the last iterate as before; and a second Fit trains on from the live weights.</summary>
    [Fact]
    public void DisabledLeavesTheLastIterateAndASecondFitContinuesFromTheLiveWeights()
    {
        var train = Data(40, 6);
        var off = new Trainer(Mlp(), Setup(), Options(0, epochs: 2));
        off.Fit(train);
        // by hand: the same shuffles and steps give the same bits
        var byHand = new Trainer(Mlp(), Setup(), Options(0, epochs: 2));
        var order = Enumerable.Range(0, train.Count).ToArray();
        var random = new Random(3);
        for (int e = 0; e < 2; e++)
        {
            random.Shuffle(order);
            for (int s = 0; s < order.Length; s += 8) byHand.Step(train, order.AsSpan(s, Math.Min(8, order.Length - s)));
        }
        for (int p = 0; p < off.Graph.Parameters.Count; p++) Assert.Equal(Bits(byHand.Graph.Parameters[p].Value), Bits(off.Graph.Parameters[p].Value));

        // two Fits with the average: the second starts from the live weights, as a plain trainer does
        var on = new Trainer(Mlp(), Setup(), Options(0.9f, epochs: 1));
        var plain = new Trainer(Mlp(), Setup(), Options(0, epochs: 1));
        on.Fit(train); on.Fit(train);
        plain.Fit(train); plain.Fit(train);
        Assert.Equal(2 * 5, on.WeightAverage!.Updates);
        on.WeightAverage.Unapply(on.Graph.Parameters);
        for (int p = 0; p < on.Graph.Parameters.Count; p++) Assert.Equal(Bits(plain.Graph.Parameters[p].Value), Bits(on.Graph.Parameters[p].Value));
    }

    [Fact]
    public void SeededRunsWithTheAverageAreBitIdentical()
    {
        var train = Data(40, 7);
        var validation = Data(12, 8);
        int[][] Run(int seed)
        {
            var trainer = new Trainer(Mlp(), Setup(), Options(0.95f, seed: seed));
            trainer.Fit(train, validation);
            return trainer.Graph.Parameters.Select(p => Bits(p.Value)).ToArray();
        }
        var a = Run(3);
        var b = Run(3);
        var c = Run(4);
        for (int p = 0; p < a.Length; p++) Assert.Equal(a[p], b[p]);
        Assert.False(a[0].SequenceEqual(c[0]), "another seed should give other weights");
    }

    /// <summary>Early stopping keeps the best epoch's averaged weights: the reported best validation loss is that of the weights left.</summary>
    [Fact]
    public void EarlyStoppingKeepsTheBestAverage()
    {
        var train = Data(60, 9);
        var validation = Data(30, 10);
        var trainer = new Trainer(Mlp(), Setup(), new TrainerOptions
        {
            Epochs = 200, BatchSize = 8, LearningRate = 0.5f, Momentum = 0.9f, Seed = 1, EarlyStoppingPatience = 2, EmaDecay = 0.5f,
        });
        var fit = trainer.Fit(train, validation);
        Assert.True(fit.StoppedEarly);
        Assert.False(trainer.WeightAverage!.Applied);
        double best = fit.Epochs.Min(e => e.ValidationLoss);
        Assert.Equal(best, fit.Epochs[fit.BestEpoch - 1].ValidationLoss);
        Assert.Equal(best, trainer.Evaluate(validation).Loss);
    }

    /// <summary>A checkpoint carries the live weights and the average through the checkpoint file; a trainer restored
    /// from it continues bit for bit (plain SGD: the optimizer has no state to lose); a checkpoint without an average
    /// still loads and the average starts afresh; an average that does not fit is refused.</summary>
    [Fact]
    public void CheckpointsSaveAndRestoreTheAverage()
    {
        var set = Data(32, 11);
        var first = new Trainer(Mlp(), Setup(), new TrainerOptions { BatchSize = 8, LearningRate = 0.05f, Momentum = 0, Seed = 3, EmaDecay = 0.9f });
        for (int s = 0; s < 3; s++) first.Step(set, [.. Enumerable.Range(s * 8, 8)]);
        var bytes = CheckpointFile.Serialize(first.CreateCheckpoint(), 1);
        var checkpoint = CheckpointFile.Deserialize(bytes);
        Assert.Equal("3", checkpoint.Metadata[WeightAverage.UpdatesKey]);
        Assert.Equal(first.Graph.Parameters.Count, checkpoint.Tensors.Count);

        var second = new Trainer(Mlp(), Setup(), new TrainerOptions { BatchSize = 8, LearningRate = 0.05f, Momentum = 0, Seed = 3, EmaDecay = 0.9f });
        Assert.True(second.RestoreCheckpoint(checkpoint));
        Assert.Equal(3, second.WeightAverage!.Updates);
        for (int s = 3; s < 5; s++)
        {
            first.Step(set, [.. Enumerable.Range(s * 8 % 32, 8)]);
            second.Step(set, [.. Enumerable.Range(s * 8 % 32, 8)]);
        }
        for (int p = 0; p < first.Graph.Parameters.Count; p++)
        {
            Assert.Equal(Bits(first.Graph.Parameters[p].Value), Bits(second.Graph.Parameters[p].Value));
            Assert.Equal(Bits(first.WeightAverage!.Values(p)), Bits(second.WeightAverage.Values(p)));
        }

        // taken after Fit (the average applied), the checkpoint still holds the live weights
        first.Fit(set);
        var live = first.WeightAverage!;
        var afterFit = first.CreateCheckpoint();
        Assert.True(live.Applied);
        live.Unapply(first.Graph.Parameters);
        var restored = afterFit.LoadModel();
        foreach (var p in first.Graph.Parameters) Assert.Equal(Bits(p.Value), Bits(restored.Graph.Values[p.Name].Constant!.AsSpan<float>()));

        // a checkpoint without an average (averaging off) loads: weights restored, the average restarts
        var off = new Trainer(Mlp(), Setup(), new TrainerOptions { BatchSize = 8, LearningRate = 0.05f, Momentum = 0, Seed = 3 });
        off.Step(set, [.. Enumerable.Range(0, 8)]);
        var plainCheckpoint = CheckpointFile.Deserialize(CheckpointFile.Serialize(off.CreateCheckpoint(), 2));
        Assert.DoesNotContain(plainCheckpoint.Tensors.Keys, k => k.StartsWith(WeightAverage.TensorPrefix, StringComparison.Ordinal));
        Assert.False(second.RestoreCheckpoint(plainCheckpoint));
        Assert.Equal(0, second.WeightAverage.Updates);
        for (int p = 0; p < off.Graph.Parameters.Count; p++) Assert.Equal(Bits(off.Graph.Parameters[p].Value), Bits(second.Graph.Parameters[p].Value));
        second.Step(set, [.. Enumerable.Range(8, 8)]);
        Assert.Equal(1, second.WeightAverage.Updates);
        for (int p = 0; p < off.Graph.Parameters.Count; p++) Assert.Equal(Bits(second.Graph.Parameters[p].Value), Bits(second.WeightAverage.Values(p)));

        // an average whose shape does not fit is refused, and so is a model without the trained weights
        var bad = CheckpointFile.Deserialize(bytes);
        var name = first.Graph.Parameters[1].Name;
        bad.Tensors[WeightAverage.TensorPrefix + name] = new NamedTensor([3], new float[3]);
        var e = Assert.Throws<CheckpointException>(() => second.RestoreCheckpoint(bad));
        Assert.Contains(name, e.Message);
        var other = new Trainer(Mlp(12, 6), Setup(), new TrainerOptions { BatchSize = 8, EmaDecay = 0.9f });
        Assert.Throws<CheckpointException>(() => other.RestoreCheckpoint(checkpoint));
    }
}
