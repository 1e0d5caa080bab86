using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels;
using EdgeNet.Onnx;

namespace EdgeNet.Tests.RealModels;

/// <summary>
/// Each real model under every ISA path this CPU has against the scalar reference path:
/// |fast − scalar| ≤ 1e-4 + 1e-3·|scalar|. Needs no ONNX Runtime, so it is what proves the NEON kernels under
/// qemu-aarch64 (scripts/arm64.sh), where ORT's arm64 library crashes while detecting the (emulated) CPU.
/// </summary>
public class IsaParityTests
{
    public static TheoryData<string, string, int[], float, float> Cases => RealModelParityTests.Cases;

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryIsaMatchesScalarReference(string model, string input, int[] dims, float lo, float hi)
    {
        string path = RepoPaths.Model(model);
        // A model per session, so no session can see another's rewrites of the graph.
        var reference = new Session(OnnxImporter.Load(path), new SessionOptions { Isa = Isa.Scalar });
        var fast = new List<Session>();
        foreach (var isa in IsaSupport.Available)
            if (isa != Isa.Scalar) fast.Add(new Session(OnnxImporter.Load(path), new SessionOptions { Isa = isa }));
        Assert.True(fast.Count > 0 || !(AdvSimd.Arm64.IsSupported || Avx2.IsSupported), "this CPU has SIMD but no fast ISA path is available");

        for (int seed = 1; seed <= 2; seed++)
        {
            var feeds = new Dictionary<string, Tensor> { [input] = Parity.Random(dims, seed, lo, hi) };
            var expected = reference.Run(feeds);
            foreach (var session in fast)
            {
                var actual = session.Run(feeds);
                Assert.Equal(expected.Length, actual.Length);
                for (int i = 0; i < expected.Length; i++)
                    Parity.AssertClose(expected[i], actual[i], $"{model} {session.Options.Isa}, seed {seed} output {i}", oracle: "Scalar");
            }
        }
    }
}
