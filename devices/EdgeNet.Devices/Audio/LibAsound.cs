using System.Runtime.InteropServices;

namespace EdgeNet.Devices.Audio;

/// <summary>
/// The ALSA library (libasound.so.2), loaded on first use through <see cref="NativeLibrary"/> so a machine without it gets
/// a <see cref="DeviceException"/> saying so instead of a DllNotFoundException at some later call.
/// </summary>
internal static unsafe class LibAsound
{
    public const int StreamCapture = 1;           // SND_PCM_STREAM_CAPTURE
    public const int AccessRwInterleaved = 3;     // SND_PCM_ACCESS_RW_INTERLEAVED
    public const int FormatS16Le = 2;             // SND_PCM_FORMAT_S16_LE
    public const int EPIPE = 32, EAGAIN = 11, ESTRPIPE = 86, EINTR = 4;

    private static readonly Lazy<Api> Loaded = new(Load);

    /// <summary>The entry points; raises <see cref="DeviceException"/> when libasound.so.2 cannot be loaded.</summary>
    public static Api Functions => Loaded.Value;

    public sealed class Api
    {
        public delegate* unmanaged<nint*, byte*, int, int, int> Open;
        public delegate* unmanaged<nint, int> Close;
        public delegate* unmanaged<nint*, int> HwParamsMalloc;
        public delegate* unmanaged<nint, void> HwParamsFree;
        public delegate* unmanaged<nint, nint, int> HwParamsAny;
        public delegate* unmanaged<nint, nint, int, int> HwParamsSetAccess;
        public delegate* unmanaged<nint, nint, int, int> HwParamsSetFormat;
        public delegate* unmanaged<nint, nint, uint, int> HwParamsSetChannels;
        public delegate* unmanaged<nint, nint, uint*, int*, int> HwParamsSetRateNear;
        public delegate* unmanaged<nint, nint, nuint*, int*, int> HwParamsSetPeriodSizeNear;
        public delegate* unmanaged<nint, nint, int> HwParams;
        public delegate* unmanaged<nint, int> Prepare;
        public delegate* unmanaged<nint, void*, nuint, nint> ReadInterleaved;
        public delegate* unmanaged<nint, int, int, int> Recover;
        public delegate* unmanaged<int, byte*> StrError;
        public delegate* unmanaged<nint, int> SetErrorHandler;

        public string Describe(int error) => Marshal.PtrToStringUTF8((nint)StrError(error)) ?? $"error {error}";
    }

    /// <summary>
    /// An error handler that prints nothing: while a device is opened, libasound's own messages ("ALSA lib pcm.c:...
    /// Unknown PCM default") would only repeat what the <see cref="DeviceException"/> says. The C handler is variadic;
    /// on the Linux ABIs (System V x86-64, AAPCS64) a callee that ignores the variadic part may take the fixed ones.
    /// </summary>
    [UnmanagedCallersOnly]
    private static void SilentErrorHandler(byte* file, int line, byte* function, int error, byte* format) { }

    public static nint SilentHandler => (nint)(delegate* unmanaged<byte*, int, byte*, int, byte*, void>)&SilentErrorHandler;

    private static Api Load()
    {
        if (!OperatingSystem.IsLinux()) throw new DeviceException($"ALSA microphones need Linux (this is {RuntimeInformation.OSDescription})");
        if (!NativeLibrary.TryLoad("libasound.so.2", out nint lib))
            throw new DeviceException("libasound.so.2 (ALSA) is not installed: apt-get install libasound2 (Raspberry Pi OS has it)");
        nint Get(string name) => NativeLibrary.TryGetExport(lib, name, out nint f) ? f
            : throw new DeviceException($"libasound.so.2 has no {name}: the installed ALSA library is too old");
        return new Api
        {
            Open = (delegate* unmanaged<nint*, byte*, int, int, int>)Get("snd_pcm_open"),
            Close = (delegate* unmanaged<nint, int>)Get("snd_pcm_close"),
            HwParamsMalloc = (delegate* unmanaged<nint*, int>)Get("snd_pcm_hw_params_malloc"),
            HwParamsFree = (delegate* unmanaged<nint, void>)Get("snd_pcm_hw_params_free"),
            HwParamsAny = (delegate* unmanaged<nint, nint, int>)Get("snd_pcm_hw_params_any"),
            HwParamsSetAccess = (delegate* unmanaged<nint, nint, int, int>)Get("snd_pcm_hw_params_set_access"),
            HwParamsSetFormat = (delegate* unmanaged<nint, nint, int, int>)Get("snd_pcm_hw_params_set_format"),
            HwParamsSetChannels = (delegate* unmanaged<nint, nint, uint, int>)Get("snd_pcm_hw_params_set_channels"),
            HwParamsSetRateNear = (delegate* unmanaged<nint, nint, uint*, int*, int>)Get("snd_pcm_hw_params_set_rate_near"),
            HwParamsSetPeriodSizeNear = (delegate* unmanaged<nint, nint, nuint*, int*, int>)Get("snd_pcm_hw_params_set_period_size_near"),
            HwParams = (delegate* unmanaged<nint, nint, int>)Get("snd_pcm_hw_params"),
            Prepare = (delegate* unmanaged<nint, int>)Get("snd_pcm_prepare"),
            ReadInterleaved = (delegate* unmanaged<nint, void*, nuint, nint>)Get("snd_pcm_readi"),
            Recover = (delegate* unmanaged<nint, int, int, int>)Get("snd_pcm_recover"),
            StrError = (delegate* unmanaged<int, byte*>)Get("snd_strerror"),
            SetErrorHandler = (delegate* unmanaged<nint, int>)Get("snd_lib_error_set_handler"),
        };
    }
}
