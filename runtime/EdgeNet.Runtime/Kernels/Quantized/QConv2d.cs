using ExecutionContext = EdgeNet.Execution.ExecutionContext;

namespace EdgeNet.Kernels.Quantized;

/// <summary>
/// Quantized NCHW 2-D convolution (QLinearConv / ConvInteger / the folded QDQ conv), prepared once:
/// <list type="bullet">
/// <item>depthwise with one filter per channel: <see cref="QDepthwiseConvX86"/> (byte plane, vpdpbusd / vpmaddwd) on the
/// x86 variants where its gathers fit, else <see cref="QDepthwiseConv"/> (int32 plane, 3×3 specialised);</item>
/// <item>3×3 stride-1 convs (group 1, symmetric weights, Cin ≥ 32) on the Avx2 variant, or on any x86 variant when
/// the session allows 512-bit vectors (<c>vector512</c>, Isa.Avx512): <see cref="QWinogradConv"/> (exact integer
/// Winograd F(2×2, 3×3), 256- or 512-bit vpmaddwd);</item>
/// <item>stride-1 convs (group 1, symmetric weights) on the x86 tiles: <see cref="QShiftedConv"/> (shifted views of a
/// zero-point-padded plane, no im2col);</item>
/// <item>everything else: per image and group, the <see cref="QGemm"/> in <see cref="QGemmOrientation.WeightsLeft"/>
/// form, Y_g[Cout/G × OH·OW] = W_g · im2col(X_g); a pointwise (1×1, stride 1, no pad) conv reads X directly as a
/// row-major [Cin/G × H·W] matrix (<see cref="QColumnsPacker"/>), others gather im2col tiles (<see cref="QIm2ColPacker"/>).</item>
/// </list>
/// Weights are [Cout, Cin/G, KH, KW], int8 or uint8, zero point per tensor or per output channel. Epilogue
/// parameters index the global output channel.
/// </summary>
public sealed unsafe class QConv2d
{
    private readonly QConv2dShape _s;
    private readonly QGemm[]? _gemms;
    private readonly QDepthwiseConv? _depthwise;
    private readonly QDepthwiseConvX86? _depthwiseX86;
    private readonly QShiftedConv? _shifted;
    private readonly QWinogradConv? _winograd;
    private readonly QOutputKind _output;
    private readonly int _outBytes;

    public QConv2d(QVariant variant, QConv2dShape shape, ReadOnlySpan<byte> weights, bool weightsSigned, ReadOnlySpan<int> weightZeroPoints,
        bool inputSigned, QOutputKind output, int threads, bool vector512 = false)
    {
        _s = shape.Validated();
        _output = output;
        _outBytes = output switch { QOutputKind.Int32 or QOutputKind.Float32 => 4, _ => 1 };
        int mg = _s.OutPerGroup, depth = _s.Depth;
        if (weights.Length < (long)_s.OutChannels * depth) throw new InvalidModelException($"quantized conv: weights hold {weights.Length} values, need {(long)_s.OutChannels * depth}");
        if (weightZeroPoints.Length > 1 && weightZeroPoints.Length != _s.OutChannels)
            throw new InvalidModelException($"quantized conv: {weightZeroPoints.Length} weight zero points for {_s.OutChannels} channels");
        if (_s.IsDepthwise && mg == 1)
        {
            _depthwise = new QDepthwiseConv(_s, weights, weightsSigned, weightZeroPoints, inputSigned, output, threads);
            _depthwiseX86 = QDepthwiseConvX86.TryCreate(variant, _s, _depthwise.TapWeights, inputSigned, output, threads);
            return;
        }
        if (QWinogradConv.Applies(variant, _s, weightsSigned, weightZeroPoints, vector512))
        {
            _winograd = new QWinogradConv(_s, weights, weightsSigned, inputSigned, output, threads, vector512);
            return;
        }
        if (QShiftedConv.Applies(variant, _s, weightsSigned, weightZeroPoints))
        {
            _shifted = new QShiftedConv(variant, _s, weights, weightsSigned, weightZeroPoints, inputSigned, output, threads);
            return;
        }
        QActivationPacker packer = _s.IsPointwise ? QColumnsPacker.Instance : new QIm2ColPacker(_s);
        _gemms = new QGemm[_s.Group];
        for (int g = 0; g < _s.Group; g++)
        {
            var zps = weightZeroPoints.Length > 1 ? weightZeroPoints.Slice(g * mg, mg) : weightZeroPoints;
            var packed = QPackedWeights.PackRows(variant, QGemmOrientation.WeightsLeft, weights.Slice(g * mg * depth, mg * depth), weightsSigned, mg, depth, zps);
            _gemms[g] = new QGemm(packed, _s.OutPlane, inputSigned, output, threads, packer, vector512);
        }
    }

    public QConv2dShape Shape => _s;

    /// <summary>True when this conv runs on <see cref="QWinogradConv"/>.</summary>
    internal bool UsesWinograd => _winograd is not null;

    /// <summary>True when this conv runs on <see cref="QShiftedConv"/> (no im2col).</summary>
    internal bool UsesShiftedViews => _shifted is not null;

    /// <summary>Scratch bytes a run needs.</summary>
    public int ScratchBytes => _winograd?.ScratchBytes ?? _shifted?.ScratchBytes ?? _depthwiseX86?.ScratchBytes ?? _depthwise?.ScratchBytes ?? _gemms!.Max(g => g.ScratchBytes);

    /// <summary>Runs the conv: x [N, Cin, H, W], y [N, Cout, OH, OW] of the output kind. ctx may be null (one thread).</summary>
    public void Run(ExecutionContext? ctx, byte* x, int xZeroPoint, void* y, in QEpilogue e, byte* scratch)
    {
        if (_winograd is not null) { _winograd.Run(ctx, x, xZeroPoint, y, e, scratch); return; }
        if (_shifted is not null) { _shifted.Run(ctx, x, xZeroPoint, y, e, scratch); return; }
        if (_depthwiseX86 is not null) { _depthwiseX86.Run(ctx, x, xZeroPoint, y, e, scratch); return; }
        if (_depthwise is not null) { _depthwise.Run(ctx, x, xZeroPoint, y, e, scratch); return; }
        int mg = _s.OutPerGroup, cg = _s.InPerGroup;
        for (int n = 0; n < _s.Batch; n++)
            for (int g = 0; g < _s.Group; g++)
            {
                var ge = e;
                int c0 = g * mg;
                if (ge.Bias is not null) ge.Bias += c0;
                if (ge.FloatBias is not null) ge.FloatBias += c0;
                ge.Multiplier += c0 * ge.MultiplierStride;
                byte* xg = x + ((nint)n * _s.InChannels + g * cg) * _s.InPlane;
                byte* yg = (byte*)y + ((nint)n * _s.OutChannels + c0) * _s.OutPlane * _outBytes;
                _gemms![g].Run(ctx, xg, _s.InPlane, xZeroPoint, yg, _s.OutPlane, ge, scratch);
            }
    }
}
