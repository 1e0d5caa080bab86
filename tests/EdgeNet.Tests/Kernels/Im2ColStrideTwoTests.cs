using EdgeNet.Execution;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Conv;
using EdgeNet.Ops.Conv;
using EdgeNet.Tests.Support;
using Case = EdgeNet.Tests.Kernels.ConvKernelTests.Case;

namespace EdgeNet.Tests.Kernels;

/// <summary>
/// The width-stride-2 im2col of <see cref="F32Im2ColPacker"/> (a vector of columns per even/odd split of one input
/// row, element-wise gathers at the borders, across output rows and outside the input) against the offset table
/// (<see cref="F32Im2ColPacker.GatherTable"/>, computed element by element from the conv formula) on every ISA path:
/// kernel widths 1–7, left pads 0–3, height strides 1–3, height dilation 1–2, odd and even input sides, output rows
/// narrower and wider than a vector (the vector path takes rows of at least 4 vectors, the others the element path), K blocks starting mid-kernel-row, column blocks starting mid-row and partial last
/// panels. Then whole stride-2 Conv nodes (the MobileNetV2 stem's 3→32 3×3/2 among them) against
/// <see cref="F32ConvReference"/> on every ISA at 1 and 2 threads, and no allocation per run.
/// </summary>
public class Im2ColStrideTwoTests
{
    private static IEnumerable<ConvGeometry> Geometries()
    {
        var rng = new Random(11);
        foreach (int kw in new[] { 1, 2, 3, 4, 5, 7 })
            foreach (int inW in new[] { 7, 16, 33, 64, 75, 140, 161 })
            {
                int pl = rng.Next(0, Math.Min(kw, 4)), pr = rng.Next(0, kw);
                int kh = rng.Next(1, 4), sh = rng.Next(1, 4), dh = rng.Next(1, 3), inH = rng.Next(3, 12);
                int pt = rng.Next(0, kh), pb = rng.Next(0, kh);
                int outH = (inH + pt + pb - ((kh - 1) * dh + 1)) / sh + 1, outW = (inW + pl + pr - kw) / 2 + 1;
                if (outH <= 0 || outW <= 0) continue;
                yield return new ConvGeometry([inH, inW], [kh, kw], [sh, 2], [dh, 1], [pt, pl], [pb, pr], [outH, outW]);
            }
        // the MobileNetV2 stem's geometry on smaller images (rows of 32 and 64 outputs: the vector path needs rows of at
        // least 4 vectors), and ResNet-18's 7×7/2 stem
        yield return new ConvGeometry([32, 64], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1], [16, 32]);
        yield return new ConvGeometry([12, 128], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1], [6, 64]);
        yield return new ConvGeometry([30, 38], [7, 7], [2, 2], [1, 1], [3, 3], [3, 3], [15, 19]);
    }

    [Fact]
    public void StrideTwoPanelsMatchOffsetTableOnEveryIsa()
    {
        int compared = 0;
        foreach (var g in Geometries())
        {
            int channels = 3, depth = channels * g.KernelVolume, n = g.OutVolume;
            var table = F32Im2ColPacker.GatherTable(g, depth);
            var x = GemmKernelTests.Random(channels * g.InVolume, n);
            foreach (var isa in IsaSupport.Available)
            {
                var packer = new F32Im2ColPacker(g, 0, isa);
                Assert.False(packer.UsesTable);
                foreach (int nr in new[] { 8, 16, 32, 64 })
                    foreach (var (k0, kc) in new[] { (0, depth), (1, depth - 1), (depth / 3, Math.Max(1, depth / 2)), (depth - 1, 1) })
                        foreach (var (j0, nc) in new[] { (0, n), (0, Math.Max(1, n / 2)), (Math.Min(n - 1, 5), Math.Max(1, n / 2 + 3)), (n - 1, 40) })
                        {
                            int cols = Math.Min(nc, n - j0), panels = (cols + nr - 1) / nr;
                            var expected = new float[panels * kc * nr];
                            for (int r = 0; r < kc; r++)
                                for (int col = 0; col < cols; col++)
                                {
                                    int offset = table[(k0 + r) * n + j0 + col];
                                    expected[col / nr * kc * nr + r * nr + col % nr] = offset >= 0 ? x[offset] : 0f;
                                }
                            var actual = Enumerable.Repeat(float.NaN, expected.Length).ToArray();
                            unsafe
                            {
                                fixed (float* src = x)
                                fixed (float* a = actual)
                                    packer.Pack(src, k0, kc, j0, nc, nr, a);
                            }
                            Assert.True(expected.AsSpan().SequenceEqual(actual),
                                $"{isa} in {g.InH}x{g.InW} k {g.KH}x{g.KW} s {g.SH}x2 d {g.DH} pads {g.PadTop},{g.PadLeft} nr={nr} k0={k0} kc={kc} j0={j0} nc={nc}");
                            compared++;
                        }
            }
        }
        Assert.True(compared > 1000, $"only {compared} packings compared");
    }

    private static IEnumerable<Case> NodeCases()
    {
        yield return new(1, 3, 32, 1, [34, 48], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1]);
        yield return new(2, 3, 13, 1, [27, 33], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1], Bias: false);
        yield return new(1, 4, 20, 1, [19, 40], [3, 3], [2, 2], [1, 1], [0, 1], [1, 0]);
        yield return new(1, 3, 16, 1, [30, 38], [7, 7], [2, 2], [1, 1], [3, 3], [3, 3]);
        yield return new(1, 8, 12, 1, [14, 21], [1, 1], [2, 2], [1, 1], [0, 0], [0, 0]);
        yield return new(1, 5, 9, 1, [11, 70], [5, 5], [2, 2], [1, 1], [2, 2], [2, 2], ConstWeights: false);
        yield return new(1, 2, 7, 1, [9, 9], [3, 2], [1, 2], [2, 1], [1, 0], [1, 1]);
    }

    [Fact]
    public void StrideTwoConvNodesMatchReference()
    {
        FusedActivation[] activations = [new(ActivationKind.Clip, 0, 6), FusedActivation.None, new(ActivationKind.Relu), new(ActivationKind.HardSwish)];
        int index = 300;
        foreach (var c in NodeCases())
        {
            index++;
            ConvKernelTests.AssertNodeMatchesReference(c, activations[index % activations.Length], index);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void StrideTwoRunAllocatesNothing(int threads)
    {
        var c = new Case(1, 3, 32, 1, [96, 96], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1]);
        var g = ConvKernelTests.Geometry(c);
        var model = ConvKernelTests.Model(c, GemmKernelTests.Random(c.M * c.C * g.KernelVolume, 1), GemmKernelTests.Random(c.M, 2), new FusedActivation(ActivationKind.Clip, 0, 6));
        var session = new Session(model, new SessionOptions { Threads = threads });
        Assert.True(session.Plan.Steps.Single().Kernel is GemmConvKernel || IsaSupport.Resolve() == Isa.Scalar);
        GemmKernelTests.Random(c.C * g.InVolume, 3).CopyTo(session.Input<float>(0));
        Allocations.AssertNoneAfterWarmUp(session.Run);
    }
}
