using EdgeNet.Kernels;
using EdgeNet.Kernels.Activation;

namespace EdgeNet.Training.Layers;

/// <summary>Geometry of a 2-D convolution over NCHW samples.</summary>
public readonly record struct Conv2dGeometry(int InC, int InH, int InW, int OutC, int OutH, int OutW, int KH, int KW,
    int StrideH, int StrideW, int PadTop, int PadLeft, int DilationH, int DilationW, int Groups)
{
    public int InCPerGroup => InC / Groups;
    public int OutCPerGroup => OutC / Groups;
    /// <summary>Rows of a group's im2col matrix: input channels per group × kernel taps.</summary>
    public int PatchSize => InCPerGroup * KH * KW;
    public int OutPlane => OutH * OutW;
}

/// <summary>
/// 2-D Conv (groups, depthwise, stride, padding, dilation, + bias, + fused activation) per sample and group as GEMMs
/// over an im2col matrix: Y_g = W_g·col_g. Backward: dW_g += dY_g·col_gᵀ, db = Σ dY, dcol_g = W_gᵀ·dY_g scattered
/// back (col2im) into dX. The im2col matrix is rebuilt in the backward pass instead of kept per sample.
/// </summary>
public sealed unsafe class ConvLayer : TrainLayer
{
    private readonly TrainParameter _weight;
    private readonly TrainParameter? _bias;
    private readonly FusedActivation _activation;
    private readonly Conv2dGeometry _g;
    private TrainGemm? _forward, _weightGrad, _colGrad;
    private TrainArena? _arena;
    private int _col = -1, _colDelta = -1, _preActivation = -1, _delta = -1;
    private Isa _isa;

    public ConvLayer(string name, TrainTensor input, TrainParameter weight, TrainParameter? bias, Conv2dGeometry geometry, FusedActivation activation)
        : base(name, [input], [geometry.OutC, geometry.OutH, geometry.OutW])
    {
        _weight = weight; _bias = bias; _g = geometry; _activation = activation;
        if (weight.Count != geometry.OutC * geometry.PatchSize)
            throw new ShapeInferenceException($"Conv '{name}': weights {IR.Shapes.Format(weight.Tensor.Dims)} do not match the geometry");
        if (bias is not null && bias.Count != geometry.OutC)
            throw new ShapeInferenceException($"Conv '{name}': bias of {bias.Count} values for {geometry.OutC} channels");
    }

    public Conv2dGeometry Geometry => _g;
    public override IReadOnlyList<TrainParameter> Parameters => _bias is null ? [_weight] : [_weight, _bias];

    internal override void Plan(TrainArena arena, LayerSetup setup)
    {
        _arena = arena;
        _isa = setup.Isa;
        int plane = _g.OutPlane, patch = _g.PatchSize, cog = _g.OutCPerGroup;
        _col = arena.Reserve(patch * plane);
        _colDelta = arena.Reserve(patch * plane);
        if (_activation.Kind != ActivationKind.None)
        {
            _preActivation = arena.Reserve(setup.MaxBatch * Output.SampleSize);
            _delta = arena.Reserve(setup.MaxBatch * Output.SampleSize);
        }
        _forward = new TrainGemm(_isa, cog, plane, patch, false, false, false);
        _weightGrad = new TrainGemm(_isa, cog, patch, plane, false, true, accumulate: true);
        _colGrad = new TrainGemm(_isa, patch, plane, cog, true, false, false);
    }

    public override void Forward(int batch, bool training)
    {
        int plane = _g.OutPlane, cog = _g.OutCPerGroup, patch = _g.PatchSize;
        float* z = _preActivation >= 0 ? _arena!.Pointer(_preActivation) : Output.DataPtr;
        float* col = _arena!.Pointer(_col);
        for (int n = 0; n < batch; n++)
        {
            float* x = Inputs[0].DataPtr + (nint)n * Inputs[0].SampleSize;
            float* y = z + (nint)n * Output.SampleSize;
            for (int g = 0; g < _g.Groups; g++)
            {
                Im2Col(x + (nint)g * _g.InCPerGroup * _g.InH * _g.InW, col);
                _forward!.Run(_weight.ValuePtr + (nint)g * cog * patch, col, y + (nint)g * cog * plane);
            }
            if (_bias is not null)
            {
                var b = _bias.Value;
                for (int c = 0; c < _g.OutC; c++)
                {
                    var row = new Span<float>(y + (nint)c * plane, plane);
                    float v = b[c];
                    for (int i = 0; i < row.Length; i++) row[i] += v;
                }
            }
        }
        if (_activation.Kind != ActivationKind.None)
            _activation.Apply(new ReadOnlySpan<float>(z, batch * Output.SampleSize), Output.Data(batch), _isa);
    }

    public override void Backward(int batch)
    {
        int plane = _g.OutPlane, cog = _g.OutCPerGroup, patch = _g.PatchSize;
        float* dz = Output.GradPtr;
        if (_activation.Kind != ActivationKind.None)
        {
            dz = _arena!.Pointer(_delta);
            ActivationMath.Backward(_activation, _arena.Span(_preActivation, batch * Output.SampleSize), Output.Data(batch), Output.Grad(batch),
                new Span<float>(dz, batch * Output.SampleSize), false);
        }
        _weight.Grad.Clear();
        if (_bias is not null)
        {
            var db = _bias.Grad;
            db.Clear();
            for (int n = 0; n < batch; n++)
                for (int c = 0; c < _g.OutC; c++)
                {
                    var row = new ReadOnlySpan<float>(dz + (nint)n * Output.SampleSize + (nint)c * plane, plane);
                    float s = 0;
                    foreach (float v in row) s += v;
                    db[c] += s;
                }
        }
        var input = Inputs[0];
        if (input.NeedsGrad && !input.AccumulateGrad) input.Grad(batch).Clear();
        float* col = _arena!.Pointer(_col);
        float* colDelta = _arena.Pointer(_colDelta);
        for (int n = 0; n < batch; n++)
        {
            float* x = input.DataPtr + (nint)n * input.SampleSize;
            float* dy = dz + (nint)n * Output.SampleSize;
            for (int g = 0; g < _g.Groups; g++)
            {
                nint inOffset = (nint)g * _g.InCPerGroup * _g.InH * _g.InW;
                Im2Col(x + inOffset, col);
                _weightGrad!.Run(dy + (nint)g * cog * plane, col, _weight.GradPtr + (nint)g * cog * patch);
                if (input.NeedsGrad)
                {
                    _colGrad!.Run(_weight.ValuePtr + (nint)g * cog * patch, dy + (nint)g * cog * plane, colDelta);
                    Col2ImAdd(colDelta, input.GradPtr + (nint)n * input.SampleSize + inOffset);
                }
            }
        }
    }

    /// <summary>col[(c·KH + ki)·KW + kj, oh·OutW + ow] = x[c, oh·sh − pt + ki·dh, ow·sw − pl + kj·dw] (0 outside).</summary>
    private void Im2Col(float* x, float* col)
    {
        var g = _g;
        for (int c = 0; c < g.InCPerGroup; c++)
            for (int ki = 0; ki < g.KH; ki++)
                for (int kj = 0; kj < g.KW; kj++)
                {
                    float* row = col + (nint)((c * g.KH + ki) * g.KW + kj) * g.OutPlane;
                    for (int oh = 0; oh < g.OutH; oh++)
                    {
                        int ih = oh * g.StrideH - g.PadTop + ki * g.DilationH;
                        float* dst = row + oh * g.OutW;
                        if ((uint)ih >= (uint)g.InH) { new Span<float>(dst, g.OutW).Clear(); continue; }
                        float* src = x + ((nint)c * g.InH + ih) * g.InW;
                        for (int ow = 0; ow < g.OutW; ow++)
                        {
                            int iw = ow * g.StrideW - g.PadLeft + kj * g.DilationW;
                            dst[ow] = (uint)iw < (uint)g.InW ? src[iw] : 0;
                        }
                    }
                }
    }

    private void Col2ImAdd(float* col, float* dx)
    {
        var g = _g;
        for (int c = 0; c < g.InCPerGroup; c++)
            for (int ki = 0; ki < g.KH; ki++)
                for (int kj = 0; kj < g.KW; kj++)
                {
                    float* row = col + (nint)((c * g.KH + ki) * g.KW + kj) * g.OutPlane;
                    for (int oh = 0; oh < g.OutH; oh++)
                    {
                        int ih = oh * g.StrideH - g.PadTop + ki * g.DilationH;
                        if ((uint)ih >= (uint)g.InH) continue;
                        float* dst = dx + ((nint)c * g.InH + ih) * g.InW;
                        float* src = row + oh * g.OutW;
                        for (int ow = 0; ow < g.OutW; ow++)
                        {
                            int iw = ow * g.StrideW - g.PadLeft + kj * g.DilationW;
                            if ((uint)iw < (uint)g.InW) dst[iw] += src[ow];
                        }
                    }
                }
    }
}
