using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Execution.Threading;
using ExecutionContext = EdgeNet.Execution.ExecutionContext;

namespace EdgeNet.Kernels.Quantized;

/// <summary>
/// Blocked, threaded quantized GEMM over weights packed once (<see cref="QPackedWeights"/>) and activations packed per
/// run into per-thread scratch:
/// <list type="bullet">
/// <item><see cref="QGemmOrientation.WeightsRight"/> (MatMul, Dense, LSTM): C[M×N] = A[M×K] · W[K×N], A rows
/// (<see cref="QRowsPacker"/>) packed MC at a time into MR panels, weights are the NR panels.</item>
/// <item><see cref="QGemmOrientation.WeightsLeft"/> (NCHW conv, like the fp32 GemmConvKernel): C[Cout×N] =
/// W[Cout×K] · X[K×N], X columns packed NC at a time into NR panels (<see cref="QColumnsPacker"/> for a row-major X,
/// <see cref="QIm2ColPacker"/> for implicit im2col), weights are the MR panels.</item>
/// </list>
/// The integer accumulator is exact: raw dot products of the stored encodings, then
/// acc = D + (shift − a_zp)·Σw[ch] + K·a_zp·w_zp[ch] − w_zp[ch]·Σa[pos] + bias[ch] (the per-channel part computed
/// once per run), then the <see cref="QEpilogue"/> on each tile while it is in L1.
/// The GEMM is its own <see cref="IParallelWork"/>; a run allocates nothing.
/// </summary>
public sealed unsafe class QGemm : IParallelWork
{
    private const long MinParallelMacs = 1 << 21;
    private const int BlockBytes = 256 * 1024;

    private readonly QPackedWeights _w;
    private readonly QMicrokernel _uk;
    private readonly QActivationPacker _packer;
    private readonly QPackFormat _format;
    private readonly QOutputKind _output;
    private readonly bool _right;
    private readonly int _positions, _channels, _depth, _groups, _mr, _nr;
    private readonly int _posBlock, _posBlocks, _chSplit, _chSplits, _items;
    private readonly int _partPanelBytes, _partBytes, _rowBufferBytes, _tileInts;
    private readonly bool _gemv;
    /// <summary>
    /// Avx2 batch-1 Dense: the int16 weight panels narrowed back to int8 pairs (32 bytes per k group, sign-extended by
    /// vpmovsxbw in <see cref="QGemm6x16Avx2.GemvBytes"/>): the row streams every weight once per run, so half the bytes
    /// (MobileNetV2's 1280→1000 classifier: 1.3 instead of 2.6 MB).
    /// </summary>
    private readonly byte[]? _gemvBytes;
    /// <summary>WeightsLeft with byte output on AVX2: full tiles take <see cref="TileToBytes"/>.</summary>
    private readonly bool _byteTile;
    /// <summary>_byteTile and the microkernel requantizes full tiles in registers (<see cref="QMicrokernel.RunRequantized"/>).</summary>
    private readonly bool _fusedTile;
    /// <summary>
    /// WeightsLeft without weight zero points: a block whose positions end inside a panel packs its last panel from
    /// the block's last NR positions instead (overlapping the previous panel), so every column tile is full (no scalar
    /// packing tail, no partial-tile epilogue); the overlapped outputs are computed twice and written with equal values.
    /// </summary>
    private readonly bool _overlap;
    /// <summary>_fusedTile with a partial last channel tile: it runs in registers into a stage, rows copied out.</summary>
    private readonly bool _padRows;
    private readonly int _stageBytes;
    /// <summary>
    /// Avx2 / AvxVnni pointwise byte tiles: a block whose positions end 1..<see cref="ColumnTailMax"/> past a whole panel runs
    /// those last positions as matrix-vector products on the packed weight panels (<see cref="ColumnTail"/>) instead
    /// of an overlapped 16-position panel (MobileNetV2's 7×7 planes: 49 = 3·16 + 1 computed as 48 + 1, not 64).
    /// </summary>
    private readonly bool _columnTail;
    private readonly int _tailPairsInts, _tailAccStride;
    /// <summary>
    /// _fusedTile and _overlap with MR ∤ Cout (Cout ≥ MR): a weight panel of the last MR channels (Cout − MR .. Cout − 1,
    /// overlapping the previous tile), so the last channel tile runs full in registers straight into Y instead of the
    /// staged partial tile; the overlapped channels are computed twice and written with equal values.
    /// </summary>
    private readonly byte[]? _lastPanel;
    private QTileRequant _requant;
    private readonly bool _vector512;

    // per run
    private byte* _act, _scratch;
    private nint _ldAct, _ldc;
    private void* _c;
    private int _zaRaw;
    private QEpilogue _e;
    private int* _chanOffset;
    private float* _multPad;
    private int _next;

    /// <param name="weights">packed weights (their orientation decides the shape).</param>
    /// <param name="positions">M (rows of A) for WeightsRight, N (columns of X) for WeightsLeft.</param>
    /// <param name="activationsSigned">activations are int8 (read with the +128 shift) rather than uint8.</param>
    /// <param name="packer">activation source; default rows (WeightsRight) or row-major columns (WeightsLeft).</param>
    /// <param name="vector512">the session allows 512-bit vectors: the in-register tile requantization uses them.</param>
    public QGemm(QPackedWeights weights, int positions, bool activationsSigned, QOutputKind output, int threads, QActivationPacker? packer = null, bool vector512 = false)
    {
        _vector512 = vector512;
        if (positions < 0) throw new InvalidModelException($"quantized GEMM: negative size {positions}");
        _w = weights;
        _uk = weights.Microkernel;
        _right = weights.Orientation == QGemmOrientation.WeightsRight;
        _packer = packer ?? (_right ? QRowsPacker.Instance : QColumnsPacker.Instance);
        _format = new QPackFormat(_uk, activationsSigned);
        _output = output;
        _positions = positions; _channels = weights.Channels; _depth = weights.Depth; _groups = weights.Groups;
        _mr = _uk.MR; _nr = _uk.NR;
        int posLanes = _right ? _mr : _nr, chLanes = _right ? _nr : _mr;
        int laneBytes = _groups * 4;
        int posPanels = Math.Max(1, (positions + posLanes - 1) / posLanes);
        int chPanels = (_channels + chLanes - 1) / chLanes;
        int blockPanels = Math.Clamp(BlockBytes / (laneBytes * posLanes), 1, posPanels);
        long macs = (long)positions * _channels * _depth;
        Threads = macs < MinParallelMacs ? 1 : Math.Max(1, threads);
        _chSplits = 1;
        if (Threads > 1)
        {
            int want = 2 * Threads;
            if ((posPanels + blockPanels - 1) / blockPanels < want) blockPanels = Math.Max(1, posPanels / want);
            int blocks = (posPanels + blockPanels - 1) / blockPanels;
            if (blocks < want) _chSplits = Math.Clamp((want + blocks - 1) / blocks, 1, chPanels);
        }
        _posBlock = blockPanels * posLanes;
        _posBlocks = Math.Max(1, (positions + _posBlock - 1) / _posBlock);
        _chSplit = (chPanels + _chSplits - 1) / _chSplits;
        _chSplits = (chPanels + _chSplit - 1) / _chSplit;
        _items = positions == 0 ? 0 : _posBlocks * _chSplits;
        Threads = Math.Max(1, Math.Min(Threads, _items));
        _partPanelBytes = blockPanels * QMicrokernel.PanelBytes(posLanes, _groups);
        _rowBufferBytes = _packer.ScratchBytes(_posBlock);
        _gemv = _right && positions == 1 && _uk.HasGemv;
        if (_gemv && _uk is QGemm6x16Avx2 && Avx2.IsSupported)
        {
            // every int16 of the wide layout is a weight in [−128, 127] (sign-extended int8, or uint8 − 128)
            var wide = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, short>(weights.Data.AsSpan());
            _gemvBytes = GC.AllocateArray<byte>(wide.Length, pinned: true);
            for (int i = 0; i < wide.Length; i++) _gemvBytes[i] = (byte)(sbyte)wide[i];
        }
        _byteTile = !_right && (output is QOutputKind.UInt8 or QOutputKind.Int8) && _nr % 16 == 0 && Avx2.IsSupported;
        _fusedTile = _byteTile && _uk.HasRequantizedTile && Avx2.IsSupported;
        _overlap = !_right && !weights.HasZeroPoints;
        _padRows = _fusedTile && _channels % _mr != 0;
        _stageBytes = _padRows ? Align(_mr * _nr) : 0;
        _columnTail = _fusedTile && _overlap && _packer is QColumnsPacker && positions > _nr
            && (_uk is QGemm6x16Avx2 || _uk is QGemm6x16AvxVnni && AvxVnni.IsSupported);
        if (_fusedTile && _overlap && _channels % _mr != 0 && _channels > _mr)
        {
            // lane r of group g: channel Cout − MR + r, copied from its panel (4-byte lanes in every layout)
            int panelBytes = weights.PanelBytes;
            _lastPanel = new byte[panelBytes];
            for (int r = 0; r < _mr; r++)
            {
                int ch = _channels - _mr + r;
                for (int g = 0; g < _groups; g++)
                    for (int b = 0; b < 4; b++)
                        _lastPanel[g * _mr * 4 + r * 4 + b] = weights.Data[ch / _mr * panelBytes + g * _mr * 4 + ch % _mr * 4 + b];
            }
        }
        _tailPairsInts = _columnTail ? _groups * ColumnTailMax : 0;
        _tailAccStride = _columnTail ? _chSplit * _mr + 8 : 0;
        _tileInts = _gemv ? _chSplit * _nr : _mr * _nr;
        _partBytes = Align(_partPanelBytes) + Align(_posBlock * sizeof(int)) + Align(_tileInts * sizeof(int)) + Align(_rowBufferBytes) + _stageBytes
            + Align(_tailPairsInts * sizeof(int)) + Align(ColumnTailMax * _tailAccStride * sizeof(int));
    }

    private static int Align(int bytes) => (bytes + 63) & ~63;

    /// <summary>Most positions past a whole panel that <see cref="ColumnTail"/> takes (more: the overlapped panel).</summary>
    internal const int ColumnTailMax = 8;

    /// <summary>True when a block ending 1..<see cref="ColumnTailMax"/> positions past a whole panel runs those as columns.</summary>
    internal bool UsesColumnTail => _columnTail;

    public QPackedWeights Weights => _w;
    /// <summary>Threads a run uses.</summary>
    public int Threads { get; }
    /// <summary>Scratch bytes a run needs (64-byte aligned base recommended).</summary>
    public int ScratchBytes => ChannelBytes + Threads * _partBytes + 64;

    /// <summary>Per-channel offsets (and padded multipliers), MR entries past the channels for the partial tile.</summary>
    private int ChannelBytes => Align((_channels + _mr) * sizeof(int)) * (_padRows ? 2 : 1);

    /// <summary>
    /// Runs the GEMM. act: A[M×K] (row stride ld) for WeightsRight, X[K×N] (row stride ld) or the packer's source
    /// (conv image/group base) for WeightsLeft. actZeroPoint is in the activations' own domain. C: row-major, row
    /// stride ldc elements of the output type. ctx may be null (single-threaded).
    /// </summary>
    public void Run(ExecutionContext? ctx, byte* act, nint ld, int actZeroPoint, void* c, nint ldc, in QEpilogue e, byte* scratch)
    {
        if (_items == 0) return;
        _act = act; _ldAct = ld; _c = c; _ldc = ldc; _e = e;
        _zaRaw = actZeroPoint;
        // Zen 4 splits 512-bit ops: there the join and cross-lane permute of the 512-bit rows cost more than two
        // 256-bit rows (MobileNetV2 int8 features.2 expansion: 421 → 341 µs)
        if (_fusedTile) _requant = new QTileRequant(e, _output == QOutputKind.Int8, _channels, _vector512 && !QVariants.SplitsVector512);
        scratch = (byte*)(((nint)scratch + 63) & ~(nint)63);
        _chanOffset = (int*)scratch;
        _scratch = scratch + ChannelBytes;
        new Span<int>(_chanOffset + _channels, _mr).Clear();
        if (_padRows)
        {
            // rows past the channels of the last tile read these (their bytes are never copied out)
            _multPad = (float*)(scratch + Align((_channels + _mr) * sizeof(int)));
            if (e.MultiplierStride != 0)
                for (int ch = 0; ch < _channels; ch++) _multPad[ch] = e.Multiplier[ch * e.MultiplierStride];
            new Span<float>(_multPad + _channels, _mr).Clear();
        }
        int za = _format.SignMask != 0 ? actZeroPoint + 128 : actZeroPoint;
        int shift = _uk.ShiftActivations ? 128 : 0;
        int k = _depth;
        fixed (int* sums = _w.Sums)
        fixed (int* zps = _w.ZeroPoints)
        {
            int ch = 0;
            if (Vector.IsHardwareAccelerated)
            {
                var vShift = new Vector<int>(shift - za);
                var vKza = new Vector<int>(k * za);
                for (; ch + Vector<int>.Count <= _channels; ch += Vector<int>.Count)
                {
                    var v = vShift * Vector.Load(sums + ch) + vKza * Vector.Load(zps + ch);
                    if (e.Bias is not null) v += Vector.Load(e.Bias + ch);
                    v.Store(_chanOffset + ch);
                }
            }
            for (; ch < _channels; ch++)
                _chanOffset[ch] = unchecked((e.Bias is null ? 0 : e.Bias[ch]) + (shift - za) * sums[ch] + k * za * zps[ch]);
        }
        _next = 0;
        if (ctx is null || Threads == 1) for (int part = 0; part < Threads; part++) Execute(part);
        else ctx.Parallel(this, Threads, Threads);
    }

    public void Execute(int part)
    {
        byte* partBase = _scratch + (nint)part * _partBytes;
        byte* panels = partBase;
        int* posSums = (int*)(panels + Align(_partPanelBytes));
        int* tile = (int*)((byte*)posSums + Align(_posBlock * sizeof(int)));
        byte* rowBuffers = (byte*)tile + Align(_tileInts * sizeof(int));
        byte* stage = rowBuffers + Align(_rowBufferBytes);
        int* tailPairs = (int*)(stage + _stageBytes);
        int* tailAcc = tailPairs + Align(_tailPairsInts * sizeof(int)) / sizeof(int);
        int item;
        while ((item = System.Threading.Interlocked.Increment(ref _next) - 1) < _items)
        {
            int pb = item % _posBlocks, cs = item / _posBlocks;
            int p0 = pb * _posBlock, count = Math.Min(_posBlock, _positions - p0);
            int* sums = _w.HasZeroPoints ? posSums : null;
            byte padRaw = (byte)_zaRaw;
            int tail = 0;
            if (_columnTail && count > _nr && count % _nr <= ColumnTailMax)
            {
                tail = count % _nr;
                count -= tail;
            }
            bool overlap = _overlap && count > _nr && count % _nr != 0;
            if (overlap)
            {
                // whole panels, then the last panel from the block's last NR positions
                int full = count / _nr * _nr;
                _packer.Pack(_act, _ldAct, p0, full, _nr, _depth, _format, padRaw, panels, null, rowBuffers);
                _packer.Pack(_act, _ldAct, p0 + count - _nr, _nr, _nr, _depth, _format, padRaw,
                    panels + (nint)(full / _nr) * QMicrokernel.PanelBytes(_nr, _groups), null, rowBuffers);
            }
            else _packer.Pack(_act, _ldAct, p0, count, _right ? _mr : _nr, _depth, _format, padRaw, panels, sums, rowBuffers);
            int chLanes = _right ? _nr : _mr;
            int ch0 = cs * _chSplit * chLanes, ch1 = Math.Min(_channels, (cs + 1) * _chSplit * chLanes);
            RunBlock(panels, sums, p0, count, ch0, ch1, tile, overlap, stage);
            if (tail > 0) ColumnTail(p0 + count, tail, ch0, ch1, tailPairs, tailAcc);
        }
    }

    /// <summary>
    /// Positions pos .. pos + count − 1 (count ≤ <see cref="ColumnTailMax"/>) of channels ch0 .. ch1 − 1 as
    /// matrix-vector products on the packed weight panels (k group g of a panel is 6 lanes at g·24: int16 pairs for
    /// <see cref="QGemm6x16Avx2"/>, s8 quads for <see cref="QGemm6x16AvxVnni"/>): the columns' k group values (int16
    /// pairs or u8 quads) are gathered once, each panel group is one 8-lane load (lanes 6, 7 belong to the next group
    /// and are dropped) times a broadcast group per column (vpmaddwd, or vpdpbusd with the activations unsigned). Then
    /// the per-channel offset and the requantization of <see cref="TileToBytes"/> (the same float operations as
    /// <see cref="QMath.Requantize"/>), 8 channels a vector, bytes stored down the channel column.
    /// </summary>
    private void ColumnTail(int pos, int count, int ch0, int ch1, int* pairs, int* acc)
    {
        int groups = _groups, depth = _depth, flip = _format.SignMask, groupK = _uk.GroupK;
        bool wide = _uk.Wide;
        byte* x = _act + pos;
        for (int g = 0; g < groups; g++)
            for (int t = 0; t < count; t++)
            {
                // k group g of column t: int16 pairs (wide) or byte quads, zero past K
                int v = 0;
                for (int j = 0; j < groupK; j++)
                    if (groupK * g + j < depth) v |= (x[(groupK * g + j) * _ldAct + t] ^ flip) << (wide ? 16 * j : 8 * j);
                pairs[g * ColumnTailMax + t] = v;
            }
        int wPanelBytes = _w.PanelBytes, stride = _tailAccStride;
        // the last group's load would run 8 bytes past its panel (past the array for the last panel): masked
        var lastMask = Vector256.Create(-1, -1, -1, -1, -1, -1, 0, 0);
        fixed (byte* wData = _w.Data)
            for (int i = ch0; i < ch1; i += _mr)
            {
                byte* wPanel = wData + (nint)(i / _mr) * wPanelBytes;
                if (count <= 2)
                {
                    // one or two columns: four panels a pass, so four independent accumulator chains per column
                    // (one chain per column was latency-bound, and three of the four column slots went unused)
                    int quad = Math.Min(4, (ch1 - i + _mr - 1) / _mr);
                    for (int t = 0; t < count; t++)
                        ColumnTail4(wPanel, wPanelBytes, quad, groups, pairs + t, wide, acc + t * stride + (i - ch0));
                    i += (quad - 1) * _mr;
                    continue;
                }
                int* dst = acc + (i - ch0);
                for (int t0 = 0; t0 < count; t0 += 4)
                {
                    Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
                    int* p = pairs + t0;
                    byte* w = wPanel;
                    if (wide)
                    {
                        for (int g = 0; g < groups - 1; g++, w += 24, p += ColumnTailMax)
                        {
                            var wv = Vector256.Load((short*)w);
                            a0 += Avx2.MultiplyAddAdjacent(wv, Vector256.Create(p[0]).AsInt16());
                            a1 += Avx2.MultiplyAddAdjacent(wv, Vector256.Create(p[1]).AsInt16());
                            a2 += Avx2.MultiplyAddAdjacent(wv, Vector256.Create(p[2]).AsInt16());
                            a3 += Avx2.MultiplyAddAdjacent(wv, Vector256.Create(p[3]).AsInt16());
                        }
                        var wl = Avx2.MaskLoad((int*)w, lastMask).AsInt16();
                        a0 += Avx2.MultiplyAddAdjacent(wl, Vector256.Create(p[0]).AsInt16());
                        a1 += Avx2.MultiplyAddAdjacent(wl, Vector256.Create(p[1]).AsInt16());
                        a2 += Avx2.MultiplyAddAdjacent(wl, Vector256.Create(p[2]).AsInt16());
                        a3 += Avx2.MultiplyAddAdjacent(wl, Vector256.Create(p[3]).AsInt16());
                    }
                    else
                    {
                        for (int g = 0; g < groups - 1; g++, w += 24, p += ColumnTailMax)
                        {
                            var wv = Vector256.Load((sbyte*)w);
                            a0 = AvxVnni.MultiplyWideningAndAdd(a0, Vector256.Create(p[0]).AsByte(), wv);
                            a1 = AvxVnni.MultiplyWideningAndAdd(a1, Vector256.Create(p[1]).AsByte(), wv);
                            a2 = AvxVnni.MultiplyWideningAndAdd(a2, Vector256.Create(p[2]).AsByte(), wv);
                            a3 = AvxVnni.MultiplyWideningAndAdd(a3, Vector256.Create(p[3]).AsByte(), wv);
                        }
                        var wl = Avx2.MaskLoad((int*)w, lastMask).AsSByte();
                        a0 = AvxVnni.MultiplyWideningAndAdd(a0, Vector256.Create(p[0]).AsByte(), wl);
                        a1 = AvxVnni.MultiplyWideningAndAdd(a1, Vector256.Create(p[1]).AsByte(), wl);
                        a2 = AvxVnni.MultiplyWideningAndAdd(a2, Vector256.Create(p[2]).AsByte(), wl);
                        a3 = AvxVnni.MultiplyWideningAndAdd(a3, Vector256.Create(p[3]).AsByte(), wl);
                    }
                    // 8 lanes stored, 6 kept: the next panel's store overwrites lanes 6, 7 (the stride has 8 spare)
                    a0.Store(dst + t0 * stride);
                    if (t0 + 1 < count) a1.Store(dst + (t0 + 1) * stride);
                    if (t0 + 2 < count) a2.Store(dst + (t0 + 2) * stride);
                    if (t0 + 3 < count) a3.Store(dst + (t0 + 3) * stride);
                }
            }
        var e = _e;
        bool signed = _output == QOutputKind.Int8;
        var vlo = Vector256.Create((float)(e.QMin - e.ZeroPoint));
        var vhi = Vector256.Create((float)(e.QMax - e.ZeroPoint));
        var vzp = Vector256.Create(e.ZeroPoint);
        nint ldc = _ldc;
        for (int t = 0; t < count; t++)
        {
            int* a = acc + t * stride;
            byte* c = (byte*)_c + pos + t;
            int ch = ch0;
            for (; ch + 8 <= ch1; ch += 8)
            {
                var v = Vector256.Load(a + (ch - ch0)) + Vector256.Load(_chanOffset + ch);
                var m = e.MultiplierStride == 0 ? Vector256.Create(e.Multiplier[0]) : Vector256.Create(
                    e.Multiplier[ch * e.MultiplierStride], e.Multiplier[(ch + 1) * e.MultiplierStride], e.Multiplier[(ch + 2) * e.MultiplierStride], e.Multiplier[(ch + 3) * e.MultiplierStride],
                    e.Multiplier[(ch + 4) * e.MultiplierStride], e.Multiplier[(ch + 5) * e.MultiplierStride], e.Multiplier[(ch + 6) * e.MultiplierStride], e.Multiplier[(ch + 7) * e.MultiplierStride]);
                var f = Avx.Min(Avx.Max(Avx.RoundToNearestInteger(Avx.Multiply(Avx.ConvertToVector256Single(v), m)), vlo), vhi);
                var q = Avx.ConvertToVector256Int32WithTruncation(f) + vzp;
                var w16 = Sse2.PackSignedSaturate(q.GetLower(), q.GetUpper());
                ulong bytes = (signed ? Sse2.PackSignedSaturate(w16, w16).AsUInt64() : Sse2.PackUnsignedSaturate(w16, w16).AsUInt64()).ToScalar();
                for (int r = 0; r < 8; r++, bytes >>= 8) c[(ch + r) * ldc] = (byte)bytes;
            }
            for (; ch < ch1; ch++)
            {
                int q = QMath.Requantize(unchecked(a[ch - ch0] + _chanOffset[ch]), e.Multiplier[ch * e.MultiplierStride], e.ZeroPoint, e.QMin, e.QMax);
                c[ch * ldc] = (byte)q;
            }
        }
    }

    /// <summary>
    /// One column (its k groups at p, <see cref="ColumnTailMax"/> ints apart) against <paramref name="panels"/> (1..4)
    /// consecutive weight panels, four accumulators (a missing panel repeats the first and is not stored); 8 lanes are
    /// stored per panel in order, so each store's lanes 6, 7 are overwritten by the next panel's (the row has 8 spare).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ColumnTail4(byte* w0, int panelBytes, int panels, int groups, int* p, bool wide, int* dst)
    {
        byte* w1 = panels > 1 ? w0 + panelBytes : w0, w2 = panels > 2 ? w0 + 2 * panelBytes : w0, w3 = panels > 3 ? w0 + 3 * panelBytes : w0;
        var lastMask = Vector256.Create(-1, -1, -1, -1, -1, -1, 0, 0);
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
        nint o = 0;
        if (wide)
        {
            for (int g = 0; g < groups - 1; g++, o += 24, p += ColumnTailMax)
            {
                var x = Vector256.Create(*p).AsInt16();
                a0 += Avx2.MultiplyAddAdjacent(Vector256.Load((short*)(w0 + o)), x);
                a1 += Avx2.MultiplyAddAdjacent(Vector256.Load((short*)(w1 + o)), x);
                a2 += Avx2.MultiplyAddAdjacent(Vector256.Load((short*)(w2 + o)), x);
                a3 += Avx2.MultiplyAddAdjacent(Vector256.Load((short*)(w3 + o)), x);
            }
            var xl = Vector256.Create(*p).AsInt16();
            a0 += Avx2.MultiplyAddAdjacent(Avx2.MaskLoad((int*)(w0 + o), lastMask).AsInt16(), xl);
            a1 += Avx2.MultiplyAddAdjacent(Avx2.MaskLoad((int*)(w1 + o), lastMask).AsInt16(), xl);
            a2 += Avx2.MultiplyAddAdjacent(Avx2.MaskLoad((int*)(w2 + o), lastMask).AsInt16(), xl);
            a3 += Avx2.MultiplyAddAdjacent(Avx2.MaskLoad((int*)(w3 + o), lastMask).AsInt16(), xl);
        }
        else
        {
            for (int g = 0; g < groups - 1; g++, o += 24, p += ColumnTailMax)
            {
                var x = Vector256.Create(*p).AsByte();
                a0 = AvxVnni.MultiplyWideningAndAdd(a0, x, Vector256.Load((sbyte*)(w0 + o)));
                a1 = AvxVnni.MultiplyWideningAndAdd(a1, x, Vector256.Load((sbyte*)(w1 + o)));
                a2 = AvxVnni.MultiplyWideningAndAdd(a2, x, Vector256.Load((sbyte*)(w2 + o)));
                a3 = AvxVnni.MultiplyWideningAndAdd(a3, x, Vector256.Load((sbyte*)(w3 + o)));
            }
            var xl = Vector256.Create(*p).AsByte();
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, xl, Avx2.MaskLoad((int*)(w0 + o), lastMask).AsSByte());
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, xl, Avx2.MaskLoad((int*)(w1 + o), lastMask).AsSByte());
            a2 = AvxVnni.MultiplyWideningAndAdd(a2, xl, Avx2.MaskLoad((int*)(w2 + o), lastMask).AsSByte());
            a3 = AvxVnni.MultiplyWideningAndAdd(a3, xl, Avx2.MaskLoad((int*)(w3 + o), lastMask).AsSByte());
        }
        a0.Store(dst);
        if (panels > 1) a1.Store(dst + 6);
        if (panels > 2) a2.Store(dst + 12);
        if (panels > 3) a3.Store(dst + 18);
    }

    private void RunBlock(byte* actPanels, int* posSums, int p0, int count, int ch0, int ch1, int* tile, bool overlap, byte* stage)
    {
        int wPanelBytes = _w.PanelBytes;
        int aPanelBytes = QMicrokernel.PanelBytes(_right ? _mr : _nr, _groups);
        fixed (byte* wData = _w.Data)
        fixed (byte* lastPanel = _lastPanel)
        fixed (int* zps = _w.ZeroPoints)
        {
            if (_gemv)
            {
                // one activation row: every weight panel of the split against it, then one epilogue row
                int panels = (ch1 - ch0 + _nr - 1) / _nr;
                if (_gemvBytes is not null)
                    fixed (byte* gb = _gemvBytes)
                        QGemm6x16Avx2.GemvBytes(_groups, actPanels, gb + (nint)(ch0 / _nr) * (wPanelBytes / 2), panels, wPanelBytes / 2, tile);
                else
                    _uk.Gemv(_groups, actPanels, wData + (nint)(ch0 / _nr) * wPanelBytes, panels, wPanelBytes, tile);
                EpilogueRow(tile, ch1 - ch0, p0, ch0, channelsAlongRow: true, posSums is null ? 0 : posSums[0], null, zps);
            }
            else if (_right)
            {
                // rows = positions (MR), columns = channels (NR)
                for (int j = ch0; j < ch1; j += _nr)
                {
                    byte* wPanel = wData + (nint)(j / _nr) * wPanelBytes;
                    int cols = Math.Min(_nr, ch1 - j);
                    for (int i = 0; i < count; i += _mr)
                    {
                        int rows = Math.Min(_mr, count - i);
                        _uk.Run(_groups, actPanels + (nint)(i / _mr) * aPanelBytes, wPanel, tile, activationsLeft: true);
                        for (int r = 0; r < rows; r++)
                        {
                            int pos = p0 + i + r;
                            int posSum = posSums is null ? 0 : posSums[i + r];
                            EpilogueRow(tile + r * _nr, cols, pos, j, channelsAlongRow: true, posSum, null, zps);
                        }
                    }
                }
            }
            else
            {
                // rows = channels (MR), columns = positions (NR)
                for (int t0 = ch0; t0 < ch1; t0 += _mr)
                {
                    int i = t0;
                    byte* wPanel = wData + (nint)(i / _mr) * wPanelBytes;
                    int rows = Math.Min(_mr, ch1 - i);
                    if (rows < _mr && lastPanel is not null && ch1 - _mr >= ch0)
                    {
                        // the last MR channels of this split as one full tile (ch1 = Cout here)
                        i = ch1 - _mr;
                        wPanel = lastPanel;
                        rows = _mr;
                    }
                    int j0 = 0;
                    if (_fusedTile && posSums is null && rows == _mr && count >= _nr)
                    {
                        // the whole panels in one call (the tile loop inside the microkernel)
                        int full = count / _nr;
                        _uk.RunRequantizedPanels(_groups, wPanel, actPanels, full, aPanelBytes, _chanOffset + i,
                            _e.Multiplier + i * _e.MultiplierStride, _e.MultiplierStride, _requant, (byte*)_c + i * _ldc + p0, _ldc);
                        j0 = full * _nr;
                    }
                    for (int j = j0; j < count; j += _nr)
                    {
                        int cols = Math.Min(_nr, count - j), pos = p0 + j;
                        // overlapped last panel: positions count − NR .. count − 1 (posSums is null then)
                        if (cols < _nr && overlap) { cols = _nr; pos = p0 + count - _nr; }
                        if (cols == _nr && _fusedTile && posSums is null && (rows == _mr || _padRows))
                        {
                            if (rows == _mr)
                                _uk.RunRequantized(_groups, wPanel, actPanels + (nint)(j / _nr) * aPanelBytes, _chanOffset + i,
                                    _e.Multiplier + i * _e.MultiplierStride, _e.MultiplierStride, _requant, (byte*)_c + i * _ldc + pos, _ldc);
                            else
                            {
                                // partial channel tile: the whole tile into the stage (offsets and multipliers padded), its rows copied
                                float* mult = _e.MultiplierStride == 0 ? _e.Multiplier : _multPad + i;
                                _uk.RunRequantized(_groups, wPanel, actPanels + (nint)(j / _nr) * aPanelBytes, _chanOffset + i,
                                    mult, _e.MultiplierStride == 0 ? 0 : 1, _requant, stage, _nr);
                                // NR is a multiple of 16 here: 16-byte moves instead of a MemoryCopy call per row
                                for (int r = 0; r < rows; r++)
                                {
                                    byte* src = stage + r * _nr, dst = (byte*)_c + (i + r) * _ldc + pos;
                                    for (int t = 0; t < _nr; t += 16) Vector128.Store(Vector128.Load(src + t), dst + t);
                                }
                            }
                            continue;
                        }
                        _uk.Run(_groups, wPanel, actPanels + (nint)(j / _nr) * aPanelBytes, tile, activationsLeft: false);
                        if (cols == _nr && _byteTile)
                        {
                            TileToBytes(tile, rows, i, pos, posSums is null ? null : posSums + j, zps);
                            continue;
                        }
                        for (int r = 0; r < rows; r++)
                            EpilogueRow(tile + r * _nr, cols, i + r, pos, channelsAlongRow: false, 0, posSums is null ? null : posSums + j, zps);
                    }
                }
            }
        }
    }

    /// <summary>
    /// WeightsLeft tile → requantized bytes with 256-bit AVX2 (full NR-column tiles, NR a multiple of 16): per
    /// channel row the exact offset, <see cref="QMath.Requantize"/>'s float arithmetic, and a saturating pack (exact:
    /// the values are already clamped into the output range) straight into C.
    /// </summary>
    private void TileToBytes(int* tile, int rows, int ch0, int pos0, int* posSums, int* zps)
    {
        var e = _e;
        bool signed = _output == QOutputKind.Int8;
        var vlo = Vector256.Create((float)(e.QMin - e.ZeroPoint));
        var vhi = Vector256.Create((float)(e.QMax - e.ZeroPoint));
        var vzp = Vector256.Create(e.ZeroPoint);
        for (int r = 0; r < rows; r++)
        {
            int ch = ch0 + r;
            var off = Vector256.Create(_chanOffset[ch]);
            var zw = Vector256.Create(posSums is null ? 0 : zps[ch]);
            var m = Vector256.Create(e.Multiplier[ch * e.MultiplierStride]);
            int* acc = tile + r * _nr;
            byte* d = (byte*)_c + ch * _ldc + pos0;
            for (int t = 0; t < _nr; t += 16)
            {
                var a0 = Vector256.Load(acc + t) + off;
                var a1 = Vector256.Load(acc + t + 8) + off;
                if (posSums is not null)
                {
                    a0 -= zw * Vector256.Load(posSums + t);
                    a1 -= zw * Vector256.Load(posSums + t + 8);
                }
                var f0 = Avx.Min(Avx.Max(Avx.RoundToNearestInteger(Avx.Multiply(Avx.ConvertToVector256Single(a0), m)), vlo), vhi);
                var f1 = Avx.Min(Avx.Max(Avx.RoundToNearestInteger(Avx.Multiply(Avx.ConvertToVector256Single(a1), m)), vlo), vhi);
                var q0 = Avx.ConvertToVector256Int32WithTruncation(f0) + vzp;
                var q1 = Avx.ConvertToVector256Int32WithTruncation(f1) + vzp;
                // int16 [q0 0..3, q1 0..3 | q0 4..7, q1 4..7] → in order, then the two halves to 16 bytes
                var w16 = Avx2.Permute4x64(Avx2.PackSignedSaturate(q0, q1).AsInt64(), 0b11_01_10_00).AsInt16();
                var bytes = signed
                    ? Sse2.PackSignedSaturate(w16.GetLower(), w16.GetUpper()).AsByte()
                    : Sse2.PackUnsignedSaturate(w16.GetLower(), w16.GetUpper());
                bytes.Store(d + t);
            }
        }
    }

    /// <summary>
    /// Finishes one tile row of <paramref name="cols"/> values. channelsAlongRow: the row is one position (row index
    /// <paramref name="rowIndex"/>) over channels from col0; otherwise it is channel rowIndex over positions from col0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EpilogueRow(int* acc, int cols, int rowIndex, int col0, bool channelsAlongRow, int posSum, int* posSums, int* zps)
    {
        // exact accumulator: + per-channel offset − w_zp[ch]·Σa[pos]
        int t = 0;
        if (channelsAlongRow)
        {
            int* off = _chanOffset + col0;
            int* zp = zps + col0;
            if (Vector.IsHardwareAccelerated)
            {
                var ps = new Vector<int>(posSum);
                for (; t + Vector<int>.Count <= cols; t += Vector<int>.Count)
                    (Vector.Load(acc + t) + Vector.Load(off + t) - Vector.Load(zp + t) * ps).Store(acc + t);
            }
            for (; t < cols; t++) acc[t] = unchecked(acc[t] + off[t] - zp[t] * posSum);
        }
        else
        {
            int off = _chanOffset[rowIndex];
            int zw = posSums is null ? 0 : zps[rowIndex];
            if (Vector.IsHardwareAccelerated)
            {
                var vo = new Vector<int>(off);
                if (zw == 0)
                    for (; t + Vector<int>.Count <= cols; t += Vector<int>.Count) (Vector.Load(acc + t) + vo).Store(acc + t);
                else
                {
                    var vz = new Vector<int>(zw);
                    for (; t + Vector<int>.Count <= cols; t += Vector<int>.Count)
                        (Vector.Load(acc + t) + vo - vz * Vector.Load(posSums + t)).Store(acc + t);
                }
            }
            for (; t < cols; t++) acc[t] = unchecked(acc[t] + off - (zw == 0 ? 0 : zw * posSums[t]));
        }
        nint index = rowIndex * _ldc + col0;
        QEpilogueWriter.Write(_output, acc, cols, _c, index, channelsAlongRow ? col0 : rowIndex, channelsAlongRow, _e);
    }
}
