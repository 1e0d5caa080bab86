using System.Buffers.Binary;

namespace EdgeNet.Devices.Imaging;

/// <summary>What a binary PNM header says: P5 (gray) or P6 (RGB), size, maximum sample value, where pixels start.</summary>
public readonly record struct PnmHeader(int Width, int Height, int Channels, int MaxValue, int DataOffset)
{
    /// <summary>Bytes per sample: 1 when <see cref="MaxValue"/> ≤ 255, else 2 (big-endian).</summary>
    public int SampleBytes => MaxValue > 255 ? 2 : 1;

    /// <summary>Bytes of pixel data the header promises.</summary>
    public long DataBytes => (long)Width * Height * Channels * SampleBytes;
}

/// <summary>
/// Binary PPM (P6) and PGM (P5) images, the formats of Netpbm: an ASCII header "P6 width height maxval" separated by
/// whitespace (with '#' comments to end of line), exactly one whitespace byte, then the samples row by row, one byte
/// each when maxval &lt; 256, else two bytes big-endian. Hostile headers (huge or zero sizes, maxval outside 1..65535,
/// numbers that overflow, truncated pixel data) raise <see cref="ImageFormatException"/> before anything is allocated.
/// </summary>
public static class Pnm
{
    /// <summary>Largest width or height accepted.</summary>
    public const int MaxDimension = 32768;

    /// <summary>Largest pixel count accepted (64 Mi pixels: 192 MiB as RGB24).</summary>
    public const long MaxPixels = 1L << 26;

    public static PnmHeader ReadHeader(ReadOnlySpan<byte> file, string name = "image")
    {
        if (file.Length < 2 || file[0] != (byte)'P' || (file[1] != (byte)'5' && file[1] != (byte)'6'))
            throw new ImageFormatException($"{name}: not a binary PPM/PGM file (expected magic P6 or P5)");
        int channels = file[1] == (byte)'6' ? 3 : 1;
        int at = 2;
        long width = ReadNumber(file, ref at, name, "width");
        long height = ReadNumber(file, ref at, name, "height");
        long maxValue = ReadNumber(file, ref at, name, "maxval");
        if (at >= file.Length || !IsSpace(file[at]))
            throw new ImageFormatException($"{name}: header must end with one whitespace byte before the pixel data");
        at++;
        if (width < 1 || height < 1 || width > MaxDimension || height > MaxDimension || width * height > MaxPixels)
            throw new ImageFormatException($"{name}: image size {width}x{height} is outside 1..{MaxDimension} per side and {MaxPixels} pixels");
        if (maxValue < 1 || maxValue > 65535)
            throw new ImageFormatException($"{name}: maxval {maxValue} is outside 1..65535");
        var header = new PnmHeader((int)width, (int)height, channels, (int)maxValue, at);
        if (file.Length - at < header.DataBytes)
            throw new ImageFormatException($"{name}: pixel data is truncated: {width}x{height}x{channels} needs {header.DataBytes} bytes, the file has {file.Length - at}");
        return header;
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0B or 0x0C;

    private static long ReadNumber(ReadOnlySpan<byte> file, ref int at, string name, string what)
    {
        while (at < file.Length)
        {
            if (IsSpace(file[at])) at++;
            else if (file[at] == (byte)'#') { while (at < file.Length && file[at] != (byte)'\n' && file[at] != (byte)'\r') at++; }
            else break;
        }
        if (at >= file.Length) throw new ImageFormatException($"{name}: header ends before the {what}");
        if (file[at] < (byte)'0' || file[at] > (byte)'9') throw new ImageFormatException($"{name}: {what} is not a number");
        long value = 0;
        while (at < file.Length && file[at] >= (byte)'0' && file[at] <= (byte)'9')
        {
            value = value * 10 + (file[at++] - '0');
            if (value > int.MaxValue) throw new ImageFormatException($"{name}: {what} is too large");
        }
        return value;
    }

    /// <summary>Converts the pixels of a parsed file to RGB24 (gray is replicated; samples scaled from maxval to 255, rounding to nearest).</summary>
    public static void ToRgb24(ReadOnlySpan<byte> file, in PnmHeader header, Span<byte> rgb)
    {
        long pixels = (long)header.Width * header.Height;
        if (rgb.Length < pixels * 3) throw new ArgumentException($"RGB buffer needs {pixels * 3} bytes", nameof(rgb));
        var data = file.Slice(header.DataOffset, (int)header.DataBytes);
        int samples = (int)(pixels * header.Channels);
        int max = header.MaxValue;
        for (int i = 0; i < samples; i++)
        {
            int v = header.SampleBytes == 1 ? data[i] : BinaryPrimitives.ReadUInt16BigEndian(data[(2 * i)..]);
            byte b = max == 255 ? (byte)v : (byte)((Math.Min(v, max) * 255 + max / 2) / max);
            if (header.Channels == 3) rgb[i] = b;
            else { rgb[3 * i] = b; rgb[3 * i + 1] = b; rgb[3 * i + 2] = b; }
        }
    }

    /// <summary>Parses a whole P5/P6 file into a new RGB24 array.</summary>
    public static byte[] DecodeRgb24(ReadOnlySpan<byte> file, out int width, out int height, string name = "image")
    {
        var header = ReadHeader(file, name);
        width = header.Width;
        height = header.Height;
        var rgb = new byte[(long)width * height * 3];
        ToRgb24(file, header, rgb);
        return rgb;
    }

    /// <summary>Encodes RGB24 pixels as a binary PPM (P6, maxval 255).</summary>
    public static byte[] EncodePpm(ReadOnlySpan<byte> rgb, int width, int height)
    {
        if (width < 1 || height < 1 || rgb.Length < width * height * 3) throw new ArgumentException("rgb is smaller than width x height x 3");
        var header = System.Text.Encoding.ASCII.GetBytes($"P6\n{width} {height}\n255\n");
        var bytes = new byte[header.Length + width * height * 3];
        header.CopyTo(bytes, 0);
        rgb[..(width * height * 3)].CopyTo(bytes.AsSpan(header.Length));
        return bytes;
    }
}
