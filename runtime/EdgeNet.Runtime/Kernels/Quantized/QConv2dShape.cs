namespace EdgeNet.Kernels.Quantized;

/// <summary>
/// Geometry of an NCHW 2-D quantized convolution. Output size per axis = ⌊(in + padBegin + padEnd − ((k − 1)·d + 1)) / s⌋ + 1.
/// Weights are [OutChannels, InChannels/Group, KH, KW]; depthwise is Group = InChannels = OutChannels/multiplier.
/// </summary>
public sealed record QConv2dShape(
    int Batch, int InChannels, int InH, int InW, int OutChannels, int KH, int KW, int Group = 1,
    int StrideH = 1, int StrideW = 1, int PadTop = 0, int PadLeft = 0, int PadBottom = 0, int PadRight = 0,
    int DilationH = 1, int DilationW = 1)
{
    public int OutH => (InH + PadTop + PadBottom - ((KH - 1) * DilationH + 1)) / StrideH + 1;
    public int OutW => (InW + PadLeft + PadRight - ((KW - 1) * DilationW + 1)) / StrideW + 1;
    public int InPerGroup => InChannels / Group;
    public int OutPerGroup => OutChannels / Group;
    /// <summary>GEMM depth per group: InChannels/Group · KH · KW.</summary>
    public int Depth => InPerGroup * KH * KW;
    public int OutPlane => OutH * OutW;
    public int InPlane => InH * InW;
    public bool IsDepthwise => Group == InChannels && Group > 1 && OutPerGroup >= 1;
    public bool IsPointwise => KH == 1 && KW == 1 && StrideH == 1 && StrideW == 1 && PadTop == 0 && PadLeft == 0 && PadBottom == 0 && PadRight == 0;

    private string Describe() =>
        $"N={Batch} C={InChannels} {InH}×{InW} → M={OutChannels} kernel {KH}×{KW} group {Group} strides {StrideH},{StrideW} pads {PadTop},{PadLeft},{PadBottom},{PadRight} dilations {DilationH},{DilationW}";

    /// <summary>Rejects inconsistent or overflowing geometry with an <see cref="InvalidModelException"/>.</summary>
    public QConv2dShape Validated()
    {
        if (Batch < 0 || InChannels <= 0 || InH <= 0 || InW <= 0 || OutChannels <= 0 || KH <= 0 || KW <= 0 || Group <= 0)
            throw new InvalidModelException($"quantized conv: bad geometry {Describe()}");
        if (InChannels % Group != 0 || OutChannels % Group != 0)
            throw new InvalidModelException($"quantized conv: channels {InChannels}→{OutChannels} not divisible by group {Group}");
        if (StrideH <= 0 || StrideW <= 0 || DilationH <= 0 || DilationW <= 0 || PadTop < 0 || PadLeft < 0 || PadBottom < 0 || PadRight < 0)
            throw new InvalidModelException($"quantized conv: bad strides/dilations/pads {Describe()}");
        if (OutH <= 0 || OutW <= 0) throw new InvalidModelException($"quantized conv: empty output for {Describe()}");
        const long limit = 1L << 29;
        if ((long)Batch * InChannels * InPlane >= limit * 4 || (long)Batch * OutChannels * OutPlane >= limit * 4 || (long)Depth * OutPlane >= limit * 4
            || (long)KH * DilationH + InH + PadTop + PadBottom >= limit || (long)KW * DilationW + InW + PadLeft + PadRight >= limit)
            throw new InvalidModelException($"quantized conv: geometry too large {Describe()}");
        return this;
    }
}

/// <summary>
/// Direct-convolution oracle: y[n, m, oh, ow] = Σ_{c, kh, kw} (x_u8 − x_zp)(w_s8 − w_zp[m]) over the group of m,
/// padding reads x_zp (contributing 0), then the <see cref="QEpilogue"/> with ch = m.
/// </summary>
public static unsafe class QConv2dReference
{
    public static void Run(QConv2dShape s, byte* x, bool xSigned, int xZeroPoint, byte* w, bool wSigned, int* weightZeroPoints, int wZpStride,
        QOutputKind output, void* y, in QEpilogue e)
    {
        int za = xSigned ? xZeroPoint + 128 : xZeroPoint;
        int oh = s.OutH, ow = s.OutW, cg = s.InPerGroup, mg = s.OutPerGroup;
        for (int n = 0; n < s.Batch; n++)
            for (int m = 0; m < s.OutChannels; m++)
            {
                int g = m / mg;
                int zwRaw = weightZeroPoints is null ? 0 : weightZeroPoints[m * wZpStride];
                int zw = wSigned ? zwRaw : zwRaw - 128;
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        int acc = 0;
                        for (int c = 0; c < cg; c++)
                            for (int kh = 0; kh < s.KH; kh++)
                                for (int kw = 0; kw < s.KW; kw++)
                                {
                                    int ih = i * s.StrideH - s.PadTop + kh * s.DilationH;
                                    int iw = j * s.StrideW - s.PadLeft + kw * s.DilationW;
                                    int a = (uint)ih < (uint)s.InH && (uint)iw < (uint)s.InW
                                        ? QMath.ActivationU8(x[(((nint)n * s.InChannels + g * cg + c) * s.InH + ih) * s.InW + iw], xSigned)
                                        : za;
                                    int wv = QMath.WeightS8(w[(((nint)m * cg + c) * s.KH + kh) * s.KW + kw], wSigned);
                                    acc += (a - za) * (wv - zw);
                                }
                        QGemmReference.Store(output, y, (((nint)n * s.OutChannels + m) * oh + i) * ow + j, acc, m, e);
                    }
            }
    }
}
