using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Kernels.Activation;
using EdgeNet.Ops.Conv;

namespace EdgeNet.Kernels.Conv;

/// <summary>
/// One ISA's float vector as static operations, so the depthwise and pooling row loops are written once and the JIT
/// compiles a separate copy per vector type (the TensorPrimitives operator-struct pattern). Offsets are in floats
/// from a <c>ref float</c>; callers guarantee every lane read lies inside the row they pass.
/// </summary>
internal interface IF32Simd<TV> where TV : struct
{
    static abstract int Count { get; }
    static abstract TV Splat(float value);
    static abstract TV Load(ref float source, nint offset);
    /// <summary>Elements offset, offset+2, …, offset+2·(Count−1): a stride-2 row read with two loads and one shuffle (reads 2·Count floats).</summary>
    static abstract TV LoadEvens(ref float source, nint offset);
    static abstract void Store(TV value, ref float destination, nint offset);
    /// <summary>a·b + c, fused.</summary>
    static abstract TV MultiplyAdd(TV a, TV b, TV c);
    static abstract TV Add(TV a, TV b);
    /// <summary>Bitwise a &amp; b (masking lanes to +0 with an all-zero mask).</summary>
    static abstract TV And(TV a, TV b);
    static abstract TV Multiply(TV a, TV b);
    /// <summary>max(a, b); NaN in <paramref name="b"/> is returned as is (as <see cref="MathF.Max(float, float)"/> would).</summary>
    static abstract TV Max(TV a, TV b);
    /// <summary>min(a, b); NaN in <paramref name="b"/> is returned as is.</summary>
    static abstract TV Min(TV a, TV b);
    static abstract float Sum(TV value);
    static abstract float MaxAcross(TV value);
    /// <summary>The fused activation of one register (<see cref="FusedActivation.Apply(Vector128{float})"/> at this width).</summary>
    static abstract TV Activate(TV value, FusedActivation activation);
}

/// <summary>Chooses between a contiguous (stride 1) and an every-other-element (stride 2) load.</summary>
internal interface IF32StrideLoad
{
    static abstract TV Load<TS, TV>(ref float row, nint column) where TS : IF32Simd<TV> where TV : struct;
}

internal readonly struct F32Stride1 : IF32StrideLoad
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Load<TS, TV>(ref float row, nint column) where TS : IF32Simd<TV> where TV : struct => TS.Load(ref row, column);
}

internal readonly struct F32Stride2 : IF32StrideLoad
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Load<TS, TV>(ref float row, nint column) where TS : IF32Simd<TV> where TV : struct => TS.LoadEvens(ref row, column);
}

/// <summary>x86-64 AVX2 + FMA, 8 floats.</summary>
internal readonly struct F32Avx2 : IF32Simd<Vector256<float>>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Activate(Vector256<float> value, FusedActivation activation) => activation.Apply(value);
    public static int Count => Vector256<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Splat(float value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(ref float source, nint offset) => Vector256.LoadUnsafe(ref Unsafe.Add(ref source, offset));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadEvens(ref float source, nint offset)
    {
        var a = Vector256.LoadUnsafe(ref Unsafe.Add(ref source, offset));
        var b = Vector256.LoadUnsafe(ref Unsafe.Add(ref source, offset + 8));
        // per 128-bit lane: a0 a2 b0 b2 | a4 a6 b4 b6; then reorder the 64-bit pairs to a0 a2 a4 a6 b0 b2 b4 b6
        var lanes = Avx.Shuffle(a, b, 0b10_00_10_00);
        return Avx2.Permute4x64(lanes.AsDouble(), 0b11_01_10_00).AsSingle();
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> value, ref float destination, nint offset) => value.StoreUnsafe(ref Unsafe.Add(ref destination, offset));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Fma.MultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => Avx.Add(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> And(Vector256<float> a, Vector256<float> b) => Avx.And(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => Avx.Multiply(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Avx.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Min(Vector256<float> a, Vector256<float> b) => Avx.Min(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector256<float> value) => Vector256.Sum(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector256<float> value)
    {
        var m = Sse.Max(value.GetLower(), value.GetUpper());
        m = Sse.Max(m, Sse.Shuffle(m, m, 0b01_00_11_10));
        m = Sse.Max(m, Sse.Shuffle(m, m, 0b10_11_00_01));
        return m.ToScalar();
    }
}

/// <summary>
/// x86-64 128-bit vectors with FMA (VEX-encoded, part of the AVX2 path): taken instead of the wide vectors when an
/// output row's interior is narrower than 8 columns (7×7 and 14×14 planes at the end of mobile nets).
/// </summary>
internal readonly struct F32Sse : IF32Simd<Vector128<float>>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Activate(Vector128<float> value, FusedActivation activation) => activation.Apply(value);
    public static int Count => Vector128<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Splat(float value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(ref float source, nint offset) => Vector128.LoadUnsafe(ref Unsafe.Add(ref source, offset));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadEvens(ref float source, nint offset)
    {
        var a = Vector128.LoadUnsafe(ref Unsafe.Add(ref source, offset));
        var b = Vector128.LoadUnsafe(ref Unsafe.Add(ref source, offset + 4));
        return Sse.Shuffle(a, b, 0b10_00_10_00); // a0 a2 b0 b2
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<float> value, ref float destination, nint offset) => value.StoreUnsafe(ref Unsafe.Add(ref destination, offset));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Fma.MultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => Sse.Add(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> And(Vector128<float> a, Vector128<float> b) => Sse.And(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => Sse.Multiply(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Max(Vector128<float> a, Vector128<float> b) => Sse.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Min(Vector128<float> a, Vector128<float> b) => Sse.Min(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector128<float> value) => Vector128.Sum(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector128<float> value)
    {
        var m = Sse.Max(value, Sse.Shuffle(value, value, 0b01_00_11_10));
        m = Sse.Max(m, Sse.Shuffle(m, m, 0b10_11_00_01));
        return m.ToScalar();
    }
}

/// <summary>
/// How one output row splits: columns [Lo, Hi) have the whole window inside the input row (left of Lo and from Hi on
/// are the borders); [Lo, Vec) may also be read by whole vectors (a stride-2 vector reads one float past its last tap;
/// strides above 2 have no vector part).
/// </summary>
internal readonly record struct F32RowSplit(int Lo, int Hi, int Vec)
{
    public static F32RowSplit Of(ConvGeometry g)
    {
        int extent = (g.KW - 1) * g.DW;
        int lo = Math.Min(g.OutW, CeilDiv(g.PadLeft, g.SW));
        int hi = Math.Clamp(FloorDiv(g.InW - 1 - extent + g.PadLeft, g.SW) + 1, lo, g.OutW);
        int vec = g.SW switch
        {
            1 => hi,
            2 => Math.Clamp(FloorDiv(g.InW - 2 - extent + g.PadLeft, 2) + 1, lo, hi),
            _ => lo,
        };
        return new F32RowSplit(lo, hi, vec);
    }

    public static int CeilDiv(int a, int b) => (a + b - 1) / b;
    public static int FloorDiv(int a, int b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    /// <summary>The widest vector of <paramref name="isa"/> that fits the vector part of a row (narrow rows take narrower vectors).</summary>
    public int VectorBits(Isa isa)
    {
        int width = Vec - Lo;
        return isa switch
        {
            Isa.Avx512 => width >= 16 ? 512 : width >= 8 ? 256 : 128,
            Isa.Avx2 => width >= 8 ? 256 : 128,
            Isa.Neon => 128,
            _ => 0,
        };
    }
}

/// <summary>x86-64 AVX-512 F, 16 floats.</summary>
internal readonly struct F32Avx512 : IF32Simd<Vector512<float>>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Activate(Vector512<float> value, FusedActivation activation) => activation.Apply(value);
    public static int Count => Vector512<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Splat(float value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(ref float source, nint offset) => Vector512.LoadUnsafe(ref Unsafe.Add(ref source, offset));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadEvens(ref float source, nint offset)
    {
        var a = Vector512.LoadUnsafe(ref Unsafe.Add(ref source, offset));
        var b = Vector512.LoadUnsafe(ref Unsafe.Add(ref source, offset + 16));
        if (Avx512F.IsSupported)
            return Avx512F.PermuteVar16x32x2(a, Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b);
        // portable form (the software Vector512 the tests run where the CPU lacks AVX-512)
        var lowEvens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0);
        return Vector512.Create(Vector512.Shuffle(a, lowEvens).GetLower(), Vector512.Shuffle(b, lowEvens).GetLower());
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> value, ref float destination, nint offset) => value.StoreUnsafe(ref Unsafe.Add(ref destination, offset));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Avx512F.IsSupported ? Avx512F.FusedMultiplyAdd(a, b, c) : Vector512.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> And(Vector512<float> a, Vector512<float> b) => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Avx512F.IsSupported ? Avx512F.Max(a, b) : Vector512.MaxNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Min(Vector512<float> a, Vector512<float> b) => Avx512F.IsSupported ? Avx512F.Min(a, b) : Vector512.MinNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector512<float> value) => Vector512.Sum(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector512<float> value) =>
        F32Avx2.MaxAcross(Avx.Max(value.GetLower(), value.GetUpper()));
}

/// <summary>ARM64 AdvSimd (NEON), 4 floats.</summary>
internal readonly struct F32Neon : IF32Simd<Vector128<float>>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Activate(Vector128<float> value, FusedActivation activation) => activation.Apply(value);
    public static int Count => Vector128<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Splat(float value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(ref float source, nint offset) => Vector128.LoadUnsafe(ref Unsafe.Add(ref source, offset));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadEvens(ref float source, nint offset)
    {
        var a = Vector128.LoadUnsafe(ref Unsafe.Add(ref source, offset));
        var b = Vector128.LoadUnsafe(ref Unsafe.Add(ref source, offset + 4));
        return AdvSimd.Arm64.UnzipEven(a, b); // uzp1: a0 a2 b0 b2
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<float> value, ref float destination, nint offset) => value.StoreUnsafe(ref Unsafe.Add(ref destination, offset));
    // AdvSimd.FusedMultiplyAdd(addend, left, right) = addend + left·right (fmla)
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => AdvSimd.FusedMultiplyAdd(c, a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => AdvSimd.Add(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> And(Vector128<float> a, Vector128<float> b) => AdvSimd.And(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => AdvSimd.Multiply(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Max(Vector128<float> a, Vector128<float> b) => AdvSimd.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Min(Vector128<float> a, Vector128<float> b) => AdvSimd.Min(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector128<float> value) => Vector128.Sum(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MaxAcross(Vector128<float> value) => AdvSimd.Arm64.MaxAcross(value).ToScalar();
}
