using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Threading;
using EdgeNet.Devices;
using EdgeNet.Devices.Camera;
using EdgeNet.Devices.Gpio;
using EdgeNet.Devices.Imaging;

namespace EdgeNet.Samples.CameraClassifier;

/// <summary>The cameraclassifier command: camera (V4L2 or folder stand-in) → classifier → top-k per frame, optional LED.</summary>
public static class CameraClassifierApp
{
    private const string Usage = """
        usage: cameraclassifier MODEL (--camera /dev/videoN | --folder DIR) [options]
          --input-size HxW        model input size when the model leaves it symbolic (48x192 for ch_ppocr_mobile_v2.0_cls)
          --capture WxH           camera capture size (default 640x480; folder: the first image's)
          --mean a[,b,c]          per-channel mean in 0..1 units (default ImageNet 0.485,0.456,0.406)
          --std a[,b,c]           per-channel std (default ImageNet 0.229,0.224,0.225)
          --labels FILE           class names, one per line (default: class indices)
          --top K                 classes printed per frame (default 3)
          --frames N              stop after N frames (default: all folder images; a camera runs until Ctrl+C)
          --loop                  replay the folder forever
          --fps F                 pace the folder at F frames per second
          --threads N             inference threads (default 1)
          --gpio-pin N [--gpio-chip C] | --gpio-file PATH   LED high while the chosen class is seen
          --gpio-class NAME|INDEX --gpio-threshold P        the class and its minimum probability (default 0.5)
          --save DIR --save-label NAME                      keep training samples: a button press saves the frame
          --button-pin N [--gpio-chip C] | --button-file SCRIPT   as DIR/NAME/frame_N.ppm (button to ground, pulled up)
        """;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, bool handleCtrlC = false)
    {
        string? model = null, camera = null, folder = null, labelsFile = null, gpioFile = null, gpioClass = null;
        string? saveDir = null, saveLabel = null, buttonFile = null;
        int? buttonPin = null;
        int inputHeight = 0, inputWidth = 0, captureWidth = 0, captureHeight = 0, top = 3, threads = 1;
        long frames = long.MaxValue;
        float[]? mean = null, std = null;
        int? gpioPin = null, gpioChip = null;
        float gpioThreshold = 0.5f;
        bool loop = false;
        double fps = 0;
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new FormatException();
                switch (args[i])
                {
                    case "--camera": camera = Next(); break;
                    case "--folder": folder = Next(); break;
                    case "--input-size": (inputHeight, inputWidth) = Size(Next()); break;
                    case "--capture": (captureWidth, captureHeight) = Size(Next()); break;
                    case "--mean": mean = Floats(Next()); break;
                    case "--std": std = Floats(Next()); break;
                    case "--labels": labelsFile = Next(); break;
                    case "--top": top = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--frames": frames = long.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--loop": loop = true; break;
                    case "--fps": fps = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--gpio-pin": gpioPin = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--gpio-chip": gpioChip = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--gpio-file": gpioFile = Next(); break;
                    case "--gpio-class": gpioClass = Next(); break;
                    case "--gpio-threshold": gpioThreshold = float.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--save": saveDir = Next(); break;
                    case "--save-label": saveLabel = Next(); break;
                    case "--button-pin": buttonPin = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--button-file": buttonFile = Next(); break;
                    default:
                        if (args[i].StartsWith('-') || model is not null) throw new FormatException();
                        model = args[i];
                        break;
                }
            }
            if (model is null || (camera is null) == (folder is null) || top < 1 || threads < 1) throw new FormatException();
            if ((gpioPin is not null || gpioFile is not null) && gpioClass is null) throw new FormatException();
            if ((buttonPin is not null || buttonFile is not null) != (saveDir is not null) || (saveDir is not null && saveLabel is null)) throw new FormatException();
            if (saveLabel is not null && (saveLabel.Length == 0 || saveLabel.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || saveLabel is "." or "..")) throw new FormatException();
        }
        catch (FormatException)
        {
            stderr.Write(Usage);
            return 2;
        }

        try
        {
            var classifier = new FrameClassifier(model, inputHeight, inputWidth, mean, std, threads);
            string[] labels = labelsFile is null ? [] : File.ReadAllLines(labelsFile).Where(l => l.Length > 0).ToArray();
            string Label(int c) => c < labels.Length ? labels[c] : c.ToString(CultureInfo.InvariantCulture);
            int gpioIndex = -1;
            if (gpioClass is not null)
            {
                gpioIndex = Array.IndexOf(labels, gpioClass);
                if (gpioIndex < 0 && (!int.TryParse(gpioClass, NumberStyles.None, CultureInfo.InvariantCulture, out gpioIndex) || gpioIndex >= classifier.Classes))
                    throw new InputMismatchException($"--gpio-class {gpioClass} is neither a label nor a class index below {classifier.Classes}");
            }
            using ICamera source = folder is not null
                ? new FolderCamera(folder, captureWidth, captureHeight, loop, fps)
                : new V4l2Camera(camera!, captureWidth > 0 ? captureWidth : 640, captureHeight > 0 ? captureHeight : 480);
            // the stand-ins run on frame time with the folder camera (frame i at i / fps s, fps 1 when unpaced), else on the clock
            var frameClock = new FrameClock(fps > 0 ? fps : 1);
            TimeProvider time = folder is not null ? frameClock : TimeProvider.System;
            using var led = gpioFile is not null ? new FileDigitalOutput(gpioFile, gpioPin ?? 0, time)
                : gpioPin is int pin ? new GpioDigitalOutput(pin, gpioChip) : (IDigitalOutput?)null;
            using var button = buttonFile is not null ? new FileDigitalInput(buttonFile, buttonPin ?? 0, time)
                : buttonPin is int bp ? new GpioDigitalInput(bp, InputBias.PullUp, activeLow: true, gpioChip) : (IDigitalInput?)null;
            string? saveTo = saveDir is null ? null : Directory.CreateDirectory(Path.Combine(saveDir, saveLabel!)).FullName;
            bool wasPressed = false;
            stdout.WriteLine($"model: {Path.GetFileName(model)}, input {classifier.InputName} {(classifier.ChannelsLast ? $"1x{classifier.InputHeight}x{classifier.InputWidth}x{classifier.Channels} (NHWC)" : $"1x{classifier.Channels}x{classifier.InputHeight}x{classifier.InputWidth} (NCHW)")}, {classifier.Classes} classes");
            stdout.WriteLine($"camera: {source.Description}");

            using var stop = new CancellationTokenSource();
            ConsoleCancelEventHandler onCtrlC = (_, e) => { e.Cancel = true; stop.Cancel(); };
            if (handleCtrlC) Console.CancelKeyPress += onCtrlC;
            try
            {
                var frame = new byte[source.Width * source.Height * 3];
                var best = new int[Math.Min(top, classifier.Classes)];
                var line = new StringBuilder();
                double totalMs = 0;
                long count = 0;
                while (count < frames && !stop.IsCancellationRequested && source.Capture(frame))
                {
                    long started = Stopwatch.GetTimestamp();
                    classifier.Classify(frame, source.Width, source.Height);
                    double ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    totalMs += ms;
                    classifier.TopK(best);
                    line.Clear().Append(CultureInfo.InvariantCulture, $"frame {count}");
                    if (source is FolderCamera f) line.Append(' ').Append(Path.GetFileName(f.CurrentFile));
                    line.Append(':');
                    foreach (int c in best) line.Append(CultureInfo.InvariantCulture, $" {Label(c)}={classifier.Probabilities[c]:F4}");
                    line.Append(CultureInfo.InvariantCulture, $" ({ms:F1} ms)");
                    stdout.WriteLine(line);
                    if (led is not null) led.Write(classifier.Probabilities[gpioIndex] >= gpioThreshold && best[0] == gpioIndex);
                    if (button is not null)
                    {
                        bool pressed = button.Read();
                        if (pressed && !wasPressed)
                        {
                            string file = Path.Combine(saveTo!, string.Create(CultureInfo.InvariantCulture, $"frame_{count:D6}.ppm"));
                            File.WriteAllBytes(file, Pnm.EncodePpm(frame, source.Width, source.Height));
                            stdout.WriteLine($"saved {file} ({saveLabel})");
                        }
                        wasPressed = pressed;
                    }
                    count++;
                    frameClock.Frames = count;
                }
                stdout.WriteLine(count == 0 ? "no frames" : string.Create(CultureInfo.InvariantCulture, $"{count} frames, mean inference {totalMs / count:F2} ms"));
            }
            finally
            {
                if (handleCtrlC) Console.CancelKeyPress -= onCtrlC;
            }
            return 0;
        }
        catch (Exception e) when (e is EdgeNetException or IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    /// <summary>Frame time: <see cref="Frames"/> frames at a fixed rate.</summary>
    private sealed class FrameClock(double framesPerSecond) : TimeProvider
    {
        public long Frames { get; set; }
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => (long)(Frames * TimeSpan.TicksPerSecond / framesPerSecond);
    }

    private static (int, int) Size(string text)
    {
        var parts = text.Split('x');
        if (parts.Length != 2) throw new FormatException();
        int a = int.Parse(parts[0], CultureInfo.InvariantCulture), b = int.Parse(parts[1], CultureInfo.InvariantCulture);
        return a > 0 && b > 0 ? (a, b) : throw new FormatException();
    }

    private static float[] Floats(string text) => text.Split(',').Select(s => float.Parse(s, CultureInfo.InvariantCulture)).ToArray();
}
