using EdgeNet.Kernels.Quantized;

namespace EdgeNet.Tests.Kernels.Quantized;

/// <summary>
/// A single activation row (batch-1 Dense / classifier, <see cref="QMicrokernel.Gemv"/> where the variant has it:
/// four-panel passes plus single-panel tails) against <see cref="QGemmReference"/> bit for bit on every variant:
/// channel counts 1–1000 (panel tails 0–3 and partial panels), K odd / prime / large, u8/s8 activations and weights,
/// zero points, extreme values, every output kind, one and two threads.
/// </summary>
public class QGemvTests
{
    public static TheoryData<QVariant> Variants() => QGemmKernelTests.Variants();

    [Theory]
    [MemberData(nameof(Variants))]
    public void SingleRowMatchesReference(QVariant variant)
    {
        var kinds = Enum.GetValues<QOutputKind>();
        int seed = 2100;
        foreach (int n in new[] { 12, 16, 48, 64, 65, 80, 113, 1000 })
            foreach (int k in new[] { 1, 3, 64, 97, 512 })
            {
                seed++;
                var rng = new Random(seed);
                bool aSigned = (seed & 1) != 0, wSigned = (seed & 2) != 0;
                QGemmKernelTests.Check(variant, new QGemmKernelTests.Case
                {
                    Orientation = QGemmOrientation.WeightsRight, M = 1, N = n, K = k, ASigned = aSigned, WSigned = wSigned,
                    AZp = aSigned ? rng.Next(-128, 128) : rng.Next(256),
                    WZp = seed % 3 == 0 ? [] : [wSigned ? 0 : 128], PerChannel = seed % 2 == 0,
                    Output = kinds[seed % kinds.Length], Seed = seed, WithBias = seed % 5 != 0, Extreme = seed % 4 == 0,
                    Threads = seed % 3 == 1 ? 2 : 1,
                });
            }
    }
}
