using System.Runtime.CompilerServices;
using EdgeNet.Kernels;

namespace EdgeNet.Tests.Support;

internal static class TestSetup
{
    /// <summary>
    /// Every ISA path is tested on every machine: where the CPU lacks AVX-512, its kernels run on .NET's software
    /// Vector512 fallback (IsaSupport.EmulateAvx512), so <see cref="IsaSupport.Available"/> includes it in the sweeps.
    /// </summary>
    [ModuleInitializer]
    internal static void EmulateMissingIsas() => IsaSupport.EmulateAvx512 = true;
}
