using EdgeNet.Kernels.Quantized;

namespace EdgeNet.Tests.Kernels.Quantized;

/// <summary>
/// Pointwise convs through the whole-panel tile loop (<c>QMicrokernel.RunRequantizedPanels</c>: a weight panel over every
/// whole 16-position panel of a block in one call) and the 256-bit activation packer (<c>QColumnsPacker</c>, 32
/// positions a step, then 16, then lane by lane) against <see cref="QConv2dReference"/>, bit for bit, on every
/// variant: planes of 1..200 positions (multiples of 32 and 16, one past, one short), K = 1..33 (odd K: zero-padded
/// k groups), full and partial 6-channel tiles, u8 / s8 activations, int8 / uint8 weights, uint8 / int8 output with and
/// without bias, multipliers above 0.5 (the float clamp) and small (the byte clamp), batch 2, 1 and 2 threads; and the
/// overlapped last channel tile (Cout not a multiple of 6: a weight panel of the last 6 channels), also when two
/// threads split the channels and the last split is narrower than a tile (the staged partial tile then); with and
/// without <c>vector512</c> (the 512-bit tile requantization, <c>QTileRequant.Rows2x512</c>, where AVX-512 BW is real).
/// </summary>
public class QPointwisePanelsTests
{
    public static TheoryData<QVariant> Variants() => QGemmKernelTests.Variants();

    [Theory]
    [MemberData(nameof(Variants))]
    public void PanelLoopAndPackerMatchReference(QVariant variant)
    {
        int seed = 7100;
        foreach (var (h, w) in new[] { (1, 1), (1, 15), (4, 4), (1, 31), (4, 8), (3, 11), (1, 47), (8, 8), (5, 13), (7, 14), (10, 10), (8, 16), (9, 15), (10, 20), (20, 10) })
            foreach (int cin in new[] { 1, 3, 4, 8, 16, 17, 33 })
            {
                seed++;
                int cout = new[] { 6, 12, 7, 18, 13, 16, 24, 32 }[seed % 8];
                var s = new QConv2dShape(seed % 9 == 0 ? 2 : 1, cin, h, w, cout, 1, 1);
                bool xSigned = seed % 5 == 2, wSigned = seed % 4 != 1;
                var output = seed % 3 == 1 ? QOutputKind.Int8 : QOutputKind.UInt8;
                float first = seed % 4 == 3 ? 0.9f : 0;
                QConv2dKernelTests.Check(variant, s, xSigned, wSigned, perChannelZp: false, output, seed, withBias: seed % 7 != 3, firstMultiplier: first,
                    vector512: seed % 2 == 0);
            }
    }

    /// <summary>MobileNetV2's large-plane pointwise shapes (small K or few output channels), 1 and 2 threads.</summary>
    [Theory]
    [MemberData(nameof(Variants))]
    public void ModelShapesMatchReference(QVariant variant)
    {
        var shapes = new[]
        {
            new QConv2dShape(1, 16, 56, 56, 96, 1, 1),
            new QConv2dShape(1, 32, 56, 56, 16, 1, 1),
            new QConv2dShape(1, 24, 28, 28, 144, 1, 1),
            new QConv2dShape(1, 144, 28, 28, 24, 1, 1),
        };
        int seed = 7300;
        foreach (var s in shapes)
            foreach (int threads in new[] { 1, 2 })
            {
                if (threads == 2 && !QVariants.IsNative(variant)) continue;
                seed++;
                foreach (bool v512 in new[] { false, true })
                    QConv2dKernelTests.Check(variant, s, seed % 2 == 0, seed % 3 != 0, perChannelZp: false, seed % 2 == 0 ? QOutputKind.UInt8 : QOutputKind.Int8, seed, threads,
                        firstMultiplier: seed % 4 == 1 ? -0.7f : 0, vector512: v512);
            }
    }

    /// <summary>Channel splits (few positions, two threads): the last split owns its last 6 channels, or is narrower.</summary>
    [Theory]
    [MemberData(nameof(Variants))]
    public void ChannelSplitsMatchReference(QVariant variant)
    {
        var shapes = new[]
        {
            new QConv2dShape(1, 1024, 4, 4, 130, 1, 1),  // splits of 36 channels, the last [108, 130)
            new QConv2dShape(1, 2200, 5, 5, 40, 1, 1),   // splits of 12, the last [36, 40): narrower than a tile
            new QConv2dShape(1, 300, 7, 7, 160, 1, 1),
        };
        int seed = 7400;
        foreach (var s in shapes)
            foreach (int threads in new[] { 1, 2 })
            {
                if (threads == 2 && !QVariants.IsNative(variant)) continue;
                seed++;
                QConv2dKernelTests.Check(variant, s, seed % 2 == 0, true, perChannelZp: false, seed % 2 == 0 ? QOutputKind.Int8 : QOutputKind.UInt8, seed, threads,
                    firstMultiplier: seed % 3 == 0 ? 0.8f : 0);
            }
    }
}
