using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Kernels.Gemm;
using EdgeNet.Ops.Conv;

namespace EdgeNet.Kernels.Conv;

/// <summary>
/// Implicit-GEMM im2col: writes a tile of the (never materialised) im2col matrix of one image and group straight into
/// GEMM B panels. Row r = (c·KD + kd)·KH·KW + kh·KW + kw, column o = (od·OH + oh)·OW + ow, value
/// x[c, od·sd − pf + kd·dd, oh·sh − pt + kh·dh, ow·sw − pl + kw·dw] or 0 in the padding. The layout stays NCHW
/// (canonical 3-D), so a tile row is a gather along output rows, contiguous when the stride is 1.
/// </summary>
public sealed unsafe class F32Im2ColPacker(ConvGeometry g) : F32GemmTilePacker
{
    private readonly int _kVolume = g.KernelVolume, _khw = g.KH * g.KW, _inPlane = g.InH * g.InW, _inVolume = g.InVolume, _outPlane = g.OutH * g.OutW;

    public override void Pack(float* source, int k0, int kc, int j0, int nc, int nr, float* dst)
    {
        int n = g.OutVolume;
        int end = Math.Min(j0 + nc, n);
        int odStart = j0 / _outPlane, ohStart = j0 % _outPlane / g.OutW, owStart = j0 % g.OutW;
        nint panelStride = (nint)kc * nr;
        for (int r = 0; r < kc; r++)
        {
            int row = k0 + r;
            int c = row / _kVolume, kk = row % _kVolume;
            int kd = kk / _khw, kh = kk % _khw / g.KW, kw = kk % g.KW;
            float* channel = source + (nint)c * _inVolume;
            int colOffset = kw * g.DW - g.PadLeft, sw = g.SW, inW = g.InW;
            float* d = dst + (nint)r * nr;
            int jj = 0;
            int od = odStart, oh = ohStart, ow = owStart;
            for (int col = j0; col < end;)
            {
                int run = Math.Min(g.OutW - ow, end - col);
                int id = od * g.SD - g.PadFront + kd * g.DD, ih = oh * g.SH - g.PadTop + kh * g.DH;
                if ((uint)id < (uint)g.InD && (uint)ih < (uint)g.InH)
                {
                    float* inRow = channel + (nint)id * _inPlane + (nint)ih * g.InW;
                    // t in [lo, hi) reads inside the row: 0 ≤ iw0 + t·sw < InW
                    int iw0 = ow * g.SW + colOffset;
                    int lo, hi;
                    if (sw == 1)
                    {
                        lo = Math.Clamp(-iw0, 0, run);
                        hi = Math.Clamp(inW - iw0, lo, run);
                    }
                    else
                    {
                        lo = iw0 >= 0 ? 0 : Math.Min(run, (-iw0 + sw - 1) / sw);
                        hi = Math.Clamp((inW - iw0 + sw - 1) / sw, lo, run);
                    }
                    Zeros(ref d, ref jj, lo, nr, panelStride);
                    Copy(ref d, ref jj, inRow + iw0 + lo * sw, sw, hi - lo, nr, panelStride);
                    Zeros(ref d, ref jj, run - hi, nr, panelStride);
                }
                else Zeros(ref d, ref jj, run, nr, panelStride);
                col += run;
                ow = 0;
                if (++oh == g.OutH) { oh = 0; od++; }
            }
            if (jj != 0) new Span<float>(d + jj, nr - jj).Clear();
        }
    }

    /// <summary>Appends count zeros to the panel row at d[jj], moving to the next panel every NR columns.</summary>
    private static void Zeros(ref float* d, ref int jj, int count, int nr, nint panelStride)
    {
        while (count > 0)
        {
            int chunk = Math.Min(count, nr - jj);
            float* p = d + jj;
            int t = 0;
            for (; t + 4 <= chunk; t += 4) Vector128<float>.Zero.Store(p + t);
            for (; t < chunk; t++) p[t] = 0;
            count -= chunk;
            if ((jj += chunk) == nr) { jj = 0; d += panelStride; }
        }
    }

    /// <summary>Appends count input values src[0], src[stride], ... (a contiguous copy when stride is 1).</summary>
    private static void Copy(ref float* d, ref int jj, float* src, int stride, int count, int nr, nint panelStride)
    {
        while (count > 0)
        {
            int chunk = Math.Min(count, nr - jj);
            // chunks are at most NR (16) floats: inline vector moves beat a memmove call
            float* p = d + jj;
            int t = 0;
            if (stride == 1)
                for (; t + 4 <= chunk; t += 4) Vector128.Load(src + t).Store(p + t);
            else if (stride == 2 && (Sse.IsSupported || AdvSimd.Arm64.IsSupported))
            {
                // even lanes of two 4-float loads; the second load ends at src[2t+7], inside the row while t+5 ≤ count
                for (; t + 4 <= chunk && t + 5 <= count; t += 4)
                {
                    var lo = Vector128.Load(src + 2 * t);
                    var hi = Vector128.Load(src + 2 * t + 4);
                    (Sse.IsSupported ? Sse.Shuffle(lo, hi, 0b10_00_10_00) : AdvSimd.Arm64.UnzipEven(lo, hi)).Store(p + t);
                }
            }
            for (; t < chunk; t++) p[t] = src[t * stride];
            src += chunk * stride;
            count -= chunk;
            if ((jj += chunk) == nr) { jj = 0; d += panelStride; }
        }
    }
}
