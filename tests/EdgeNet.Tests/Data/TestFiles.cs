using System.Buffers.Binary;

namespace EdgeNet.Tests.Data;

/// <summary>Temporary folders and hand-built WAV/BMP files for the data tests.</summary>
internal static class TestFiles
{
    public static string TempDir(string tag)
    {
        string d = Path.Combine(Path.GetTempPath(), $"edgenet-{tag}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(d);
        return d;
    }

    /// <summary>A RIFF/WAVE file with one fmt chunk (16 bytes) and one data chunk.</summary>
    public static byte[] Wav(int format, int channels, int rate, int bits, byte[] data) => Support.WavBytes.Make(format, channels, rate, bits, data);

    public static byte[] Pcm16(ReadOnlySpan<float> samples)
    {
        var d = new byte[samples.Length * 2];
        for (int i = 0; i < samples.Length; i++)
            BinaryPrimitives.WriteInt16LittleEndian(d.AsSpan(2 * i), (short)Math.Clamp(Math.Round(samples[i] * 32767.0), -32768, 32767));
        return d;
    }

    /// <summary>A 24-bit bottom-up BMP of the given RGB pixels (row-major, top row first).</summary>
    public static byte[] Bmp24(byte[] rgb, int width, int height)
    {
        int stride = (width * 3 + 3) & ~3, size = 54 + stride * height;
        var b = new byte[size];
        b[0] = (byte)'B';
        b[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(2), size);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(28), 24);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(34), stride * height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int src = (y * width + x) * 3, dst = 54 + (height - 1 - y) * stride + x * 3;
                b[dst] = rgb[src + 2];
                b[dst + 1] = rgb[src + 1];
                b[dst + 2] = rgb[src];
            }
        return b;
    }
}
