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
    public static byte[] Make(int format, int channels, int rate, int bits, byte[] data) => Support.WavBytes.Make(format, channels, rate, bits, data);

    /// <summary>16-bit mono PCM whose sample i is f(i).</summary>
    public static byte[] Pcm16(int rate, int samples, Func<int, short> f)
    {
        var data = new byte[samples * 2];
        for (int i = 0; i < samples; i++) BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(2 * i), f(i));
        return Make(1, 1, rate, 16, data);
    }
}
