using System.Buffers.Binary;
using System.Globalization;
using EdgeNet.IR;

namespace EdgeNet.Onnx.Quantization;

/// <summary>
/// A named preprocessing that turns a raw calibration file into a model input:
/// <c>image:HxW[,MEAN,STD]</c> — a binary PPM/PGM picture resized (bilinear) to H×W, channels-first, (p/255 − MEAN)/STD,
/// shaped [1, C, H, W] with C taken from the model input (1 = grey, 3 = RGB);
/// <c>wav[:RATE[,SCALE[,CHUNK]]]</c> — a PCM 16-bit or float 32-bit WAV mixed to mono, resampled linearly to RATE Hz
/// (default 16000), scaled so full scale is SCALE (default 32768, the int16 range openWakeWord models take), shaped
/// [1, samples]; with CHUNK every CHUNK samples form one sample.
/// </summary>
public sealed class Preprocessing
{
    public enum Kind { Image, Wav }

    public Kind Type { get; private init; }
    public int Height { get; private init; }
    public int Width { get; private init; }
    public float Mean { get; private init; }
    public float Std { get; private init; } = 1;
    public int SampleRate { get; private init; } = 16000;
    public float Scale { get; private init; } = 32768;
    public int Chunk { get; private init; }

    public IReadOnlyList<string> Extensions => Type == Kind.Image ? [".ppm", ".pgm", ".pnm"] : [".wav"];

    /// <summary>Parses the --preprocess syntax; throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static Preprocessing Parse(string spec)
    {
        int colon = spec.IndexOf(':', StringComparison.Ordinal);
        string kind = colon < 0 ? spec : spec[..colon];
        string[] args = colon < 0 ? [] : spec[(colon + 1)..].Split(',', StringSplitOptions.TrimEntries);
        switch (kind)
        {
            case "image":
            {
                if (args.Length is not (1 or 3)) throw new FormatException($"image preprocessing is image:HxW or image:HxW,MEAN,STD, got '{spec}'");
                var hw = args[0].Split('x');
                if (hw.Length != 2 || !PositiveInt(hw[0], out int h) || !PositiveInt(hw[1], out int w))
                    throw new FormatException($"image size must be HxW with positive integers, got '{args[0]}'");
                float mean = 0, std = 1;
                if (args.Length == 3 && (!Number(args[1], out mean) || !Number(args[2], out std) || std <= 0))
                    throw new FormatException($"image MEAN,STD must be numbers with STD > 0, got '{args[1]},{args[2]}'");
                return new Preprocessing { Type = Kind.Image, Height = h, Width = w, Mean = mean, Std = std };
            }
            case "wav":
            {
                if (args.Length > 3) throw new FormatException($"wav preprocessing is wav[:RATE[,SCALE[,CHUNK]]], got '{spec}'");
                int rate = 16000, chunk = 0;
                float scale = 32768;
                if (args.Length > 0 && !PositiveInt(args[0], out rate)) throw new FormatException($"wav RATE must be a positive integer, got '{args[0]}'");
                if (args.Length > 1 && (!Number(args[1], out scale) || scale <= 0)) throw new FormatException($"wav SCALE must be a positive number, got '{args[1]}'");
                if (args.Length > 2 && !PositiveInt(args[2], out chunk)) throw new FormatException($"wav CHUNK must be a positive integer, got '{args[2]}'");
                return new Preprocessing { Type = Kind.Wav, SampleRate = rate, Scale = scale, Chunk = chunk };
            }
            default:
                throw new FormatException($"unknown preprocessing '{kind}' (known: image:HxW[,MEAN,STD], wav[:RATE[,SCALE[,CHUNK]]])");
        }
    }

    private static bool PositiveInt(string s, out int v) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out v) && v > 0;
    private static bool Number(string s, out float v) => float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out v) && float.IsFinite(v);

    /// <summary>The model inputs one file yields (several for a chunked WAV).</summary>
    public IEnumerable<Tensor> Apply(string path, int channels)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException($"Cannot read calibration file '{path}': {e.Message}", e);
        }
        string name = Path.GetFileName(path);
        if (Type == Kind.Image) return [ImageTensor(bytes, name, channels)];
        var samples = ReadWavMono(bytes, name, SampleRate);
        for (int i = 0; i < samples.Length; i++) samples[i] *= Scale;
        if (Chunk == 0) return [Tensor.FromArray([1, samples.Length], samples)];
        var chunks = new List<Tensor>();
        for (int at = 0; at + Chunk <= samples.Length; at += Chunk) chunks.Add(Tensor.FromArray([1, Chunk], samples[at..(at + Chunk)]));
        return chunks;
    }

    private Tensor ImageTensor(byte[] bytes, string name, int channels)
    {
        var (pixels, w, h, c) = ReadNetpbm(bytes, name);
        if (channels is not (1 or 3)) throw new InputMismatchException($"image preprocessing makes 1 or 3 channels; the model input has {channels}");
        var result = new float[channels * Height * Width];
        for (int y = 0; y < Height; y++)
        {
            float sy = Math.Clamp((y + 0.5f) * h / Height - 0.5f, 0, h - 1);
            int y0 = (int)sy, y1 = Math.Min(y0 + 1, h - 1);
            float fy = sy - y0;
            for (int x = 0; x < Width; x++)
            {
                float sx = Math.Clamp((x + 0.5f) * w / Width - 0.5f, 0, w - 1);
                int x0 = (int)sx, x1 = Math.Min(x0 + 1, w - 1);
                float fx = sx - x0;
                for (int ch = 0; ch < channels; ch++)
                {
                    float Px(int yy, int xx)
                    {
                        int at = (yy * w + xx) * c;
                        return c == 1 || channels == 3 ? pixels[at + (c == 1 ? 0 : ch)] : (pixels[at] + pixels[at + 1] + pixels[at + 2]) / 3f;
                    }
                    float v = (1 - fy) * ((1 - fx) * Px(y0, x0) + fx * Px(y0, x1)) + fy * ((1 - fx) * Px(y1, x0) + fx * Px(y1, x1));
                    result[(ch * Height + y) * Width + x] = (v / 255f - Mean) / Std;
                }
            }
        }
        return Tensor.FromArray([1, channels, Height, Width], result);
    }

    /// <summary>Binary PGM (P5) or PPM (P6), 8-bit.</summary>
    private static (byte[] Pixels, int W, int H, int C) ReadNetpbm(byte[] b, string name)
    {
        int at = 0;
        string Token()
        {
            while (at < b.Length)
            {
                if (b[at] == '#') { while (at < b.Length && b[at] != '\n') at++; }
                else if (char.IsWhiteSpace((char)b[at])) at++;
                else break;
            }
            int start = at;
            while (at < b.Length && !char.IsWhiteSpace((char)b[at])) at++;
            return System.Text.Encoding.ASCII.GetString(b, start, at - start);
        }
        string magic = Token();
        if (magic is not ("P5" or "P6")) throw new ModelFormatException($"'{name}' is not a binary PGM/PPM picture (P5/P6)");
        if (!int.TryParse(Token(), out int w) || !int.TryParse(Token(), out int h) || !int.TryParse(Token(), out int max) || w <= 0 || h <= 0 || max is <= 0 or > 255)
            throw new ModelFormatException($"'{name}': bad PGM/PPM header (8-bit pictures only)");
        at++;
        int c = magic == "P6" ? 3 : 1;
        long need = (long)w * h * c;
        if (b.Length - at < need) throw new ModelFormatException($"'{name}': picture data is truncated");
        var pixels = b.AsSpan(at, (int)need).ToArray();
        if (max != 255) for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(pixels[i] * 255 / max);
        return (pixels, w, h, c);
    }

    /// <summary>RIFF WAVE, PCM 16-bit or IEEE float 32-bit, any channel count → mono in [-1, 1] at <paramref name="rate"/> Hz.</summary>
    public static float[] ReadWavMono(byte[] bytes, string name, int rate)
    {
        var b = bytes.AsSpan();
        if (b.Length < 12 || !b[..4].SequenceEqual("RIFF"u8) || !b[8..12].SequenceEqual("WAVE"u8))
            throw new ModelFormatException($"'{name}' is not a RIFF/WAVE file");
        int format = 0, channels = 0, fileRate = 0, bits = 0, dataAt = -1, dataLength = 0;
        for (int at = 12; at + 8 <= b.Length;)
        {
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(b[(at + 4)..]);
            int body = at + 8;
            int available = (int)Math.Min(size, (uint)(b.Length - body));
            if (b.Slice(at, 4).SequenceEqual("fmt "u8) && available >= 16)
            {
                format = BinaryPrimitives.ReadUInt16LittleEndian(b[body..]);
                channels = BinaryPrimitives.ReadUInt16LittleEndian(b[(body + 2)..]);
                fileRate = BinaryPrimitives.ReadInt32LittleEndian(b[(body + 4)..]);
                bits = BinaryPrimitives.ReadUInt16LittleEndian(b[(body + 14)..]);
                if (format == 0xFFFE && available >= 26) format = BinaryPrimitives.ReadUInt16LittleEndian(b[(body + 24)..]);
            }
            else if (b.Slice(at, 4).SequenceEqual("data"u8)) { dataAt = body; dataLength = available; }
            at = body + (int)Math.Min(size + (size & 1), (uint)(b.Length - body));
        }
        if (channels <= 0 || fileRate <= 0 || dataAt < 0) throw new ModelFormatException($"'{name}': WAV without a fmt or data chunk");
        if (!(format == 1 && bits == 16) && !(format == 3 && bits == 32))
            throw new ModelFormatException($"'{name}': WAV encoding {format} with {bits} bits; calibration reads PCM 16-bit or float 32-bit");
        int frameBytes = channels * bits / 8, frames = dataLength / frameBytes;
        var mono = new float[frames];
        for (int f = 0; f < frames; f++)
        {
            float sum = 0;
            for (int ch = 0; ch < channels; ch++)
            {
                var s = b.Slice(dataAt + f * frameBytes + ch * bits / 8);
                sum += format == 3 ? BinaryPrimitives.ReadSingleLittleEndian(s) : BinaryPrimitives.ReadInt16LittleEndian(s) / 32768f;
            }
            mono[f] = sum / channels;
        }
        if (fileRate == rate || frames == 0) return mono;
        int outFrames = (int)((long)frames * rate / fileRate);
        var resampled = new float[outFrames];
        for (int i = 0; i < outFrames; i++)
        {
            double src = (double)i * fileRate / rate;
            int i0 = (int)src, i1 = Math.Min(i0 + 1, frames - 1);
            float t = (float)(src - i0);
            resampled[i] = mono[i0] * (1 - t) + mono[i1] * t;
        }
        return resampled;
    }
}
