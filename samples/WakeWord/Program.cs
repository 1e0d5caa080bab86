using System.Globalization;
using EdgeNet;
using EdgeNet.Samples.WakeWord;

// wakeword WAV [--models DIR] [--threshold T] [--words a,b,c] : prints wake-word scores every 80 ms and the detections.
string? wav = null, models = "models/openwakeword";
float threshold = 0.5f;
string[] words = ["hey_jarvis_v0.1", "alexa_v0.1", "timer_v0.1"];
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--models" when i + 1 < args.Length: models = args[++i]; break;
        case "--threshold" when i + 1 < args.Length: threshold = float.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--words" when i + 1 < args.Length: words = args[++i].Split(','); break;
        default:
            if (args[i].StartsWith('-') || wav is not null) { Console.Error.WriteLine("usage: wakeword WAV [--models DIR] [--threshold T] [--words a,b]"); return 2; }
            wav = args[i];
            break;
    }
}
if (wav is null) { Console.Error.WriteLine("usage: wakeword WAV [--models DIR] [--threshold T] [--words a,b]"); return 2; }

try
{
    var audio = WavReader.ReadMono(wav, WakeWordDetector.SampleRate);
    var detector = new WakeWordDetector(models, words);
    Console.WriteLine($"{Path.GetFileName(wav)}: {audio.Length / (double)WakeWordDetector.SampleRate:F2} s; models: {string.Join(", ", detector.Names)}");
    Console.WriteLine("  time   " + string.Join(" ", detector.Names.Select(n => n.Split('_')[0].PadLeft(10))));
    var best = new float[detector.Names.Length];
    var detections = new List<string>();
    var lastDetection = new double[detector.Names.Length];
    Array.Fill(lastDetection, double.NegativeInfinity);
    // pad one second of silence at the end so a word at the very end still fills the windows
    var padded = new float[audio.Length + WakeWordDetector.SampleRate];
    audio.CopyTo(padded, 0);
    for (int at = 0; at + WakeWordDetector.ChunkSamples <= padded.Length; at += WakeWordDetector.ChunkSamples)
    {
        detector.Process(padded.AsSpan(at, WakeWordDetector.ChunkSamples));
        double t = (at + WakeWordDetector.ChunkSamples) / (double)WakeWordDetector.SampleRate;
        if (!detector.Warm) continue;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{t,6:F2}s ") + string.Join(" ", detector.Scores.Select(s => s.ToString("F4", CultureInfo.InvariantCulture).PadLeft(10))));
        for (int k = 0; k < best.Length; k++)
        {
            best[k] = Math.Max(best[k], detector.Scores[k]);
            if (detector.Scores[k] > threshold && t - lastDetection[k] > 1.0)
            {
                detections.Add(string.Create(CultureInfo.InvariantCulture, $"{detector.Names[k]} at {t:F2}s (score {detector.Scores[k]:F3})"));
                lastDetection[k] = t;
            }
        }
    }
    Console.WriteLine("peak scores: " + string.Join(", ", detector.Names.Select((n, k) => string.Create(CultureInfo.InvariantCulture, $"{n}={best[k]:F4}"))));
    Console.WriteLine(detections.Count == 0 ? $"no detections above {threshold}" : "detected: " + string.Join("; ", detections));
    return 0;
}
catch (Exception e) when (e is EdgeNetException or WavFormatException or IOException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
