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
/// (<see cref="WinogradTransform"/>). The output tiles are cut into blocks of whole tile rows, and each block runs
/// end to end on one thread, its data staying in that core's L2: (1) each channel plane's tiles of the block are
/// transformed (<see cref="F32WinogradTiles.Input"/>) into α² matrices V_f[channel × tile]; (2) α² GEMMs
/// M_f[filter × tile] = U_f[filter × channel] · V_f on the microkernel, with the filter transforms U_f = (G g Gᵀ)_f
/// packed once as A panels; (3) each filter's tiles are transformed back (<see cref="F32WinogradTiles.Output"/>) with
/// bias and the fused activation into the NCHW output. A 4×4 output tile costs 36 multiply-adds per channel pair
/// instead of 144, at the price of the transforms, of lanes lost when a block's tiles are not a multiple of the GEMM
/// panel, and of α²/9 times the weight memory: <see cref="Choose"/> weighs these per conv, <see cref="BlockRows"/>
/// picks the block height. The (image, block) items are claimed by the worker pool's threads in one parallel region;
/// each tile is computed the same way whatever block it falls in, so the result does not depend on the thread count.
/// </summary>
internal sealed unsafe class WinogradConvKernel : Kernel, IParallelWork
{
    /// <summary>Transformed weights larger than this per conv stream from memory on every run; never chosen.</summary>
    internal const long MaxWeightBytes = 8L << 20;

    /// <summary>Below about a million multiply-adds (~20 µs on one core) waking a worker costs more than it saves.</summary>
    private const long MinParallelMacs = 1 << 20;

    private readonly ConvShape _s;
    private readonly WinogradTransform _t;
    private readonly F32WinogradTiles _tiles;
    private readonly F32GemmMicrokernel _uk;
    private readonly float[] _packedWeights;
    private readonly bool _hasBias;
    private readonly FusedActivation _activation;
    private readonly int _parts, _inPlane, _outPlane, _blockRows, _blocks, _items, _stride, _packedA, _kc, _phaseFloats;
    private readonly nint _vFrequency, _mFrequency, _partFloats;

    // per run
    private float* _x, _y, _bias, _scratch, _a;
    private int _next;

    private WinogradConvKernel(ConvShape s, WinogradTransform t, F32WinogradTiles tiles, F32GemmMicrokernel uk, float[] packedWeights,
        bool hasBias, FusedActivation activation, int blockRows, int threads)
    {
        _s = s; _t = t; _tiles = tiles; _uk = uk; _packedWeights = packedWeights;
        _hasBias = hasBias; _activation = activation;
        var g = s.Geometry;
        _inPlane = g.InH * g.InW;
        _outPlane = g.OutH * g.OutW;
        _blockRows = blockRows;
        _blocks = (tiles.TilesH + blockRows - 1) / blockRows;
        _items = s.Batch * _blocks;
        _stride = BlockStride(blockRows, tiles.TilesW, tiles.Lanes, uk.NR);
        _vFrequency = FrequencyStride(s.InChannels, _stride);
        _mFrequency = FrequencyStride(s.OutChannels, _stride);
        _packedA = F32GemmPacking.PackedASize(s.OutChannels, s.InChannels, uk.MR);
        _kc = Math.Min(s.InChannels, uk.KC);
        // V and M start on a cache line (rows of a whole number of lines)
        _phaseFloats = RoundUp(tiles.PhaseFloats, 16);
        _partFloats = _phaseFloats + (_vFrequency + _mFrequency) * t.Frequencies;
        _parts = Math.Max(1, Math.Min(threads, _items));
    }

    /// <summary>Output tile side of this kernel (4: F(4,3), 2: F(2,3)).</summary>
    public int TileSize => _t.M;

    /// <summary>Tile rows per block (the last block may have fewer).</summary>
    public int TileRowsPerBlock => _blockRows;

    /// <summary>Threads a run uses.</summary>
    public int Parts => _parts;

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
    /// constant weights (null otherwise, or when the scratch would be too large), whatever the cost model says;
    /// <paramref name="blockRows"/> &gt; 0 forces the tile rows per block (tests), else <see cref="BlockRows"/> picks them.</summary>
    internal static WinogradConvKernel? Create(OpContext ctx, ConvShape s, bool hasBias, FusedActivation activation, int m, int blockRows = 0)
    {
        var g = s.Geometry;
        if (s.Group != 1 || g.Rank != 2 || g.KH != 3 || g.KW != 3 || g.SH != 1 || g.SW != 1 || g.DH != 1 || g.DW != 1) return null;
        if (s.Batch == 0 || s.InChannels == 0 || s.OutChannels == 0 || g.OutVolume == 0) return null;
        if (ctx.InputConstant(1) is not { } w) return null;
        var uk = F32GemmMicrokernel.For(ctx.Isa);
        var t = WinogradTransform.For(m);
        var tiles = new F32WinogradTiles(t, ctx.Isa, g.InH, g.InW, g.PadTop, g.PadLeft, g.OutH, g.OutW);
        int freq = t.Frequencies, filters = s.OutChannels, channels = s.InChannels;
        int threads = (long)s.Batch * filters * channels * g.OutVolume * 9 < MinParallelMacs ? 1 : ctx.Threads;
        int rows = blockRows > 0
            ? Math.Min(blockRows, tiles.TilesH)
            : BlockRows(s.Batch, tiles.TilesH, tiles.TilesW, channels, filters, m, tiles.Lanes, uk, threads);
        long stride = BlockStride(rows, tiles.TilesW, tiles.Lanes, uk.NR);
        long partFloats = RoundUp(tiles.PhaseFloats, 16) + (long)freq * (FrequencyStride(channels, (int)stride) + FrequencyStride(filters, (int)stride));
        if ((long)threads * partFloats * sizeof(float) > int.MaxValue / 2) return null;

        var u = t.TransformWeights(w.AsSpan<float>(), filters, channels);
        int packedA = F32GemmPacking.PackedASize(filters, channels, uk.MR);
        var packed = GC.AllocateArray<float>(freq * packedA, pinned: true);
        fixed (float* src = u)
        fixed (float* dst = packed)
            for (int f = 0; f < freq; f++)
                F32GemmPacking.PackA(src + (nint)f * filters * channels, filters, channels, channels, false, 1, uk.MR, dst + (nint)f * packedA);
        return new WinogradConvKernel(s, t, tiles, uk, packed, hasBias, activation, rows, threads);
    }

    /// <summary>
    /// Floats between the rows (channels of V, filters of M) of a block of <paramref name="rows"/> tile rows: its tiles
    /// rounded up to whole GEMM panels (the microkernel reads and writes whole panels in place), and at least the
    /// vector the last tile row's transform spills past the block's last tile; a multiple of 16 (a cache line).
    /// </summary>
    internal static int BlockStride(int rows, int tilesW, int lanes, int nr)
    {
        int tiles = rows * tilesW;
        int spill = tiles - tilesW + (tilesW + lanes - 1) / lanes * lanes;
        return RoundUp(Math.Max(RoundUp(tiles, nr), spill), 16);
    }

    /// <summary>
    /// Floats between the frequencies of V or M: <paramref name="rows"/> rows of <paramref name="stride"/>, plus a cache
    /// line when that is an even number of lines, so the α² stores (input transform) and loads (output transform) of
    /// one vector of tiles fall in different L1 sets (a multiple of 4 KiB made them conflict and alias: 3× slower).
    /// </summary>
    internal static nint FrequencyStride(int rows, int stride)
    {
        long floats = (long)rows * stride;
        return (nint)(floats / 16 % 2 == 0 ? floats + 16 : floats);
    }

    /// <summary>
    /// Tile rows per block: the height whose blocks, claimed in order by <paramref name="threads"/> threads, finish
    /// first by the cost model of <see cref="Choose"/> (per block: its GEMM panels, its tile rows' transforms, the
    /// transformed weights read again from L3, and the part of V and M that does not fit a 1 MiB L2, written and read
    /// back through L3); among equal times the taller block (fewer weight passes).
    /// </summary>
    internal static int BlockRows(int batch, int tilesH, int tilesW, int channels, int filters, int m, int lanes, F32GemmMicrokernel uk, int threads)
    {
        int alpha = m + 2, freq = alpha * alpha, nr = uk.NR;
        double c = channels, f = filters;
        double rowTransforms = RoundUp(tilesW, lanes) * (c * InputCost(m) + f * OutputCost(m));
        double weights = (double)freq * c * f * sizeof(float) * CostPerL3Byte;
        int best = 1;
        double bestTime = double.MaxValue;
        Span<double> free = stackalloc double[Math.Max(1, threads)];
        for (int rows = 1; rows <= tilesH; rows++)
        {
            double footprint = (double)freq * (c + f) * BlockStride(rows, tilesW, lanes, nr) * sizeof(float);
            double spill = Math.Max(0, footprint - L2Bytes) * 2 * CostPerL3Byte;
            free.Clear();
            int blocks = (tilesH + rows - 1) / rows;
            for (int item = 0; item < batch * blocks; item++)
            {
                int b = item % blocks, height = Math.Min(rows, tilesH - b * rows);
                int panels = (height * tilesW + nr - 1) / nr;
                double cost = (double)freq * c * RoundUp(filters, uk.MR) * panels * nr + height * rowTransforms + weights + spill;
                // the next item goes to the thread that is free first
                int first = 0;
                for (int i = 1; i < free.Length; i++)
                    if (free[i] < free[first]) first = i;
                free[first] += cost;
            }
            double time = 0;
            foreach (double t in free) time = Math.Max(time, t);
            if (time <= bestTime * (1 + 1e-9)) { best = rows; bestTime = Math.Min(bestTime, time); }
        }
        return best;
    }

    /// <summary>L2 bytes a block's V and M may take.</summary>
    private const double L2Bytes = 1 << 20;
    /// <summary>GEMM lanes one byte read from (or written to) L3 costs.</summary>
    private const double CostPerL3Byte = 1;

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

    public override int ScratchBytes => (int)(_parts * _partFloats * sizeof(float));

    public override void Execute(ExecutionContext ctx)
    {
        var bias = _hasBias ? Input<float>(ctx, 2) : default;
        fixed (float* x = Input<float>(ctx, 0))
        fixed (float* b = bias)
        fixed (float* y = Output<float>(ctx, 0))
        fixed (float* a = _packedWeights)
        fixed (byte* scratch = Scratch)
        {
            _x = x; _y = y; _bias = _hasBias ? b : null; _a = a;
            _scratch = (float*)scratch;
            _next = 0;
            ctx.Parallel(this, _parts, _parts);
            _x = _y = _bias = _a = _scratch = null;
        }
    }

    /// <summary>One thread: claims (image, block) items until none are left, each end to end in its own scratch.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int part)
    {
        float* phases = _scratch + part * _partFloats;
        float* v = phases + _phaseFloats;
        float* mt = v + _vFrequency * _t.Frequencies;
        int item;
        while ((item = System.Threading.Interlocked.Increment(ref _next) - 1) < _items)
        {
            int n = item / _blocks, block = item % _blocks;
            int ty0 = block * _blockRows, ty1 = Math.Min(_tiles.TilesH, ty0 + _blockRows);
            float* x = _x + (nint)n * _s.InChannels * _inPlane;
            for (int c = 0; c < _s.InChannels; c++)
                _tiles.Input(x + (nint)c * _inPlane, phases, v + (nint)c * _stride, _vFrequency, ty0, ty1);
            Gemms(v, mt, (ty1 - ty0) * _tiles.TilesW);
            float* y = _y + (nint)n * _s.OutChannels * _outPlane;
            for (int f = 0; f < _s.OutChannels; f++)
                _tiles.Output(mt + (nint)f * _stride, _mFrequency, _bias is null ? 0 : _bias[f], _activation, y + (nint)f * _outPlane, ty0, ty1);
        }
    }

    /// <summary>
    /// M_f = U_f · V_f for every frequency over a block's <paramref name="tiles"/> columns, in whole NR panels read and
    /// written in place (rows <see cref="_stride"/> apart), K in blocks of the microkernel's KC as the GEMM driver does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Gemms(float* v, float* mt, int tiles)
    {
        int filters = _s.OutChannels, channels = _s.InChannels, mr = _uk.MR, nr = _uk.NR, kc = _kc;
        nint stride = _stride;
        int columns = (tiles + nr - 1) / nr * nr;
        for (int f = 0; f < _t.Frequencies; f++)
        {
            float* a = _a + (nint)f * _packedA;
            float* b = v + f * _vFrequency;
            float* c = mt + f * _mFrequency;
            for (int k0 = 0; k0 < channels; k0 += kc)
            {
                int kb = Math.Min(kc, channels - k0);
                for (int j = 0; j < columns; j += nr)
                {
                    float* panel = b + k0 * stride + j;
                    for (int i = 0; i < filters; i += mr)
                        _uk.Run(Math.Min(mr, filters - i), kb, a + (nint)i * channels + k0 * mr, panel, stride, c + i * stride + j, stride, k0 > 0);
                }
            }
        }
    }
}
