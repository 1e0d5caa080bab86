using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Execution.Threading;
using ExecutionContext = EdgeNet.Execution.ExecutionContext;

namespace EdgeNet.Kernels.Quantized;

/// <summary>
/// Stride-1 quantized conv (group 1, symmetric weights) without im2col, on the x86 tiles (Avx2 int16 pairs, AvxVnni
/// byte quads): each image is expanded once into a zero-point-padded plane per group of GroupK input channels
/// (lane (row, col) = the GroupK channels' values at that padded position, the <see cref="QMicrokernel"/> lane
/// encoding). Output positions are numbered along the padded width (f = oh·Wp + ow, the columns ow ≥ OW are computed
/// and dropped), so for every tap (kh, kw) the NR lanes a tile needs are the NR consecutive lanes at
/// f + kh·dh·Wp + kw·dw: the tile reads them in place (<see cref="QMicrokernel.RunTaps"/>), the weights being packed
/// tap-major (k = (tap, channel group, e)). Padding holds the input zero point, so it contributes 0, and the
/// accumulator is exactly the reference's: D − a_zp·Σw + bias. A channel tile of all positions is staged as int32,
/// then requantized row by row into Y (bytes: 16 at a time, the <see cref="QGemm"/> tile epilogue's arithmetic).
/// </summary>
internal sealed unsafe class QShiftedConv : IParallelWork
{
    private const long MinParallelMacs = 1 << 21;

    private readonly QConv2dShape _s;
    private readonly QPackedWeights _w;
    private readonly QMicrokernel _uk;
    private readonly QOutputKind _output;
    private readonly bool _xSigned;
    private readonly int _gk, _quads, _wp, _hp, _taps, _flat, _tiles, _ld, _chTiles, _outBytes;
    private readonly nint _quadBytes;
    private readonly int[] _offsets;
    private readonly int _planeBytes, _stageBytes, _offBytes, _zpRowBytes;

    // per run
    private byte* _plane, _stages, _y;
    private int* _chanOffset;
    private QEpilogue _e;
    private int _next;

    /// <summary>True when this path applies: stride 1, group 1, not a plain pointwise conv, symmetric weights, an x86 variant with <see cref="QMicrokernel.HasTaps"/>.</summary>
    public static bool Applies(QVariant variant, QConv2dShape s, bool weightsSigned, ReadOnlySpan<int> weightZeroPoints)
    {
        if (variant is not (QVariant.AvxVnni or QVariant.Avx2) || !QVariants.IsNative(variant) || !Avx2.IsSupported) return false;
        if (s.Group != 1 || s.StrideH != 1 || s.StrideW != 1 || s.IsPointwise) return false;
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
        _quads = (s.InChannels + _gk - 1) / _gk;
        _taps = s.KH * s.KW;
        _wp = s.PadLeft + s.InW + s.PadRight;
        _hp = s.PadTop + s.InH + s.PadBottom;
        int nr = _uk.NR, mr = _uk.MR;
        // f of the last output + 1; tiles of NR read up to (hp·wp + NR − 2) lanes (see the plane slack)
        _flat = (s.OutH - 1) * _wp + s.OutW;
        _tiles = (_flat + nr - 1) / nr;
        _ld = _tiles * nr + 16;
        _quadBytes = ((nint)(_hp * _wp + nr) * 4 + 63) & ~(nint)63;
        _offsets = new int[_taps];
        for (int kh = 0; kh < s.KH; kh++)
            for (int kw = 0; kw < s.KW; kw++)
                _offsets[kh * s.KW + kw] = (kh * s.DilationH * _wp + kw * s.DilationW) * 4;

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
        _zpRowBytes = Align(s.InW + 16);
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
        int za = _xSigned ? xZeroPoint + 128 : xZeroPoint;
        fixed (int* sums = _w.Sums)
            for (int ch = 0; ch < _s.OutChannels; ch++)
                _chanOffset[ch] = unchecked((e.Bias is null ? 0 : e.Bias[ch]) - za * sums[ch]);
        new Span<byte>(zpRow, _s.InW + 16).Fill((byte)xZeroPoint);
        for (int n = 0; n < _s.Batch; n++)
        {
            Expand(x + (nint)n * _s.InChannels * _s.InPlane, za, zpRow);
            _y = (byte*)y + (nint)n * _s.OutChannels * _s.OutPlane * _outBytes;
            _next = 0;
            if (ctx is null || Threads == 1) for (int part = 0; part < Threads; part++) Execute(part);
            else ctx.Parallel(this, Threads, Threads);
        }
    }

    /// <summary>The padded lane planes of one image: quad q, lane (row, col) at plane + q·quadBytes + (row·Wp + col)·4.</summary>
    private void Expand(byte* x, int za, byte* zpRow)
    {
        int w = _s.InW, wp = _wp, pl = _s.PadLeft, pt = _s.PadTop;
        uint padLane = _gk == 4 ? (uint)za * 0x01010101u : (uint)za | ((uint)za << 16);
        var mask = Vector128.Create((byte)(_xSigned ? 0x80 : 0));
        byte** rows = stackalloc byte*[4];
        for (int q = 0; q < _quads; q++)
        {
            uint* plane = (uint*)(_plane + q * _quadBytes);
            int laneCount = (int)(_quadBytes / 4);
            // top pad rows and the left pad of the first interior row
            new Span<uint>(plane, pt * wp + pl).Fill(padLane);
            for (int ih = 0; ih < _s.InH; ih++)
            {
                uint* d = plane + (pt + ih) * wp + pl;
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
                    int sm = _xSigned ? 0x80 : 0;
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
                    int sm = _xSigned ? 0x80 : 0;
                    for (; col < w; col++)
                        d[col] = (uint)(rows[0][col] ^ sm) | ((uint)(rows[1][col] ^ sm) << 16);
                }
                // right pad of this row + left pad of the next
                int gap = ih + 1 < _s.InH ? _s.PadRight + pl : 0;
                if (gap > 0) new Span<uint>(d + w, gap).Fill(padLane);
            }
            // right pad of the last row, bottom rows and the slack the last tiles read
            int start = (pt + _s.InH - 1) * wp + pl + w;
            new Span<uint>(plane + start, laneCount - start).Fill(padLane);
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
                for (int tile = 0; tile < _tiles; tile++)
                    _uk.RunTaps(_taps, _quads, wPanel, _plane + (nint)tile * nr * 4, offsets, _quadBytes, stage + tile * nr, _ld);
                int ch0 = item * mr, rows = Math.Min(mr, _s.OutChannels - ch0);
                for (int r = 0; r < rows; r++)
                {
                    if (_outBytes == 1) RowToBytes(stage + r * _ld, ch0 + r);
                    else RowGeneric(stage + r * _ld, ch0 + r);
                }
            }
        }
    }

    /// <summary>One channel's staged accumulators (padded-width rows) → requantized bytes of its output plane.</summary>
    private void RowToBytes(int* acc, int ch)
    {
        var e = _e;
        bool signed = _output == QOutputKind.Int8;
        var vlo = Vector256.Create((float)(e.QMin - e.ZeroPoint));
        var vhi = Vector256.Create((float)(e.QMax - e.ZeroPoint));
        var vzp = Vector256.Create(e.ZeroPoint);
        var off = Vector256.Create(_chanOffset[ch]);
        var m = Vector256.Create(e.Multiplier[ch * e.MultiplierStride]);
        int ow = _s.OutW;
        byte* plane = _y + (nint)ch * _s.OutPlane;
        byte* end = plane + _s.OutPlane;
        byte* tmp = stackalloc byte[16];
        for (int oh = 0; oh < _s.OutH; oh++)
        {
            int* src = acc + oh * _wp;
            byte* d = plane + oh * ow;
            for (int t = 0; t < ow; t += 16)
            {
                var f0 = Avx.Min(Avx.Max(Avx.RoundToNearestInteger(Avx.Multiply(Avx.ConvertToVector256Single(Vector256.Load(src + t) + off), m)), vlo), vhi);
                var f1 = Avx.Min(Avx.Max(Avx.RoundToNearestInteger(Avx.Multiply(Avx.ConvertToVector256Single(Vector256.Load(src + t + 8) + off), m)), vlo), vhi);
                var q0 = Avx.ConvertToVector256Int32WithTruncation(f0) + vzp;
                var q1 = Avx.ConvertToVector256Int32WithTruncation(f1) + vzp;
                var w16 = Avx2.Permute4x64(Avx2.PackSignedSaturate(q0, q1).AsInt64(), 0b11_01_10_00).AsInt16();
                var bytes = signed
                    ? Sse2.PackSignedSaturate(w16.GetLower(), w16.GetUpper()).AsByte()
                    : Sse2.PackUnsignedSaturate(w16.GetLower(), w16.GetUpper());
                // bytes past this row land on the next row's first outputs, rewritten next; never past the plane
                if (d + t + 16 <= end) bytes.Store(d + t);
                else
                {
                    bytes.Store(tmp);
                    for (int i = 0; i < ow - t; i++) d[t + i] = tmp[i];
                }
            }
        }
    }

    /// <summary>int32 / float output: the offset in place on each output row's values, then the shared writer.</summary>
    private void RowGeneric(int* acc, int ch)
    {
        int off = _chanOffset[ch], ow = _s.OutW;
        for (int oh = 0; oh < _s.OutH; oh++)
        {
            int* src = acc + oh * _wp;
            int t = 0;
            var vo = Vector256.Create(off);
            for (; t + 8 <= ow; t += 8) (Vector256.Load(src + t) + vo).Store(src + t);
            for (; t < ow; t++) src[t] = unchecked(src[t] + off);
            QEpilogueWriter.Write(_output, src, ow, _y, (nint)ch * _s.OutPlane + oh * ow, ch, channelsAlongRow: false, _e);
        }
    }
}
