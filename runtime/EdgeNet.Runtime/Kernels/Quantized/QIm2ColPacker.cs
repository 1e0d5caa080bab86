using System.Runtime.Intrinsics;

namespace EdgeNet.Kernels.Quantized;

/// <summary>
/// Implicit-GEMM im2col for one image and group of an NCHW conv: row k = (c·KH + kh)·KW + kw, column (position)
/// p = oh·OW + ow, value x[c, oh·sh − pt + kh·dh, ow·sw − pl + kw·dw], or the input zero point in the padding (so
/// it contributes 0). Each k row of the tile is gathered into a row buffer (contiguous copies when the stride is 1),
/// then GroupK rows are interleaved into the panels. Stride 2 gathers 16 columns at a time (even bytes of 32).
/// Short output rows make each k row a string of tiny runs with their own bounds arithmetic (DS-CNN's first conv:
/// 40 rows × 25 runs of 5), so a small im2col with short rows reads its input offsets from a table computed once.
/// </summary>
/// <param name="s">the conv shape</param>
/// <param name="allowTable">false keeps the run-by-run gather whatever the shape (tests compare the two)</param>
public sealed unsafe class QIm2ColPacker(QConv2dShape s, bool allowTable = true) : QActivationPacker
{
    /// <summary>Output rows up to this wide use the offset table (when it is small enough).</summary>
    public const int TableMaxOutW = 16;

    /// <summary>At most this many im2col elements (depth × output positions) get an offset table (128 KiB).</summary>
    public const int TableMaxElements = 1 << 15;

    private readonly int _khw = s.KH * s.KW;
    private readonly int[]? _table = allowTable && s.OutW <= TableMaxOutW && (long)s.Depth * s.OutPlane <= TableMaxElements ? GatherTable(s) : null;

    /// <summary>True when rows are gathered through the precomputed offset table.</summary>
    public bool UsesTable => _table is not null;

    /// <summary>Largest zero-point padded image (bytes) the lane-copy path builds per pack call.</summary>
    public const int LaneCopyMaxBytes = 1 << 16;

    // Lane copies: with KW a multiple of 4 and dilation 1 along W, the k values of a lane (c, kh, kw = GroupK·j ..)
    // are consecutive bytes of one row of the zero-point padded image, so a lane is one 4-byte copy (byte layout) or
    // one 2-byte read widened to two int16 (Avx2 layout) from (k offset + position base) instead of gathered bytes and
    // an interleave (DS-CNN's 10×4 stem).
    private readonly int _pw = Math.Max(s.InW + s.PadLeft + s.PadRight, (s.OutW - 1) * s.StrideW + s.KW);
    private readonly int _ph = Math.Max(s.InH + s.PadTop + s.PadBottom, (s.OutH - 1) * s.StrideH + (s.KH - 1) * s.DilationH + 1);
    private readonly int[]? _laneBase = allowTable ? LaneBases(s) : null;
    private readonly int[]? _kOffsets = allowTable ? KOffsets(s) : null;

    /// <summary>True when byte-layout panels are packed by 4-byte lane copies from a padded image.</summary>
    public bool UsesLaneCopies => _laneBase is not null;

    private static bool LaneCopyApplies(QConv2dShape s, out int pw, out int ph)
    {
        pw = Math.Max(s.InW + s.PadLeft + s.PadRight, (s.OutW - 1) * s.StrideW + s.KW);
        ph = Math.Max(s.InH + s.PadTop + s.PadBottom, (s.OutH - 1) * s.StrideH + (s.KH - 1) * s.DilationH + 1);
        return s.KW % 4 == 0 && s.DilationW == 1 && (long)s.InPerGroup * ph * pw <= LaneCopyMaxBytes;
    }

    /// <summary>Per output position: its window's top-left byte in the padded image, or null when lane copies do not apply.</summary>
    private static int[]? LaneBases(QConv2dShape s)
    {
        if (!LaneCopyApplies(s, out int pw, out _)) return null;
        var b = GC.AllocateArray<int>(s.OutPlane, pinned: true);
        for (int p = 0; p < b.Length; p++) b[p] = p / s.OutW * s.StrideH * pw + p % s.OutW * s.StrideW;
        return b;
    }

    /// <summary>Per k (c, kh, kw): its offset in the padded image (a lane of group g starts at k = g·GroupK).</summary>
    private static int[]? KOffsets(QConv2dShape s)
    {
        if (!LaneCopyApplies(s, out int pw, out int ph)) return null;
        var o = GC.AllocateArray<int>(s.Depth, pinned: true);
        for (int k = 0; k < o.Length; k++)
        {
            int c = k / (s.KH * s.KW), kh = k % (s.KH * s.KW) / s.KW, kw = k % s.KW;
            o[k] = c * ph * pw + kh * s.DilationH * pw + kw;
        }
        return o;
    }

    /// <summary>table[k·P + p] = offset of im2col element (k, p) from the group's first input channel, or −1 in the
    /// padding (P = output positions).</summary>
    private static int[] GatherTable(QConv2dShape s)
    {
        int positions = s.OutPlane, khw = s.KH * s.KW;
        var table = GC.AllocateArray<int>(s.Depth * positions, pinned: true);
        for (int k = 0; k < s.Depth; k++)
        {
            int c = k / khw, kh = k % khw / s.KW, kw = k % s.KW;
            for (int p = 0; p < positions; p++)
            {
                int ih = p / s.OutW * s.StrideH - s.PadTop + kh * s.DilationH, iw = p % s.OutW * s.StrideW - s.PadLeft + kw * s.DilationW;
                table[k * positions + p] = (uint)ih < (uint)s.InH && (uint)iw < (uint)s.InW ? c * s.InPlane + ih * s.InW + iw : -1;
            }
        }
        return table;
    }
    /// <summary>Per kw, [lo, hi) of a whole output row (ow from 0): the outputs whose tap reads inside the input row.</summary>
    private readonly int[] _rowLo = RowBounds(s, true), _rowHi = RowBounds(s, false);

    private static int[] RowBounds(QConv2dShape s, bool low)
    {
        var r = new int[s.KW];
        for (int kw = 0; kw < s.KW; kw++)
        {
            var (lo, hi) = Bounds(kw * s.DilationW - s.PadLeft, s.OutW, s.StrideW, s.InW);
            r[kw] = low ? lo : hi;
        }
        return r;
    }

    /// <summary>t in [lo, hi) reads inside the row: 0 ≤ iw0 + t·sw &lt; InW.</summary>
    private static (int Lo, int Hi) Bounds(int iw0, int run, int sw, int inW)
    {
        int lo = iw0 >= 0 ? 0 : Math.Min(run, (-iw0 + sw - 1) / sw);
        int hi = Math.Clamp((inW - iw0 + sw - 1) / sw, lo, run);
        return (lo, hi);
    }

    internal override int ScratchBytes(int maxCount) => 4 * ((maxCount + 63) & ~63) + (_laneBase is null ? 0 : s.InPerGroup * _ph * _pw + 64);

    internal override void Pack(byte* src, nint ld, int pos0, int count, int lanes, int depth, in QPackFormat f, byte padRaw, byte* dst, int* sums, byte* scratch)
    {
        if (_laneBase is not null && sums is null && (f.Wide ? f.GroupK == 2 : f.GroupK == 4))
        {
            PackLanes(src, pos0, count, lanes, f, padRaw, dst, scratch + 4 * ((count + 63) & ~63));
            return;
        }
        int gk = f.GroupK, groups = (depth + gk - 1) / gk;
        int rowBytes = (count + 63) & ~63;
        if (sums is not null) new Span<int>(sums, count).Clear();
        byte** rows = stackalloc byte*[4];
        for (int g = 0; g < groups; g++)
        {
            for (int e = 0; e < gk; e++)
            {
                int k = g * gk + e;
                if (k >= depth) { rows[e] = null; continue; }
                byte* row = scratch + e * rowBytes;
                FillRow(src, k, pos0, count, padRaw, row);
                rows[e] = row;
            }
            Interleave(rows, count, lanes, groups, g, f, dst, sums);
        }
    }

    /// <summary>
    /// Panels by lane copies from the zero-point padded image built in scratch: 4 bytes (byte layout) or 2 bytes
    /// zero-extended to two int16 (the Avx2 int16 layout) per lane.
    /// </summary>
    private void PackLanes(byte* src, int pos0, int count, int lanes, in QPackFormat f, byte padRaw, byte* dst, byte* padded)
    {
        int cg = s.InPerGroup, plane = _ph * _pw;
        new Span<byte>(padded, cg * plane).Fill(padRaw);
        for (int c = 0; c < cg; c++)
            for (int ih = 0; ih < s.InH; ih++)
                new ReadOnlySpan<byte>(src + (nint)c * s.InPlane + (nint)ih * s.InW, s.InW)
                    .CopyTo(new Span<byte>(padded + (nint)c * plane + (nint)(ih + s.PadTop) * _pw + s.PadLeft, s.InW));
        bool wide = f.Wide;
        uint mask = wide ? (uint)f.SignMask * 0x00010001u : f.StoreMask * 0x01010101u;
        int gk = f.GroupK, groups = _kOffsets!.Length / gk, panels = (count + lanes - 1) / lanes;
        fixed (int* bases = _laneBase)
        fixed (int* koffs = _kOffsets)
            for (int pn = 0; pn < panels; pn++)
            {
                int first = pn * lanes, n = Math.Min(lanes, count - first);
                int* pb = bases + pos0 + first;
                uint* d = (uint*)(dst + (nint)pn * lanes * groups * 4);
                for (int g = 0; g < groups; g++, d += lanes)
                {
                    byte* gs = padded + koffs[g * gk];
                    if (wide)
                    {
                        // two bytes → two zero-extended int16 (raw ^ sign mask is the uint8 value)
                        int w = 0;
                        for (; w < n; w++)
                        {
                            uint v = *(ushort*)(gs + pb[w]);
                            d[w] = ((v & 0xFF) | ((v & 0xFF00) << 8)) ^ mask;
                        }
                        for (; w < lanes; w++) d[w] = 0;
                        continue;
                    }
                    int l = 0;
                    for (; l + 4 <= n; l += 4)
                    {
                        d[l] = *(uint*)(gs + pb[l]) ^ mask;
                        d[l + 1] = *(uint*)(gs + pb[l + 1]) ^ mask;
                        d[l + 2] = *(uint*)(gs + pb[l + 2]) ^ mask;
                        d[l + 3] = *(uint*)(gs + pb[l + 3]) ^ mask;
                    }
                    for (; l < n; l++) d[l] = *(uint*)(gs + pb[l]) ^ mask;
                    for (; l < lanes; l++) d[l] = 0;
                }
            }
    }

    /// <summary>Gathers im2col row k, positions [pos0, pos0 + count), into row.</summary>
    internal void FillRow(byte* x, int k, int pos0, int count, byte pad, byte* row)
    {
        if (_table is not null)
        {
            fixed (int* table = _table)
            {
                int* t = table + (nint)k * s.OutPlane + pos0;
                for (int i = 0; i < count; i++)
                {
                    int o = t[i];
                    row[i] = o >= 0 ? x[o] : pad;
                }
            }
            return;
        }
        int c = k / _khw, kk = k % _khw, kh = kk / s.KW, kw = kk % s.KW;
        byte* channel = x + (nint)c * s.InPlane;
        int outW = s.OutW, sw = s.StrideW, inW = s.InW;
        int oh = pos0 / outW, ow = pos0 % outW;
        int colOffset = kw * s.DilationW - s.PadLeft;
        int filled = 0;
        while (filled < count)
        {
            int run = Math.Min(outW - ow, count - filled);
            int ih = oh * s.StrideH - s.PadTop + kh * s.DilationH;
            byte* d = row + filled;
            if ((uint)ih < (uint)s.InH)
            {
                byte* inRow = channel + (nint)ih * inW;
                int iw0 = ow * sw + colOffset;
                // t in [lo, hi) reads inside the row: 0 ≤ iw0 + t·sw < InW (whole rows: precomputed per kw)
                var (lo, hi) = ow == 0 && run == outW ? (_rowLo[kw], _rowHi[kw]) : Bounds(iw0, run, sw, inW);
                if (lo > 0) new Span<byte>(d, lo).Fill(pad);
                if (sw == 1) new ReadOnlySpan<byte>(inRow + iw0 + lo, hi - lo).CopyTo(new Span<byte>(d + lo, hi - lo));
                else
                {
                    byte* sp = inRow + iw0;
                    int t = lo;
                    if (sw == 2 && Vector128.IsHardwareAccelerated)
                    {
                        // even bytes of 32: the low byte of each 16-bit lane, narrowed; the load stays inside the row
                        var low = Vector128.Create((ushort)0xFF);
                        for (; t + 16 <= hi && iw0 + 2 * t + 32 <= inW; t += 16)
                            Vector128.Narrow(Vector128.Load(sp + 2 * t).AsUInt16() & low, Vector128.Load(sp + 2 * t + 16).AsUInt16() & low).Store(d + t);
                        if (t < hi && hi - lo >= 16 && inW >= 32 && System.Runtime.Intrinsics.X86.Avx2.IsSupported)
                        {
                            // the rest as one step over the last 16 outputs (rewriting equal bytes): their even bytes,
                            // or, when those 32 bytes would end one past the row, the odd bytes of the 32 ending at it
                            int t2 = hi - 16;
                            byte* q = sp + 2 * t2;
                            var v = iw0 + 2 * t2 + 32 <= inW
                                ? Vector128.Narrow(Vector128.Load(q).AsUInt16() & low, Vector128.Load(q + 16).AsUInt16() & low)
                                : Vector128.Narrow(Vector128.Load(q - 1).AsUInt16() >>> 8, Vector128.Load(q + 15).AsUInt16() >>> 8);
                            v.Store(d + t2);
                            t = hi;
                        }
                    }
                    for (; t < hi; t++) d[t] = sp[t * sw];
                }
                if (run > hi) new Span<byte>(d + hi, run - hi).Fill(pad);
            }
            else new Span<byte>(d, run).Fill(pad);
            filled += run;
            ow = 0;
            oh++;
        }
    }
}
