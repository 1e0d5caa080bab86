using System.Runtime.InteropServices;
using EdgeNet.Devices;
using EdgeNet.Devices.Camera;
using EdgeNet.Devices.Imaging;

namespace EdgeNet.Tests.Devices;

public class CameraTests
{
    private static byte[] Image(int width, int height, int seed)
    {
        var rgb = new byte[width * height * 3];
        new Random(seed).NextBytes(rgb);
        return rgb;
    }

    [Fact]
    public void FolderCameraReplaysImagesInNameOrderThenEnds()
    {
        using var dir = new TempFolder();
        var images = new[] { Image(8, 6, 1), Image(8, 6, 2), Image(8, 6, 3) };
        File.WriteAllBytes(dir.File("b.ppm"), Pnm.EncodePpm(images[1], 8, 6));
        File.WriteAllBytes(dir.File("a.ppm"), Pnm.EncodePpm(images[0], 8, 6));
        File.WriteAllBytes(dir.File("c.ppm"), Pnm.EncodePpm(images[2], 8, 6));
        File.WriteAllText(dir.File("notes.txt"), "ignored");
        using ICamera camera = new FolderCamera(dir.Path);
        Assert.Equal((8, 6, 144), (camera.Width, camera.Height, camera.FrameBytes));
        var frame = new byte[camera.FrameBytes];
        for (int i = 0; i < 3; i++)
        {
            Assert.True(camera.Capture(frame));
            Assert.Equal(images[i], frame);
            Assert.Equal("abc"[i] + ".ppm", Path.GetFileName(((FolderCamera)camera).CurrentFile));
        }
        Assert.False(camera.Capture(frame));
        Assert.Equal(3, camera.FrameCount);
    }

    [Fact]
    public void FolderCameraLoopsAndResizesOtherSizes()
    {
        using var dir = new TempFolder();
        var small = Image(8, 6, 4);
        var big = Image(13, 9, 5);
        File.WriteAllBytes(dir.File("0.ppm"), Pnm.EncodePpm(small, 8, 6));
        File.WriteAllBytes(dir.File("1.ppm"), Pnm.EncodePpm(big, 13, 9));
        using var camera = new FolderCamera(dir.Path, loop: true);
        var frame = new byte[8 * 6 * 3];
        var resized = new byte[8 * 6 * 3];
        RgbResize.Bilinear(big, 13, 9, resized, 8, 6);
        for (int i = 0; i < 5; i++)
        {
            Assert.True(camera.Capture(frame));
            Assert.Equal(i % 2 == 0 ? small : resized, frame);
        }
    }

    [Fact]
    public void BilinearResizeMatchesADoublePrecisionReference()
    {
        var src = Image(17, 11, 7);
        foreach (var (w, h) in new[] { (5, 3), (17, 11), (40, 29), (1, 1), (9, 22) })
        {
            var dst = new byte[w * h * 3];
            RgbResize.Bilinear(src, 17, 11, dst, w, h);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    for (int c = 0; c < 3; c++)
                    {
                        double fy = Math.Clamp((y + 0.5) * 11 / h - 0.5, 0, 10), fx = Math.Clamp((x + 0.5) * 17 / w - 0.5, 0, 16);
                        int y0 = (int)fy, x0 = (int)fx, y1 = Math.Min(y0 + 1, 10), x1 = Math.Min(x0 + 1, 16);
                        double P(int yy, int xx) => src[(yy * 17 + xx) * 3 + c];
                        double top = P(y0, x0) + (P(y0, x1) - P(y0, x0)) * (fx - x0), bottom = P(y1, x0) + (P(y1, x1) - P(y1, x0)) * (fx - x0);
                        double expected = top + (bottom - top) * (fy - y0);
                        Assert.InRange(dst[(y * w + x) * 3 + c], expected - 1, expected + 1);
                    }
        }
    }

    [Fact]
    public void FolderCameraGivesSpecificErrors()
    {
        using var dir = new TempFolder();
        Assert.Throws<DeviceException>(() => new FolderCamera(dir.File("absent")));
        File.WriteAllBytes(dir.File("photo.png"), [0x89, (byte)'P', (byte)'N', (byte)'G']);
        var e = Assert.Throws<DeviceException>(() => new FolderCamera(dir.Path));
        Assert.Contains("convert them to PPM", e.Message, StringComparison.Ordinal);
        File.WriteAllBytes(dir.File("a.ppm"), Pnm.EncodePpm(Image(4, 4, 1), 4, 4));
        File.WriteAllText(dir.File("b.ppm"), "P6 100000 100000 255\n");
        using var camera = new FolderCamera(dir.Path);
        var frame = new byte[4 * 4 * 3];
        Assert.True(camera.Capture(frame));
        Assert.Throws<ImageFormatException>(() => camera.Capture(frame));
    }

    [Fact]
    public void FolderCameraPacesFramesWhenAsked()
    {
        using var dir = new TempFolder();
        for (int i = 0; i < 4; i++) File.WriteAllBytes(dir.File($"{i}.ppm"), Pnm.EncodePpm(Image(4, 4, i), 4, 4));
        using var camera = new FolderCamera(dir.Path, framesPerSecond: 20);
        var frame = new byte[48];
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (camera.Capture(frame)) { }
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(3 * 50 - 15), $"4 frames at 20 fps took {watch.Elapsed.TotalMilliseconds} ms");
    }

    [Fact]
    public void V4l2StructuresAndIoctlNumbersMatchTheKernelAbi()
    {
        Assert.Equal(104, Marshal.SizeOf<V4l2.Capability>());
        Assert.Equal(48, Marshal.SizeOf<V4l2.PixFormat>());
        Assert.Equal(208, Marshal.SizeOf<V4l2.Format>());
        Assert.Equal(20, Marshal.SizeOf<V4l2.RequestBuffersArg>());
        Assert.Equal(88, Marshal.SizeOf<V4l2.Buffer>());
        Assert.Equal((nuint)0x80685600, V4l2.QueryCap);
        Assert.Equal((nuint)0xC0D05605, V4l2.SetFormat);
        Assert.Equal((nuint)0xC0145608, V4l2.RequestBuffers);
        Assert.Equal((nuint)0xC0585609, V4l2.QueryBuffer);
        Assert.Equal((nuint)0xC058560F, V4l2.QueueBuffer);
        Assert.Equal((nuint)0xC0585611, V4l2.DequeueBuffer);
        Assert.Equal((nuint)0x40045612, V4l2.StreamOn);
        Assert.Equal((nuint)0x40045613, V4l2.StreamOff);
        Assert.Equal(0x56595559u, V4l2.PixYuyv);
        Assert.Equal("MJPG", V4l2.FourCcName(V4l2.FourCc("MJPG")));
    }

    [Fact]
    public void V4l2GivesClearErrorsWithoutACamera()
    {
        var missing = Assert.Throws<DeviceException>(() => new V4l2Camera("/dev/video-edgenet-absent"));
        Assert.Contains("/dev/video-edgenet-absent cannot be opened", missing.Message, StringComparison.Ordinal);
        var notVideo = Assert.Throws<DeviceException>(() => new V4l2Camera("/dev/null"));
        Assert.Contains("/dev/null is not a V4L2 device", notVideo.Message, StringComparison.Ordinal);
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("fake"), "");
        Assert.Throws<DeviceException>(() => new V4l2Camera(dir.File("fake")));
        if (Directory.GetFiles("/dev", "video*").Length == 0)
        {
            var none = Assert.Throws<DeviceException>(() => new V4l2Camera("/dev/video0"));
            Assert.Contains("no /dev/video* device", none.Message, StringComparison.Ordinal);
        }
    }
}
