namespace EdgeNet.Devices.Camera;

/// <summary>
/// A source of RGB24 frames (3 bytes per pixel, R G B, rows top to bottom, no padding) of a fixed size, written into a
/// buffer the caller owns, so capturing allocates nothing per frame.
/// </summary>
public interface ICamera : IDisposable
{
    int Width { get; }
    int Height { get; }

    /// <summary>Bytes of one RGB24 frame: Width * Height * 3.</summary>
    int FrameBytes => Width * Height * 3;

    /// <summary>What the frames come from, e.g. "/dev/video0 (uvcvideo: HD Webcam) 640x480 YUYV".</summary>
    string Description { get; }

    /// <summary>Frames delivered so far.</summary>
    long FrameCount { get; }

    /// <summary>
    /// Writes the next frame into <paramref name="rgb"/> (at least <see cref="FrameBytes"/> bytes). Returns false when a
    /// finite source has no more frames; device failures and timeouts raise <see cref="DeviceException"/>.
    /// </summary>
    bool Capture(Span<byte> rgb);
}
