using System.Buffers.Binary;

namespace EdgeNet.Devices.Audio;

/// <summary>
/// A microphone stand-in that streams a RIFF/WAVE file (PCM 8/16/24/32-bit or IEEE float 32-bit, any channel count)
/// from disk in fixed chunks: channels are averaged to mono in int16 scale and other rates are resampled linearly to
/// <see cref="SampleRate"/>, sample for sample as the WakeWord sample's WavReader does on the whole file. Optionally
/// paced in real time (chunk n is returned no earlier than (n + 1) chunk durations after the first read, as a microphone
/// delivers it) and looping (the file restarts seamlessly,
/// chunks straddle the seam). Reads a block of frames at a time; nothing is allocated per chunk.
/// </summary>
public sealed class WavFileMicrophone : IAudioSource
{
    private const int BlockBytes = 1 << 16; // raw audio read at a time (at least two frames)
    private readonly FileStream _stream;
    private readonly int _format, _channels, _bits, _fileRate, _frameBytes, _blockFrames;
    private readonly long _dataOffset, _frames, _outputFrames;
    private readonly double _step;
    private readonly bool _realTime, _loop;
    private readonly TimeProvider _time;
    private readonly byte[] _raw;
    private readonly float[] _mono;
    private long _monoBase, _framesRead; // _mono[0] is input frame _monoBase; _mono holds _monoCount frames
    private int _monoCount;
    private long _outputIndex;            // next output sample within the current pass over the file
    private long _chunks, _startTimestamp;
    private bool _ended;

    /// <param name="path">The WAV file.</param>
    /// <param name="chunkSamples">Samples per chunk (1280 = 80 ms at 16 kHz).</param>
    /// <param name="sampleRate">Output rate; the file is resampled when its rate differs.</param>
    /// <param name="realTime">Pace chunks at real time (as a microphone would deliver them).</param>
    /// <param name="loop">Restart at the end instead of ending.</param>
    /// <param name="time">Clock for pacing (default: the system clock).</param>
    public WavFileMicrophone(string path, int chunkSamples = AudioSources.DefaultChunkSamples, int sampleRate = AudioSources.DefaultSampleRate,
        bool realTime = false, bool loop = false, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSamples, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleRate, 1);
        ChunkSamples = chunkSamples;
        SampleRate = sampleRate;
        _realTime = realTime;
        _loop = loop;
        _time = time ?? TimeProvider.System;
        string name = Path.GetFileName(path);
        try
        {
            _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DeviceException($"microphone stand-in cannot open {path}: {e.Message}", e);
        }
        try
        {
            (_format, _channels, _fileRate, _bits, _dataOffset, long dataBytes) = ReadHeader(_stream, name);
            _frameBytes = _channels * _bits / 8;
            _frames = dataBytes / _frameBytes;
            _outputFrames = _fileRate == sampleRate ? _frames : _frames * sampleRate / _fileRate;
            _step = (double)_fileRate / sampleRate;
            _blockFrames = Math.Max(2, BlockBytes / _frameBytes); // two: the resampler needs frames k and k + 1
            _raw = new byte[_blockFrames * _frameBytes];
            _mono = new float[_blockFrames + 2];
            if (_loop && _outputFrames == 0) throw new AudioFormatException($"{name} has no samples to loop over");
            _stream.Position = _dataOffset;
        }
        catch
        {
            _stream.Dispose();
            throw;
        }
        Description = $"{name} ({_fileRate} Hz, {_channels} ch, {(_format == 3 ? "float" : "PCM")} {_bits}-bit{(_loop ? ", looping" : "")}{(_realTime ? ", real time" : "")})";
    }

    public int SampleRate { get; }
    public int ChunkSamples { get; }
    public string Description { get; }

    /// <summary>Samples one pass over the file yields at <see cref="SampleRate"/>.</summary>
    public long TotalSamples => _outputFrames;

    private static (int Format, int Channels, int Rate, int Bits, long DataOffset, long DataBytes) ReadHeader(FileStream stream, string name)
    {
        Span<byte> head = stackalloc byte[12];
        if (stream.ReadAtLeast(head, 12, throwOnEndOfStream: false) < 12 || !head[..4].SequenceEqual("RIFF"u8) || !head[8..12].SequenceEqual("WAVE"u8))
            throw new AudioFormatException($"{name} is not a RIFF/WAVE file");
        int format = 0, channels = 0, rate = 0, bits = 0;
        Span<byte> chunk = stackalloc byte[8];
        Span<byte> fmt = stackalloc byte[26];
        long length = stream.Length;
        while (stream.Position + 8 <= length)
        {
            stream.ReadExactly(chunk);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(chunk[4..]);
            long body = stream.Position;
            long available = Math.Min(size, length - body);
            if (chunk[..4].SequenceEqual("fmt "u8))
            {
                if (available < 16) throw new AudioFormatException($"{name}: fmt chunk is truncated");
                int n = (int)Math.Min(available, fmt.Length);
                stream.ReadExactly(fmt[..n]);
                format = BinaryPrimitives.ReadUInt16LittleEndian(fmt);
                channels = BinaryPrimitives.ReadUInt16LittleEndian(fmt[2..]);
                rate = BinaryPrimitives.ReadInt32LittleEndian(fmt[4..]);
                bits = BinaryPrimitives.ReadUInt16LittleEndian(fmt[14..]);
                if (format == 0xFFFE && n >= 26) format = BinaryPrimitives.ReadUInt16LittleEndian(fmt[24..]); // WAVE_FORMAT_EXTENSIBLE
            }
            else if (chunk[..4].SequenceEqual("data"u8))
            {
                if (channels <= 0 || rate <= 0) throw new AudioFormatException($"{name}: no valid fmt chunk before the data");
                if (!(format == 1 && bits is 8 or 16 or 24 or 32) && !(format == 3 && bits == 32))
                    throw new AudioFormatException($"{name}: encoding {format} with {bits} bits is not supported (PCM 8/16/24/32 or float 32)");
                // a streamed WAV may declare 0 or 0xFFFFFFFF: take what is there
                long dataBytes = size == 0 || size == uint.MaxValue ? length - body : available;
                return (format, channels, rate, bits, body, dataBytes);
            }
            stream.Position = body + Math.Min(size + (size & 1), length - body);
        }
        throw new AudioFormatException(channels <= 0 || rate <= 0 ? $"{name}: no valid fmt chunk" : $"{name}: no data chunk");
    }

    /// <summary>Makes sure input frames k and k + 1 (when the file has them) are in the window; returns k's index in it.</summary>
    private int Window(long k)
    {
        long need = Math.Min(k + 2, _frames);
        if (need <= _monoBase + _monoCount) return (int)(k - _monoBase);
        int keep = (int)Math.Max(0, _monoBase + _monoCount - k); // frames from k on already decoded
        _mono.AsSpan(_monoCount - keep, keep).CopyTo(_mono);
        _monoBase = k;
        _monoCount = keep;
        long toRead = Math.Min(_blockFrames, _frames - _framesRead);
        if (_framesRead < k) // skip frames nobody needs (a downsampling step > block)
        {
            _stream.Position = _dataOffset + k * _frameBytes;
            _framesRead = k;
            toRead = Math.Min(_blockFrames, _frames - k);
        }
        var raw = _raw.AsSpan(0, (int)(toRead * _frameBytes));
        _stream.ReadExactly(raw);
        _framesRead += toRead;
        for (int f = 0; f < toRead; f++)
        {
            double sum = 0;
            for (int c = 0; c < _channels; c++)
            {
                var s = raw.Slice(f * _frameBytes + c * _bits / 8, _bits / 8);
                sum += _format == 3 ? BinaryPrimitives.ReadSingleLittleEndian(s) * 32768.0 : _bits switch
                {
                    8 => (s[0] - 128) * 256.0,
                    16 => BinaryPrimitives.ReadInt16LittleEndian(s),
                    24 => ((s[0] << 8 | s[1] << 16 | s[2] << 24) >> 8) / 256.0,
                    _ => BinaryPrimitives.ReadInt32LittleEndian(s) / 65536.0,
                };
            }
            _mono[_monoCount++] = (float)(sum / _channels);
        }
        return (int)(k - _monoBase);
    }

    private float NextSample()
    {
        long i = _outputIndex++;
        if (_fileRate == SampleRate) return _mono[Window(i)];
        double t = i * _step;
        long k = (long)t;
        double frac = t - k;
        int at = Window(k);
        if (k + 1 < _frames) return (float)(_mono[at] * (1 - frac) + _mono[at + 1] * frac);
        return _mono[Window(_frames - 1)];
    }

    private void Rewind()
    {
        _stream.Position = _dataOffset;
        _framesRead = 0;
        _monoBase = 0;
        _monoCount = 0;
        _outputIndex = 0;
    }

    public int ReadChunk(Span<float> chunk)
    {
        if (chunk.Length != ChunkSamples) throw new ArgumentException($"chunks are {ChunkSamples} samples", nameof(chunk));
        ObjectDisposedException.ThrowIf(!_stream.CanRead, this);
        if (_ended) { chunk.Clear(); return 0; }
        int n = 0;
        try
        {
            while (n < chunk.Length)
            {
                if (_outputIndex == _outputFrames)
                {
                    if (!_loop) { _ended = true; break; }
                    Rewind();
                }
                chunk[n++] = NextSample();
            }
        }
        catch (IOException e)
        {
            throw new DeviceException($"microphone stand-in: reading {Description} failed: {e.Message}", e);
        }
        chunk[n..].Clear();
        if (_realTime && n > 0)
        {
            if (_chunks == 0) _startTimestamp = _time.GetTimestamp();
            var due = TimeSpan.FromSeconds((double)(_chunks + 1) * ChunkSamples / SampleRate) - _time.GetElapsedTime(_startTimestamp);
            if (due > TimeSpan.Zero) System.Threading.Thread.Sleep(due);
        }
        _chunks++;
        return n;
    }

    public void Dispose() => _stream.Dispose();
}
