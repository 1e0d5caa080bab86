using EdgeNet.Devices.Imaging;

namespace EdgeNet.Devices.Camera;

/// <summary>
/// A camera stand-in that replays the binary PPM (P6) and PGM (P5) files of a folder in name order (ordinal), as RGB24
/// frames of one size: the first image's unless given; images of another size are resized (bilinear). Optionally loops
/// and paces frames at a fixed rate. PNG/JPEG are not decoded here: convert them first (e.g.
/// <c>convert in.jpg out.ppm</c> or <c>ffmpeg -i in.jpg out.ppm</c>).
/// </summary>
public sealed class FolderCamera : ICamera
{
    private static readonly string[] Extensions = [".ppm", ".pgm", ".pnm"];
    private readonly string[] _files;
    private readonly bool _loop;
    private readonly TimeSpan _frameInterval;
    private readonly TimeProvider _time;
    private long _startTimestamp;
    private int _next;
    private byte[] _file = [];
    private byte[] _decoded = [];

    /// <param name="folder">Folder holding .ppm/.pgm/.pnm files.</param>
    /// <param name="width">Frame width (0: the first image's).</param>
    /// <param name="height">Frame height (0: the first image's).</param>
    /// <param name="loop">Start again after the last file instead of ending.</param>
    /// <param name="framesPerSecond">Real-time pacing (0: as fast as frames are asked for).</param>
    /// <param name="time">Clock for pacing (default: the system clock).</param>
    public FolderCamera(string folder, int width = 0, int height = 0, bool loop = false, double framesPerSecond = 0, TimeProvider? time = null)
    {
        if (!Directory.Exists(folder)) throw new DeviceException($"camera stand-in folder {folder} does not exist");
        _files = Directory.GetFiles(folder).Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant())).ToArray();
        Array.Sort(_files, StringComparer.Ordinal);
        if (_files.Length == 0)
        {
            bool others = Directory.GetFiles(folder).Any(f => Path.GetExtension(f).ToLowerInvariant() is ".png" or ".jpg" or ".jpeg" or ".bmp");
            throw new DeviceException($"camera stand-in folder {folder} has no .ppm/.pgm images" +
                (others ? " (PNG/JPEG/BMP are not decoded here: convert them to PPM, e.g. `convert in.png out.ppm`)" : ""));
        }
        _loop = loop;
        _time = time ?? TimeProvider.System;
        _frameInterval = framesPerSecond > 0 ? TimeSpan.FromSeconds(1 / framesPerSecond) : TimeSpan.Zero;
        if (width <= 0 || height <= 0)
        {
            var header = Pnm.ReadHeader(Load(_files[0]), Path.GetFileName(_files[0]));
            width = header.Width;
            height = header.Height;
        }
        Width = width;
        Height = height;
        Description = $"folder {folder} ({_files.Length} images{(loop ? ", looping" : "")}) {Width}x{Height}";
    }

    public int Width { get; }
    public int Height { get; }
    public string Description { get; }
    public long FrameCount { get; private set; }

    /// <summary>The files replayed, in order.</summary>
    public IReadOnlyList<string> Files => _files;

    /// <summary>The file the last captured frame came from.</summary>
    public string? CurrentFile { get; private set; }

    private ReadOnlySpan<byte> Load(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            long length = stream.Length;
            if (length > Pnm.MaxPixels * 6 + 4096) throw new ImageFormatException($"{Path.GetFileName(path)}: {length} bytes is larger than any image accepted");
            if (_file.Length < length) _file = new byte[length];
            stream.ReadExactly(_file, 0, (int)length);
            return _file.AsSpan(0, (int)length);
        }
        catch (IOException e)
        {
            throw new DeviceException($"camera stand-in cannot read {path}: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new DeviceException($"camera stand-in cannot read {path}: {e.Message}", e);
        }
    }

    public bool Capture(Span<byte> rgb)
    {
        int bytes = Width * Height * 3;
        if (rgb.Length < bytes) throw new ArgumentException($"frame buffer needs {bytes} bytes", nameof(rgb));
        if (_next == _files.Length)
        {
            if (!_loop) return false;
            _next = 0;
        }
        if (_frameInterval > TimeSpan.Zero)
        {
            if (FrameCount == 0) _startTimestamp = _time.GetTimestamp();
            var due = _frameInterval * FrameCount - _time.GetElapsedTime(_startTimestamp);
            if (due > TimeSpan.Zero) System.Threading.Thread.Sleep(due);
        }
        string path = _files[_next++];
        var file = Load(path);
        var header = Pnm.ReadHeader(file, Path.GetFileName(path));
        if (header.Width == Width && header.Height == Height)
            Pnm.ToRgb24(file, header, rgb);
        else
        {
            int decodedBytes = header.Width * header.Height * 3;
            if (_decoded.Length < decodedBytes) _decoded = new byte[decodedBytes];
            Pnm.ToRgb24(file, header, _decoded);
            RgbResize.Bilinear(_decoded.AsSpan(0, decodedBytes), header.Width, header.Height, rgb, Width, Height);
        }
        CurrentFile = path;
        FrameCount++;
        return true;
    }

    public void Dispose() { }
}
