using System.Text;

namespace EdgeNet.Devices.Audio;

/// <summary>
/// A microphone through ALSA (libasound.so.2, P/Invoke): opens a capture PCM ("default", "plughw:1,0", ...), asks for
/// 16-bit little-endian interleaved mono at <see cref="SampleRate"/> (snd_pcm_hw_params_*; "default" and plughw devices
/// convert rate and channels), with a period of one chunk, and reads chunk after chunk with snd_pcm_readi into a buffer
/// made once. An overrun (the reader fell behind) is recovered with snd_pcm_recover and counted in <see cref="Overruns"/>.
/// A missing library, device or format raises <see cref="DeviceException"/>.
/// </summary>
public sealed unsafe class AlsaMicrophone : IAudioSource
{
    private nint _pcm;
    private readonly short[] _pcm16;

    /// <param name="device">ALSA PCM name: "default", "plughw:CARD,DEV" (arecord -L lists them), "null" (silence).</param>
    /// <param name="chunkSamples">Samples per chunk (1280 = 80 ms at 16 kHz).</param>
    /// <param name="sampleRate">Requested rate; the device must deliver exactly it (use a plug device to convert).</param>
    public AlsaMicrophone(string device = "default", int chunkSamples = AudioSources.DefaultChunkSamples, int sampleRate = AudioSources.DefaultSampleRate)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSamples, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleRate, 1);
        Device = device;
        ChunkSamples = chunkSamples;
        SampleRate = sampleRate;
        _pcm16 = new short[chunkSamples];
        var alsa = LibAsound.Functions;
        nint pcm;
        var name = Encoding.UTF8.GetBytes(device + "\0");
        int error;
        alsa.SetErrorHandler(LibAsound.SilentHandler);
        try
        {
            fixed (byte* n = name) error = alsa.Open(&pcm, n, LibAsound.StreamCapture, 0);
        }
        finally
        {
            alsa.SetErrorHandler(0); // back to libasound's default (stderr)
        }
        if (error < 0)
            throw new DeviceException($"ALSA capture device '{device}' cannot be opened: {alsa.Describe(error)}" +
                (Directory.Exists("/dev/snd") ? " (arecord -L lists the devices)" : " (this machine has no sound card: /dev/snd is missing; use a WAV file stand-in)"));
        _pcm = pcm;
        nint hw = 0;
        try
        {
            Check(alsa.HwParamsMalloc(&hw), "snd_pcm_hw_params_malloc");
            Check(alsa.HwParamsAny(_pcm, hw), "snd_pcm_hw_params_any");
            Check(alsa.HwParamsSetAccess(_pcm, hw, LibAsound.AccessRwInterleaved), "interleaved read access");
            Check(alsa.HwParamsSetFormat(_pcm, hw, LibAsound.FormatS16Le), "16-bit little-endian samples");
            Check(alsa.HwParamsSetChannels(_pcm, hw, 1), "one channel (mono)");
            uint rate = (uint)sampleRate;
            int dir = 0;
            Check(alsa.HwParamsSetRateNear(_pcm, hw, &rate, &dir), $"{sampleRate} Hz");
            if (rate != sampleRate)
                throw new DeviceException($"ALSA device '{device}' records at {rate} Hz, not {sampleRate} Hz: use a plug device (default, plughw:CARD,DEV) that converts");
            nuint period = (nuint)chunkSamples;
            dir = 0;
            Check(alsa.HwParamsSetPeriodSizeNear(_pcm, hw, &period, &dir), $"a period of {chunkSamples} frames");
            Check(alsa.HwParams(_pcm, hw), "applying the hardware parameters");
            Check(alsa.Prepare(_pcm), "snd_pcm_prepare");
        }
        catch
        {
            Dispose();
            throw;
        }
        finally
        {
            if (hw != 0) alsa.HwParamsFree(hw);
        }
        Description = $"ALSA {device} ({sampleRate} Hz mono, 16-bit)";
    }

    public string Device { get; }
    public int SampleRate { get; }
    public int ChunkSamples { get; }
    public string Description { get; }

    /// <summary>Overruns recovered so far (audio the reader lost because it fell behind).</summary>
    public int Overruns { get; private set; }

    private void Check(int error, string what)
    {
        if (error < 0) throw new DeviceException($"ALSA device '{Device}' does not accept {what}: {LibAsound.Functions.Describe(error)}");
    }

    public int ReadChunk(Span<float> chunk)
    {
        if (chunk.Length != ChunkSamples) throw new ArgumentException($"chunks are {ChunkSamples} samples", nameof(chunk));
        ObjectDisposedException.ThrowIf(_pcm == 0, this);
        var alsa = LibAsound.Functions;
        int filled = 0;
        fixed (short* buffer = _pcm16)
        {
            while (filled < ChunkSamples)
            {
                nint got = alsa.ReadInterleaved(_pcm, buffer + filled, (nuint)(ChunkSamples - filled));
                if (got >= 0) { filled += (int)got; continue; }
                int error = (int)got;
                if (error == -LibAsound.EAGAIN || error == -LibAsound.EINTR) continue;
                if (error == -LibAsound.EPIPE || error == -LibAsound.ESTRPIPE)
                {
                    Overruns++;
                    if (alsa.Recover(_pcm, error, 1) >= 0) continue;
                }
                throw new DeviceException($"ALSA device '{Device}': reading failed: {alsa.Describe(error)}");
            }
        }
        for (int i = 0; i < ChunkSamples; i++) chunk[i] = _pcm16[i];
        return ChunkSamples;
    }

    public void Dispose()
    {
        if (_pcm == 0) return;
        LibAsound.Functions.Close(_pcm);
        _pcm = 0;
    }
}
