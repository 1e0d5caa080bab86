using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeNet.Kernels.Quantized;

/// <summary>
/// The integer kernel variants. The session <see cref="Isa"/> picks the family; within it the CPU features pick the
/// variant (<see cref="QVariants.For"/>). Tests run every variant in <see cref="QVariants.Available"/> directly.
/// </summary>
public enum QVariant
{
    /// <summary>Portable scalar tiles (4×8) over the packed layout: the blocked driver's logic on every machine.</summary>
    Scalar,
    /// <summary>AVX2: activations and weights widened to int16 at pack time, vpmaddwd (exact, no int16 saturation).</summary>
    Avx2,
    /// <summary>AVX-VNNI: 256-bit vpdpbusd (u8 × s8 → int32, four products per lane).</summary>
    AvxVnni,
    /// <summary>
    /// AVX-512 BW: the int16 layout with 512-bit vpmaddwd (.NET 10 exposes no 512-bit vpdpbusd: AvxVnni.V512 arrives
    /// in .NET 11); portable Vector512 fallback where the CPU lacks AVX-512 (emulation).
    /// </summary>
    Avx512,
    /// <summary>ARM64 NEON without dotprod (Cortex-A72): smull + sadalp on activations shifted to s8.</summary>
    Neon,
    /// <summary>ARM64 NEON with dotprod (Cortex-A76): sdot by lane on activations shifted to s8.</summary>
    NeonDot,
}

/// <summary>Which integer variant runs for an ISA path, and which ones this process can run.</summary>
public static class QVariants
{
    /// <summary>The variant for a session ISA: the best sub-variant the CPU has within that family.</summary>
    public static QVariant For(Isa isa) => isa switch
    {
        // 256-bit vpdpbusd does 4 products per lane in one instruction; 512-bit vpmaddwd does 2 and needs an add.
        // AMD's AVX-512 (Zen 4) splits every 512-bit op into two 256-bit halves, so the 8×32 tile has no more
        // throughput than the 6×16 one and pays for wider broadcasts: there the Avx2 tiles run (the 512-bit
        // Winograd GEMM still does, through the session's vector512); measured in README "On a Zen 4 machine".
        Isa.Avx512 => AvxVnni.IsSupported ? QVariant.AvxVnni : SplitsVector512 ? QVariant.Avx2 : QVariant.Avx512,
        Isa.Avx2 => AvxVnni.IsSupported ? QVariant.AvxVnni : QVariant.Avx2,
        Isa.Neon => Dp.IsSupported ? QVariant.NeonDot : QVariant.Neon,
        _ => QVariant.Scalar,
    };

    /// <summary>
    /// True on AMD family 19h (Zen 3 / Zen 4; only Zen 4 has AVX-512), which executes every 512-bit instruction as
    /// two 256-bit halves; Zen 5 (family 1Ah) has a full 512-bit datapath.
    /// </summary>
    public static bool SplitsVector512 { get; } = IsAmdFamily19h();

    private static bool IsAmdFamily19h()
    {
        if (!X86Base.IsSupported) return false;
        // vendor string "AuthenticAMD" in EBX, EDX, ECX of leaf 0; family in leaf 1's EAX (base + extended)
        var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
        if (ebx != 0x68747541 || edx != 0x69746E65 || ecx != 0x444D4163) return false;
        int eax = X86Base.CpuId(1, 0).Eax;
        int family = (eax >> 8) & 0xF;
        if (family == 0xF) family += (eax >> 20) & 0xFF;
        return family == 0x19;
    }

    /// <summary>
    /// True when this process can run the variant. The NEON variants and the AVX-512 one carry portable fallbacks, so
    /// they run (slowly, with the same integer results) on any CPU: the tile logic is tested everywhere.
    /// </summary>
    public static bool IsSupported(QVariant v) => v switch
    {
        QVariant.Avx2 => Avx2.IsSupported,
        QVariant.AvxVnni => AvxVnni.IsSupported,
        QVariant.Avx512 => Avx2.IsSupported || !System.Runtime.Intrinsics.X86.X86Base.IsSupported,
        _ => true,
    };

    /// <summary>Every variant this process can run (tests compare each against the reference).</summary>
    public static IReadOnlyList<QVariant> Available => Enum.GetValues<QVariant>().Where(IsSupported).ToArray();

    /// <summary>True when the variant runs on its own instructions here, not on a portable fallback.</summary>
    public static bool IsNative(QVariant v) => v switch
    {
        QVariant.Avx2 => Avx2.IsSupported,
        QVariant.AvxVnni => AvxVnni.IsSupported,
        QVariant.Avx512 => Avx512BW.IsSupported,
        QVariant.Neon => AdvSimd.Arm64.IsSupported,
        QVariant.NeonDot => Dp.IsSupported && AdvSimd.Arm64.IsSupported,
        _ => true,
    };
}

/// <summary>What a quantized GEMM / conv writes.</summary>
public enum QOutputKind
{
    /// <summary>The exact int32 accumulator (+ int32 bias): MatMulInteger / ConvInteger.</summary>
    Int32,
    /// <summary>Requantized uint8.</summary>
    UInt8,
    /// <summary>Requantized int8.</summary>
    Int8,
    /// <summary>Dequantized float32: (float)acc · scale[ch] (+ float bias[ch]).</summary>
    Float32,
}

/// <summary>
/// Per-run output parameters of a quantized GEMM / conv (pointers, so a run allocates nothing and run-time scales
/// work). "ch" is the output channel: the column of a MatMul, the row (output feature map) of a conv.
/// <list type="bullet">
/// <item>acc[ch, p] = Σ_k (a − a_zp)(w − w_zp[ch]) + Bias[ch] (int32, wrapping).</item>
/// <item>UInt8/Int8: y = clamp(round_half_even((float)acc · Multiplier[ch]) + ZeroPoint, QMin, QMax).</item>
/// <item>Float32: y = (float)acc · Multiplier[ch] + FloatBias[ch] (a multiply then an add, never fused).</item>
/// </list>
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1815", Justification = "parameter bundle, never compared")]
public unsafe struct QEpilogue
{
    /// <summary>int32 bias per output channel, or null.</summary>
    public int* Bias;
    /// <summary>Requantization multiplier (a_scale·w_scale[ch]/y_scale) or dequantization scale (a_scale·w_scale[ch]).</summary>
    public float* Multiplier;
    /// <summary>0: one multiplier for every channel; 1: one per channel.</summary>
    public int MultiplierStride;
    /// <summary>Float bias per channel for Float32 output, or null.</summary>
    public float* FloatBias;
    /// <summary>Output zero point (in the output type's own domain: −128..127 for Int8).</summary>
    public int ZeroPoint;
    /// <summary>Clamp bounds in the output domain (they also carry a fused Relu / Relu6 / Clip).</summary>
    public int QMin, QMax;

    /// <summary>Requantization to uint8 (QMin 0, QMax 255 unless narrowed by a fused activation).</summary>
    public static QEpilogue Requantize(float* multiplier, int multiplierStride, int zeroPoint, int qmin, int qmax, int* bias = null) =>
        new() { Multiplier = multiplier, MultiplierStride = multiplierStride, ZeroPoint = zeroPoint, QMin = qmin, QMax = qmax, Bias = bias };

    /// <summary>Dequantization to float.</summary>
    public static QEpilogue Dequantize(float* scale, int scaleStride, float* floatBias = null, int* bias = null) =>
        new() { Multiplier = scale, MultiplierStride = scaleStride, FloatBias = floatBias, Bias = bias };

    /// <summary>Exact int32 output (+ optional int32 bias).</summary>
    public static QEpilogue Exact(int* bias = null) => new() { Bias = bias };
}

/// <summary>The scalar arithmetic every kernel path reproduces bit for bit.</summary>
public static class QMath
{
    /// <summary>
    /// clamp(round_half_even((float)acc · multiplier) + zeroPoint, qmin, qmax). The clamp happens in float before the
    /// conversion (r is integral, so clamping r to [qmin − zp, qmax − zp] then adding zp is the same thing), which
    /// keeps huge products from overflowing the conversion.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Requantize(int acc, float multiplier, int zeroPoint, int qmin, int qmax)
    {
        float r = MathF.Round((float)acc * multiplier, MidpointRounding.ToEven);
        r = Math.Clamp(r, (float)(qmin - zeroPoint), (float)(qmax - zeroPoint));
        return (int)r + zeroPoint;
    }

    /// <summary>The float requantization multiplier a_scale·w_scale/y_scale, computed in float32 as the contract says.</summary>
    public static float Multiplier(float aScale, float wScale, float yScale) => aScale * wScale / yScale;

    /// <summary>The uint8 value of an activation byte (int8 data are shifted by +128: x ^ 0x80).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ActivationU8(byte raw, bool signed) => signed ? raw ^ 0x80 : raw;

    /// <summary>The int8 value of a weight byte (uint8 weights are shifted by −128: w ^ 0x80).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int WeightS8(byte raw, bool signed) => signed ? (sbyte)raw : raw - 128;
}
