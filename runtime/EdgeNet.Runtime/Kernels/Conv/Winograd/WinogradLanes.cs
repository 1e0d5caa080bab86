using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using EdgeNet.Kernels.Activation;

namespace EdgeNet.Kernels.Conv.Winograd;

/// <summary>
/// The few vector operations the Winograd tile transforms need, as static abstract members so one generic transform
/// is specialised by the JIT per width: <see cref="Lanes512"/> (AVX-512), <see cref="Lanes256"/> (AVX2),
/// <see cref="Lanes128"/> (NEON) and <see cref="Lanes1"/> (the scalar path). Lane i is tile i of a tile row.
/// </summary>
public unsafe interface IWinogradLanes<V> where V : unmanaged
{
    static abstract int Count { get; }
    static abstract V Load(float* p);
    static abstract void Store(float* p, V v);
    static abstract V Broadcast(float s);
    static abstract V Add(V a, V b);
    static abstract V Sub(V a, V b);
    /// <summary>a·s + c.</summary>
    static abstract V MulAdd(V a, float s, V c);
    static abstract V Activate(V v, FusedActivation act);
}

#pragma warning disable CA1815 // operator structs, never compared
public readonly unsafe struct Lanes512 : IWinogradLanes<Vector512<float>>
{
    public static int Count => 16;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(float* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector512<float> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Broadcast(float s) => Vector512.Create(s);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Sub(Vector512<float> a, Vector512<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MulAdd(Vector512<float> a, float s, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, Vector512.Create(s), c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Activate(Vector512<float> v, FusedActivation act) => act.Apply(v);
}

public readonly unsafe struct Lanes256 : IWinogradLanes<Vector256<float>>
{
    public static int Count => 8;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(float* p) => Vector256.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector256<float> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Broadcast(float s) => Vector256.Create(s);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Sub(Vector256<float> a, Vector256<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MulAdd(Vector256<float> a, float s, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, Vector256.Create(s), c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Activate(Vector256<float> v, FusedActivation act) => act.Apply(v);
}

public readonly unsafe struct Lanes128 : IWinogradLanes<Vector128<float>>
{
    public static int Count => 4;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(float* p) => Vector128.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector128<float> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Broadcast(float s) => Vector128.Create(s);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Sub(Vector128<float> a, Vector128<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MulAdd(Vector128<float> a, float s, Vector128<float> c) => Vector128.FusedMultiplyAdd(a, Vector128.Create(s), c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Activate(Vector128<float> v, FusedActivation act) => act.Apply(v);
}

public readonly unsafe struct Lanes1 : IWinogradLanes<float>
{
    public static int Count => 1;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Load(float* p) => *p;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, float v) => *p = v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Broadcast(float s) => s;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Add(float a, float b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sub(float a, float b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MulAdd(float a, float s, float c) => a * s + c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Activate(float v, FusedActivation act) => act.Apply(v);
}
#pragma warning restore CA1815
