using System.Runtime.Intrinsics;

namespace EdgeNet.Kernels;

/// <summary>
/// Vectorized float32 transcendental functions (range reduction + polynomial), one overload per vector width in
/// VectorMath.V128.cs / V256.cs / V512.cs. The three files are the same text with the width swapped, so the logic
/// Neon runs (Vector128) is the logic the x86 tests exercise.
/// </summary>
/// <remarks>
/// Accuracy, measured against the double-precision function rounded to float over a dense sweep (every float whose
/// bit pattern is a multiple of 2^10: 8192 per binade, both signs, subnormals included; VectorMathTests), the same
/// for every vector width:
/// <list type="bullet">
/// <item>Exp: max 1 ulp (subnormal results included, as steps of the subnormal grid); NaN stays NaN, overflow gives
///   +∞, x &lt; −104 gives 0.</item>
/// <item>Sigmoid: max 2 ulp (the worst near x = 0⁻, from 1/(1 + e) and the e·(1/(1 + e)) product).</item>
/// <item>Tanh: max 1 ulp (odd Taylor polynomial below |x| = 0.55, 1 − 2/(e^{2|x|} + 1) above; tanh(−0) = −0).</item>
/// <item>Log: max 1 ulp for positive x including subnormals; log 0 = −∞, log of a negative number or NaN = NaN,
///   log ∞ = ∞.</item>
/// <item>Erf: max 2 ulp (odd polynomial below |x| = 0.9, 1 − e^(−x²)·g(1/(1 + |x|/2)) above, 1 beyond |x| = 4, where
///   erfc is below half an ulp of 1); NaN stays NaN. Gelu (erf form): within 2e-7·(1 + |x|) of x·Φ(x), and 1e-5 relative on the
///   negative tail down to x = −5.5.</item>
/// </list>
/// The tests assert the stated bound, 2 ulp, for the first five.
/// </remarks>
public static partial class VectorMath
{
    // e^x = 2^n · e^r with n = round(x·log2 e), r = x − n·ln 2 split in two parts (Cody–Waite) so r is exact.
    internal const float Log2E = 1.44269504088896341f;
    internal const float Ln2Hi = 0.693359375f;          // ln 2 with 9 significant bits: n·Ln2Hi is exact for |n| < 2^15
    internal const float Ln2Lo = -2.12194440e-4f;       // ln 2 − Ln2Hi
    internal const float RoundMagic = 12582912f;        // 1.5·2^23: adding it rounds to an integer (ties to even)
    internal const float ExpHigh = 88.8f;               // beyond, e^x overflows; the 2^n scaling then gives +∞
    internal const float ExpLow = -104f;                // below, e^x rounds to 0 even as a subnormal

    // Taylor coefficients of e^r; |r| ≤ ln2/2 so the first omitted term r^8/8! is below 2^−31 relative.
    internal const float E2 = 1f / 2, E3 = 1f / 6, E4 = 1f / 24, E5 = 1f / 120, E6 = 1f / 720, E7 = 1f / 5040;

    // tanh x = x + x·z·q(z), z = x², from the Taylor series (coefficients 2^{2n}(2^{2n}−1)B_{2n}/(2n)!); used for
    // |x| < 0.55 where the terms shrink by ≥ (2·0.55/π)² per step and the x^21 term is below 2^−27 relative.
    internal const float TanhSmall = 0.55f;
    internal const float T3 = (float)(-1.0 / 3), T5 = (float)(2.0 / 15), T7 = (float)(-17.0 / 315), T9 = (float)(62.0 / 2835);
    internal const float T11 = (float)(-1382.0 / 155925), T13 = (float)(21844.0 / 6081075), T15 = (float)(-929569.0 / 638512875);
    internal const float T17 = (float)(6404582.0 / 10854718875), T19 = (float)(-443861162.0 / 1856156927625);

    // log x = k·ln 2 + log m with m in [√½, √2): log m = 2·atanh(f), f = (m − 1)/(m + 1), |f| ≤ 0.1716, by the odd
    // series 2(f + f³/3 + f⁵/5 + ...) up to f^13 (next term below 2^−34 relative).
    internal const float L3 = 1f / 3, L5 = 1f / 5, L7 = 1f / 7, L9 = 1f / 9, L11 = 1f / 11, L13 = 1f / 13;
    internal const float Ln2 = 0.693147180559945309f;
    internal const int Sqrt1_2Bits = 0x3f3504f3;        // bits of √½: mantissas above it go to the next exponent

    // erf x = x·p(x²) for |x| < 0.9: least-squares fit of erf(x)/x on Chebyshev nodes (relative error 3e-10).
    internal const float ErfSmall = 0.9f;
    internal const float ES0 = 1.128379225730896f, ES1 = -0.37612634897232056f, ES2 = 0.11283714324235916f;
    internal const float ES3 = -0.026860462501645088f, ES4 = 0.00520375045016408f, ES5 = -0.0008174460381269455f;
    internal const float ES6 = 8.508291648468003e-05f;
    // erfc a = e^(−a²)·g(t), t = 1/(1 + a/2), for 0.9 ≤ a ≤ 4: g a degree-7 least-squares fit of erfc(a)·e^(a²)
    // weighted by e^(−a²) (absolute error in erfc 5e-12); erfc 4 = 1.5e-8 is below half an ulp of 1, so a is clamped.
    internal const float ErfClamp = 4f;
    internal const float EL0 = -3.948368248529732e-05f, EL1 = 0.28348517417907715f, EL2 = 0.2672524154186249f;
    internal const float EL3 = 0.3256675601005554f, EL4 = -0.06498879194259644f, EL5 = 0.5230799913406372f;
    internal const float EL6 = -0.44810751080513f, EL7 = 0.11369585990905762f;
    internal const float Sqrt1_2 = 0.707106781186547524f;

    /// <summary>Scalar twins of the vector functions (same algorithm, lane 0 of a Vector128).</summary>
    public static float Exp(float x) => Exp(Vector128.Create(x)).ToScalar();
    public static float Sigmoid(float x) => Sigmoid(Vector128.Create(x)).ToScalar();
    public static float Tanh(float x) => Tanh(Vector128.Create(x)).ToScalar();
    public static float Log(float x) => Log(Vector128.Create(x)).ToScalar();
    public static float Erf(float x) => Erf(Vector128.Create(x)).ToScalar();
    public static float Gelu(float x) => Gelu(Vector128.Create(x)).ToScalar();
}
