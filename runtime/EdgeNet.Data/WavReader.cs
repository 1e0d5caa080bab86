using System.Buffers.Binary;

namespace EdgeNet.Data;

/// <summary>
/// Reads RIFF WAVE files — PCM 8/16/24/32-bit or IEEE float 32/64-bit (also inside WAVE_FORMAT_EXTENSIBLE), any
/// number of channels — as mono (channels averaged), resampled to the requested rate with a windowed-sinc filter.
/// Samples come out in [−1, 1] times <c>fullScale</c> (pass 32768 for models such as openWakeWord's that expect the
/// int16 range). Anything else (ADPCM, μ-law, a missing or cut fmt/data chunk) is an <see cref="AudioFormatException"/>.
/// </summary>
public static class WavReader
{
    /// <summary>The rate the speech models here use.</summary>
    public const int DefaultSampleRate = 16000;

    public static float[] ReadMono(string path, int sampleRate = DefaultSampleRate, float fullScale = 1f)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new AudioFormatException($"Cannot read '{path}': {e.Message}", e); }
        return ReadMono(bytes, sampleRate, fullScale, path);
    }

    public static float[] ReadMono(byte[] bytes, int sampleRate = DefaultSampleRate, float fullScale = 1f, string name = "WAV")
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleRate, 1);
        var b = bytes.AsSpan();
        if (b.Length < 12 || !b[..4].SequenceEqual("RIFF"u8) || !b[8..12].SequenceEqual("WAVE"u8))
            throw new AudioFormatException($"'{name}' is not a RIFF/WAVE file");
        int format = 0, channels = 0, rate = 0, bits = 0;
        int dataAt = -1, dataLength = 0;
        bool haveFmt = false;
        for (int at = 12; at + 8 <= b.Length;)
        {
            var id = b.Slice(at, 4);
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(b[(at + 4)..]);
            int body = at + 8;
            long available = Math.Min(size, (long)b.Length - body);
            if (id.SequenceEqual("fmt "u8))
            {
                if (available < 16) throw new AudioFormatException($"'{name}': the fmt chunk is truncated");
                format = BinaryPrimitives.ReadUInt16LittleEndian(b[body..]);
                channels = BinaryPrimitives.ReadUInt16LittleEndian(b[(body + 2)..]);
                rate = BinaryPrimitives.ReadInt32LittleEndian(b[(body + 4)..]);
                bits = BinaryPrimitives.ReadUInt16LittleEndian(b[(body + 14)..]);
                if (format == 0xFFFE)
                {
                    if (available < 26) throw new AudioFormatException($"'{name}': the WAVE_FORMAT_EXTENSIBLE fmt chunk is truncated");
                    format = BinaryPrimitives.ReadUInt16LittleEndian(b[(body + 24)..]);
                }
                haveFmt = true;
            }
            else if (id.SequenceEqual("data"u8))
            {
                dataAt = body;
                // A recorder that was cut off leaves 0 or 0xFFFFFFFF (streaming) or a size past the end: use what is there.
                dataLength = size is 0 or uint.MaxValue ? b.Length - body : (int)available;
                if (size is not (0 or uint.MaxValue) && size > available)
                    throw new AudioFormatException($"'{name}' is truncated: its data chunk says {size} bytes, {available} are there");
            }
            long next = body + (long)size + (size & 1);
            if (next > b.Length || size == uint.MaxValue) break;
            at = (int)next;
        }
        if (!haveFmt) throw new AudioFormatException($"'{name}': no fmt chunk");
        if (channels <= 0 || rate <= 0) throw new AudioFormatException($"'{name}': fmt chunk has {channels} channels at {rate} Hz");
        if (dataAt < 0) throw new AudioFormatException($"'{name}': no data chunk");
        bool pcm = format == 1 && bits is 8 or 16 or 24 or 32, ieee = format == 3 && bits is 32 or 64;
        if (!pcm && !ieee)
            throw new AudioFormatException($"'{name}': encoding {format} with {bits} bits per sample is not supported (PCM 8/16/24/32-bit or float 32/64-bit)");
        int bytesPerSample = bits / 8, frameBytes = channels * bytesPerSample;
        var data = b.Slice(dataAt, dataLength);
        int frames = data.Length / frameBytes;
        var mono = new float[frames];
        double scale = fullScale / (double)channels;
        for (int f = 0; f < frames; f++)
        {
            double sum = 0;
            for (int c = 0; c < channels; c++)
            {
                var s = data.Slice(f * frameBytes + c * bytesPerSample, bytesPerSample);
                sum += ieee
                    ? (bits == 32 ? BinaryPrimitives.ReadSingleLittleEndian(s) : BinaryPrimitives.ReadDoubleLittleEndian(s))
                    : bits switch
                    {
                        8 => (s[0] - 128) / 128.0,
                        16 => BinaryPrimitives.ReadInt16LittleEndian(s) / 32768.0,
                        24 => ((s[0] << 8 | s[1] << 16 | s[2] << 24) >> 8) / 8388608.0,
                        _ => BinaryPrimitives.ReadInt32LittleEndian(s) / 2147483648.0,
                    };
            }
            mono[f] = (float)(sum * scale);
        }
        return rate == sampleRate ? mono : Resample(mono, rate, sampleRate);
    }

    /// <summary>
    /// Band-limited resampling: each output sample is a Hann-windowed sinc interpolation of the input (16 zero
    /// crossings each side), with the cutoff at the lower of the two Nyquist frequencies so downsampling does not alias.
    /// </summary>
    public static float[] Resample(ReadOnlySpan<float> x, int from, int to)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(from, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(to, 1);
        if (x.Length == 0) return [];
        if (from == to) return x.ToArray();
        const int ZeroCrossings = 16;
        long n = (long)x.Length * to / from;
        var y = new float[n];
        double cutoff = Math.Min(1.0, (double)to / from); // in units of the input's Nyquist
        double halfWidth = ZeroCrossings / cutoff;        // filter half-length in input samples
        double step = (double)from / to;
        for (long i = 0; i < n; i++)
        {
            double t = i * step;
            int first = (int)Math.Ceiling(t - halfWidth), last = (int)Math.Floor(t + halfWidth);
            double sum = 0;
            for (int k = Math.Max(first, 0); k <= Math.Min(last, x.Length - 1); k++)
            {
                double d = k - t;
                double arg = Math.PI * d * cutoff;
                double sinc = Math.Abs(arg) < 1e-9 ? 1 : Math.Sin(arg) / arg;
                double window = 0.5 + 0.5 * Math.Cos(Math.PI * d / halfWidth);
                sum += x[k] * cutoff * sinc * window;
            }
            y[i] = (float)sum;
        }
        return y;
    }
}
