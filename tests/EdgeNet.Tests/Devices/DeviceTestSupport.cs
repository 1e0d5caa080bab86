using System.Buffers.Binary;

namespace EdgeNet.Tests.Devices;

/// <summary>A clock the test moves by hand (for pacing-free, exact timestamps of the stand-ins).</summary>
internal sealed class ManualClock : TimeProvider
{
    public TimeSpan Now { get; set; }
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    public override long GetTimestamp() => Now.Ticks;
}

/// <summary>A temporary folder deleted at dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("edgenet-devices-").FullName;
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() => Directory.Delete(Path, recursive: true);
}

internal static class WavFiles
{
    /// <summary>A canonical 44-byte-header WAV around raw sample bytes.</summary>
    public static byte[] Make(int format, int channels, int rate, int bits, byte[] data)
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

    /// <summary>16-bit mono PCM whose sample i is f(i).</summary>
    public static byte[] Pcm16(int rate, int samples, Func<int, short> f)
    {
        var data = new byte[samples * 2];
        for (int i = 0; i < samples; i++) BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(2 * i), f(i));
        return Make(1, 1, rate, 16, data);
    }
}
