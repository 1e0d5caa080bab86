using System.Text;
using EdgeNet.Devices;
using EdgeNet.Devices.Imaging;

namespace EdgeNet.Tests.Devices;

public class PnmTests
{
    private static byte[] File(string header, byte[] pixels) => [.. Encoding.ASCII.GetBytes(header), .. pixels];

    [Fact]
    public void P6RoundTripsAndP5IsReplicatedToRgb()
    {
        var rgb = new byte[5 * 3 * 3];
        new Random(6).NextBytes(rgb);
        var decoded = Pnm.DecodeRgb24(Pnm.EncodePpm(rgb, 5, 3), out int w, out int h);
        Assert.Equal((5, 3), (w, h));
        Assert.Equal(rgb, decoded);

        var gray = Pnm.DecodeRgb24(File("P5 # a comment\n3 # width\n1\n255\n", [0, 128, 255]), out w, out h);
        Assert.Equal((3, 1), (w, h));
        Assert.Equal(new byte[] { 0, 0, 0, 128, 128, 128, 255, 255, 255 }, gray);
    }

    [Fact]
    public void OtherMaxValuesAreScaledTo255()
    {
        Assert.Equal(new byte[] { 0, 128, 255 }, Pnm.DecodeRgb24(File("P6 1 1 100\n", [0, 50, 100]), out _, out _));
        // 16-bit big-endian samples
        Assert.Equal(new byte[] { 0, 128, 255 }, Pnm.DecodeRgb24(File("P6 1 1 65535\n", [0, 0, 0x80, 0x00, 0xFF, 0xFF]), out _, out _));
    }

    [Theory]
    [InlineData("P6 100000 100000 255\n", "size")]          // 10^10 pixels
    [InlineData("P6 32768 32768 255\n", "size")]            // each side allowed, the product is not
    [InlineData("P6 99999999999999999999 1 255\n", "too large")]
    [InlineData("P6 0 5 255\n", "size")]
    [InlineData("P6 5 5 0\n", "maxval")]
    [InlineData("P6 5 5 70000\n", "maxval")]
    [InlineData("P6 4 4 255\n", "truncated")]               // header fine, no pixels
    [InlineData("P6 4", "height is not a number")]        // the pixel bytes follow the width
    [InlineData("P6 4 x 255\n", "not a number")]
    [InlineData("P6 1 1 255", "whitespace")]
    [InlineData("P3 1 1 255\n0 0 0\n", "P6 or P5")]         // ASCII PPM
    [InlineData("", "P6 or P5")]
    public void HostileHeadersGiveImageFormatErrors(string header, string mentions)
    {
        var e = Assert.Throws<ImageFormatException>(() => Pnm.DecodeRgb24(File(header, [1, 2, 3]), out _, out _));
        Assert.Contains(mentions, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HeaderEndingEarlySaysSo()
    {
        var e = Assert.Throws<ImageFormatException>(() => Pnm.ReadHeader("P6 4 # no height"u8));
        Assert.Contains("ends before the height", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TruncatedPixelDataIsReportedWithSizes()
    {
        var full = Pnm.EncodePpm(new byte[4 * 4 * 3], 4, 4);
        var e = Assert.Throws<ImageFormatException>(() => Pnm.ReadHeader(full.AsSpan(0, full.Length - 1), "cut.ppm"));
        Assert.Contains("cut.ppm", e.Message, StringComparison.Ordinal);
        Assert.Contains("needs 48 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RandomMutationsOnlyRaiseImageFormatErrors()
    {
        var rng = new Random(5);
        var valid = Pnm.EncodePpm(new byte[7 * 5 * 3], 7, 5);
        int rejected = 0;
        for (int n = 0; n < 3000; n++)
        {
            var bytes = valid.AsSpan(0, rng.Next(valid.Length + 1)).ToArray();
            for (int k = rng.Next(1, 4); k > 0 && bytes.Length > 0; k--) bytes[rng.Next(Math.Min(bytes.Length, 16))] = (byte)rng.Next(256);
            try { Pnm.DecodeRgb24(bytes, out _, out _); }
            catch (ImageFormatException) { rejected++; }
        }
        Assert.InRange(rejected, 100, 3000);
    }
}
