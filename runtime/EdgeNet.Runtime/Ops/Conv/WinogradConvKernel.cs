using System.Runtime.CompilerServices;
using EdgeNet.Execution;
using EdgeNet.Execution.Threading;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Conv;
using EdgeNet.Kernels.Conv.Winograd;
using EdgeNet.Kernels.Gemm;

namespace EdgeNet.Ops.Conv;

/// <summary>
/// 3×3, stride-1, group-1 2-D conv by Winograd minimal filtering, F(4×4, 3×3) or F(2×2, 3×3)
/// (<see cref="WinogradTransform"/>): per image, (1) each channel plane is cut into α×α tiles and transformed
/// (<see cref="F32WinogradTiles.Input"/>) into α² matrices V_f[channel × tile]; (2) α² independent GEMMs
/// M_f[filter × tile] = U_f[filter × channel] · V_f on the shared <see cref="F32GemmDriver"/>, with the filter
/// transforms U_f = (G g Gᵀ)_f packed once as A panels; (3) each filter's tiles are transformed back
/// (<see cref="F32WinogradTiles.Output"/>) with bias and the fused activation into the NCHW output. A 4×4 output
/// tile costs 36 multiply-adds per channel pair instead of 144, at the price of the transforms, of lanes lost when
/// the tile count is not a multiple of the GEMM panel, and of α²/9 times the weight memory: <see cref="Choose"/>
/// weighs these per conv. The three phases are split over the worker pool (channels, GEMM items, filters).
/// </summary>
internal sealed unsafe class WinogradConvKernel : Kernel, IParallelWork
{
    /// <summary>Transformed weights larger than this per conv stream from memory on every run; never chosen.</summary>
    internal const long MaxWeightBytes = 8L << 20;

    private readonly ConvShape _s;
    private readonly WinogradTransform _t;
    private readonly F32WinogradTiles _tiles;
    private readonly F32GemmDriver _driver;
    private readonly float[] _packedWeights;
    private readonly bool _hasBias;
    private readonly FusedActivation _activation;
    private readonly int _parts, _inPlane, _outPlane;
    private readonly nint _vImage, _vFrequency, _mImage, _mFrequency;

    // per run
    private float* _x, _y, _bias, _v, _mt, _phases;
    private int _phase, _next;

    private WinogradConvKernel(ConvShape s, WinogradTransform t, F32WinogradTiles tiles, F32GemmDriver driver, float[] packedWeights,
        bool hasBias, FusedActivation activation, int threads)
    {
        _s = s; _t = t; _tiles = tiles; _driver = driver; _packedWeights = packedWeights;
        _hasBias = hasBias; _activation = activation;
        var g = s.Geometry;
        _inPlane = g.InH * g.InW;
        _outPlane = g.OutH * g.OutW;
        _vFrequency = (nint)s.InChannels * tiles.RowStride;
        _vImage = _vFrequency * t.Frequencies;
        _mFrequency = (nint)s.OutChannels * tiles.Tiles;
        _mImage = _mFrequency * t.Frequencies;
        _parts = Math.Max(1, Math.Min(threads, s.Batch * Math.Min(s.InChannels, s.OutChannels)));
    }

    /// <summary>Output tile side of this kernel (4: F(4,3), 2: F(2,3)).</summary>
    public int TileSize => _t.M;

    /// <summary>Bytes of the packed transformed weights (α² A-panel matrices of filters × channels).</summary>
    public long WeightBytes => (long)_packedWeights.Length * sizeof(float);

    /// <summary>This kernel when <see cref="Choose"/> picks a tile for the conv and the weights are constant; otherwise null.</summary>
    public static WinogradConvKernel? TryCreate(OpContext ctx, ConvShape s, bool hasBias, FusedActivation activation)
    {
        if (!ctx.Winograd) return null;
        var uk = F32GemmMicrokernel.For(ctx.Isa);
        int m = Choose(s, uk, F32WinogradTiles.LanesOf(ctx.Isa));
        return m == 0 ? null : Create(ctx, s, hasBias, activation, m);
    }

    /// <summary>The kernel with output tile side <paramref name="m"/> for any 3×3 stride-1 group-1 2-D conv with
    /// constant weights (null otherwise, or when the scratch would be too large), whatever the cost model says.</summary>
    internal static WinogradConvKernel? Create(OpContext ctx, ConvShape s, bool hasBias, FusedActivation activation, int m)
    {
        var g = s.Geometry;
        if (s.Group != 1 || g.Rank != 2 || g.KH != 3 || g.KW != 3 || g.SH != 1 || g.SW != 1 || g.DH != 1 || g.DW != 1) return null;
        if (s.Batch == 0 || s.InChannels == 0 || s.OutChannels == 0 || g.OutVolume == 0) return null;
        if (ctx.InputConstant(1) is not { } w) return null;
        var uk = F32GemmMicrokernel.For(ctx.Isa);
        var t = WinogradTransform.For(m);
        var tiles = new F32WinogradTiles(t, ctx.Isa, g.InH, g.InW, g.PadTop, g.PadLeft, g.OutH, g.OutW);
        int freq = t.Frequencies, filters = s.OutChannels, channels = s.InChannels;
        long vFloats = (long)s.Batch * freq * channels * tiles.RowStride, mFloats = (long)s.Batch * freq * filters * tiles.Tiles + tiles.Lanes;
        long phaseFloats = (long)ctx.Threads * tiles.PhaseFloats;
        if ((vFloats + mFloats + phaseFloats) * sizeof(float) > int.MaxValue / 2) return null;

        var u = t.TransformWeights(w.AsSpan<float>(), filters, channels);
        int packedA = F32GemmPacking.PackedASize(filters, channels, uk.MR);
        var packed = GC.AllocateArray<float>(freq * packedA, pinned: true);
        fixed (float* src = u)
        fixed (float* dst = packed)
            for (int f = 0; f < freq; f++)
                F32GemmPacking.PackA(src + (nint)f * filters * channels, filters, channels, channels, false, 1, uk.MR, dst + (nint)f * packedA);

        int items = s.Batch * freq;
        var aOffset = new int[items];
        var bOffset = new int[items];
        var cOffset = new int[items];
        for (int n = 0; n < s.Batch; n++)
            for (int f = 0; f < freq; f++)
            {
                int item = n * freq + f;
                aOffset[item] = f * packedA;
                bOffset[item] = (n * freq + f) * channels * tiles.RowStride;
                cOffset[item] = (n * freq + f) * filters * tiles.Tiles;
            }
        var driver = new F32GemmDriver(uk, filters, tiles.Tiles, channels, GemmBSource.RowMajor, tiles.RowStride, null,
            aOffset, bOffset, cOffset, null, biasRowStride: 0, biasColStride: 0, FusedActivation.None, ctx.Threads);
        int threads = (long)s.Batch * filters * channels * g.OutVolume * 9 < 1 << 20 ? 1 : ctx.Threads;
        return new WinogradConvKernel(s, t, tiles, driver, packed, hasBias, activation, threads);
    }

    /// <summary>
    /// The output tile side (4 or 2) Winograd should use for this conv, or 0 when it should not: only 3×3, stride 1,
    /// dilation 1, group 1, 2-D convs, with at most <see cref="MaxWeightBytes"/> of transformed weights, and only when
    /// the estimated time of the best tile is below <see cref="Margin"/> of the direct GEMM's. Times are in GEMM
    /// multiply-add lanes (about 95 per ns on one AVX-512 core): the α² GEMMs with tiles rounded up to whole NR
    /// panels and filters to MR rows; the direct GEMM's 9·C·M·positions at <see cref="DirectEfficiency"/>; the
    /// transforms per tile and channel (input) or filter (output), measured on ResNet-18's stages, half of it growing
    /// with the lanes lost when a tile row is not a whole number of vectors; and the transformed weight bytes.
    /// </summary>
    internal static int Choose(ConvShape s, F32GemmMicrokernel uk, int lanes)
    {
        var g = s.Geometry;
        if (s.Group != 1 || g.Rank != 2 || g.KH != 3 || g.KW != 3 || g.SH != 1 || g.SW != 1 || g.DH != 1 || g.DW != 1) return 0;
        if (s.Batch == 0 || s.InChannels == 0 || s.OutChannels == 0 || g.OutVolume == 0) return 0;
        double c = s.InChannels, f = s.OutChannels;
        double direct = 9.0 * c * f * g.OutVolume / DirectEfficiency;
        int best = 0;
        double bestCost = direct * Margin;
        foreach (int m in (ReadOnlySpan<int>)[4, 2])
        {
            int alpha = m + 2, freq = alpha * alpha;
            if ((long)freq * s.InChannels * s.OutChannels * sizeof(float) > MaxWeightBytes) continue;
            int tilesW = (g.OutW + m - 1) / m, tiles = (g.OutH + m - 1) / m * tilesW;
            double gemm = (double)freq * c * RoundUp(tiles, uk.NR) * RoundUp(s.OutChannels, uk.MR);
            double rowWaste = 0.5 + 0.5 * RoundUp(tilesW, lanes) / tilesW;
            double transforms = tiles * rowWaste * (c * InputCost(m) + f * OutputCost(m));
            double weights = freq * c * f * sizeof(float) * CostPerWeightByte;
            double cost = gemm + transforms + weights;
            if (cost < bestCost) { best = m; bestCost = cost; }
        }
        return best;
    }

    /// <summary>Winograd must beat the direct GEMM's estimate by this factor.</summary>
    private const double Margin = 0.9;
    /// <summary>Share of the microkernel's peak the direct conv kernels reach on these shapes (about 85 of 95 GMAC/s).</summary>
    private const double DirectEfficiency = 0.9;
    /// <summary>GEMM lanes one tile of one channel costs in the input transform (phase copy, transform, V stores).</summary>
    private static double InputCost(int m) => m == 4 ? 950 : 600;
    /// <summary>GEMM lanes one tile of one filter costs in the output transform (loads, transform, activation, stores).</summary>
    private static double OutputCost(int m) => m == 4 ? 750 : 350;
    /// <summary>
    /// GEMM lanes one transformed weight byte costs: in a whole model the weights come from memory on every run, and
    /// the α² GEMMs use each weight only once per tile (ResNet-18's 256×14² stage with F(2,3): 49 multiply-adds per
    /// 4 bytes), so with few tiles they wait for memory (about 10 GB/s against 95 lanes/ns) rather than compute.
    /// </summary>
    private const double CostPerWeightByte = 10;

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    private long VFloats => _vImage * _s.Batch;
    private long MFloats => _mImage * _s.Batch + _tiles.Lanes;
    private long PhaseFloats => (long)_parts * _tiles.PhaseFloats;

    public override int ScratchBytes => (int)((VFloats + MFloats + PhaseFloats) * sizeof(float)) + _driver.ScratchBytes;

    public override void Execute(ExecutionContext ctx)
    {
        var bias = _hasBias ? Input<float>(ctx, 2) : default;
        fixed (float* x = Input<float>(ctx, 0))
        fixed (float* b = bias)
        fixed (float* y = Output<float>(ctx, 0))
        fixed (float* a = _packedWeights)
        fixed (byte* scratchBytes = Scratch)
        {
            float* scratch = (float*)scratchBytes;
            _x = x; _y = y; _bias = _hasBias ? b : null;
            _v = scratch;
            _mt = _v + VFloats;
            _phases = _mt + MFloats;
            float* driverScratch = _phases + PhaseFloats;
            _phase = 0;
            _next = 0;
            ctx.Parallel(this, _parts, _parts);
            _driver.Run(ctx, a, _v, _mt, null, 1, driverScratch);
            _phase = 1;
            _next = 0;
            ctx.Parallel(this, _parts, _parts);
            _x = _y = _bias = _v = _mt = _phases = null;
        }
    }

    /// <summary>One worker: claims channels (input phase) or filters (output phase) of every image until none are left.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int part)
    {
        int item;
        if (_phase == 0)
        {
            float* phases = _phases + (nint)part * _tiles.PhaseFloats;
            int channels = _s.InChannels, count = _s.Batch * channels;
            while ((item = System.Threading.Interlocked.Increment(ref _next) - 1) < count)
            {
                int n = item / channels, c = item % channels;
                _tiles.Input(_x + (nint)item * _inPlane, phases, _v + n * _vImage + (nint)c * _tiles.RowStride, _vFrequency);
            }
        }
        else
        {
            int filters = _s.OutChannels, count = _s.Batch * filters;
            while ((item = System.Threading.Interlocked.Increment(ref _next) - 1) < count)
            {
                int n = item / filters, f = item % filters;
                _tiles.Output(_mt + n * _mImage + (nint)f * _tiles.Tiles, _mFrequency, _bias is null ? 0 : _bias[f], _activation, _y + (nint)item * _outPlane);
            }
        }
    }
}
