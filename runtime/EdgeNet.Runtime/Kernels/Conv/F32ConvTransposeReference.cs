using EdgeNet.Kernels.Activation;

namespace EdgeNet.Kernels.Conv;

/// <summary>
/// Transposed convolution (the gradient of Conv with respect to its input), scalar oracle, 1-D to 3-D spatial in the
/// canonical 3-D geometry (Geometry.In is the input, Geometry.Out the output). Scatter form: every input element adds
/// its contribution to the output window it maps to,
/// y[n, g·M/G + m, i·s − pad_begin + k·d] += x[n, c, i] · w[c, m, k]   for c in group g,
/// starting from y = bias. Positions that land outside the output (pads, or a negative end pad from output_shape) are dropped.
/// </summary>
public static class F32ConvTransposeReference
{
    public static void Run(ConvShape s, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, FusedActivation activation)
    {
        var g = s.Geometry;
        int cPerGroup = s.InChannels / s.Group, mPerGroup = s.OutChannels / s.Group;
        int inVolume = g.InVolume, outVolume = g.OutVolume, kVolume = g.KernelVolume;
        int inPlane = g.InH * g.InW, outPlane = g.OutH * g.OutW;
        for (int n = 0; n < s.Batch; n++)
            for (int m = 0; m < s.OutChannels; m++)
            {
                int group = m / mPerGroup, mInGroup = m % mPerGroup;
                var outVol = y.Slice((n * s.OutChannels + m) * outVolume, outVolume);
                outVol.Fill(bias.IsEmpty ? 0 : bias[m]);
                for (int ci = 0; ci < cPerGroup; ci++)
                {
                    int c = group * cPerGroup + ci;
                    var inVol = x.Slice((n * s.InChannels + c) * inVolume, inVolume);
                    var wk = w.Slice((c * mPerGroup + mInGroup) * kVolume, kVolume);
                    for (int kd = 0; kd < g.KD; kd++)
                        for (int kh = 0; kh < g.KH; kh++)
                            for (int kw = 0; kw < g.KW; kw++)
                            {
                                float wv = wk[(kd * g.KH + kh) * g.KW + kw];
                                int colOffset = kw * g.DW - g.PadLeft;
                                // iw contributes when 0 ≤ iw·sw + colOffset < OutW
                                int iwLo = colOffset >= 0 ? 0 : (-colOffset + g.SW - 1) / g.SW;
                                int iwHi = Math.Min(g.InW, (g.OutW - colOffset + g.SW - 1) / g.SW);
                                if (iwHi <= iwLo) continue;
                                for (int id = 0; id < g.InD; id++)
                                {
                                    int od = id * g.SD - g.PadFront + kd * g.DD;
                                    if ((uint)od >= (uint)g.OutD) continue;
                                    for (int ih = 0; ih < g.InH; ih++)
                                    {
                                        int oh = ih * g.SH - g.PadTop + kh * g.DH;
                                        if ((uint)oh >= (uint)g.OutH) continue;
                                        var inRow = inVol.Slice(id * inPlane + ih * g.InW, g.InW);
                                        var outRow = outVol.Slice(od * outPlane + oh * g.OutW, g.OutW);
                                        for (int iw = iwLo; iw < iwHi; iw++) outRow[iw * g.SW + colOffset] += wv * inRow[iw];
                                    }
                                }
                            }
                }
                activation.Apply(outVol);
            }
    }
}
