using EdgeNet.Kernels.Activation;
using EdgeNet.Ops.Conv;

namespace EdgeNet.Kernels.Conv;

/// <summary>Shape of one NCHW convolution.</summary>
public sealed record ConvShape(int Batch, int InChannels, int OutChannels, int Group, ConvGeometry Geometry);

/// <summary>
/// Direct NCHW convolution, the scalar oracle: y[n,m,oh,ow] = b[m] + Σ_{c,kh,kw} x[n, g·C/G + c, oh·sh − pt + kh·dh, ow·sw − pl + kw·dw] · w[m,c,kh,kw].
/// Loops run over whole output rows with the valid ow range computed up front, so there is no per-element bounds test.
/// </summary>
public static class F32ConvReference
{
    public static void Run(ConvShape s, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, FusedActivation activation)
    {
        var g = s.Geometry;
        int cPerGroup = s.InChannels / s.Group, mPerGroup = s.OutChannels / s.Group;
        int inPlane = g.InH * g.InW, outPlane = g.OutH * g.OutW, kArea = g.KH * g.KW;
        for (int n = 0; n < s.Batch; n++)
            for (int m = 0; m < s.OutChannels; m++)
            {
                int group = m / mPerGroup;
                var outPlaneSpan = y.Slice((n * s.OutChannels + m) * outPlane, outPlane);
                outPlaneSpan.Fill(bias.IsEmpty ? 0 : bias[m]);
                for (int c = 0; c < cPerGroup; c++)
                {
                    var inPlaneSpan = x.Slice((n * s.InChannels + group * cPerGroup + c) * inPlane, inPlane);
                    var wk = w.Slice((m * cPerGroup + c) * kArea, kArea);
                    for (int kh = 0; kh < g.KH; kh++)
                        for (int kw = 0; kw < g.KW; kw++)
                        {
                            float wv = wk[kh * g.KW + kw];
                            int colOffset = kw * g.DW - g.PadLeft;
                            // ow valid when 0 ≤ ow·sw + colOffset < InW
                            int owLo = colOffset >= 0 ? 0 : (-colOffset + g.SW - 1) / g.SW;
                            int owHi = Math.Min(g.OutW, (g.InW - colOffset + g.SW - 1) / g.SW);
                            if (owHi <= owLo) continue;
                            for (int oh = 0; oh < g.OutH; oh++)
                            {
                                int ih = oh * g.SH - g.PadTop + kh * g.DH;
                                if ((uint)ih >= (uint)g.InH) continue;
                                var inRow = inPlaneSpan.Slice(ih * g.InW, g.InW);
                                var outRow = outPlaneSpan.Slice(oh * g.OutW, g.OutW);
                                if (g.SW == 1)
                                    for (int ow = owLo; ow < owHi; ow++) outRow[ow] += wv * inRow[ow + colOffset];
                                else
                                    for (int ow = owLo; ow < owHi; ow++) outRow[ow] += wv * inRow[ow * g.SW + colOffset];
                            }
                        }
                }
                activation.Apply(outPlaneSpan);
            }
    }
}
