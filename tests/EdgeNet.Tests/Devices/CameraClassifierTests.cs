using System.Globalization;
using EdgeNet.Devices.Gpio;
using EdgeNet.Devices.Imaging;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Onnx;
using EdgeNet.Samples.CameraClassifier;
using EdgeNet.Tests.RealModels;
using EdgeNet.Tests.Support;

namespace EdgeNet.Tests.Devices;

/// <summary>The CameraClassifier sample end to end on the folder stand-in with the real ch_ppocr_mobile_v2.0_cls model.</summary>
public class CameraClassifierTests
{
    private static string Model => RepoPaths.Model("ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx");
    private const int W = 192, H = 48;

    /// <summary>Dark "glyph" blocks on a light background, heavier at the top or at the bottom, plus noise.</summary>
    private static byte[] TextLike(int width, int height, int seed, bool flipped)
    {
        var rng = new Random(seed);
        var rgb = new byte[width * height * 3];
        for (int i = 0; i < rgb.Length; i++) rgb[i] = (byte)(225 + rng.Next(30));
        for (int x = 6; x + 8 < width; x += rng.Next(9, 15))
        {
            int top = height / 5 + rng.Next(3), bottom = height * 3 / 5 + rng.Next(3);
            if (rng.Next(3) == 0) top = height / 12; // ascenders
            for (int y = top; y < bottom; y++)
                for (int dx = 0; dx < 6; dx++)
                {
                    int yy = flipped ? height - 1 - y : y, xx = flipped ? width - 1 - (x + dx) : x + dx;
                    rgb[(yy * width + xx) * 3] = rgb[(yy * width + xx) * 3 + 1] = rgb[(yy * width + xx) * 3 + 2] = (byte)rng.Next(40);
                }
        }
        return rgb;
    }

    /// <summary>The model run directly: (x / 255 - 0.5) / 0.5 in NCHW, through Session.Run(inputs).</summary>
    private static float[] Direct(Session session, byte[] rgb)
    {
        var x = new float[3 * H * W];
        for (int p = 0; p < H * W; p++)
            for (int c = 0; c < 3; c++) x[c * H * W + p] = (rgb[3 * p + c] / 255f - 0.5f) / 0.5f;
        return session.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([1, 3, H, W], x) })[0].ToFloatArray();
    }

    [Fact]
    public void TopClassPerFrameEqualsADirectSessionRun()
    {
        using var dir = new TempFolder();
        var frames = new List<byte[]>();
        for (int i = 0; i < 6; i++)
        {
            var rgb = TextLike(W, H, 100 + i, flipped: i % 2 == 1);
            frames.Add(rgb);
            File.WriteAllBytes(dir.File($"frame{i}.ppm"), Pnm.EncodePpm(rgb, W, H));
        }
        string log = dir.File("led.txt");
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter();
        int code = CameraClassifierApp.Run([Model, "--folder", dir.Path, "--input-size", "48x192", "--mean", "0.5", "--std", "0.5", "--top", "2",
            "--gpio-file", log, "--gpio-class", "1", "--gpio-threshold", "0.5"], stdout, stderr);
        Assert.True(code == 0, stderr.ToString());
        var lines = stdout.ToString().TrimEnd('\n').Split('\n');
        Assert.Equal("model: ch_ppocr_mobile_v2.0_cls_infer.onnx, input x 1x3x48x192 (NCHW), 2 classes", lines[0]);
        Assert.StartsWith("camera: folder ", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("6 frames, mean inference ", lines[^1], StringComparison.Ordinal);

        var options = new SessionOptions();
        options.InputShapes["x"] = [1, 3, H, W];
        var session = new Session(OnnxImporter.Load(Model), options);
        var expectedLed = new List<bool>();
        for (int i = 0; i < frames.Count; i++)
        {
            var probabilities = Direct(session, frames[i]);
            int top1 = probabilities[1] > probabilities[0] ? 1 : 0;
            // "frame i frameI.ppm: C=P.PPPP C=P.PPPP (T ms)"
            var fields = lines[2 + i].Split(' ');
            Assert.Equal($"frame{i}.ppm:", fields[2]);
            var printed = fields[3].Split('=');
            Assert.Equal(top1.ToString(CultureInfo.InvariantCulture), printed[0]);
            Assert.InRange(float.Parse(printed[1], CultureInfo.InvariantCulture), probabilities[top1] - 6e-5f, probabilities[top1] + 6e-5f);
            expectedLed.Add(top1 == 1 && probabilities[1] >= 0.5f);
        }
        // the LED follows the frames where class 1 wins, on frame time (frame i at i s): one transition per change, then
        // low at exit (after the last frame, at 6 s)
        var changes = new List<PinTransition>();
        bool level = false;
        int frame = 0;
        foreach (bool on in expectedLed.Append(false))
        {
            if (on != level) changes.Add(new PinTransition(TimeSpan.FromSeconds(frame), level = on));
            frame++;
        }
        Assert.Equal(changes, FileDigitalOutput.ReadLog(log));
    }

    [Fact]
    public void ButtonPressesSaveLabelledTrainingFrames()
    {
        using var dir = new TempFolder();
        var frames = new List<byte[]>();
        Directory.CreateDirectory(dir.File("in"));
        for (int i = 0; i < 6; i++)
        {
            frames.Add(TextLike(W, H, 200 + i, flipped: false));
            File.WriteAllBytes(dir.File($"in/{i}.ppm"), Pnm.EncodePpm(frames[i], W, H));
        }
        // --fps 1000 puts frame i at i ms: a script in whole seconds presses nothing in six frames
        File.WriteAllText(dir.File("button.txt"), "0.5 pressed\n1.5 released\n2.5 pressed\n");
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter();
        int code = CameraClassifierApp.Run([Model, "--folder", dir.File("in"), "--fps", "1000", "--input-size", "48x192", "--top", "1",
            "--save", dir.File("samples"), "--save-label", "upright", "--button-file", dir.File("button.txt")], stdout, stderr);
        Assert.True(code == 0, stderr.ToString());
        // unpaced, frame i is at i s: pressed for frames 1-2 and from frame 5 on
        Assert.False(Directory.EnumerateFiles(dir.File("samples/upright")).Any());
        File.WriteAllText(dir.File("button.txt"), "1 pressed\n2.5 released\n5 1\n");
        code = CameraClassifierApp.Run([Model, "--folder", dir.File("in"), "--input-size", "48x192", "--top", "1",
            "--save", dir.File("samples"), "--save-label", "upright", "--button-file", dir.File("button.txt")], stdout, stderr);
        Assert.True(code == 0, stderr.ToString());
        var saved = Directory.GetFiles(dir.File("samples/upright")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(new[] { "frame_000001.ppm", "frame_000005.ppm" }, saved);
        Assert.Equal(frames[1], Pnm.DecodeRgb24(File.ReadAllBytes(dir.File("samples/upright/frame_000001.ppm")), out _, out _));
        Assert.Equal(frames[5], Pnm.DecodeRgb24(File.ReadAllBytes(dir.File("samples/upright/frame_000005.ppm")), out _, out _));
        Assert.Contains($"saved {dir.File("samples/upright/frame_000005.ppm")} (upright)", stdout.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ResizingFramesMatchesResizingFirst()
    {
        var classifier = new FrameClassifier(Model, 48, 192, [0.5f], [0.5f]);
        var big = TextLike(250, 70, 7, flipped: false);
        var resized = new byte[W * H * 3];
        RgbResize.Bilinear(big, 250, 70, resized, W, H);
        classifier.Classify(big, 250, 70);
        var fromBig = classifier.Probabilities.ToArray();
        classifier.Classify(resized, W, H);
        Assert.Equal(fromBig, classifier.Probabilities.ToArray());
        Assert.Equal(1f, fromBig.Sum(), 3);

        var options = new SessionOptions();
        options.InputShapes["x"] = [1, 3, H, W];
        var direct = Direct(new Session(OnnxImporter.Load(Model), options), resized);
        for (int c = 0; c < 2; c++) Assert.InRange(fromBig[c], direct[c] - 1e-5f, direct[c] + 1e-5f);
        Allocations.AssertNoneAfterWarmUp(() => classifier.Classify(big, 250, 70), batch: 5);
    }

    [Fact]
    public void SoftmaxIsAppliedOnlyToScoresThatAreNotADistribution()
    {
        var p = new float[3];
        FrameClassifier.ToProbabilities([0.2f, 0.3f, 0.5f], p);
        Assert.Equal(new[] { 0.2f, 0.3f, 0.5f }, p);
        FrameClassifier.ToProbabilities([1f, 2f, 3f], p);
        double z = Math.Exp(1) + Math.Exp(2) + Math.Exp(3);
        for (int i = 0; i < 3; i++) Assert.Equal(Math.Exp(i + 1) / z, p[i], 5);
    }

    [Fact]
    public void ProblemsAreErrorsNotCrashes()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("a.ppm"), Pnm.EncodePpm(TextLike(W, H, 1, false), W, H));
        (int, string) Run(params string[] args)
        {
            var stderr = new StringWriter();
            return (CameraClassifierApp.Run(args, TextWriter.Null, stderr), stderr.ToString());
        }
        var (code, error) = Run(Model, "--folder", dir.Path);
        Assert.Equal(1, code);
        Assert.Contains("--input-size HxW", error, StringComparison.Ordinal);
        (code, error) = Run(Model, "--camera", "/dev/video-edgenet-absent", "--input-size", "48x192");
        Assert.Equal(1, code);
        Assert.StartsWith("error: V4L2 camera /dev/video-edgenet-absent cannot be opened", error, StringComparison.Ordinal);
        (code, error) = Run(Model, "--folder", dir.Path, "--input-size", "48x192", "--gpio-pin", "5", "--gpio-chip", "99", "--gpio-class", "0");
        Assert.Equal(1, code);
        Assert.Contains("/dev/gpiochip99 does not exist", error, StringComparison.Ordinal);
        (code, error) = Run(Model, "--folder", dir.Path, "--input-size", "48x192", "--gpio-file", dir.File("l.txt"), "--gpio-class", "cat");
        Assert.Equal(1, code);
        Assert.Contains("--gpio-class cat", error, StringComparison.Ordinal);
        (code, error) = Run(Model, "--folder", dir.Path, "--camera", "/dev/video0");
        Assert.Equal(2, code);
        Assert.StartsWith("usage: cameraclassifier", error, StringComparison.Ordinal);
    }
}
