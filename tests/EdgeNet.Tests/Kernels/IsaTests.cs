using EdgeNet.Kernels;

namespace EdgeNet.Tests.Kernels;

public class IsaTests
{
    [Fact]
    public void EverySimdPathOfThisArchitectureIsSwept()
    {
        var available = IsaSupport.Available;
        Assert.Contains(Isa.Scalar, available);
        if (IsaSupport.IsHardwareSupported(Isa.Avx2))
        {
            Assert.Contains(Isa.Avx2, available);
            Assert.Contains(Isa.Avx512, available); // natively or emulated
        }
        if (IsaSupport.IsHardwareSupported(Isa.Neon)) Assert.Contains(Isa.Neon, available);
        Assert.True(IsaSupport.IsHardwareSupported(IsaSupport.Best), "Best is never an emulated path");
    }

    [Fact]
    public void ForcingAPathTheCpuLacksIsAClearError()
    {
        var missing = Enum.GetValues<Isa>().FirstOrDefault(i => !IsaSupport.IsSupported(i), Isa.Scalar);
        if (missing != Isa.Scalar)
        {
            var ex = Assert.Throws<InvalidModelException>(() => IsaSupport.Resolve(missing));
            Assert.Contains(missing.ToString(), ex.Message);
        }
        Assert.Equal(Isa.Scalar, IsaSupport.Resolve(Isa.Scalar));
    }
}
