using System.Buffers.Binary;
using EdgeNet.Data;

namespace EdgeNet.Tests.Data;

public class DataWavReaderTests
{
    [Fact]
    public void Pcm16StereoAveragesToMono()
    {
        var d = new byte[8];
        BinaryPrimitives.WriteInt16LittleEndian(d, 16384);
        BinaryPrimitives.WriteInt16LittleEndian(d.AsSpan(2), 0);
        BinaryPrimitives.WriteInt16LittleEndian(d.AsSpan(4), -32768);
        BinaryPrimitives.WriteInt16LittleEndian(d.AsSpan(6), -32768);
        Assert.Equal([0.25f, -1f], WavReader.ReadMono(TestFiles.Wav(1, 2, 16000, 16, d)));
        Assert.Equal([8192f, -32768f], WavReader.ReadMono(TestFiles.Wav(1, 2, 16000, 16, d), fullScale: 32768f));
    }

    [Fact]
    public void Pcm32Float32Pcm24AndPcm8Decode()
    {
        var p32 = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(p32, int.MinValue / 2);
        Assert.Equal([-0.5f], WavReader.ReadMono(TestFiles.Wav(1, 1, 16000, 32, p32)));
        var f32 = new byte[8];
        BinaryPrimitives.WriteSingleLittleEndian(f32, 0.75f);
        BinaryPrimitives.WriteSingleLittleEndian(f32.AsSpan(4), -0.25f);
        Assert.Equal([0.75f, -0.25f], WavReader.ReadMono(TestFiles.Wav(3, 1, 16000, 32, f32)));
        Assert.Equal([0.25f], WavReader.ReadMono(TestFiles.Wav(3, 2, 16000, 32, f32)));
        Assert.Equal([0.5f], WavReader.ReadMono(TestFiles.Wav(1, 1, 16000, 24, [0x00, 0x00, 0x40])));
        Assert.Equal([-1f, 0.5f], WavReader.ReadMono(TestFiles.Wav(1, 1, 16000, 8, [0, 192])));
    }

    private static float[] Sine(double freq, int rate, int n, double amp = 0.5)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(amp * Math.Sin(2 * Math.PI * freq * i / rate));
        return x;
    }

    [Fact]
    public void ResamplingKeepsAToneAndRemovesWhatCannotBeRepresented()
    {
        // 440 Hz at 48 kHz → 16 kHz: the same tone (compare in the middle, away from the edges).
        var y = WavReader.ReadMono(TestFiles.Wav(1, 1, 48000, 16, TestFiles.Pcm16(Sine(440, 48000, 48000))));
        Assert.Equal(16000, y.Length);
        var expected = Sine(440, 16000, 16000);
        double err = 0;
        for (int i = 1000; i < 15000; i++) err = Math.Max(err, Math.Abs(y[i] - expected[i]));
        Assert.True(err < 0.01, $"max error {err}");
        // 12 kHz is above the new 8 kHz Nyquist: linear interpolation would fold it to 4 kHz; the sinc filter removes it.
        var high = WavReader.Resample(Sine(12000, 48000, 48000), 48000, 16000);
        double rms = 0;
        for (int i = 1000; i < 15000; i++) rms += high[i] * (double)high[i];
        Assert.True(Math.Sqrt(rms / 14000) < 0.01, $"aliased energy {Math.Sqrt(rms / 14000)}");
        // Upsampling 8 kHz → 16 kHz keeps a 1 kHz tone.
        var up = WavReader.Resample(Sine(1000, 8000, 8000), 8000, 16000);
        var e2 = Sine(1000, 16000, 16000);
        for (int i = 1000; i < 15000; i++) Assert.True(Math.Abs(up[i] - e2[i]) < 0.01, $"sample {i}: {up[i]} vs {e2[i]}");
    }

    [Fact]
    public void EveryTruncationIsAnAudioFormatException()
    {
        var wav = TestFiles.Wav(1, 1, 16000, 16, TestFiles.Pcm16(Sine(300, 16000, 50)));
        Assert.Equal(50, WavReader.ReadMono(wav).Length);
        for (int n = 0; n < wav.Length; n++)
            Assert.Throws<AudioFormatException>(() => WavReader.ReadMono(wav[..n], name: $"cut at {n}"));
    }

    [Fact]
    public void UnsupportedAndBrokenFilesAreRefused()
    {
        Assert.Contains("not a RIFF", Assert.Throws<AudioFormatException>(() => WavReader.ReadMono("garbage garbage garbage garbage"u8.ToArray())).Message);
        Assert.Contains("not supported", Assert.Throws<AudioFormatException>(() => WavReader.ReadMono(TestFiles.Wav(2, 1, 16000, 4, new byte[16]))).Message); // ADPCM
        Assert.Contains("not supported", Assert.Throws<AudioFormatException>(() => WavReader.ReadMono(TestFiles.Wav(7, 1, 8000, 8, new byte[16]))).Message); // μ-law
        Assert.Throws<AudioFormatException>(() => WavReader.ReadMono(TestFiles.Wav(1, 0, 16000, 16, new byte[16])));
        Assert.Throws<AudioFormatException>(() => WavReader.ReadMono(TestFiles.Wav(1, 1, 0, 16, new byte[16])));
        Assert.Throws<AudioFormatException>(() => WavReader.ReadMono("/no/such/file.wav"));
        // A recorder cut off before it could write the sizes (0 or 0xFFFFFFFF): the samples present are used.
        var streamed = TestFiles.Wav(1, 1, 16000, 16, TestFiles.Pcm16([0.5f, -0.5f]));
        BinaryPrimitives.WriteUInt32LittleEndian(streamed.AsSpan(40), uint.MaxValue);
        Assert.Equal(2, WavReader.ReadMono(streamed).Length);
    }
}
