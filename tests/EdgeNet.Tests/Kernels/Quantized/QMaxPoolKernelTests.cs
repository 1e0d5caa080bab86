using EdgeNet.Kernels.Quantized;
using EdgeNet.Ops.Conv;

namespace EdgeNet.Tests.Kernels.Quantized;

/// <summary>
/// <see cref="QMaxPool"/> (separable vector byte max) against the direct <see cref="QMaxPoolReference"/>, bit for bit:
/// 1-D / 2-D / 3-D, kernel sizes, strides, dilations, pads (including windows that end past the input), widths around
/// the 16-byte vector, uint8 and int8.
/// </summary>
public unsafe class QMaxPoolKernelTests
{
    private static void Check<T>(ConvGeometry g, int planes, int seed) where T : unmanaged, System.Numerics.INumber<T>, System.Numerics.IMinMaxValue<T>
    {
        var rng = new Random(seed);
        var x = new byte[planes * g.InD * g.InH * g.InW];
        rng.NextBytes(x);
        int outCount = planes * g.OutD * g.OutH * g.OutW;
        var expected = new byte[outCount];
        var actual = new byte[outCount];
        var row = new byte[QMaxPool.ScratchElements(g)];
        fixed (byte* xp = x)
        fixed (byte* e = expected)
        fixed (byte* a = actual)
        fixed (byte* r = row)
        {
            QMaxPoolReference.Run(g, planes, (T*)xp, (T*)e);
            QMaxPool.Run(g, planes, (T*)xp, (T*)a, (T*)r);
        }
        Assert.True(expected.AsSpan().SequenceEqual(actual), $"{typeof(T).Name} in {string.Join("x", g.In)} k {string.Join("x", g.Kernel)} s {string.Join(",", g.Strides)} differs");
    }

    private static int Out(int input, int k, int s, int d, int p0, int p1) => (input + p0 + p1 - ((k - 1) * d + 1)) / s + 1;

    [Fact]
    public void TwoDimensionalSweepMatchesReference()
    {
        int seed = 0, checkedCount = 0;
        foreach (int k in new[] { 1, 2, 3, 5 })
            foreach (int stride in new[] { 1, 2, 3 })
                foreach (int pad in new[] { 0, 1, 2 })
                    foreach (int w in new[] { 5, 16, 17, 31, 56 })
                    {
                        seed++;
                        if (pad >= k) continue;
                        int h = 3 + seed % 9, dil = seed % 5 == 0 ? 2 : 1;
                        int padEnd = Math.Min(pad + seed % 2, k - 1);
                        int oh = Out(h, k, stride, dil, pad, padEnd), ow = Out(w, k, stride, dil, pad, padEnd);
                        if (oh <= 0 || ow <= 0) continue;
                        var g = new ConvGeometry([h, w], [k, k], [stride, stride], [dil, dil], [pad, pad], [padEnd, padEnd], [oh, ow]);
                        if (seed % 2 == 0) Check<byte>(g, 1 + seed % 4, seed);
                        else Check<sbyte>(g, 1 + seed % 4, seed);
                        checkedCount++;
                    }
        Assert.True(checkedCount > 100, $"only {checkedCount} geometries checked");
    }

    /// <summary>3-wide stride-2 windows (the 16-output vector path) at widths 32–80, pads 0–2 at either end, u8 and s8.</summary>
    [Fact]
    public void Stride2Window3WidthsMatchReference()
    {
        int seed = 700, count = 0;
        for (int w = 32; w <= 80; w += 3)
            foreach (int pad in new[] { 0, 1, 2 })
            {
                seed++;
                int padEnd = seed % 3 == 0 ? 0 : Math.Min(2, pad + seed % 2), h = 3 + seed % 5;
                int oh = Out(h, 3, 2, 1, pad, padEnd), ow = Out(w, 3, 2, 1, pad, padEnd);
                var g = new ConvGeometry([h, w], [3, 3], [2, 2], [1, 1], [pad, pad], [padEnd, padEnd], [oh, ow]);
                if (seed % 2 == 0) Check<byte>(g, 1 + seed % 3, seed);
                else Check<sbyte>(g, 1 + seed % 3, seed);
                count++;
            }
        Assert.Equal(51, count);
    }

    [Fact]
    public void OneAndThreeDimensionalAndResNetStemMatchReference()
    {
        Check<byte>(new ConvGeometry([23], [3], [2], [1], [1], [1], [12]), 5, 1);
        Check<sbyte>(new ConvGeometry([5, 7, 6], [2, 3, 2], [1, 2, 2], [1, 1, 1], [0, 1, 1], [1, 1, 0], [5, 4, 3]), 3, 2);
        Check<byte>(new ConvGeometry([112, 112], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1], [56, 56]), 4, 3);
        // a window ending past the input (ceil_mode style output size)
        Check<sbyte>(new ConvGeometry([8, 8], [3, 3], [2, 2], [1, 1], [0, 0], [0, 0], [4, 4]), 2, 4);
    }
}
