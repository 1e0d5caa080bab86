using EdgeNet.Execution;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Conv;
using EdgeNet.Kernels.Gemm;

namespace EdgeNet.Ops.Conv;

/// <summary>
/// Stride-1 2-D (and 1-D) conv as a GEMM over shifted views of the input, with no im2col. With the input padded to
/// Hp×Wp (a zero-bordered scratch copy; read in place when there are no pads) and the output computed on the same
/// row pitch Wp, output position j = oh·Wp + ow reads input j + kh·dh·Wp + kw·dw for tap (kh, kw): per tap, the
/// B rows of the channels are the padded planes themselves, shifted. So K is ordered (tap, channel), the weights are
/// packed once in that order, and each tap is one <see cref="GemmKSegment"/> (split at the microkernel's KC).
/// Columns ow ≥ OW of each output row are computed and dropped: when Wp ≠ OW the GEMM writes a scratch matrix of
/// row pitch Wp whose rows are copied out with bias and activation; otherwise it writes the output directly.
/// The GEMM has N' = (OH−1)·Wp + OW columns, so no column reads past the last plane.
/// </summary>
internal sealed unsafe class ShiftedConvKernel : Kernel
{
    /// <summary>Fewer channels per group than this make each tap's K block too short; im2col is faster there.</summary>
    private const int MinChannels = 16;

    private readonly F32GemmDriver _driver;
    private readonly float[] _packedWeights;
    private readonly ConvShape _s;
    private readonly int _cPerGroup, _mPerGroup, _hp, _wp, _nPrime;
    private readonly bool _padded, _compact, _hasBias;
    private readonly FusedActivation _activation;
    private readonly int _width;

    private ShiftedConvKernel(F32GemmDriver driver, float[] packedWeights, ConvShape s, int hp, int wp, int nPrime, bool padded, bool compact,
        bool hasBias, FusedActivation activation, int width)
    {
        _driver = driver; _packedWeights = packedWeights; _s = s;
        _cPerGroup = s.InChannels / s.Group; _mPerGroup = s.OutChannels / s.Group;
        _hp = hp; _wp = wp; _nPrime = nPrime; _padded = padded; _compact = compact; _hasBias = hasBias;
        _activation = activation; _width = width;
    }

    public static ShiftedConvKernel? TryCreate(OpContext ctx, ConvShape s, bool hasBias, FusedActivation activation)
    {
        var g = s.Geometry;
        int cPerGroup = s.InChannels / s.Group, mPerGroup = s.OutChannels / s.Group;
        if (g.InD != 1 || g.KD != 1 || g.SH != 1 || g.SW != 1 || g.KernelVolume == 1) return null;
        if (cPerGroup < MinChannels || mPerGroup == 0 || s.Batch == 0 || g.OutVolume == 0) return null;
        if (ctx.InputConstant(1) is not { } weights) return null;
        var uk = F32GemmMicrokernel.For(ctx.Isa);
        bool padded = g.PadTop + g.PadEnd[1] + g.PadLeft + g.PadEnd[2] > 0;
        int hp = g.InH + g.PadTop + g.PadEnd[1], wp = g.InW + g.PadLeft + g.PadEnd[2];
        int nPrime = (g.OutH - 1) * wp + g.OutW;
        bool compact = wp != g.OutW;
        // the dropped columns are work too: past a third more, im2col's packing is the cheaper overhead
        if ((long)nPrime * 3 > (long)g.OutVolume * 4 + 3 * wp) return null;
        int taps = g.KernelVolume, depth = cPerGroup * taps;
        if ((long)s.Batch * s.InChannels * hp * wp > int.MaxValue / 2 || (long)s.Batch * s.OutChannels * nPrime > int.MaxValue / 2) return null;

        // weights reordered to K = (tap, channel), then packed per group
        var w = weights.AsSpan<float>();
        int groupStride = F32GemmPacking.PackedASize(mPerGroup, depth, uk.MR);
        var packed = GC.AllocateArray<float>(s.Group * groupStride, pinned: true);
        var reordered = new float[mPerGroup * depth];
        fixed (float* src = reordered)
        fixed (float* dst = packed)
            for (int grp = 0; grp < s.Group; grp++)
            {
                for (int m = 0; m < mPerGroup; m++)
                    for (int c = 0; c < cPerGroup; c++)
                        for (int t = 0; t < taps; t++)
                            reordered[m * depth + t * cPerGroup + c] = w[((grp * mPerGroup + m) * cPerGroup + c) * taps + t];
                F32GemmPacking.PackA(src, mPerGroup, depth, depth, false, 1, uk.MR, dst + (nint)grp * groupStride);
            }

        nint plane = padded ? (nint)hp * wp : g.InVolume;
        var segments = new List<GemmKSegment>();
        for (int kh = 0; kh < g.KH; kh++)
            for (int kw = 0; kw < g.KW; kw++)
            {
                int t = kh * g.KW + kw;
                nint tapOffset = (nint)kh * g.DH * wp + (nint)kw * g.DW;
                for (int c0 = 0; c0 < cPerGroup; c0 += uk.KC)
                    segments.Add(new GemmKSegment(t * cPerGroup + c0, Math.Min(uk.KC, cPerGroup - c0), tapOffset + c0 * plane, plane));
            }

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
                bOffset[t] = (int)((n * s.InChannels + grp * cPerGroup) * plane);
                cOffset[t] = (n * s.OutChannels + grp * mPerGroup) * (compact ? nPrime : g.OutVolume);
                biasOffset[t] = grp * mPerGroup;
            }
        var driver = new F32GemmDriver(uk, mPerGroup, nPrime, depth, GemmBSource.Segments, 0, null,
            aOffset, bOffset, cOffset, biasOffset, biasRowStride: 1, biasColStride: 0, compact ? FusedActivation.None : activation, ctx.Threads,
            [.. segments]);
        return new ShiftedConvKernel(driver, packed, s, hp, wp, nPrime, padded, compact, hasBias, activation, uk.VectorBits);
    }

    private int PaddedFloats => _padded ? _s.Batch * _s.InChannels * _hp * _wp : 0;
    private int CompactFloats => _compact ? _s.Batch * _s.OutChannels * _nPrime : 0;

    public override int ScratchBytes => (PaddedFloats + CompactFloats) * sizeof(float) + _driver.ScratchBytes;

    public override void Execute(ExecutionContext ctx)
    {
        var g = _s.Geometry;
        var bias = _hasBias ? Input<float>(ctx, 2) : default;
        fixed (float* x = Input<float>(ctx, 0))
        fixed (float* b = bias)
        fixed (float* y = Output<float>(ctx, 0))
        fixed (float* a = _packedWeights)
        fixed (byte* scratchBytes = Scratch)
        {
            float* scratch = (float*)scratchBytes;
            float* source = x;
            if (_padded)
            {
                source = scratch;
                Pad(x, source, _s.Batch * _s.InChannels, g);
                scratch += PaddedFloats;
            }
            if (!_compact)
            {
                _driver.Run(ctx, a, source, y, _hasBias ? b : null, 1, scratch + CompactFloats);
                return;
            }
            float* wide = scratch;
            _driver.Run(ctx, a, source, wide, null, 1, scratch + CompactFloats);
            CopyOut(wide, y, _hasBias ? b : null, g);
        }
    }

    /// <summary>Copies each plane into the middle of its Hp×Wp scratch plane and zeroes the borders.</summary>
    private void Pad(float* x, float* padded, int planes, ConvGeometry g)
    {
        int inH = g.InH, inW = g.InW, wp = _wp, top = g.PadTop, left = g.PadLeft;
        int gap = wp - inW; // right pad of one row + left pad of the next
        for (int p = 0; p < planes; p++)
        {
            float* src = x + (nint)p * inH * inW;
            float* dst = padded + (nint)p * _hp * wp;
            F32GemmEpilogue.Zero(dst, top * wp + left);
            float* row = dst + top * wp + left;
            for (int h = 0; h < inH; h++, row += wp, src += inW)
            {
                F32GemmEpilogue.Copy(src, row, inW);
                if (h < inH - 1) F32GemmEpilogue.Zero(row + inW, gap);
            }
            float* end = dst + (nint)_hp * wp;
            float* tail = row - wp + inW;
            F32GemmEpilogue.Zero(tail, (int)(end - tail));
        }
    }

    /// <summary>y[m, oh, ow] = act(wide[m, oh·Wp + ow] + bias[m]) for ow &lt; OW.</summary>
    private void CopyOut(float* wide, float* y, float* bias, ConvGeometry g)
    {
        int outH = g.OutH, outW = g.OutW, channels = _s.OutChannels;
        for (int p = 0; p < _s.Batch * channels; p++)
        {
            float* src = wide + (nint)p * _nPrime;
            float* dst = y + (nint)p * outH * outW;
            bool hasAdd = bias is not null;
            float add = hasAdd ? bias[p % channels] : 0;
            for (int oh = 0; oh < outH; oh++, src += _wp, dst += outW)
                F32GemmEpilogue.CopyRow(_width, src, dst, outW, hasAdd, add, _activation);
        }
    }
}
