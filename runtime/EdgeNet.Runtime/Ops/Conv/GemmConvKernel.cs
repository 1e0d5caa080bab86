using EdgeNet.Execution;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Conv;
using EdgeNet.Kernels.Gemm;

namespace EdgeNet.Ops.Conv;

/// <summary>
/// Conv as GEMM per image and group, keeping activations NCHW: Y_g[M/G × OutVolume] = W_g[M/G × C/G·KVolume] ·
/// im2col(X_g)[C/G·KVolume × OutVolume]. NCHW makes the output channel the GEMM row and the spatial position the GEMM
/// column, so the weights are the packed A side (packed once) and a 1×1, stride-1, unpadded conv reads its input
/// in place as a row-major B (C/G × H·W) with no copy. Every other conv packs im2col tiles (KC × NC) straight into
/// B panels in scratch (implicit GEMM), so memory stays at a few hundred KiB whatever the image size.
/// 1-D and 2-D convs are the canonical 3-D geometry with unit depth/height. Bias is the per-row epilogue.
/// </summary>
internal sealed unsafe class GemmConvKernel : Kernel
{
    private readonly F32GemmDriver? _driver;
    /// <summary>One group, constant weights, K ≤ <see cref="F32ConvGemm.MaxDepth"/>: tiles finished in registers.</summary>
    private readonly F32ConvGemm? _fused;
    /// <summary>One group, constant weights, pointwise on a small plane: positions broadcast as tile rows.</summary>
    private readonly F32ConvGemmTransposed? _transposed;
    private readonly F32GemmMicrokernel _uk;
    private readonly float[]? _packedWeights;
    private readonly int _groups, _rows, _depth, _groupStride;
    private readonly bool _hasBias;

    private GemmConvKernel(F32ConvGemm fused, F32GemmMicrokernel uk, bool hasBias)
    {
        _fused = fused;
        _uk = uk;
        _hasBias = hasBias;
        _groups = 1;
    }

    private GemmConvKernel(F32ConvGemmTransposed transposed, F32GemmMicrokernel uk, bool hasBias)
    {
        _transposed = transposed;
        _uk = uk;
        _hasBias = hasBias;
        _groups = 1;
    }

    private GemmConvKernel(F32GemmDriver driver, F32GemmMicrokernel uk, float[]? packedWeights, int groups, int rows, int depth, bool hasBias)
    {
        _driver = driver;
        _uk = uk;
        _packedWeights = packedWeights;
        _groups = groups;
        _rows = rows;
        _depth = depth;
        _groupStride = F32GemmPacking.PackedASize(rows, depth, uk.MR);
        _hasBias = hasBias;
    }

    /// <summary>The GEMM kernel for this conv, or null for degenerate (empty) shapes, which the reference handles.</summary>
    public static GemmConvKernel? TryCreate(OpContext ctx, ConvShape s, bool hasBias, FusedActivation activation)
    {
        var g = s.Geometry;
        int cPerGroup = s.InChannels / s.Group, mPerGroup = s.OutChannels / s.Group;
        int depth = cPerGroup * g.KernelVolume, outVolume = g.OutVolume, inVolume = g.InVolume;
        if (s.Batch == 0 || mPerGroup == 0 || depth == 0 || outVolume == 0) return null;
        var uk = F32GemmMicrokernel.For(ctx.Isa);
        bool pointwise = g.KernelVolume == 1 && g.Strides.All(v => v == 1) && g.PadBegin.All(v => v == 0) && g.PadEnd.All(v => v == 0);
        if (pointwise && s.Group == 1 && ctx.InputConstant(1) is { } pw && PreferTransposed(ctx.Isa, mPerGroup, outVolume, depth)
            && F32ConvGemmTransposed.Create(ctx.Isa, s.Batch, mPerGroup, outVolume, depth, pw.AsSpan<float>(), activation, ctx.Threads) is { } transposed)
            return new GemmConvKernel(transposed, uk, hasBias);
        if (s.Group == 1 && ctx.InputConstant(1) is { } constant
            && F32ConvGemm.Create(ctx.Isa, s.Batch, mPerGroup, outVolume, depth, s.InChannels * inVolume, pointwise ? null : new F32Im2ColPacker(g, depth, ctx.Isa),
                constant.AsSpan<float>(), activation, ctx.Threads) is { } fused)
            return new GemmConvKernel(fused, uk, hasBias);
        int groupStride = F32GemmPacking.PackedASize(mPerGroup, depth, uk.MR);
        float[]? packed = null;
        if (ctx.InputConstant(1) is { } w) packed = PackWeights(w.AsSpan<float>(), s.Group, mPerGroup, depth, uk.MR, groupStride);

        int items = s.Batch * s.Group;
        var aOffset = new int[items];
        var bOffset = new int[items];
        var cOffset = new int[items];
        var biasOffset = new int[items];
        for (int n = 0; n < s.Batch; n++)
            for (int grp = 0; grp < s.Group; grp++)
            {
                int t = n * s.Group + grp;
                aOffset[t] = grp * groupStride;
                bOffset[t] = (n * s.InChannels + grp * cPerGroup) * inVolume;
                cOffset[t] = (n * s.OutChannels + grp * mPerGroup) * outVolume;
                biasOffset[t] = grp * mPerGroup;
            }
        var driver = new F32GemmDriver(uk, mPerGroup, outVolume, depth,
            pointwise ? GemmBSource.RowMajor : GemmBSource.Tiled, inVolume, pointwise ? null : new F32Im2ColPacker(g, depth, ctx.Isa),
            aOffset, bOffset, cOffset, biasOffset, biasRowStride: 1, biasColStride: 0, activation, ctx.Threads);
        return new GemmConvKernel(driver, uk, packed, s.Group, mPerGroup, depth, hasBias);
    }

    /// <summary>
    /// Whether a pointwise conv runs as <see cref="F32ConvGemmTransposed"/> (positions as tile rows, filters as lanes)
    /// rather than <see cref="F32ConvGemm"/> (positions as lanes): by the lanes each keeps busy, the NCHW tiles
    /// rounding the positions up to whole 2-vector tiles, the transposed ones rounding the filters and paying for the
    /// transposed store of each finished tile (about <see cref="TransposeCost"/> multiply-adds per output, spread over K).
    /// </summary>
    internal static bool PreferTransposed(Isa isa, int filters, int positions, int depth)
    {
        int lanes = isa switch { Isa.Avx512 => 16, Isa.Avx2 => 8, Isa.Neon => 4, _ => 0 };
        // every filter panel reads the whole input again: only while it stays in L2
        if (lanes == 0 || depth > F32ConvGemmTransposed.MaxDepth || (long)positions * depth > MaxTransposedInput) return false;
        int nr = 2 * lanes;
        double nchw = (double)positions / RoundUp(positions, nr);
        double transposed = (double)filters / RoundUp(filters, nr) * (1 - TransposeCost / depth);
        return transposed > nchw;
    }

    /// <summary>Measured (MobileNetV2, AVX-512): K = 32 at 28×28 runs 1.6–2× slower transposed, K = 64 at 14×14 6%
    /// faster, K ≥ 96 at 14×14 and 7×7 7–20% faster.</summary>
    private const double TransposeCost = 6;

    /// <summary>Input floats (positions × K) up to which the transposed kernel is considered (512 KiB; MobileNetV2's
    /// deepest 14×14 input, 576 × 196, is 441 KiB).</summary>
    private const long MaxTransposedInput = 128 * 1024;

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    private static float[] PackWeights(ReadOnlySpan<float> w, int groups, int rows, int depth, int mr, int groupStride)
    {
        var packed = GC.AllocateArray<float>(groups * groupStride, pinned: true);
        fixed (float* src = w)
        fixed (float* dst = packed)
            for (int grp = 0; grp < groups; grp++)
                F32GemmPacking.PackA(src + (nint)grp * rows * depth, rows, depth, depth, false, 1, mr, dst + (nint)grp * groupStride);
        return packed;
    }

    /// <summary>Whether this conv runs on <see cref="F32ConvGemm"/> (tests assert the path).</summary>
    internal bool IsFused => _fused is not null || _transposed is not null;

    /// <summary>Whether this conv runs on <see cref="F32ConvGemmTransposed"/>.</summary>
    internal bool IsTransposed => _transposed is not null;

    public override int ScratchBytes => _transposed is not null ? 0 : _fused?.ScratchBytes ?? (_packedWeights is null ? _groups * _groupStride * sizeof(float) : 0) + _driver!.ScratchBytes;

    public override void Execute(ExecutionContext ctx)
    {
        var bias = _hasBias ? Input<float>(ctx, 2) : default;
        if (_transposed is not null)
        {
            fixed (float* x = Input<float>(ctx, 0))
            fixed (float* b = bias)
            fixed (float* y = Output<float>(ctx, 0))
                _transposed.Run(ctx, x, y, _hasBias ? b : null);
            return;
        }
        if (_fused is not null)
        {
            fixed (float* x = Input<float>(ctx, 0))
            fixed (float* b = bias)
            fixed (float* y = Output<float>(ctx, 0))
            fixed (byte* scratch = Scratch)
                _fused.Run(ctx, x, y, _hasBias ? b : null, (float*)scratch);
            return;
        }
        fixed (float* x = Input<float>(ctx, 0))
        fixed (float* wIn = Input<float>(ctx, 1))
        fixed (float* b = bias)
        fixed (float* y = Output<float>(ctx, 0))
        fixed (float* constWeights = _packedWeights)
        fixed (byte* scratchBytes = Scratch)
        {
            float* scratch = (float*)scratchBytes;
            float* a = constWeights;
            if (a is null)
            {
                a = scratch;
                for (int grp = 0; grp < _groups; grp++)
                    F32GemmPacking.PackA(wIn + (nint)grp * _rows * _depth, _rows, _depth, _depth, false, 1, _uk.MR, a + (nint)grp * _groupStride);
                scratch += _groups * _groupStride;
            }
            _driver!.Run(ctx, a, x, y, _hasBias ? b : null, 1, scratch);
        }
    }
}
