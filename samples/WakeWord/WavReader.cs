using System.Buffers.Binary;

namespace EdgeNet.Samples.WakeWord;

/// <summary>A WAV file that cannot be used: not RIFF/WAVE, unsupported encoding, truncated.</summary>
public sealed class WavFormatException(string message) : Exception(message);

/// <summary>
/// Reads RIFF WAVE files (PCM 8/16/24/32-bit or IEEE float 32-bit, any channel count) as mono samples scaled to the
/// int16 range (what openWakeWord's models expect), resampled linearly to the requested rate.
/// </summary>
public static class WavReader
{
    public static float[] ReadMono(string path, int sampleRate) => ReadMono(File.ReadAllBytes(path), sampleRate, Path.GetFileName(path));

    public static float[] ReadMono(byte[] bytes, int sampleRate, string name = "WAV")
    {
        var b = bytes.AsSpan();
        if (b.Length < 12 || !b[..4].SequenceEqual("RIFF"u8) || !b[8..12].SequenceEqual("WAVE"u8))
            throw new WavFormatException($"{name} is not a RIFF/WAVE file");
        int format = 0, channels = 0, rate = 0, bits = 0;
        ReadOnlySpan<byte> data = default;
        bool haveData = false;
        for (int at = 12; at + 8 <= b.Length;)
        {
            var id = b.Slice(at, 4);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(b[(at + 4)..]);
            int body = at + 8;
            long available = Math.Min(size, b.Length - body);
            if (id.SequenceEqual("fmt "u8))
            {
                if (available < 16) throw new WavFormatException($"{name}: fmt chunk is truncated");
                format = BinaryPrimitives.ReadUInt16LittleEndian(b[body..]);
                channels = BinaryPrimitives.ReadUInt16LittleEndian(b[(body + 2)..]);
                rate = BinaryPrimitives.ReadInt32LittleEndian(b[(body + 4)..]);
                bits = BinaryPrimitives.ReadUInt16LittleEndian(b[(body + 14)..]);
                if (format == 0xFFFE && available >= 26) format = BinaryPrimitives.ReadUInt16LittleEndian(b[(body + 24)..]); // WAVE_FORMAT_EXTENSIBLE
            }
            else if (id.SequenceEqual("data"u8))
            {
                data = b.Slice(body, (int)available); // a streamed WAV may declare 0 or 0xFFFFFFFF: take what is there
                if (size == 0 || size == uint.MaxValue) data = b[body..];
                haveData = true;
            }
            at = body + (int)Math.Min(size + (size & 1), b.Length - body);
        }
        if (channels <= 0 || rate <= 0) throw new WavFormatException($"{name}: no valid fmt chunk");
        if (!haveData) throw new WavFormatException($"{name}: no data chunk");
        if (!(format == 1 && bits is 8 or 16 or 24 or 32) && !(format == 3 && bits == 32))
            throw new WavFormatException($"{name}: encoding {format} with {bits} bits is not supported (PCM 8/16/24/32 or float 32)");
        int frameBytes = channels * bits / 8;
        int frames = data.Length / frameBytes;
        var mono = new float[frames];
        for (int f = 0; f < frames; f++)
        {
            double sum = 0;
            for (int c = 0; c < channels; c++)
            {
                var s = data.Slice(f * frameBytes + c * bits / 8, bits / 8);
                sum += format == 3 ? BinaryPrimitives.ReadSingleLittleEndian(s) * 32768.0 : bits switch
                {
                    8 => (s[0] - 128) * 256.0,
                    16 => BinaryPrimitives.ReadInt16LittleEndian(s),
                    24 => ((s[0] << 8 | s[1] << 16 | s[2] << 24) >> 8) / 256.0,
                    _ => BinaryPrimitives.ReadInt32LittleEndian(s) / 65536.0,
                };
            }
            mono[f] = (float)(sum / channels);
        }
        return rate == sampleRate ? mono : Resample(mono, rate, sampleRate);
    }

    /// <summary>Linear-interpolation resampling (adequate for speech into a 16 kHz front end).</summary>
    public static float[] Resample(float[] x, int from, int to)
    {
        if (x.Length == 0) return x;
        long n = (long)x.Length * to / from;
        var y = new float[n];
        double step = (double)from / to;
        for (long i = 0; i < n; i++)
        {
            double t = i * step;
            int k = (int)t;
            double frac = t - k;
            y[i] = (float)(k + 1 < x.Length ? x[k] * (1 - frac) + x[k + 1] * frac : x[^1]);
        }
        return y;
    }
}
