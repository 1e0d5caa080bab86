using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EdgeNet.Kernels.Elementwise;

// One file per vector width, identical but for the width: edit all three together.
public static partial class F32Elementwise
{
    /// <summary>The first <paramref name="count"/> lanes from src, the rest <paramref name="pad"/> (vector tails).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadPartial512(ref float src, int count, float pad)
    {
        var v = Vector512.Create(pad);
        ref float lanes = ref Unsafe.As<Vector512<float>, float>(ref v);
        for (int i = 0; i < count; i++) Unsafe.Add(ref lanes, i) = Unsafe.Add(ref src, i);
        return v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StorePartial512(Vector512<float> v, ref float dst, int count)
    {
        ref float lanes = ref Unsafe.As<Vector512<float>, float>(ref v);
        for (int i = 0; i < count; i++) Unsafe.Add(ref dst, i) = Unsafe.Add(ref lanes, i);
    }

    /// <summary>y[i] = op(x[i]); y may be x (in place).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Unary512<TOp>(TOp op, ReadOnlySpan<float> x, Span<float> y) where TOp : struct, IF32UnaryOperator
    {
        int n = y.Length, w = Vector512<float>.Count, i = 0;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        for (; i <= n - 4 * w; i += 4 * w)
        {
            var v0 = op.Invoke(Vector512.LoadUnsafe(ref xr, (nuint)i));
            var v1 = op.Invoke(Vector512.LoadUnsafe(ref xr, (nuint)(i + w)));
            var v2 = op.Invoke(Vector512.LoadUnsafe(ref xr, (nuint)(i + 2 * w)));
            var v3 = op.Invoke(Vector512.LoadUnsafe(ref xr, (nuint)(i + 3 * w)));
            v0.StoreUnsafe(ref yr, (nuint)i);
            v1.StoreUnsafe(ref yr, (nuint)(i + w));
            v2.StoreUnsafe(ref yr, (nuint)(i + 2 * w));
            v3.StoreUnsafe(ref yr, (nuint)(i + 3 * w));
        }
        for (; i <= n - w; i += w) op.Invoke(Vector512.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        if (i < n)
            StorePartial512(op.Invoke(LoadPartial512(ref Unsafe.Add(ref xr, i), n - i, 0)), ref Unsafe.Add(ref yr, i), n - i);
    }

    /// <summary>y[i] = op(a[i], b[i]); y may be a or b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Binary512<TOp>(TOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) where TOp : struct, IF32BinaryOperator
    {
        int n = y.Length, w = Vector512<float>.Count, i = 0;
        ref float ar = ref MemoryMarshal.GetReference(a);
        ref float br = ref MemoryMarshal.GetReference(b);
        ref float yr = ref MemoryMarshal.GetReference(y);
        for (; i <= n - 2 * w; i += 2 * w)
        {
            var v0 = op.Invoke(Vector512.LoadUnsafe(ref ar, (nuint)i), Vector512.LoadUnsafe(ref br, (nuint)i));
            var v1 = op.Invoke(Vector512.LoadUnsafe(ref ar, (nuint)(i + w)), Vector512.LoadUnsafe(ref br, (nuint)(i + w)));
            v0.StoreUnsafe(ref yr, (nuint)i);
            v1.StoreUnsafe(ref yr, (nuint)(i + w));
        }
        for (; i <= n - w; i += w)
            op.Invoke(Vector512.LoadUnsafe(ref ar, (nuint)i), Vector512.LoadUnsafe(ref br, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        if (i < n)
            StorePartial512(op.Invoke(LoadPartial512(ref Unsafe.Add(ref ar, i), n - i, 0), LoadPartial512(ref Unsafe.Add(ref br, i), n - i, 0)),
                ref Unsafe.Add(ref yr, i), n - i);
    }

    /// <summary>y[i] = op(a[i], s) (s is b broadcast).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BinaryScalarB512<TOp>(TOp op, ReadOnlySpan<float> a, float s, Span<float> y) where TOp : struct, IF32BinaryOperator
    {
        int n = y.Length, w = Vector512<float>.Count, i = 0;
        ref float ar = ref MemoryMarshal.GetReference(a);
        ref float yr = ref MemoryMarshal.GetReference(y);
        var sv = Vector512.Create(s);
        for (; i <= n - 2 * w; i += 2 * w)
        {
            var v0 = op.Invoke(Vector512.LoadUnsafe(ref ar, (nuint)i), sv);
            var v1 = op.Invoke(Vector512.LoadUnsafe(ref ar, (nuint)(i + w)), sv);
            v0.StoreUnsafe(ref yr, (nuint)i);
            v1.StoreUnsafe(ref yr, (nuint)(i + w));
        }
        for (; i <= n - w; i += w) op.Invoke(Vector512.LoadUnsafe(ref ar, (nuint)i), sv).StoreUnsafe(ref yr, (nuint)i);
        if (i < n) StorePartial512(op.Invoke(LoadPartial512(ref Unsafe.Add(ref ar, i), n - i, 0), sv), ref Unsafe.Add(ref yr, i), n - i);
    }

    /// <summary>y[i] = op(s, b[i]) (s is a broadcast).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BinaryScalarA512<TOp>(TOp op, float s, ReadOnlySpan<float> b, Span<float> y) where TOp : struct, IF32BinaryOperator
    {
        int n = y.Length, w = Vector512<float>.Count, i = 0;
        ref float br = ref MemoryMarshal.GetReference(b);
        ref float yr = ref MemoryMarshal.GetReference(y);
        var sv = Vector512.Create(s);
        for (; i <= n - 2 * w; i += 2 * w)
        {
            var v0 = op.Invoke(sv, Vector512.LoadUnsafe(ref br, (nuint)i));
            var v1 = op.Invoke(sv, Vector512.LoadUnsafe(ref br, (nuint)(i + w)));
            v0.StoreUnsafe(ref yr, (nuint)i);
            v1.StoreUnsafe(ref yr, (nuint)(i + w));
        }
        for (; i <= n - w; i += w) op.Invoke(sv, Vector512.LoadUnsafe(ref br, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        if (i < n) StorePartial512(op.Invoke(sv, LoadPartial512(ref Unsafe.Add(ref br, i), n - i, 0)), ref Unsafe.Add(ref yr, i), n - i);
    }

    /// <summary>Σ x[i] (lane-wise partial sums, then a horizontal add).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Sum512(ReadOnlySpan<float> x)
    {
        int n = x.Length, w = Vector512<float>.Count, i = 0;
        ref float xr = ref MemoryMarshal.GetReference(x);
        Vector512<float> s0 = default, s1 = default;
        for (; i <= n - 2 * w; i += 2 * w)
        {
            s0 += Vector512.LoadUnsafe(ref xr, (nuint)i);
            s1 += Vector512.LoadUnsafe(ref xr, (nuint)(i + w));
        }
        for (; i <= n - w; i += w) s0 += Vector512.LoadUnsafe(ref xr, (nuint)i);
        if (i < n) s1 += LoadPartial512(ref Unsafe.Add(ref xr, i), n - i, 0);
        return Vector512.Sum(s0 + s1);
    }

    /// <summary>Σ (x[i] − c)².</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float SumSquaredDeviation512(ReadOnlySpan<float> x, float c)
    {
        int n = x.Length, w = Vector512<float>.Count, i = 0;
        ref float xr = ref MemoryMarshal.GetReference(x);
        var cv = Vector512.Create(c);
        Vector512<float> s0 = default, s1 = default;
        for (; i <= n - 2 * w; i += 2 * w)
        {
            var d0 = Vector512.LoadUnsafe(ref xr, (nuint)i) - cv;
            var d1 = Vector512.LoadUnsafe(ref xr, (nuint)(i + w)) - cv;
            s0 = Vector512.FusedMultiplyAdd(d0, d0, s0);
            s1 = Vector512.FusedMultiplyAdd(d1, d1, s1);
        }
        for (; i <= n - w; i += w)
        {
            var d = Vector512.LoadUnsafe(ref xr, (nuint)i) - cv;
            s0 = Vector512.FusedMultiplyAdd(d, d, s0);
        }
        if (i < n)
        {
            var d = LoadPartial512(ref Unsafe.Add(ref xr, i), n - i, c) - cv;
            s1 = Vector512.FusedMultiplyAdd(d, d, s1);
        }
        return Vector512.Sum(s0 + s1);
    }

    /// <summary>max x[i] (NaN if any element is NaN; −∞ for an empty span).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Max512(ReadOnlySpan<float> x)
    {
        int n = x.Length, w = Vector512<float>.Count, i = 0;
        ref float xr = ref MemoryMarshal.GetReference(x);
        var m0 = Vector512.Create(float.NegativeInfinity);
        var m1 = m0;
        for (; i <= n - 2 * w; i += 2 * w)
        {
            m0 = Vector512.Max(m0, Vector512.LoadUnsafe(ref xr, (nuint)i));
            m1 = Vector512.Max(m1, Vector512.LoadUnsafe(ref xr, (nuint)(i + w)));
        }
        for (; i <= n - w; i += w) m0 = Vector512.Max(m0, Vector512.LoadUnsafe(ref xr, (nuint)i));
        if (i < n) m1 = Vector512.Max(m1, LoadPartial512(ref Unsafe.Add(ref xr, i), n - i, float.NegativeInfinity));
        m0 = Vector512.Max(m0, m1);
        float m = float.NegativeInfinity;
        for (int k = 0; k < w; k++) m = MathF.Max(m, m0.GetElement(k));
        return m;
    }

    /// <summary>min x[i] (NaN if any element is NaN; +∞ for an empty span).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Min512(ReadOnlySpan<float> x)
    {
        int n = x.Length, w = Vector512<float>.Count, i = 0;
        ref float xr = ref MemoryMarshal.GetReference(x);
        var m0 = Vector512.Create(float.PositiveInfinity);
        for (; i <= n - w; i += w) m0 = Vector512.Min(m0, Vector512.LoadUnsafe(ref xr, (nuint)i));
        if (i < n) m0 = Vector512.Min(m0, LoadPartial512(ref Unsafe.Add(ref xr, i), n - i, float.PositiveInfinity));
        float m = float.PositiveInfinity;
        for (int k = 0; k < w; k++) m = MathF.Min(m, m0.GetElement(k));
        return m;
    }

    /// <summary>y[i] = e^(x[i] − shift); returns Σ y[i] (the softmax numerator and its denominator in one pass).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float ExpShiftedSum512(ReadOnlySpan<float> x, float shift, Span<float> y)
    {
        int n = x.Length, w = Vector512<float>.Count, i = 0;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        var sv = Vector512.Create(shift);
        Vector512<float> s0 = default, s1 = default;
        for (; i <= n - 2 * w; i += 2 * w)
        {
            var e0 = VectorMath.Exp(Vector512.LoadUnsafe(ref xr, (nuint)i) - sv);
            var e1 = VectorMath.Exp(Vector512.LoadUnsafe(ref xr, (nuint)(i + w)) - sv);
            e0.StoreUnsafe(ref yr, (nuint)i);
            e1.StoreUnsafe(ref yr, (nuint)(i + w));
            s0 += e0;
            s1 += e1;
        }
        for (; i <= n - w; i += w)
        {
            var e = VectorMath.Exp(Vector512.LoadUnsafe(ref xr, (nuint)i) - sv);
            e.StoreUnsafe(ref yr, (nuint)i);
            s0 += e;
        }
        if (i < n)
        {
            var e = VectorMath.Exp(LoadPartial512(ref Unsafe.Add(ref xr, i), n - i, float.NegativeInfinity) - sv);
            StorePartial512(e, ref Unsafe.Add(ref yr, i), n - i);
            s1 += Vector512.ConditionalSelect(Vector512.LessThanOrEqual(Vector512.Create(n - i), LaneIndex512()).AsSingle() , default, e);
        }
        return Vector512.Sum(s0 + s1);
    }

    /// <summary>Σ e^(x[i] − shift) without storing (LogSoftmax, ReduceLogSumExp).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float ExpShiftedSumOnly512(ReadOnlySpan<float> x, float shift)
    {
        int n = x.Length, w = Vector512<float>.Count, i = 0;
        ref float xr = ref MemoryMarshal.GetReference(x);
        var sv = Vector512.Create(shift);
        Vector512<float> s0 = default, s1 = default;
        for (; i <= n - 2 * w; i += 2 * w)
        {
            s0 += VectorMath.Exp(Vector512.LoadUnsafe(ref xr, (nuint)i) - sv);
            s1 += VectorMath.Exp(Vector512.LoadUnsafe(ref xr, (nuint)(i + w)) - sv);
        }
        for (; i <= n - w; i += w) s0 += VectorMath.Exp(Vector512.LoadUnsafe(ref xr, (nuint)i) - sv);
        if (i < n)
        {
            var e = VectorMath.Exp(LoadPartial512(ref Unsafe.Add(ref xr, i), n - i, float.NegativeInfinity) - sv);
            s1 += Vector512.ConditionalSelect(Vector512.LessThanOrEqual(Vector512.Create(n - i), LaneIndex512()).AsSingle(), default, e);
        }
        return Vector512.Sum(s0 + s1);
    }

    /// <summary>0, 1, 2, ... per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> LaneIndex512() => Vector512<int>.Indices;

    /// <summary>y[i] = x[i]·scale + shift (per-channel affine: BatchNormalization, Mean's 1/n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Affine512(ReadOnlySpan<float> x, float scale, float shift, Span<float> y)
    {
        int n = y.Length, w = Vector512<float>.Count, i = 0;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        var a = Vector512.Create(scale);
        var b = Vector512.Create(shift);
        for (; i <= n - 2 * w; i += 2 * w)
        {
            var v0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref xr, (nuint)i), a, b);
            var v1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref xr, (nuint)(i + w)), a, b);
            v0.StoreUnsafe(ref yr, (nuint)i);
            v1.StoreUnsafe(ref yr, (nuint)(i + w));
        }
        for (; i <= n - w; i += w) Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref xr, (nuint)i), a, b).StoreUnsafe(ref yr, (nuint)i);
        if (i < n) StorePartial512(Vector512.FusedMultiplyAdd(LoadPartial512(ref Unsafe.Add(ref xr, i), n - i, 0), a, b), ref Unsafe.Add(ref yr, i), n - i);
    }

    /// <summary>y[i] = (x[i] − mean)·inv·scale[i] + bias[i] (LayerNormalization; bias may be empty = 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Normalize512(ReadOnlySpan<float> x, float mean, float inv, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, Span<float> y)
    {
        int n = y.Length, w = Vector512<float>.Count, i = 0;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float sr = ref MemoryMarshal.GetReference(scale);
        ref float yr = ref MemoryMarshal.GetReference(y);
        var mv = Vector512.Create(mean);
        var iv = Vector512.Create(inv);
        bool hasBias = !bias.IsEmpty;
        ref float br = ref MemoryMarshal.GetReference(bias);
        for (; i <= n - w; i += w)
        {
            var v = (Vector512.LoadUnsafe(ref xr, (nuint)i) - mv) * iv * Vector512.LoadUnsafe(ref sr, (nuint)i);
            if (hasBias) v += Vector512.LoadUnsafe(ref br, (nuint)i);
            v.StoreUnsafe(ref yr, (nuint)i);
        }
        if (i < n)
        {
            int r = n - i;
            var v = (LoadPartial512(ref Unsafe.Add(ref xr, i), r, 0) - mv) * iv * LoadPartial512(ref Unsafe.Add(ref sr, i), r, 0);
            if (hasBias) v += LoadPartial512(ref Unsafe.Add(ref br, i), r, 0);
            StorePartial512(v, ref Unsafe.Add(ref yr, i), r);
        }
    }

    /// <summary>acc[i] = op(acc[i], x[i]) for a reduction over a non-innermost axis (op: Add, Max, Min, ...).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Accumulate512<TOp>(TOp op, Span<float> acc, ReadOnlySpan<float> x) where TOp : struct, IF32BinaryOperator =>
        Binary512(op, acc, x, acc);
}
