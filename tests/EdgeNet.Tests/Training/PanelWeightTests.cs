using EdgeNet.Execution;
using EdgeNet.Format;
using EdgeNet.IR;
using EdgeNet.Kernels;
using EdgeNet.Training;
using Attribute = EdgeNet.IR.Attribute;

namespace EdgeNet.Tests.Training;

/// <summary>
/// A first trained layer's weight kept in the GEMM's NR-column panels while training
/// (<see cref="TrainParameter.StoreInPanels"/>): training gives the bits of the row-major weight, and every reader of
/// the model or the parameter sees the current weights in the model's layout (and writes through it reach training).
/// </summary>
public class PanelWeightTests
{
    /// <summary>x[1,k] → Gemm(n, transB) Relu → Gemm(3) → Softmax.</summary>
    private static Model Mlp(int k, int n)
    {
        var b = new GraphBuilder(11);
        var h = b.Op("Relu", [b.Op("Gemm", [b.X, b.Const([n, k], 0.05f), b.Const([n], 0.1f)], Attribute.Of("transB", 1L))]);
        var logits = b.Op("Gemm", [h, b.Const([3, n], 0.5f), b.Const([3], 0.1f)], Attribute.Of("transB", 1L));
        return b.Model(b.Op("Softmax", [logits], Attribute.Of("axis", -1L)), [1, k]);
    }

    private static FeatureSet Data(int k, int count, int seed)
    {
        var random = new Random(seed);
        var data = new float[count * k];
        for (int i = 0; i < data.Length; i++) data[i] = random.NextSingle() * 2 - 1;
        return new FeatureSet(data, k, Enumerable.Range(0, count).Select(i => i % 3).ToArray());
    }

    private static uint[] Bits(Trainer t) => t.Graph.Parameters.SelectMany(p => p.Value.ToArray()).Select(BitConverter.SingleToUInt32Bits).ToArray();

    public static TheoryData<Isa> Isas() => new(IsaSupport.Available);

    [Theory]
    [MemberData(nameof(Isas))]
    public void AWeightInPanelsTrainsToTheBitsOfTheRowMajorWeight(Isa isa)
    {
        foreach (var optimizer in new[] { OptimizerKind.Sgd, OptimizerKind.Adam })
        {
            // clipping that never triggers turns deferral, and so the panels, off
            TrainerOptions Opt(float clip) => new() { Epochs = 3, BatchSize = 8, LearningRate = 0.05f, Momentum = 0.9f, WeightDecay = 1e-3f, Seed = 2, Isa = isa, Optimizer = optimizer, ClipNorm = clip };
            var panels = new Trainer(Mlp(300, 64), new FineTuneSetup { TrainableLast = 2 }, Opt(0));
            var rowMajor = new Trainer(Mlp(300, 64), new FineTuneSetup { TrainableLast = 2 }, Opt(1e30f));
            Assert.True(panels.Graph.Parameters[0].InPanels);
            Assert.False(rowMajor.Graph.Parameters[0].InPanels);
            var set = Data(300, 50, 8);
            panels.Fit(set);
            rowMajor.Fit(set);
            Assert.Equal(Bits(rowMajor), Bits(panels));
            Assert.Equal(rowMajor.Evaluate(set).Loss, panels.Evaluate(set).Loss);
        }
    }

    [Fact]
    public void TheModelAndTheParameterShowTheCurrentWeightsAndWritesReachTraining()
    {
        var trainer = new Trainer(Mlp(40, 32), new FineTuneSetup { TrainableLast = 2 }, new TrainerOptions { BatchSize = 4, LearningRate = 0.5f, Seed = 3 });
        var weight = trainer.Graph.Parameters[0];
        Assert.True(weight.InPanels);
        var set = Data(40, 12, 9);
        var before = weight.Value.ToArray();
        trainer.Step(set, [0, 1, 2, 3]);
        var after = weight.Value.ToArray();
        Assert.False(before.AsSpan().SequenceEqual(after));
        // the model file written now holds the trained weights: it predicts as the trainer evaluates
        string path = Path.Combine(Path.GetTempPath(), $"edgenet-panels-{Guid.NewGuid():N}.enet");
        try
        {
            EnetWriter.Write(trainer.Model, path);
            var session = new Session(EnetReader.Load(path));
            var evaluated = trainer.Evaluate(set);
            for (int i = 0; i < set.Count; i++)
            {
                var x = Tensor.FromArray([1, 40], set.Data.AsSpan(i * 40, 40).ToArray());
                var p = session.Run(new Dictionary<string, Tensor> { ["x"] = x })[0].ToFloatArray();
                Assert.Equal(evaluated.Predictions[i], Array.IndexOf(p, p.Max()));
            }
        }
        finally
        {
            File.Delete(path);
        }
        // a write through Value reaches the forward pass: a zero first layer makes every sample's output the same
        weight.Value.Clear();
        var zero = trainer.Evaluate(set);
        Assert.All(zero.Predictions, p => Assert.Equal(zero.Predictions[0], p));
        // and training goes on from the written weights
        trainer.Step(set, [4, 5, 6, 7]);
        Assert.Contains(weight.Value.ToArray(), v => v != 0);
    }
}
