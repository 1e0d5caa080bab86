using EdgeNet.Kernels.Quantized;

namespace EdgeNet.Tests.Kernels.Quantized;

/// <summary>
/// The offset-table gather of <see cref="QIm2ColPacker"/> (small im2col, output rows ≤ 16 wide) writes exactly the
/// bytes of the run-by-run gather: every k row, position ranges that start and end mid-row, strides, dilations,
/// asymmetric pads, groups. The convs themselves are checked against the reference in QConv2dKernelTests.
/// </summary>
public class QIm2ColPackerTests
{
    private static IEnumerable<QConv2dShape> Shapes()
    {
        yield return new(1, 1, 49, 10, 64, 10, 4, StrideH: 2, StrideW: 2, PadTop: 5, PadLeft: 1, PadBottom: 5, PadRight: 1); // DS-CNN's first conv
        yield return new(1, 3, 9, 11, 5, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1);
        yield return new(1, 4, 16, 16, 8, 3, 3, StrideH: 2, StrideW: 2, PadTop: 0, PadLeft: 1, PadBottom: 1, PadRight: 0);
        yield return new(1, 6, 11, 9, 6, 3, 3, Group: 2, PadTop: 2, PadLeft: 2, PadBottom: 2, PadRight: 2, DilationH: 2, DilationW: 2);
        yield return new(1, 2, 9, 8, 3, 3, 5, StrideH: 1, StrideW: 2, PadTop: 0, PadLeft: 2, PadBottom: 3, PadRight: 1, DilationH: 2);
        yield return new(1, 5, 7, 7, 4, 7, 7, StrideH: 3, StrideW: 3, PadTop: 3, PadLeft: 3, PadBottom: 3, PadRight: 3);
        yield return new(1, 3, 1, 13, 4, 1, 3, PadLeft: 1, PadRight: 1);
        yield return new(1, 1, 5, 1, 2, 3, 1, PadTop: 1, PadBottom: 1);
    }

    [Fact]
    public unsafe void OffsetTableMatchesRunGather()
    {
        int shapes = 0;
        foreach (var s in Shapes())
        {
            var table = new QIm2ColPacker(s);
            var runs = new QIm2ColPacker(s, allowTable: false);
            Assert.True(table.UsesTable, $"{s} should use the table");
            Assert.False(runs.UsesTable);
            var rng = new Random(shapes++);
            var x = new byte[s.InPerGroup * s.InPlane];
            rng.NextBytes(x);
            int positions = s.OutPlane;
            byte pad = (byte)rng.Next(256);
            var expected = new byte[positions];
            var actual = new byte[positions];
            fixed (byte* src = x)
            fixed (byte* e = expected)
            fixed (byte* a = actual)
                for (int k = 0; k < s.Depth; k++)
                    foreach (var (pos0, count) in new[] { (0, positions), (Math.Min(positions - 1, 3), Math.Max(1, positions / 2)), (positions - 1, 1) })
                    {
                        Array.Fill(expected, (byte)0xA5);
                        Array.Fill(actual, (byte)0x5A);
                        runs.FillRow(src, k, pos0, count, pad, e);
                        table.FillRow(src, k, pos0, count, pad, a);
                        Assert.True(expected.AsSpan(0, count).SequenceEqual(actual.AsSpan(0, count)), $"{s}: k {k}, positions {pos0}+{count}");
                    }
        }
    }

    /// <summary>
    /// Stride-2 rows gathered 16 outputs a step, the rest as one step over the last 16 outputs (even bytes, or the odd
    /// bytes of the 32 ending at the row's end): widths 32–80 with every left pad 0–3 and 3- / 7-wide filters, whole
    /// planes and partial runs, against the im2col definition.
    /// </summary>
    [Fact]
    public unsafe void Stride2RunGatherMatchesDefinition()
    {
        int seed = 0;
        foreach (int inW in new[] { 32, 33, 47, 56, 63, 80 })
            foreach (int kw in new[] { 3, 7 })
                for (int padLeft = 0; padLeft <= Math.Min(3, kw - 1); padLeft++)
                {
                    int padRight = (padLeft + seed) % kw;
                    var s = new QConv2dShape(1, 2, 5, inW, 4, 3, kw, StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: padLeft, PadBottom: 1, PadRight: padRight);
                    var packer = new QIm2ColPacker(s, allowTable: false);
                    var rng = new Random(seed++);
                    var x = new byte[s.InPerGroup * s.InPlane];
                    rng.NextBytes(x);
                    byte pad = (byte)rng.Next(256);
                    int positions = s.OutPlane, ow1 = s.OutW;
                    var actual = new byte[positions];
                    fixed (byte* src = x)
                    fixed (byte* a = actual)
                        for (int k = 0; k < s.Depth; k++)
                        {
                            int c = k / (s.KH * s.KW), kh = k % (s.KH * s.KW) / s.KW, kx = k % s.KW;
                            foreach (var (pos0, count) in new[] { (0, positions), (1, positions - 1), (ow1 / 2, ow1 + 3) })
                            {
                                Array.Fill(actual, (byte)0x5A);
                                packer.FillRow(src, k, pos0, count, pad, a);
                                for (int i = 0; i < count; i++)
                                {
                                    int p = pos0 + i, ih = p / ow1 * 2 - 1 + kh, iw = p % ow1 * 2 - padLeft + kx;
                                    byte want = (uint)ih < (uint)s.InH && (uint)iw < (uint)inW ? x[c * s.InPlane + ih * inW + iw] : pad;
                                    Assert.True(want == actual[i], $"{s}: k {k}, positions {pos0}+{count}, output {p}");
                                }
                            }
                        }
                }
    }

    [Fact]
    public void LargeOrWideIm2ColKeepsTheRunGather()
    {
        Assert.False(new QIm2ColPacker(new QConv2dShape(1, 3, 224, 224, 32, 3, 3, StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1)).UsesTable);
        Assert.False(new QIm2ColPacker(new QConv2dShape(1, 64, 14, 14, 64, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1)).UsesTable);
    }
}
