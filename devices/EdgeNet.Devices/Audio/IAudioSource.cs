namespace EdgeNet.Devices.Audio;

/// <summary>
/// Mono audio in fixed chunks, written into a buffer the caller owns (nothing is allocated per chunk). Samples are
/// floats in int16 scale (-32768..32767), what openWakeWord's melspectrogram model takes. The default chunk is
/// 1280 samples at 16 kHz = 80 ms, the step of the openWakeWord chain.
/// </summary>
public interface IAudioSource : IDisposable
{
    /// <summary>Samples per second of the chunks delivered (16000 for the sources here).</summary>
    int SampleRate { get; }

    /// <summary>Samples per chunk.</summary>
    int ChunkSamples { get; }

    /// <summary>What the audio comes from, e.g. "ALSA default" or "hey_jarvis.wav (16000 Hz, 1 ch, 16-bit)".</summary>
    string Description { get; }

    /// <summary>
    /// Fills <paramref name="chunk"/> (exactly <see cref="ChunkSamples"/> long) with the next samples. Returns how many are
    /// real: <see cref="ChunkSamples"/> normally, fewer for the last chunk of a finite source (the rest is zeroed), 0 once
    /// it has ended. Device failures raise <see cref="DeviceException"/>.
    /// </summary>
    int ReadChunk(Span<float> chunk);
}

public static class AudioSources
{
    /// <summary>openWakeWord's rate.</summary>
    public const int DefaultSampleRate = 16000;

    /// <summary>80 ms at 16 kHz.</summary>
    public const int DefaultChunkSamples = 1280;

    /// <summary>
    /// Opens a source from a spec: "alsa:DEVICE" (e.g. alsa:default, alsa:plughw:1,0) for a microphone, "wav:PATH" or a
    /// path ending in .wav for the file stand-in.
    /// </summary>
    public static IAudioSource Open(string spec, int chunkSamples = DefaultChunkSamples, bool realTime = false, bool loop = false)
    {
        if (spec.StartsWith("alsa:", StringComparison.Ordinal)) return new AlsaMicrophone(spec[5..], chunkSamples);
        if (spec.StartsWith("wav:", StringComparison.Ordinal)) return new WavFileMicrophone(spec[4..], chunkSamples, DefaultSampleRate, realTime, loop);
        if (spec.EndsWith(".wav", StringComparison.OrdinalIgnoreCase)) return new WavFileMicrophone(spec, chunkSamples, DefaultSampleRate, realTime, loop);
        throw new DeviceException($"unknown audio source '{spec}': use alsa:DEVICE (e.g. alsa:default) or wav:PATH");
    }
}
