using EdgeNet.Devices.Imaging;

namespace EdgeNet.Tests.Devices;

public class YuyvToRgbTests
{
    [Fact]
    public void VectorizedEqualsReferenceOverOddWidthsHeightsAndPaddedStrides()
    {
        var rng = new Random(601);
        for (int width = 1; width <= 75; width++)
            foreach (int height in new[] { 1, 2, 3, 7 })
                foreach (int padding in new[] { 0, 1, 6, 17 })
                {
                    int stride = YuyvToRgb.MinStride(width) + padding;
                    var yuyv = new byte[stride * height];
                    rng.NextBytes(yuyv);
                    int bytes = width * height * 3;
                    var expected = new byte[bytes + 32];
                    var actual = new byte[bytes + 32];
                    expected.AsSpan().Fill(0xA5);
                    actual.AsSpan().Fill(0xA5);
                    YuyvToRgb.ConvertReference(yuyv, width, height, stride, expected);
                    YuyvToRgb.Convert(yuyv, width, height, stride, actual);
                    Assert.True(expected.AsSpan().SequenceEqual(actual), $"width {width}, height {height}, stride {stride}: first difference at byte {expected.AsSpan().CommonPrefixLength(actual)}");
                    Assert.All(actual[bytes..], b => Assert.Equal(0xA5, b)); // nothing written past the frame
                }
    }

    [Fact]
    public void VectorizedEqualsReferenceForEveryYuvTriple()
    {
        // each row: one (U, V) pair, Y = 0..255 over 256 pixels; 256 rows per U → all 2^24 (Y, U, V) triples
        const int width = 256, rows = 256;
        int stride = YuyvToRgb.MinStride(width);
        var yuyv = new byte[stride * rows];
        var expected = new byte[width * rows * 3];
        var actual = new byte[width * rows * 3];
        for (int u = 0; u < 256; u++)
        {
            for (int v = 0; v < rows; v++)
                for (int m = 0; m < width / 2; m++)
                {
                    int at = v * stride + 4 * m;
                    yuyv[at] = (byte)(2 * m);
                    yuyv[at + 1] = (byte)u;
                    yuyv[at + 2] = (byte)(2 * m + 1);
                    yuyv[at + 3] = (byte)v;
                }
            YuyvToRgb.ConvertReference(yuyv, width, rows, stride, expected);
            YuyvToRgb.Convert(yuyv, width, rows, stride, actual);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"U = {u}: first difference at byte {expected.AsSpan().CommonPrefixLength(actual)}");
            // the reference against the real-valued BT.601 limited-range equations: within one step everywhere
            double worst = 0;
            for (int v = 0; v < rows; v++)
                for (int y = 0; y < width; y++)
                {
                    double c = 255.0 / 219 * (y - 16), d = 255.0 / 224 * (u - 128), e = 255.0 / 224 * (v - 128);
                    double r = c + 1.402 * e, g = c - 0.344136 * d - 0.714136 * e, b = c + 1.772 * d;
                    int at = (v * width + y) * 3;
                    worst = Math.Max(worst, Math.Abs(expected[at] - Math.Clamp(r, 0, 255)));
                    worst = Math.Max(worst, Math.Abs(expected[at + 1] - Math.Clamp(g, 0, 255)));
                    worst = Math.Max(worst, Math.Abs(expected[at + 2] - Math.Clamp(b, 0, 255)));
                }
            Assert.True(worst <= 1.0, $"U = {u}: the integer formula is {worst:F3} away from the real-valued one");
        }
    }

    [Theory]
    [InlineData(16, 128, 128, 0, 0, 0)]        // black
    [InlineData(235, 128, 128, 255, 255, 255)] // white
    [InlineData(126, 128, 128, 128, 128, 128)] // (298 * 110 + 128) >> 8 = 128
    [InlineData(81, 90, 240, 255, 0, 0)]       // BT.601 red (Y 81, Cb 90, Cr 240)
    [InlineData(145, 54, 34, 0, 255, 0)]       // green
    [InlineData(41, 240, 110, 0, 0, 255)]      // blue
    public void KnownColours(int y, int u, int v, int r, int g, int b)
    {
        var rgb = new byte[6];
        YuyvToRgb.Convert(new[] { (byte)y, (byte)u, (byte)y, (byte)v }, 2, 1, 4, rgb);
        Assert.InRange(rgb[0], r - 1, r + 1);
        Assert.InRange(rgb[1], g - 1, g + 1);
        Assert.InRange(rgb[2], b - 1, b + 1);
        Assert.Equal(rgb.AsSpan(0, 3).ToArray(), rgb.AsSpan(3, 3).ToArray());
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        var rgb = new byte[300];
        Assert.Throws<ArgumentOutOfRangeException>(() => YuyvToRgb.Convert(new byte[100], 10, 2, 19, rgb)); // stride < 20
        Assert.Throws<ArgumentException>(() => YuyvToRgb.Convert(new byte[39], 10, 2, 20, rgb));             // short input
        Assert.Throws<ArgumentException>(() => YuyvToRgb.Convert(new byte[40], 10, 2, 20, new byte[59]));    // short output
        Assert.Throws<ArgumentOutOfRangeException>(() => YuyvToRgb.Convert(new byte[40], 0, 2, 20, rgb));
    }
}
