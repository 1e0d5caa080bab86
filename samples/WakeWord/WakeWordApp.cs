using System.Globalization;
using System.Threading;
using EdgeNet.Devices;
using EdgeNet.Devices.Audio;
using EdgeNet.Devices.Gpio;

namespace EdgeNet.Samples.WakeWord;

/// <summary>
/// The wakeword command: reads a WAV file whole (the original mode) or streams 80 ms chunks from a microphone
/// (<c>--mic alsa:default</c>) or a WAV stand-in (<c>--mic wav:PATH</c>), prints the scores every 80 ms and the
/// detections, and optionally lights an LED on a GPIO pin (or its file stand-in) for <c>--gpio-hold</c> seconds after
/// each detection.
/// </summary>
public static class WakeWordApp
{
    private const string Usage = "usage: wakeword WAV [--models DIR] [--threshold T] [--words a,b]";
    private const string MoreUsage = "       wakeword --mic alsa:DEVICE|wav:PATH [--realtime] [--loop] [--seconds S] [...]; LED on detection: [--gpio-pin N [--gpio-chip C]] [--gpio-file PATH] [--gpio-hold S]";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, bool handleCtrlC = false)
    {
        string? wav = null, models = "models/openwakeword", mic = null, gpioFile = null;
        float threshold = 0.5f;
        string[] words = ["hey_jarvis_v0.1", "alexa_v0.1", "timer_v0.1"];
        int? gpioPin = null, gpioChip = null;
        double hold = 1.0, seconds = double.PositiveInfinity;
        bool realTime = false, loop = false;
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--models" when i + 1 < args.Length: models = args[++i]; break;
                    case "--threshold" when i + 1 < args.Length: threshold = float.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--words" when i + 1 < args.Length: words = args[++i].Split(','); break;
                    case "--mic" when i + 1 < args.Length: mic = args[++i]; break;
                    case "--realtime": realTime = true; break;
                    case "--loop": loop = true; break;
                    case "--seconds" when i + 1 < args.Length: seconds = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--gpio-pin" when i + 1 < args.Length: gpioPin = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--gpio-chip" when i + 1 < args.Length: gpioChip = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--gpio-file" when i + 1 < args.Length: gpioFile = args[++i]; break;
                    case "--gpio-hold" when i + 1 < args.Length: hold = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    default:
                        if (args[i].StartsWith('-') || wav is not null) return UsageError(stderr);
                        wav = args[i];
                        break;
                }
            }
        }
        catch (FormatException)
        {
            return UsageError(stderr);
        }
        if ((wav is null) == (mic is null)) return UsageError(stderr);

        try
        {
            var audio = wav is null ? null : WavReader.ReadMono(wav, WakeWordDetector.SampleRate);
            var detector = new WakeWordDetector(models, words);
            var clock = new StreamClock(WakeWordDetector.SampleRate);
            using var led = gpioFile is not null ? new FileDigitalOutput(gpioFile, gpioPin ?? 0, clock)
                : gpioPin is int pin ? new GpioDigitalOutput(pin, gpioChip) : (IDigitalOutput?)null;
            var run = new DetectionRun(detector, threshold, stdout, led, hold, clock);
            if (audio is not null)
            {
                stdout.WriteLine($"{Path.GetFileName(wav)}: {audio.Length / (double)WakeWordDetector.SampleRate:F2} s; models: {string.Join(", ", detector.Names)}");
                run.PrintHeader();
                // pad one second of silence at the end so a word at the very end still fills the windows
                var padded = new float[audio.Length + WakeWordDetector.SampleRate];
                audio.CopyTo(padded, 0);
                for (int at = 0; at + WakeWordDetector.ChunkSamples <= padded.Length; at += WakeWordDetector.ChunkSamples)
                    run.Step(padded.AsSpan(at, WakeWordDetector.ChunkSamples));
            }
            else
            {
                using var source = AudioSources.Open(mic!, WakeWordDetector.ChunkSamples, realTime, loop);
                using var stop = new CancellationTokenSource();
                ConsoleCancelEventHandler onCtrlC = (_, e) => { e.Cancel = true; stop.Cancel(); };
                if (handleCtrlC) Console.CancelKeyPress += onCtrlC;
                try
                {
                    stdout.WriteLine($"{source.Description}: streaming {WakeWordDetector.ChunkSamples}-sample chunks; models: {string.Join(", ", detector.Names)}");
                    run.PrintHeader();
                    Stream(source, run, seconds, stop.Token);
                }
                finally
                {
                    if (handleCtrlC) Console.CancelKeyPress -= onCtrlC;
                }
            }
            run.PrintSummary();
            return 0;
        }
        catch (Exception e) when (e is EdgeNetException or WavFormatException or IOException)
        {
            stderr.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private static int UsageError(TextWriter stderr)
    {
        stderr.WriteLine(Usage);
        stderr.WriteLine(MoreUsage);
        return 2;
    }

    /// <summary>
    /// Streams chunks from <paramref name="source"/> until it ends (then one second of silence, as the file mode pads, so
    /// both modes see the same chunks), <paramref name="seconds"/> have been processed, or <paramref name="stop"/> fires.
    /// </summary>
    public static void Stream(IAudioSource source, DetectionRun run, double seconds, CancellationToken stop)
    {
        if (source.SampleRate != WakeWordDetector.SampleRate || source.ChunkSamples != WakeWordDetector.ChunkSamples)
            throw new DeviceException($"{source.Description} delivers {source.ChunkSamples} samples at {source.SampleRate} Hz; the detector needs {WakeWordDetector.ChunkSamples} at {WakeWordDetector.SampleRate} Hz");
        var chunk = new float[WakeWordDetector.ChunkSamples];
        long real = 0, chunks = 0;
        long limit = double.IsPositiveInfinity(seconds) ? long.MaxValue : (long)(seconds * WakeWordDetector.SampleRate);
        while (!stop.IsCancellationRequested && chunks * WakeWordDetector.ChunkSamples < limit)
        {
            int n = source.ReadChunk(chunk);
            if (n == 0) break;
            real += n;
            run.Step(chunk);
            chunks++;
        }
        if (stop.IsCancellationRequested || chunks * WakeWordDetector.ChunkSamples >= limit) return;
        Array.Clear(chunk);
        while ((chunks + 1) * WakeWordDetector.ChunkSamples <= real + WakeWordDetector.SampleRate)
        {
            run.Step(chunk);
            chunks++;
        }
    }
}

/// <summary>Audio time as a clock: advanced by the samples processed, so LED transitions carry stream time.</summary>
public sealed class StreamClock(int sampleRate) : TimeProvider
{
    public long Samples { get; private set; }
    public void Advance(int samples) => Samples += samples;
    public override long TimestampFrequency => sampleRate;
    public override long GetTimestamp() => Samples;
}

/// <summary>The per-chunk work shared by both modes: detect, print the score line, collect detections, drive the LED.</summary>
public sealed class DetectionRun
{
    private readonly WakeWordDetector _detector;
    private readonly float _threshold;
    private readonly TextWriter _out;
    private readonly IDigitalOutput? _led;
    private readonly double _hold;
    private readonly StreamClock _clock;
    private readonly float[] _best;
    private readonly double[] _lastDetection;
    private double _ledOnAt;
    private long _samples;

    public DetectionRun(WakeWordDetector detector, float threshold, TextWriter stdout, IDigitalOutput? led, double holdSeconds, StreamClock clock)
    {
        _detector = detector;
        _threshold = threshold;
        _out = stdout;
        _led = led;
        _hold = holdSeconds;
        _clock = clock;
        _best = new float[detector.Names.Length];
        _lastDetection = new double[detector.Names.Length];
        Array.Fill(_lastDetection, double.NegativeInfinity);
    }

    /// <summary>"name at 4.08s (score 0.785)" per detection, in order.</summary>
    public List<string> Detections { get; } = [];

    public void PrintHeader() => _out.WriteLine("  time   " + string.Join(" ", _detector.Names.Select(n => n.Split('_')[0].PadLeft(10))));

    public void Step(ReadOnlySpan<float> chunk)
    {
        _detector.Process(chunk);
        _samples += chunk.Length;
        _clock.Advance(chunk.Length);
        double t = _samples / (double)WakeWordDetector.SampleRate;
        if (!_detector.Warm) return;
        _out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{t,6:F2}s ") + string.Join(" ", _detector.Scores.Select(s => s.ToString("F4", CultureInfo.InvariantCulture).PadLeft(10))));
        bool detected = false;
        for (int k = 0; k < _best.Length; k++)
        {
            _best[k] = Math.Max(_best[k], _detector.Scores[k]);
            if (_detector.Scores[k] > _threshold && t - _lastDetection[k] > 1.0)
            {
                Detections.Add(string.Create(CultureInfo.InvariantCulture, $"{_detector.Names[k]} at {t:F2}s (score {_detector.Scores[k]:F3})"));
                _lastDetection[k] = t;
                detected = true;
            }
        }
        if (_led is null) return;
        if (detected)
        {
            _led.Write(true);
            _ledOnAt = t;
        }
        else if (_led.Value && t - _ledOnAt >= _hold - 1e-9)
            _led.Write(false);
    }

    public void PrintSummary()
    {
        _out.WriteLine("peak scores: " + string.Join(", ", _detector.Names.Select((n, k) => string.Create(CultureInfo.InvariantCulture, $"{n}={_best[k]:F4}"))));
        _out.WriteLine(Detections.Count == 0 ? $"no detections above {_threshold}" : "detected: " + string.Join("; ", Detections));
    }
}
