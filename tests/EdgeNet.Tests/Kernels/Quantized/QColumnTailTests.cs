using EdgeNet.Kernels;
using EdgeNet.Kernels.Quantized;
using ExecutionContext = EdgeNet.Execution.ExecutionContext;

namespace EdgeNet.Tests.Kernels.Quantized;

/// <summary>
/// The Avx2 / AvxVnni pointwise column tail (<see cref="QGemm.UsesColumnTail"/>: positions 1..8 past a whole 16-position panel
/// run as matrix-vector products on the packed weight panels) against <see cref="QConv2dReference"/>, bit for bit, on
/// every variant (the others take their own paths on the same shapes): planes 1×1..30×30 (tails 0..15), odd and prime
/// channel counts (partial 6-channel panels, odd K: a half-empty last k pair), u8 / s8 activations, int8 / uint8
/// (zero point 128) weights, per-tensor and per-channel multipliers, uint8 / int8 output with and without bias,
/// batch 2, 1 and 2 threads (channel splits), and saturating extremes.
/// </summary>
public unsafe class QColumnTailTests
{
    public static TheoryData<QVariant> Variants() => QGemmKernelTests.Variants();

    private static bool TailApplies(QVariant variant, QConv2dShape s, bool wSigned)
    {
        var w = new byte[s.OutChannels * s.Depth];
        var packed = QPackedWeights.PackRows(variant, QGemmOrientation.WeightsLeft, w, wSigned, s.OutChannels, s.Depth, wSigned ? [] : [128]);
        return new QGemm(packed, s.OutPlane, false, QOutputKind.UInt8, 1, QColumnsPacker.Instance).UsesColumnTail;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void PointwiseTailsMatchReference(QVariant variant)
    {
        bool avx2 = variant is QVariant.Avx2 or QVariant.AvxVnni && QVariants.IsNative(variant);
        int seed = 4000, tails = 0;
        foreach (int side in new[] { 1, 3, 4, 5, 7, 9, 11, 13, 14, 16, 17, 23, 28, 30 })
            foreach (int cin in new[] { 1, 2, 3, 16, 17, 33 })
            {
                seed++;
                int cout = new[] { 1, 5, 6, 7, 13, 37 }[seed % 6];
                int h = side, w = seed % 3 == 0 ? side : Math.Max(1, side - 2);
                var s = new QConv2dShape(1, cin, h, w, cout, 1, 1);
                bool wSigned = seed % 4 != 1, xSigned = seed % 5 == 2;
                var output = seed % 3 == 1 ? QOutputKind.Int8 : QOutputKind.UInt8;
                if (avx2)
                {
                    int tail = s.OutPlane % 16;
                    bool expected = s.OutPlane > 16;
                    Assert.Equal(expected, TailApplies(variant, s, wSigned));
                    if (expected && tail is > 0 and <= QGemm.ColumnTailMax) tails++;
                }
                QConv2dKernelTests.Check(variant, s, xSigned, wSigned, perChannelZp: false, output, seed, withBias: seed % 7 != 3);
            }
        if (avx2) Assert.True(tails > 20, $"{tails} shapes with a column tail");
    }

    /// <summary>MobileNetV2's 7×7 and 14×14 pointwise shapes, batch 2, and two threads (position blocks and channel splits).</summary>
    [Theory]
    [MemberData(nameof(Variants))]
    public void ModelShapesBatchAndThreadsMatchReference(QVariant variant)
    {
        bool avx2 = variant is QVariant.Avx2 or QVariant.AvxVnni && QVariants.IsNative(variant);
        var shapes = new[]
        {
            new QConv2dShape(1, 160, 7, 7, 960, 1, 1),
            new QConv2dShape(1, 960, 7, 7, 163, 1, 1),
            new QConv2dShape(2, 64, 14, 14, 383, 1, 1),
            new QConv2dShape(2, 97, 7, 7, 50, 1, 1),
        };
        int seed = 5000;
        foreach (var s in shapes)
        {
            if (avx2) Assert.True(TailApplies(variant, s, true));
            foreach (int threads in new[] { 1, 2 })
            {
                if (threads == 2 && !QVariants.IsNative(variant)) continue;
                seed++;
                QConv2dKernelTests.Check(variant, s, seed % 2 == 0, seed % 3 != 0, perChannelZp: false, seed % 2 == 0 ? QOutputKind.UInt8 : QOutputKind.Int8, seed, threads);
            }
        }
    }

    /// <summary>
    /// Saturation extremes through the tail: activations 255 (or int8 127 / −128) against weights −128 / 127 over
    /// K = 1024, zero points at the ends of the range, tiny and huge multipliers (outputs clamped at both ends).
    /// </summary>
    [Theory]
    [MemberData(nameof(Variants))]
    public void ExtremesMatchReference(QVariant variant)
    {
        foreach (var (xSigned, wSigned, xByte, wByte, xzp) in new[]
        {
            (false, true, (byte)255, (byte)0x80, 0), (false, true, (byte)255, (byte)0x7F, 255), (true, true, (byte)0x80, (byte)0x80, 127),
            (true, true, (byte)0x7F, (byte)0x7F, -128), (false, false, (byte)255, (byte)0, 0), (false, false, (byte)0, (byte)255, 255),
        })
            foreach (float mult in new[] { 1e-7f, 3e-5f, 0.7f, 40f })
                foreach (var output in new[] { QOutputKind.UInt8, QOutputKind.Int8 })
                {
                    var s = new QConv2dShape(1, 1024, 7, 7, 13, 1, 1);
                    var x = new byte[s.InChannels * s.InPlane];
                    var w = new byte[s.OutChannels * s.Depth];
                    var rng = new Random(7);
                    for (int i = 0; i < x.Length; i++) x[i] = rng.Next(8) == 0 ? (byte)rng.Next(256) : xByte;
                    for (int i = 0; i < w.Length; i++) w[i] = rng.Next(8) == 0 ? (byte)rng.Next(256) : wByte;
                    int[] wzp = wSigned ? [] : [128];
                    var bias = Enumerable.Range(0, s.OutChannels).Select(c => c % 2 == 0 ? int.MaxValue / 4 : -int.MaxValue / 4).ToArray();
                    var m = Enumerable.Range(0, s.OutChannels).Select(c => mult * (1 + c * 0.01f)).ToArray();
                    var expected = new byte[s.OutChannels * s.OutPlane];
                    var actual = new byte[expected.Length];
                    var conv = new QConv2d(variant, s, w, wSigned, wzp, xSigned, output, 1);
                    var scratch = new byte[conv.ScratchBytes];
                    int yzp = output == QOutputKind.Int8 ? 5 : 200;
                    fixed (byte* xp = x)
                    fixed (byte* wp = w)
                    fixed (int* zp = wzp)
                    fixed (int* bp = bias)
                    fixed (float* mp = m)
                    fixed (byte* ep = expected)
                    fixed (byte* yp = actual)
                    fixed (byte* sp = scratch)
                    {
                        var e = output == QOutputKind.Int8 ? QEpilogue.Requantize(mp, 1, yzp, -128, 127, bp) : QEpilogue.Requantize(mp, 1, yzp, 0, 255, bp);
                        QConv2dReference.Run(s, xp, xSigned, xzp, wp, wSigned, wzp.Length == 0 ? null : zp, 0, output, ep, e);
                        conv.Run(null, xp, xzp, yp, e, sp);
                    }
                    Assert.True(expected.AsSpan().SequenceEqual(actual), $"{variant} x{xByte} w{wByte} zp{xzp} m{mult} {output}");
                }
    }

    /// <summary>The session ISA's variant takes the tail on AVX2 and AVX-VNNI sessions (EDGENET_ISA=avx2 with DOTNET_EnableAVXVNNI=0: Avx2).</summary>
    [Fact]
    public void SessionVariantChoice()
    {
        var isa = IsaSupport.Resolve();
        var variant = QVariants.For(isa);
        var s = new QConv2dShape(1, 160, 7, 7, 960, 1, 1);
        Assert.Equal(variant is QVariant.Avx2 or QVariant.AvxVnni && QVariants.IsNative(variant), TailApplies(variant, s, true));
    }
}
