using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Execution.Threading;
using ExecutionContext = EdgeNet.Execution.ExecutionContext;

namespace EdgeNet.Kernels.Quantized;

/// <summary>
/// Quantized conv (group 1, symmetric weights, any stride) without im2col, on the x86 tiles (Avx2 int16 pairs, AvxVnni
/// byte quads): each image is expanded once into a zero-point-padded plane per group of GroupK input channels
/// (lane (row, col) = the GroupK channels' values at that padded position, the <see cref="QMicrokernel"/> lane
/// encoding), split into sh × sw phase planes by the strides (padded position (i·sh + ph, j·sw + pw) → phase
/// (ph, pw), lane i·Wq + j). Output positions are numbered along the phase width (f = oh·Wq + ow, the columns
/// ow ≥ OW are computed and dropped), so for every tap (kh, kw) the NR lanes a tile needs are the NR consecutive
/// lanes at f + (kh·dh / sh)·Wq + kw·dw / sw of phase (kh·dh mod sh, kw·dw mod sw): the tile reads them in place (<see cref="QMicrokernel.RunTaps"/>), the weights being packed
/// tap-major (k = (tap, channel group, e)). Padding holds the input zero point, so it contributes 0, and the
/// accumulator is exactly the reference's: D − a_zp·Σw + bias. A channel tile of all positions is staged as int32,
/// then written row by row into Y; byte outputs are requantized in registers by the tile itself into a byte stage,
/// then copied out row by row.
/// </summary>
internal sealed unsafe class QShiftedConv : IParallelWork
{
    private const long MinParallelMacs = 1 << 21;

    private readonly QConv2dShape _s;
    private readonly QPackedWeights _w;
    private readonly QMicrokernel _uk;
    private readonly QOutputKind _output;
    private readonly bool _xSigned;
    private readonly int _gk, _quads, _wq, _hq, _taps, _flat, _tiles, _ld, _chTiles, _outBytes;
    /// <summary>Lanes of one phase plane (Hq·Wq).</summary>
    private readonly int _phaseLanes;
    /// <summary>Per padded row phase (r mod sh): some tap reads it.</summary>
    private readonly bool[] _rowPhaseUsed;
    /// <summary>Per padded column phase (c mod sw): some tap reads it.</summary>
    private readonly bool[] _colPhaseUsed;
    /// <summary>
    /// No padding and every tap in phase (0, 0) (a 1×1 stride-2 downsample): that phase plane is wholly written by the
    /// copy, so the zero-point fill of the lane planes is skipped (the lanes past it are read only for dropped columns).
    /// </summary>
    private readonly bool _skipFill;
    private readonly nint _quadBytes;
    /// <summary>
    /// Avx2: a lane holds the input channel pair as two bytes (zero-extended to the tile's int16 pairs by vpmovzxbw
    /// as it loads, <see cref="QGemm6x16Avx2.RunTapsPairs"/>), half the plane of int16 lanes: the stride-2 convs
    /// streamed their 4-byte lanes from L2/L3.
    /// </summary>
    private readonly bool _pairs;
    /// <summary>Bytes of one lane: 4 (AvxVnni byte quads), 2 (Avx2 byte pairs).</summary>
    private readonly int _laneBytes;
    private readonly int[] _offsets;
    private readonly int _planeBytes, _stageBytes, _offBytes, _zpRowBytes;

    // per run
    private byte* _plane, _stages, _y;
    private int* _chanOffset;
    private QEpilogue _e;
    private QTileRequant _requant;
    private int _next;

    /// <summary>True when this path applies: group 1, not a plain pointwise conv, symmetric weights, at most 4/3 the dense k groups (few input channels), an x86 variant with <see cref="QMicrokernel.HasTaps"/>.</summary>
    public static bool Applies(QVariant variant, QConv2dShape s, bool weightsSigned, ReadOnlySpan<int> weightZeroPoints)
    {
        if (variant is not (QVariant.AvxVnni or QVariant.Avx2) || !QVariants.IsNative(variant) || !Avx2.IsSupported) return false;
        if (s.Group != 1 || s.IsPointwise) return false;
        // a lane holds GroupK input channels: few channels waste lanes (the im2col GEMM packs k densely)
        var uk = QMicrokernel.For(variant);
        long taps = s.KH * s.KW, lanes = taps * ((s.InChannels + uk.GroupK - 1) / uk.GroupK), dense = (taps * s.InChannels + uk.GroupK - 1) / uk.GroupK;
        if (lanes * 3 > dense * 4) return false;
        // int16 pairs (Avx2): ResNet-18's 3-channel 7×7 stem (98 lanes per 74 dense k pairs, 1.32) ran 8 % faster on
        // the im2col GEMM (AVX2-only Zen 3, 2.83–2.86 → 2.59–2.66 ms); MobileNetV2's 3×3 stem (1.29) was even
        if (uk.Wide && lanes * 10 > dense * 13) return false;
        // an absent zero point is 0 in the weights' own domain: −128 for uint8 weights
        int zero = weightsSigned ? 0 : 128;
        if (weightZeroPoints.Length == 0) return weightsSigned;
        foreach (int z in weightZeroPoints) if (z != zero) return false;
        return true;
    }

    public QShiftedConv(QVariant variant, QConv2dShape s, ReadOnlySpan<byte> weights, bool weightsSigned, ReadOnlySpan<int> weightZeroPoints,
        bool inputSigned, QOutputKind output, int threads)
    {
        _s = s;
        _uk = QMicrokernel.For(variant);
        _output = output;
        _outBytes = output is QOutputKind.Int32 or QOutputKind.Float32 ? 4 : 1;
        _xSigned = inputSigned;
        _gk = _uk.GroupK;
        _pairs = _uk is QGemm6x16Avx2;
        _laneBytes = _pairs ? 2 : 4;
        _quads = (s.InChannels + _gk - 1) / _gk;
        _taps = s.KH * s.KW;
        int sh = s.StrideH, sw = s.StrideW;
        _wq = (s.PadLeft + s.InW + s.PadRight + sw - 1) / sw;
        _hq = (s.PadTop + s.InH + s.PadBottom + sh - 1) / sh;
        _phaseLanes = _hq * _wq;
        int nr = _uk.NR, mr = _uk.MR;
        // f of the last output + 1; a valid output's taps stay inside their phase plane, the last tiles read at
        // most NR − 2 lanes past the last plane (junk columns only): the slack
        _flat = (s.OutH - 1) * _wq + s.OutW;
        _tiles = (_flat + nr - 1) / nr;
        _ld = _tiles * nr + 16;
        _quadBytes = ((nint)(sh * sw * _phaseLanes + nr) * _laneBytes + 63) & ~(nint)63;
        _offsets = new int[_taps];
        _rowPhaseUsed = new bool[sh];
        _colPhaseUsed = new bool[sw];
        for (int kh = 0; kh < s.KH; kh++)
            for (int kw = 0; kw < s.KW; kw++)
            {
                int rr = kh * s.DilationH, cc = kw * s.DilationW;
                _rowPhaseUsed[rr % sh] = true;
                _colPhaseUsed[cc % sw] = true;
                _offsets[kh * s.KW + kw] = (((rr % sh) * sw + cc % sw) * _phaseLanes + rr / sh * _wq + cc / sw) * _laneBytes;
            }

        bool onlyPhase0 = true;
        for (int i = 1; i < sh; i++) onlyPhase0 &= !_rowPhaseUsed[i];
        for (int i = 1; i < sw; i++) onlyPhase0 &= !_colPhaseUsed[i];
        _skipFill = onlyPhase0 && s.PadTop == 0 && s.PadLeft == 0 && s.PadBottom == 0 && s.PadRight == 0;

        // weights reordered tap-major: k' = (tap·Q + q)·GK + e  ←  k = (q·GK + e)·taps + tap; missing channels weigh 0
        int depth = _taps * _quads * _gk, khw = _taps, cin = s.InChannels;
        var w2 = new byte[(long)s.OutChannels * depth];
        byte zeroRaw = (byte)(weightsSigned ? 0 : 128);
        for (int m = 0; m < s.OutChannels; m++)
            for (int t = 0; t < khw; t++)
                for (int c = 0; c < _quads * _gk; c++)
                    w2[(long)m * depth + (t * _quads + c / _gk) * _gk + c % _gk] = c < cin ? weights[(m * cin + c) * khw + t] : zeroRaw;
        _w = QPackedWeights.PackRows(variant, QGemmOrientation.WeightsLeft, w2, weightsSigned, s.OutChannels, depth, weightZeroPoints);
        _chTiles = (s.OutChannels + mr - 1) / mr;
        long macs = (long)s.OutPlane * s.OutChannels * s.Depth;
        Threads = macs < MinParallelMacs ? 1 : Math.Clamp(threads, 1, _chTiles);
        _offBytes = Align(s.OutChannels * sizeof(int));
        _zpRowBytes = Align(s.InW + 16) + Align((s.InW + 16) * 4);
        _planeBytes = (int)Align(_quads * _quadBytes);
        _stageBytes = Align(mr * _ld * sizeof(int));
    }

    private static int Align(int bytes) => (bytes + 63) & ~63;
    private static nint Align(nint bytes) => (bytes + 63) & ~(nint)63;

    public int Threads { get; }

    public int ScratchBytes => _offBytes + _zpRowBytes + _planeBytes + Threads * _stageBytes + 64;

    /// <summary>x [N, Cin, H, W], y [N, Cout, OH, OW]; epilogue channels index the output channel.</summary>
    public void Run(ExecutionContext? ctx, byte* x, int xZeroPoint, void* y, in QEpilogue e, byte* scratch)
    {
        scratch = (byte*)(((nint)scratch + 63) & ~(nint)63);
        _chanOffset = (int*)scratch;
        byte* zpRow = scratch + _offBytes;
        _plane = zpRow + _zpRowBytes;
        _stages = _plane + _planeBytes;
        _e = e;
        if (_output is QOutputKind.UInt8 or QOutputKind.Int8 && Avx2.IsSupported) _requant = new QTileRequant(e, _output == QOutputKind.Int8, _s.OutChannels);
        int za = _xSigned ? xZeroPoint + 128 : xZeroPoint;
        fixed (int* sums = _w.Sums)
            for (int ch = 0; ch < _s.OutChannels; ch++)
                _chanOffset[ch] = unchecked((e.Bias is null ? 0 : e.Bias[ch]) - za * sums[ch]);
        new Span<byte>(zpRow, _s.InW + 16).Fill((byte)xZeroPoint);
        for (int n = 0; n < _s.Batch; n++)
        {
            if (_pairs) ExpandPairs(x + (nint)n * _s.InChannels * _s.InPlane, za, zpRow);
            else Expand(x + (nint)n * _s.InChannels * _s.InPlane, za, zpRow);
            _y = (byte*)y + (nint)n * _s.OutChannels * _s.OutPlane * _outBytes;
            _next = 0;
            if (ctx is null || Threads == 1) for (int part = 0; part < Threads; part++) Execute(part);
            else ctx.Parallel(this, Threads, Threads);
        }
    }

    /// <summary>
    /// The padded lane planes of one image: quad q, phase (ph, pw) of the strides, lane (i, j) = padded position
    /// (i·sh + ph, j·sw + pw), at plane + q·quadBytes + ((ph·sw + pw)·Hq·Wq + i·Wq + j)·4. Padding and the unused
    /// phase rows hold the zero point.
    /// </summary>
    private void Expand(byte* x, int za, byte* zpRow)
    {
        int w = _s.InW, wq = _wq, pl = _s.PadLeft, pt = _s.PadTop, sh = _s.StrideH, sw = _s.StrideW;
        uint padLane = _gk == 4 ? (uint)za * 0x01010101u : (uint)za | ((uint)za << 16);
        var mask = Vector128.Create((byte)(_xSigned ? 0x80 : 0));
        int sm = _xSigned ? 0x80 : 0;
        uint* tmp = (uint*)(zpRow + Align(_s.InW + 16));
        byte** rows = stackalloc byte*[4];
        for (int q = 0; q < _quads; q++)
        {
            uint* plane = (uint*)(_plane + q * _quadBytes);
            if (!_skipFill) new Span<uint>(plane, (int)(_quadBytes / 4)).Fill(padLane);
            for (int ih = 0; ih < _s.InH; ih++)
            {
                int r = pt + ih, ph = r % sh;
                if (!_rowPhaseUsed[ph]) continue;
                uint* rowBase = plane + ph * sw * _phaseLanes + r / sh * wq;
                // stride 1 along W: the lanes go straight into the plane row; else through tmp, then split by phase
                uint* d = sw == 1 ? rowBase + pl : tmp;
                for (int e = 0; e < _gk; e++)
                {
                    int c = q * _gk + e;
                    rows[e] = c < _s.InChannels ? x + ((nint)c * _s.InH + ih) * w : zpRow;
                }
                int col = 0;
                if (_gk == 4)
                {
                    for (; col + 16 <= w; col += 16)
                    {
                        var v0 = Vector128.Load(rows[0] + col) ^ mask;
                        var v1 = Vector128.Load(rows[1] + col) ^ mask;
                        var v2 = Vector128.Load(rows[2] + col) ^ mask;
                        var v3 = Vector128.Load(rows[3] + col) ^ mask;
                        var lo01 = Sse2.UnpackLow(v0, v1).AsUInt16();
                        var hi01 = Sse2.UnpackHigh(v0, v1).AsUInt16();
                        var lo23 = Sse2.UnpackLow(v2, v3).AsUInt16();
                        var hi23 = Sse2.UnpackHigh(v2, v3).AsUInt16();
                        Sse2.UnpackLow(lo01, lo23).Store((ushort*)(d + col));
                        Sse2.UnpackHigh(lo01, lo23).Store((ushort*)(d + col + 4));
                        Sse2.UnpackLow(hi01, hi23).Store((ushort*)(d + col + 8));
                        Sse2.UnpackHigh(hi01, hi23).Store((ushort*)(d + col + 12));
                    }
                    for (; col < w; col++)
                        d[col] = (uint)(rows[0][col] ^ sm) | ((uint)(rows[1][col] ^ sm) << 8) | ((uint)(rows[2][col] ^ sm) << 16) | ((uint)(rows[3][col] ^ sm) << 24);
                }
                else
                {
                    for (; col + 16 <= w; col += 16)
                    {
                        var v0 = Vector128.Load(rows[0] + col) ^ mask;
                        var v1 = Vector128.Load(rows[1] + col) ^ mask;
                        Avx2.ConvertToVector256Int16(Sse2.UnpackLow(v0, v1)).Store((short*)(d + col));
                        Avx2.ConvertToVector256Int16(Sse2.UnpackHigh(v0, v1)).Store((short*)(d + col + 8));
                    }
                    for (; col < w; col++)
                        d[col] = (uint)(rows[0][col] ^ sm) | ((uint)(rows[1][col] ^ sm) << 16);
                }
                if (sw == 1) continue;
                // padded column c = pl + col goes to phase c mod sw, lane c / sw
                for (int pw = 0; pw < sw; pw++)
                {
                    if (!_colPhaseUsed[pw]) continue;
                    uint* dst = rowBase + pw * _phaseLanes;
                    col = ((pw - pl) % sw + sw) % sw;
                    uint* dp = dst + (pl + col) / sw;
                    if (sw == 2 && Avx2.IsSupported)
                        // even / odd lanes of 16: vpermd puts one phase's 8 lanes in order
                        for (var idx = Vector256.Create(0u, 2, 4, 6, 0, 2, 4, 6); col + 16 <= w; col += 16, dp += 8)
                            Vector256.Create(Avx2.PermuteVar8x32(Vector256.Load(tmp + col), idx).GetLower(),
                                Avx2.PermuteVar8x32(Vector256.Load(tmp + col + 8), idx).GetLower()).Store(dp);
                    for (; col < w; col += sw) *dp++ = tmp[col];
                }
            }
        }
    }

    /// <summary>
    /// <see cref="Expand"/> for the Avx2 byte-pair lanes: lane (i, j) of pair q = the bytes of channels 2q, 2q + 1 at
    /// padded position (i·sh + ph, j·sw + pw), at plane + q·quadBytes + ((ph·sw + pw)·Hq·Wq + i·Wq + j)·2.
    /// </summary>
    private void ExpandPairs(byte* x, int za, byte* zpRow)
    {
        int w = _s.InW, wq = _wq, pl = _s.PadLeft, pt = _s.PadTop, sh = _s.StrideH, sw = _s.StrideW;
        ushort padLane = (ushort)(za | (za << 8));
        var mask = Vector128.Create((byte)(_xSigned ? 0x80 : 0));
        int sm = _xSigned ? 0x80 : 0;
        ushort* tmp = (ushort*)(zpRow + Align(_s.InW + 16));
        // per 128-bit half: the even 16-bit lanes to the low 8 bytes, the odd ones to the high 8 bytes
        var evenOdd = Vector256.Create((byte)0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15, 0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
        for (int q = 0; q < _quads; q++)
        {
            ushort* plane = (ushort*)(_plane + q * _quadBytes);
            if (!_skipFill) new Span<ushort>(plane, (int)(_quadBytes / 2)).Fill(padLane);
            int c0 = 2 * q, c1 = 2 * q + 1;
            for (int ih = 0; ih < _s.InH; ih++)
            {
                int r = pt + ih, ph = r % sh;
                if (!_rowPhaseUsed[ph]) continue;
                ushort* rowBase = plane + ph * sw * _phaseLanes + r / sh * wq;
                // stride 1 along W: the lanes go straight into the plane row; else through tmp, then split by phase
                ushort* d = sw == 1 ? rowBase + pl : tmp;
                byte* r0 = x + ((nint)c0 * _s.InH + ih) * w;
                byte* r1 = c1 < _s.InChannels ? x + ((nint)c1 * _s.InH + ih) * w : zpRow;
                int col = 0;
                for (; col + 16 <= w; col += 16)
                {
                    var v0 = Vector128.Load(r0 + col) ^ mask;
                    var v1 = Vector128.Load(r1 + col) ^ mask;
                    Sse2.UnpackLow(v0, v1).Store((byte*)(d + col));
                    Sse2.UnpackHigh(v0, v1).Store((byte*)(d + col + 8));
                }
                for (; col < w; col++)
                    d[col] = (ushort)((r0[col] ^ sm) | ((r1[col] ^ sm) << 8));
                if (sw == 1) continue;
                // padded column c = pl + col goes to phase c mod sw, lane c / sw
                for (int pw = 0; pw < sw; pw++)
                {
                    if (!_colPhaseUsed[pw]) continue;
                    ushort* dst = rowBase + pw * _phaseLanes;
                    col = ((pw - pl) % sw + sw) % sw;
                    ushort* dp = dst + (pl + col) / sw;
                    if (sw == 2)
                        // 16 lanes from col: the even ones (col, col + 2, ...) are the low 8 bytes of each half
                        for (; col + 16 <= w; col += 16, dp += 8)
                            Avx2.Permute4x64(Avx2.Shuffle(Vector256.Load((byte*)(tmp + col)), evenOdd).AsUInt64(), 0b11_01_10_00).GetLower().AsByte().Store((byte*)dp);
                    for (; col < w; col += sw) *dp++ = tmp[col];
                }
            }
        }
    }

    public void Execute(int part)
    {
        int* stage = (int*)(_stages + (nint)part * _stageBytes);
        int mr = _uk.MR, nr = _uk.NR;
        int item;
        fixed (byte* wData = _w.Data)
        fixed (int* offsets = _offsets)
        {
            while ((item = System.Threading.Interlocked.Increment(ref _next) - 1) < _chTiles)
            {
                byte* wPanel = wData + (nint)item * _w.PanelBytes;
                if (_outBytes == 1)
                {
                    BytesTile(wPanel, offsets, (byte*)stage, item);
                    continue;
                }
                for (int tile = 0; tile < _tiles; tile++)
                {
                    if (_pairs) QGemm6x16Avx2.RunTapsPairs(_taps, _quads, wPanel, _plane + (nint)tile * nr * 2, offsets, _quadBytes, stage + tile * nr, _ld);
                    else _uk.RunTaps(_taps, _quads, wPanel, _plane + (nint)tile * nr * 4, offsets, _quadBytes, stage + tile * nr, _ld);
                }
                int ch0 = item * mr, rows = Math.Min(mr, _s.OutChannels - ch0);
                for (int r = 0; r < rows; r++) RowGeneric(stage + r * _ld, ch0 + r);
            }
        }
    }

    /// <summary>
    /// Byte output: every tile requantized in registers (<see cref="QMicrokernel.RunTapsRequantized"/>) into a byte
    /// stage of MR rows along f, then each output row's OW bytes copied out (the junk columns stay behind).
    /// </summary>
    private void BytesTile(byte* wPanel, int* offsets, byte* stage, int item)
    {
        int mr = _uk.MR, nr = _uk.NR, ch0 = item * mr, rows = Math.Min(mr, _s.OutChannels - ch0);
        nint ld = _ld;
        int* rowOffsets = stackalloc int[8];
        float* mult = stackalloc float[8];
        for (int r = 0; r < mr; r++)
        {
            // rows past the last channel compute into the stage and are never copied
            rowOffsets[r] = r < rows ? _chanOffset[ch0 + r] : 0;
            mult[r] = r < rows ? _e.Multiplier[(ch0 + r) * _e.MultiplierStride] : 0f;
        }
        var rq = _requant;
        if (_pairs)
            QGemm6x16Avx2.RunTapsPairsRequantized(_tiles, _taps, _quads, wPanel, _plane, offsets, _quadBytes, rowOffsets, mult, rq, stage, ld);
        else
            for (int tile = 0; tile < _tiles; tile++)
                _uk.RunTapsRequantized(_taps, _quads, wPanel, _plane + (nint)tile * nr * 4, offsets, _quadBytes, rowOffsets, mult, 1, rq, stage + tile * nr, ld);
        int ow = _s.OutW, oh1 = _s.OutH, outPlane = _s.OutPlane;
        for (int r = 0; r < rows; r++)
        {
            byte* src = stage + r * ld;
            byte* d = _y + (nint)(ch0 + r) * outPlane;
            for (int oh = 0; oh < oh1; oh++)
                new ReadOnlySpan<byte>(src + oh * _wq, ow).CopyTo(new Span<byte>(d + oh * ow, ow));
        }
    }

    /// <summary>int32 / float output: the offset in place on each output row's values, then the shared writer.</summary>
    private void RowGeneric(int* acc, int ch)
    {
        int off = _chanOffset[ch], ow = _s.OutW, oh1 = _s.OutH;
        for (int oh = 0; oh < oh1; oh++)
        {
            int* src = acc + oh * _wq;
            int t = 0;
            var vo = Vector256.Create(off);
            for (; t + 8 <= ow; t += 8) (Vector256.Load(src + t) + vo).Store(src + t);
            for (; t < ow; t++) src[t] = unchecked(src[t] + off);
            QEpilogueWriter.Write(_output, src, ow, _y, (nint)ch * _s.OutPlane + oh * ow, ch, channelsAlongRow: false, _e);
        }
    }
}
