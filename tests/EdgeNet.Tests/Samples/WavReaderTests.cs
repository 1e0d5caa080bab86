using System.Buffers.Binary;
using EdgeNet.Samples.WakeWord;

namespace EdgeNet.Tests.Samples;

public class WavReaderTests
{
    private static byte[] Wav(int format, int channels, int rate, int bits, byte[] data) => Support.WavBytes.Make(format, channels, rate, bits, data);

    [Fact]
    public void Pcm16StereoIsAveragedToMonoInInt16Scale()
    {
        var data = new byte[8];
        BinaryPrimitives.WriteInt16LittleEndian(data, 1000);
        BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(2), 3000);
        BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(4), -32768);
        BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(6), -32768);
        Assert.Equal(new float[] { 2000, -32768 }, WavReader.ReadMono(Wav(1, 2, 16000, 16, data), 16000));
    }

    [Fact]
    public void Float32IsScaledAndOtherRatesResampled()
    {
        var data = new byte[4 * 3200];
        for (int i = 0; i < 3200; i++) BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i * 4), 0.5f);
        var mono = WavReader.ReadMono(Wav(3, 1, 32000, 32, data), 16000);
        Assert.Equal(1600, mono.Length);
        Assert.All(mono, v => Assert.Equal(16384f, v));
    }

    [Fact]
    public void BadFilesGiveSpecificErrors()
    {
        Assert.Throws<WavFormatException>(() => WavReader.ReadMono(new byte[10], 16000));
        Assert.Throws<WavFormatException>(() => WavReader.ReadMono("garbage garbage garbage garbage garbage"u8.ToArray(), 16000));
        Assert.Throws<WavFormatException>(() => WavReader.ReadMono(Wav(2, 1, 16000, 4, new byte[16]), 16000)); // ADPCM
        var truncated = Wav(1, 1, 16000, 16, new byte[100]).AsSpan(0, 30).ToArray();
        Assert.Throws<WavFormatException>(() => WavReader.ReadMono(truncated, 16000));
    }
}
