using System.Buffers.Binary;
using System.Diagnostics;
using EdgeNet.Devices;
using EdgeNet.Devices.Audio;
using EdgeNet.Samples.WakeWord;
using EdgeNet.Tests.RealModels;
using EdgeNet.Tests.Support;

namespace EdgeNet.Tests.Devices;

public class MicrophoneTests
{
    private static List<float> ReadAll(IAudioSource source, List<int>? counts = null)
    {
        var chunk = new float[source.ChunkSamples];
        var all = new List<float>();
        int n;
        while ((n = source.ReadChunk(chunk)) > 0)
        {
            counts?.Add(n);
            all.AddRange(chunk.AsSpan(0, n).ToArray());
            Assert.All(chunk[n..], v => Assert.Equal(0f, v));
        }
        return all;
    }

    [Fact]
    public void WavStandInDeliversFixedChunksAndAShortLastOne()
    {
        using var dir = new TempFolder();
        string path = dir.File("ramp.wav");
        File.WriteAllBytes(path, WavFiles.Pcm16(16000, 1280 * 3 + 500, i => (short)(i - 2000)));
        using var mic = new WavFileMicrophone(path);
        Assert.Equal(16000, mic.SampleRate);
        Assert.Equal(1280 * 3 + 500, mic.TotalSamples);
        var counts = new List<int>();
        var all = ReadAll(mic, counts);
        Assert.Equal(new[] { 1280, 1280, 1280, 500 }, counts);
        for (int i = 0; i < all.Count; i++) Assert.Equal(i - 2000, all[i]);
        Assert.Equal(0, mic.ReadChunk(new float[1280])); // stays ended
        Assert.Throws<ArgumentException>(() => mic.ReadChunk(new float[1000]));
    }

    [Fact]
    public void LoopingContinuesAcrossTheSeamWithoutGaps()
    {
        using var dir = new TempFolder();
        string path = dir.File("short.wav");
        File.WriteAllBytes(path, WavFiles.Pcm16(16000, 1000, i => (short)i));
        using var mic = new WavFileMicrophone(path, chunkSamples: 1280, loop: true);
        var chunk = new float[1280];
        for (int c = 0; c < 10; c++)
        {
            Assert.Equal(1280, mic.ReadChunk(chunk));
            for (int i = 0; i < 1280; i++) Assert.Equal((c * 1280 + i) % 1000, chunk[i]);
        }
    }

    [Theory]
    [InlineData(1, 2, 44100, 24)]  // stereo 24-bit, downsampled
    [InlineData(3, 1, 8000, 32)]   // float, upsampled
    [InlineData(1, 3, 22050, 8)]   // 8-bit, three channels
    [InlineData(1, 1, 16000, 32)]  // 32-bit PCM at the target rate
    [InlineData(1, 2, 16000, 16)]
    [InlineData(1, 1000, 22050, 16)]  // wide frames: a 32-frame read block
    [InlineData(1, 40000, 8000, 16)]  // frames wider than the read block: two frames at a time
    public void StreamedSamplesEqualTheWholeFileReader(int format, int channels, int rate, int bits)
    {
        var rng = new Random(rate + bits);
        int frames = channels > 100 ? 301 : rate * 2 + 333;
        var data = new byte[frames * channels * bits / 8];
        rng.NextBytes(data);
        if (format == 3)
            for (int i = 0; i < data.Length; i += 4) BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i), (float)(rng.NextDouble() * 2 - 1));
        var wav = WavFiles.Make(format, channels, rate, bits, data);
        using var dir = new TempFolder();
        string path = dir.File("x.wav");
        File.WriteAllBytes(path, wav);
        var expected = WavReader.ReadMono(wav, 16000);
        using var mic = new WavFileMicrophone(path);
        Assert.Equal(expected, ReadAll(mic).ToArray());
    }

    [Fact]
    public void SpeechStreamsExactlyAsTheSampleReadsIt()
    {
        string path = RepoPaths.Model("speech/hey_jarvis.wav");
        using var mic = new WavFileMicrophone(path);
        Assert.Equal(WavReader.ReadMono(path, 16000), ReadAll(mic).ToArray());
    }

    [Fact]
    public void UnpacedReadingIsFastAndPacedReadingKeepsRealTime()
    {
        using var dir = new TempFolder();
        string path = dir.File("long.wav");
        File.WriteAllBytes(path, WavFiles.Pcm16(16000, 16000 * 10, i => (short)(i % 3000)));
        var watch = Stopwatch.StartNew();
        using (var fast = new WavFileMicrophone(path)) Assert.Equal(160000, ReadAll(fast).Count);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"10 s of audio took {watch.Elapsed} without pacing");

        using var paced = new WavFileMicrophone(path, realTime: true);
        var chunk = new float[1280];
        watch.Restart();
        for (int i = 0; i < 5; i++) paced.ReadChunk(chunk);
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(5 * 80 - 15), $"5 paced chunks (400 ms of audio) came in {watch.Elapsed.TotalMilliseconds} ms");
    }

    [Fact]
    public void ReadingAllocatesNothingPerChunk()
    {
        using var dir = new TempFolder();
        string path = dir.File("loop.wav");
        File.WriteAllBytes(path, WavFiles.Make(1, 2, 44100, 16, new byte[44100 * 4]));
        using var mic = new WavFileMicrophone(path, loop: true);
        var chunk = new float[1280];
        Allocations.AssertNoneAfterWarmUp(() => mic.ReadChunk(chunk));
    }

    [Fact]
    public void BadFilesGiveSpecificErrors()
    {
        using var dir = new TempFolder();
        Assert.Throws<DeviceException>(() => new WavFileMicrophone(dir.File("missing.wav")));
        File.WriteAllText(dir.File("text.wav"), "not a wave file at all");
        Assert.Throws<AudioFormatException>(() => new WavFileMicrophone(dir.File("text.wav")));
        File.WriteAllBytes(dir.File("adpcm.wav"), WavFiles.Make(2, 1, 16000, 4, new byte[64]));
        Assert.Throws<AudioFormatException>(() => new WavFileMicrophone(dir.File("adpcm.wav")));
        File.WriteAllBytes(dir.File("empty.wav"), WavFiles.Make(1, 1, 16000, 16, []));
        Assert.Throws<AudioFormatException>(() => new WavFileMicrophone(dir.File("empty.wav"), loop: true));
        File.WriteAllBytes(dir.File("cut.wav"), WavFiles.Pcm16(16000, 100, i => 1).AsSpan(0, 30).ToArray());
        Assert.Throws<AudioFormatException>(() => new WavFileMicrophone(dir.File("cut.wav")));
        Assert.Throws<DeviceException>(() => AudioSources.Open("pulse:default"));
    }

    [Fact]
    public void AlsaMissingDeviceIsAClearError()
    {
        // needs libasound.so.2, which sox and espeak-ng (scripts/install-deps.sh) bring
        var e = Assert.Throws<DeviceException>(() => new AlsaMicrophone("edgenet_no_such_pcm"));
        Assert.Contains("'edgenet_no_such_pcm' cannot be opened", e.Message, StringComparison.Ordinal);
        if (!Directory.Exists("/dev/snd"))
        {
            var d = Assert.Throws<DeviceException>(() => AudioSources.Open("alsa:default"));
            Assert.Contains("no sound card", d.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AlsaNullDeviceCapturesSilenceThroughTheWholeCallPath()
    {
        // ALSA's "null" PCM needs no hardware: open, hw_params, prepare and readi all run for real
        using var mic = new AlsaMicrophone("null");
        Assert.Equal("ALSA null (16000 Hz mono, 16-bit)", mic.Description);
        var chunk = new float[1280];
        chunk.AsSpan().Fill(1);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(1280, mic.ReadChunk(chunk));
            Assert.All(chunk, v => Assert.Equal(0f, v));
        }
        Allocations.AssertNoneAfterWarmUp(() => mic.ReadChunk(chunk), batch: 20);
        mic.Dispose();
        Assert.Throws<ObjectDisposedException>(() => mic.ReadChunk(chunk));
    }
}
