using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Kernels.Quantized;

namespace EdgeNet.Tests.Kernels.Quantized;

/// <summary>
/// The in-register tile requantization (<c>QTileRequant</c>) called directly: the 256-bit rows (<c>Rows2</c>, and its
/// byte-clamp form) and the 512-bit rows (<c>Rows2x512</c>, through <c>Rows2Any</c>) against <see cref="QMath.Requantize"/>
/// element by element. The kernels only take the 512-bit rows where the CPU does not split 512-bit ops
/// (<see cref="QVariants.SplitsVector512"/>), so this test is what runs them on every AVX-512 BW machine.
/// </summary>
public class QTileRequantTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public unsafe void RowsMatchScalarRequantization(bool vector512)
    {
        if (!Avx2.IsSupported) return; // the tile requantization is x86 only; the scalar epilogue covers the rest
        var rng = new Random(vector512 ? 5 : 4);
        int[] acc = new int[64];
        byte[] got = new byte[32];
        float* mult = stackalloc float[1];
        int cases = 0;
        foreach (bool signed in new[] { false, true })
            foreach (float mScale in new[] { 1e-4f, 0.003f, 0.3f, 0.5f, 0.51f, 2f, -0.02f })
                for (int trial = 0; trial < 40; trial++)
                {
                    int zp = signed ? rng.Next(-128, 128) : rng.Next(0, 256);
                    int qmin = signed ? -128 : 0, qmax = signed ? 127 : 255;
                    if (trial % 3 == 1) qmin = zp; // a fused Relu
                    if (trial % 5 == 2) qmax = Math.Max(qmin, Math.Min(qmax, zp + 40)); // a fused Relu6 / Clip
                    int range = trial % 4 == 0 ? int.MaxValue : 1 << rng.Next(4, 24);
                    for (int i = 0; i < acc.Length; i++) acc[i] = trial % 4 == 0 ? rng.Next(int.MinValue, int.MaxValue) : rng.Next(-range, range);
                    float ma = mScale * (0.5f + (float)rng.NextDouble()), mb = mScale * (0.25f + (float)rng.NextDouble() * 0.25f);
                    mult[0] = Math.Max(Math.Abs(ma), Math.Abs(mb)) * Math.Sign(ma);
                    var e = QEpilogue.Requantize(mult, 0, zp, qmin, qmax);
                    var rq = new QTileRequant(e, signed, 1, vector512);
                    fixed (int* a = acc)
                    fixed (byte* d = got)
                        rq.Rows2Any(Vector256.Load(a), Vector256.Load(a + 8), ma, d, Vector256.Load(a + 16), Vector256.Load(a + 24), mb, d + 16);
                    for (int i = 0; i < 32; i++)
                    {
                        int expected = QMath.Requantize(acc[i], i < 16 ? ma : mb, zp, qmin, qmax);
                        int actual = signed ? (sbyte)got[i] : got[i];
                        Assert.True(expected == actual, $"signed {signed}, M {(i < 16 ? ma : mb)}, zp {zp}, [{qmin}, {qmax}], acc {acc[i]}: {actual}, expected {expected} (element {i}, small multipliers {rq.SmallMultipliers})");
                    }
                    cases++;
                }
        Assert.Equal(2 * 7 * 40, cases);
    }
}
