using EdgeNet.Kernels.Activation;
using EdgeNet.Ops.Conv;

namespace EdgeNet.Kernels.Conv;

/// <summary>Shape of one N·C·spatial convolution (1-D to 3-D spatial, held in the canonical 3-D geometry).</summary>
public sealed record ConvShape(int Batch, int InChannels, int OutChannels, int Group, ConvGeometry Geometry);

/// <summary>
/// Direct convolution, the scalar oracle, written for 3-D (1-D and 2-D are 3-D with unit depth/height):
/// y[n,m,od,oh,ow] = b[m] + Σ_{c,kd,kh,kw} x[n, g·C/G + c, od·sd − pf + kd·dd, oh·sh − pt + kh·dh, ow·sw − pl + kw·dw] · w[m,c,kd,kh,kw].
/// Loops run over whole output rows with the valid ow range computed up front, so there is no per-element bounds test.
/// </summary>
public static class F32ConvReference
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
                int group = m / mPerGroup;
                var outVol = y.Slice((n * s.OutChannels + m) * outVolume, outVolume);
                outVol.Fill(bias.IsEmpty ? 0 : bias[m]);
                for (int c = 0; c < cPerGroup; c++)
                {
                    var inVol = x.Slice((n * s.InChannels + group * cPerGroup + c) * inVolume, inVolume);
                    var wk = w.Slice((m * cPerGroup + c) * kVolume, kVolume);
                    for (int kd = 0; kd < g.KD; kd++)
                        for (int kh = 0; kh < g.KH; kh++)
                            for (int kw = 0; kw < g.KW; kw++)
                            {
                                float wv = wk[(kd * g.KH + kh) * g.KW + kw];
                                int colOffset = kw * g.DW - g.PadLeft;
                                // ow valid when 0 ≤ ow·sw + colOffset < InW
                                int owLo = colOffset >= 0 ? 0 : (-colOffset + g.SW - 1) / g.SW;
                                int owHi = Math.Min(g.OutW, (g.InW - colOffset + g.SW - 1) / g.SW);
                                if (owHi <= owLo) continue;
                                for (int od = 0; od < g.OutD; od++)
                                {
                                    int id = od * g.SD - g.PadFront + kd * g.DD;
                                    if ((uint)id >= (uint)g.InD) continue;
                                    for (int oh = 0; oh < g.OutH; oh++)
                                    {
                                        int ih = oh * g.SH - g.PadTop + kh * g.DH;
                                        if ((uint)ih >= (uint)g.InH) continue;
                                        var inRow = inVol.Slice(id * inPlane + ih * g.InW, g.InW);
                                        var outRow = outVol.Slice(od * outPlane + oh * g.OutW, g.OutW);
                                        if (g.SW == 1)
                                            for (int ow = owLo; ow < owHi; ow++) outRow[ow] += wv * inRow[ow + colOffset];
                                        else
                                            for (int ow = owLo; ow < owHi; ow++) outRow[ow] += wv * inRow[ow * g.SW + colOffset];
                                    }
                                }
                            }
                }
                activation.Apply(outVol);
            }
    }
}
