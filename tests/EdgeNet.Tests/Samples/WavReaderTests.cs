using System.Buffers.Binary;
using EdgeNet.Samples.WakeWord;

namespace EdgeNet.Tests.Samples;

public class WavReaderTests
{
    private static byte[] Wav(int format, int channels, int rate, int bits, byte[] data)
    {
        var b = new byte[44 + data.Length];
        "RIFF"u8.CopyTo(b);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(4), 36 + data.Length);
        "WAVEfmt "u8.CopyTo(b.AsSpan(8));
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(16), 16);
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(20), (short)format);
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(22), (short)channels);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(24), rate);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(28), rate * channels * bits / 8);
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(32), (short)(channels * bits / 8));
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(34), (short)bits);
        "data"u8.CopyTo(b.AsSpan(36));
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(40), data.Length);
        data.CopyTo(b, 44);
        return b;
    }

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
