using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgeNet.Kernels.Elementwise;

/// <summary>
/// A float32 element-wise unary operator (TensorPrimitives style): one overload per vector width plus the scalar
/// form. Operators are readonly structs passed as generic arguments, so the driver loops are specialized and the
/// Invoke calls inlined; parameterized activations (LeakyRelu alpha, Clip bounds) carry their parameters as fields.
/// </summary>
public interface IF32UnaryOperator
{
    float Invoke(float x);
    Vector128<float> Invoke(Vector128<float> x);
    Vector256<float> Invoke(Vector256<float> x);
    Vector512<float> Invoke(Vector512<float> x);
}

/// <summary>A float32 element-wise binary operator (see <see cref="IF32UnaryOperator"/>).</summary>
public interface IF32BinaryOperator
{
    float Invoke(float a, float b);
    Vector128<float> Invoke(Vector128<float> a, Vector128<float> b);
    Vector256<float> Invoke(Vector256<float> a, Vector256<float> b);
    Vector512<float> Invoke(Vector512<float> a, Vector512<float> b);
}

/// <summary>Vector width a kernel's loops use; picked once from the session's <see cref="Isa"/>.</summary>
public enum VectorWidth { Scalar, V128, V256, V512 }

/// <summary>
/// Driver loops over float32 spans for every vector width (bodies in F32Elementwise.V128/V256/V512.cs). Tails are
/// computed by the same vector code on a padded register, so an element's result never depends on its position.
/// </summary>
public static partial class F32Elementwise
{
    /// <summary>The width an ISA path uses: AVX-512 → 512, AVX2 → 256, NEON → 128, Scalar → the scalar forms.</summary>
    public static VectorWidth WidthOf(Isa isa) => isa switch
    {
        Isa.Avx512 => VectorWidth.V512,
        Isa.Avx2 => VectorWidth.V256,
        Isa.Neon => VectorWidth.V128,
        _ => VectorWidth.Scalar,
    };

    /// <summary>Widths this process can run (tests sweep all of them; Vector128 runs on x86 too).</summary>
    public static IReadOnlyList<VectorWidth> AvailableWidths
    {
        get
        {
            var list = new List<VectorWidth> { VectorWidth.Scalar };
            if (Vector128.IsHardwareAccelerated) list.Add(VectorWidth.V128);
            if (Vector256.IsHardwareAccelerated) list.Add(VectorWidth.V256);
            if (Vector512.IsHardwareAccelerated) list.Add(VectorWidth.V512);
            return list;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Unary<TOp>(TOp op, ReadOnlySpan<float> x, Span<float> y, VectorWidth width) where TOp : struct, IF32UnaryOperator
    {
        switch (width)
        {
            case VectorWidth.V512: Unary512(op, x, y); break;
            case VectorWidth.V256: Unary256(op, x, y); break;
            case VectorWidth.V128: Unary128(op, x, y); break;
            default: for (int i = 0; i < y.Length; i++) y[i] = op.Invoke(x[i]); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Binary<TOp>(TOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, VectorWidth width) where TOp : struct, IF32BinaryOperator
    {
        switch (width)
        {
            case VectorWidth.V512: Binary512(op, a, b, y); break;
            case VectorWidth.V256: Binary256(op, a, b, y); break;
            case VectorWidth.V128: Binary128(op, a, b, y); break;
            default: for (int i = 0; i < y.Length; i++) y[i] = op.Invoke(a[i], b[i]); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BinaryScalarB<TOp>(TOp op, ReadOnlySpan<float> a, float b, Span<float> y, VectorWidth width) where TOp : struct, IF32BinaryOperator
    {
        switch (width)
        {
            case VectorWidth.V512: BinaryScalarB512(op, a, b, y); break;
            case VectorWidth.V256: BinaryScalarB256(op, a, b, y); break;
            case VectorWidth.V128: BinaryScalarB128(op, a, b, y); break;
            default: for (int i = 0; i < y.Length; i++) y[i] = op.Invoke(a[i], b); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BinaryScalarA<TOp>(TOp op, float a, ReadOnlySpan<float> b, Span<float> y, VectorWidth width) where TOp : struct, IF32BinaryOperator
    {
        switch (width)
        {
            case VectorWidth.V512: BinaryScalarA512(op, a, b, y); break;
            case VectorWidth.V256: BinaryScalarA256(op, a, b, y); break;
            case VectorWidth.V128: BinaryScalarA128(op, a, b, y); break;
            default: for (int i = 0; i < y.Length; i++) y[i] = op.Invoke(a, b[i]); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Sum(ReadOnlySpan<float> x, VectorWidth width)
    {
        switch (width)
        {
            case VectorWidth.V512: return Sum512(x);
            case VectorWidth.V256: return Sum256(x);
            case VectorWidth.V128: return Sum128(x);
            default: float s = 0; foreach (float v in x) s += v; return s;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float SumSquaredDeviation(ReadOnlySpan<float> x, float c, VectorWidth width)
    {
        switch (width)
        {
            case VectorWidth.V512: return SumSquaredDeviation512(x, c);
            case VectorWidth.V256: return SumSquaredDeviation256(x, c);
            case VectorWidth.V128: return SumSquaredDeviation128(x, c);
            default: float s = 0; foreach (float v in x) s += (v - c) * (v - c); return s;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Max(ReadOnlySpan<float> x, VectorWidth width)
    {
        switch (width)
        {
            case VectorWidth.V512: return Max512(x);
            case VectorWidth.V256: return Max256(x);
            case VectorWidth.V128: return Max128(x);
            default: float m = float.NegativeInfinity; foreach (float v in x) m = MathF.Max(m, v); return m;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Min(ReadOnlySpan<float> x, VectorWidth width)
    {
        switch (width)
        {
            case VectorWidth.V512: return Min512(x);
            case VectorWidth.V256: return Min256(x);
            case VectorWidth.V128: return Min128(x);
            default: float m = float.PositiveInfinity; foreach (float v in x) m = MathF.Min(m, v); return m;
        }
    }

    /// <summary>y = e^(x − shift), returns Σ y. The Scalar width uses the vector algorithm's scalar twin.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float ExpShiftedSum(ReadOnlySpan<float> x, float shift, Span<float> y, VectorWidth width)
    {
        switch (width)
        {
            case VectorWidth.V512: return ExpShiftedSum512(x, shift, y);
            case VectorWidth.V256: return ExpShiftedSum256(x, shift, y);
            default: return ExpShiftedSum128(x, shift, y);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float ExpShiftedSumOnly(ReadOnlySpan<float> x, float shift, VectorWidth width)
    {
        switch (width)
        {
            case VectorWidth.V512: return ExpShiftedSumOnly512(x, shift);
            case VectorWidth.V256: return ExpShiftedSumOnly256(x, shift);
            default: return ExpShiftedSumOnly128(x, shift);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Affine(ReadOnlySpan<float> x, float scale, float shift, Span<float> y, VectorWidth width)
    {
        switch (width)
        {
            case VectorWidth.V512: Affine512(x, scale, shift, y); break;
            case VectorWidth.V256: Affine256(x, scale, shift, y); break;
            case VectorWidth.V128: Affine128(x, scale, shift, y); break;
            default: for (int i = 0; i < y.Length; i++) y[i] = x[i] * scale + shift; break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Normalize(ReadOnlySpan<float> x, float mean, float inv, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, Span<float> y, VectorWidth width)
    {
        switch (width)
        {
            case VectorWidth.V512: Normalize512(x, mean, inv, scale, bias, y); break;
            case VectorWidth.V256: Normalize256(x, mean, inv, scale, bias, y); break;
            case VectorWidth.V128: Normalize128(x, mean, inv, scale, bias, y); break;
            default:
                for (int i = 0; i < y.Length; i++) y[i] = (x[i] - mean) * inv * scale[i] + (bias.IsEmpty ? 0 : bias[i]);
                break;
        }
    }
}
