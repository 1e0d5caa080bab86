using EdgeNet.Execution;
using EdgeNet.Onnx;
using EdgeNet.Tests.RealModels;

namespace EdgeNet.Tests.BadInput;

/// <summary>
/// Mutates real model files (bit flips, truncations, protobuf length-field edits) thousands of times: loading and
/// planning may fail, but only with EdgeNet's own exception types — never a crash, hang or other exception.
/// </summary>
public class ModelFuzzTests
{
    [Theory]
    [InlineData("openwakeword/hey_jarvis_v0.1.onnx", 1500)]
    [InlineData("openwakeword/melspectrogram.onnx", 1000)]
    [InlineData("ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx", 700)]
    public void MutatedModelsFailOnlyWithEdgeNetExceptions(string model, int iterations)
    {
        byte[] original = File.ReadAllBytes(RepoPaths.Model(model));
        var rng = new Random(model.Length * 7919 + iterations);
        var options = new SessionOptions { MaxArenaBytes = 256L << 20 };
        int loaded = 0, rejected = 0;
        for (int i = 0; i < iterations; i++)
        {
            byte[] bytes = Mutate(original, rng);
            try
            {
                var m = OnnxImporter.Load(bytes, null);
                _ = new Session(m, options);
                loaded++;
            }
            catch (EdgeNetException)
            {
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"iteration {i}: {e.GetType().Name} escaped: {e.Message}\n{e.StackTrace}");
            }
        }
        Assert.Equal(iterations, loaded + rejected);
        Assert.True(rejected > 0, "no mutation was rejected: the mutator is not mutating");
    }

    private static byte[] Mutate(byte[] original, Random rng)
    {
        byte[] b = (byte[])original.Clone();
        switch (rng.Next(4))
        {
            case 0: // bit flips
                for (int k = rng.Next(1, 9); k > 0; k--) b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));
                return b;
            case 1: // truncation
                return b.AsSpan(0, rng.Next(b.Length)).ToArray();
            case 2: // a varint-looking byte (length fields, dims) set to an extreme
                for (int k = rng.Next(1, 4); k > 0; k--)
                {
                    int at = rng.Next(b.Length);
                    b[at] = (byte)(rng.Next(2) == 0 ? 0xFF : rng.Next(0x80));
                }
                return b;
            default: // a chunk duplicated or removed in the middle
                int start = rng.Next(b.Length), len = rng.Next(1, Math.Min(64, b.Length - start + 1));
                return rng.Next(2) == 0
                    ? [.. b.AsSpan(0, start), .. b.AsSpan(start, len), .. b.AsSpan(start)]
                    : [.. b.AsSpan(0, start), .. b.AsSpan(Math.Min(b.Length, start + len))];
        }
    }
}
