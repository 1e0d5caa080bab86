using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeNet.Kernels;

/// <summary>The instruction-set paths EdgeNet has kernels for, from the portable reference up.</summary>
public enum Isa
{
    /// <summary>Plain scalar C#: the reference every other path is tested against.</summary>
    Scalar,
    /// <summary>x86-64 AVX2 + FMA (256-bit).</summary>
    Avx2,
    /// <summary>x86-64 AVX-512 F + BW (512-bit).</summary>
    Avx512,
    /// <summary>ARM64 AdvSimd (128-bit NEON), as on Cortex-A72 (Raspberry Pi 4) and A76 (Pi 5).</summary>
    Neon,
}

/// <summary>
/// Which ISA path kernels take. Chosen once per session from what the CPU (and the .NET runtime, which honours
/// DOTNET_EnableAVX512=0 and the like; .NET 10 ignores the older DOTNET_EnableAVX512F) supports; <c>EDGENET_ISA=scalar|avx2|avx512|neon</c> forces a path, and
/// <see cref="Execution.SessionOptions.Isa"/> does the same per session.
/// </summary>
public static class IsaSupport
{
    public const string EnvironmentVariable = "EDGENET_ISA";

    /// <summary>
    /// Verification hook (tests, EDGENET_EMULATE_AVX512=1): on an x86 CPU without AVX-512 the 512-bit kernels still
    /// run, on .NET's software Vector512 fallback — slowly, but with the same arithmetic — so their logic is tested
    /// on every machine. Never chosen by <see cref="Best"/>.
    /// </summary>
    public static bool EmulateAvx512 { get; set; } = Environment.GetEnvironmentVariable("EDGENET_EMULATE_AVX512") == "1";

    /// <summary>True when the CPU runs <paramref name="isa"/> natively.</summary>
    public static bool IsHardwareSupported(Isa isa) => isa switch
    {
        Isa.Scalar => true,
        Isa.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        Isa.Avx512 => Avx512F.IsSupported && Avx512BW.IsSupported && Fma.IsSupported,
        Isa.Neon => AdvSimd.Arm64.IsSupported,
        _ => false,
    };

    /// <summary>True when this process can run kernels of <paramref name="isa"/> (natively, or emulated: <see cref="EmulateAvx512"/>).</summary>
    public static bool IsSupported(Isa isa) =>
        IsHardwareSupported(isa) || (isa == Isa.Avx512 && EmulateAvx512 && IsHardwareSupported(Isa.Avx2));

    /// <summary>The fastest path this CPU supports natively.</summary>
    public static Isa Best =>
        IsHardwareSupported(Isa.Avx512) ? Isa.Avx512 :
        IsHardwareSupported(Isa.Avx2) ? Isa.Avx2 :
        IsHardwareSupported(Isa.Neon) ? Isa.Neon : Isa.Scalar;

    /// <summary>Every path this CPU supports (tests run each of them against the reference).</summary>
    public static IReadOnlyList<Isa> Available => Enum.GetValues<Isa>().Where(IsSupported).ToArray();

    /// <summary>
    /// The path to use: <paramref name="requested"/> if given, else EDGENET_ISA if set, else <see cref="Best"/>.
    /// Forcing a path the CPU lacks is an error, not a silent fallback.
    /// </summary>
    public static Isa Resolve(Isa? requested = null)
    {
        Isa isa;
        if (requested is { } r) isa = r;
        else if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } forced)
        {
            if (!Enum.TryParse(forced, ignoreCase: true, out isa) || !Enum.IsDefined(isa))
                throw new InvalidModelException($"{EnvironmentVariable}='{forced}' is not one of scalar, avx2, avx512, neon");
        }
        else return Best;
        if (!IsSupported(isa))
            throw new InvalidModelException($"ISA path '{isa}' was forced but this CPU (or runtime configuration) does not support it; available: {string.Join(", ", Available)}");
        return isa;
    }
}
