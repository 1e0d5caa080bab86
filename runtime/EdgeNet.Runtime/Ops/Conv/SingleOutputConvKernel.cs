using EdgeNet.Execution;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Conv;
using EdgeNet.Kernels.Gemm;

namespace EdgeNet.Ops.Conv;

/// <summary>
/// Conv whose output plane is a single position (a kernel that covers the whole remaining input, as the last conv of
/// openWakeWord's embedding model: 96×3×1 → 96×1×1), as one matrix-vector product per image: the patch (C·KVolume
/// values, K ordered as the weights: channel, then tap; zeros where the window reaches into the padding) is gathered
/// through an offset table built once, then <see cref="F32Gemv"/> streams the weights (packed once) with bias and
/// activation. The GEMM-shaped kernels would run a 1-column GEMM here (one lane of every tile busy). Pointwise convs
/// (one tap) keep the transposed pointwise GEMM, which reads the single position in place.
/// </summary>
internal sealed unsafe class SingleOutputConvKernel : Kernel
{
    private readonly F32Gemv _gemv;
    /// <summary>Offset of each patch element in one image of the input, or −1 in the padding.</summary>
    private readonly int[] _offsets;
    private readonly int _batch, _imageFloats, _outChannels;

    private SingleOutputConvKernel(F32Gemv gemv, int[] offsets, int batch, int imageFloats, int outChannels)
    {
        _gemv = gemv;
        _offsets = offsets;
        _batch = batch;
        _imageFloats = imageFloats;
        _outChannels = outChannels;
    }

    public static SingleOutputConvKernel? TryCreate(OpContext ctx, ConvShape s, bool hasBias, FusedActivation activation)
    {
        var g = s.Geometry;
        if (g.OutVolume != 1 || s.Group != 1 || s.Batch == 0 || s.OutChannels == 0) return null;
        // a pointwise conv on a 1×1 plane already reads its one position in place (F32ConvGemmTransposed)
        if (g.KernelVolume == 1) return null;
        if (ctx.InputConstant(1) is not { } w) return null;
        float[] bias = [];
        if (hasBias)
        {
            if (ctx.InputConstant(2) is not { } b) return null;
            bias = b.AsSpan<float>().ToArray();
        }
        int taps = g.KernelVolume, depth = s.InChannels * taps;
        var gemv = F32Gemv.Create(ctx.Isa, w.AsSpan<float>(), depth, s.OutChannels, transposed: true, 1f, bias, activation, ctx.Threads);
        if (gemv is null) return null;
        var offsets = new int[depth];
        int k = 0;
        for (int c = 0; c < s.InChannels; c++)
            for (int kd = 0; kd < g.KD; kd++)
                for (int kh = 0; kh < g.KH; kh++)
                    for (int kw = 0; kw < g.KW; kw++)
                    {
                        int d = kd * g.DD - g.PadFront, h = kh * g.DH - g.PadTop, x = kw * g.DW - g.PadLeft;
                        bool inside = (uint)d < (uint)g.InD && (uint)h < (uint)g.InH && (uint)x < (uint)g.InW;
                        offsets[k++] = inside ? ((c * g.InD + d) * g.InH + h) * g.InW + x : -1;
                    }
        return new SingleOutputConvKernel(gemv, offsets, s.Batch, s.InChannels * g.InVolume, s.OutChannels);
    }

    public override int ScratchBytes => _offsets.Length * sizeof(float);

    public override void Execute(ExecutionContext ctx)
    {
        var input = Input<float>(ctx, 0);
        var output = Output<float>(ctx, 0);
        var patch = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(Scratch)[.._offsets.Length];
        fixed (float* x = input)
        fixed (float* y = output)
        fixed (float* p = patch)
            for (int n = 0; n < _batch; n++)
            {
                float* image = x + (nint)n * _imageFloats;
                for (int k = 0; k < _offsets.Length; k++)
                {
                    int o = _offsets[k];
                    p[k] = o >= 0 ? image[o] : 0f;
                }
                _gemv.Run(ctx, p, y + (nint)n * _outChannels);
            }
    }
}
