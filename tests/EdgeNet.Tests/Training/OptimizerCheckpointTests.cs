using EdgeNet.IR;
using EdgeNet.Training;
using EdgeNet.Training.Checkpoints;
using EdgeNet.Training.Optimizers;
using Attribute = EdgeNet.IR.Attribute;

namespace EdgeNet.Tests.Training;

/// <summary>
/// The optimizer's state (SGD momentum, Adam's moments and step count) in trainer checkpoints: a trainer restored from
/// a checkpoint written through the checkpoint file continues bit for bit, which it does not without the state; a
/// state of another optimizer or of the wrong size is refused, and a checkpoint with any bad part changes nothing.
/// </summary>
public class OptimizerCheckpointTests
{
    /// <summary>x[1,k] → Gemm(n, transB) Relu → Gemm(3) → Softmax (the first weight updated strip by strip).</summary>
    private static Model Mlp(int k = 64, int n = 24)
    {
        var b = new GraphBuilder(7);
        var h = b.Op("Relu", [b.Op("Gemm", [b.X, b.Const([n, k], 0.1f), b.Const([n], 0.1f)], Attribute.Of("transB", 1L))]);
        var logits = b.Op("Gemm", [h, b.Const([3, n], 0.5f), b.Const([3], 0.1f)], Attribute.Of("transB", 1L));
        return b.Model(b.Op("Softmax", [logits], Attribute.Of("axis", -1L)), [1, k]);
    }

    private static FeatureSet Data(int count, int k = 64)
    {
        var random = new Random(4);
        var data = new float[count * k];
        for (int i = 0; i < data.Length; i++) data[i] = random.NextSingle() * 2 - 1;
        return new FeatureSet(data, k, Enumerable.Range(0, count).Select(i => i % 3).ToArray());
    }

    private static TrainerOptions Options(OptimizerKind kind, float ema = 0) =>
        new() { BatchSize = 8, LearningRate = 0.05f, Momentum = 0.9f, WeightDecay = 1e-3f, Seed = 1, Optimizer = kind, EmaDecay = ema };

    private static int[] Bits(Trainer t) => t.Graph.Parameters.SelectMany(p => p.Value.ToArray()).Select(BitConverter.SingleToInt32Bits).ToArray();

    private static int[] Batch(int s) => [.. Enumerable.Range(s * 8 % 40, 8)];

    [Theory]
    [InlineData(OptimizerKind.Sgd)]
    [InlineData(OptimizerKind.Adam)]
    public void ARestoredTrainerContinuesBitForBit(OptimizerKind kind)
    {
        var set = Data(40);
        var first = new Trainer(Mlp(), new FineTuneSetup { TrainableLast = 2 }, Options(kind));
        for (int s = 0; s < 4; s++) first.Step(set, Batch(s));
        var checkpoint = CheckpointFile.Deserialize(CheckpointFile.Serialize(first.CreateCheckpoint(), 1));
        Assert.Equal(kind == OptimizerKind.Adam ? nameof(Adam) : nameof(Sgd), checkpoint.Metadata[Optimizer.KindKey]);
        Assert.Equal("4", checkpoint.Metadata[Optimizer.StepsKey]);
        Assert.Contains(checkpoint.Tensors.Keys, k => k.StartsWith(Optimizer.FirstStatePrefix, StringComparison.Ordinal));
        Assert.Equal(kind == OptimizerKind.Adam, checkpoint.Tensors.Keys.Any(k => k.StartsWith(Optimizer.SecondStatePrefix, StringComparison.Ordinal)));

        var second = new Trainer(Mlp(), new FineTuneSetup { TrainableLast = 2 }, Options(kind));
        second.RestoreCheckpoint(checkpoint);
        Assert.Equal(4, second.Optimizer.Steps);
        // without the state the same weights continue differently (the state matters)
        var stateless = new Trainer(Mlp(), new FineTuneSetup { TrainableLast = 2 }, Options(kind));
        var weightsOnly = CheckpointFile.Deserialize(CheckpointFile.Serialize(first.CreateCheckpoint(), 2));
        foreach (var key in weightsOnly.Tensors.Keys.Where(k => k.StartsWith("opt", StringComparison.Ordinal)).ToList()) weightsOnly.Tensors.Remove(key);
        weightsOnly.Metadata.Remove(Optimizer.KindKey);
        stateless.RestoreCheckpoint(weightsOnly);
        Assert.Equal(0, stateless.Optimizer.Steps);
        Assert.Equal(Bits(first), Bits(second));
        Assert.Equal(Bits(first), Bits(stateless));
        for (int s = 4; s < 7; s++)
        {
            first.Step(set, Batch(s));
            second.Step(set, Batch(s));
            stateless.Step(set, Batch(s));
        }
        Assert.Equal(Bits(first), Bits(second));
        Assert.NotEqual(Bits(first), Bits(stateless));
    }

    [Fact]
    public void AStateOfAnotherOptimizerOrTheWrongSizeIsRefused()
    {
        var set = Data(40);
        var adam = new Trainer(Mlp(), new FineTuneSetup { TrainableLast = 2 }, Options(OptimizerKind.Adam));
        adam.Step(set, Batch(0));
        var checkpoint = CheckpointFile.Deserialize(CheckpointFile.Serialize(adam.CreateCheckpoint(), 1));
        var sgd = new Trainer(Mlp(), new FineTuneSetup { TrainableLast = 2 }, Options(OptimizerKind.Sgd));
        sgd.Step(set, Batch(1));
        var before = Bits(sgd);
        var e = Assert.Throws<CheckpointException>(() => sgd.RestoreCheckpoint(checkpoint));
        Assert.Contains("Adam", e.Message);
        Assert.Equal(before, Bits(sgd));
        Assert.Equal(1, sgd.Optimizer.Steps);

        var name = adam.Graph.Parameters[0].Name;
        checkpoint.Tensors[Optimizer.SecondStatePrefix + name] = new NamedTensor([5], new float[5]);
        var other = new Trainer(Mlp(), new FineTuneSetup { TrainableLast = 2 }, Options(OptimizerKind.Adam));
        e = Assert.Throws<CheckpointException>(() => other.RestoreCheckpoint(checkpoint));
        Assert.Contains(name, e.Message);
        Assert.Equal(0, other.Optimizer.Steps);
    }

    [Fact]
    public void ACheckpointWithOneBadPartChangesNothing()
    {
        // the optimizer state is fine, the average is not: neither the optimizer nor the weights may change
        var set = Data(40);
        var options = Options(OptimizerKind.Adam, ema: 0.9f);
        var first = new Trainer(Mlp(), new FineTuneSetup { TrainableLast = 2 }, options);
        for (int s = 0; s < 3; s++) first.Step(set, Batch(s));
        var checkpoint = CheckpointFile.Deserialize(CheckpointFile.Serialize(first.CreateCheckpoint(), 1));
        var name = first.Graph.Parameters[0].Name;
        checkpoint.Tensors[WeightAverage.TensorPrefix + name] = new NamedTensor([2], new float[2]);

        var other = new Trainer(Mlp(), new FineTuneSetup { TrainableLast = 2 }, options);
        other.Step(set, Batch(4));
        var before = Bits(other);
        var e = Assert.Throws<CheckpointException>(() => other.RestoreCheckpoint(checkpoint));
        Assert.Contains(name, e.Message);
        Assert.Equal(1, other.Optimizer.Steps);
        Assert.Equal(1, other.WeightAverage!.Updates);
        Assert.Equal(before, Bits(other));
    }
}
