using EdgeNet.Execution;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Conv;
using EdgeNet.Kernels.Gemm;

namespace EdgeNet.Ops.Conv;

/// <summary>
/// Conv with few output positions and many filters (an STFT front end on an 80 ms chunk: 5 positions, 257 filters
/// of 512 taps), as the transposed GEMM: Yᵀ_g[OutVolume × M/G] = P_g[OutVolume × C/G·KVolume] · W_gᵀ. In the NCHW
/// orientation (<see cref="GemmConvKernel"/>) the positions are the GEMM columns, and 5 of a 32-wide AVX-512 panel
/// leaves most lanes idle; here the filters fill the columns. The weights are packed once as B panels; the patch
/// matrix P (im2col, one row per output position) is built and packed as A per run — O(positions · K), small by
/// choice — and the GEMM's tile epilogue adds the bias per column and applies the activation; the result is
/// transposed into NCHW.
/// </summary>
internal sealed unsafe class SmallOutputConvKernel : Kernel
{
    private readonly ConvShape _s;
    private readonly F32GemmDriver _driver;
    private readonly F32GemmMicrokernel _uk;
    private readonly float[] _packedWeights;
    private readonly int _depth, _mPer, _positions, _packedA, _items;
    private readonly bool _hasBias;

    private SmallOutputConvKernel(ConvShape s, F32GemmDriver driver, F32GemmMicrokernel uk, float[] packedWeights, int depth, bool hasBias)
    {
        _s = s;
        _driver = driver;
        _uk = uk;
        _packedWeights = packedWeights;
        _depth = depth;
        _mPer = s.OutChannels / s.Group;
        _positions = s.Geometry.OutVolume;
        _packedA = F32GemmPacking.PackedASize(_positions, depth, uk.MR);
        _items = s.Batch * s.Group;
        _hasBias = hasBias;
    }

    /// <summary>
    /// This kernel when the output positions fill at most half a microkernel panel while the filters of a group fill
    /// at least one, and the weights are constant; otherwise null. A single position (a squeeze-excite FC on a 1×1
    /// map) stays with <see cref="GemmConvKernel"/>: as a one-row tile here its K would be summed in another order,
    /// and the quantizer's measurements on such nets depend on the last bits.
    /// </summary>
    public static SmallOutputConvKernel? TryCreate(OpContext ctx, ConvShape s, bool hasBias, FusedActivation activation)
    {
        var g = s.Geometry;
        var uk = F32GemmMicrokernel.For(ctx.Isa);
        int cPer = s.InChannels / s.Group, mPer = s.OutChannels / s.Group, depth = cPer * g.KernelVolume, positions = g.OutVolume;
        if (s.Batch == 0 || mPer < uk.NR || depth == 0 || positions < 2 || positions > uk.NR / 2) return null;
        if (ctx.InputConstant(1) is not { } w) return null;
        int bStride = F32GemmPacking.PackedBSize(depth, mPer, uk.NR);
        var packed = GC.AllocateArray<float>(s.Group * bStride, pinned: true);
        fixed (float* src = w.AsSpan<float>())
        fixed (float* dst = packed)
            for (int grp = 0; grp < s.Group; grp++)
                F32GemmPacking.PackB(src + (nint)grp * mPer * depth, depth, mPer, depth, transposed: true, uk.NR, dst + (nint)grp * bStride);
        int items = s.Batch * s.Group, packedA = F32GemmPacking.PackedASize(positions, depth, uk.MR);
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
            aOffset, bOffset, cOffset, biasOffset, biasRowStride: 0, biasColStride: 1, activation, ctx.Threads);
        return new SmallOutputConvKernel(s, driver, uk, packed, depth, hasBias);
    }

    private int PatchFloats => _positions * _depth;
    private int TransposedFloats => _items * _positions * _mPer;

    public override int ScratchBytes => (_items * _packedA + PatchFloats + TransposedFloats) * sizeof(float) + _driver.ScratchBytes;

    public override void Execute(ExecutionContext ctx)
    {
        var bias = _hasBias ? Input<float>(ctx, 2) : default;
        var x = Input<float>(ctx, 0);
        var y = Output<float>(ctx, 0);
        var g = _s.Geometry;
        int cPer = _s.InChannels / _s.Group, inVolume = g.InVolume;
        fixed (float* b = bias)
        fixed (float* weights = _packedWeights)
        fixed (byte* scratchBytes = Scratch)
        {
            float* packedA = (float*)scratchBytes;
            float* patches = packedA + (nint)_items * _packedA;
            float* transposed = patches + PatchFloats;
            float* driverScratch = transposed + TransposedFloats;
            for (int t = 0; t < _items; t++)
            {
                int n = t / _s.Group, grp = t % _s.Group;
                Patches(x.Slice((n * _s.InChannels + grp * cPer) * inVolume, cPer * inVolume), cPer, new Span<float>(patches, PatchFloats));
                F32GemmPacking.PackA(patches, _positions, _depth, _depth, false, 1, _uk.MR, packedA + (nint)t * _packedA);
            }
            _driver.Run(ctx, packedA, weights, transposed, _hasBias ? b : null, 1, driverScratch);
            for (int t = 0; t < _items; t++)
            {
                int n = t / _s.Group, grp = t % _s.Group;
                var yt = y.Slice((n * _s.OutChannels + grp * _mPer) * _positions, _mPer * _positions);
                var ct = new ReadOnlySpan<float>(transposed + (nint)t * _positions * _mPer, _positions * _mPer);
                for (int p = 0; p < _positions; p++)
                    for (int m = 0; m < _mPer; m++) yt[m * _positions + p] = ct[p * _mPer + m];
            }
        }
    }

    /// <summary>im2col with one row per output position: row p, column (c, kd, kh, kw) = the input tap, 0 outside.</summary>
    private void Patches(ReadOnlySpan<float> x, int channels, Span<float> patches)
    {
        var g = _s.Geometry;
        int row = 0;
        for (int od = 0; od < g.OutD; od++)
            for (int oh = 0; oh < g.OutH; oh++)
                for (int ow = 0; ow < g.OutW; ow++, row++)
                {
                    var dst = patches.Slice(row * _depth, _depth);
                    int col = 0;
                    for (int c = 0; c < channels; c++)
                        for (int kd = 0; kd < g.KD; kd++)
                        {
                            int id = od * g.SD - g.PadFront + kd * g.DD;
                            for (int kh = 0; kh < g.KH; kh++)
                            {
                                int ih = oh * g.SH - g.PadTop + kh * g.DH;
                                bool rowInside = (uint)id < (uint)g.InD && (uint)ih < (uint)g.InH;
                                int rowBase = ((c * g.InD + id) * g.InH + ih) * g.InW;
                                int iw0 = ow * g.SW - g.PadLeft;
                                if (rowInside && g.DW == 1 && iw0 >= 0 && iw0 + g.KW <= g.InW)
                                {
                                    x.Slice(rowBase + iw0, g.KW).CopyTo(dst.Slice(col, g.KW));
                                    col += g.KW;
                                    continue;
                                }
                                for (int kw = 0; kw < g.KW; kw++, col++)
                                {
                                    int iw = iw0 + kw * g.DW;
                                    dst[col] = rowInside && (uint)iw < (uint)g.InW ? x[rowBase + iw] : 0f;
                                }
                            }
                        }
                }
    }
}
