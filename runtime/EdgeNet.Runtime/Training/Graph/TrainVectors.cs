using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EdgeNet.Training;

/// <summary>
/// The per-step checks of <see cref="Trainer.Step"/> over every input, gradient and weight, vectorized: at batch 32 the
/// wake-word head's 213 K gradients summed one dependent double add at a time took as long as its GEMMs.
/// </summary>
internal static class TrainVectors
{
    /// <summary>
    /// dst[i·size …] = data[indices[i]·size …] for each i, with the next row's cache lines requested while a row is
    /// copied (one row ahead, a line per line copied; x86 only: .NET has no prefetch for ARM): feature sets are larger
    /// than the cache, and a plain row copy waited on memory for each row's first lines (wake-word step 2–4% faster,
    /// alternating runs of `--train-step`). Returns max |x| of the copied values (+Inf when one is not finite), taken
    /// while they are in registers instead of in a second pass (<see cref="MaxAbs"/>'s result).
    /// </summary>
    public static unsafe float GatherRows(ReadOnlySpan<float> data, ReadOnlySpan<int> indices, int size, Span<float> dst)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported || !Vector256.IsHardwareAccelerated || size < 16)
        {
            for (int i = 0; i < indices.Length; i++) data.Slice(indices[i] * size, size).CopyTo(dst.Slice(i * size, size));
            return MaxAbs(dst[..(indices.Length * size)]);
        }
        var max = Vector256<float>.Zero;
        var check = Vector256<float>.Zero; // x·0: 0, or NaN for a NaN or an infinity
        float tailMax = 0, tailCheck = 0;
        if ((long)indices.Length * size > dst.Length) throw new ArgumentException("destination too short", nameof(dst));
        fixed (float* d0 = data, t0 = dst)
        {
            for (int i = 0; i < indices.Length; i++)
            {
                int index = indices[i];
                if ((uint)index >= (uint)(data.Length / size)) throw new ArgumentOutOfRangeException(nameof(indices), $"sample {index} is outside the set");
                float* src = d0 + (nint)index * size, to = t0 + (nint)i * size;
                float* next = i + 1 < indices.Length && (uint)indices[i + 1] < (uint)(data.Length / size) ? d0 + (nint)indices[i + 1] * size : src;
                int j = 0;
                for (; j + 16 <= size; j += 16)
                {
                    System.Runtime.Intrinsics.X86.Sse.Prefetch0(next + j);
                    var x0 = Vector256.Load(src + j);
                    var x1 = Vector256.Load(src + j + 8);
                    Vector256.Store(x0, to + j);
                    Vector256.Store(x1, to + j + 8);
                    max = Vector256.Max(max, Vector256.Max(Vector256.Abs(x0), Vector256.Abs(x1)));
                    check += x0 * Vector256<float>.Zero + x1 * Vector256<float>.Zero;
                }
                for (; j < size; j++)
                {
                    float x = src[j];
                    to[j] = x;
                    tailMax = Math.Max(tailMax, Math.Abs(x));
                    tailCheck += x * 0;
                }
            }
        }
        for (int l = 0; l < 8; l++) { tailMax = Math.Max(tailMax, max[l]); tailCheck += check[l]; }
        return tailCheck == 0 ? tailMax : float.PositiveInfinity;
    }

    /// <summary>max |x|, or +Inf when a value is NaN or ±Inf (x·0 is 0 exactly for finite x, NaN otherwise).</summary>
    public static float MaxAbs(ReadOnlySpan<float> values)
    {
        ref float v = ref MemoryMarshal.GetReference(values);
        int n = values.Length, i = 0;
        float max = 0, check = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var m = Vector256<float>.Zero;
            var c = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8)
            {
                var x = Vector256.LoadUnsafe(ref v, (nuint)i);
                m = Vector256.Max(m, Vector256.Abs(x));
                c += x * Vector256<float>.Zero;
            }
            for (int l = 0; l < 8; l++) { max = Math.Max(max, m[l]); check += c[l]; }
        }
        else if (Vector128.IsHardwareAccelerated && n >= 4)
        {
            var m = Vector128<float>.Zero;
            var c = Vector128<float>.Zero;
            for (; i + 4 <= n; i += 4)
            {
                var x = Vector128.LoadUnsafe(ref v, (nuint)i);
                m = Vector128.Max(m, Vector128.Abs(x));
                c += x * Vector128<float>.Zero;
            }
            for (int l = 0; l < 4; l++) { max = Math.Max(max, m[l]); check += c[l]; }
        }
        for (; i < n; i++)
        {
            float x = Unsafe.Add(ref v, i);
            max = Math.Max(max, Math.Abs(x));
            check += x * 0;
        }
        return check == 0 ? max : float.PositiveInfinity;
    }

    /// <summary>Σ x² in double (each square exact; NaN or +Inf when a value is not finite), in four interleaved sums.</summary>
    public static double SumOfSquares(ReadOnlySpan<float> values)
    {
        ref float v = ref MemoryMarshal.GetReference(values);
        int n = values.Length, i = 0;
        double sum = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<double> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i + 32 <= n; i += 32)
            {
                var (l0, h0) = Vector512.Widen(Vector512.LoadUnsafe(ref v, (nuint)i));
                var (l1, h1) = Vector512.Widen(Vector512.LoadUnsafe(ref v, (nuint)i + 16));
                a0 += l0 * l0; a1 += h0 * h0; a2 += l1 * l1; a3 += h1 * h1;
            }
            sum = Vector512.Sum((a0 + a1) + (a2 + a3));
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<double> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i + 16 <= n; i += 16)
            {
                var (l0, h0) = Vector256.Widen(Vector256.LoadUnsafe(ref v, (nuint)i));
                var (l1, h1) = Vector256.Widen(Vector256.LoadUnsafe(ref v, (nuint)i + 8));
                a0 += l0 * l0; a1 += h0 * h0; a2 += l1 * l1; a3 += h1 * h1;
            }
            sum = Vector256.Sum((a0 + a1) + (a2 + a3));
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            Vector128<double> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i + 8 <= n; i += 8)
            {
                var (l0, h0) = Vector128.Widen(Vector128.LoadUnsafe(ref v, (nuint)i));
                var (l1, h1) = Vector128.Widen(Vector128.LoadUnsafe(ref v, (nuint)i + 4));
                a0 += l0 * l0; a1 += h0 * h0; a2 += l1 * l1; a3 += h1 * h1;
            }
            sum = Vector128.Sum((a0 + a1) + (a2 + a3));
        }
        for (; i < n; i++) { double x = Unsafe.Add(ref v, i); sum += x * x; }
        return sum;
    }

    /// <summary>x *= scale.</summary>
    public static void Scale(Span<float> values, float scale)
    {
        ref float v = ref MemoryMarshal.GetReference(values);
        int n = values.Length, i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8) (Vector256.LoadUnsafe(ref v, (nuint)i) * scale).StoreUnsafe(ref v, (nuint)i);
        else if (Vector128.IsHardwareAccelerated)
            for (; i + 4 <= n; i += 4) (Vector128.LoadUnsafe(ref v, (nuint)i) * scale).StoreUnsafe(ref v, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref v, i) *= scale;
    }
}
