using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Execution;
using EdgeNet.Execution.Threading;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Conv;
using EdgeNet.Kernels.Gemm;

namespace EdgeNet.Ops.Conv;

/// <summary>
/// Conv with few output positions and many filters (ResNet's 7×7 and 14×14 stages, MobileNet's late pointwise convs,
/// an STFT front end), as the transposed GEMM: Yᵀ_g[OutVolume × M/G] = P_g[OutVolume × C/G·KVolume] · W_gᵀ. In the
/// NCHW orientation (<see cref="GemmConvKernel"/>, <see cref="ShiftedConvKernel"/>) the positions are the GEMM columns,
/// and 49 positions in 32-wide AVX-512 panels leave a quarter of the lanes idle; here the filters fill the columns
/// and the positions the MR-row tiles. The weights are packed once as B panels; the patch matrix P is packed straight
/// into A panels per run (implicit im2col, K ordered as the weights: channel, then tap) from the input, or from a
/// zero-bordered copy when the conv pads, so every tap is a plain offset: element (position p, channel c, tap t) is
/// at c·plane + posOffset[p] + tapOffset[t]. A tile of 8 positions whose offsets run in at most two contiguous pieces
/// (stride 1, output rows of any width) packs with two vector loads and a blend per K step; a tile of 8 positions
/// whose patches are each one contiguous run (one channel, taps along the width: an STFT) packs as 8×8 register
/// transposes; other tiles gather.
/// The GEMM's tile epilogue adds the bias per column, applies the activation and stores the tile transposed into the
/// NCHW output while it is in L1 (the positions × filters matrix itself is only the K blocks' accumulator).
/// </summary>
internal sealed unsafe class SmallOutputConvKernel : Kernel, IParallelWork
{
    /// <summary>Tiles of 8 positions the vector packer takes: two contiguous pieces, split at <see cref="_split"/>.</summary>
    private const int VectorTile = 8;

    private readonly ConvShape _s;
    private readonly F32GemmDriver _driver;
    private readonly float[] _packedWeights;
    private readonly int _depth, _cPer, _mPer, _positions, _mr, _tiles, _packedA, _items, _taps, _dp, _hp, _wp;
    private readonly nint _plane;
    private readonly bool _hasBias, _padded;
    private readonly int[] _posOffset, _tapOffset, _yOffset;
    // per tile: start offset, gap between the two pieces, positions in the first piece (0: gather)
    private readonly int[] _start, _gap, _split;
    // per tile: distance between consecutive positions when each position's patch is contiguous (-1: not)
    private readonly int[] _rowStride;

    // per run
    private float* _source, _aPacked;

    private SmallOutputConvKernel(ConvShape s, F32GemmDriver driver, F32GemmMicrokernel uk, float[] packedWeights, bool hasBias)
    {
        var g = s.Geometry;
        _s = s;
        _driver = driver;
        _packedWeights = packedWeights;
        _cPer = s.InChannels / s.Group;
        _mPer = s.OutChannels / s.Group;
        _taps = g.KernelVolume;
        _depth = _cPer * _taps;
        _positions = g.OutVolume;
        _mr = uk.MR;
        _tiles = (_positions + _mr - 1) / _mr;
        _packedA = F32GemmPacking.PackedASize(_positions, _depth, _mr);
        _items = s.Batch * s.Group;
        _hasBias = hasBias;
        _padded = g.PadBegin.Any(v => v != 0) || g.PadEnd.Any(v => v != 0);
        _dp = g.InD + g.PadFront + g.PadEnd[0];
        _hp = g.InH + g.PadTop + g.PadEnd[1];
        _wp = g.InW + g.PadLeft + g.PadEnd[2];
        _plane = _padded ? (nint)_dp * _hp * _wp : g.InVolume;
        (_posOffset, _tapOffset) = Offsets(g, _hp, _wp);
        _yOffset = new int[_items];
        for (int t = 0; t < _items; t++) _yOffset[t] = (t / s.Group * s.OutChannels + t % s.Group * _mPer) * _positions;
        _start = new int[_tiles];
        _gap = new int[_tiles];
        _split = new int[_tiles];
        if (_mr == VectorTile && Vector256.IsHardwareAccelerated)
            for (int t = 0; t < _tiles; t++) (_start[t], _gap[t], _split[t]) = TwoPieces(_posOffset, t * _mr, _positions);
        _rowStride = new int[_tiles];
        Array.Fill(_rowStride, -1);
        if (ContiguousPatches(s, uk))
            for (int t = 0; (t + 1) * _mr <= _positions; t++)
            {
                int p0 = t * _mr, stride = _posOffset[p0 + 1] - _posOffset[p0];
                bool uniform = stride >= 0;
                for (int r = 2; r < _mr && uniform; r++) uniform = _posOffset[p0 + r] - _posOffset[p0] == r * stride;
                if (uniform) _rowStride[t] = stride;
            }
    }

    /// <summary>Offset of each output position's first tap and of each tap, in the (padded) input volume of pitch hp×wp.</summary>
    private static (int[] Positions, int[] Taps) Offsets(ConvGeometry g, int hp, int wp)
    {
        var positions = new int[g.OutVolume];
        int p = 0;
        for (int od = 0; od < g.OutD; od++)
            for (int oh = 0; oh < g.OutH; oh++)
                for (int ow = 0; ow < g.OutW; ow++)
                    positions[p++] = (od * g.SD * hp + oh * g.SH) * wp + ow * g.SW;
        var taps = new int[g.KernelVolume];
        int t = 0;
        for (int kd = 0; kd < g.KD; kd++)
            for (int kh = 0; kh < g.KH; kh++)
                for (int kw = 0; kw < g.KW; kw++)
                    taps[t++] = (kd * g.DD * hp + kh * g.DH) * wp + kw * g.DW;
        return (positions, taps);
    }

    /// <summary>
    /// Whether each position's patch (one channel per group, taps along the width, no dilation) is a contiguous run of
    /// the input, as for an STFT front end's 512 taps: a tile of 8 positions then packs as 8×8 register transposes.
    /// </summary>
    private static bool ContiguousPatches(ConvShape s, F32GemmMicrokernel uk)
    {
        var g = s.Geometry;
        return uk.MR == VectorTile && Avx.IsSupported && s.InChannels / s.Group == 1 && g.KD == 1 && g.KH == 1 && g.DW == 1;
    }

    /// <summary>
    /// (start, gap, split) when the 8 positions from p0 are at start + r (r &lt; split) and start + gap + r (r ≥ split),
    /// gap ≥ 0; split 0 when they are not (or the tile is partial).
    /// </summary>
    private static (int, int, int) TwoPieces(int[] offsets, int p0, int count)
    {
        if (p0 + VectorTile > count) return (0, 0, 0);
        int start = offsets[p0], split = 1;
        while (split < VectorTile && offsets[p0 + split] == start + split) split++;
        int gap = split < VectorTile ? offsets[p0 + split] - start - split : 0;
        if (gap < 0) return (0, 0, 0);
        for (int r = split; r < VectorTile; r++)
            if (offsets[p0 + r] != start + gap + r) return (0, 0, 0);
        return (start, gap, split);
    }

    /// <summary>
    /// This kernel when the weights are constant, the filters of a group fill at least one microkernel panel, and the
    /// transposed GEMM wastes fewer lanes than the NCHW one (<see cref="Prefer"/>); otherwise null. A single position
    /// (a squeeze-excite FC on a 1×1 map) stays with <see cref="GemmConvKernel"/>: as a one-row tile here its K would
    /// be summed in another order, and the quantizer's measurements on such nets depend on the last bits.
    /// </summary>
    public static SmallOutputConvKernel? TryCreate(OpContext ctx, ConvShape s, bool hasBias, FusedActivation activation)
    {
        var uk = F32GemmMicrokernel.For(ctx.Isa);
        if (!Prefer(s, uk)) return null;
        if (ctx.InputConstant(1) is not { } w) return null;
        var g = s.Geometry;
        int cPer = s.InChannels / s.Group, mPer = s.OutChannels / s.Group, depth = cPer * g.KernelVolume, positions = g.OutVolume;
        int items = s.Batch * s.Group, packedA = F32GemmPacking.PackedASize(positions, depth, uk.MR);
        long padded = (long)s.Batch * s.InChannels * (g.InD + g.PadFront + g.PadEnd[0]) * (g.InH + g.PadTop + g.PadEnd[1]) * (g.InW + g.PadLeft + g.PadEnd[2]);
        if ((long)items * packedA > int.MaxValue / 2 || (long)items * positions * mPer > int.MaxValue / 2 || padded > int.MaxValue / 2) return null;
        int bStride = F32GemmPacking.PackedBSize(depth, mPer, uk.NR);
        var packed = GC.AllocateArray<float>(s.Group * bStride, pinned: true);
        fixed (float* src = w.AsSpan<float>())
        fixed (float* dst = packed)
            for (int grp = 0; grp < s.Group; grp++)
                F32GemmPacking.PackB(src + (nint)grp * mPer * depth, depth, mPer, depth, transposed: true, uk.NR, dst + (nint)grp * bStride);
        var aOffset = new int[items];
        var bOffset = new int[items];
        var cOffset = new int[items];
        var biasOffset = new int[items];
        for (int t = 0; t < items; t++)
        {
            int grp = t % s.Group;
            aOffset[t] = t * packedA;
            bOffset[t] = grp * bStride;
            cOffset[t] = t * positions * mPer;
            biasOffset[t] = grp * mPer;
        }
        var driver = new F32GemmDriver(uk, positions, mPer, depth, GemmBSource.Packed, mPer, null,
            aOffset, bOffset, cOffset, biasOffset, biasRowStride: 0, biasColStride: 1, activation, ctx.Threads,
            maxKc: 4 * uk.KC);
        return new SmallOutputConvKernel(s, driver, uk, packed, hasBias);
    }

    /// <summary>
    /// Whether the transposed GEMM beats the NCHW one for this shape, by the share of microkernel lanes each keeps
    /// busy: positions over MR-row tiles times filters over NR-column panels here, against positions (or the shifted
    /// kernel's wider rows) over NR-column panels times filters over MR-row tiles there. Packing the patches costs
    /// about <see cref="PackCost"/> multiply-add lanes per patch element (spread over the filters), storing a tile
    /// transposed about <see cref="TransposeCost"/> per output element (spread over K), and the NCHW path's partial
    /// last panel and im2col tiles cost their own share (<see cref="NchwOverhead"/>).
    /// </summary>
    /// <summary>Positions from which a one-group pointwise conv stays NCHW (<see cref="F32ConvGemm"/>).</summary>
    internal const int FusedMinPositions = 128;

    internal static bool Prefer(ConvShape s, F32GemmMicrokernel uk)
    {
        var g = s.Geometry;
        int cPer = s.InChannels / s.Group, mPer = s.OutChannels / s.Group, positions = g.OutVolume, depth = cPer * g.KernelVolume;
        if (s.Batch == 0 || mPer < uk.NR || depth == 0 || positions < 2) return false;
        int mr = uk.MR, nr = uk.NR;
        double here = (double)positions / RoundUp(positions, mr) * mPer / RoundUp(mPer, nr)
            * (1 - PackCost(uk, s) / mPer) * (1 - TransposeCost(uk) / depth);
        int columns = positions;
        bool pointwise = g.KernelVolume == 1 && g.Strides.All(v => v == 1) && g.PadBegin.All(v => v == 0) && g.PadEnd.All(v => v == 0);
        bool shifted = g.InD == 1 && g.KD == 1 && g.SH == 1 && g.SW == 1 && g.KernelVolume > 1 && cPer >= 16;
        if (shifted) columns = (g.OutH - 1) * (g.InW + g.PadLeft + g.PadEnd[2]) + g.OutW; // the shifted kernel's rows
        double nchw = (double)positions / RoundUp(columns, nr) * mPer / RoundUp(mPer, mr) * (1 - NchwOverhead(columns, nr))
            * (pointwise || shifted ? 1 : 1 - Im2ColCost / mPer);
        // the NCHW pointwise GEMM that finishes tiles in registers (F32ConvGemm) beats the transposed one once the
        // positions fill a few column panels (MobileNetV2 at 14×14: 10-15% faster; at 7×7 the transposed one wins)
        if (pointwise && s.Group == 1 && depth <= F32ConvGemm.MaxDepth && positions >= FusedMinPositions) return false;
        // one-group pointwise convs on small planes: F32ConvGemmTransposed (GemmConvKernel) broadcasts the positions
        // straight from the input, no patch packing and no second pass over the tile
        if (pointwise && s.Group == 1 && depth <= F32ConvGemmTransposed.MaxDepth && uk.VectorBits > 0) return false;
        return here > nchw;
    }

    /// <summary>Multiply-add lanes one packed patch element costs: a vector of 8 per two loads and a blend when the
    /// width stride is 1 (most tiles are two contiguous pieces), 8×8 transposes for contiguous patches, else a scalar gather.</summary>
    private static double PackCost(F32GemmMicrokernel uk, ConvShape s) =>
        uk.MR == VectorTile && Vector256.IsHardwareAccelerated && s.Geometry.SW == 1 ? 4 : ContiguousPatches(s, uk) ? 8 : 32;

    /// <summary>Multiply-add lanes one output element's transposed store costs (8×8 register transposes, else scalar).</summary>
    private static double TransposeCost(F32GemmMicrokernel uk) => uk.MR == 8 && Avx.IsSupported ? 8 : 32;

    /// <summary>Multiply-add lanes one element of the NCHW path's im2col B panels costs (spread over the filters).</summary>
    private const double Im2ColCost = 8;

    /// <summary>The NCHW path's partial last panel goes through a temporary tile on every K block.</summary>
    private static double NchwOverhead(int columns, int nr) => columns % nr == 0 ? 0 : 0.25 / ((columns + nr - 1) / nr);

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    private int PaddedFloats => _padded ? (int)(_s.Batch * _s.InChannels * _plane) : 0;
    private int TransposedFloats => _items * _positions * _mPer;

    public override int ScratchBytes => (_items * _packedA + PaddedFloats + TransposedFloats) * sizeof(float) + _driver.ScratchBytes;

    public override void Execute(ExecutionContext ctx)
    {
        var bias = _hasBias ? Input<float>(ctx, 2) : default;
        fixed (float* x = Input<float>(ctx, 0))
        fixed (float* y = Output<float>(ctx, 0))
        fixed (float* b = bias)
        fixed (float* weights = _packedWeights)
        fixed (byte* scratchBytes = Scratch)
        {
            float* packedA = (float*)scratchBytes;
            float* padded = packedA + (nint)_items * _packedA;
            float* transposed = padded + PaddedFloats;
            float* driverScratch = transposed + TransposedFloats;
            _source = x;
            if (_padded)
            {
                Pad(x, padded);
                _source = padded;
            }
            _aPacked = packedA;
            int parts = _items * _tiles;
            ctx.Parallel(this, parts, _driver.Threads);
            _driver.RunTransposed(ctx, packedA, weights, transposed, _hasBias ? b : null, driverScratch, y, _yOffset, _positions);
        }
    }

    /// <summary>Packs the A panel of one position tile of one (image, group) item.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int part)
    {
        int item = part / _tiles, tile = part % _tiles;
        int n = item / _s.Group, grp = item % _s.Group;
        float* src = _source + (n * _s.InChannels + grp * _cPer) * _plane;
        float* dst = _aPacked + (nint)item * _packedA + (nint)tile * _mr * _depth;
        int[] taps = _tapOffset;
        int split = _split[tile];
        if (split > 0)
        {
            float* origin = src + _start[tile];
            nint gap = _gap[tile];
            if (split == VectorTile)
            {
                for (int c = 0; c < _cPer; c++, origin += _plane)
                    for (int t = 0; t < taps.Length; t++, dst += VectorTile)
                        Vector256.Store(Vector256.Load(origin + taps[t]), dst);
                return;
            }
            var second = Vector256.GreaterThanOrEqual(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(split)).AsSingle();
            for (int c = 0; c < _cPer; c++, origin += _plane)
                for (int t = 0; t < taps.Length; t++, dst += VectorTile)
                {
                    float* p = origin + taps[t];
                    Vector256.Store(Vector256.ConditionalSelect(second, Vector256.Load(p + gap), Vector256.Load(p)), dst);
                }
            return;
        }
        if (_rowStride[tile] >= 0)
        {
            // one channel, contiguous taps: row r of the tile is the run at its position; A is its transpose
            F32GemmEpilogue.TransposeTile(src + _posOffset[tile * _mr], _rowStride[tile], _mr, _depth, dst, _mr);
            return;
        }
        int p0 = tile * _mr, rows = Math.Min(_mr, _positions - p0), mr = _mr;
        int* pos = stackalloc int[mr];
        for (int r = 0; r < rows; r++) pos[r] = _posOffset[p0 + r];
        for (int c = 0; c < _cPer; c++, src += _plane)
            for (int t = 0; t < taps.Length; t++, dst += mr)
            {
                float* p = src + taps[t];
                int r = 0;
                for (; r < rows; r++) dst[r] = p[pos[r]];
                for (; r < mr; r++) dst[r] = 0;
            }
    }

    /// <summary>Copies each input volume into the middle of its zeroed Dp×Hp×Wp scratch volume.</summary>
    private void Pad(float* x, float* padded)
    {
        var g = _s.Geometry;
        int volumes = _s.Batch * _s.InChannels;
        F32GemmEpilogue.Zero(padded, (int)(volumes * _plane));
        for (int v = 0; v < volumes; v++)
        {
            float* src = x + (nint)v * g.InVolume;
            float* dst = padded + v * _plane + ((nint)g.PadFront * _hp + g.PadTop) * _wp + g.PadLeft;
            for (int d = 0; d < g.InD; d++)
                for (int h = 0; h < g.InH; h++, src += g.InW)
                    F32GemmEpilogue.Copy(src, dst + ((nint)d * _hp + h) * _wp, g.InW);
        }
    }

}
