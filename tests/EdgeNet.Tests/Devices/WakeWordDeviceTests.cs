using System.Globalization;
using System.Text.RegularExpressions;
using EdgeNet.Devices.Gpio;
using EdgeNet.Samples.WakeWord;
using EdgeNet.Tests.RealModels;

namespace EdgeNet.Tests.Devices;

/// <summary>The WakeWord sample's device options, run in-process through its command (WakeWordApp.Run) on the test speech.</summary>
public partial class WakeWordDeviceTests
{
    private static string Models => Path.GetDirectoryName(RepoPaths.Model("openwakeword/melspectrogram.onnx"))!;
    private static string Speech(string name) => RepoPaths.Model($"speech/{name}.wav");

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        int code = WakeWordApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [GeneratedRegex(@"([\w.]+) at (\d+\.\d\d)s \(score")]
    private static partial Regex Detection();

    [Theory]
    [InlineData("hey_jarvis", 1)]
    [InlineData("alexa", 1)]
    [InlineData("negative", 0)]
    public void LedStandInLightsForEachDetectionAndGoesOutAfterTheHold(string speech, int expectedDetections)
    {
        using var dir = new TempFolder();
        string log = dir.File("led.txt");
        var (code, output, error) = Run(Speech(speech), "--models", Models, "--gpio-file", log, "--gpio-pin", "17", "--gpio-hold", "0.5");
        Assert.True(code == 0, error);
        var detections = Detection().Matches(output.Split('\n').Single(l => l.StartsWith("detected:", StringComparison.Ordinal) || l.StartsWith("no detections", StringComparison.Ordinal)));
        Assert.Equal(expectedDetections, detections.Count);
        if (expectedDetections > 0) Assert.StartsWith(speech, detections[0].Groups[1].Value, StringComparison.Ordinal);

        // expected: high at each detection's time, low at the first 80 ms step at least 0.5 s later
        var expected = new List<PinTransition>();
        foreach (Match m in detections)
        {
            double t = double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            expected.Add(new PinTransition(TimeSpan.FromSeconds(t), true));
            expected.Add(new PinTransition(TimeSpan.FromSeconds(t + Math.Ceiling(0.5 / 0.08 - 1e-9) * 0.08), false));
        }
        var actual = FileDigitalOutput.ReadLog(log);
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Value, actual[i].Value);
            Assert.InRange(actual[i].Time.TotalSeconds, expected[i].Time.TotalSeconds - 1e-6, expected[i].Time.TotalSeconds + 1e-6);
        }
        Assert.StartsWith("# edgenet gpio output stand-in: pin 17", File.ReadAllText(log), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("hey_jarvis")]
    [InlineData("negative")]
    public void MicStandInStreamingPrintsWhatTheFileModePrints(string speech)
    {
        var file = Run(Speech(speech), "--models", Models);
        var mic = Run("--mic", "wav:" + Speech(speech), "--models", Models);
        Assert.Equal(0, file.Code);
        Assert.Equal(0, mic.Code);
        var fileLines = file.Out.Split('\n');
        var micLines = mic.Out.Split('\n');
        Assert.StartsWith(speech + ".wav: ", fileLines[0], StringComparison.Ordinal);
        Assert.StartsWith(speech + ".wav (16000 Hz, 1 ch, PCM 16-bit): streaming 1280-sample chunks", micLines[0], StringComparison.Ordinal);
        Assert.True(fileLines.Length > 30);
        Assert.Equal(fileLines[1..], micLines[1..]);
    }

    [Fact]
    public void FileModeOutputKeepsItsFormat()
    {
        var (code, output, _) = Run(Speech("hey_jarvis"), "--models", Models, "--words", "hey_jarvis_v0.1,alexa_v0.1");
        Assert.Equal(0, code);
        var lines = output.TrimEnd('\n').Split('\n');
        Assert.Matches(@"^hey_jarvis\.wav: \d+\.\d\d s; models: hey_jarvis_v0\.1, alexa_v0\.1$", lines[0]);
        Assert.Equal("  time          hey      alexa", lines[1]);
        Assert.Matches(@"^  2\.00s     0\.\d{4}     0\.\d{4}$", lines[2]);
        Assert.Matches(@"^peak scores: hey_jarvis_v0\.1=0\.9\d{3}, alexa_v0\.1=0\.\d{4}$", lines[^2]);
        Assert.Matches(@"^detected: hey_jarvis_v0\.1 at \d\.\d\ds \(score 0\.\d{3}\)$", lines[^1]);
    }

    [Fact]
    public void DeviceProblemsAreErrorsNotCrashes()
    {
        var gpio = Run(Speech("alexa"), "--models", Models, "--gpio-pin", "17", "--gpio-chip", "99");
        Assert.Equal(1, gpio.Code);
        Assert.StartsWith("error: GPIO pin 17: /dev/gpiochip99 does not exist", gpio.Err, StringComparison.Ordinal);
        var alsa = Run("--mic", "alsa:edgenet_no_such_pcm", "--models", Models);
        Assert.Equal(1, alsa.Code);
        Assert.StartsWith("error: ALSA capture device 'edgenet_no_such_pcm' cannot be opened", alsa.Err, StringComparison.Ordinal);
        var both = Run(Speech("alexa"), "--mic", "alsa:default", "--models", Models);
        Assert.Equal(2, both.Code);
        Assert.StartsWith("usage: wakeword WAV [--models DIR] [--threshold T] [--words a,b]\n", both.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void AlsaNullMicrophoneRunsTheChainForTheRequestedSeconds()
    {
        var (code, output, error) = Run("--mic", "alsa:null", "--seconds", "2", "--models", Models, "--words", "hey_jarvis_v0.1");
        Assert.True(code == 0, error);
        var lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal("ALSA null (16000 Hz mono, 16-bit): streaming 1280-sample chunks; models: hey_jarvis_v0.1", lines[0]);
        Assert.Matches(@"^  2\.00s     0\.\d{4}$", lines[^3]); // 25 chunks of silence: the first (and only) score at 2.00 s
        Assert.Equal("no detections above 0.5", lines[^1]);
    }
}
