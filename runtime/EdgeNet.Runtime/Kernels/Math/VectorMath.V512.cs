using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgeNet.Kernels;

// One file per vector width, identical but for the width: edit all three together.
public static partial class VectorMath
{
    /// <summary>e^x per lane (see the class remarks for accuracy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var xc = Vector512.MinNative(Vector512.MaxNative(x, Vector512.Create(ExpLow)), Vector512.Create(ExpHigh));
        var magic = Vector512.Create(RoundMagic);
        var t = Vector512.FusedMultiplyAdd(xc, Vector512.Create(Log2E), magic);
        var n = t - magic;
        var ni = t.AsInt32() - magic.AsInt32();
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), xc);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(E7), r, Vector512.Create(E6));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(E5));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(E4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(E3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(E2));
        p = Vector512.FusedMultiplyAdd(p, r * r, r);
        p += Vector512<float>.One;
        // 2^n as two factors 2^(n/2)·2^(n − n/2): each stays a normal float for n in [−150, 128], so subnormal
        // results round once and e^88.8 still overflows to +∞.
        var n1 = Vector512.ShiftRightArithmetic(ni, 1);
        var n2 = ni - n1;
        var bias = Vector512.Create(127);
        var s1 = Vector512.ShiftLeft(n1 + bias, 23).AsSingle();
        var s2 = Vector512.ShiftLeft(n2 + bias, 23).AsSingle();
        var y = p * s1 * s2;
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), y, x);
    }

    /// <summary>1 / (1 + e^−x) per lane, computed from e^−|x| so neither tail loses precision.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x)
    {
        var e = Exp(-Vector512.Abs(x));
        var pos = Vector512<float>.One / (Vector512<float>.One + e);
        var neg = e * pos;
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), neg, pos);
    }

    /// <summary>x · sigmoid(x) (Swish / SiLU).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Swish(Vector512<float> x) => x * Sigmoid(x);

    /// <summary>tanh x per lane (see the class remarks for accuracy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tanh(Vector512<float> x)
    {
        var ax = Vector512.Abs(x);
        var z = x * x;
        var q = Vector512.FusedMultiplyAdd(Vector512.Create(T19), z, Vector512.Create(T17));
        q = Vector512.FusedMultiplyAdd(q, z, Vector512.Create(T15));
        q = Vector512.FusedMultiplyAdd(q, z, Vector512.Create(T13));
        q = Vector512.FusedMultiplyAdd(q, z, Vector512.Create(T11));
        q = Vector512.FusedMultiplyAdd(q, z, Vector512.Create(T9));
        q = Vector512.FusedMultiplyAdd(q, z, Vector512.Create(T7));
        q = Vector512.FusedMultiplyAdd(q, z, Vector512.Create(T5));
        q = Vector512.FusedMultiplyAdd(q, z, Vector512.Create(T3));
        var small = Vector512.FusedMultiplyAdd(ax * z, q, ax);
        var e = Exp(ax + ax);
        var large = Vector512<float>.One - Vector512.Create(2f) / (e + Vector512<float>.One);
        // computed on |x|, then the sign put back (so tanh(−0) = −0)
        var y = Vector512.CopySign(Vector512.ConditionalSelect(Vector512.LessThan(ax, Vector512.Create(TanhSmall)), small, large), x);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), y, x);
    }

    /// <summary>Natural logarithm per lane (see the class remarks for accuracy; subnormal inputs are scaled first).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Log(Vector512<float> x)
    {
        // scale subnormals by 2^23 so the exponent field is meaningful
        var tiny = Vector512.LessThan(x, Vector512.Create(1.17549435e-38f));
        var xs = Vector512.ConditionalSelect(tiny, x * Vector512.Create(8388608f), x);
        var bits = xs.AsInt32();
        // split x = 2^k · m with m in [√½, √2)
        var shifted = bits - Vector512.Create(Sqrt1_2Bits);
        var k = Vector512.ShiftRightArithmetic(shifted, 23);
        var mBits = (shifted & Vector512.Create(0x007fffff)) + Vector512.Create(Sqrt1_2Bits);
        var m = mBits.AsSingle();
        k -= Vector512.ConditionalSelect(tiny.AsInt32(), Vector512.Create(23), Vector512<int>.Zero);
        var f = (m - Vector512<float>.One) / (m + Vector512<float>.One);
        var f2 = f * f;
        var s = Vector512.FusedMultiplyAdd(Vector512.Create(L13), f2, Vector512.Create(L11));
        s = Vector512.FusedMultiplyAdd(s, f2, Vector512.Create(L9));
        s = Vector512.FusedMultiplyAdd(s, f2, Vector512.Create(L7));
        s = Vector512.FusedMultiplyAdd(s, f2, Vector512.Create(L5));
        s = Vector512.FusedMultiplyAdd(s, f2, Vector512.Create(L3));
        var twoF = f + f;
        var logM = Vector512.FusedMultiplyAdd(twoF * f2, s, twoF);
        var y = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(k), Vector512.Create(Ln2), logM);
        // special values: log 0 = −∞, log(negative) = NaN, log ∞ = ∞, NaN stays NaN
        y = Vector512.ConditionalSelect(Vector512.Equals(x, Vector512<float>.Zero), Vector512.Create(float.NegativeInfinity), y);
        y = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), Vector512.Create(float.NaN), y);
        y = Vector512.ConditionalSelect(Vector512.Equals(x, Vector512.Create(float.PositiveInfinity)), x, y);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), y, x);
    }

    /// <summary>erf x per lane (see the class remarks for accuracy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Erf(Vector512<float> x)
    {
        var ax = Vector512.Abs(x);
        var small = ax * ErfSmallPoly(ax * ax);
        var large = Vector512<float>.One - ErfcLarge(ax);
        var y = Vector512.CopySign(Vector512.ConditionalSelect(Vector512.LessThan(ax, Vector512.Create(ErfSmall)), small, large), x);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), y, x);
    }

    /// <summary>
    /// x·½(1 + erf(x/√2)) per lane. For x/√2 ≤ −ErfSmall, 1 + erf(x/√2) is taken as erfc(|x|/√2) directly, so the
    /// negative tail keeps its relative precision instead of cancelling (down to |x|/√2 = 4; −0 below).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Gelu(Vector512<float> x)
    {
        var u = x * Vector512.Create(Sqrt1_2);
        var au = Vector512.Abs(u);
        var onePlusSmall = Vector512<float>.One + u * ErfSmallPoly(u * u);
        var erfc = ErfcLarge(au);
        var onePlusLarge = Vector512.ConditionalSelect(Vector512.LessThan(u, Vector512<float>.Zero), erfc, Vector512.Create(2f) - erfc);
        var onePlus = Vector512.ConditionalSelect(Vector512.LessThan(au, Vector512.Create(ErfSmall)), onePlusSmall, onePlusLarge);
        var y = Vector512.Create(0.5f) * x * onePlus;
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), y, x);
    }

    /// <summary>erf x / x as a polynomial in z = x², for |x| &lt; ErfSmall.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ErfSmallPoly(Vector512<float> z)
    {
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(ES6), z, Vector512.Create(ES5));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(ES4));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(ES3));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(ES2));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(ES1));
        return Vector512.FusedMultiplyAdd(p, z, Vector512.Create(ES0));
    }

    /// <summary>erfc a for a ≥ 0 (meant for a ≥ ErfSmall): e^(−a²)·g(t), t = 1/(1 + a/2); 0 beyond a = 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ErfcLarge(Vector512<float> a)
    {
        var ac = Vector512.MinNative(a, Vector512.Create(ErfClamp));
        var t = Vector512<float>.One / Vector512.FusedMultiplyAdd(ac, Vector512.Create(0.5f), Vector512<float>.One);
        var g = Vector512.FusedMultiplyAdd(Vector512.Create(EL7), t, Vector512.Create(EL6));
        g = Vector512.FusedMultiplyAdd(g, t, Vector512.Create(EL5));
        g = Vector512.FusedMultiplyAdd(g, t, Vector512.Create(EL4));
        g = Vector512.FusedMultiplyAdd(g, t, Vector512.Create(EL3));
        g = Vector512.FusedMultiplyAdd(g, t, Vector512.Create(EL2));
        g = Vector512.FusedMultiplyAdd(g, t, Vector512.Create(EL1));
        g = Vector512.FusedMultiplyAdd(g, t, Vector512.Create(EL0));
        // beyond the clamp erfc is taken as 0 (below 1.5e-8: erf rounds to ±1, Gelu's negative tail to −0)
        return Vector512.ConditionalSelect(Vector512.GreaterThan(a, Vector512.Create(ErfClamp)), Vector512<float>.Zero, Exp(-(ac * ac)) * g);
    }
}
