using System.Runtime.InteropServices;
using EdgeNet.Devices.Imaging;
using EdgeNet.Devices.Native;

namespace EdgeNet.Devices.Camera;

/// <summary>
/// A V4L2 capture device (/dev/videoN: USB webcams through uvcvideo, and any driver offering YUYV) streamed through
/// memory-mapped buffers: VIDIOC_QUERYCAP, S_FMT (YUYV at the requested size; the driver may pick the nearest it has),
/// REQBUFS + QUERYBUF + mmap, QBUF all, STREAMON; each <see cref="Capture"/> polls, DQBUFs one buffer, converts it to
/// RGB24 (<see cref="YuyvToRgb.Convert"/>) and queues it again. Missing device, permission, a device without capture or
/// without YUYV (MJPEG-only cameras; the Pi camera modules, which need libcamera) raise <see cref="DeviceException"/>.
/// </summary>
public sealed unsafe class V4l2Camera : ICamera
{
    private int _fd = -1;
    private readonly (nint Address, nuint Length)[] _buffers;
    private readonly int _stride;
    private readonly int _timeoutMs;
    private bool _streaming;

    /// <param name="device">e.g. "/dev/video0".</param>
    /// <param name="width">Requested width (the driver may adjust it; see <see cref="Width"/>).</param>
    /// <param name="height">Requested height.</param>
    /// <param name="bufferCount">Driver buffers to cycle through.</param>
    /// <param name="timeout">How long <see cref="Capture"/> waits for a frame before failing.</param>
    public V4l2Camera(string device = "/dev/video0", int width = 640, int height = 480, int bufferCount = 4, TimeSpan? timeout = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferCount, 1);
        _timeoutMs = (int)(timeout ?? TimeSpan.FromSeconds(2)).TotalMilliseconds;
        if (!OperatingSystem.IsLinux() || IntPtr.Size != 8)
            throw new DeviceException($"V4L2 camera {device}: needs 64-bit Linux (this is {RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture})");
        Device = device;
        try
        {
            _fd = Libc.Open(device, Libc.O_RDWR | Libc.O_CLOEXEC);
            if (_fd < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                string hint = errno switch
                {
                    Libc.ENOENT => Directory.Exists("/dev") && Directory.GetFiles("/dev", "video*").Length == 0
                        ? " (this machine has no /dev/video* device: connect a USB camera, or use FolderCamera)"
                        : " (no such device; see ls /dev/video*)",
                    Libc.EACCES => " (permission denied: add the user to the 'video' group)",
                    Libc.EBUSY => " (the camera is in use by another program)",
                    _ => "",
                };
                throw new DeviceException($"V4L2 camera {device} cannot be opened: {Libc.Describe(errno)}{hint}");
            }

            V4l2.Capability cap;
            if (Libc.Ioctl(_fd, V4l2.QueryCap, &cap) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new DeviceException(errno == Libc.ENOTTY || errno == Libc.EINVAL
                    ? $"{device} is not a V4L2 device (VIDIOC_QUERYCAP: {Libc.Describe(errno)})"
                    : $"V4L2 camera {device}: VIDIOC_QUERYCAP failed: {Libc.Describe(errno)}");
            }
            uint caps = (cap.Capabilities & V4l2.CapDeviceCaps) != 0 ? cap.DeviceCaps : cap.Capabilities;
            string card = Marshal.PtrToStringUTF8((nint)cap.Card) ?? "", driver = Marshal.PtrToStringUTF8((nint)cap.Driver) ?? "";
            if ((caps & V4l2.CapVideoCapture) == 0)
                throw new DeviceException($"{device} ({driver}: {card}) is not a video capture device (on a Raspberry Pi the codec and ISP nodes are /dev/video1x; cameras are usually /dev/video0)");
            if ((caps & V4l2.CapStreaming) == 0)
                throw new DeviceException($"{device} ({driver}: {card}) does not support streaming I/O");

            var format = new V4l2.Format { Type = V4l2.BufTypeVideoCapture };
            format.Pix.Width = (uint)width;
            format.Pix.Height = (uint)height;
            format.Pix.PixelFormat = V4l2.PixYuyv;
            format.Pix.Field = V4l2.FieldNone;
            Check(Libc.Ioctl(_fd, V4l2.SetFormat, &format), "VIDIOC_S_FMT (YUYV)");
            if (format.Pix.PixelFormat != V4l2.PixYuyv)
                throw new DeviceException($"{device} ({card}) does not offer YUYV frames (it chose {V4l2.FourCcName(format.Pix.PixelFormat)}); MJPEG-only cameras are not supported");
            Width = (int)format.Pix.Width;
            Height = (int)format.Pix.Height;
            _stride = (int)Math.Max(format.Pix.BytesPerLine, (uint)YuyvToRgb.MinStride(Width));
            Description = $"{device} ({driver}: {card}) {Width}x{Height} YUYV";

            var request = new V4l2.RequestBuffersArg { Count = (uint)bufferCount, Type = V4l2.BufTypeVideoCapture, Memory = V4l2.MemoryMmap };
            Check(Libc.Ioctl(_fd, V4l2.RequestBuffers, &request), "VIDIOC_REQBUFS");
            if (request.Count == 0) throw new DeviceException($"{device}: the driver granted no capture buffers");
            _buffers = new (nint, nuint)[request.Count];
            for (uint i = 0; i < request.Count; i++)
            {
                var buffer = new V4l2.Buffer { Index = i, Type = V4l2.BufTypeVideoCapture, Memory = V4l2.MemoryMmap };
                Check(Libc.Ioctl(_fd, V4l2.QueryBuffer, &buffer), "VIDIOC_QUERYBUF");
                nint address = Libc.Mmap(0, buffer.Length, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, _fd, buffer.Offset);
                if (address == -1) throw new DeviceException($"{device}: mmap of buffer {i} failed: {Libc.Describe(Marshal.GetLastPInvokeError())}");
                _buffers[i] = (address, buffer.Length);
                if ((long)buffer.Length < (long)_stride * (Height - 1) + YuyvToRgb.MinStride(Width))
                    throw new DeviceException($"{device}: buffer {i} holds {buffer.Length} bytes, less than one {Width}x{Height} YUYV frame");
                Check(Libc.Ioctl(_fd, V4l2.QueueBuffer, &buffer), "VIDIOC_QBUF");
            }
            int type = (int)V4l2.BufTypeVideoCapture;
            Check(Libc.Ioctl(_fd, V4l2.StreamOn, &type), "VIDIOC_STREAMON");
            _streaming = true;
        }
        catch (Exception e)
        {
            _buffers ??= [];
            Dispose();
            if (e is DllNotFoundException or EntryPointNotFoundException)
                throw new DeviceException($"V4L2 camera {device}: the C library calls it needs are not available: {e.Message}", e);
            throw;
        }
    }

    public string Device { get; }
    public int Width { get; }
    public int Height { get; }
    public string Description { get; } = "";
    public long FrameCount { get; private set; }

    private void Check(int result, string what)
    {
        if (result < 0) throw new DeviceException($"V4L2 camera {Device}: {what} failed: {Libc.Describe(Marshal.GetLastPInvokeError())}");
    }

    public bool Capture(Span<byte> rgb)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        if (rgb.Length < Width * Height * 3) throw new ArgumentException($"frame buffer needs {Width * Height * 3} bytes", nameof(rgb));
        var poll = new Libc.PollFd { Fd = _fd, Events = Libc.POLLIN };
        int ready;
        do ready = Libc.Poll(&poll, 1, _timeoutMs);
        while (ready < 0 && Marshal.GetLastPInvokeError() == Libc.EINTR);
        if (ready < 0) Check(ready, "poll");
        if (ready == 0) throw new DeviceException($"V4L2 camera {Device}: no frame within {_timeoutMs} ms");
        var buffer = new V4l2.Buffer { Type = V4l2.BufTypeVideoCapture, Memory = V4l2.MemoryMmap };
        Check(Libc.Ioctl(_fd, V4l2.DequeueBuffer, &buffer), "VIDIOC_DQBUF");
        try
        {
            var (address, length) = _buffers[buffer.Index];
            var yuyv = new ReadOnlySpan<byte>((void*)address, (int)Math.Min(length, buffer.BytesUsed == 0 ? length : buffer.BytesUsed));
            if (yuyv.Length < (long)_stride * (Height - 1) + YuyvToRgb.MinStride(Width))
                throw new DeviceException($"V4L2 camera {Device}: short frame ({yuyv.Length} bytes)");
            YuyvToRgb.Convert(yuyv, Width, Height, _stride, rgb);
        }
        finally
        {
            Check(Libc.Ioctl(_fd, V4l2.QueueBuffer, &buffer), "VIDIOC_QBUF");
        }
        FrameCount++;
        return true;
    }

    public void Dispose()
    {
        if (_fd < 0) return;
        if (_streaming)
        {
            int type = (int)V4l2.BufTypeVideoCapture;
            Libc.Ioctl(_fd, V4l2.StreamOff, &type);
            _streaming = false;
        }
        foreach (var (address, length) in _buffers ?? [])
            if (address != 0) Libc.Munmap(address, length);
        Libc.Close(_fd);
        _fd = -1;
    }
}
