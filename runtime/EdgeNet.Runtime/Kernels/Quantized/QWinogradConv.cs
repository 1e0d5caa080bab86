using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Execution.Threading;
using ExecutionContext = EdgeNet.Execution.ExecutionContext;

namespace EdgeNet.Kernels.Quantized;

/// <summary>
/// Exact integer Winograd F(2×2, 3×3) for 3×3 stride-1 convs (group 1, symmetric weights) on the Avx2 variant, where
/// the multiply is vpmaddwd on int16 pairs either way, and on any x86 variant in AVX-512 sessions (512-bit vpmaddwd:
/// as many products an instruction as 256-bit vpdpbusd): 16 products per 2×2 output tile instead of 36.
/// <list type="bullet">
/// <item>Weights: U = (2G) g (2G)ᵀ with 2G = [[2,0,0],[1,1,1],[1,−1,1],[0,0,2]], integers |U| ≤ 9·128, packed once per
/// Winograd position ξ (16) as int16-pair panels of MR channels (6 for the Avx2 tile, 8 for the 512-bit 8×32 one).</item>
/// <item>Input: d = x − x_zp (0 in the padding), V = Bᵀ d B with Bᵀ = [[1,0,−1,0],[0,1,1,0],[0,−1,1,0],[0,1,0,−1]],
/// |V| ≤ 4·255: int16, two input channels per 32-bit lane, per block of tiles.</item>
/// <item>M[ξ] = U[ξ] · V[ξ] over the input channels (<see cref="QGemm6x16Avx2"/>, wrapping int32), then
/// Aᵀ M A with Aᵀ = [[1,1,1,0],[0,1,−1,−1]] = 4·(Σ d·w): an arithmetic shift by 2 gives the direct conv's
/// accumulator exactly (ring arithmetic, and |4·Σ d·w| &lt; 2³¹ for Cin ≤ <see cref="MaxInChannels"/>), + bias, then
/// the shared epilogue (byte outputs: requantized in registers right after the output transform, rows copied out).</item>
/// </list>
/// Work items are blocks of whole tile rows of one image (≈ 112 tiles), split by channel tiles when there are fewer
/// than two blocks per thread; each thread transforms its block's input into its own scratch, then runs its channel
/// tiles over it.
/// </summary>
internal sealed unsafe class QWinogradConv : IParallelWork
{
    private const long MinParallelMacs = 1 << 21;
    /// <summary>
    /// The 512-bit path needs this many 2×2 output tiles per image (one 32-tile GEMM block): ResNet-18's 7×7 planes
    /// (16 tiles) would waste half of every tile and read U (3.6× the int8 weights' bytes) for 16 tiles only; the
    /// shifted-view vpdpbusd conv is faster there (measured in the model: 0.72–0.77 ms against 0.98–1.06 ms).
    /// </summary>
    public const int MinTiles512 = 32;
    /// <summary>|4·Σ (x − zp)·w| ≤ 4·255·128·9·Cin stays below 2³¹.</summary>
    public const int MaxInChannels = 1024;
    /// <summary>Below this many input channels the transforms outweigh the saved products (measured on ResNet-18 shapes).</summary>
    public const int MinInChannels = 32;

    private readonly QConv2dShape _s;
    private readonly QOutputKind _output;
    private readonly bool _xSigned;
    private readonly int _mr, _nr;
    private readonly GemmShape _gemm;
    private readonly int _q, _tilesH, _tilesW, _blockRows, _blocks, _chSplit, _chSplits, _items, _tb, _tbPad, _ld, _chTiles, _outBytes, _rowLen;
    private readonly short[] _u;
    /// <summary>int16 lanes below InW (rows narrower than 16).</summary>
    private readonly Vector256<short> _narrowMask;
    private readonly int _panelBytes;
    private readonly int _vBytes, _mBytes, _yBytes, _rowBytes, _partBytes, _offBytes;

    // per run
    private byte* _x, _xEnd, _y, _parts;
    private int* _bias;
    private int _za, _next;
    private QEpilogue _e;
    private QTileRequant _requant;

    /// <summary>The GEMM tile of M[ξ] = U[ξ]·V[ξ]: channels × tiles, 256-bit (Avx2 variant) or 512-bit vpmaddwd.</summary>
    private enum GemmShape { Avx2x6x16, V512x8x32 }

    /// <summary>
    /// True when this path applies: 3×3, stride 1, dilation 1, group 1, symmetric weights, Cin in range, on the Avx2
    /// variant natively, or on any x86 variant when the session allows 512-bit vectors (<paramref name="vector512"/>) and
    /// the image has at least <see cref="MinTiles512"/> output tiles: 512-bit vpmaddwd does 32 int16 products an
    /// instruction, so Winograd's 2.25× fewer products beat 256-bit vpdpbusd's 32 byte products.
    /// </summary>
    public static bool Applies(QVariant variant, QConv2dShape s, bool weightsSigned, ReadOnlySpan<int> weightZeroPoints, bool vector512 = false)
    {
        vector512 = vector512 && Applies512(s);
        if (!Avx2.IsSupported) return false;
        bool avx2 = variant == QVariant.Avx2 && QVariants.IsNative(variant);
        if (!avx2 && !(vector512 && variant is QVariant.Avx2 or QVariant.AvxVnni or QVariant.Avx512)) return false;
        if (s.Group != 1 || s.KH != 3 || s.KW != 3 || s.StrideH != 1 || s.StrideW != 1 || s.DilationH != 1 || s.DilationW != 1) return false;
        if (s.InChannels < MinInChannels || s.InChannels > MaxInChannels) return false;
        int zero = weightsSigned ? 0 : 128;
        if (weightZeroPoints.Length == 0) return weightsSigned;
        foreach (int z in weightZeroPoints) if (z != zero) return false;
        return true;
    }

    private static bool Applies512(QConv2dShape s) => (long)((s.OutH + 1) / 2) * ((s.OutW + 1) / 2) >= MinTiles512;

    public QWinogradConv(QConv2dShape s, ReadOnlySpan<byte> weights, bool weightsSigned, bool inputSigned, QOutputKind output, int threads, bool vector512 = false)
    {
        _s = s;
        // the 256-bit tile is 6 channels × 16 tiles, the 512-bit one 8 × 32
        _gemm = vector512 && Applies512(s) ? GemmShape.V512x8x32 : GemmShape.Avx2x6x16;
        (_mr, _nr) = _gemm == GemmShape.Avx2x6x16 ? (6, 16) : (8, 32);
        int mr = _mr, nr = _nr;
        _output = output;
        _xSigned = inputSigned;
        _outBytes = output is QOutputKind.Int32 or QOutputKind.Float32 ? 4 : 1;
        int cin = s.InChannels, cout = s.OutChannels;
        _q = (cin + 1) / 2;
        _tilesH = (s.OutH + 1) / 2;
        _tilesW = (s.OutW + 1) / 2;
        // whole tile rows per block, about 112 tiles (512-bit: up to 256 while V stays within 512 KB: 7 whole 32-tile
        // GEMM blocks of 56² outputs instead of 112 tiles padded to 128), the fewest padding lanes to a multiple of NR
        int best = 1, cap = nr == 16 ? 128 : Math.Min(256, 8192 / _q);
        double bestWaste = double.MaxValue;
        for (int r = 1; r <= _tilesH && r * _tilesW <= Math.Max(cap, _tilesW); r++)
        {
            int tb = r * _tilesW, pad = (tb + nr - 1) / nr * nr;
            double waste = (double)pad / tb + (tb < 64 ? 0.5 * (64 - tb) / 64 : 0);
            if (waste <= bestWaste + 1e-9) { best = r; bestWaste = waste; }
        }
        _blockRows = best;
        _blocks = (_tilesH + _blockRows - 1) / _blockRows;
        _chSplits = 1;
        _tb = _blockRows * _tilesW;
        _tbPad = (_tb + nr - 1) / nr * nr;
        // lanes per (ξ, channel pair) row: the input transform's last vector of a tile row may run 7 lanes past the block
        _ld = _tbPad + 8;
        _chTiles = (cout + mr - 1) / mr;
        long macs = (long)s.Batch * s.OutPlane * cout * s.Depth;
        Threads = macs < MinParallelMacs ? 1 : Math.Max(1, threads);
        // fewer blocks than 2 per thread (14² and 7² planes are one block): split the channel tiles too, each part
        // transforming its block's input itself
        int blocks = s.Batch * _blocks;
        if (Threads > 1 && blocks < 2 * Threads) _chSplits = Math.Clamp((2 * Threads + blocks - 1) / blocks, 1, _chTiles);
        _chSplit = (_chTiles + _chSplits - 1) / _chSplits;
        _chSplits = (_chTiles + _chSplit - 1) / _chSplit;
        _items = blocks * _chSplits;
        Threads = Math.Clamp(Threads, 1, _items);

        // U packed channel tile major (a tile's 16 ξ panels are one sequential run when the weights stream from memory): group g (channels 2g, 2g+1), lane i (channel tile·MR + i): two int16
        _panelBytes = _q * mr * 4;
        _u = GC.AllocateArray<short>(16 * _chTiles * _panelBytes / 2 + 32, pinned: true);
        Span<int> g = stackalloc int[9];
        Span<int> t = stackalloc int[12];
        for (int m = 0; m < cout; m++)
            for (int c = 0; c < cin; c++)
            {
                for (int k = 0; k < 9; k++) g[k] = QMath.WeightS8(weights[(m * cin + c) * 9 + k], weightsSigned);
                // (2G) g: 4×3
                for (int j = 0; j < 3; j++)
                {
                    int g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
                    t[j] = 2 * g0; t[3 + j] = g0 + g1 + g2; t[6 + j] = g0 - g1 + g2; t[9 + j] = 2 * g2;
                }
                for (int a = 0; a < 4; a++)
                {
                    int h0 = t[3 * a], h1 = t[3 * a + 1], h2 = t[3 * a + 2];
                    Span<int> row = [2 * h0, h0 + h1 + h2, h0 - h1 + h2, 2 * h2];
                    for (int b = 0; b < 4; b++)
                    {
                        int xi = 4 * a + b;
                        nint index = (((nint)(m / mr * 16 + xi) * _q + c / 2) * mr + m % mr) * 2 + (c & 1);
                        _u[index] = (short)row[b];
                    }
                }
            }

        _narrowMask = Vector256.LessThan(Vector256.Create((short)0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector256.Create((short)s.InW));
        _rowLen = (2 * _tilesW + 2 + 16 + 15) & ~15;
        _offBytes = Align(cout * sizeof(int));
        _vBytes = Align((16 * _q * _ld + 16) * 4);
        _mBytes = 16 * mr * nr * 4;
        _yBytes = Align(2 * mr * _tbPad * 2 * 4 + 64);
        _rowBytes = Align(2 * (2 * _blockRows + 2) * _rowLen * 2);
        _partBytes = _vBytes + _mBytes + _yBytes + _rowBytes;
    }

    private static int Align(int bytes) => (bytes + 63) & ~63;

    public int Threads { get; }

    public int ScratchBytes => _offBytes + Threads * _partBytes + 64;

    /// <summary>x [N, Cin, H, W], y [N, Cout, OH, OW]; epilogue channels index the output channel.</summary>
    public void Run(ExecutionContext? ctx, byte* x, int xZeroPoint, void* y, in QEpilogue e, byte* scratch)
    {
        scratch = (byte*)(((nint)scratch + 63) & ~(nint)63);
        _bias = (int*)scratch;
        for (int ch = 0; ch < _s.OutChannels; ch++) _bias[ch] = e.Bias is null ? 0 : e.Bias[ch];
        _parts = scratch + _offBytes;
        _x = x; _y = (byte*)y; _e = e;
        if (_outBytes == 1) _requant = new QTileRequant(e, _output == QOutputKind.Int8, _s.OutChannels);
        _xEnd = x + (nint)_s.Batch * _s.InChannels * _s.InPlane;
        _za = _xSigned ? xZeroPoint + 128 : xZeroPoint;
        _next = 0;
        if (ctx is null || Threads == 1) for (int part = 0; part < Threads; part++) Execute(part);
        else ctx.Parallel(this, Threads, Threads);
    }

    public void Execute(int part)
    {
        byte* pb = _parts + (nint)part * _partBytes;
        uint* v = (uint*)pb;
        int* m = (int*)(pb + _vBytes);
        int* ys = (int*)(pb + _vBytes + _mBytes);
        short* rows = (short*)(pb + _vBytes + _mBytes + _yBytes);
        int item;
        fixed (short* u = _u)
            while ((item = System.Threading.Interlocked.Increment(ref _next) - 1) < _items)
            {
                int cs = item % _chSplits, bi = item / _chSplits, n = bi / _blocks, block = bi % _blocks;
                int ct0 = cs * _chSplit, ct1 = Math.Min(_chTiles, ct0 + _chSplit);
                int tr0 = block * _blockRows, tileRows = Math.Min(_blockRows, _tilesH - tr0);
                TransformInput(_x + (nint)n * _s.InChannels * _s.InPlane, tr0, tileRows, v, rows);
                int tiles = tileRows * _tilesW;
                for (int ct = ct0; ct < ct1; ct++)
                {
                    for (int j = 0; j < tiles; j += _nr)
                    {
                        int origin = 0, mn = _mr * _nr;
                        for (int xi = 0; xi < 16; xi++)
                        {
                            byte* up = (byte*)u + (nint)(ct * 16 + xi) * _panelBytes, vp = (byte*)(v + (nint)xi * _q * _ld + j);
                            switch (_gemm)
                            {
                                case GemmShape.Avx2x6x16: QGemm6x16Avx2.Instance.RunTaps(1, _q, up, vp, &origin, _ld * 4, m + xi * mn, 16); break;
                                default: Gemm8x32(_q, up, vp, _ld * 4, m + xi * mn); break;
                            }
                        }
                        if (_outBytes == 1) TransformOutputBytes(m, (byte*)ys, j, ct);
                        else TransformOutput(m, ys, j);
                    }
                    if (_outBytes == 1) CopyRows((byte*)ys, n, ct, tr0, tileRows);
                    else WriteRows(ys, n, ct, tr0, tileRows);
                }
            }
    }

    /// <summary>
    /// V for tile rows tr0.. of one image: lane (ξ, q, t) = (V_ξ of channel 2q, of channel 2q + 1) of block tile t,
    /// at v + (ξ·Q + q)·LD + t (LD = TBpad + 8). Per channel pair: the block's 2R + 2 int16 input rows d of both
    /// channels (zeros outside the image), then per tile row and row combination a of Bᵀ d the column combinations,
    /// 8 tiles a vector, on (even, odd) column pairs: lanes (t[2j], t[2j+1]) and the next pair give (V0, V3) = u − w,
    /// V1 = low(swap(u) + w), V2 = low(w − swap(u)); the two channels' halves are blended into lanes.
    /// </summary>
    private void TransformInput(byte* x, int tr0, int tileRows, uint* v, short* rows)
    {
        int cin = _s.InChannels, tw = _tilesW, rowLen = _rowLen, planeRows = 2 * tileRows + 2;
        short* d0p = rows, d1p = rows + planeRows * rowLen;
        int vecs = (tw + 7) / 8;
        var low = Vector256.Create(0xFFFF).AsInt16();
        nint stride = (nint)_q * _ld;
        int rBase = 2 * tr0 - _s.PadTop;
        for (int q = 0; q < _q; q++)
        {
            for (int k = 0; k < planeRows; k++)
            {
                LoadRow(x, 2 * q, rBase + k, d0p + k * rowLen, cin);
                LoadRow(x, 2 * q + 1, rBase + k, d1p + k * rowLen, cin);
            }
            for (int trl = 0; trl < tileRows; trl++)
            {
                uint* dst = v + (nint)q * _ld + trl * tw;
                short* r0 = d0p + 2 * trl * rowLen, r1 = d1p + 2 * trl * rowLen;
                for (int a = 0; a < 4; a++)
                {
                    // Bᵀ row a: t = d[i] ± d[j] with (i, j, sign): (0, 2, −), (1, 2, +), (2, 1, −), (1, 3, −)
                    int i0 = a switch { 0 => 0, 2 => 2, _ => 1 }, j0 = a switch { 0 => 2, 1 => 2, 2 => 1, _ => 3 };
                    bool add = a == 1;
                    short* p0 = r0 + i0 * rowLen, m0 = r0 + j0 * rowLen, p1 = r1 + i0 * rowLen, m1 = r1 + j0 * rowLen;
                    uint* o = dst;
                    for (int sIdx = 0, c = 0; sIdx < vecs; sIdx++, c += 16, o += 8)
                    {
                        Vector256<short> u0, w0, u1, w1;
                        if (add)
                        {
                            u0 = Vector256.Load(p0 + c) + Vector256.Load(m0 + c); w0 = Vector256.Load(p0 + c + 2) + Vector256.Load(m0 + c + 2);
                            u1 = Vector256.Load(p1 + c) + Vector256.Load(m1 + c); w1 = Vector256.Load(p1 + c + 2) + Vector256.Load(m1 + c + 2);
                        }
                        else
                        {
                            u0 = Vector256.Load(p0 + c) - Vector256.Load(m0 + c); w0 = Vector256.Load(p0 + c + 2) - Vector256.Load(m0 + c + 2);
                            u1 = Vector256.Load(p1 + c) - Vector256.Load(m1 + c); w1 = Vector256.Load(p1 + c + 2) - Vector256.Load(m1 + c + 2);
                        }
                        var sw0 = (u0.AsInt32() << 16 | (u0.AsInt32() >>> 16)).AsInt16();
                        var sw1 = (u1.AsInt32() << 16 | (u1.AsInt32() >>> 16)).AsInt16();
                        var a03_0 = (u0 - w0).AsInt32();
                        var a03_1 = (u1 - w1).AsInt32();
                        var v1_0 = sw0 + w0;
                        var v1_1 = sw1 + w1;
                        var v2_0 = w0 - sw0;
                        var v2_1 = w1 - sw1;
                        var o0 = Avx2.Blend(a03_0.AsInt16(), (a03_1 << 16).AsInt16(), 0b10101010);
                        var o3 = Avx2.Blend((a03_0 >>> 16).AsInt16(), a03_1.AsInt16(), 0b10101010);
                        var o1 = Avx2.Blend(v1_0 & low, (v1_1.AsInt32() << 16).AsInt16(), 0b10101010);
                        var o2 = Avx2.Blend(v2_0 & low, (v2_1.AsInt32() << 16).AsInt16(), 0b10101010);
                        uint* pa = o + 4 * a * stride;
                        o0.AsUInt32().Store(pa);
                        o1.AsUInt32().Store(pa + stride);
                        o2.AsUInt32().Store(pa + 2 * stride);
                        o3.AsUInt32().Store(pa + 3 * stride);
                    }
                }
            }
        }
    }

    /// <summary>
    /// d = x − x_zp along input row ih of channel c from padded column −PadLeft: 2·TW + 2 values (0 outside the
    /// image), zeros up to rowLen. 16 input bytes a step (the last step overlapping, or one load with the lanes past
    /// the row masked when the row is narrower than 16 and 16 bytes can be read).
    /// </summary>
    private void LoadRow(byte* x, int c, int ih, short* d, int cin)
    {
        int rowLen = _rowLen;
        var zero = Vector256<short>.Zero;
        if (c >= cin || (uint)ih >= (uint)_s.InH)
        {
            for (int i = 0; i + 16 <= rowLen; i += 16) zero.Store(d + i);
            return;
        }
        int pl = _s.PadLeft, w = _s.InW;
        byte* src = x + ((nint)c * _s.InH + ih) * w;
        var mask = Vector128.Create((byte)(_xSigned ? 0x80 : 0));
        var zp = Vector256.Create((short)_za);
        // zeros first (left pad and everything past the row), then the row over them
        for (int i = 0; i + 16 <= rowLen; i += 16) zero.Store(d + i);
        short* o = d + pl;
        if (w >= 16)
        {
            int i = 0;
            for (; i + 16 <= w; i += 16) (Avx2.ConvertToVector256Int16(Vector128.Load(src + i) ^ mask) - zp).Store(o + i);
            if (i < w) (Avx2.ConvertToVector256Int16(Vector128.Load(src + w - 16) ^ mask) - zp).Store(o + w - 16);
        }
        else if (src + 16 <= _xEnd)
        {
            var v = Avx2.ConvertToVector256Int16(Vector128.Load(src) ^ mask) - zp;
            (v & _narrowMask).Store(o);
        }
        else
        {
            int sm = _xSigned ? 0x80 : 0;
            for (int i = 0; i < w; i++) o[i] = (short)((src[i] ^ sm) - _za);
        }
    }

    /// <summary>
    /// Aᵀ M A for MR channels × NR tiles from block tile j0, ÷4 exactly, into the pair stages: top[r][t] = (y00, y01),
    /// bottom[r][t] = (y10, y11), so output row 2·trl of channel r is the 2·TW ints at top + (r·TBpad + trl·TW)·2.
    /// </summary>
    private void TransformOutput(int* m, int* ys, int j0)
    {
        int tbPad = _tbPad, mr = _mr, nr = _nr, mn = mr * nr;
        int* bottom = ys + mr * 2 * tbPad;
        for (int r = 0; r < mr; r++)
            for (int h = 0; h < nr / 8; h++)
            {
                int* b = m + r * nr + 8 * h;
                Vector256<int> L(int xi) => Vector256.Load(b + xi * mn);
                var s0 = L(0) + L(4) + L(8); var s1 = L(1) + L(5) + L(9); var s2 = L(2) + L(6) + L(10); var s3 = L(3) + L(7) + L(11);
                var t0 = L(4) - L(8) - L(12); var t1 = L(5) - L(9) - L(13); var t2 = L(6) - L(10) - L(14); var t3 = L(7) - L(11) - L(15);
                var y00 = Avx2.ShiftRightArithmetic(s0 + s1 + s2, 2);
                var y01 = Avx2.ShiftRightArithmetic(s1 - s2 - s3, 2);
                var y10 = Avx2.ShiftRightArithmetic(t0 + t1 + t2, 2);
                var y11 = Avx2.ShiftRightArithmetic(t1 - t2 - t3, 2);
                nint at = ((nint)r * tbPad + j0 + 8 * h) * 2;
                var lo = Avx2.UnpackLow(y00, y01); var hi = Avx2.UnpackHigh(y00, y01);
                Avx2.Permute2x128(lo, hi, 0x20).Store(ys + at);
                Avx2.Permute2x128(lo, hi, 0x31).Store(ys + at + 8);
                lo = Avx2.UnpackLow(y10, y11); hi = Avx2.UnpackHigh(y10, y11);
                Avx2.Permute2x128(lo, hi, 0x20).Store(bottom + at);
                Avx2.Permute2x128(lo, hi, 0x31).Store(bottom + at + 8);
            }
    }

    /// <summary>
    /// Byte outputs: <see cref="TransformOutput"/>'s rows + bias, requantized in registers (<see cref="QTileRequant.Rows2"/>,
    /// the top and bottom output rows of 8 tiles in one call) into byte pair stages: top[r][2t], bottom[r][2t].
    /// Channels past the last are skipped.
    /// </summary>
    private void TransformOutputBytes(int* m, byte* ys, int j0, int ct)
    {
        int tbPad = _tbPad, mr = _mr, nr = _nr, mn = mr * nr, ch0 = ct * mr, chs = Math.Min(mr, _s.OutChannels - ch0);
        byte* bottom = ys + mr * 2 * tbPad;
        var rq = _requant;
        for (int r = 0; r < chs; r++)
        {
            var bias = Vector256.Create(_bias[ch0 + r]);
            float mult = _e.Multiplier[(ch0 + r) * _e.MultiplierStride];
            for (int h = 0; h < nr / 8; h++)
            {
                int* b = m + r * nr + 8 * h;
                Vector256<int> L(int xi) => Vector256.Load(b + xi * mn);
                var s0 = L(0) + L(4) + L(8); var s1 = L(1) + L(5) + L(9); var s2 = L(2) + L(6) + L(10); var s3 = L(3) + L(7) + L(11);
                var t0 = L(4) - L(8) - L(12); var t1 = L(5) - L(9) - L(13); var t2 = L(6) - L(10) - L(14); var t3 = L(7) - L(11) - L(15);
                var y00 = Avx2.ShiftRightArithmetic(s0 + s1 + s2, 2) + bias;
                var y01 = Avx2.ShiftRightArithmetic(s1 - s2 - s3, 2) + bias;
                var y10 = Avx2.ShiftRightArithmetic(t0 + t1 + t2, 2) + bias;
                var y11 = Avx2.ShiftRightArithmetic(t1 - t2 - t3, 2) + bias;
                nint at = ((nint)r * tbPad + j0 + 8 * h) * 2;
                var lo = Avx2.UnpackLow(y00, y01); var hi = Avx2.UnpackHigh(y00, y01);
                var lo1 = Avx2.UnpackLow(y10, y11); var hi1 = Avx2.UnpackHigh(y10, y11);
                rq.Rows2(Avx2.Permute2x128(lo, hi, 0x20), Avx2.Permute2x128(lo, hi, 0x31), mult, ys + at,
                    Avx2.Permute2x128(lo1, hi1, 0x20), Avx2.Permute2x128(lo1, hi1, 0x31), mult, bottom + at);
            }
        }
    }

    /// <summary>The block's output rows of channel tile ct from the byte pair stages into Y.</summary>
    private void CopyRows(byte* ys, int n, int ct, int tr0, int tileRows)
    {
        int ow = _s.OutW, oh1 = _s.OutH, tw = _tilesW, tbPad = _tbPad;
        int ch0 = ct * _mr, chs = Math.Min(_mr, _s.OutChannels - ch0);
        int oh0 = 2 * tr0, ohEnd = Math.Min(oh1, oh0 + 2 * tileRows);
        for (int r = 0; r < chs; r++)
        {
            byte* d = _y + ((nint)n * _s.OutChannels + ch0 + r) * _s.OutPlane;
            for (int oh = oh0; oh < ohEnd; oh++)
            {
                int rel = oh - oh0;
                byte* src = ys + (rel & 1) * _mr * 2 * tbPad + ((nint)r * tbPad + (rel >> 1) * tw) * 2;
                new ReadOnlySpan<byte>(src, ow).CopyTo(new Span<byte>(d + (nint)oh * ow, ow));
            }
        }
    }

    /// <summary>The block's output rows of channel tile ct (from the pair stages): + bias, then the epilogue into Y.</summary>
    private void WriteRows(int* ys, int n, int ct, int tr0, int tileRows)
    {
        int ow = _s.OutW, oh1 = _s.OutH, tw = _tilesW, tbPad = _tbPad;
        int ch0 = ct * _mr, chs = Math.Min(_mr, _s.OutChannels - ch0);
        int oh0 = 2 * tr0, ohEnd = Math.Min(oh1, oh0 + 2 * tileRows);
        for (int r = 0; r < chs; r++)
        {
            int ch = ch0 + r;
            var vb = Vector256.Create(_bias[ch]);
            for (int oh = oh0; oh < ohEnd; oh++)
            {
                int rel = oh - oh0;
                int* src = ys + (rel & 1) * _mr * 2 * tbPad + ((nint)r * tbPad + (rel >> 1) * tw) * 2;
                int t = 0;
                for (; t + 8 <= ow; t += 8) (Vector256.Load(src + t) + vb).Store(src + t);
                for (; t < ow; t++) src[t] = unchecked(src[t] + _bias[ch]);
                QEpilogueWriter.Write(_output, src, ow, _y, ((nint)n * _s.OutChannels + ch) * _s.OutPlane + (nint)oh * ow, ch, channelsAlongRow: false, _e);
            }
        }
    }

    /// <summary>8 channels × 32 tiles of one ξ: c[r·32 + t] = Σ_q U[q, r] · V[q, t] (int16 pairs, 512-bit vpmaddwd), V group q at b + q·stride.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Gemm8x32(int groups, byte* a, byte* b, nint stride, int* c)
    {
        Vector512<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default,
            c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int g = 0; g < groups; g++, a += 32, b += stride)
        {
            var b0 = Vector512.Load((short*)b);
            var b1 = Vector512.Load((short*)(b + 64));
            var a0 = Vector512.Create(*(int*)a).AsInt16();
            c00 += QGemm8x32Avx512.Madd(b0, a0); c01 += QGemm8x32Avx512.Madd(b1, a0);
            var a1 = Vector512.Create(*(int*)(a + 4)).AsInt16();
            c10 += QGemm8x32Avx512.Madd(b0, a1); c11 += QGemm8x32Avx512.Madd(b1, a1);
            var a2 = Vector512.Create(*(int*)(a + 8)).AsInt16();
            c20 += QGemm8x32Avx512.Madd(b0, a2); c21 += QGemm8x32Avx512.Madd(b1, a2);
            var a3 = Vector512.Create(*(int*)(a + 12)).AsInt16();
            c30 += QGemm8x32Avx512.Madd(b0, a3); c31 += QGemm8x32Avx512.Madd(b1, a3);
            var a4 = Vector512.Create(*(int*)(a + 16)).AsInt16();
            c40 += QGemm8x32Avx512.Madd(b0, a4); c41 += QGemm8x32Avx512.Madd(b1, a4);
            var a5 = Vector512.Create(*(int*)(a + 20)).AsInt16();
            c50 += QGemm8x32Avx512.Madd(b0, a5); c51 += QGemm8x32Avx512.Madd(b1, a5);
            var a6 = Vector512.Create(*(int*)(a + 24)).AsInt16();
            c60 += QGemm8x32Avx512.Madd(b0, a6); c61 += QGemm8x32Avx512.Madd(b1, a6);
            var a7 = Vector512.Create(*(int*)(a + 28)).AsInt16();
            c70 += QGemm8x32Avx512.Madd(b0, a7); c71 += QGemm8x32Avx512.Madd(b1, a7);
        }
        c00.Store(c); c01.Store(c + 16); c10.Store(c + 32); c11.Store(c + 48);
        c20.Store(c + 64); c21.Store(c + 80); c30.Store(c + 96); c31.Store(c + 112);
        c40.Store(c + 128); c41.Store(c + 144); c50.Store(c + 160); c51.Store(c + 176);
        c60.Store(c + 192); c61.Store(c + 208); c70.Store(c + 224); c71.Store(c + 240);
    }
}
