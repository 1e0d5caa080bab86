using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Execution.Threading;
using ExecutionContext = EdgeNet.Execution.ExecutionContext;

namespace EdgeNet.Kernels.Quantized;

/// <summary>
/// Depthwise quantized conv on x86 (one filter per channel) over a padded byte plane: each channel's input is copied
/// once into a plane of uint8 values padded with the input zero point (so the padding contributes
/// <c>x_zp · w</c>, removed with the per-channel <c>x_zp · Σw</c>). The taps of a filter row are taken four at a time
/// (a "chunk": kw = 4j .. 4j + 3): for 8 consecutive outputs of a row, two 16-byte loads (outputs 0–3 and 4–7) and one
/// vpshufb gather, per 32-bit lane, the bytes <c>x[sw·t + e·dw]</c> of the chunk's taps, so a 3×3 filter is three
/// dot products per 8 outputs:
/// <list type="bullet">
/// <item><see cref="QVariant.AvxVnni"/>: one vpdpbusd per chunk (u8 × s8, 4 products per lane), when every
/// (w − w_zp) fits int8;</item>
/// <item>otherwise (Avx2, Avx512, or wide weights): two vpshufb into zero-extended int16 pairs and two vpmaddwd per
/// chunk against int16 weight pairs (exact for any weights).</item>
/// </list>
/// The accumulator starts at bias − x_zp·Σw, stays in a register over all chunks, and rows land back to back in the
/// accumulator plane (a row's extra lanes spill into the next row, which overwrites them), then one epilogue pass.
/// Output rows narrower than 16 (DS-CNN's 25×5, MobileNetV2's 7×7 and 14×14) instead run the plane as one flat index
/// (<see cref="FlatPlane{TLoad, TChunks}"/>): 8 consecutive outputs a vector whatever rows they straddle, through
/// per-vector load offsets and vpshufb controls built at prepare time (the zero-point padding between rows needs no
/// masks), byte output requantized in registers, and the padded plane itself written by 16-byte vpshufb blocks.
/// Applies when every chunk's gather fits a 16-byte load: 3·sw + (n − 1)·dw ≤ 15 (n = taps in the chunk), which
/// holds for 3×3 and 5×5 filters at strides 1–3 and dilation 1–2. Integer sums are exact, so the bytes equal
/// <see cref="QConv2dReference"/>'s.
/// </summary>
public sealed unsafe class QDepthwiseConvX86 : IParallelWork
{
    private readonly QConv2dShape _s;
    private readonly bool _vnni, _inputSigned;
    private readonly QOutputKind _output;
    private readonly int _chunks, _pw, _planeBytes, _accInts;
    /// <summary>Byte offset of each chunk (kh, j) from an output row's base in the plane.</summary>
    private readonly int[] _offsets;
    /// <summary>Per chunk: the vpshufb control (VNNI), or the two controls of the int16 pairs (32 bytes each).</summary>
    private readonly byte[] _controls;
    /// <summary>Per channel and chunk: 4 packed s8 weights (VNNI) or two int16 pairs.</summary>
    private readonly int[] _weights;
    /// <summary>Σ (w − w_zp) per channel.</summary>
    private readonly int[] _weightSums;
    private readonly bool _sameControl3;
    /// <summary><see cref="Plane3Bytes{TLoad, TChunks}"/> runs two output rows per step (stride 1–2, dilation 1 along H).</summary>
    private readonly bool _pairRows;
    /// <summary>Byte output through <see cref="Plane3Bytes{TLoad, TChunks}"/>: rows wide enough that 16-output steps waste little.</summary>
    private readonly bool _fusedBytes;
    /// <summary>Stride 1: both halves gather from one broadcast 16-byte load (upper-half indices shifted by 4).</summary>
    private readonly bool _broadcast;
    /// <summary>
    /// Flat plane (rows narrower than a vector, see <see cref="FlatPlane{TLoad, TChunks}"/>): per vector of 8 flat
    /// outputs, the byte offsets of its two halves' loads (equal when one broadcast load serves both), or null.
    /// </summary>
    private readonly int[]? _flatOffsets;
    /// <summary>Per flat vector: its vpshufb control (VNNI) or the two controls of the int16 pairs.</summary>
    private readonly byte[]? _flatControls;
    private readonly bool _flatBroadcast;
    private readonly int _flatVectors;
    /// <summary>
    /// Plane fill by 16-byte blocks (see <see cref="BuildBlockCopy"/>): per block its source offset in the channel's
    /// input, or null (row copies).
    /// </summary>
    private readonly int[]? _blockOffsets;
    /// <summary>Per block: the vpshufb control (16 bytes) and the padding mask (16 bytes).</summary>
    private readonly byte[]? _blockControls;

    /// <summary>OutH, OutW, OutPlane of the shape, computed once: its properties divide on every call (a fifth of a
    /// 960×7² layer's time when read per channel). Plane3Bytes reads the shape's own (once per call): with these
    /// fields its code ran 96×112² stride 2 at 0.273–0.281 instead of 0.242–0.249 ms.</summary>
    private readonly int _outH, _outW, _outPlane;

    // per run
    private byte* _x, _scratch;
    private void* _y;
    private int _za;
    private QEpilogue _e;
    private QTileRequant _requant;
    private int _next;

    private QDepthwiseConvX86(QConv2dShape s, bool vnni, int[] w, bool inputSigned, QOutputKind output, int threads)
    {
        _s = s;
        _outH = s.OutH;
        _outW = s.OutW;
        _outPlane = s.OutPlane;
        _vnni = vnni;
        _inputSigned = inputSigned;
        _output = output;
        int taps = s.KH * s.KW, perRow = (s.KW + 3) / 4;
        _chunks = s.KH * perRow;
        // at least the columns / rows the windows read (a window may run past the end padding when the size division truncates)
        _pw = Math.Max(s.InW + s.PadLeft + s.PadRight, (s.OutW - 1) * s.StrideW + (s.KW - 1) * s.DilationW + 1);
        int ph = Math.Max(s.InH + s.PadTop + s.PadBottom, (s.OutH - 1) * s.StrideH + (s.KH - 1) * s.DilationH + 1);
        _offsets = new int[_chunks];
        int controlsPerChunk = vnni ? 1 : 2;
        _controls = GC.AllocateArray<byte>(_chunks * controlsPerChunk * 32, pinned: true);
        _weights = new int[s.OutChannels * _chunks * controlsPerChunk];
        _weightSums = new int[s.OutChannels];
        int* q = stackalloc int[4];
        for (int kh = 0; kh < s.KH; kh++)
            for (int j = 0; j < perRow; j++)
            {
                int chunk = kh * perRow + j, n = Math.Min(4, s.KW - 4 * j);
                _offsets[chunk] = kh * s.DilationH * _pw + 4 * j * s.DilationW;
                for (int half = 0; half < 2; half++)
                    for (int t = 0; t < 4; t++)
                        for (int e = 0; e < 4; e++)
                        {
                            byte Index(int tap) => tap < n ? (byte)(s.StrideW * t + tap * s.DilationW) : (byte)0x80;
                            int at = half * 16 + t * 4 + e;
                            if (vnni) _controls[chunk * 32 + at] = Index(e);
                            else
                            {
                                // int16 pairs: A = taps (0, 1), B = taps (2, 3); odd bytes are the zero high halves
                                _controls[chunk * 64 + at] = (e & 1) != 0 ? (byte)0x80 : Index(e >> 1);
                                _controls[chunk * 64 + 32 + at] = (e & 1) != 0 ? (byte)0x80 : Index(2 + (e >> 1));
                            }
                        }
                for (int c = 0; c < s.OutChannels; c++)
                {
                    for (int e = 0; e < 4; e++) q[e] = e < n ? w[c * taps + kh * s.KW + 4 * j + e] : 0;
                    if (vnni)
                        _weights[c * _chunks + chunk] = (byte)q[0] | (byte)q[1] << 8 | (byte)q[2] << 16 | (byte)q[3] << 24;
                    else
                    {
                        _weights[(c * _chunks + chunk) * 2] = (ushort)q[0] | (ushort)q[1] << 16;
                        _weights[(c * _chunks + chunk) * 2 + 1] = (ushort)q[2] | (ushort)q[3] << 16;
                    }
                }
            }
        for (int c = 0; c < s.OutChannels; c++)
            for (int t = 0; t < taps; t++) _weightSums[c] += w[c * taps + t];
        int cb = controlsPerChunk * 32;
        _sameControl3 = _chunks == 3 && perRow == 1
            && _controls.AsSpan(0, cb).SequenceEqual(_controls.AsSpan(cb, cb)) && _controls.AsSpan(0, cb).SequenceEqual(_controls.AsSpan(2 * cb, cb));
        // stride 1: one 16-byte broadcast load serves both halves when the upper half's indices (+4) stay below 16
        _broadcast = s.StrideW == 1 && 7 + (Math.Min(4, s.KW) - 1) * s.DilationW <= 15;
        if (_broadcast)
            for (int i = 0; i < _controls.Length; i++)
                if ((i & 31) >= 16 && _controls[i] != 0x80) _controls[i] += 4;
        long flatLastRead = 0;
        if (_sameControl3 && s.OutW < FlatMaxWidth && s.OutPlane <= FlatMaxPlane && BuildFlat(s, _pw, vnni, out _flatOffsets, out _flatControls, out _flatBroadcast))
        {
            _flatVectors = _flatOffsets!.Length / 2;
            flatLastRead = (long)_flatOffsets.Max() + _offsets.Max() + 16;
            BuildBlockCopy(s, _pw, ph, out _blockOffsets, out _blockControls);
        }
        _pairRows = s.StrideH <= 2 && s.DilationH == 1;
        int v8 = (s.OutW + 7) / 8, v16 = (s.OutW + 15) / 16;
        _fusedBytes = output is QOutputKind.UInt8 or QOutputKind.Int8 && 2 * v16 <= v8 + (s.OutW >= 32 ? 1 : 0);
        // the fused byte planes (Plane3Bytes) run 16 outputs a step
        int outVectors = (s.OutW + 15) / 16 * 16;
        long lastRead = (long)(s.OutH - 1) * s.StrideH * _pw + _offsets.Max() + (long)s.StrideW * (outVectors - 8 + 4) + 16;
        _planeBytes = (int)((Math.Max(Math.Max((long)ph * _pw, lastRead), flatLastRead) + 63) & ~63L);
        _accInts = ((s.OutH - 1) * s.OutW + outVectors + 15) & ~15;
        long macs = (long)s.Batch * s.OutChannels * s.OutPlane * taps;
        Threads = macs < (1 << 20) ? 1 : Math.Max(1, Math.Min(threads, s.Batch * s.OutChannels));
    }

    /// <summary>
    /// Output rows narrower than this take the flat plane path (when its gathers fit): below 8 the row steps waste
    /// most lanes; 8–15 (MobileNetV2's 14×14) the flat steps skip the row path's 16-output step per row (14 of 16
    /// lanes used) and the 16-byte block copy replaces the per-row plane copies (384×14² s1: 0.038 → 0.032 ms Avx2,
    /// 0.033 → 0.026 ms AvxVnni). From 28 wide the row pairs (shared gathers) win: 192×28² 0.052 → 0.056 ms flat.
    /// </summary>
    internal const int FlatMaxWidth = 16;

    /// <summary>Largest flat plane (its tables take 8 bytes per output, the plane fill 2.25 bytes per padded byte).</summary>
    internal const int FlatMaxPlane = 8192;

    /// <summary>True when byte output runs two rows per step through <see cref="Plane3Bytes{TLoad, TChunks}"/>.</summary>
    internal bool UsesPairedRows => _pairRows && _sameControl3 && _fusedBytes && _flatOffsets is null;

    /// <summary>True when the output plane runs as one flat index (<see cref="FlatPlane{TLoad, TChunks}"/>).</summary>
    internal bool UsesFlatPlane => _flatOffsets is not null;

    /// <summary>
    /// Tables of the flat plane path: flat output o (row o / OW, column o % OW) has its window's top-left byte at
    /// base(o) = (o / OW)·sh·pw + (o % OW)·sw in the zero-point padded plane, so the padding between rows plays the
    /// role of the fp32 kernel's column masks. Vectors hold 8 consecutive flat outputs (past the plane's end they repeat
    /// the last output, so every read stays inside the plane; the vector count is even for the 16-byte requant
    /// steps, and a plane of 16 outputs or more has its last step end at the plane's end, overlapping the previous
    /// one, so every store is a whole 16 bytes). Each 128-bit half gathers its 4 outputs' taps from one 16-byte load at the half's first base, or both
    /// halves from one broadcast load at the vector's first base when every vector's bytes fit 16. False when a
    /// half's bytes do not fit a 16-byte load (very narrow rows with wide pads or strides): the row path applies.
    /// </summary>
    private static bool BuildFlat(QConv2dShape s, int pw, bool vnni, out int[]? offsets, out byte[]? controls, out bool broadcast)
    {
        int count = s.OutPlane, vectors = ((count + 15) / 16) * 2, reach = (Math.Min(4, s.KW) - 1) * s.DilationW;
        int Base(int o)
        {
            o = Math.Min(o, count - 1);
            return o / s.OutW * s.StrideH * pw + o % s.OutW * s.StrideW;
        }
        // the last 16-output step ends at the plane's end (overlapping the previous one) when the plane holds 16
        int First(int v) => count >= 16 ? Math.Min(8 * (v & ~1), count - 16) + 8 * (v & 1) : 8 * v;
        broadcast = true;
        bool halves = true;
        for (int v = 0; v < vectors; v++)
        {
            int f = First(v), lo = Base(f), mid = Base(f + 4);
            if (Base(f + 7) - lo + reach > 15) broadcast = false;
            if (Base(f + 3) - lo + reach > 15 || Base(f + 7) - mid + reach > 15) halves = false;
        }
        offsets = null;
        controls = null;
        if (!broadcast && !halves) return false;
        int perVector = vnni ? 32 : 64;
        offsets = new int[2 * vectors];
        controls = GC.AllocateArray<byte>(vectors * perVector, pinned: true);
        int n = Math.Min(4, s.KW);
        for (int v = 0; v < vectors; v++)
        {
            int f = First(v);
            offsets[2 * v] = Base(f);
            offsets[2 * v + 1] = broadcast ? Base(f) : Base(f + 4);
            for (int half = 0; half < 2; half++)
                for (int t = 0; t < 4; t++)
                {
                    int rel = Base(f + 4 * half + t) - offsets[2 * v + half];
                    for (int e = 0; e < 4; e++)
                    {
                        byte Index(int tap) => tap < n ? (byte)(rel + tap * s.DilationW) : (byte)0x80;
                        int at = v * perVector + half * 16 + t * 4 + e;
                        if (vnni) controls[at] = Index(e);
                        else
                        {
                            controls[at] = (e & 1) != 0 ? (byte)0x80 : Index(e >> 1);
                            controls[at + 32] = (e & 1) != 0 ? (byte)0x80 : Index(2 + (e >> 1));
                        }
                    }
                }
        }
        return true;
    }

    /// <summary>
    /// Tables that write a channel's whole padded plane (interior and padding) in 16-byte blocks from its input:
    /// block k holds padded bytes 16k .. 16k + 15, gathered by one vpshufb from the 16 input bytes at its offset, the
    /// padding positions (control 0x80 → 0) then set to the zero point through the mask. The input bytes a block
    /// needs span at most 16 (a padded row is at least as wide as an input row), and the offset is pulled back so the
    /// load ends inside the channel's input. Null when the channel's input is shorter than 16 bytes.
    /// </summary>
    private static void BuildBlockCopy(QConv2dShape s, int pw, int ph, out int[]? offsets, out byte[]? controls)
    {
        offsets = null;
        controls = null;
        int inPlane = s.InPlane, blocks = (ph * pw + 15) / 16;
        if (inPlane < 16) return;
        var o = new int[blocks];
        var c = GC.AllocateArray<byte>(blocks * 32, pinned: true);
        for (int k = 0; k < blocks; k++)
        {
            int first = -1;
            for (int i = 0; i < 16; i++)
            {
                int src = Source(16 * k + i);
                if (src >= 0 && first < 0) first = src;
            }
            o[k] = first < 0 ? 0 : Math.Min(first, inPlane - 16);
            for (int i = 0; i < 16; i++)
            {
                int src = Source(16 * k + i);
                if (src >= 0 && src - o[k] is < 0 or > 15) return;
                c[32 * k + i] = src < 0 ? (byte)0x80 : (byte)(src - o[k]);
                c[32 * k + 16 + i] = src < 0 ? (byte)0xFF : (byte)0;
            }
        }
        offsets = o;
        controls = c;

        // input index of padded byte q, or -1 for padding
        int Source(int q)
        {
            int ih = q / pw - s.PadTop, iw = q % pw - s.PadLeft;
            return q < ph * pw && ih >= 0 && ih < s.InH && iw >= 0 && iw < s.InW ? ih * s.InW + iw : -1;
        }
    }

    /// <summary>Writes the channel's padded plane with the block tables (int8 input → uint8 by the mask).</summary>
    private static void CopyBlocks(byte* src, byte* plane, int* offsets, byte* controls, int blocks, byte mask, byte za)
    {
        var vm = Vector128.Create(mask);
        var vz = Vector128.Create(za);
        for (int k = 0; k < blocks; k++, plane += 16, controls += 32)
        {
            var v = Ssse3.Shuffle(Vector128.Load(src + offsets[k]) ^ vm, Vector128.Load(controls));
            (v | (Vector128.Load(controls + 16) & vz)).Store(plane);
        }
    }

    /// <summary>
    /// The x86 kernel for this variant and geometry, or null (non-x86 variant, no AVX2, or a chunk gather that does
    /// not fit a 16-byte load). w holds (w − w_zp) per channel and tap, as <see cref="QDepthwiseConv"/> prepares it.
    /// </summary>
    internal static QDepthwiseConvX86? TryCreate(QVariant variant, QConv2dShape s, int[] w, bool inputSigned, QOutputKind output, int threads)
    {
        if (!Avx2.IsSupported || variant is not (QVariant.Avx2 or QVariant.AvxVnni or QVariant.Avx512)) return null;
        if (3 * s.StrideW + (Math.Min(4, s.KW) - 1) * s.DilationW > 15) return null;
        bool vnni = variant == QVariant.AvxVnni && AvxVnni.IsSupported && w.All(v => v is >= -128 and <= 127);
        return new QDepthwiseConvX86(s, vnni, w, inputSigned, output, threads);
    }

    public int Threads { get; }
    public int ScratchBytes => Threads * (_planeBytes + _accInts * sizeof(int)) + 64;

    public void Run(ExecutionContext? ctx, byte* x, int xZeroPoint, void* y, in QEpilogue e, byte* scratch)
    {
        _x = x; _y = y; _e = e;
        _scratch = (byte*)(((nint)scratch + 63) & ~(nint)63);
        _za = _inputSigned ? xZeroPoint + 128 : xZeroPoint;
        if (_output is QOutputKind.UInt8 or QOutputKind.Int8) _requant = new QTileRequant(e, _output == QOutputKind.Int8, _s.OutChannels);
        _next = 0;
        if (ctx is null || Threads == 1) for (int p = 0; p < Threads; p++) Execute(p);
        else ctx.Parallel(this, Threads, Threads);
    }

    public void Execute(int part)
    {
        var s = _s;
        byte* plane = _scratch + (nint)part * (_planeBytes + _accInts * sizeof(int));
        int* acc = (int*)(plane + _planeBytes);
        int items = s.Batch * s.OutChannels;
        // every channel writes the same interior, so the zero-point padding filled here stays
        new Span<byte>(plane, _planeBytes).Fill((byte)_za);
        byte mask = _inputSigned ? (byte)0x80 : (byte)0;
        int channels = s.OutChannels, inPlane = s.InPlane, inH = s.InH, inW = s.InW, padTop = s.PadTop, padLeft = s.PadLeft;
        // one thread takes every channel in one claim; threads claim runs of channels (fewer atomics, no per-channel division)
        int claim = Threads == 1 ? items : Math.Max(1, items / (4 * Threads));
        int start;
        fixed (byte* controls = _controls)
        fixed (int* weights = _weights)
        fixed (int* offsets = _offsets)
        fixed (int* bo = _blockOffsets)
        fixed (byte* bc = _blockControls)
        fixed (byte* fc = _flatControls)
        fixed (int* fo = _flatOffsets)
            while ((start = System.Threading.Interlocked.Add(ref _next, claim) - claim) < items)
            {
                for (int item = start, stop = Math.Min(items, start + claim), c = start % channels; item < stop; item++, c = c + 1 == channels ? 0 : c + 1)
                {
                    byte* src = _x + (nint)item * inPlane;
                    if (bo is not null)
                        CopyBlocks(src, plane, bo, bc, _blockOffsets!.Length, mask, (byte)_za);
                    else
                        for (int ih = 0; ih < inH; ih++) CopyRow(src + (nint)ih * inW, plane + (nint)(ih + padTop) * _pw + padLeft, inW, mask);
                    int bias = unchecked((_e.Bias is null ? 0 : _e.Bias[c]) - _za * _weightSums[c]);
                    if (_flatOffsets is not null)
                    {
                        bool bytes = _output is QOutputKind.UInt8 or QOutputKind.Int8;
                        byte* yc = (byte*)_y + (nint)item * _outPlane;
                        float m = bytes ? _e.Multiplier[c * _e.MultiplierStride] : 0f;
                        if (_vnni && _flatBroadcast) FlatPlane<Broadcast, VnniChunks>(plane, offsets, fo, fc, weights + c * 3, bias, acc, yc, m, bytes);
                        else if (_vnni) FlatPlane<TwoLoads, VnniChunks>(plane, offsets, fo, fc, weights + c * 3, bias, acc, yc, m, bytes);
                        else if (_flatBroadcast) FlatPlane<Broadcast, WideChunks>(plane, offsets, fo, fc, weights + c * 6, bias, acc, yc, m, bytes);
                        else FlatPlane<TwoLoads, WideChunks>(plane, offsets, fo, fc, weights + c * 6, bias, acc, yc, m, bytes);
                        if (!bytes) QEpilogueWriter.Write(_output, acc, _outPlane, _y, (nint)item * _outPlane, c, channelsAlongRow: false, _e, padded: true);
                        continue;
                    }
                    if (_sameControl3 && _fusedBytes)
                    {
                        byte* yc = (byte*)_y + (nint)item * _outPlane;
                        float m = _e.Multiplier[c * _e.MultiplierStride];
                        if (_vnni && _broadcast) Plane3Bytes<Broadcast, VnniChunks>(plane, offsets, controls, weights + c * 3, bias, yc, m);
                        else if (_vnni) Plane3Bytes<TwoLoads, VnniChunks>(plane, offsets, controls, weights + c * 3, bias, yc, m);
                        else if (_broadcast) Plane3Bytes<Broadcast, WideChunks>(plane, offsets, controls, weights + c * 6, bias, yc, m);
                        else Plane3Bytes<TwoLoads, WideChunks>(plane, offsets, controls, weights + c * 6, bias, yc, m);
                        continue;
                    }
                    if (_sameControl3 && _vnni)
                    {
                        if (_broadcast) Plane3Vnni<Broadcast>(plane, offsets, controls, weights + c * 3, bias, acc);
                        else Plane3Vnni<TwoLoads>(plane, offsets, controls, weights + c * 3, bias, acc);
                    }
                    else if (_sameControl3)
                    {
                        if (_broadcast) Plane3Wide<Broadcast>(plane, offsets, controls, weights + c * 6, bias, acc);
                        else Plane3Wide<TwoLoads>(plane, offsets, controls, weights + c * 6, bias, acc);
                    }
                    else
                        for (int oh = 0, outH = _outH; oh < outH; oh++)
                        {
                            byte* rowBase = plane + (nint)oh * s.StrideH * _pw;
                            int* rowAcc = acc + (nint)oh * _outW;
                            int* wc = weights + c * _chunks * (_vnni ? 1 : 2);
                            if (_vnni && _broadcast) RowVnni<Broadcast>(rowBase, offsets, controls, wc, _chunks, bias, rowAcc, _outW, s.StrideW);
                            else if (_vnni) RowVnni<TwoLoads>(rowBase, offsets, controls, wc, _chunks, bias, rowAcc, _outW, s.StrideW);
                            else if (_broadcast) RowWide<Broadcast>(rowBase, offsets, controls, wc, _chunks, bias, rowAcc, _outW, s.StrideW);
                            else RowWide<TwoLoads>(rowBase, offsets, controls, wc, _chunks, bias, rowAcc, _outW, s.StrideW);
                        }
                    QEpilogueWriter.Write(_output, acc, _outPlane, _y, (nint)item * _outPlane, c, channelsAlongRow: false, _e, padded: true);
                }
            }
    }

    /// <summary>Copies count bytes (xor mask: int8 → uint8) without touching the bytes around them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRow(byte* src, byte* dst, int count, byte mask)
    {
        if (count >= 32 && Vector256.IsHardwareAccelerated)
        {
            // 32 bytes a step (half the load/xor/store count of 16: the copy is a fifth of a stride-2 channel's work)
            var vm = Vector256.Create(mask);
            int i = 0;
            for (; i + 32 <= count; i += 32) (Vector256.Load(src + i) ^ vm).Store(dst + i);
            if (i < count) (Vector256.Load(src + count - 32) ^ vm).Store(dst + count - 32);
        }
        else if (count >= 16)
        {
            var vm = Vector128.Create(mask);
            int i = 0;
            for (; i + 16 <= count; i += 16) (Vector128.Load(src + i) ^ vm).Store(dst + i);
            // the last 16 bytes of the row, overlapping the ones done
            if (i < count) (Vector128.Load(src + count - 16) ^ vm).Store(dst + count - 16);
        }
        else if (count >= 8)
        {
            ulong m8 = mask * 0x0101010101010101UL;
            *(ulong*)dst = *(ulong*)src ^ m8;
            *(ulong*)(dst + count - 8) = *(ulong*)(src + count - 8) ^ m8;
        }
        else if (count >= 4)
        {
            uint m4 = mask * 0x01010101u;
            *(uint*)dst = *(uint*)src ^ m4;
            *(uint*)(dst + count - 4) = *(uint*)(src + count - 4) ^ m4;
        }
        else
            for (int i = 0; i < count; i++) dst[i] = (byte)(src[i] ^ mask);
    }

    /// <summary>How the 8 outputs' bytes reach the two 128-bit halves before the vpshufb.</summary>
    private interface ILoad
    {
        static abstract Vector256<byte> Load(byte* p, nint high);
    }

    /// <summary>Two 16-byte loads: outputs 0–3 from p, 4–7 from p + 4·sw.</summary>
    private readonly struct TwoLoads : ILoad
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Load(byte* p, nint high) => Vector256.Create(Vector128.Load(p), Vector128.Load(p + high));
    }

    /// <summary>Stride 1: one broadcast load, the upper half's control reads 4 bytes further.</summary>
    private readonly struct Broadcast : ILoad
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Load(byte* p, nint high) => Avx2.BroadcastVector128ToVector256(p);
    }

    /// <summary>3 chunks sharing one control (3×3, or any KH = 3 with KW ≤ 4), all rows of a channel: the weights stay in registers.</summary>
    private void Plane3Vnni<TLoad>(byte* plane, int* off, byte* controls, int* w, int bias, int* acc) where TLoad : struct, ILoad
    {
        var ctl = Vector256.Load(controls);
        var w0 = Vector256.Create(w[0]).AsSByte();
        var w1 = Vector256.Create(w[1]).AsSByte();
        var w2 = Vector256.Create(w[2]).AsSByte();
        var b = Vector256.Create(bias);
        int sw = _s.StrideW, outW = _outW, outH = _outH;
        nint high = 4 * sw, step = 8 * sw, rowStep = (nint)_s.StrideH * _pw;
        nint o0 = off[0], o1 = off[1], o2 = off[2];
        for (int oh = 0; oh < outH; oh++, plane += rowStep, acc += outW)
        {
            byte* p = plane;
            for (int t = 0; t < outW; t += 8, p += step)
            {
                var a = AvxVnni.MultiplyWideningAndAdd(b, Avx2.Shuffle(TLoad.Load(p + o0, high), ctl), w0);
                a = AvxVnni.MultiplyWideningAndAdd(a, Avx2.Shuffle(TLoad.Load(p + o1, high), ctl), w1);
                a = AvxVnni.MultiplyWideningAndAdd(a, Avx2.Shuffle(TLoad.Load(p + o2, high), ctl), w2);
                a.Store(acc + t);
            }
        }
    }

    /// <summary>Three chunks' dot products for 8 outputs from their three gathers (VNNI or int16 pairs).</summary>
    private interface IChunks
    {
        static abstract Vector256<int> Dot3(Vector256<int> acc, Vector256<byte> v0, Vector256<byte> v1, Vector256<byte> v2, in Weights3 w);

        /// <summary>A chunk's gather (the first vpshufb) of loaded bytes v, shared by two output rows.</summary>
        static abstract Vector256<byte> GatherA(Vector256<byte> v, in Weights3 w);

        /// <summary>The second vpshufb (int16 pairs), or zero (VNNI: unused).</summary>
        static abstract Vector256<byte> GatherB(Vector256<byte> v, in Weights3 w);

        /// <summary><see cref="Dot3"/> from already gathered chunks (filter rows 0, 1, 2).</summary>
        static abstract Vector256<int> Dot3Gathered(Vector256<int> acc, Vector256<byte> g0a, Vector256<byte> g0b, Vector256<byte> g1a, Vector256<byte> g1b,
            Vector256<byte> g2a, Vector256<byte> g2b, in Weights3 w);

        /// <summary><see cref="Dot3"/> with the gather controls of this vector (the flat plane's per-vector tables).</summary>
        static abstract Vector256<int> Dot3(Vector256<int> acc, Vector256<byte> v0, Vector256<byte> v1, Vector256<byte> v2, byte* controls, in Weights3 w);
    }

    private readonly struct Weights3(byte* controls, int* w, bool wide)
    {
        public readonly Vector256<byte> Ca = Vector256.Load(controls), Cb = wide ? Vector256.Load(controls + 32) : default;
        public readonly Vector256<int> W0 = Vector256.Create(w[0]), W1 = Vector256.Create(w[1]), W2 = Vector256.Create(w[2]);
        public readonly Vector256<int> W3 = wide ? Vector256.Create(w[3]) : default, W4 = wide ? Vector256.Create(w[4]) : default, W5 = wide ? Vector256.Create(w[5]) : default;
    }

    private readonly struct VnniChunks : IChunks
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot3(Vector256<int> acc, Vector256<byte> v0, Vector256<byte> v1, Vector256<byte> v2, in Weights3 w)
        {
            acc = AvxVnni.MultiplyWideningAndAdd(acc, Avx2.Shuffle(v0, w.Ca), w.W0.AsSByte());
            acc = AvxVnni.MultiplyWideningAndAdd(acc, Avx2.Shuffle(v1, w.Ca), w.W1.AsSByte());
            return AvxVnni.MultiplyWideningAndAdd(acc, Avx2.Shuffle(v2, w.Ca), w.W2.AsSByte());
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot3(Vector256<int> acc, Vector256<byte> v0, Vector256<byte> v1, Vector256<byte> v2, byte* controls, in Weights3 w)
        {
            var ca = Vector256.Load(controls);
            acc = AvxVnni.MultiplyWideningAndAdd(acc, Avx2.Shuffle(v0, ca), w.W0.AsSByte());
            acc = AvxVnni.MultiplyWideningAndAdd(acc, Avx2.Shuffle(v1, ca), w.W1.AsSByte());
            return AvxVnni.MultiplyWideningAndAdd(acc, Avx2.Shuffle(v2, ca), w.W2.AsSByte());
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> GatherA(Vector256<byte> v, in Weights3 w) => Avx2.Shuffle(v, w.Ca);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> GatherB(Vector256<byte> v, in Weights3 w) => default;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot3Gathered(Vector256<int> acc, Vector256<byte> g0a, Vector256<byte> g0b, Vector256<byte> g1a, Vector256<byte> g1b,
            Vector256<byte> g2a, Vector256<byte> g2b, in Weights3 w)
        {
            acc = AvxVnni.MultiplyWideningAndAdd(acc, g0a, w.W0.AsSByte());
            acc = AvxVnni.MultiplyWideningAndAdd(acc, g1a, w.W1.AsSByte());
            return AvxVnni.MultiplyWideningAndAdd(acc, g2a, w.W2.AsSByte());
        }
    }

    private readonly struct WideChunks : IChunks
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot3(Vector256<int> acc, Vector256<byte> v0, Vector256<byte> v1, Vector256<byte> v2, in Weights3 w)
        {
            var a = acc + Avx2.MultiplyAddAdjacent(Avx2.Shuffle(v0, w.Ca).AsInt16(), w.W0.AsInt16()) + Avx2.MultiplyAddAdjacent(Avx2.Shuffle(v0, w.Cb).AsInt16(), w.W1.AsInt16());
            var a1 = Avx2.MultiplyAddAdjacent(Avx2.Shuffle(v1, w.Ca).AsInt16(), w.W2.AsInt16()) + Avx2.MultiplyAddAdjacent(Avx2.Shuffle(v1, w.Cb).AsInt16(), w.W3.AsInt16());
            var a2 = Avx2.MultiplyAddAdjacent(Avx2.Shuffle(v2, w.Ca).AsInt16(), w.W4.AsInt16()) + Avx2.MultiplyAddAdjacent(Avx2.Shuffle(v2, w.Cb).AsInt16(), w.W5.AsInt16());
            return a + a1 + a2;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot3(Vector256<int> acc, Vector256<byte> v0, Vector256<byte> v1, Vector256<byte> v2, byte* controls, in Weights3 w)
        {
            var ca = Vector256.Load(controls);
            var cb = Vector256.Load(controls + 32);
            var a = acc + Avx2.MultiplyAddAdjacent(Avx2.Shuffle(v0, ca).AsInt16(), w.W0.AsInt16()) + Avx2.MultiplyAddAdjacent(Avx2.Shuffle(v0, cb).AsInt16(), w.W1.AsInt16());
            var a1 = Avx2.MultiplyAddAdjacent(Avx2.Shuffle(v1, ca).AsInt16(), w.W2.AsInt16()) + Avx2.MultiplyAddAdjacent(Avx2.Shuffle(v1, cb).AsInt16(), w.W3.AsInt16());
            var a2 = Avx2.MultiplyAddAdjacent(Avx2.Shuffle(v2, ca).AsInt16(), w.W4.AsInt16()) + Avx2.MultiplyAddAdjacent(Avx2.Shuffle(v2, cb).AsInt16(), w.W5.AsInt16());
            return a + a1 + a2;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> GatherA(Vector256<byte> v, in Weights3 w) => Avx2.Shuffle(v, w.Ca);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> GatherB(Vector256<byte> v, in Weights3 w) => Avx2.Shuffle(v, w.Cb);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot3Gathered(Vector256<int> acc, Vector256<byte> g0a, Vector256<byte> g0b, Vector256<byte> g1a, Vector256<byte> g1b,
            Vector256<byte> g2a, Vector256<byte> g2b, in Weights3 w)
        {
            // the same sums, in the same grouping, as Dot3 (integer adds: any order is exact anyway)
            var a = acc + Avx2.MultiplyAddAdjacent(g0a.AsInt16(), w.W0.AsInt16()) + Avx2.MultiplyAddAdjacent(g0b.AsInt16(), w.W1.AsInt16());
            var a1 = Avx2.MultiplyAddAdjacent(g1a.AsInt16(), w.W2.AsInt16()) + Avx2.MultiplyAddAdjacent(g1b.AsInt16(), w.W3.AsInt16());
            var a2 = Avx2.MultiplyAddAdjacent(g2a.AsInt16(), w.W4.AsInt16()) + Avx2.MultiplyAddAdjacent(g2b.AsInt16(), w.W5.AsInt16());
            return a + a1 + a2;
        }
    }

    /// <summary>
    /// One 8-output chunk of two output rows: plane rows p, p + pw, … (4 at stride 1, 5 at stride 2) loaded and
    /// gathered once, filter rows 0–2 dotted for row 0 from plane rows 0–2 and for row 1 from rows 1–3 (stride 1) or
    /// 2–4 (stride 2).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowPair<TLoad, TChunks>(byte* p, nint pw, nint high, bool stride1, Vector256<int> b, in Weights3 weights,
        out Vector256<int> row0, out Vector256<int> row1) where TLoad : struct, ILoad where TChunks : struct, IChunks
    {
        var v0 = TLoad.Load(p, high);
        var v1 = TLoad.Load(p + pw, high);
        var v2 = TLoad.Load(p + 2 * pw, high);
        var v3 = TLoad.Load(p + 3 * pw, high);
        Vector256<byte> g0a = TChunks.GatherA(v0, weights), g0b = TChunks.GatherB(v0, weights);
        Vector256<byte> g1a = TChunks.GatherA(v1, weights), g1b = TChunks.GatherB(v1, weights);
        Vector256<byte> g2a = TChunks.GatherA(v2, weights), g2b = TChunks.GatherB(v2, weights);
        Vector256<byte> g3a = TChunks.GatherA(v3, weights), g3b = TChunks.GatherB(v3, weights);
        row0 = TChunks.Dot3Gathered(b, g0a, g0b, g1a, g1b, g2a, g2b, weights);
        if (stride1) row1 = TChunks.Dot3Gathered(b, g1a, g1b, g2a, g2b, g3a, g3b, weights);
        else
        {
            var v4 = TLoad.Load(p + 4 * pw, high);
            row1 = TChunks.Dot3Gathered(b, g2a, g2b, g3a, g3b, TChunks.GatherA(v4, weights), TChunks.GatherB(v4, weights), weights);
        }
    }

    /// <summary>
    /// <see cref="Plane3Vnni{TLoad}"/> / <see cref="Plane3Wide{TLoad}"/> with byte output fused: 16 outputs a step,
    /// requantized in registers (<see cref="QTileRequant"/>) and stored into the channel's output plane. A row's
    /// extra bytes land on the next row's first outputs, rewritten next; the last row ends with an exact copy.
    /// </summary>
    private void Plane3Bytes<TLoad, TChunks>(byte* plane, int* off, byte* controls, int* w, int bias, byte* y, float m)
        where TLoad : struct, ILoad where TChunks : struct, IChunks
    {
        var weights = new Weights3(controls, w, typeof(TChunks) == typeof(WideChunks));
        var rq = _requant;
        var b = Vector256.Create(bias);
        int sw = _s.StrideW, outW = _s.OutW, outH = _s.OutH;
        nint high = 4 * sw, step = 8 * sw, rowStep = (nint)_s.StrideH * _pw;
        nint o0 = off[0], o1 = off[1], o2 = off[2];
        byte* end = y + _s.OutPlane;
        byte* tmp = stackalloc byte[16];
        int oh = 0;
        if (_pairRows)
        {
            // dilation 1: rows oh and oh + 1 read plane rows sh·oh .. sh·oh + sh + 2, so 4 (stride 1) or 5 (stride 2)
            // loads and gathers serve both (6 each). Steps run backwards: row oh's last step spills into row oh + 1's
            // first outputs, stored after it.
            nint pw = _pw;
            bool stride1 = _s.StrideH == 1;
            int last = (outW - 1) / 16 * 16;
            for (; oh + 2 <= outH; oh += 2, plane += 2 * rowStep, y += 2 * outW)
                for (int t = last; t >= 0; t -= 16)
                {
                    byte* p = plane + (nint)t * sw + o0;
                    RowPair<TLoad, TChunks>(p, pw, high, stride1, b, weights, out var lo0, out var lo1);
                    RowPair<TLoad, TChunks>(p + step, pw, high, stride1, b, weights, out var hi0, out var hi1);
                    byte* y1 = y + outW + t;
                    if (y1 + 16 <= end) rq.Rows2(lo0, hi0, m, y + t, lo1, hi1, m, y1);
                    else
                    {
                        rq.Row(lo0, hi0, m, y + t);
                        rq.Row(lo1, hi1, m, tmp);
                        for (int i = 0; i < outW - t; i++) y1[i] = tmp[i];
                    }
                }
        }
        for (; oh < outH; oh++, plane += rowStep, y += outW)
        {
            byte* p = plane;
            for (int t = 0; t < outW; t += 16, p += 2 * step)
            {
                var a0 = TChunks.Dot3(b, TLoad.Load(p + o0, high), TLoad.Load(p + o1, high), TLoad.Load(p + o2, high), weights);
                var a1 = TChunks.Dot3(b, TLoad.Load(p + step + o0, high), TLoad.Load(p + step + o1, high), TLoad.Load(p + step + o2, high), weights);
                if (y + t + 16 <= end) rq.Row(a0, a1, m, y + t);
                else
                {
                    rq.Row(a0, a1, m, tmp);
                    for (int i = 0; i < outW - t; i++) y[t + i] = tmp[i];
                }
            }
        }
    }

    /// <summary>
    /// Rows narrower than a vector (DS-CNN's 25×5 planes): the output plane as one flat index, 8 outputs a vector
    /// whatever rows they straddle, from the per-vector load offsets and gather controls of <see cref="BuildFlat"/>;
    /// the three filter rows are the same gathers <c>off[kh]</c> bytes further. Byte output is requantized in
    /// registers 16 outputs at a time (a plane under 16 outputs through a temporary); other kinds store the int32
    /// plane for the epilogue.
    /// </summary>
    private void FlatPlane<TLoad, TChunks>(byte* plane, int* off, int* offsets, byte* controls, int* w, int bias, int* acc, byte* y, float m, bool bytes)
        where TLoad : struct, ILoad where TChunks : struct, IChunks
    {
        bool wide = typeof(TChunks) == typeof(WideChunks);
        var weights = new Weights3(controls, w, wide);
        var b = Vector256.Create(bias);
        nint o0 = off[0], o1 = off[1], o2 = off[2], perVector = wide ? 64 : 32;
        int vectors = _flatVectors, count = _outPlane;
        if (!bytes)
        {
            for (int v = 0; v < vectors; v++, offsets += 2, controls += perVector)
            {
                byte* p = plane + offsets[0];
                nint high = offsets[1] - offsets[0];
                int first = count >= 16 ? Math.Min(8 * (v & ~1), count - 16) + 8 * (v & 1) : 8 * v;
                TChunks.Dot3(b, TLoad.Load(p + o0, high), TLoad.Load(p + o1, high), TLoad.Load(p + o2, high), controls, weights).Store(acc + first);
            }
            return;
        }
        var rq = _requant;
        byte* tmp = stackalloc byte[16];
        for (int t = 0; t < count; t += 16, offsets += 4, controls += 2 * perVector)
        {
            byte* p = plane + offsets[0], q = plane + offsets[2];
            nint hp = offsets[1] - offsets[0], hq = offsets[3] - offsets[2];
            var a0 = TChunks.Dot3(b, TLoad.Load(p + o0, hp), TLoad.Load(p + o1, hp), TLoad.Load(p + o2, hp), controls, weights);
            var a1 = TChunks.Dot3(b, TLoad.Load(q + o0, hq), TLoad.Load(q + o1, hq), TLoad.Load(q + o2, hq), controls + perVector, weights);
            if (t + 16 <= count) rq.Row(a0, a1, m, y + t);
            else if (count >= 16) rq.Row(a0, a1, m, y + count - 16);
            else
            {
                rq.Row(a0, a1, m, tmp);
                for (int i = 0; i < count; i++) y[i] = tmp[i];
            }
        }
    }

    /// <summary>The int16 form of <see cref="Plane3Vnni{TLoad}"/>: two vpshufb + vpmaddwd per chunk.</summary>
    private void Plane3Wide<TLoad>(byte* plane, int* off, byte* controls, int* w, int bias, int* acc) where TLoad : struct, ILoad
    {
        var ca = Vector256.Load(controls);
        var cb = Vector256.Load(controls + 32);
        var w0a = Vector256.Create(w[0]).AsInt16(); var w0b = Vector256.Create(w[1]).AsInt16();
        var w1a = Vector256.Create(w[2]).AsInt16(); var w1b = Vector256.Create(w[3]).AsInt16();
        var w2a = Vector256.Create(w[4]).AsInt16(); var w2b = Vector256.Create(w[5]).AsInt16();
        var b = Vector256.Create(bias);
        int sw = _s.StrideW, outW = _outW, outH = _outH;
        nint high = 4 * sw, step = 8 * sw, rowStep = (nint)_s.StrideH * _pw;
        nint o0 = off[0], o1 = off[1], o2 = off[2];
        for (int oh = 0; oh < outH; oh++, plane += rowStep, acc += outW)
        {
            byte* p = plane;
            for (int t = 0; t < outW; t += 8, p += step)
            {
                var v0 = TLoad.Load(p + o0, high);
                var v1 = TLoad.Load(p + o1, high);
                var v2 = TLoad.Load(p + o2, high);
                var a = b + Avx2.MultiplyAddAdjacent(Avx2.Shuffle(v0, ca).AsInt16(), w0a) + Avx2.MultiplyAddAdjacent(Avx2.Shuffle(v0, cb).AsInt16(), w0b);
                var a1 = Avx2.MultiplyAddAdjacent(Avx2.Shuffle(v1, ca).AsInt16(), w1a) + Avx2.MultiplyAddAdjacent(Avx2.Shuffle(v1, cb).AsInt16(), w1b);
                var a2 = Avx2.MultiplyAddAdjacent(Avx2.Shuffle(v2, ca).AsInt16(), w2a) + Avx2.MultiplyAddAdjacent(Avx2.Shuffle(v2, cb).AsInt16(), w2b);
                (a + a1 + a2).Store(acc + t);
            }
        }
    }

    private static void RowVnni<TLoad>(byte* p, int* off, byte* controls, int* w, int chunks, int bias, int* acc, int count, int sw) where TLoad : struct, ILoad
    {
        var b = Vector256.Create(bias);
        nint high = 4 * sw;
        for (int t = 0; t < count; t += 8)
        {
            var a = b;
            byte* pt = p + (nint)t * sw;
            for (int j = 0; j < chunks; j++)
                a = AvxVnni.MultiplyWideningAndAdd(a, Avx2.Shuffle(TLoad.Load(pt + off[j], high), Vector256.Load(controls + j * 32)), Vector256.Create(w[j]).AsSByte());
            a.Store(acc + t);
        }
    }

    private static void RowWide<TLoad>(byte* p, int* off, byte* controls, int* w, int chunks, int bias, int* acc, int count, int sw) where TLoad : struct, ILoad
    {
        var b = Vector256.Create(bias);
        nint high = 4 * sw;
        for (int t = 0; t < count; t += 8)
        {
            var a = b;
            byte* pt = p + (nint)t * sw;
            for (int j = 0; j < chunks; j++)
            {
                byte* q = pt + off[j];
                var v = TLoad.Load(q, high);
                a += Avx2.MultiplyAddAdjacent(Avx2.Shuffle(v, Vector256.Load(controls + j * 64)).AsInt16(), Vector256.Create(w[2 * j]).AsInt16());
                a += Avx2.MultiplyAddAdjacent(Avx2.Shuffle(v, Vector256.Load(controls + j * 64 + 32)).AsInt16(), Vector256.Create(w[2 * j + 1]).AsInt16());
            }
            a.Store(acc + t);
        }
    }
}
