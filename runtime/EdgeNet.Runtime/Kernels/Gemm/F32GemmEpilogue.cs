using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Elementwise;

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
        switch (act.Kind)
        {
            case ActivationKind.None: RowScalar(bits, row, count, hasAdd, add, default(NoActivation)); break;
            case ActivationKind.Relu: RowScalar(bits, row, count, hasAdd, add, default(ReluMax)); break;
            case ActivationKind.Clip: RowScalar(bits, row, count, hasAdd, add, new ClipMinMax(act.Alpha, act.Beta)); break;
            case ActivationKind.LeakyRelu: RowScalar(bits, row, count, hasAdd, add, new LeakyReluAlpha(act.Alpha)); break;
            case ActivationKind.LeakyReluFloor: RowScalar(bits, row, count, hasAdd, add, new F32LeakyReluFloor(act.Alpha, act.Beta)); break;
            default: RowScalar(bits, row, count, hasAdd, add, new AnyActivation(act)); break;
        }
    }

    /// <summary>row[t] = act(row[t] + scale·bias[t]) for t &lt; count.</summary>
    public static void RowVector(int bits, float* row, int count, float* bias, float scale, FusedActivation act)
    {
        switch (act.Kind)
        {
            case ActivationKind.None: RowVector(bits, row, count, bias, scale, default(NoActivation)); break;
            case ActivationKind.Relu: RowVector(bits, row, count, bias, scale, default(ReluMax)); break;
            case ActivationKind.Clip: RowVector(bits, row, count, bias, scale, new ClipMinMax(act.Alpha, act.Beta)); break;
            case ActivationKind.LeakyRelu: RowVector(bits, row, count, bias, scale, new LeakyReluAlpha(act.Alpha)); break;
            case ActivationKind.LeakyReluFloor: RowVector(bits, row, count, bias, scale, new F32LeakyReluFloor(act.Alpha, act.Beta)); break;
            default: RowVector(bits, row, count, bias, scale, new AnyActivation(act)); break;
        }
    }

    /// <summary>
    /// dst[t] = act(src[t] (+ add)) for t &lt; count (src and dst do not overlap): whole vectors, the last one
    /// overlapping the previous when count is not a multiple of the width; rows narrower than 4 are staged.
    /// </summary>
    public static void CopyRow(int bits, float* src, float* dst, int count, bool hasAdd, float add, FusedActivation act)
    {
        switch (act.Kind)
        {
            case ActivationKind.None: CopyRow(bits, src, dst, count, hasAdd, add, default(NoActivation)); break;
            case ActivationKind.Relu: CopyRow(bits, src, dst, count, hasAdd, add, default(ReluMax)); break;
            case ActivationKind.Clip: CopyRow(bits, src, dst, count, hasAdd, add, new ClipMinMax(act.Alpha, act.Beta)); break;
            case ActivationKind.LeakyRelu: CopyRow(bits, src, dst, count, hasAdd, add, new LeakyReluAlpha(act.Alpha)); break;
            case ActivationKind.LeakyReluFloor: CopyRow(bits, src, dst, count, hasAdd, add, new F32LeakyReluFloor(act.Alpha, act.Beta)); break;
            default: CopyRow(bits, src, dst, count, hasAdd, add, new AnyActivation(act)); break;
        }
    }

    // The bodies are generic over the activation (one small specialized copy per kind, the activation inlined; a
    // switch over every kind inside the vector loop was too big for the JIT to inline, so each vector made a call).
    // Row tails go through stack vectors in separate methods, so the hot bodies have no stackalloc frame.

    private static void RowScalar<TAct>(int bits, float* row, int count, bool hasAdd, float add, TAct act) where TAct : struct, IF32UnaryOperator
    {
        switch (bits)
        {
            case 512:
            {
                var b = Vector512.Create(add);
                int t = 0;
                if (hasAdd) for (; t + 16 <= count; t += 16) act.Invoke(Vector512.Load(row + t) + b).Store(row + t);
                else for (; t + 16 <= count; t += 16) act.Invoke(Vector512.Load(row + t)).Store(row + t);
                if (t < count) Tail512(row + t, null, count - t, hasAdd ? b : default, hasAdd, act);
                return;
            }
            case 256:
            {
                var b = Vector256.Create(add);
                int t = 0;
                if (hasAdd) for (; t + 8 <= count; t += 8) act.Invoke(Vector256.Load(row + t) + b).Store(row + t);
                else for (; t + 8 <= count; t += 8) act.Invoke(Vector256.Load(row + t)).Store(row + t);
                if (t < count) Tail256(row + t, null, count - t, hasAdd ? b : default, hasAdd, act);
                return;
            }
            case 128:
            {
                var b = Vector128.Create(add);
                int t = 0;
                if (hasAdd) for (; t + 4 <= count; t += 4) act.Invoke(Vector128.Load(row + t) + b).Store(row + t);
                else for (; t + 4 <= count; t += 4) act.Invoke(Vector128.Load(row + t)).Store(row + t);
                if (t < count) Tail128(row + t, null, count - t, hasAdd ? b : default, hasAdd, act);
                return;
            }
            default:
                if (hasAdd) for (int t = 0; t < count; t++) row[t] = act.Invoke(row[t] + add);
                else for (int t = 0; t < count; t++) row[t] = act.Invoke(row[t]);
                return;
        }
    }

    private static void RowVector<TAct>(int bits, float* row, int count, float* bias, float scale, TAct act) where TAct : struct, IF32UnaryOperator
    {
        switch (bits)
        {
            case 512:
            {
                var s = Vector512.Create(scale);
                int t = 0;
                for (; t + 16 <= count; t += 16) act.Invoke(Vector512.Load(row + t) + s * Vector512.Load(bias + t)).Store(row + t);
                if (t < count) Tail512(row + t, bias + t, count - t, s, true, act);
                return;
            }
            case 256:
            {
                var s = Vector256.Create(scale);
                int t = 0;
                for (; t + 8 <= count; t += 8) act.Invoke(Vector256.Load(row + t) + s * Vector256.Load(bias + t)).Store(row + t);
                if (t < count) Tail256(row + t, bias + t, count - t, s, true, act);
                return;
            }
            case 128:
            {
                var s = Vector128.Create(scale);
                int t = 0;
                for (; t + 4 <= count; t += 4) act.Invoke(Vector128.Load(row + t) + s * Vector128.Load(bias + t)).Store(row + t);
                if (t < count) Tail128(row + t, bias + t, count - t, s, true, act);
                return;
            }
            default:
                for (int t = 0; t < count; t++) row[t] = act.Invoke(row[t] + scale * bias[t]);
                return;
        }
    }

    private static void CopyRow<TAct>(int bits, float* src, float* dst, int count, bool hasAdd, float add, TAct act) where TAct : struct, IF32UnaryOperator
    {
        if (bits >= 512 && count >= 16)
        {
            var b = Vector512.Create(add);
            for (int t = 0; ; t += 16)
            {
                if (t > count - 16) t = count - 16;
                var v = Vector512.Load(src + t);
                if (hasAdd) v += b;
                act.Invoke(v).Store(dst + t);
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
                act.Invoke(v).Store(dst + t);
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
                act.Invoke(v).Store(dst + t);
                if (t == count - 4) return;
            }
        }
        for (int t = 0; t < count; t++) dst[t] = src[t];
        RowScalar(bits, dst, count, hasAdd, add, act);
    }

    /// <summary>The last count (&lt; 16) values of a row through a stack vector: act(row + add), act(row + add·bias)
    /// when <paramref name="bias"/> is given, or act(row) without <paramref name="hasAdd"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Tail512<TAct>(float* row, float* bias, int count, Vector512<float> add, bool hasAdd, TAct act) where TAct : struct, IF32UnaryOperator
    {
        float* tmp = stackalloc float[32];
        Stage(row, tmp, count, 16);
        var v = Vector512.Load(tmp);
        if (bias is not null)
        {
            Stage(bias, tmp + 16, count, 16);
            v += add * Vector512.Load(tmp + 16);
        }
        else if (hasAdd) v += add;
        act.Invoke(v).Store(tmp);
        Unstage(tmp, row, count);
    }

    /// <inheritdoc cref="Tail512"/>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Tail256<TAct>(float* row, float* bias, int count, Vector256<float> add, bool hasAdd, TAct act) where TAct : struct, IF32UnaryOperator
    {
        float* tmp = stackalloc float[16];
        Stage(row, tmp, count, 8);
        var v = Vector256.Load(tmp);
        if (bias is not null)
        {
            Stage(bias, tmp + 8, count, 8);
            v += add * Vector256.Load(tmp + 8);
        }
        else if (hasAdd) v += add;
        act.Invoke(v).Store(tmp);
        Unstage(tmp, row, count);
    }

    /// <inheritdoc cref="Tail512"/>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Tail128<TAct>(float* row, float* bias, int count, Vector128<float> add, bool hasAdd, TAct act) where TAct : struct, IF32UnaryOperator
    {
        float* tmp = stackalloc float[8];
        Stage(row, tmp, count, 4);
        var v = Vector128.Load(tmp);
        if (bias is not null)
        {
            Stage(bias, tmp + 4, count, 4);
            v += add * Vector128.Load(tmp + 4);
        }
        else if (hasAdd) v += add;
        act.Invoke(v).Store(tmp);
        Unstage(tmp, row, count);
    }

    // The activations as FusedActivation.Apply computes them (same expressions, so the same bits), one struct each.

    private readonly struct NoActivation : IF32UnaryOperator
    {
        public float Invoke(float x) => x;
        public Vector128<float> Invoke(Vector128<float> x) => x;
        public Vector256<float> Invoke(Vector256<float> x) => x;
        public Vector512<float> Invoke(Vector512<float> x) => x;
    }

    private readonly struct ReluMax : IF32UnaryOperator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Invoke(float x) => MathF.Max(x, 0);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<float> Invoke(Vector128<float> x) => Vector128.Max(x, Vector128<float>.Zero);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<float> Invoke(Vector256<float> x) => Vector256.Max(x, Vector256<float>.Zero);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<float> Invoke(Vector512<float> x) => Vector512.Max(x, Vector512<float>.Zero);
    }

    private readonly struct ClipMinMax(float lo, float hi) : IF32UnaryOperator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Invoke(float x) => MathF.Min(MathF.Max(x, lo), hi);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<float> Invoke(Vector128<float> x) => new F32Clip(lo, hi).Invoke(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<float> Invoke(Vector256<float> x) => new F32Clip(lo, hi).Invoke(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<float> Invoke(Vector512<float> x) => new F32Clip(lo, hi).Invoke(x);
    }

    private readonly struct LeakyReluAlpha(float alpha) : IF32UnaryOperator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Invoke(float x) => x >= 0 ? x : x * alpha;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<float> Invoke(Vector128<float> x) => new F32LeakyRelu(alpha).Invoke(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<float> Invoke(Vector256<float> x) => new F32LeakyRelu(alpha).Invoke(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<float> Invoke(Vector512<float> x) => new F32LeakyRelu(alpha).Invoke(x);
    }

    /// <summary>Any other kind (sigmoid, tanh, …: their cost hides the call).</summary>
    private readonly struct AnyActivation(FusedActivation act) : IF32UnaryOperator
    {
        public float Invoke(float x) => act.Apply(x);
        public Vector128<float> Invoke(Vector128<float> x) => act.Apply(x);
        public Vector256<float> Invoke(Vector256<float> x) => act.Apply(x);
        public Vector512<float> Invoke(Vector512<float> x) => act.Apply(x);
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

    /// <summary>
    /// dst[c·ldd + r] = src[r·lds + c] for r &lt; rows, c &lt; cols: a finished GEMM tile stored transposed. Full 8×8
    /// blocks go through AVX registers (unpack, shuffle, lane permute) where the CPU has them; the rest is scalar.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TransposeTile(float* src, nint lds, int rows, int cols, float* dst, nint ldd)
    {
        int c0 = 0;
        if (rows == 8 && Avx.IsSupported)
            for (; c0 + 8 <= cols; c0 += 8) Transpose8x8(src + c0, lds, dst + c0 * ldd, ldd);
        else if (rows == 6 && Avx.IsSupported)
            for (; c0 + 8 <= cols; c0 += 8) Transpose6x8(src + c0, lds, dst + c0 * ldd, ldd);
        for (int c = c0; c < cols; c++)
        {
            float* d = dst + c * ldd;
            for (int r = 0; r < rows; r++) d[r] = src[r * lds + c];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, nint lds, float* dst, nint ldd)
    {
        Transpose(Avx.LoadVector256(src), Avx.LoadVector256(src + lds), Avx.LoadVector256(src + 2 * lds), Avx.LoadVector256(src + 3 * lds),
            Avx.LoadVector256(src + 4 * lds), Avx.LoadVector256(src + 5 * lds), Avx.LoadVector256(src + 6 * lds), Avx.LoadVector256(src + 7 * lds),
            out var u0, out var u1, out var u2, out var u3, out var u4, out var u5, out var u6, out var u7);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + ldd, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * ldd, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * ldd, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * ldd, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * ldd, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * ldd, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * ldd, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>The AVX2 tile's 6 rows × 8 columns: the 8×8 transpose with two zero rows, each output row stored as
    /// 4 + 2 floats (nothing written past its 6).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose6x8(float* src, nint lds, float* dst, nint ldd)
    {
        var z = Vector256<float>.Zero;
        Transpose(Avx.LoadVector256(src), Avx.LoadVector256(src + lds), Avx.LoadVector256(src + 2 * lds), Avx.LoadVector256(src + 3 * lds),
            Avx.LoadVector256(src + 4 * lds), Avx.LoadVector256(src + 5 * lds), z, z,
            out var u0, out var u1, out var u2, out var u3, out var u4, out var u5, out var u6, out var u7);
        // output row c: rows 0–3 in the low half of u(c mod 4) (c < 4) or its high half (c ≥ 4), rows 4–5 likewise in u(4 + c mod 4)
        Store6(dst, u0.GetLower(), u4.GetLower());
        Store6(dst + ldd, u1.GetLower(), u5.GetLower());
        Store6(dst + 2 * ldd, u2.GetLower(), u6.GetLower());
        Store6(dst + 3 * ldd, u3.GetLower(), u7.GetLower());
        Store6(dst + 4 * ldd, u0.GetUpper(), u4.GetUpper());
        Store6(dst + 5 * ldd, u1.GetUpper(), u5.GetUpper());
        Store6(dst + 6 * ldd, u2.GetUpper(), u6.GetUpper());
        Store6(dst + 7 * ldd, u3.GetUpper(), u7.GetUpper());
    }

    /// <summary>Rows r0..r7 to u0..u7: pairs of rows interleaved, then quads; output row c (of 8) is then the low
    /// halves (c &lt; 4) or high halves (c ≥ 4) of u(c mod 4) and u(4 + c mod 4).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7,
        out Vector256<float> u0, out Vector256<float> u1, out Vector256<float> u2, out Vector256<float> u3,
        out Vector256<float> u4, out Vector256<float> u5, out Vector256<float> u6, out Vector256<float> u7)
    {
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        u0 = Avx.Shuffle(t0, t2, 0b01_00_01_00); u1 = Avx.Shuffle(t0, t2, 0b11_10_11_10);
        u2 = Avx.Shuffle(t1, t3, 0b01_00_01_00); u3 = Avx.Shuffle(t1, t3, 0b11_10_11_10);
        u4 = Avx.Shuffle(t4, t6, 0b01_00_01_00); u5 = Avx.Shuffle(t4, t6, 0b11_10_11_10);
        u6 = Avx.Shuffle(t5, t7, 0b01_00_01_00); u7 = Avx.Shuffle(t5, t7, 0b11_10_11_10);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store6(float* dst, Vector128<float> first4, Vector128<float> last2)
    {
        first4.Store(dst);
        Sse2.StoreLow((double*)(dst + 4), last2.AsDouble());
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
