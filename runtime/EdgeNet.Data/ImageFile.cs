using System.Buffers.Binary;
using EdgeNet.Training.Metrics;
using StbImageSharp;

namespace EdgeNet.Data;

/// <summary>
/// Decodes PNG, JPEG and BMP files in managed code (StbImageSharp) and turns them into model inputs.
/// Before decoding, the container is checked so that a damaged file is an <see cref="ImageFormatException"/> rather
/// than a half-decoded picture: PNG chunks must be complete with correct CRC-32s and end in IEND; a JPEG's segments
/// must be complete and end in an EOI marker; a BMP must be as long as its header says.
/// Images larger than <see cref="MaxPixels"/> are refused before any pixel memory is allocated.
/// </summary>
public static class ImageFile
{
    /// <summary>Largest image decoded (width × height): 64 megapixels.</summary>
    public const long MaxPixels = 64L * 1024 * 1024;

    public static DecodedImage Decode(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ImageFormatException($"Cannot read image '{path}': {e.Message}", e); }
        return Decode(bytes, path);
    }

    public static DecodedImage Decode(byte[] bytes, string name = "image")
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var (width, height) = CheckContainer(bytes, name);
        if (width <= 0 || height <= 0 || (long)width * height > MaxPixels)
            throw new ImageFormatException($"'{name}': image size {width}x{height} is out of range (at most {MaxPixels} pixels)");
        ImageResult result;
        try
        {
            result = ImageResult.FromMemory(bytes, ColorComponents.RedGreenBlueAlpha);
        }
        catch (ImageFormatException) { throw; }
        catch (Exception e) when (e is not OutOfMemoryException) // the decoder reports damage with assorted exception types
        {
            throw new ImageFormatException($"'{name}': cannot decode image: {e.Message}", e);
        }
        bool grey = result.SourceComp is ColorComponents.Grey or ColorComponents.GreyAlpha;
        int channels = grey ? 1 : 3, n = result.Width * result.Height;
        var pixels = new float[n * channels];
        var data = result.Data;
        const float Scale = 1f / 255f;
        for (int i = 0; i < n; i++)
        {
            // Composite over white: a transparent pixel is blank paper.
            float a = data[4 * i + 3] * Scale, white = 1f - a;
            if (grey) pixels[i] = data[4 * i] * Scale * a + white;
            else
                for (int c = 0; c < 3; c++) pixels[3 * i + c] = data[4 * i + c] * Scale * a + white;
        }
        return new DecodedImage(result.Width, result.Height, channels, pixels);
    }

    /// <summary>Decodes, resizes and normalizes one image file into <paramref name="chw"/> (length <see cref="ImageSpec.Length"/>).</summary>
    public static void Load(string path, ImageSpec spec, Span<float> chw, ImageAugmentation? augmentation = null, Random? random = null)
    {
        var image = Decode(path);
        ImageTransform.ToUnitTensor(image, spec, chw);
        if (augmentation is not null)
            augmentation.Apply(chw[..spec.Length], spec.Channels, spec.Height, spec.Width, random ?? throw new ArgumentNullException(nameof(random), "augmentation needs a seeded Random"));
        ImageTransform.Normalize(chw[..spec.Length], spec.Mean, spec.Std);
    }

    /// <summary>Checks the file's structure and returns the image size its header declares.</summary>
    private static (long Width, long Height) CheckContainer(ReadOnlySpan<byte> b, string name)
    {
        if (b.Length >= 8 && b[..8].SequenceEqual((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])) return CheckPng(b, name);
        if (b.Length >= 2 && b[0] == 0xFF && b[1] == 0xD8) return CheckJpeg(b, name);
        if (b.Length >= 2 && b[0] == (byte)'B' && b[1] == (byte)'M') return CheckBmp(b, name);
        throw new ImageFormatException($"'{name}': not a PNG, JPEG or BMP image ({b.Length} bytes, unknown signature)");
    }

    private static (long, long) CheckPng(ReadOnlySpan<byte> b, string name)
    {
        int at = 8;
        bool first = true;
        long width = 0, height = 0;
        while (true)
        {
            if (at + 12 > b.Length) throw new ImageFormatException($"'{name}': PNG is truncated (chunk header at byte {at}, file has {b.Length})");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(b[at..]);
            if (length > int.MaxValue || at + 12 + (long)length > b.Length)
                throw new ImageFormatException($"'{name}': PNG is truncated (a {length}-byte chunk at byte {at}, file has {b.Length})");
            var typeAndData = b.Slice(at + 4, 4 + (int)length);
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(b[(at + 8 + (int)length)..]);
            if (Crc32.Compute(typeAndData) != stored)
                throw new ImageFormatException($"'{name}': PNG is corrupt (CRC mismatch in chunk '{System.Text.Encoding.ASCII.GetString(typeAndData[..4])}' at byte {at})");
            var type = typeAndData[..4];
            if (first)
            {
                if (!type.SequenceEqual("IHDR"u8) || length < 8) throw new ImageFormatException($"'{name}': PNG does not start with an IHDR chunk");
                width = BinaryPrimitives.ReadUInt32BigEndian(typeAndData[4..]);
                height = BinaryPrimitives.ReadUInt32BigEndian(typeAndData[8..]);
            }
            first = false;
            if (type.SequenceEqual("IEND"u8)) return (width, height);
            at += 12 + (int)length;
        }
    }

    private static (long, long) CheckJpeg(ReadOnlySpan<byte> b, string name)
    {
        int at = 2;
        long width = 0, height = 0;
        while (true)
        {
            while (at < b.Length && b[at] == 0xFF && at + 1 < b.Length && b[at + 1] == 0xFF) at++; // fill bytes
            if (at + 2 > b.Length) throw new ImageFormatException($"'{name}': JPEG is truncated (no end-of-image marker)");
            if (b[at] != 0xFF) throw new ImageFormatException($"'{name}': JPEG is corrupt (expected a marker at byte {at})");
            byte marker = b[at + 1];
            at += 2;
            if (marker == 0xD9) return (width, height); // EOI
            if (marker is 0x01 or (>= 0xD0 and <= 0xD7)) continue; // markers without a length
            if (at + 2 > b.Length) throw new ImageFormatException($"'{name}': JPEG is truncated (segment length at byte {at})");
            int length = BinaryPrimitives.ReadUInt16BigEndian(b[at..]);
            if (length < 2 || at + length > b.Length) throw new ImageFormatException($"'{name}': JPEG is truncated (a {length}-byte segment at byte {at})");
            if (marker is >= 0xC0 and <= 0xCF and not (0xC4 or 0xC8 or 0xCC) && length >= 7) // start of frame: precision, height, width
            {
                height = BinaryPrimitives.ReadUInt16BigEndian(b[(at + 3)..]);
                width = BinaryPrimitives.ReadUInt16BigEndian(b[(at + 5)..]);
            }
            at += length;
            if (marker != 0xDA) continue;
            // Entropy-coded data follows a start-of-scan: it ends at the first 0xFF that is not a stuffed 0xFF00 or a restart marker.
            while (true)
            {
                if (at + 1 >= b.Length) throw new ImageFormatException($"'{name}': JPEG is truncated (scan data runs to the end of the file)");
                if (b[at] == 0xFF && b[at + 1] != 0x00 && b[at + 1] is not (>= 0xD0 and <= 0xD7) && b[at + 1] != 0xFF) break;
                at++;
            }
        }
    }

    private static (long, long) CheckBmp(ReadOnlySpan<byte> b, string name)
    {
        if (b.Length < 26) throw new ImageFormatException($"'{name}': BMP is truncated ({b.Length} bytes, shorter than its header)");
        uint declared = BinaryPrimitives.ReadUInt32LittleEndian(b[2..]);
        uint pixelsAt = BinaryPrimitives.ReadUInt32LittleEndian(b[10..]);
        if (declared > b.Length) throw new ImageFormatException($"'{name}': BMP is truncated ({b.Length} bytes, its header says {declared})");
        if (pixelsAt >= b.Length) throw new ImageFormatException($"'{name}': BMP is truncated (pixel data at byte {pixelsAt}, file has {b.Length})");
        return (BinaryPrimitives.ReadInt32LittleEndian(b[18..]), Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(b[22..])));
    }
}
