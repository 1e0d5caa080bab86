using System.Numerics;
using System.Runtime.Intrinsics;
using EdgeNet.Ops.Conv;

namespace EdgeNet.Kernels.Quantized;

/// <summary>
/// MaxPool on uint8 / int8 planes (the folded QDQ MaxPool: max commutes with the monotonic quantizer), separable:
/// per output row, the element-wise max of the window's valid input rows (depth and height; <see cref="Vector128"/>
/// over the whole row), then per output column the max of the window's valid columns of that row (interior windows:
/// a vector sliding max over the row, then one pick per output; border windows clipped, scalar). Padding never
/// wins (it is skipped, like the reference); a window with no valid element gives 0. Max is exact, so the result
/// equals <see cref="QMaxPoolReference"/> on every ISA.
/// </summary>
public static unsafe class QMaxPool
{
    /// <summary>Scratch elements a run needs (one input row).</summary>
    public static int ScratchElements(ConvGeometry g) => g.InW + 32;

    /// <summary>x [planes, InD, InH, InW] → y [planes, OutD, OutH, OutW]; row holds <see cref="ScratchElements"/>.</summary>
    public static void Run<T>(ConvGeometry g, int planes, T* x, T* y, T* row) where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        int inW = g.InW, inPlane = g.InD * g.InH * g.InW;
        for (int p = 0; p < planes; p++)
        {
            T* src = x + (nint)p * inPlane;
            for (int od = 0; od < g.OutD; od++)
                for (int oh = 0; oh < g.OutH; oh++, y += g.OutW)
                {
                    // vertical max over the window's valid (depth, height) rows
                    int rows = 0;
                    for (int kd = 0; kd < g.KD; kd++)
                    {
                        int id = od * g.Strides[0] - g.PadBegin[0] + kd * g.Dilations[0];
                        if ((uint)id >= (uint)g.InD) continue;
                        for (int kh = 0; kh < g.KH; kh++)
                        {
                            int ih = oh * g.SH - g.PadTop + kh * g.DH;
                            if ((uint)ih >= (uint)g.InH) continue;
                            T* r = src + ((nint)id * g.InH + ih) * inW;
                            if (rows++ == 0) new ReadOnlySpan<T>(r, inW).CopyTo(new Span<T>(row, inW));
                            else MaxInto(row, r, inW);
                        }
                    }
                    if (rows == 0)
                    {
                        new Span<T>(y, g.OutW).Clear();
                        continue;
                    }
                    Horizontal(g, row, y);
                }
        }
    }

    private static void MaxInto<T>(T* acc, T* r, int count) where T : unmanaged, INumber<T>
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i + Vector256<T>.Count <= count; i += Vector256<T>.Count)
                Vector256.Max(Vector256.Load(acc + i), Vector256.Load(r + i)).Store(acc + i);
        if (Vector128.IsHardwareAccelerated)
            for (; i + Vector128<T>.Count <= count; i += Vector128<T>.Count)
                Vector128.Max(Vector128.Load(acc + i), Vector128.Load(r + i)).Store(acc + i);
        for (; i < count; i++) if (r[i] > acc[i]) acc[i] = r[i];
    }

    private static void Horizontal<T>(ConvGeometry g, T* row, T* y) where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        int inW = g.InW, kw = g.KW, sw = g.SW, dw = g.DW, padLeft = g.PadLeft, outW = g.OutW;
        int span = (kw - 1) * dw;
        // interior outputs: the whole window inside the row, 0 ≤ ow·sw − padLeft and ow·sw − padLeft + span < inW
        int owLo = Math.Min(outW, (padLeft + sw - 1) / sw);
        int owHi = inW - span + padLeft <= 0 ? owLo : Math.Clamp((inW - span + padLeft + sw - 1) / sw, owLo, outW);
        // border outputs first: they read the original row, which the interior pass below overwrites
        for (int ow = 0; ow < owLo; ow++) y[ow] = Border(row, ow * sw - padLeft, kw, dw, inW);
        for (int ow = Math.Max(owHi, owLo); ow < outW; ow++) y[ow] = Border(row, ow * sw - padLeft, kw, dw, inW);
        if (owHi <= owLo) return;
        if (kw == 3 && sw == 2 && dw == 1 && Vector256.IsHardwareAccelerated && owHi - owLo >= 16)
        {
            Stride2Window3(row, y, padLeft, owLo, owHi);
            return;
        }
        // m[i] = max of row[i + k·dw] over the window, in place (i ascending reads only column i and later ones)
        int valid = inW - span, i = 0;
        if (Vector128.IsHardwareAccelerated)
            for (; i + Vector128<T>.Count <= valid; i += Vector128<T>.Count)
            {
                var v = Vector128.Load(row + i);
                for (int k = 1; k < kw; k++) v = Vector128.Max(v, Vector128.Load(row + i + k * dw));
                v.Store(row + i);
            }
        for (; i < valid; i++)
        {
            T v = row[i];
            for (int k = 1; k < kw; k++) if (row[i + k * dw] > v) v = row[i + k * dw];
            row[i] = v;
        }
        for (int ow = owLo; ow < owHi; ow++) y[ow] = row[ow * sw - padLeft];
    }

    /// <summary>
    /// Interior outputs of a 3-wide stride-2 window (ResNet's stem pool), 16 a step (the last step overlapping): with
    /// i0 = 2·ow − padLeft, A = row[i0 …] and B = row[i0 + 1 …] as 16-bit lanes, M = max(A, B) holds
    /// (max(r[i0+2j], r[i0+2j+1]), max(r[i0+2j+1], r[i0+2j+2])) in lane j, and the max of its two bytes is output j.
    /// Reads at most row[2·owHi − padLeft], inside the row's slack.
    /// </summary>
    private static void Stride2Window3<T>(T* row, T* y, int padLeft, int owLo, int owHi) where T : unmanaged, INumber<T>
    {
        for (int ow = owLo; ; ow += 16)
        {
            if (ow > owHi - 16) ow = owHi - 16;
            T* r = row + 2 * ow - padLeft;
            var m = Vector256.Max(Vector256.Load(r), Vector256.Load(r + 1));
            var pairs = Vector256.Max(m, (m.AsUInt16() >>> 8).As<ushort, T>()).AsUInt16();
            Vector256.Narrow(pairs, pairs).GetLower().As<byte, T>().Store(y + ow);
            if (ow == owHi - 16) break;
        }
    }

    /// <summary>Max over the valid columns of a border window (0 when none is valid).</summary>
    private static T Border<T>(T* row, int w0, int kw, int dw, int inW) where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        T best = T.MinValue;
        bool any = false;
        for (int k = 0; k < kw; k++)
        {
            int iw = w0 + k * dw;
            if ((uint)iw >= (uint)inW) continue;
            any = true;
            T v = row[iw];
            if (v > best) best = v;
        }
        return any ? best : T.Zero;
    }
}

/// <summary>Direct MaxPool oracle over the same layout: every window element checked against the bounds.</summary>
public static unsafe class QMaxPoolReference
{
    public static void Run<T>(ConvGeometry g, int planes, T* x, T* y) where T : unmanaged, INumber<T>
    {
        int inPlane = g.InD * g.InH * g.InW;
        for (int p = 0; p < planes; p++)
            for (int od = 0; od < g.OutD; od++)
                for (int oh = 0; oh < g.OutH; oh++)
                    for (int ow = 0; ow < g.OutW; ow++)
                    {
                        T best = T.Zero;
                        bool any = false;
                        for (int kd = 0; kd < g.KD; kd++)
                            for (int kh = 0; kh < g.KH; kh++)
                                for (int kw = 0; kw < g.KW; kw++)
                                {
                                    int id = od * g.Strides[0] - g.PadBegin[0] + kd * g.Dilations[0];
                                    int ih = oh * g.SH - g.PadTop + kh * g.DH;
                                    int iw = ow * g.SW - g.PadLeft + kw * g.DW;
                                    if ((uint)id >= (uint)g.InD || (uint)ih >= (uint)g.InH || (uint)iw >= (uint)g.InW) continue;
                                    T v = x[(nint)p * inPlane + ((nint)id * g.InH + ih) * g.InW + iw];
                                    if (!any || v > best) { best = v; any = true; }
                                }
                        y[(((nint)p * g.OutD + od) * g.OutH + oh) * g.OutW + ow] = best;
                    }
    }
}
