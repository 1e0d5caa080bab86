using EdgeNet.Kernels.Quantized;

namespace EdgeNet.Tests.Kernels.Quantized;

/// <summary>
/// 3×3 stride-1 convs that take the exact integer Winograd F(2×2, 3×3) (<see cref="QWinogradConv"/>) on the native
/// Avx2 variant, and on every x86 variant with 512-bit vectors allowed and at least 32 output tiles (8 channels × 32
/// tiles; the portable Vector512 pair product where the CPU lacks AVX-512 BW), against <see cref="QConv2dReference"/> bit for bit on every variant: odd and even output sizes (the
/// last tile row / column half outside), widths 1–57, pads 0–2 (asymmetric), odd channel counts (a zero second
/// channel in the last pair), channel tiles with 1–5 rows, several tile blocks, batch 2, u8/s8 inputs, int8 and
/// uint8 (zero point 128) weights, every output kind, one and two threads (tile blocks split between the threads, or
/// one block's channel tiles); extreme values at the largest channel
/// count (no int32 overflow in 4·Σ).
/// </summary>
public unsafe class QWinogradConvTests
{
    /// <summary>Every variant, with and without 512-bit vectors allowed (the session ISA being Avx512).</summary>
    public static TheoryData<QVariant, bool> Variants()
    {
        var data = new TheoryData<QVariant, bool>();
        foreach (var v in QVariants.Available)
        {
            data.Add(v, false);
            data.Add(v, true);
        }
        return data;
    }

    private static bool WinogradHere(QVariant variant, bool vector512, QConv2dShape s) =>
        (variant == QVariant.Avx2 && QVariants.IsNative(variant))
        || (vector512 && System.Runtime.Intrinsics.X86.Avx2.IsSupported && variant is QVariant.Avx2 or QVariant.AvxVnni or QVariant.Avx512
            && (s.OutH + 1) / 2 * ((s.OutW + 1) / 2) >= QWinogradConv.MinTiles512);

    [Theory]
    [MemberData(nameof(Variants))]
    public void WinogradConvsMatchReference(QVariant variant, bool vector512)
    {
        var kinds = Enum.GetValues<QOutputKind>();
        var shapes = new[]
        {
            new QConv2dShape(1, 32, 8, 8, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1),
            new QConv2dShape(1, 33, 7, 9, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1),
            new QConv2dShape(2, 40, 5, 5, 13, 3, 3, 1, 1, 1, 0, 0, 0, 0),
            new QConv2dShape(1, 35, 1, 1, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1),
            new QConv2dShape(1, 32, 3, 2, 5, 3, 3, 1, 1, 1, 2, 1, 0, 2),
            new QConv2dShape(1, 37, 14, 14, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1),
            new QConv2dShape(1, 32, 13, 31, 9, 3, 3, 1, 1, 1, 1, 2, 2, 1),
            new QConv2dShape(1, 48, 29, 57, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1),
            new QConv2dShape(1, 64, 7, 7, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1),
            new QConv2dShape(2, 34, 30, 17, 12, 3, 3, 1, 1, 1, 0, 1, 2, 0),
        };
        int seed = 1300;
        foreach (var s in shapes)
            foreach (bool xSigned in new[] { false, true })
            {
                seed++;
                bool wSigned = seed % 3 != 0;
                Assert.Equal(WinogradHere(variant, vector512, s),
                    new QConv2d(variant, s, new byte[s.OutChannels * s.Depth], wSigned, [wSigned ? 0 : 128], xSigned, QOutputKind.UInt8, 1, vector512).UsesWinograd);
                QConv2dKernelTests.Check(variant, s, xSigned, wSigned, false, kinds[seed % kinds.Length], seed, vector512: vector512);
                QConv2dKernelTests.Check(variant, s, xSigned, wSigned, false, seed % 2 == 0 ? QOutputKind.UInt8 : QOutputKind.Int8, seed + 50, vector512: vector512);
                QConv2dKernelTests.Check(variant, s, xSigned, wSigned, false, QOutputKind.Int32, seed + 80, withBias: seed % 2 == 0, vector512: vector512);
            }
        if (QVariants.IsNative(variant))
        {
            QConv2dKernelTests.Check(variant, new QConv2dShape(1, 64, 28, 28, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1), false, true, false, QOutputKind.UInt8, 1399, threads: 2, vector512: vector512);
            QConv2dKernelTests.Check(variant, new QConv2dShape(2, 33, 21, 19, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1), true, false, false, QOutputKind.Int8, 1398, threads: 2, vector512: vector512);
            QConv2dKernelTests.Check(variant, new QConv2dShape(1, 32, 56, 56, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1), true, true, false, QOutputKind.Float32, 1397, threads: 2, vector512: vector512);
            // one tile block: the channel tiles split between the threads
            QConv2dKernelTests.Check(variant, new QConv2dShape(1, 128, 7, 7, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1), false, true, false, QOutputKind.UInt8, 1396, threads: 2, vector512: vector512);
            QConv2dKernelTests.Check(variant, new QConv2dShape(1, 96, 14, 13, 61, 3, 3, 1, 1, 1, 1, 1, 1, 1), true, false, false, QOutputKind.Int32, 1395, threads: 2, vector512: vector512);
        }
    }

    /// <summary>Asymmetric weights, dilation, stride 2, group 2, few channels, 3×5: not Winograd, still exact.</summary>
    [Theory]
    [MemberData(nameof(Variants))]
    public void NonWinogradShapesStayOnOtherPaths(QVariant variant, bool vector512)
    {
        var cases = new (QConv2dShape Shape, bool PerChannelZp)[]
        {
            (new QConv2dShape(1, 32, 9, 9, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1), true),
            (new QConv2dShape(1, 32, 9, 9, 8, 3, 3, 1, 1, 1, 2, 2, 2, 2, 2, 2), false),
            (new QConv2dShape(1, 32, 9, 9, 8, 3, 3, 1, 2, 2, 1, 1, 1, 1), false),
            (new QConv2dShape(1, 64, 9, 9, 8, 3, 3, 2, 1, 1, 1, 1, 1, 1), false),
            (new QConv2dShape(1, 31, 9, 9, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1), false),
            (new QConv2dShape(1, 32, 9, 9, 8, 3, 5, 1, 1, 1, 1, 2, 1, 2), false),
        };
        int seed = 1500;
        foreach (var (s, zp) in cases)
        {
            seed++;
            Assert.False(new QConv2d(variant, s, new byte[s.OutChannels * s.Depth], true, zp ? Enumerable.Range(0, s.OutChannels).ToArray() : [], false, QOutputKind.UInt8, 1, vector512).UsesWinograd);
            QConv2dKernelTests.Check(variant, s, false, true, zp, QOutputKind.UInt8, seed, vector512: vector512);
        }
    }

    /// <summary>
    /// The largest channel count with the extreme products: x − x_zp = ±255 and weights −128 / 127 everywhere (uint8
    /// and int8 encodings), int32 output against the reference.
    /// </summary>
    [Theory]
    [MemberData(nameof(Variants))]
    public void ExtremeValuesAtMaxChannelsAreExact(QVariant variant, bool vector512)
    {
        // 6 output tiles (the 256-bit path), 32 (the 512-bit one)
        foreach (var s in new[] { new QConv2dShape(1, QWinogradConv.MaxInChannels, 4, 5, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1), new QConv2dShape(1, QWinogradConv.MaxInChannels, 8, 16, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1) })
        foreach (var (xFill, xZp, wFill, wSigned) in new (byte, int, byte, bool)[] { (255, 0, 0, false), (0, 255, 0, false), (255, 0, 0x80, true), (0, 255, 0x7F, true), (255, 0, 255, false) })
        {
            var x = new byte[s.InChannels * s.InPlane];
            var w = new byte[s.OutChannels * s.Depth];
            Array.Fill(x, xFill);
            Array.Fill(w, wFill);
            // a few values of the other sign so the rows differ
            x[3] ^= 0xFF;
            w[5] = (byte)(wFill ^ 0x7F);
            var conv = new QConv2d(variant, s, w, wSigned, [wSigned ? 0 : 128], false, QOutputKind.Int32, 1, vector512);
            Assert.Equal(WinogradHere(variant, vector512, s), conv.UsesWinograd);
            var expected = new int[s.OutChannels * s.OutPlane];
            var actual = new int[expected.Length];
            var scratch = new byte[conv.ScratchBytes];
            int[] wZp = [wSigned ? 0 : 128];
            fixed (int* zp = wZp)
            fixed (byte* xp = x)
            fixed (byte* wp = w)
            fixed (int* ep = expected)
            fixed (int* ap = actual)
            fixed (byte* sp = scratch)
            {
                QConv2dReference.Run(s, xp, false, xZp, wp, wSigned, zp, 0, QOutputKind.Int32, ep, QEpilogue.Exact());
                conv.Run(null, xp, xZp, ap, QEpilogue.Exact(), sp);
            }
            Assert.Equal(expected, actual);
            Assert.Contains(expected, v => Math.Abs((long)v) > 1L << 28);
        }
    }
}
