using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;


namespace EdgeNet.Kernels.Rnn;

/// <summary>
/// The vector operations the fast recurrent kernels are written against, so their logic exists once and is
/// instantiated per width: <see cref="Avx512Lanes"/> (Vector512), <see cref="Avx2Lanes"/> (Vector256 + FMA) and
/// <see cref="NeonLanes"/> (Vector128, AdvSimd on ARM64). Each uses the portable System.Runtime.Intrinsics vector API,
/// which the JIT lowers to vfmadd/vminps/... on AVX2 and AVX-512 and to fmla/fmin/... on AdvSimd, and emulates where
/// the hardware lacks the width: that is how tests on an AVX2-only machine still run the 512- and 128-bit
/// instantiations against the reference.
/// </summary>
internal interface IRnnSimd<TVec> where TVec : unmanaged
{
    static abstract int Lanes { get; }
    static abstract TVec Load(ref float p);
    static abstract void Store(TVec v, ref float p);
    static abstract TVec Splat(float x);
    /// <summary>a·b + c with one rounding.</summary>
    static abstract TVec MulAdd(TVec a, TVec b, TVec c);
    static abstract TVec Add(TVec a, TVec b);
    static abstract TVec Sub(TVec a, TVec b);
    static abstract TVec Mul(TVec a, TVec b);
    /// <summary>Hardware min/max (NaN handling as the instruction does it).</summary>
    static abstract TVec Min(TVec a, TVec b);
    static abstract TVec Max(TVec a, TVec b);
    /// <summary>Logistic sigmoid, the shared vector math (Kernels/Math/VectorMath: ≤ 2 ulp).</summary>
    static abstract TVec Sigmoid(TVec x);
    /// <summary>tanh, the shared vector math (Kernels/Math/VectorMath: ≤ 1 ulp).</summary>
    static abstract TVec Tanh(TVec x);
}

internal readonly struct Avx2Lanes : IRnnSimd<Vector256<float>>
{
    public static int Lanes => Vector256<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(ref float p) => Vector256.LoadUnsafe(ref p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> v, ref float p) => v.StoreUnsafe(ref p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Splat(float x) => Vector256.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Sub(Vector256<float> a, Vector256<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Mul(Vector256<float> a, Vector256<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Min(Vector256<float> a, Vector256<float> b) => Vector256.MinNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.MaxNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Sigmoid(Vector256<float> x) => VectorMath.Sigmoid(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Tanh(Vector256<float> x) => VectorMath.Tanh(x);
}

internal readonly struct Avx512Lanes : IRnnSimd<Vector512<float>>
{
    public static int Lanes => Vector512<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(ref float p) => Vector512.LoadUnsafe(ref p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> v, ref float p) => v.StoreUnsafe(ref p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Splat(float x) => Vector512.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MulAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Sub(Vector512<float> a, Vector512<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Mul(Vector512<float> a, Vector512<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Min(Vector512<float> a, Vector512<float> b) => Vector512.MinNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.MaxNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Sigmoid(Vector512<float> x) => VectorMath.Sigmoid(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Tanh(Vector512<float> x) => VectorMath.Tanh(x);
}

internal readonly struct NeonLanes : IRnnSimd<Vector128<float>>
{
    public static int Lanes => Vector128<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(ref float p) => Vector128.LoadUnsafe(ref p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<float> v, ref float p) => v.StoreUnsafe(ref p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Splat(float x) => Vector128.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MulAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Sub(Vector128<float> a, Vector128<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Mul(Vector128<float> a, Vector128<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Min(Vector128<float> a, Vector128<float> b) => Vector128.MinNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Max(Vector128<float> a, Vector128<float> b) => Vector128.MaxNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Sigmoid(Vector128<float> x) => VectorMath.Sigmoid(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Tanh(Vector128<float> x) => VectorMath.Tanh(x);
}
