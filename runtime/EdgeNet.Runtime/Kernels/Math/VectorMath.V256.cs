using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgeNet.Kernels;

// One file per vector width, identical but for the width: edit all three together.
public static partial class VectorMath
{
    /// <summary>e^x per lane (see the class remarks for accuracy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        var xc = Vector256.MinNative(Vector256.MaxNative(x, Vector256.Create(ExpLow)), Vector256.Create(ExpHigh));
        var magic = Vector256.Create(RoundMagic);
        var t = Vector256.FusedMultiplyAdd(xc, Vector256.Create(Log2E), magic);
        var n = t - magic;
        var ni = t.AsInt32() - magic.AsInt32();
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Hi), xc);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Lo), r);
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(E7), r, Vector256.Create(E6));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(E5));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(E4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(E3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(E2));
        p = Vector256.FusedMultiplyAdd(p, r * r, r);
        p += Vector256<float>.One;
        // 2^n as two factors 2^(n/2)·2^(n − n/2): each stays a normal float for n in [−150, 128], so subnormal
        // results round once and e^88.8 still overflows to +∞.
        var n1 = Vector256.ShiftRightArithmetic(ni, 1);
        var n2 = ni - n1;
        var bias = Vector256.Create(127);
        var s1 = Vector256.ShiftLeft(n1 + bias, 23).AsSingle();
        var s2 = Vector256.ShiftLeft(n2 + bias, 23).AsSingle();
        var y = p * s1 * s2;
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), y, x);
    }

    /// <summary>1 / (1 + e^−x) per lane, computed from e^−|x| so neither tail loses precision.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sigmoid(Vector256<float> x)
    {
        var e = Exp(-Vector256.Abs(x));
        var pos = Vector256<float>.One / (Vector256<float>.One + e);
        var neg = e * pos;
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), neg, pos);
    }

    /// <summary>x · sigmoid(x) (Swish / SiLU).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Swish(Vector256<float> x) => x * Sigmoid(x);

    /// <summary>tanh x per lane (see the class remarks for accuracy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Tanh(Vector256<float> x)
    {
        var ax = Vector256.Abs(x);
        var z = x * x;
        var q = Vector256.FusedMultiplyAdd(Vector256.Create(T19), z, Vector256.Create(T17));
        q = Vector256.FusedMultiplyAdd(q, z, Vector256.Create(T15));
        q = Vector256.FusedMultiplyAdd(q, z, Vector256.Create(T13));
        q = Vector256.FusedMultiplyAdd(q, z, Vector256.Create(T11));
        q = Vector256.FusedMultiplyAdd(q, z, Vector256.Create(T9));
        q = Vector256.FusedMultiplyAdd(q, z, Vector256.Create(T7));
        q = Vector256.FusedMultiplyAdd(q, z, Vector256.Create(T5));
        q = Vector256.FusedMultiplyAdd(q, z, Vector256.Create(T3));
        var small = Vector256.FusedMultiplyAdd(ax * z, q, ax);
        var e = Exp(ax + ax);
        var large = Vector256<float>.One - Vector256.Create(2f) / (e + Vector256<float>.One);
        // computed on |x|, then the sign put back (so tanh(−0) = −0)
        var y = Vector256.CopySign(Vector256.ConditionalSelect(Vector256.LessThan(ax, Vector256.Create(TanhSmall)), small, large), x);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), y, x);
    }

    /// <summary>Natural logarithm per lane (see the class remarks for accuracy; subnormal inputs are scaled first).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Log(Vector256<float> x)
    {
        // scale subnormals by 2^23 so the exponent field is meaningful
        var tiny = Vector256.LessThan(x, Vector256.Create(1.17549435e-38f));
        var xs = Vector256.ConditionalSelect(tiny, x * Vector256.Create(8388608f), x);
        var bits = xs.AsInt32();
        // split x = 2^k · m with m in [√½, √2)
        var shifted = bits - Vector256.Create(Sqrt1_2Bits);
        var k = Vector256.ShiftRightArithmetic(shifted, 23);
        var mBits = (shifted & Vector256.Create(0x007fffff)) + Vector256.Create(Sqrt1_2Bits);
        var m = mBits.AsSingle();
        k -= Vector256.ConditionalSelect(tiny.AsInt32(), Vector256.Create(23), Vector256<int>.Zero);
        var f = (m - Vector256<float>.One) / (m + Vector256<float>.One);
        var f2 = f * f;
        var s = Vector256.FusedMultiplyAdd(Vector256.Create(L13), f2, Vector256.Create(L11));
        s = Vector256.FusedMultiplyAdd(s, f2, Vector256.Create(L9));
        s = Vector256.FusedMultiplyAdd(s, f2, Vector256.Create(L7));
        s = Vector256.FusedMultiplyAdd(s, f2, Vector256.Create(L5));
        s = Vector256.FusedMultiplyAdd(s, f2, Vector256.Create(L3));
        var twoF = f + f;
        var logM = Vector256.FusedMultiplyAdd(twoF * f2, s, twoF);
        var y = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(k), Vector256.Create(Ln2), logM);
        // special values: log 0 = −∞, log(negative) = NaN, log ∞ = ∞, NaN stays NaN
        y = Vector256.ConditionalSelect(Vector256.Equals(x, Vector256<float>.Zero), Vector256.Create(float.NegativeInfinity), y);
        y = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), Vector256.Create(float.NaN), y);
        y = Vector256.ConditionalSelect(Vector256.Equals(x, Vector256.Create(float.PositiveInfinity)), x, y);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), y, x);
    }

    /// <summary>erf x per lane (see the class remarks for accuracy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Erf(Vector256<float> x)
    {
        var ax = Vector256.Abs(x);
        var small = ax * ErfSmallPoly(ax * ax);
        var large = Vector256<float>.One - ErfcLarge(ax);
        var y = Vector256.CopySign(Vector256.ConditionalSelect(Vector256.LessThan(ax, Vector256.Create(ErfSmall)), small, large), x);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), y, x);
    }

    /// <summary>
    /// x·½(1 + erf(x/√2)) per lane. For x/√2 ≤ −ErfSmall, 1 + erf(x/√2) is taken as erfc(|x|/√2) directly, so the
    /// negative tail keeps its relative precision instead of cancelling (down to |x|/√2 = 4; −0 below).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Gelu(Vector256<float> x)
    {
        var u = x * Vector256.Create(Sqrt1_2);
        var au = Vector256.Abs(u);
        var onePlusSmall = Vector256<float>.One + u * ErfSmallPoly(u * u);
        var erfc = ErfcLarge(au);
        var onePlusLarge = Vector256.ConditionalSelect(Vector256.LessThan(u, Vector256<float>.Zero), erfc, Vector256.Create(2f) - erfc);
        var onePlus = Vector256.ConditionalSelect(Vector256.LessThan(au, Vector256.Create(ErfSmall)), onePlusSmall, onePlusLarge);
        var y = Vector256.Create(0.5f) * x * onePlus;
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), y, x);
    }

    /// <summary>erf x / x as a polynomial in z = x², for |x| &lt; ErfSmall.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> ErfSmallPoly(Vector256<float> z)
    {
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(ES6), z, Vector256.Create(ES5));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(ES4));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(ES3));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(ES2));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(ES1));
        return Vector256.FusedMultiplyAdd(p, z, Vector256.Create(ES0));
    }

    /// <summary>erfc a for a ≥ 0 (meant for a ≥ ErfSmall): e^(−a²)·g(t), t = 1/(1 + a/2); 0 beyond a = 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> ErfcLarge(Vector256<float> a)
    {
        var ac = Vector256.MinNative(a, Vector256.Create(ErfClamp));
        var t = Vector256<float>.One / Vector256.FusedMultiplyAdd(ac, Vector256.Create(0.5f), Vector256<float>.One);
        var g = Vector256.FusedMultiplyAdd(Vector256.Create(EL7), t, Vector256.Create(EL6));
        g = Vector256.FusedMultiplyAdd(g, t, Vector256.Create(EL5));
        g = Vector256.FusedMultiplyAdd(g, t, Vector256.Create(EL4));
        g = Vector256.FusedMultiplyAdd(g, t, Vector256.Create(EL3));
        g = Vector256.FusedMultiplyAdd(g, t, Vector256.Create(EL2));
        g = Vector256.FusedMultiplyAdd(g, t, Vector256.Create(EL1));
        g = Vector256.FusedMultiplyAdd(g, t, Vector256.Create(EL0));
        // beyond the clamp erfc is taken as 0 (below 1.5e-8: erf rounds to ±1, Gelu's negative tail to −0)
        return Vector256.ConditionalSelect(Vector256.GreaterThan(a, Vector256.Create(ErfClamp)), Vector256<float>.Zero, Exp(-(ac * ac)) * g);
    }
}
