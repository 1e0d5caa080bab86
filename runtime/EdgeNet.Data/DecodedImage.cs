namespace EdgeNet.Data;

/// <summary>
/// A decoded image: <see cref="Channels"/> is 1 (grey) or 3 (RGB); <see cref="Pixels"/> is height × width ×
/// channels (interleaved, row-major) in [0,1]. Transparent pixels were composited over white (a scanned or drawn
/// image with an alpha channel is ink on paper).
/// </summary>
public sealed class DecodedImage
{
    public int Width { get; }
    public int Height { get; }
    public int Channels { get; }
    public float[] Pixels { get; }

    public DecodedImage(int width, int height, int channels, float[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "1 or 3 channels");
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Length != width * height * channels)
            throw new ArgumentException($"{pixels.Length} pixels for a {width}x{height}x{channels} image", nameof(pixels));
        Width = width;
        Height = height;
        Channels = channels;
        Pixels = pixels;
    }
}
