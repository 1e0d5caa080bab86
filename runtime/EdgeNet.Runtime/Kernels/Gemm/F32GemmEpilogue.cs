using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using EdgeNet.Kernels.Activation;

namespace EdgeNet.Kernels.Gemm;

/// <summary>
/// The GEMM tile epilogue: row[t] = act(row[t] + bias) (or + scale·biasRow[t]) over a tile row, in the vector width
/// of the microkernel (<see cref="F32GemmMicrokernel.VectorBits"/>; 0 = scalar). The activation is the vector form
/// of <see cref="FusedActivation"/>; a row tail shorter than a vector is staged through a stack vector so it gets
/// exactly the same arithmetic as the rest of the row.
/// </summary>
internal static unsafe class F32GemmEpilogue
{
    /// <summary>row[t] = act(row[t] + add) for t &lt; count, or act(row[t]) when <paramref name="hasAdd"/> is false
    /// (adding 0 would turn −0 into +0).</summary>
    public static void RowScalar(int bits, float* row, int count, bool hasAdd, float add, FusedActivation act)
    {
        if (!hasAdd)
        {
            Activate(bits, row, count, act);
            return;
        }
        switch (bits)
        {
            case 512:
            {
                var b = Vector512.Create(add);
                int t = 0;
                for (; t + 16 <= count; t += 16) act.Apply(Vector512.Load(row + t) + b).Store(row + t);
                if (t < count)
                {
                    float* tmp = stackalloc float[16];
                    Stage(row + t, tmp, count - t, 16);
                    act.Apply(Vector512.Load(tmp) + b).Store(tmp);
                    Unstage(tmp, row + t, count - t);
                }
                return;
            }
            case 256:
            {
                var b = Vector256.Create(add);
                int t = 0;
                for (; t + 8 <= count; t += 8) act.Apply(Vector256.Load(row + t) + b).Store(row + t);
                if (t < count)
                {
                    float* tmp = stackalloc float[8];
                    Stage(row + t, tmp, count - t, 8);
                    act.Apply(Vector256.Load(tmp) + b).Store(tmp);
                    Unstage(tmp, row + t, count - t);
                }
                return;
            }
            case 128:
            {
                var b = Vector128.Create(add);
                int t = 0;
                for (; t + 4 <= count; t += 4) act.Apply(Vector128.Load(row + t) + b).Store(row + t);
                if (t < count)
                {
                    float* tmp = stackalloc float[4];
                    Stage(row + t, tmp, count - t, 4);
                    act.Apply(Vector128.Load(tmp) + b).Store(tmp);
                    Unstage(tmp, row + t, count - t);
                }
                return;
            }
            default:
                for (int t = 0; t < count; t++) row[t] = act.Apply(row[t] + add);
                return;
        }
    }

    private static void Activate(int bits, float* row, int count, FusedActivation act)
    {
        switch (bits)
        {
            case 512:
            {
                int t = 0;
                for (; t + 16 <= count; t += 16) act.Apply(Vector512.Load(row + t)).Store(row + t);
                if (t < count)
                {
                    float* tmp = stackalloc float[16];
                    Stage(row + t, tmp, count - t, 16);
                    act.Apply(Vector512.Load(tmp)).Store(tmp);
                    Unstage(tmp, row + t, count - t);
                }
                return;
            }
            case 256:
            {
                int t = 0;
                for (; t + 8 <= count; t += 8) act.Apply(Vector256.Load(row + t)).Store(row + t);
                if (t < count)
                {
                    float* tmp = stackalloc float[8];
                    Stage(row + t, tmp, count - t, 8);
                    act.Apply(Vector256.Load(tmp)).Store(tmp);
                    Unstage(tmp, row + t, count - t);
                }
                return;
            }
            case 128:
            {
                int t = 0;
                for (; t + 4 <= count; t += 4) act.Apply(Vector128.Load(row + t)).Store(row + t);
                if (t < count)
                {
                    float* tmp = stackalloc float[4];
                    Stage(row + t, tmp, count - t, 4);
                    act.Apply(Vector128.Load(tmp)).Store(tmp);
                    Unstage(tmp, row + t, count - t);
                }
                return;
            }
            default:
                for (int t = 0; t < count; t++) row[t] = act.Apply(row[t]);
                return;
        }
    }

    /// <summary>row[t] = act(row[t] + scale·bias[t]) for t &lt; count.</summary>
    public static void RowVector(int bits, float* row, int count, float* bias, float scale, FusedActivation act)
    {
        switch (bits)
        {
            case 512:
            {
                var s = Vector512.Create(scale);
                int t = 0;
                for (; t + 16 <= count; t += 16) act.Apply(Vector512.Load(row + t) + s * Vector512.Load(bias + t)).Store(row + t);
                if (t < count)
                {
                    float* tmp = stackalloc float[32];
                    Stage(row + t, tmp, count - t, 16);
                    Stage(bias + t, tmp + 16, count - t, 16);
                    act.Apply(Vector512.Load(tmp) + s * Vector512.Load(tmp + 16)).Store(tmp);
                    Unstage(tmp, row + t, count - t);
                }
                return;
            }
            case 256:
            {
                var s = Vector256.Create(scale);
                int t = 0;
                for (; t + 8 <= count; t += 8) act.Apply(Vector256.Load(row + t) + s * Vector256.Load(bias + t)).Store(row + t);
                if (t < count)
                {
                    float* tmp = stackalloc float[16];
                    Stage(row + t, tmp, count - t, 8);
                    Stage(bias + t, tmp + 8, count - t, 8);
                    act.Apply(Vector256.Load(tmp) + s * Vector256.Load(tmp + 8)).Store(tmp);
                    Unstage(tmp, row + t, count - t);
                }
                return;
            }
            case 128:
            {
                var s = Vector128.Create(scale);
                int t = 0;
                for (; t + 4 <= count; t += 4) act.Apply(Vector128.Load(row + t) + s * Vector128.Load(bias + t)).Store(row + t);
                if (t < count)
                {
                    float* tmp = stackalloc float[8];
                    Stage(row + t, tmp, count - t, 4);
                    Stage(bias + t, tmp + 4, count - t, 4);
                    act.Apply(Vector128.Load(tmp) + s * Vector128.Load(tmp + 4)).Store(tmp);
                    Unstage(tmp, row + t, count - t);
                }
                return;
            }
            default:
                for (int t = 0; t < count; t++) row[t] = act.Apply(row[t] + scale * bias[t]);
                return;
        }
    }

    /// <summary>
    /// dst[t] = act(src[t] (+ add)) for t &lt; count (src and dst do not overlap): whole vectors, the last one
    /// overlapping the previous when count is not a multiple of the width; rows narrower than 4 are staged.
    /// </summary>
    public static void CopyRow(int bits, float* src, float* dst, int count, bool hasAdd, float add, FusedActivation act)
    {
        if (bits >= 512 && count >= 16)
        {
            var b = Vector512.Create(add);
            for (int t = 0; ; t += 16)
            {
                if (t > count - 16) t = count - 16;
                var v = Vector512.Load(src + t);
                if (hasAdd) v += b;
                act.Apply(v).Store(dst + t);
                if (t == count - 16) return;
            }
        }
        if (bits >= 256 && count >= 8)
        {
            var b = Vector256.Create(add);
            for (int t = 0; ; t += 8)
            {
                if (t > count - 8) t = count - 8;
                var v = Vector256.Load(src + t);
                if (hasAdd) v += b;
                act.Apply(v).Store(dst + t);
                if (t == count - 8) return;
            }
        }
        if (bits >= 128 && count >= 4)
        {
            var b = Vector128.Create(add);
            for (int t = 0; ; t += 4)
            {
                if (t > count - 4) t = count - 4;
                var v = Vector128.Load(src + t);
                if (hasAdd) v += b;
                act.Apply(v).Store(dst + t);
                if (t == count - 4) return;
            }
        }
        for (int t = 0; t < count; t++) dst[t] = src[t];
        RowScalar(bits, dst, count, hasAdd, add, act);
    }

    /// <summary>dst[t] = src[t] for t &lt; count (no overlap), with inline vector moves for the short rows of conv planes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(float* src, float* dst, int count)
    {
        if (count >= 16 && Vector512.IsHardwareAccelerated)
        {
            for (int t = 0; ; t += 16)
            {
                if (t > count - 16) t = count - 16;
                Vector512.Load(src + t).Store(dst + t);
                if (t == count - 16) return;
            }
        }
        if (count >= 8 && Vector256.IsHardwareAccelerated)
        {
            for (int t = 0; ; t += 8)
            {
                if (t > count - 8) t = count - 8;
                Vector256.Load(src + t).Store(dst + t);
                if (t == count - 8) return;
            }
        }
        if (count >= 4)
        {
            for (int t = 0; ; t += 4)
            {
                if (t > count - 4) t = count - 4;
                Vector128.Load(src + t).Store(dst + t);
                if (t == count - 4) return;
            }
        }
        for (int t = 0; t < count; t++) dst[t] = src[t];
    }

    /// <summary>dst[0..count) = 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Zero(float* dst, int count)
    {
        if (count > 32)
        {
            new Span<float>(dst, count).Clear();
            return;
        }
        int t = 0;
        for (; t + 4 <= count; t += 4) Vector128<float>.Zero.Store(dst + t);
        for (; t < count; t++) dst[t] = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Stage(float* src, float* tmp, int count, int width)
    {
        int t = 0;
        for (; t < count; t++) tmp[t] = src[t];
        for (; t < width; t++) tmp[t] = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Unstage(float* tmp, float* dst, int count)
    {
        for (int t = 0; t < count; t++) dst[t] = tmp[t];
    }
}
