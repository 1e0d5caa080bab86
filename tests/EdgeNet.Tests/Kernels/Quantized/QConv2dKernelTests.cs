using EdgeNet.Kernels.Quantized;
using ExecutionContext = EdgeNet.Execution.ExecutionContext;

namespace EdgeNet.Tests.Kernels.Quantized;

/// <summary>
/// <see cref="QConv2d"/> (GEMM + im2col, pointwise, grouped, depthwise direct) for every variant against the direct
/// <see cref="QConv2dReference"/>, bit for bit: kernel sizes 1/3/5/7, strides, pads, dilations, groups, depthwise
/// (multiplier 1 and 2), u8/s8 data, per-tensor and per-channel weights, every output kind.
/// </summary>
public unsafe class QConv2dKernelTests
{
    public static TheoryData<QVariant> Variants() => QGemmKernelTests.Variants();

    /// <param name="firstMultiplier">when non-zero, channel 0's multiplier (above 0.5: the requantized tiles keep the float clamp)</param>
    internal static void Check(QVariant variant, QConv2dShape s, bool xSigned, bool wSigned, bool perChannelZp, QOutputKind output, int seed, int threads = 1,
        bool withBias = true, float firstMultiplier = 0, bool vector512 = false)
    {
        var rng = new Random(seed);
        var x = new byte[s.Batch * s.InChannels * s.InPlane];
        var w = new byte[s.OutChannels * s.Depth];
        rng.NextBytes(x);
        rng.NextBytes(w);
        int xzp = xSigned ? rng.Next(-128, 128) : rng.Next(256);
        int[] wzp = perChannelZp
            ? Enumerable.Range(0, s.OutChannels).Select(_ => wSigned ? rng.Next(-10, 10) : rng.Next(120, 136)).ToArray()
            : seed % 2 == 0 ? [] : [wSigned ? 0 : 128];
        var bias = Enumerable.Range(0, s.OutChannels).Select(_ => rng.Next(-5000, 5000)).ToArray();
        var mult = Enumerable.Range(0, s.OutChannels).Select(_ => (float)(rng.NextDouble() * 0.01 + 0.0005)).ToArray();
        if (firstMultiplier != 0) mult[0] = firstMultiplier;
        var fbias = Enumerable.Range(0, s.OutChannels).Select(_ => (float)rng.NextDouble()).ToArray();
        int outBytes = output is QOutputKind.Int32 or QOutputKind.Float32 ? 4 : 1;
        int count = s.Batch * s.OutChannels * s.OutPlane;
        var expected = new byte[count * outBytes];
        var actual = new byte[count * outBytes];
        var conv = new QConv2d(variant, s, w, wSigned, wzp, xSigned, output, threads, vector512);
        var scratch = new byte[conv.ScratchBytes];
        int yzp = output == QOutputKind.Int8 ? -3 : 120;
        fixed (byte* xp = x)
        fixed (byte* wp = w)
        fixed (int* zp = wzp)
        fixed (int* bp = bias)
        fixed (float* mp = mult)
        fixed (float* fb = fbias)
        fixed (byte* e = expected)
        fixed (byte* y = actual)
        fixed (byte* sp = scratch)
        {
            int* b = withBias ? bp : null;
            var ep = output switch
            {
                QOutputKind.Int32 => QEpilogue.Exact(b),
                QOutputKind.Float32 => QEpilogue.Dequantize(mp, 1, fb, b),
                QOutputKind.Int8 => QEpilogue.Requantize(mp, 1, yzp, -128, 127, b),
                _ => QEpilogue.Requantize(mp, seed % 3 == 0 ? 0 : 1, yzp, seed % 2 == 0 ? yzp : 0, 255, b),
            };
            QConv2dReference.Run(s, xp, xSigned, xzp, wp, wSigned, wzp.Length == 0 ? null : zp, wzp.Length > 1 ? 1 : 0, output, e, ep);
            conv.Run(threads > 1 ? new ExecutionContext([], threads) : null, xp, xzp, y, ep, sp);
        }
        if (!expected.AsSpan().SequenceEqual(actual))
        {
            int i = 0;
            while (expected[i] == actual[i]) i++;
            Assert.Fail($"{variant} {s} x{(xSigned ? "s8" : "u8")} w{(wSigned ? "s8" : "u8")} {output}: first difference at element {i / outBytes}");
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void ConvMatchesReferenceOverGeometries(QVariant variant)
    {
        var kinds = Enum.GetValues<QOutputKind>();
        int seed = 0;
        foreach (int k in new[] { 1, 3, 5, 7 })
            foreach (int stride in new[] { 1, 2, 3 })
                foreach (int pad in new[] { 0, 1, 3 })
                    foreach (int dil in new[] { 1, 2 })
                    {
                        seed++;
                        if (pad >= k * dil && k > 1) continue;
                        int h = 5 + seed % 9, wdt = 4 + seed % 11;
                        if ((k - 1) * dil + 1 > h + 2 * pad || (k - 1) * dil + 1 > wdt + 2 * pad) continue;
                        int group = seed % 4 == 0 ? 2 : 1;
                        var s = new QConv2dShape(1 + seed % 2, 2 * group + seed % 3 * group, h, wdt, group * (1 + seed % 9), k, k, group,
                            stride, k == 1 ? 1 : stride, pad, pad, k == 1 ? 0 : pad + seed % 2, pad, dil, dil);
                        Check(variant, s, (seed & 1) != 0, (seed & 2) != 0, seed % 3 == 0, kinds[seed % kinds.Length], seed);
                    }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void PointwiseAndAsymmetricGeometries(QVariant variant)
    {
        Check(variant, new QConv2dShape(1, 17, 7, 9, 13, 1, 1), false, true, false, QOutputKind.UInt8, 1);
        Check(variant, new QConv2dShape(2, 8, 5, 5, 24, 1, 1), true, false, true, QOutputKind.Int32, 2);
        Check(variant, new QConv2dShape(1, 3, 11, 13, 8, 3, 5, 1, 2, 1, 0, 2, 1, 0, 1, 3), false, true, true, QOutputKind.Float32, 3);
        Check(variant, new QConv2dShape(1, 6, 9, 9, 9, 3, 3, 3, 1, 1, 1, 1, 1, 1), true, true, false, QOutputKind.Int8, 4);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void DepthwiseMatchesReference(QVariant variant)
    {
        int seed = 100;
        foreach (int k in new[] { 3, 5 })
            foreach (int stride in new[] { 1, 2 })
                foreach (int pad in new[] { 0, 1, 2 })
                    foreach (int dil in new[] { 1, 2 })
                    {
                        seed++;
                        int c = 3 + seed % 6;
                        var s = new QConv2dShape(1 + seed % 2, c, 7 + seed % 5, 6 + seed % 7, c, k, k, c, stride, stride, pad, pad, pad, pad + seed % 2, dil, dil);
                        if (s.OutH <= 0 || s.OutW <= 0) continue;
                        Check(variant, s, (seed & 1) != 0, (seed & 2) != 0, seed % 3 == 0, (QOutputKind)(seed % 4), seed);
                    }
        // channel multiplier 2 takes the grouped GEMM path
        Check(variant, new QConv2dShape(1, 4, 8, 8, 8, 3, 3, 4, 1, 1, 1, 1, 1, 1), false, true, true, QOutputKind.UInt8, 7);
    }

    /// <summary>Rows wide enough for the im2col packer's 16-column stride-2 gather (and its row-end guard).</summary>
    [Theory]
    [MemberData(nameof(Variants))]
    public void WideStride2ConvsMatchReference(QVariant variant)
    {
        Check(variant, new QConv2dShape(1, 3, 9, 70, 8, 7, 7, 1, 2, 2, 3, 3, 3, 3), false, true, true, QOutputKind.UInt8, 21);
        Check(variant, new QConv2dShape(1, 5, 6, 65, 7, 3, 3, 1, 2, 2, 1, 1, 1, 1), true, true, false, QOutputKind.Int8, 22);
        Check(variant, new QConv2dShape(2, 4, 4, 64, 6, 1, 1, 1, 2, 2), false, false, true, QOutputKind.Int32, 23);
        Check(variant, new QConv2dShape(1, 2, 5, 97, 3, 2, 4, 1, 1, 2, 0, 2, 1, 1, 1, 2), true, false, false, QOutputKind.Float32, 24);
    }

    /// <summary>
    /// The direct depthwise kernel's row code paths: 3×3 (unrolled) and other sizes (tap loop), strides 1 / 2 (vector
    /// expansions) and 3 (counter walk), odd and even left pads (the stride-2 byte-pair split), widths around the
    /// 16-byte expansion and the vector tail, asymmetric pads and strides, every output kind.
    /// </summary>
    [Theory]
    [MemberData(nameof(Variants))]
    public void DepthwiseSweepMatchesReference(QVariant variant)
    {
        var kinds = Enum.GetValues<QOutputKind>();
        int seed = 300;
        foreach (var (kh, kw) in new[] { (3, 3), (1, 9), (5, 5), (3, 1), (7, 7) })
            foreach (int stride in new[] { 1, 2, 3 })
                foreach (int padLeft in new[] { 0, 1, 2, 3 })
                    foreach (int wdt in new[] { 7, 16, 17, 33, 40 })
                    {
                        seed++;
                        int c = 1 + seed % 5;
                        int h = 3 + seed % 7;
                        int padTop = Math.Min(seed % 3, kh - 1), padRight = Math.Min((seed / 3) % 3, kw - 1);
                        var s = new QConv2dShape(1 + seed % 2, c + 1, h + kh, wdt, c + 1, kh, kw, c + 1, stride, seed % 4 == 0 ? 1 : stride,
                            padTop, Math.Min(padLeft, kw - 1), seed % 2, padRight, 1 + seed % 7 / 5, seed % 11 == 0 ? 2 : 1);
                        if (s.OutH <= 0 || s.OutW <= 0) continue;
                        Check(variant, s, (seed & 1) != 0, (seed & 2) != 0, seed % 3 == 0, kinds[seed % kinds.Length], seed);
                    }
    }

    /// <summary>
    /// The depthwise shapes of DS-CNN (25×5 rows, narrower than a vector) and MobileNetV2 (stride 1 / 2, 7 to 56 wide),
    /// in the QDQ models' encodings (u8 activations, s8 symmetric weights), which take the x86 byte-plane kernel's
    /// VNNI / int16 3×3 paths (broadcast and two-load gathers), and with uint8 weights whose zero point pushes
    /// (w − w_zp) outside int8 (the int16 path even on AVX-VNNI).
    /// </summary>
    [Theory]
    [MemberData(nameof(Variants))]
    public void DepthwiseModelShapesMatchReference(QVariant variant)
    {
        int seed = 500;
        foreach (var (c, h, w, stride) in new[] { (64, 25, 5, 1), (24, 56, 56, 1), (16, 28, 28, 2), (32, 14, 14, 1), (40, 14, 14, 2), (96, 7, 7, 1), (8, 112, 112, 2) })
            foreach (var (xSigned, wSigned, perChannel) in new[] { (false, true, false), (true, true, false), (false, false, true) })
            {
                seed++;
                var s = new QConv2dShape(1, c, h, w, c, 3, 3, c, stride, stride, 1, 1, 1, 1);
                Check(variant, s, xSigned, wSigned, perChannel, seed % 3 == 0 ? QOutputKind.Int8 : QOutputKind.UInt8, seed);
            }
        Check(variant, new QConv2dShape(1, 12, 9, 30, 12, 3, 3, 12, 1, 1, 2, 2, 2, 2, 2, 2), false, true, false, QOutputKind.Float32, 600);
    }

    /// <summary>
    /// Stride-1 and stride-2 depthwise byte planes that the x86 kernel runs two output rows per step (shared loads and
    /// gathers, steps backwards so row spills are rewritten): heights 1–7 (odd: a last single row), widths 8–40 (one to three
    /// 16-output steps, spills into the next row and past the plane's end), pads 0–2, u8/s8, uint8 / int8 output,
    /// two threads, and stride-1 rows narrower than <see cref="QDepthwiseConvX86.FlatMaxWidth"/> on planes past
    /// <see cref="QDepthwiseConvX86.FlatMaxPlane"/> (smaller ones take the flat path); asserts that the native x86
    /// variants take the paired path.
    /// </summary>
    [Theory]
    [MemberData(nameof(Variants))]
    public void PairedDepthwiseRowsMatchReference(QVariant variant)
    {
        bool x86 = QVariants.IsNative(variant) && variant is QVariant.AvxVnni or QVariant.Avx2 or QVariant.Avx512 && System.Runtime.Intrinsics.X86.Avx2.IsSupported;
        int seed = 1400, paired = 0;
        foreach (int stride in new[] { 1, 2 })
        foreach (int h in new[] { 1, 2, 3, 4, 5, 7 })
            foreach (int wdt in new[] { 8, 9, 14, 15, 16, 17, 31, 32, 33, 40 })
            {
                seed++;
                int pad = stride == 1 ? seed % 3 : seed % 2, c = 1 + seed % 5;
                // output (h + 2) × wdt (stride 1), h × wdt (stride 2: one more input row on odd seeds)
                int inH = stride == 1 ? h + 4 - 2 * pad : 2 * (h - 1) + 3 - 2 * pad + seed % 2;
                var s = new QConv2dShape(1 + seed % 2, c, inH, stride * (wdt - 1) + 3 - 2 * pad, c, 3, 3, c, stride, stride, pad, pad, pad, pad);
                bool xSigned = (seed & 1) != 0;
                var output = seed % 4 == 0 ? QOutputKind.Int8 : QOutputKind.UInt8;
                var w = new byte[s.OutChannels * s.Depth];
                var x86Kernel = QDepthwiseConvX86.TryCreate(variant, s, new QDepthwiseConv(s, w, true, [], xSigned, output, 1).TapWeights, xSigned, output, 1);
                if (x86Kernel?.UsesPairedRows == true) paired++;
                Check(variant, s, xSigned, seed % 3 != 0, seed % 5 == 0, output, seed, threads: seed % 7 == 0 ? 2 : 1);
                Check(variant, s, xSigned, seed % 3 != 0, false, output, seed + 40, firstMultiplier: 0.9f);
            }
        // stride-1 planes narrower than FlatMaxWidth take the flat path unless past FlatMaxPlane: tall ones keep the pairs
        foreach (int wdt in new[] { 9, 12, 15 })
        {
            seed++;
            var s = new QConv2dShape(1, 2, QDepthwiseConvX86.FlatMaxPlane / wdt + 5, wdt, 2, 3, 3, 2, 1, 1, 1, 1, 1, 1);
            var output = seed % 2 == 0 ? QOutputKind.Int8 : QOutputKind.UInt8;
            var x86Kernel = QDepthwiseConvX86.TryCreate(variant, s, new QDepthwiseConv(s, new byte[s.OutChannels * s.Depth], true, [], false, output, 1).TapWeights, false, output, 1);
            if (x86) Assert.True(x86Kernel!.UsesPairedRows, $"{s}");
            if (x86Kernel?.UsesPairedRows == true) paired++;
            Check(variant, s, (seed & 1) != 0, true, false, output, seed);
        }
        if (x86) Assert.True(paired >= 75, $"{paired} paired planes");
    }

    /// <summary>
    /// Input rows around the x86 depthwise kernel's 32-byte row copies into the padded plane (31–34, 63–65, 96–97
    /// bytes: below one step, exact steps, an overlapping last step), stride 1 and 2, u8 and s8 inputs (the xor
    /// applied on the copy), pads 0–2; two threads on some.
    /// </summary>
    [Theory]
    [MemberData(nameof(Variants))]
    public void DepthwiseRowCopyWidthsMatchReference(QVariant variant)
    {
        bool x86 = QVariants.IsNative(variant) && variant is QVariant.AvxVnni or QVariant.Avx2 or QVariant.Avx512 && System.Runtime.Intrinsics.X86.Avx2.IsSupported;
        int seed = 1700;
        foreach (int inW in new[] { 31, 32, 33, 34, 63, 64, 65, 96, 97 })
            foreach (int stride in new[] { 1, 2 })
            {
                seed++;
                int pad = seed % 3, c = 2 + seed % 4;
                var s = new QConv2dShape(1, c, 5 + seed % 3, inW, c, 3, 3, c, stride, stride, pad, pad, pad, pad);
                if (s.OutH <= 0 || s.OutW <= 0) continue;
                // the native x86 variants run these through the row-copy (not the flat block-copy) plane
                if (x86) Assert.False(UsesFlatPlane(variant, s, (seed & 1) != 0, QOutputKind.UInt8) ?? true, $"{s}");
                Check(variant, s, (seed & 1) != 0, true, seed % 3 == 0, seed % 4 == 0 ? QOutputKind.Int8 : QOutputKind.UInt8, seed, threads: seed % 5 == 0 ? 2 : 1);
                Check(variant, s, (seed & 1) == 0, false, true, QOutputKind.Float32, seed + 50);
            }
    }

    /// <summary>True when the x86 depthwise kernel runs this shape as one flat plane (null: no x86 kernel for the variant).</summary>
    private static bool? UsesFlatPlane(QVariant variant, QConv2dShape s, bool xSigned, QOutputKind output)
    {
        var w = new byte[s.OutChannels * s.Depth];
        new Random(s.OutW * 31 + s.OutH).NextBytes(w);
        var reference = new QDepthwiseConv(s, w, true, [], xSigned, output, 1);
        return QDepthwiseConvX86.TryCreate(variant, s, reference.TapWeights, xSigned, output, 1)?.UsesFlatPlane;
    }

    /// <summary>
    /// Depthwise planes narrower than 16 outputs (the x86 flat plane path: per-vector gathers across rows, fused byte
    /// requant, the last partial 16-output step): every width 1–20 against every height 1–30, with 1–8 channels,
    /// batch 1–2, pads 0–2 (asymmetric), 3×3 / 3×1 / 3×2 / 3×4 filters, strides 1–2, dilation 2, with and without
    /// bias, every output kind, u8 / s8 data and weights; asserts that stride-1 3×3 convs with pads ≤ 1 narrower than
    /// <see cref="QDepthwiseConvX86.FlatMaxWidth"/> outputs take the flat path on the native x86 variants and wider ones do not.
    /// </summary>
    [Theory]
    [MemberData(nameof(Variants))]
    public void NarrowDepthwisePlanesMatchReference(QVariant variant)
    {
        var kinds = Enum.GetValues<QOutputKind>();
        bool x86 = QVariants.IsNative(variant) && variant is QVariant.AvxVnni or QVariant.Avx2 or QVariant.Avx512 && System.Runtime.Intrinsics.X86.Avx2.IsSupported;
        int seed = 900, flat = 0;
        for (int wdt = 1; wdt <= 20; wdt++)
            for (int h = 1; h <= 30; h++)
            {
                seed++;
                var (kh, kw) = (seed % 7) switch { 1 => (3, 1), 2 => (3, 2), 3 => (3, 4), _ => (3, 3) };
                int stride = seed % 5 == 0 ? 2 : 1, dil = seed % 13 == 0 ? 2 : 1;
                int padTop = seed % 3, padBottom = (seed / 3) % 3, padLeft = Math.Min((seed / 2) % 3, kw - 1), padRight = Math.Min((seed / 5) % 3, kw - 1);
                if (seed % 4 == 0) (padTop, padBottom, padLeft, padRight) = (1, 1, Math.Min(1, kw - 1), Math.Min(1, kw - 1));
                int c = 1 + seed % 8;
                var s = new QConv2dShape(1 + seed % 9 / 8, c, h, wdt, c, kh, kw, c, stride, stride, padTop, padLeft, padBottom, padRight, dil, dil);
                if (h + padTop + padBottom < (kh - 1) * dil + 1 || wdt + padLeft + padRight < (kw - 1) * dil + 1) continue;
                var output = kinds[seed % kinds.Length];
                bool xSigned = (seed & 1) != 0;
                if (x86)
                {
                    bool? uses = UsesFlatPlane(variant, s, xSigned, output);
                    Assert.NotNull(uses);
                    if (s.OutW >= QDepthwiseConvX86.FlatMaxWidth) Assert.False(uses);
                    if (s.OutW < QDepthwiseConvX86.FlatMaxWidth && kw == 3 && stride == 1 && dil == 1 && Math.Max(padLeft, padRight) <= 1) Assert.True(uses, $"{s}");
                    if (uses == true) flat++;
                }
                Check(variant, s, xSigned, (seed & 2) != 0, seed % 3 == 0, output, seed, withBias: seed % 6 != 5);
            }
        if (x86) Assert.True(flat > 150, $"{flat} flat planes");
        // the models' shapes: DS-CNN 25×5 (u8 / s8 symmetric weights, per-channel and uint8 weights), MobileNetV2 7×7
        foreach (var (c, h, w, output) in new[] { (64, 25, 5, QOutputKind.UInt8), (64, 25, 5, QOutputKind.Int8), (64, 25, 5, QOutputKind.Float32), (96, 7, 7, QOutputKind.UInt8), (40, 3, 3, QOutputKind.Int32) })
        {
            var s = new QConv2dShape(1, c, h, w, c, 3, 3, c, 1, 1, 1, 1, 1, 1);
            if (x86) Assert.True(UsesFlatPlane(variant, s, false, output));
            Check(variant, s, false, true, false, output, ++seed);
            Check(variant, s, true, false, true, output, ++seed, withBias: false);
        }
        // a narrow plane past FlatMaxPlane keeps the row path
        var tall = new QConv2dShape(1, 2, QDepthwiseConvX86.FlatMaxPlane / 5 + 3, 5, 2, 3, 3, 2, 1, 1, 1, 1, 1, 1);
        if (x86) Assert.False(UsesFlatPlane(variant, tall, false, QOutputKind.UInt8));
        Check(variant, tall, false, true, false, QOutputKind.UInt8, ++seed);
        // two threads (enough MACs to split the channels)
        if (QVariants.IsNative(variant))
        {
            var big = new QConv2dShape(1, 960, 7, 7, 960, 3, 3, 960, 1, 1, 1, 1, 1, 1);
            var ds = new QConv2dShape(2, 400, 25, 5, 400, 3, 3, 400, 1, 1, 1, 1, 1, 1);
            if (x86) Assert.True(UsesFlatPlane(variant, big, false, QOutputKind.UInt8) == true && UsesFlatPlane(variant, ds, true, QOutputKind.Int8) == true);
            Check(variant, big, false, true, true, QOutputKind.UInt8, 990, threads: 2);
            Check(variant, ds, true, true, false, QOutputKind.Int8, 991, threads: 2);
            Check(variant, ds, false, false, true, QOutputKind.Float32, 992, threads: 2, withBias: false);
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void LargeThreadedConvMatches(QVariant variant)
    {
        if (!QVariants.IsNative(variant)) return;
        Check(variant, new QConv2dShape(1, 32, 28, 28, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1), false, true, false, QOutputKind.UInt8, 11, threads: 2);
        Check(variant, new QConv2dShape(1, 64, 28, 28, 64, 3, 3, 64, 2, 2, 1, 1, 1, 1), false, true, false, QOutputKind.UInt8, 12, threads: 2);
        Check(variant, new QConv2dShape(1, 64, 14, 14, 128, 1, 1), true, true, false, QOutputKind.Int8, 13, threads: 2);
    }

    /// <summary>
    /// Convs that take <see cref="QShiftedConv"/> on the x86 variants (shifted views of the padded lane phase planes):
    /// channel counts not a multiple of the lane group, widths around the 16-lane tile, pads 0–3 (asymmetric), 5×5,
    /// 7×7, 3×1, 3×5, 1×1 with pads or stride 2, strides 2 and 3 (mixed), dilation 2 with and without stride, batch 2,
    /// uint8 weights at zero point 128, every output kind, two threads.
    /// </summary>
    /// <summary>
    /// Unpadded convs whose taps all read phase (0, 0) of the strides (1×1 stride 2 / 3, 3×3 dilation 2 stride 2): the
    /// shifted-view path skips the lane planes' zero-point fill, so the scratch is filled with garbage first; every
    /// output must still match the reference (the lanes past the written phase feed only dropped columns).
    /// </summary>
    [Theory]
    [MemberData(nameof(Variants))]
    public void PhaseZeroConvsIgnoreStaleScratch(QVariant variant)
    {
        var shapes = new[]
        {
            new QConv2dShape(1, 64, 56, 56, 20, 1, 1, 1, 2, 2),
            new QConv2dShape(2, 9, 13, 17, 7, 1, 1, 1, 2, 2),
            new QConv2dShape(1, 12, 11, 10, 13, 1, 1, 1, 3, 3),
            new QConv2dShape(1, 16, 15, 14, 10, 3, 3, 1, 2, 2, 0, 0, 0, 0, 2, 2),
            new QConv2dShape(1, 5, 7, 33, 6, 1, 1, 1, 2, 1),
        };
        int seed = 900;
        foreach (var s in shapes)
            foreach (bool xSigned in new[] { false, true })
            {
                seed++;
                var rng = new Random(seed);
                var x = new byte[s.Batch * s.InChannels * s.InPlane];
                var w = new byte[s.OutChannels * s.Depth];
                rng.NextBytes(x);
                rng.NextBytes(w);
                int xzp = xSigned ? rng.Next(-128, 128) : rng.Next(256);
                var mult = Enumerable.Range(0, s.OutChannels).Select(_ => (float)(rng.NextDouble() * 0.01 + 0.0005)).ToArray();
                var conv = new QConv2d(variant, s, w, true, [0], xSigned, QOutputKind.UInt8, 1);
                if (QVariants.IsNative(variant) && variant is QVariant.AvxVnni or QVariant.Avx2) Assert.True(conv.UsesShiftedViews);
                var scratch = new byte[conv.ScratchBytes];
                var expected = new byte[s.Batch * s.OutChannels * s.OutPlane];
                var actual = new byte[expected.Length];
                int[] wzp = [0];
                fixed (byte* xp = x)
                fixed (byte* wp = w)
                fixed (int* zp = wzp)
                fixed (float* mp = mult)
                fixed (byte* e = expected)
                fixed (byte* y = actual)
                fixed (byte* sp = scratch)
                {
                    var ep = QEpilogue.Requantize(mp, 1, 7, 0, 255);
                    QConv2dReference.Run(s, xp, xSigned, xzp, wp, true, zp, 0, QOutputKind.UInt8, e, ep);
                    for (int round = 0; round < 2; round++)
                    {
                        rng.NextBytes(scratch);
                        conv.Run(null, xp, xzp, y, ep, sp);
                        Assert.True(expected.AsSpan().SequenceEqual(actual), $"{variant} {s} x{(xSigned ? "s8" : "u8")} round {round}");
                    }
                }
            }
    }

    /// <summary>
    /// Strided shifted-view convs shaped like ResNet-18's downsampling convs, on which Avx2 keeps byte-pair lanes
    /// (two channels' bytes per lane, widened by vpmovzxbw in the tile): odd channel counts (the last pair's second
    /// byte from the zero-point row), row widths around the 16-lane phase split (vector steps plus a scalar rest, both
    /// column parities), stride 2 and 3, 1×1 phase-0 and 7×7, every output kind (int32 / float through the int32 tile,
    /// bytes through the requantized one), u8/s8, two threads.
    /// </summary>
    [Theory]
    [MemberData(nameof(Variants))]
    public void StridedShiftedViewsMatchReference(QVariant variant)
    {
        var shapes = new[]
        {
            new QConv2dShape(1, 33, 34, 35, 14, 3, 3, 1, 2, 2, 1, 1, 1, 1),
            new QConv2dShape(2, 17, 20, 33, 9, 3, 3, 1, 2, 2, 0, 1, 1, 0),
            new QConv2dShape(1, 16, 31, 48, 13, 3, 3, 1, 2, 2, 1, 1, 1, 1),
            new QConv2dShape(1, 5, 19, 48, 7, 1, 1, 1, 2, 2),
            new QConv2dShape(1, 4, 29, 40, 8, 7, 7, 1, 2, 2, 3, 3, 3, 3),
            new QConv2dShape(1, 9, 25, 50, 6, 3, 3, 1, 3, 3, 1, 2, 1, 0),
        };
        var kinds = Enum.GetValues<QOutputKind>();
        int seed = 1100;
        foreach (var s in shapes)
            foreach (bool xSigned in new[] { false, true })
            {
                seed++;
                if (QVariants.IsNative(variant) && variant is QVariant.AvxVnni or QVariant.Avx2)
                    Assert.True(new QConv2d(variant, s, new byte[s.OutChannels * s.Depth], true, [0], xSigned, QOutputKind.UInt8, 1).UsesShiftedViews, $"{s}");
                foreach (var kind in kinds)
                    Check(variant, s, xSigned, seed % 2 == 0, false, kind, seed * 7 + (int)kind, threads: seed % 3 == 0 ? 2 : 1);
            }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void ShiftedViewConvsMatchReference(QVariant variant)
    {
        var kinds = Enum.GetValues<QOutputKind>();
        // (shape, takes the shifted path on the x86 variants): few input channels stay on im2col; on Avx2 (int16 pairs)
        // also 3 channels under 5×5 / 7×7 (more than 1.3 lanes per dense k pair)
        var avx2Im2Col = new[] { new QConv2dShape(1, 3, 12, 15, 9, 5, 5, 1, 1, 1, 2, 2, 2, 2), new QConv2dShape(1, 3, 30, 33, 16, 7, 7, 1, 2, 2, 3, 3, 3, 3) };
        var shapes = new (QConv2dShape Shape, bool Shifted)[]
        {
            (new QConv2dShape(1, 16, 14, 14, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1), true),
            (new QConv2dShape(1, 7, 9, 17, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1), true),
            (new QConv2dShape(2, 8, 7, 7, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1), true),
            (new QConv2dShape(1, 13, 11, 16, 6, 3, 3, 1, 1, 1, 0, 2, 2, 0), true),
            (new QConv2dShape(1, 3, 12, 15, 9, 5, 5, 1, 1, 1, 2, 2, 2, 2), true),
            (new QConv2dShape(1, 9, 10, 33, 12, 3, 1, 1, 1, 1, 1, 0, 1, 0), true),
            (new QConv2dShape(1, 8, 6, 5, 8, 1, 1, 1, 1, 1, 1, 1, 1, 1), true),
            (new QConv2dShape(1, 6, 13, 19, 11, 3, 3, 1, 1, 1, 2, 2, 2, 2, 2, 2), true),
            (new QConv2dShape(1, 4, 5, 40, 5, 3, 3, 1, 1, 1, 0, 0, 0, 0), true),
            (new QConv2dShape(1, 1, 8, 8, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1), false),
            // strides: the phase planes
            (new QConv2dShape(1, 16, 14, 14, 20, 3, 3, 1, 2, 2, 1, 1, 1, 1), true),
            (new QConv2dShape(1, 12, 15, 17, 7, 3, 3, 1, 2, 2, 1, 1, 1, 1), true),
            (new QConv2dShape(1, 3, 30, 33, 16, 7, 7, 1, 2, 2, 3, 3, 3, 3), true),
            (new QConv2dShape(1, 3, 29, 29, 8, 3, 3, 1, 2, 2, 0, 1, 1, 0), true),
            (new QConv2dShape(2, 16, 14, 15, 12, 1, 1, 1, 2, 2), true),
            (new QConv2dShape(1, 8, 16, 19, 9, 3, 3, 1, 3, 2, 1, 2, 1, 0), true),
            (new QConv2dShape(1, 8, 13, 21, 6, 3, 5, 1, 1, 3, 2, 1, 0, 2, 2, 1), true),
            (new QConv2dShape(1, 9, 17, 17, 7, 3, 3, 1, 2, 2, 2, 2, 2, 2, 2, 2), true),
        };
        int seed = 700;
        foreach (var (s, shifted) in shapes)
            foreach (bool xSigned in new[] { false, true })
            {
                seed++;
                bool wSigned = seed % 3 != 0;
                if (QVariants.IsNative(variant) && variant is QVariant.AvxVnni or QVariant.Avx2)
                    Assert.Equal(shifted && !(variant == QVariant.Avx2 && avx2Im2Col.Contains(s)),
                        new QConv2d(variant, s, new byte[s.OutChannels * s.Depth], wSigned, [wSigned ? 0 : 128], xSigned, QOutputKind.UInt8, 1).UsesShiftedViews);
                Check(variant, s, xSigned, wSigned, false, kinds[seed % kinds.Length], seed);
                Check(variant, s, xSigned, wSigned, false, seed % 2 == 0 ? QOutputKind.UInt8 : QOutputKind.Int8, seed + 50);
                Check(variant, s, xSigned, wSigned, false, seed % 2 == 0 ? QOutputKind.Int8 : QOutputKind.UInt8, seed + 80, firstMultiplier: -0.6f);
            }
        if (QVariants.IsNative(variant))
        {
            Check(variant, new QConv2dShape(2, 32, 20, 21, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1), true, true, false, QOutputKind.UInt8, 799, threads: 2);
            Check(variant, new QConv2dShape(1, 32, 28, 27, 40, 3, 3, 1, 2, 2, 1, 1, 1, 1), false, true, false, QOutputKind.Int8, 798, threads: 2);
        }
    }

    /// <summary>
    /// GEMM convs (pointwise columns and im2col) with symmetric weights, whose last position panel is packed from the
    /// block's last 16 positions (overlapping the previous one) and whose partial last channel tile runs through the
    /// stage: positions just past a panel (17, 49, 125, 196), several position blocks with a tail (K = 1024), channel
    /// counts that leave 1–5 rows in the last tile, every output kind, per-tensor and per-channel multipliers, u8/s8,
    /// uint8 weights at zero point 128, two threads.
    /// </summary>
    [Theory]
    [MemberData(nameof(Variants))]
    public void GemmConvTailsMatchReference(QVariant variant)
    {
        var kinds = Enum.GetValues<QOutputKind>();
        var shapes = new[]
        {
            new QConv2dShape(1, 64, 25, 5, 64, 1, 1),                    // DS-CNN pointwise: 125 positions, 64 channels
            new QConv2dShape(1, 1, 49, 10, 64, 10, 4, 1, 2, 2, 4, 1, 5, 1), // DS-CNN stem (im2col)
            new QConv2dShape(1, 96, 14, 14, 160, 1, 1),                  // 196 positions, 160 channels
            new QConv2dShape(1, 160, 7, 7, 62, 1, 1),                    // 49 positions, 2 rows in the last tile
            new QConv2dShape(1, 13, 17, 1, 7, 1, 1),                     // 17 positions
            new QConv2dShape(1, 5, 3, 5, 11, 1, 1),                      // 15 positions: below one panel
            new QConv2dShape(2, 1024, 15, 20, 9, 1, 1),                  // two position blocks, the last with a tail
            new QConv2dShape(1, 3, 19, 23, 17, 3, 3, 1, 2, 2, 1, 1, 1, 1),  // im2col stride 2, few channels
            new QConv2dShape(1, 24, 9, 11, 29, 1, 1, 1, 2, 2),           // 1×1 stride 2 (im2col or shifted)
            // KW a multiple of 4: im2col by 4-byte lane copies from the padded image
            new QConv2dShape(1, 3, 20, 17, 10, 3, 8, 1, 1, 2, 1, 3, 0, 2),
            new QConv2dShape(2, 4, 9, 12, 8, 2, 4, 2, 1, 1, 0, 0, 1, 1),
            new QConv2dShape(1, 2, 13, 9, 6, 3, 4, 1, 2, 1, 1, 2, 1, 1, 2, 1),
        };
        Assert.True(new QIm2ColPacker(shapes[1]).UsesLaneCopies);
        Assert.False(new QIm2ColPacker(shapes[7]).UsesLaneCopies);
        int seed = 1200;
        foreach (var s in shapes)
            foreach (bool xSigned in new[] { false, true })
            {
                seed++;
                bool wSigned = seed % 3 != 0;
                Check(variant, s, xSigned, wSigned, false, seed % 2 == 0 ? QOutputKind.UInt8 : QOutputKind.Int8, seed);
                Check(variant, s, xSigned, wSigned, false, kinds[seed % kinds.Length], seed + 50);
                // weight zero points: per-position sums, no overlapped panel, no lane copies
                Check(variant, s, xSigned, wSigned, true, kinds[(seed + 1) % kinds.Length], seed + 150);
                // a multiplier above 0.5: the float clamp in the requantized tiles
                Check(variant, s, xSigned, wSigned, false, seed % 2 == 0 ? QOutputKind.Int8 : QOutputKind.UInt8, seed + 200, firstMultiplier: 0.75f);
                if (QVariants.IsNative(variant))
                    Check(variant, s, xSigned, wSigned, false, QOutputKind.UInt8, seed + 100, threads: 2);
            }
    }

    [Fact]
    public void BadGeometryThrows()
    {
        Assert.Throws<InvalidModelException>(() => new QConv2dShape(1, 3, 4, 4, 6, 3, 3, 2).Validated());
        Assert.Throws<InvalidModelException>(() => new QConv2dShape(1, 4, 2, 2, 4, 5, 5).Validated());
        Assert.Throws<InvalidModelException>(() => new QConv2dShape(1, 4, 8, 8, 4, 3, 3, 1, 0).Validated());
        Assert.Throws<InvalidModelException>(() => new QConv2d(QVariant.Scalar, new QConv2dShape(1, 4, 8, 8, 4, 3, 3), new byte[10], true, [], false, QOutputKind.UInt8, 1));
    }
}
