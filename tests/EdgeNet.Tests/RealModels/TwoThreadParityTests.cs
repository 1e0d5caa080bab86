using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Onnx;
using EdgeNet.Passes;
using EdgeNet.Tests.Support;

namespace EdgeNet.Tests.RealModels;

/// <summary>
/// The conv-heavy generated models on two threads: the kernels split work so that every output element is summed in
/// the same order whatever the thread count, so two threads reproduce one thread's bits, match ONNX Runtime, and a
/// run allocates nothing.
/// </summary>
public class TwoThreadParityTests
{
    [Theory]
    [InlineData("resnet18")]
    [InlineData("mobilenet_v2")]
    [InlineData("ds_cnn")]
    public void TwoThreadsGiveOneThreadsBitsAndAllocateNothing(string name)
    {
        string path = RepoPaths.Model($"generated/{name}/model.onnx");
        int[] dims = name == "ds_cnn" ? [1, 1, 49, 10] : [1, 3, 224, 224];
        var model = OnnxImporter.Load(path);
        PassPipeline.Optimize(model);
        var one = new Session(model, new SessionOptions { Threads = 1 });
        var two = new Session(model, new SessionOptions { Threads = 2 });
        for (int seed = 1; seed <= 2; seed++)
        {
            var feeds = new Dictionary<string, Tensor> { ["input"] = Parity.Random(dims, seed, -2f, 2f) };
            var single = one.Run(feeds)[0].AsSpan<float>().ToArray();
            var pair = two.Run(feeds)[0];
            Assert.True(single.AsSpan().SequenceEqual(pair.AsSpan<float>()), $"{name} seed {seed}: two threads differ from one");
            Parity.AssertClose(OrtOracle.Run(path, feeds)[0], pair, $"{name} seed {seed} two threads");
        }
        two.SetInputShape("input", dims);
        Parity.Random(dims, 5, -2f, 2f).AsSpan<float>().CopyTo(two.Input<float>(two.InputIndex("input")));
        Allocations.AssertNoneAfterWarmUp(two.Run, batch: name == "ds_cnn" ? 20 : 2);
    }
}
