using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EdgeNet.IR;

namespace EdgeNet.Format;

/// <summary>
/// Compact storage of float32 weights (.enet version 3, README.md beside this file): a float32 tensor whose values
/// are exactly int8 × a float32 scale per channel, or exactly IEEE half values, is stored in that form and decoded to
/// float32 once at load. The writer only ever stores a tensor so when decoding gives back every float32 bit for bit,
/// so the format is lossless; the converter decides which weights to round (<see cref="RoundInt8"/>,
/// <see cref="RoundHalf"/>) and measures what that costs.
/// </summary>
public static class WeightStorage
{
    /// <summary>Stored type values of <c>WeightDef2.stored_type</c>.</summary>
    internal const int AsIs = 0, Int8 = (int)DataType.Int8, Float16 = (int)DataType.Float16;

    /// <summary>The value an int8 <paramref name="q"/> with <paramref name="scale"/> decodes to: one float32 multiply.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Decode(sbyte q, float scale) => q * scale;

    /// <summary>
    /// Rounds <paramref name="values"/> (row-major <paramref name="dims"/>) to symmetric int8 per channel along
    /// <paramref name="axis"/>: x → Decode(clamp(round(x / scale), ±127), scale) with scale = α · max|x| / 127 per
    /// channel, α in {1, 0.99, …, 0.80} the one with the least squared error (clipping a channel's few largest values
    /// can round all the others finer). Returns the rounded values, which the writer stores as int8 and the reader
    /// decodes to the same bits.
    /// </summary>
    public static float[] RoundInt8(ReadOnlySpan<float> values, IReadOnlyList<int> dims, int axis)
    {
        var (outer, channels, inner) = Split(dims, axis);
        var rounded = new float[values.Length];
        for (int c = 0; c < channels; c++)
        {
            float max = 0;
            for (int o = 0; o < outer; o++)
                foreach (float x in values.Slice((o * channels + c) * inner, inner)) max = Math.Max(max, Math.Abs(x));
            float best = max / 127f;
            if (best > 0)
            {
                double bestError = double.PositiveInfinity;
                for (int step = 0; step <= 20; step++)
                {
                    float scale = (1 - step * 0.01f) * max / 127f;
                    double error = 0;
                    for (int o = 0; o < outer; o++)
                        foreach (float x in values.Slice((o * channels + c) * inner, inner))
                        {
                            double d = x - Decode(Quantize(x, scale), scale);
                            error += d * d;
                        }
                    if (error < bestError) (bestError, best) = (error, scale);
                }
            }
            for (int o = 0; o < outer; o++)
            {
                int at = (o * channels + c) * inner;
                for (int i = 0; i < inner; i++) rounded[at + i] = best == 0 ? 0f : Decode(Quantize(values[at + i], best), best);
            }
        }
        return rounded;
    }

    /// <summary>Rounds every value to the nearest IEEE half (values beyond ±65504 become infinite: check <see cref="IsFinite"/>).</summary>
    public static float[] RoundHalf(ReadOnlySpan<float> values)
    {
        var rounded = new float[values.Length];
        for (int i = 0; i < values.Length; i++) rounded[i] = (float)(Half)values[i];
        return rounded;
    }

    public static bool IsFinite(ReadOnlySpan<float> values)
    {
        foreach (float x in values) if (!float.IsFinite(x)) return false;
        return true;
    }

    private static sbyte Quantize(float x, float scale) => (sbyte)Math.Clamp(MathF.Round(x / scale, MidpointRounding.ToEven), -127f, 127f);

    private static (int Outer, int Channels, int Inner) Split(IReadOnlyList<int> dims, int axis)
    {
        int outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= dims[d];
        for (int d = axis + 1; d < dims.Count; d++) inner *= dims[d];
        return (outer, dims[axis], inner);
    }

    /// <summary>
    /// The int8 form of a float32 tensor when one exists exactly: per channel along some axis (tried: 0, the last, then
    /// the others), int8 values and a scale whose decode gives every value's bits back. Null when none does.
    /// </summary>
    internal static (byte[] Bytes, int Axis, float[] Scales)? TryInt8(ReadOnlySpan<float> values, IReadOnlyList<int> dims)
    {
        if (dims.Count == 0 || values.Length == 0) return null;
        var axes = new List<int> { 0 };
        if (dims.Count > 1) axes.Add(dims.Count - 1);
        for (int d = 1; d < dims.Count - 1; d++) axes.Add(d);
        foreach (int axis in axes)
            if (TryInt8(values, dims, axis) is { } found) return (found.Bytes, axis, found.Scales);
        return null;
    }

    private static (byte[] Bytes, float[] Scales)? TryInt8(ReadOnlySpan<float> values, IReadOnlyList<int> dims, int axis)
    {
        var (outer, channels, inner) = Split(dims, axis);
        if (channels <= 0) return null;
        var bytes = new byte[values.Length];
        var scales = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            float max = 0;
            for (int o = 0; o < outer; o++)
                foreach (float x in values.Slice((o * channels + c) * inner, inner))
                {
                    if (!float.IsFinite(x)) return null;
                    max = Math.Max(max, Math.Abs(x));
                }
            // the rounding wrote scale = m / 127 with m the original maximum; the stored maximum is fl(127 · scale), so
            // m' / 127 is that scale or a neighbour of it
            float guess = max / 127f;
            bool found = false;
            foreach (float scale in (ReadOnlySpan<float>)[guess, MathF.BitDecrement(guess), MathF.BitIncrement(guess)])
            {
                if (scale < 0 || !float.IsFinite(scale) || (scale == 0 && max != 0)) continue;
                if (!ChannelFits(values, bytes, outer, channels, inner, c, scale)) continue;
                scales[c] = scale;
                found = true;
                break;
            }
            if (!found) return null;
        }
        return (bytes, scales);
    }

    private static bool ChannelFits(ReadOnlySpan<float> values, byte[] bytes, int outer, int channels, int inner, int c, float scale)
    {
        for (int o = 0; o < outer; o++)
        {
            int at = (o * channels + c) * inner;
            for (int i = 0; i < inner; i++)
            {
                float x = values[at + i];
                sbyte q = scale == 0 ? (sbyte)0 : Quantize(x, scale);
                if (BitConverter.SingleToInt32Bits(Decode(q, scale)) != BitConverter.SingleToInt32Bits(x)) return false;
                bytes[at + i] = (byte)q;
            }
        }
        return true;
    }

    /// <summary>The IEEE half form of a float32 tensor when every value is exactly a half (NaN never is); else null.</summary>
    internal static byte[]? TryHalf(ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * 2];
        var halves = MemoryMarshal.Cast<byte, Half>(bytes.AsSpan());
        for (int i = 0; i < values.Length; i++)
        {
            float x = values[i];
            var h = (Half)x;
            if (float.IsNaN(x) || BitConverter.SingleToInt32Bits((float)h) != BitConverter.SingleToInt32Bits(x)) return null;
            halves[i] = h;
        }
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException(".enet files are little-endian");
        return bytes;
    }

    /// <summary>
    /// Float32 memory for a decoded weight: a pinned array (it never moves, so kernels may keep pointers into it, as
    /// into the mapping), sliced to start 64-byte aligned like a weight in the weights section.
    /// </summary>
    internal static unsafe Memory<byte> AlignedFloats(int count)
    {
        int bytes = checked(count * 4);
        var array = GC.AllocateUninitializedArray<byte>(bytes + EnetHeader.Alignment, pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        int skip = (int)((EnetHeader.Alignment - address % EnetHeader.Alignment) % EnetHeader.Alignment);
        return array.AsMemory(skip, bytes);
    }

    /// <summary>Decodes stored int8 (per channel along <paramref name="axis"/>) into float32.</summary>
    internal static void DecodeInt8(ReadOnlySpan<byte> stored, IReadOnlyList<int> dims, int axis, IReadOnlyList<float> scales, Span<float> output)
    {
        var (outer, channels, inner) = Split(dims, axis);
        var q = MemoryMarshal.Cast<byte, sbyte>(stored);
        for (int o = 0; o < outer; o++)
            for (int c = 0; c < channels; c++)
            {
                float scale = scales[c];
                int at = (o * channels + c) * inner;
                for (int i = 0; i < inner; i++) output[at + i] = Decode(q[at + i], scale);
            }
    }

    internal static void DecodeHalf(ReadOnlySpan<byte> stored, Span<float> output)
    {
        var h = MemoryMarshal.Cast<byte, Half>(stored);
        for (int i = 0; i < output.Length; i++) output[i] = (float)h[i];
    }
}
