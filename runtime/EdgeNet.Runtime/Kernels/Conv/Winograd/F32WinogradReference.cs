using EdgeNet.Kernels.Activation;

namespace EdgeNet.Kernels.Conv.Winograd;

/// <summary>
/// The whole Winograd conv in plain loops (the oracle of <see cref="F32WinogradTiles"/> and the kernel): 3×3, stride
/// 1, dilation 1, group 1, 2-D. For each image, tile (ty, tx) and channel c the α×α input tile at rows m·ty − padTop,
/// columns m·tx − padLeft (zeros outside the input) becomes V = Bᵀ d B; per frequency the products with U = G g Gᵀ
/// are summed over channels; Y = Aᵀ M A is the m×m output tile, clipped at the bottom and right edges, plus bias,
/// then the activation. fp32 throughout, like the fast path.
/// </summary>
public static class F32WinogradReference
{
    public static void Run(WinogradTransform t, int batch, int channels, int filters, int inH, int inW, int padTop, int padLeft, int outH, int outW,
        ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, FusedActivation activation)
    {
        int m = t.M, a = t.Alpha, freq = t.Frequencies;
        var u = t.TransformWeights(w, filters, channels);
        int tilesH = (outH + m - 1) / m, tilesW = (outW + m - 1) / m;
        var d = new float[a * a];
        var tmp = new float[a * a];
        var v = new float[channels * freq];
        var acc = new float[freq];
        var o = new float[m * a];
        for (int n = 0; n < batch; n++)
            for (int ty = 0; ty < tilesH; ty++)
                for (int tx = 0; tx < tilesW; tx++)
                {
                    for (int c = 0; c < channels; c++)
                    {
                        var plane = x.Slice((n * channels + c) * inH * inW, inH * inW);
                        for (int r = 0; r < a; r++)
                            for (int q = 0; q < a; q++)
                            {
                                int ih = ty * m + r - padTop, iw = tx * m + q - padLeft;
                                d[r * a + q] = ih >= 0 && ih < inH && iw >= 0 && iw < inW ? plane[ih * inW + iw] : 0;
                            }
                        // tmp = Bᵀ d, V = tmp B
                        for (int r = 0; r < a; r++)
                            for (int q = 0; q < a; q++)
                            {
                                float s = 0;
                                for (int k = 0; k < a; k++) s += (float)t.BT[r, k] * d[k * a + q];
                                tmp[r * a + q] = s;
                            }
                        for (int r = 0; r < a; r++)
                            for (int q = 0; q < a; q++)
                            {
                                float s = 0;
                                for (int k = 0; k < a; k++) s += tmp[r * a + k] * (float)t.BT[q, k];
                                v[c * freq + r * a + q] = s;
                            }
                    }
                    for (int f = 0; f < filters; f++)
                    {
                        for (int e = 0; e < freq; e++)
                        {
                            float s = 0;
                            for (int c = 0; c < channels; c++) s += u[((long)e * filters + f) * channels + c] * v[c * freq + e];
                            acc[e] = s;
                        }
                        // o = Aᵀ acc (m×α), Y = o A (m×m)
                        for (int r = 0; r < m; r++)
                            for (int q = 0; q < a; q++)
                            {
                                float s = 0;
                                for (int k = 0; k < a; k++) s += (float)t.AT[r, k] * acc[k * a + q];
                                o[r * a + q] = s;
                            }
                        float b = bias.IsEmpty ? 0 : bias[f];
                        for (int r = 0; r < m; r++)
                            for (int q = 0; q < m; q++)
                            {
                                int oh = ty * m + r, ow = tx * m + q;
                                if (oh >= outH || ow >= outW) continue;
                                float s = 0;
                                for (int k = 0; k < a; k++) s += o[r * a + k] * (float)t.AT[q, k];
                                y[((n * filters + f) * outH + oh) * outW + ow] = activation.Apply(s + b);
                            }
                    }
                }
    }
}
