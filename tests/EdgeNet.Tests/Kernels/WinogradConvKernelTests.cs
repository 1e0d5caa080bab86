using System.Runtime.InteropServices;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Conv;
using EdgeNet.Kernels.Conv.Winograd;
using EdgeNet.Kernels.Gemm;
using EdgeNet.Ops;
using EdgeNet.Ops.Conv;
using EdgeNet.Tests.Support;
using Case = EdgeNet.Tests.Kernels.ConvKernelTests.Case;

namespace EdgeNet.Tests.Kernels;

/// <summary>
/// 3×3 stride-1 convs through <see cref="WinogradConvKernel"/> with F(2,3) and F(4,3) forced, against the direct
/// oracle <see cref="F32ConvReference"/> and the plain-loop Winograd <see cref="F32WinogradReference"/>, for every ISA
/// path, 1 and 2 threads, over channels 1..70, planes 1..30 (tile tails), pads 0/1/asymmetric, bias or not, fused
/// activations and batch 2; plus the cost model's choices (ResNet-18's stages) and zero allocation per run.
/// </summary>
public class WinogradConvKernelTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static IEnumerable<Case> Cases()
    {
        // (batch, C, M, in, pads begin, pads end, bias)
        yield return Conv(1, 1, 1, [1, 1], [1, 1], [1, 1]);
        yield return Conv(1, 3, 5, [3, 3], [0, 0], [0, 0]);
        yield return Conv(2, 7, 11, [9, 13], [1, 1], [1, 1]);
        yield return Conv(1, 13, 17, [30, 30], [1, 1], [1, 1], bias: false);
        yield return Conv(1, 31, 8, [17, 5], [0, 1], [1, 0]);
        yield return Conv(2, 16, 37, [14, 14], [1, 1], [1, 1]);
        yield return Conv(1, 70, 67, [7, 7], [1, 1], [1, 1]);
        yield return Conv(1, 41, 29, [1, 29], [1, 0], [1, 2]);
        yield return Conv(1, 5, 64, [23, 2], [2, 1], [0, 1], bias: false);
        yield return Conv(1, 64, 3, [11, 19], [0, 0], [2, 2]);
        yield return Conv(2, 2, 2, [4, 30], [1, 2], [2, 1]);
        yield return Conv(1, 19, 23, [28, 27], [1, 1], [1, 1]);
    }

    private static Case Conv(int batch, int c, int m, int[] input, int[] padBegin, int[] padEnd, bool bias = true) =>
        new(batch, c, m, 1, input, [3, 3], [1, 1], [1, 1], padBegin, padEnd, Bias: bias);

    private static readonly FusedActivation[] Activations =
        [FusedActivation.None, new(ActivationKind.Relu), new(ActivationKind.Clip, 0, 6), new(ActivationKind.LeakyRelu, 0.1f)];

    [Fact]
    public void PlainLoopWinogradMatchesDirectConv()
    {
        int index = 0;
        foreach (var c in Cases())
        {
            index++;
            var (shape, x, w, bias, expected, act) = Data(c, index);
            var g = shape.Geometry;
            foreach (var t in new[] { WinogradTransform.F2, WinogradTransform.F4 })
            {
                var y = new float[expected.Length];
                F32WinogradReference.Run(t, c.Batch, c.C, c.M, g.InH, g.InW, g.PadTop, g.PadLeft, g.OutH, g.OutW, x, w, bias, y, act);
                AssertClose(expected, y, ToleranceFor(t, c), $"case {index} F({t.M},3)");
            }
        }
    }

    [Fact]
    public void WinogradKernelMatchesReferencesForEveryIsaAndThreadCount()
    {
        int index = 0;
        foreach (var c in Cases())
        {
            index++;
            var (shape, x, w, bias, expected, act) = Data(c, index);
            var g = shape.Geometry;
            foreach (var t in new[] { WinogradTransform.F2, WinogradTransform.F4 })
            {
                var plain = new float[expected.Length];
                F32WinogradReference.Run(t, c.Batch, c.C, c.M, g.InH, g.InW, g.PadTop, g.PadLeft, g.OutH, g.OutW, x, w, bias, plain, act);
                foreach (var isa in IsaSupport.Available)
                    foreach (int threads in new[] { 1, 2 })
                    {
                        string what = $"case {index} F({t.M},3) {isa} t{threads}";
                        var (kernel, run, output) = Build(c, shape, x, w, bias, act, t.M, isa, threads);
                        Assert.Equal(t.M, kernel.TileSize);
                        run();
                        // the same algorithm in another summation order: close to the plain loops, and within the
                        // Winograd error bound of the direct conv
                        AssertClose(plain, output(), 1e-4f, what + " vs plain Winograd");
                        AssertClose(expected, output(), ToleranceFor(t, c), what + " vs direct");
                        // a second run over the dirty scratch gives the same result
                        var first = output();
                        run();
                        Assert.Equal(first, output());
                    }
            }
        }
    }

    /// <summary>
    /// The tile rows are cut into blocks that threads run end to end: every block height (1, 2, 3, all rows, odd tile
    /// counts and a short last block) and 1 or 2 threads give the same bits, for every ISA, both tiles, batch 1 and 2.
    /// </summary>
    [Fact]
    public void EveryBlockHeightAndThreadCountGivesTheSameBits()
    {
        Case[] cases =
        [
            Conv(1, 19, 23, [28, 27], [1, 1], [1, 1]),
            Conv(2, 7, 11, [9, 13], [1, 1], [1, 1]),
            Conv(1, 70, 67, [7, 7], [1, 1], [1, 1]),
            Conv(1, 31, 8, [17, 5], [0, 1], [1, 0]),
            Conv(2, 9, 40, [30, 30], [1, 1], [1, 1], bias: false),
        ];
        int index = 20;
        foreach (var c in cases)
        {
            index++;
            var (shape, x, w, bias, expected, act) = Data(c, index);
            var g = shape.Geometry;
            foreach (int m in new[] { 2, 4 })
            {
                int tilesH = (g.OutH + m - 1) / m;
                foreach (var isa in IsaSupport.Available)
                {
                    var (whole, runWhole, outWhole) = Build(c, shape, x, w, bias, act, m, isa, 1, tilesH);
                    Assert.Equal(tilesH, whole.TileRowsPerBlock);
                    runWhole();
                    var reference = outWhole();
                    AssertClose(expected, reference, ToleranceFor(WinogradTransform.For(m), c), $"case {index} F({m},3) {isa} one block vs direct");
                    foreach (int rows in new[] { 1, 2, 3, tilesH - 1 }.Where(r => r >= 1).Distinct())
                        foreach (int threads in new[] { 1, 2 })
                        {
                            var (kernel, run, output) = Build(c, shape, x, w, bias, act, m, isa, threads, rows);
                            Assert.Equal(Math.Min(rows, tilesH), kernel.TileRowsPerBlock);
                            run();
                            Assert.True(reference.AsSpan().SequenceEqual(output()), $"case {index} F({m},3) {isa} {rows} rows/block t{threads}: bits differ from one block");
                        }
                }
            }
        }
    }

    /// <summary>The block height the cost model picks: on ResNet-18's Winograd stages two threads get at least two
    /// blocks to share, and the blocks' V and M stay near a 1 MiB L2 instead of the whole image's.</summary>
    [Fact]
    public void BlockRowsSplitResNetStagesForTwoThreads()
    {
        foreach (var isa in IsaSupport.Available.Where(i => i != Isa.Scalar))
        {
            var uk = F32GemmMicrokernel.For(isa);
            int lanes = F32WinogradTiles.LanesOf(isa);
            foreach (var (channels, tiles) in new[] { (64, 14), (128, 7) })
                foreach (int threads in new[] { 1, 2 })
                {
                    int rows = WinogradConvKernel.BlockRows(1, tiles, tiles, channels, channels, 4, lanes, uk, threads);
                    Assert.InRange(rows, 1, tiles);
                    int blocks = (tiles + rows - 1) / rows;
                    if (threads == 2) Assert.True(blocks >= 2, $"{isa} {channels} ch: {rows} rows per block leave one block for two threads");
                    double footprint = 36.0 * 2 * channels * WinogradConvKernel.BlockStride(rows, tiles, lanes, uk.NR) * sizeof(float);
                    Assert.True(footprint <= 2.5 * (1 << 20), $"{isa} {channels} ch t{threads}: {rows} rows per block hold {footprint / (1 << 20):F2} MiB");
                }
        }
    }

    [Fact]
    public void SessionPicksWinogradForResNetStagesOnly()
    {
        foreach (var isa in IsaSupport.Available.Where(i => i != Isa.Scalar))
        {
            var uk = F32GemmMicrokernel.For(isa);
            int lanes = F32WinogradTiles.LanesOf(isa);
            // ResNet-18's 3×3 stride-1 stages: 64×56², 128×28² and 256×14² gain; 512×7² must not (F(4,3) would read
            // 37 MB of weights per conv, F(2,3) 17 MB for 16 tiles)
            Assert.Equal(4, WinogradConvKernel.Choose(Shape(64, 64, 56), uk, lanes));
            Assert.NotEqual(0, WinogradConvKernel.Choose(Shape(128, 128, 28), uk, lanes));
            Assert.Equal(0, WinogradConvKernel.Choose(Shape(512, 512, 7), uk, lanes));
            // too few channels for the transforms to pay
            Assert.Equal(0, WinogradConvKernel.Choose(Shape(3, 8, 56), uk, lanes));
        }
        // not 3×3 stride-1 dilation-1 group-1 2-D
        var avx = F32GemmMicrokernel.For(Isa.Scalar);
        Assert.Equal(0, WinogradConvKernel.Choose(Shape(64, 64, 56, stride: 2), avx, 1));
        Assert.Equal(0, WinogradConvKernel.Choose(Shape(64, 64, 56, dilation: 2), avx, 1));
        Assert.Equal(0, WinogradConvKernel.Choose(Shape(64, 64, 56, group: 2), avx, 1));
        Assert.Equal(0, WinogradConvKernel.Choose(new ConvShape(1, 64, 64, 1, ConvKernelTests.Geometry(
            new Case(1, 64, 64, 1, [56, 56], [5, 5], [1, 1], [1, 1], [2, 2], [2, 2]))), avx, 1));

        // through a session: chosen for 64×56², not with SessionOptions.Winograd off, nor for 512×7²
        var best = IsaSupport.Best;
        var stage1 = Conv(1, 64, 64, [56, 56], [1, 1], [1, 1]);
        var (_, x, w, bias, expected, act) = Data(stage1, 7);
        var model = ConvKernelTests.Model(stage1, w, bias, act);
        var on = new Session(model, new SessionOptions { Isa = best, Threads = 1 });
        Assert.IsType<WinogradConvKernel>(on.Plan.Steps.Single().Kernel);
        var off = new Session(model, new SessionOptions { Isa = best, Threads = 1, Winograd = false });
        Assert.IsNotType<WinogradConvKernel>(off.Plan.Steps.Single().Kernel);
        var input = new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([1, 64, 56, 56], x) };
        AssertClose(expected, on.Run(input)[0].AsSpan<float>(), 1e-3f, "session");
        Allocations.AssertNoneAfterWarmUp(on.Run, batch: 5, maxBatches: 20);

        var stage4 = Conv(1, 512, 512, [7, 7], [1, 1], [1, 1]);
        var w4 = GemmKernelTests.Random(512 * 512 * 9, 3);
        var s4 = new Session(ConvKernelTests.Model(stage4, w4, null, FusedActivation.None), new SessionOptions { Isa = best, Threads = 1 });
        Assert.IsNotType<WinogradConvKernel>(s4.Plan.Steps.Single().Kernel);
    }

    [Fact]
    public void KernelRunAllocatesNothing()
    {
        var c = Conv(2, 24, 40, [20, 21], [1, 1], [1, 1]);
        var (shape, x, w, bias, _, act) = Data(c, 5);
        foreach (int threads in new[] { 1, 2 })
            foreach (int m in new[] { 2, 4 })
            {
                var (_, run, _) = Build(c, shape, x, w, bias, act, m, IsaSupport.Best, threads);
                Allocations.AssertNoneAfterWarmUp(run, batch: 10, maxBatches: 40);
            }
    }

    /// <summary>
    /// The error of fp32 Winograd against an fp64 direct conv on ResNet-like stages (activations in [0, 1) as after a
    /// ReLU, He-scaled weights), next to the error of the direct fp32 GEMM path, as a share of the largest |y|: the
    /// bounds README.md quotes.
    /// </summary>
    [Theory]
    [InlineData(64, 28, 4, 5e-6)]
    [InlineData(64, 28, 2, 1.5e-6)]
    [InlineData(256, 14, 4, 1.5e-5)]
    [InlineData(256, 14, 2, 1.5e-6)]
    public void ErrorAgainstFp64StaysWithinDocumentedBound(int channels, int size, int m, double bound)
    {
        var c = Conv(1, channels, channels, [size, size], [1, 1], [1, 1]);
        var g = ConvKernelTests.Geometry(c);
        var rng = new Random(channels + size);
        var x = new float[channels * size * size];
        for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble();
        var w = new float[channels * channels * 9];
        double scale = Math.Sqrt(2.0 / (9 * channels)) * Math.Sqrt(3);
        for (int i = 0; i < w.Length; i++) w[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
        var exact = new double[channels * g.OutVolume];
        for (int o = 0; o < channels; o++)
            for (int ch = 0; ch < channels; ch++)
                for (int oh = 0; oh < size; oh++)
                    for (int ow = 0; ow < size; ow++)
                    {
                        double sum = 0;
                        for (int kh = 0; kh < 3; kh++)
                            for (int kw = 0; kw < 3; kw++)
                            {
                                int ih = oh + kh - 1, iw = ow + kw - 1;
                                if ((uint)ih < (uint)size && (uint)iw < (uint)size)
                                    sum += (double)x[(ch * size + ih) * size + iw] * w[((o * channels + ch) * 3 + kh) * 3 + kw];
                            }
                        exact[(o * size + oh) * size + ow] += sum;
                    }
        double peak = exact.Max(Math.Abs);
        var shape = new ConvShape(1, channels, channels, 1, g);
        var (_, run, result) = Build(c, shape, x, w, null, FusedActivation.None, m, IsaSupport.Best, 1);
        run();
        double wino = MaxError(exact, result()) / peak;
        var direct = new float[exact.Length];
        F32ConvReference.Run(shape, x, w, null, direct, FusedActivation.None);
        double plain = MaxError(exact, direct) / peak;
        output.WriteLine($"{channels}x{size}² F({m},3): max |error| / max |y| = {wino:E2} (direct fp32 {plain:E2})");
        Assert.True(wino <= bound, $"F({m},3) error {wino:E2} above {bound:E2}");
    }

    private static double MaxError(double[] exact, float[] actual)
    {
        double max = 0;
        for (int i = 0; i < exact.Length; i++) max = Math.Max(max, Math.Abs(exact[i] - actual[i]));
        return max;
    }

    private static ConvShape Shape(int c, int m, int size, int stride = 1, int dilation = 1, int group = 1) =>
        new(1, c, m, group, ConvKernelTests.Geometry(new Case(1, c, m, group, [size, size], [3, 3], [stride, stride], [dilation, dilation], [dilation, dilation], [dilation, dilation])));

    private static (ConvShape Shape, float[] X, float[] W, float[]? Bias, float[] Expected, FusedActivation Act) Data(Case c, int index)
    {
        var act = Activations[index % Activations.Length];
        var geometry = ConvKernelTests.Geometry(c);
        var shape = new ConvShape(c.Batch, c.C, c.M, c.Group, geometry);
        var x = GemmKernelTests.Random(c.Batch * c.C * geometry.InVolume, index);
        var w = GemmKernelTests.Random(c.M * c.C * 9, index + 50);
        var bias = c.Bias ? GemmKernelTests.Random(c.M, index + 99) : null;
        var expected = new float[c.Batch * c.M * geometry.OutVolume];
        F32ConvReference.Run(shape, x, w, bias, expected, act);
        return (shape, x, w, bias, expected, act);
    }

    /// <summary>
    /// The Winograd kernel built directly (whatever the cost model says) on buffers of its own: x, w, bias, y in
    /// slots 0..3. Returns the kernel, one run, and a copy of the output.
    /// </summary>
    private static (WinogradConvKernel Kernel, Action Run, Func<float[]> Output) Build(Case c, ConvShape shape, float[] x, float[] w, float[]? bias,
        FusedActivation act, int m, Isa isa, int threads, int blockRows = 0)
    {
        var model = ConvKernelTests.Model(c, w, bias, act);
        var node = model.Graph.Nodes.Single();
        ValueFacts?[] facts =
        [
            new ValueFacts(DataType.Float32, [c.Batch, c.C, .. c.In]),
            new ValueFacts(DataType.Float32, [c.M, c.C, 3, 3], Tensor.FromArray([c.M, c.C, 3, 3], w)),
            bias is null ? null : new ValueFacts(DataType.Float32, [c.M], Tensor.FromArray([c.M], bias)),
        ];
        var ctx = new OpContext(node, facts, threads, isa);
        var kernel = WinogradConvKernel.Create(ctx, shape, bias is not null, act, m, blockRows) ?? throw new InvalidOperationException("not created");
        var y = new byte[c.Batch * c.M * shape.Geometry.OutVolume * sizeof(float)];
        Memory<byte>[] buffers =
        [
            MemoryMarshal.AsBytes(x.AsSpan()).ToArray(),
            MemoryMarshal.AsBytes(w.AsSpan()).ToArray(),
            bias is null ? Memory<byte>.Empty : MemoryMarshal.AsBytes(bias.AsSpan()).ToArray(),
            y,
        ];
        kernel.InputSlots = [0, 1, bias is null ? -1 : 2];
        kernel.OutputSlots = [3];
        // dirty scratch: the kernel must not rely on zeroed memory
        var scratch = new byte[kernel.ScratchBytes];
        new Random(1).NextBytes(scratch);
        kernel.ScratchMemory = scratch;
        var ec = new ExecutionContext(buffers, threads);
        return (kernel, () => kernel.Execute(ec), () => MemoryMarshal.Cast<byte, float>(y.AsSpan()).ToArray());
    }

    /// <summary>Error bound of fp32 Winograd against the direct conv for inputs and weights in [−1, 1): it grows with
    /// the channel count (the sum) and with the transform's largest coefficients (F(4,3)'s 5 and 8).</summary>
    private static float ToleranceFor(WinogradTransform t, Case c) => (t.M == 4 ? 2e-6f : 5e-7f) * 9 * c.C;

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float tol = tolerance * MathF.Max(1, MathF.Abs(expected[i]));
            if (!(MathF.Abs(expected[i] - actual[i]) <= tol))
                Assert.Fail($"{what}: element {i}: expected {expected[i]}, got {actual[i]} (tolerance {tol})");
        }
    }
}
