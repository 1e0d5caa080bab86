using System.Runtime.CompilerServices;

namespace EdgeNet.Kernels.Rnn;

/// <summary>
/// Vectorized exp, sigmoid and tanh for the fast recurrent kernels (kept local to Kernels/Rnn for now).
/// exp: eˣ = 2ⁿ·eʳ with n = round(x·log₂e), r = x − n·ln2 (ln2 split in two so n·ln2_hi is exact, |r| ≤ ln2/2),
/// eʳ by its Taylor series to r⁷ (truncation &lt; 6·10⁻⁹ relative on that interval); x is clamped to [−87, 88] so 2ⁿ stays
/// a normal float. sigmoid(x) = 1/(1 + e^−x). tanh(x) = sign(x)·(1 − e^−2|x|)/(1 + e^−2|x|), except |x| &lt; 0.25 where
/// 1 − e^−2|x| would cancel: there its odd Taylor series to x⁹ (truncation &lt; 3·10⁻⁹).
/// Max error against the exact functions, measured over [−30, 30] and at extremes by RnnKernelTests (which holds them
/// to 1.5·10⁻⁷ absolute and 5·10⁻⁷ relative): sigmoid 8.9·10⁻⁸ absolute, 1.9·10⁻⁷ relative; tanh 8.9·10⁻⁸
/// absolute, 2.6·10⁻⁷ relative (≈ 2 ulp).
/// </summary>
internal static class RnnVectorMath
{
    private const float Log2E = 1.44269504088896341f;
    // ln2 = Ln2Hi + Ln2Lo; Ln2Hi has 9 significant bits so n·Ln2Hi is exact for |n| ≤ 2⁸
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440054690583e-4f;
    // 1.5·2²³: adding it rounds to an integer held in the low mantissa bits
    private const float RoundMagic = 12582912f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Exp<TS, TVec>(TVec x) where TS : IRnnSimd<TVec> where TVec : unmanaged
    {
        x = TS.Max(TS.Min(x, TS.Splat(88f)), TS.Splat(-87f));
        var t = TS.MulAdd(x, TS.Splat(Log2E), TS.Splat(RoundMagic));
        var n = TS.Sub(t, TS.Splat(RoundMagic));
        var r = TS.MulAdd(n, TS.Splat(-Ln2Hi), x);
        r = TS.MulAdd(n, TS.Splat(-Ln2Lo), r);
        var p = TS.MulAdd(TS.Splat(1f / 5040), r, TS.Splat(1f / 720));
        p = TS.MulAdd(p, r, TS.Splat(1f / 120));
        p = TS.MulAdd(p, r, TS.Splat(1f / 24));
        p = TS.MulAdd(p, r, TS.Splat(1f / 6));
        p = TS.MulAdd(p, r, TS.Splat(0.5f));
        p = TS.MulAdd(p, TS.Mul(r, r), TS.Add(r, TS.Splat(1f)));
        return TS.Mul(p, TS.Pow2FromRounded(t));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Sigmoid<TS, TVec>(TVec x) where TS : IRnnSimd<TVec> where TVec : unmanaged
    {
        var one = TS.Splat(1f);
        return TS.Div(one, TS.Add(one, Exp<TS, TVec>(TS.Sub(TS.Splat(0f), x))));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Tanh<TS, TVec>(TVec x) where TS : IRnnSimd<TVec> where TVec : unmanaged
    {
        var one = TS.Splat(1f);
        var a = TS.Abs(x);
        var e = Exp<TS, TVec>(TS.Mul(a, TS.Splat(-2f)));
        var large = TS.Div(TS.Sub(one, e), TS.Add(one, e));
        // tanh x = x − x³/3 + 2x⁵/15 − 17x⁷/315 + 62x⁹/2835 − …
        var z = TS.Mul(a, a);
        var p = TS.MulAdd(TS.Splat(62f / 2835), z, TS.Splat(-17f / 315));
        p = TS.MulAdd(p, z, TS.Splat(2f / 15));
        p = TS.MulAdd(p, z, TS.Splat(-1f / 3));
        var small = TS.MulAdd(TS.Mul(p, z), a, a);
        return TS.CopySign(TS.SelectLess(a, TS.Splat(0.25f), small, large), x);
    }
}
