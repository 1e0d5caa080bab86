using EdgeNet.Data;
using EdgeNet.Training.Metrics;

namespace EdgeNet.Tests.Data;

public class ImageFileTests
{
    // 16x8 JPEG (quality 95): left half red (220,30,0), right half blue (0,30,200). Made with torchvision.io.encode_jpeg.
    private const string RedBlueJpeg = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAIBAQEBAQIBAQECAgICAgQDAgICAgUEBAMEBgUGBgYFBgYGBwkIBgcJBwYGCAsICQoKCgoKBggLDAsKDAkKCgr/2wBDAQICAgICAgUDAwUKBwYHCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgr/wAARCAAIABADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwD5Lr5Toor9W+gP/wA1H/3J/wDu0f0R9OT/AJp//ub/APdY/9k=";

    private static byte[] GreyPng(int w, int h, Func<int, int, byte> f)
    {
        var px = new byte[w * h];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) px[y * w + x] = f(x, y);
        return PngWriter.EncodeGrey(px, w, h);
    }

    private static byte[] RgbPng(int w, int h, Func<int, int, int, byte> f)
    {
        var px = new byte[w * h * 3];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) for (int c = 0; c < 3; c++) px[(y * w + x) * 3 + c] = f(x, y, c);
        return PngWriter.EncodeRgb(px, w, h);
    }

    [Fact]
    public void PngDecodesExactlyToUnitRange()
    {
        var grey = ImageFile.Decode(GreyPng(5, 3, (x, y) => (byte)(x * 50 + y)));
        Assert.Equal((5, 3, 1), (grey.Width, grey.Height, grey.Channels));
        Assert.Equal((4 * 50 + 2) / 255f, grey.Pixels[2 * 5 + 4], 5);
        var rgb = ImageFile.Decode(RgbPng(4, 2, (x, y, c) => (byte)(c * 100 + x)));
        Assert.Equal(3, rgb.Channels);
        Assert.Equal((200 + 3) / 255f, rgb.Pixels[(1 * 4 + 3) * 3 + 2], 5);
    }

    [Fact]
    public void SameSizeIsIdentityAndGreyFillsEveryChannel()
    {
        var img = ImageFile.Decode(GreyPng(4, 3, (x, y) => (byte)(x * 60 + y * 5)));
        var chw = new float[3 * 3 * 4];
        ImageTransform.ToUnitTensor(img, new ImageSpec(3, 3, 4), chw);
        for (int c = 0; c < 3; c++)
            Assert.Equal(img.Pixels, chw.AsSpan(c * 12, 12).ToArray()); // exact: every sample lands on a source pixel
    }

    [Fact]
    public void BilinearUsesHalfPixelCentres()
    {
        // 2x1 → 4x1: source x = (i + 0.5)/2 − 0.5 = −0.25, 0.25, 0.75, 1.25 → clamped 0, 0.25, 0.75, 1.
        var img = new DecodedImage(2, 1, 1, [0f, 1f]);
        var up = new float[4];
        ImageTransform.ToUnitTensor(img, new ImageSpec(1, 1, 4), up);
        Assert.Equal([0f, 0.25f, 0.75f, 1f], up);
        // 4x1 → 2x1: source x = 0.5, 2.5: averages of neighbours.
        var down = new float[2];
        ImageTransform.ToUnitTensor(new DecodedImage(4, 1, 1, [0f, 1f, 2f, 3f]), new ImageSpec(1, 1, 2), down);
        Assert.Equal([0.5f, 2.5f], down);
    }

    [Fact]
    public void RgbIntoOneChannelIsLuminanceAndNormalizeApplies()
    {
        var img = new DecodedImage(1, 1, 3, [1f, 0.5f, 0f]);
        var t = new float[1];
        string path = Path.Combine(TestFiles.TempDir("img"), "p.png");
        File.WriteAllBytes(path, PngWriter.EncodeRgb([255, 128, 0], 1, 1));
        ImageFile.Load(path, new ImageSpec(1, 1, 1, Mean: 0.5f, Std: 0.25f), t);
        float lum = 0.299f + 0.587f * 128 / 255f;
        Assert.Equal((lum - 0.5f) / 0.25f, t[0], 5);
        ImageTransform.ToUnitTensor(img, new ImageSpec(1, 1, 1), t);
        Assert.Equal(0.299f + 0.587f * 0.5f, t[0], 6);
    }

    [Fact]
    public void JpegAndBmpDecode()
    {
        var jpeg = ImageFile.Decode(Convert.FromBase64String(RedBlueJpeg), "rb.jpg");
        Assert.Equal((16, 8, 3), (jpeg.Width, jpeg.Height, jpeg.Channels));
        Assert.InRange(jpeg.Pixels[(4 * 16 + 2) * 3 + 0], 0.75f, 0.95f);  // red on the left
        Assert.InRange(jpeg.Pixels[(4 * 16 + 2) * 3 + 2], 0f, 0.12f);
        Assert.InRange(jpeg.Pixels[(4 * 16 + 13) * 3 + 2], 0.68f, 0.88f); // blue on the right
        Assert.InRange(jpeg.Pixels[(4 * 16 + 13) * 3 + 0], 0f, 0.12f);

        var rgb = new byte[] { 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180 };
        var bmp = ImageFile.Decode(TestFiles.Bmp24(rgb, 3, 2), "x.bmp");
        Assert.Equal((3, 2, 3), (bmp.Width, bmp.Height, bmp.Channels));
        for (int i = 0; i < rgb.Length; i++) Assert.Equal(rgb[i] / 255f, bmp.Pixels[i], 5);
    }

    [Fact]
    public void EveryTruncationIsAnImageFormatException()
    {
        var png = RgbPng(7, 5, (x, y, c) => (byte)(x * 30 + y * 7 + c));
        var jpeg = Convert.FromBase64String(RedBlueJpeg);
        var bmp = TestFiles.Bmp24(new byte[4 * 3 * 3], 4, 3);
        foreach (var file in new[] { png, jpeg, bmp })
        {
            ImageFile.Decode(file); // the whole file is fine
            for (int n = 0; n < file.Length; n++)
                Assert.Throws<ImageFormatException>(() => ImageFile.Decode(file[..n], $"cut at {n}"));
        }
    }

    [Fact]
    public void EveryPngByteFlipIsDetected()
    {
        var png = RgbPng(6, 4, (x, y, c) => (byte)(x * 40 + y * 9 + c));
        for (int i = 0; i < png.Length; i++)
        {
            var bad = (byte[])png.Clone();
            bad[i] ^= 0x10;
            Assert.Throws<ImageFormatException>(() => ImageFile.Decode(bad, $"flip at {i}"));
        }
    }

    [Fact]
    public void GarbageAndHugeImagesAreRefused()
    {
        Assert.Throws<ImageFormatException>(() => ImageFile.Decode("not an image at all"u8.ToArray()));
        Assert.Throws<ImageFormatException>(() => ImageFile.Decode([]));
        Assert.Throws<ImageFormatException>(() => ImageFile.Decode("/no/such/file.png"));
        // A valid-CRC PNG claiming 60000 x 60000 pixels: refused from its header, nothing allocated for it.
        var png = GreyPng(1, 1, (_, _) => 0);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), 60000);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), 60000);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(29), Crc32.Compute(png.AsSpan(12, 17)));
        Assert.Contains("out of range", Assert.Throws<ImageFormatException>(() => ImageFile.Decode(png)).Message);
    }

    [Fact]
    public void SizeAndNormalizeOptionsParse()
    {
        Assert.True(ImageSpec.TryParseSize("48x192", out int h, out int w));
        Assert.Equal((48, 192), (h, w));
        Assert.True(ImageSpec.TryParseNormalize("0.5,0.25", out float m, out float s));
        Assert.Equal((0.5f, 0.25f), (m, s));
        foreach (var bad in new[] { "48", "x48", "48x", "0x5", "-3x4", "ax4", "4x4x4" })
            Assert.False(ImageSpec.TryParseSize(bad, out _, out _), bad);
        foreach (var bad in new[] { "0.5", "0.5,0", "0.5,-1", ",1", "a,b", "0.5,NaN" })
            Assert.False(ImageSpec.TryParseNormalize(bad, out _, out _), bad);
    }
}
