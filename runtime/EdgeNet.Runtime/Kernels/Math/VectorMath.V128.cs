using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgeNet.Kernels;

// One file per vector width, identical but for the width: edit all three together.
public static partial class VectorMath
{
    /// <summary>e^x per lane (see the class remarks for accuracy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp(Vector128<float> x)
    {
        var xc = Vector128.MinNative(Vector128.MaxNative(x, Vector128.Create(ExpLow)), Vector128.Create(ExpHigh));
        var magic = Vector128.Create(RoundMagic);
        var t = Vector128.FusedMultiplyAdd(xc, Vector128.Create(Log2E), magic);
        var n = t - magic;
        var ni = t.AsInt32() - magic.AsInt32();
        var r = Vector128.FusedMultiplyAdd(n, Vector128.Create(-Ln2Hi), xc);
        r = Vector128.FusedMultiplyAdd(n, Vector128.Create(-Ln2Lo), r);
        var p = Vector128.FusedMultiplyAdd(Vector128.Create(E7), r, Vector128.Create(E6));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(E5));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(E4));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(E3));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(E2));
        p = Vector128.FusedMultiplyAdd(p, r * r, r);
        p += Vector128<float>.One;
        // 2^n as two factors 2^(n/2)·2^(n − n/2): each stays a normal float for n in [−150, 128], so subnormal
        // results round once and e^88.8 still overflows to +∞.
        var n1 = Vector128.ShiftRightArithmetic(ni, 1);
        var n2 = ni - n1;
        var bias = Vector128.Create(127);
        var s1 = Vector128.ShiftLeft(n1 + bias, 23).AsSingle();
        var s2 = Vector128.ShiftLeft(n2 + bias, 23).AsSingle();
        var y = p * s1 * s2;
        return Vector128.ConditionalSelect(Vector128.Equals(x, x), y, x);
    }

    /// <summary>1 / (1 + e^−x) per lane, computed from e^−|x| so neither tail loses precision.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sigmoid(Vector128<float> x)
    {
        var e = Exp(-Vector128.Abs(x));
        var pos = Vector128<float>.One / (Vector128<float>.One + e);
        var neg = e * pos;
        return Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128<float>.Zero), neg, pos);
    }

    /// <summary>x · sigmoid(x) (Swish / SiLU).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Swish(Vector128<float> x) => x * Sigmoid(x);

    /// <summary>tanh x per lane (see the class remarks for accuracy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Tanh(Vector128<float> x)
    {
        var ax = Vector128.Abs(x);
        var z = x * x;
        var q = Vector128.FusedMultiplyAdd(Vector128.Create(T19), z, Vector128.Create(T17));
        q = Vector128.FusedMultiplyAdd(q, z, Vector128.Create(T15));
        q = Vector128.FusedMultiplyAdd(q, z, Vector128.Create(T13));
        q = Vector128.FusedMultiplyAdd(q, z, Vector128.Create(T11));
        q = Vector128.FusedMultiplyAdd(q, z, Vector128.Create(T9));
        q = Vector128.FusedMultiplyAdd(q, z, Vector128.Create(T7));
        q = Vector128.FusedMultiplyAdd(q, z, Vector128.Create(T5));
        q = Vector128.FusedMultiplyAdd(q, z, Vector128.Create(T3));
        var small = Vector128.FusedMultiplyAdd(ax * z, q, ax);
        var e = Exp(ax + ax);
        var large = Vector128<float>.One - Vector128.Create(2f) / (e + Vector128<float>.One);
        // computed on |x|, then the sign put back (so tanh(−0) = −0)
        var y = Vector128.CopySign(Vector128.ConditionalSelect(Vector128.LessThan(ax, Vector128.Create(TanhSmall)), small, large), x);
        return Vector128.ConditionalSelect(Vector128.Equals(x, x), y, x);
    }

    /// <summary>Natural logarithm per lane (see the class remarks for accuracy; subnormal inputs are scaled first).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Log(Vector128<float> x)
    {
        // scale subnormals by 2^23 so the exponent field is meaningful
        var tiny = Vector128.LessThan(x, Vector128.Create(1.17549435e-38f));
        var xs = Vector128.ConditionalSelect(tiny, x * Vector128.Create(8388608f), x);
        var bits = xs.AsInt32();
        // split x = 2^k · m with m in [√½, √2)
        var shifted = bits - Vector128.Create(Sqrt1_2Bits);
        var k = Vector128.ShiftRightArithmetic(shifted, 23);
        var mBits = (shifted & Vector128.Create(0x007fffff)) + Vector128.Create(Sqrt1_2Bits);
        var m = mBits.AsSingle();
        k -= Vector128.ConditionalSelect(tiny.AsInt32(), Vector128.Create(23), Vector128<int>.Zero);
        var f = (m - Vector128<float>.One) / (m + Vector128<float>.One);
        var f2 = f * f;
        var s = Vector128.FusedMultiplyAdd(Vector128.Create(L13), f2, Vector128.Create(L11));
        s = Vector128.FusedMultiplyAdd(s, f2, Vector128.Create(L9));
        s = Vector128.FusedMultiplyAdd(s, f2, Vector128.Create(L7));
        s = Vector128.FusedMultiplyAdd(s, f2, Vector128.Create(L5));
        s = Vector128.FusedMultiplyAdd(s, f2, Vector128.Create(L3));
        var twoF = f + f;
        var logM = Vector128.FusedMultiplyAdd(twoF * f2, s, twoF);
        var y = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(k), Vector128.Create(Ln2), logM);
        // special values: log 0 = −∞, log(negative) = NaN, log ∞ = ∞, NaN stays NaN
        y = Vector128.ConditionalSelect(Vector128.Equals(x, Vector128<float>.Zero), Vector128.Create(float.NegativeInfinity), y);
        y = Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128<float>.Zero), Vector128.Create(float.NaN), y);
        y = Vector128.ConditionalSelect(Vector128.Equals(x, Vector128.Create(float.PositiveInfinity)), x, y);
        return Vector128.ConditionalSelect(Vector128.Equals(x, x), y, x);
    }

    /// <summary>erf x per lane (see the class remarks for accuracy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Erf(Vector128<float> x)
    {
        var ax = Vector128.Abs(x);
        var small = ax * ErfSmallPoly(ax * ax);
        var large = Vector128<float>.One - ErfcLarge(ax);
        var y = Vector128.CopySign(Vector128.ConditionalSelect(Vector128.LessThan(ax, Vector128.Create(ErfSmall)), small, large), x);
        return Vector128.ConditionalSelect(Vector128.Equals(x, x), y, x);
    }

    /// <summary>
    /// x·½(1 + erf(x/√2)) per lane. For x/√2 ≤ −ErfSmall, 1 + erf(x/√2) is taken as erfc(|x|/√2) directly, so the
    /// negative tail keeps its relative precision instead of cancelling (down to |x|/√2 = 4; −0 below).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Gelu(Vector128<float> x)
    {
        var u = x * Vector128.Create(Sqrt1_2);
        var au = Vector128.Abs(u);
        var onePlusSmall = Vector128<float>.One + u * ErfSmallPoly(u * u);
        var erfc = ErfcLarge(au);
        var onePlusLarge = Vector128.ConditionalSelect(Vector128.LessThan(u, Vector128<float>.Zero), erfc, Vector128.Create(2f) - erfc);
        var onePlus = Vector128.ConditionalSelect(Vector128.LessThan(au, Vector128.Create(ErfSmall)), onePlusSmall, onePlusLarge);
        var y = Vector128.Create(0.5f) * x * onePlus;
        return Vector128.ConditionalSelect(Vector128.Equals(x, x), y, x);
    }

    /// <summary>erf x / x as a polynomial in z = x², for |x| &lt; ErfSmall.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> ErfSmallPoly(Vector128<float> z)
    {
        var p = Vector128.FusedMultiplyAdd(Vector128.Create(ES6), z, Vector128.Create(ES5));
        p = Vector128.FusedMultiplyAdd(p, z, Vector128.Create(ES4));
        p = Vector128.FusedMultiplyAdd(p, z, Vector128.Create(ES3));
        p = Vector128.FusedMultiplyAdd(p, z, Vector128.Create(ES2));
        p = Vector128.FusedMultiplyAdd(p, z, Vector128.Create(ES1));
        return Vector128.FusedMultiplyAdd(p, z, Vector128.Create(ES0));
    }

    /// <summary>erfc a for a ≥ 0 (meant for a ≥ ErfSmall): e^(−a²)·g(t), t = 1/(1 + a/2); 0 beyond a = 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> ErfcLarge(Vector128<float> a)
    {
        var ac = Vector128.MinNative(a, Vector128.Create(ErfClamp));
        var t = Vector128<float>.One / Vector128.FusedMultiplyAdd(ac, Vector128.Create(0.5f), Vector128<float>.One);
        var g = Vector128.FusedMultiplyAdd(Vector128.Create(EL7), t, Vector128.Create(EL6));
        g = Vector128.FusedMultiplyAdd(g, t, Vector128.Create(EL5));
        g = Vector128.FusedMultiplyAdd(g, t, Vector128.Create(EL4));
        g = Vector128.FusedMultiplyAdd(g, t, Vector128.Create(EL3));
        g = Vector128.FusedMultiplyAdd(g, t, Vector128.Create(EL2));
        g = Vector128.FusedMultiplyAdd(g, t, Vector128.Create(EL1));
        g = Vector128.FusedMultiplyAdd(g, t, Vector128.Create(EL0));
        // beyond the clamp erfc is taken as 0 (below 1.5e-8: erf rounds to ±1, Gelu's negative tail to −0)
        return Vector128.ConditionalSelect(Vector128.GreaterThan(a, Vector128.Create(ErfClamp)), Vector128<float>.Zero, Exp(-(ac * ac)) * g);
    }
}
