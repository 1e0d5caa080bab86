using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Gemm;

namespace EdgeNet.Kernels.Conv.Winograd;

/// <summary>
/// The input and output tile transforms of a Winograd conv on NCHW planes, vectorised across the tiles of a tile
/// row (lane i = tile i), for F(2,3) and F(4,3).
/// Input: one channel plane is first copied into a "phase" layout: padded row r holds m phase rows of
/// <see cref="PhaseLength"/> floats, phase p at [q] = x[r − padTop, m·q + p − padLeft] (zero outside the plane), so
/// column c of the tiles starting at tile q is the contiguous run phase (c mod m) from q + c / m: every tap of α
/// consecutive tiles is one vector load. V = Bᵀ d B is then written as frequency f's row of the channel: V_f[c, t],
/// t = ty·tilesW + tx, rows <see cref="RowStride"/> floats apart (a vector past the last tile spills into padding).
/// Output: the GEMM results M_f[filter, t] of one filter give Y = Aᵀ M A per tile, plus bias, then the activation;
/// the m×m tiles are scattered into the output plane, clipped at the bottom and right edges.
/// </summary>
public sealed unsafe class F32WinogradTiles
{
    private readonly int _m, _alpha, _inH, _inW, _padTop, _padLeft, _outH, _outW;
    private readonly Isa _isa;
    /// <summary>Register permutes (AVX-512 two-source permutes, AVX2 shuffles, NEON unzip/zip) deinterleave the phases
    /// and interleave the output tiles, one vector of tiles at a time; else scalar moves.</summary>
    private readonly bool _permute;

    public F32WinogradTiles(WinogradTransform transform, Isa isa, int inH, int inW, int padTop, int padLeft, int outH, int outW)
    {
        _m = transform.M;
        _alpha = transform.Alpha;
        _isa = isa;
        _inH = inH; _inW = inW; _padTop = padTop; _padLeft = padLeft; _outH = outH; _outW = outW;
        Lanes = LanesOf(isa);
        TilesH = (outH + _m - 1) / _m;
        TilesW = (outW + _m - 1) / _m;
        Tiles = TilesH * TilesW;
        RowStride = Tiles + Lanes;
        _permute = isa switch
        {
            Isa.Avx512 => Avx512F.IsSupported,
            Isa.Avx2 => Avx2.IsSupported,
            Isa.Neon => AdvSimd.Arm64.IsSupported,
            _ => false,
        };
        // columns q ≤ tilesW are read by real tiles; a vector's lanes past tilesW may read on into the next phase
        PhaseLength = (TilesW + 1 + Lanes - 1) / Lanes * Lanes;
        PhaseRows = TilesH * _m + 2;
    }

    /// <summary>Tiles (and phase columns) one vector covers on an ISA path.</summary>
    public static int LanesOf(Isa isa) => isa switch
    {
        Isa.Avx512 => 16,
        Isa.Avx2 => 8,
        Isa.Neon => 4,
        _ => 1,
    };

    public int Lanes { get; }
    public int TilesH { get; }
    public int TilesW { get; }
    public int Tiles { get; }
    /// <summary>Floats between consecutive rows of a V_f matrix (tiles plus one vector of spill).</summary>
    public int RowStride { get; }
    public int PhaseLength { get; }
    public int PhaseRows { get; }
    /// <summary>Floats of the phase copy of one channel plane (and, on the permute path, one zero-bordered padded row).</summary>
    public int PhaseFloats => PhaseRows * _m * PhaseLength + (_permute ? _m * PhaseLength + 64 : Lanes);

    /// <summary>
    /// Transforms one channel plane: <paramref name="v"/> is its row in frequency 0's V matrix, frequency f's row is
    /// at v + f·<paramref name="frequencyStride"/>; <paramref name="phases"/>: <see cref="PhaseFloats"/> of scratch.
    /// </summary>
    public void Input(float* plane, float* phases, float* v, nint frequencyStride) => Input(plane, phases, v, frequencyStride, 0, TilesH);

    /// <summary>
    /// <see cref="Input(float*, float*, float*, nint)"/> for the tile rows [<paramref name="ty0"/>, <paramref name="ty1"/>)
    /// only: tile (ty, tx) goes to column (ty − ty0)·<see cref="TilesW"/> + tx of the rows, and only the input rows
    /// those tiles read are copied into <paramref name="phases"/>.
    /// </summary>
    public void Input(float* plane, float* phases, float* v, nint frequencyStride, int ty0, int ty1)
    {
        FillPhases(plane, phases, ty0 * _m, ty1 * _m + 2);
        switch (_isa, _m)
        {
            case (Isa.Avx512, 4): Input4<Lanes512, Vector512<float>>(phases, v, frequencyStride, ty1 - ty0); break;
            case (Isa.Avx512, _): Input2<Lanes512, Vector512<float>>(phases, v, frequencyStride, ty1 - ty0); break;
            case (Isa.Avx2, 4): Input4<Lanes256, Vector256<float>>(phases, v, frequencyStride, ty1 - ty0); break;
            case (Isa.Avx2, _): Input2<Lanes256, Vector256<float>>(phases, v, frequencyStride, ty1 - ty0); break;
            case (Isa.Neon, 4): Input4<Lanes128, Vector128<float>>(phases, v, frequencyStride, ty1 - ty0); break;
            case (Isa.Neon, _): Input2<Lanes128, Vector128<float>>(phases, v, frequencyStride, ty1 - ty0); break;
            case (_, 4): Input4<Lanes1, float>(phases, v, frequencyStride, ty1 - ty0); break;
            default: Input2<Lanes1, float>(phases, v, frequencyStride, ty1 - ty0); break;
        }
    }

    /// <summary>
    /// Output tiles of one filter: <paramref name="mt"/> is its row in frequency 0's GEMM result (tiles floats,
    /// readable one vector past the end), frequency f's at mt + f·<paramref name="frequencyStride"/>; writes the
    /// outH×outW plane <paramref name="y"/> = act(Aᵀ M A + bias).
    /// </summary>
    public void Output(float* mt, nint frequencyStride, float bias, FusedActivation act, float* y) => Output(mt, frequencyStride, bias, act, y, 0, TilesH);

    /// <summary>
    /// <see cref="Output(float*, nint, float, FusedActivation, float*)"/> for the tile rows [<paramref name="ty0"/>,
    /// <paramref name="ty1"/>) only: tile (ty, tx) is read from column (ty − ty0)·<see cref="TilesW"/> + tx;
    /// <paramref name="y"/> is still the whole output plane.
    /// </summary>
    public void Output(float* mt, nint frequencyStride, float bias, FusedActivation act, float* y, int ty0, int ty1)
    {
        switch (_isa, _m)
        {
            case (Isa.Avx512, 4): Output4<Lanes512, Vector512<float>>(mt, frequencyStride, bias, act, y, ty0, ty1); break;
            case (Isa.Avx512, _): Output2<Lanes512, Vector512<float>>(mt, frequencyStride, bias, act, y, ty0, ty1); break;
            case (Isa.Avx2, 4): Output4<Lanes256, Vector256<float>>(mt, frequencyStride, bias, act, y, ty0, ty1); break;
            case (Isa.Avx2, _): Output2<Lanes256, Vector256<float>>(mt, frequencyStride, bias, act, y, ty0, ty1); break;
            case (Isa.Neon, 4): Output4<Lanes128, Vector128<float>>(mt, frequencyStride, bias, act, y, ty0, ty1); break;
            case (Isa.Neon, _): Output2<Lanes128, Vector128<float>>(mt, frequencyStride, bias, act, y, ty0, ty1); break;
            case (_, 4): Output4<Lanes1, float>(mt, frequencyStride, bias, act, y, ty0, ty1); break;
            default: Output2<Lanes1, float>(mt, frequencyStride, bias, act, y, ty0, ty1); break;
        }
    }

    /// <summary>phases[((r − r0)·m + p)·L + q] = x[r − padTop, m·q + p − padLeft] for padded rows r in [r0, r1), 0 outside the plane.</summary>
    private void FillPhases(float* plane, float* phases, int r0, int r1)
    {
        if (_permute)
        {
            FillPhasesPermute(plane, phases, r0, r1);
            return;
        }
        int m = _m, len = PhaseLength, rowFloats = m * len;
        for (int r = r0; r < r1; r++)
        {
            float* dst = phases + (nint)(r - r0) * rowFloats;
            int ih = r - _padTop;
            if ((uint)ih >= (uint)_inH)
            {
                new Span<float>(dst, rowFloats).Clear();
                continue;
            }
            float* src = plane + (nint)ih * _inW;
            for (int p = 0; p < m; p++, dst += len)
            {
                // columns m·q + p − padLeft inside [0, inW) for q in [q0, q1)
                int first = p - _padLeft;
                int q0 = first >= 0 ? 0 : (-first + m - 1) / m;
                int q1 = Math.Clamp((_inW - first + m - 1) / m, q0, len);
                int q = 0;
                for (; q < q0; q++) dst[q] = 0;
                float* s = src + first;
                if (m == 4)
                    for (; q < q1; q++) dst[q] = s[4 * q];
                else
                    for (; q < q1; q++) dst[q] = s[2 * q];
                for (; q < len; q++) dst[q] = 0;
            }
        }
    }

    /// <summary>
    /// <see cref="FillPhases"/> with register permutes: each input row is copied into a zero-bordered padded row,
    /// whose chunks of m vectors are split into the m phases.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void FillPhasesPermute(float* plane, float* phases, int r0, int r1)
    {
        int m = _m, len = PhaseLength, rowFloats = m * len;
        float* padded = phases + (nint)PhaseRows * rowFloats;
        new Span<float>(padded, rowFloats + 64).Clear();
        for (int r = r0; r < r1; r++)
        {
            float* dst = phases + (nint)(r - r0) * rowFloats;
            int ih = r - _padTop;
            if ((uint)ih >= (uint)_inH)
            {
                new Span<float>(dst, rowFloats).Clear();
                continue;
            }
            F32GemmEpilogue.Copy(plane + (nint)ih * _inW, padded + _padLeft, _inW);
            switch (_isa)
            {
                case Isa.Avx512: SplitAvx512(padded, dst, m, len); break;
                case Isa.Avx2: SplitAvx2(padded, dst, m, len); break;
                default: SplitNeon(padded, dst, m, len); break;
            }
        }
    }

    /// <summary>dst[p·len + q] = padded[m·q + p], 16 q at a time.</summary>
    private static void SplitAvx512(float* padded, float* dst, int m, int len)
    {
        var one = Vector512.Create(1);
        if (m == 4)
        {
            var index = Vector512.Create(0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28);
            for (int q = 0; q < len; q += 16)
            {
                float* s = padded + 4 * q;
                var v0 = Vector512.Load(s); var v1 = Vector512.Load(s + 16); var v2 = Vector512.Load(s + 32); var v3 = Vector512.Load(s + 48);
                var idx = index;
                for (int p = 0; p < 4; p++, idx += one)
                {
                    var lo = Avx512F.PermuteVar16x32x2(v0, idx, v1);
                    var hi = Avx512F.PermuteVar16x32x2(v2, idx, v3);
                    Vector512.WithUpper(lo, hi.GetLower()).Store(dst + p * len + q);
                }
            }
            return;
        }
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        for (int q = 0; q < len; q += 16)
        {
            float* s = padded + 2 * q;
            var v0 = Vector512.Load(s); var v1 = Vector512.Load(s + 16);
            Avx512F.PermuteVar16x32x2(v0, even, v1).Store(dst + q);
            Avx512F.PermuteVar16x32x2(v0, even + one, v1).Store(dst + len + q);
        }
    }

    /// <summary>dst[p·len + q] = padded[m·q + p], 8 q at a time (split into even and odd, once or twice).</summary>
    private static void SplitAvx2(float* padded, float* dst, int m, int len)
    {
        for (int q = 0; q < len; q += 8)
        {
            float* s = padded + m * q;
            var (e01, o01) = EvenOdd(Vector256.Load(s), Vector256.Load(s + 8));
            if (m == 2)
            {
                e01.Store(dst + q);
                o01.Store(dst + len + q);
                continue;
            }
            var (e23, o23) = EvenOdd(Vector256.Load(s + 16), Vector256.Load(s + 24));
            var (p0, p2) = EvenOdd(e01, e23);
            var (p1, p3) = EvenOdd(o01, o23);
            p0.Store(dst + q);
            p1.Store(dst + len + q);
            p2.Store(dst + 2 * len + q);
            p3.Store(dst + 3 * len + q);
        }
    }

    /// <summary>The even and the odd elements of the 16 floats a ‖ b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float>, Vector256<float>) EvenOdd(Vector256<float> a, Vector256<float> b)
    {
        // per 128-bit lane: (a0 a2 b0 b2), then the 64-bit pieces reordered to a0 a2 a4 a6 b0 b2 b4 b6
        var even = Avx2.Permute4x64(Avx.Shuffle(a, b, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle();
        var odd = Avx2.Permute4x64(Avx.Shuffle(a, b, 0b11_01_11_01).AsDouble(), 0b11_01_10_00).AsSingle();
        return (even, odd);
    }

    /// <summary>dst[p·len + q] = padded[m·q + p], 4 q at a time (unzip once or twice).</summary>
    private static void SplitNeon(float* padded, float* dst, int m, int len)
    {
        for (int q = 0; q < len; q += 4)
        {
            float* s = padded + m * q;
            var v0 = Vector128.Load(s); var v1 = Vector128.Load(s + 4);
            var e01 = AdvSimd.Arm64.UnzipEven(v0, v1);
            var o01 = AdvSimd.Arm64.UnzipOdd(v0, v1);
            if (m == 2)
            {
                e01.Store(dst + q);
                o01.Store(dst + len + q);
                continue;
            }
            var v2 = Vector128.Load(s + 8); var v3 = Vector128.Load(s + 12);
            var e23 = AdvSimd.Arm64.UnzipEven(v2, v3);
            var o23 = AdvSimd.Arm64.UnzipOdd(v2, v3);
            AdvSimd.Arm64.UnzipEven(e01, e23).Store(dst + q);
            AdvSimd.Arm64.UnzipEven(o01, o23).Store(dst + len + q);
            AdvSimd.Arm64.UnzipOdd(e01, e23).Store(dst + 2 * len + q);
            AdvSimd.Arm64.UnzipOdd(o01, o23).Store(dst + 3 * len + q);
        }
    }

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Input4<L, V>(float* phases, float* v, nint fs, int tileRows) where L : IWinogradLanes<V> where V : unmanaged
    {
        int lanes = L.Count, len = PhaseLength, rowFloats = 4 * len, tilesW = TilesW;
        float* h = stackalloc float[36 * lanes];
        for (int ty = 0; ty < tileRows; ty++)
            for (int tx = 0; tx < tilesW; tx += lanes)
            {
                float* row = phases + (nint)ty * 4 * rowFloats + tx;
                // rows: h[r, ·] = Bᵀ d[r, ·]ᵀ (the column transform of each row, d B)
                for (int r = 0; r < 6; r++, row += rowFloats)
                {
                    V d0 = L.Load(row), d1 = L.Load(row + len), d2 = L.Load(row + 2 * len), d3 = L.Load(row + 3 * len);
                    V d4 = L.Load(row + 1), d5 = L.Load(row + len + 1);
                    BT6<L, V>(d0, d1, d2, d3, d4, d5, h + r * 6 * lanes, lanes);
                }
                // columns: V[·, j] = Bᵀ h[·, j]
                float* dst = v + ty * tilesW + tx;
                for (int j = 0; j < 6; j++)
                {
                    float* col = h + j * lanes;
                    V e0 = L.Load(col), e1 = L.Load(col + 6 * lanes), e2 = L.Load(col + 12 * lanes);
                    V e3 = L.Load(col + 18 * lanes), e4 = L.Load(col + 24 * lanes), e5 = L.Load(col + 30 * lanes);
                    BT6Strided<L, V>(e0, e1, e2, e3, e4, e5, dst + j * fs, 6 * fs);
                }
            }
    }

    /// <summary>o = Bᵀ d for F(4,3), stored o_i at out + i·step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BT6<L, V>(V d0, V d1, V d2, V d3, V d4, V d5, float* out0, int step) where L : IWinogradLanes<V> where V : unmanaged
    {
        V s = L.Sub(d4, d2);
        V t = L.Sub(d3, d1);
        L.Store(out0, L.MulAdd(d2, -5, L.MulAdd(d0, 4, d4)));
        L.Store(out0 + step, L.MulAdd(L.Add(d1, d2), -4, L.Add(d3, d4)));
        L.Store(out0 + 2 * step, L.MulAdd(L.Sub(d1, d2), 4, L.Sub(d4, d3)));
        L.Store(out0 + 3 * step, L.MulAdd(t, 2, s));
        L.Store(out0 + 4 * step, L.MulAdd(t, -2, s));
        L.Store(out0 + 5 * step, L.MulAdd(d3, -5, L.MulAdd(d1, 4, d5)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BT6Strided<L, V>(V d0, V d1, V d2, V d3, V d4, V d5, float* out0, nint step) where L : IWinogradLanes<V> where V : unmanaged
    {
        V s = L.Sub(d4, d2);
        V t = L.Sub(d3, d1);
        L.Store(out0, L.MulAdd(d2, -5, L.MulAdd(d0, 4, d4)));
        L.Store(out0 + step, L.MulAdd(L.Add(d1, d2), -4, L.Add(d3, d4)));
        L.Store(out0 + 2 * step, L.MulAdd(L.Sub(d1, d2), 4, L.Sub(d4, d3)));
        L.Store(out0 + 3 * step, L.MulAdd(t, 2, s));
        L.Store(out0 + 4 * step, L.MulAdd(t, -2, s));
        L.Store(out0 + 5 * step, L.MulAdd(d3, -5, L.MulAdd(d1, 4, d5)));
    }

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Input2<L, V>(float* phases, float* v, nint fs, int tileRows) where L : IWinogradLanes<V> where V : unmanaged
    {
        int lanes = L.Count, len = PhaseLength, rowFloats = 2 * len, tilesW = TilesW;
        float* h = stackalloc float[16 * lanes];
        for (int ty = 0; ty < tileRows; ty++)
            for (int tx = 0; tx < tilesW; tx += lanes)
            {
                float* row = phases + (nint)ty * 2 * rowFloats + tx;
                for (int r = 0; r < 4; r++, row += rowFloats)
                {
                    V d0 = L.Load(row), d1 = L.Load(row + len), d2 = L.Load(row + 1), d3 = L.Load(row + len + 1);
                    float* o = h + r * 4 * lanes;
                    L.Store(o, L.Sub(d0, d2));
                    L.Store(o + lanes, L.Add(d1, d2));
                    L.Store(o + 2 * lanes, L.Sub(d2, d1));
                    L.Store(o + 3 * lanes, L.Sub(d1, d3));
                }
                float* dst = v + ty * tilesW + tx;
                for (int j = 0; j < 4; j++)
                {
                    float* col = h + j * lanes;
                    V e0 = L.Load(col), e1 = L.Load(col + 4 * lanes), e2 = L.Load(col + 8 * lanes), e3 = L.Load(col + 12 * lanes);
                    float* o = dst + j * fs;
                    L.Store(o, L.Sub(e0, e2));
                    L.Store(o + 4 * fs, L.Add(e1, e2));
                    L.Store(o + 8 * fs, L.Sub(e2, e1));
                    L.Store(o + 12 * fs, L.Sub(e1, e3));
                }
            }
    }

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Output4<L, V>(float* mt, nint fs, float bias, FusedActivation act, float* y, int ty0, int ty1) where L : IWinogradLanes<V> where V : unmanaged
    {
        int lanes = L.Count, tilesW = TilesW;
        float* h = stackalloc float[24 * lanes];
        float* o = stackalloc float[16 * lanes];
        V b = L.Broadcast(bias);
        for (int ty = ty0; ty < ty1; ty++)
            for (int tx = 0; tx < tilesW; tx += lanes)
            {
                float* src = mt + (ty - ty0) * tilesW + tx;
                // rows i of the α×α frequencies: h[i, q] = (M A)[i, q]
                for (int i = 0; i < 6; i++)
                {
                    float* s = src + i * 6 * fs;
                    V m0 = L.Load(s), m1 = L.Load(s + fs), m2 = L.Load(s + 2 * fs), m3 = L.Load(s + 3 * fs), m4 = L.Load(s + 4 * fs), m5 = L.Load(s + 5 * fs);
                    AT6<L, V>(m0, m1, m2, m3, m4, m5, h + i * 4 * lanes, lanes);
                }
                // columns q: Y[r, q] = (Aᵀ h)[r, q]
                for (int q = 0; q < 4; q++)
                {
                    float* c = h + q * lanes;
                    V m0 = L.Load(c), m1 = L.Load(c + 4 * lanes), m2 = L.Load(c + 8 * lanes), m3 = L.Load(c + 12 * lanes), m4 = L.Load(c + 16 * lanes), m5 = L.Load(c + 20 * lanes);
                    V s12 = L.Add(m1, m2), d12 = L.Sub(m1, m2), s34 = L.Add(m3, m4), d34 = L.Sub(m3, m4);
                    L.Store(o + q * lanes, L.Activate(L.Add(L.Add(L.Add(m0, s12), s34), b), act));
                    L.Store(o + (4 + q) * lanes, L.Activate(L.Add(L.MulAdd(d34, 2, d12), b), act));
                    L.Store(o + (8 + q) * lanes, L.Activate(L.Add(L.MulAdd(s34, 4, s12), b), act));
                    L.Store(o + (12 + q) * lanes, L.Activate(L.Add(L.MulAdd(d34, 8, L.Add(d12, m5)), b), act));
                }
                Scatter(o, lanes, ty, tx, y);
            }
    }

    /// <summary>o = Aᵀ m for F(4,3), stored o_i at out + i·step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AT6<L, V>(V m0, V m1, V m2, V m3, V m4, V m5, float* out0, int step) where L : IWinogradLanes<V> where V : unmanaged
    {
        V s12 = L.Add(m1, m2), d12 = L.Sub(m1, m2), s34 = L.Add(m3, m4), d34 = L.Sub(m3, m4);
        L.Store(out0, L.Add(L.Add(m0, s12), s34));
        L.Store(out0 + step, L.MulAdd(d34, 2, d12));
        L.Store(out0 + 2 * step, L.MulAdd(s34, 4, s12));
        L.Store(out0 + 3 * step, L.MulAdd(d34, 8, L.Add(d12, m5)));
    }

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Output2<L, V>(float* mt, nint fs, float bias, FusedActivation act, float* y, int ty0, int ty1) where L : IWinogradLanes<V> where V : unmanaged
    {
        int lanes = L.Count, tilesW = TilesW;
        float* h = stackalloc float[8 * lanes];
        float* o = stackalloc float[4 * lanes];
        V b = L.Broadcast(bias);
        for (int ty = ty0; ty < ty1; ty++)
            for (int tx = 0; tx < tilesW; tx += lanes)
            {
                float* src = mt + (ty - ty0) * tilesW + tx;
                for (int i = 0; i < 4; i++)
                {
                    float* s = src + i * 4 * fs;
                    V m0 = L.Load(s), m1 = L.Load(s + fs), m2 = L.Load(s + 2 * fs), m3 = L.Load(s + 3 * fs);
                    L.Store(h + i * 2 * lanes, L.Add(L.Add(m0, m1), m2));
                    L.Store(h + (i * 2 + 1) * lanes, L.Sub(L.Sub(m1, m2), m3));
                }
                for (int q = 0; q < 2; q++)
                {
                    float* c = h + q * lanes;
                    V m0 = L.Load(c), m1 = L.Load(c + 2 * lanes), m2 = L.Load(c + 4 * lanes), m3 = L.Load(c + 6 * lanes);
                    L.Store(o + q * lanes, L.Activate(L.Add(L.Add(L.Add(m0, m1), m2), b), act));
                    L.Store(o + (2 + q) * lanes, L.Activate(L.Add(L.Sub(L.Sub(m1, m2), m3), b), act));
                }
                Scatter(o, lanes, ty, tx, y);
            }
    }

    /// <summary><see cref="Scatter"/> with register permutes: each output row of a vector of tiles is interleaved
    /// into a stack row, then copied (clipped) to the plane.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ScatterPermute(float* o, int ty, int tx, float* y)
    {
        int m = _m, lanes = Lanes, rows = Math.Min(m, _outH - m * ty), ow0 = m * tx, count = Math.Min(m * lanes, _outW - ow0);
        float* row = stackalloc float[64];
        for (int r = 0; r < rows; r++)
        {
            float* src = o + r * m * lanes;
            switch (_isa)
            {
                case Isa.Avx512: InterleaveAvx512(src, row, m); break;
                case Isa.Avx2: InterleaveAvx2(src, row, m); break;
                default: InterleaveNeon(src, row, m); break;
            }
            F32GemmEpilogue.Copy(row, y + (nint)(m * ty + r) * _outW + ow0, count);
        }
    }

    /// <summary>row[m·l + q] = src[q·16 + l] (16 tiles).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InterleaveAvx512(float* src, float* row, int m)
    {
        var pairLo = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        var pairHi = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        if (m == 2)
        {
            var q0 = Vector512.Load(src); var q1 = Vector512.Load(src + 16);
            Avx512F.PermuteVar16x32x2(q0, pairLo, q1).Store(row);
            Avx512F.PermuteVar16x32x2(q0, pairHi, q1).Store(row + 16);
            return;
        }
        // pairs (q0, q1) and (q2, q3) of tiles 0..7 and 8..15, then quads
        var quadLo = Vector512.Create(0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
        var quadHi = Vector512.Create(8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
        var o0 = Vector512.Load(src); var o1 = Vector512.Load(src + 16); var o2 = Vector512.Load(src + 32); var o3 = Vector512.Load(src + 48);
        var a = Avx512F.PermuteVar16x32x2(o0, pairLo, o1);
        var b = Avx512F.PermuteVar16x32x2(o2, pairLo, o3);
        var c = Avx512F.PermuteVar16x32x2(o0, pairHi, o1);
        var d = Avx512F.PermuteVar16x32x2(o2, pairHi, o3);
        Avx512F.PermuteVar16x32x2(a, quadLo, b).Store(row);
        Avx512F.PermuteVar16x32x2(a, quadHi, b).Store(row + 16);
        Avx512F.PermuteVar16x32x2(c, quadLo, d).Store(row + 32);
        Avx512F.PermuteVar16x32x2(c, quadHi, d).Store(row + 48);
    }

    /// <summary>row[m·l + q] = src[q·8 + l] (8 tiles).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InterleaveAvx2(float* src, float* row, int m)
    {
        var o0 = Vector256.Load(src); var o1 = Vector256.Load(src + 8);
        // per 128-bit lane: (o0[l], o1[l]) pairs of tiles l = 0, 1 (low) and 2, 3 (high), then 4..7
        var a = Avx.UnpackLow(o0, o1);
        var b = Avx.UnpackHigh(o0, o1);
        if (m == 2)
        {
            Avx.Permute2x128(a, b, 0x20).Store(row);
            Avx.Permute2x128(a, b, 0x31).Store(row + 8);
            return;
        }
        var o2 = Vector256.Load(src + 16); var o3 = Vector256.Load(src + 24);
        var c = Avx.UnpackLow(o2, o3);
        var d = Avx.UnpackHigh(o2, o3);
        // quads: tile l | tile l + 4 in each 256-bit register
        var t0 = Avx.UnpackLow(a.AsDouble(), c.AsDouble()).AsSingle();
        var t1 = Avx.UnpackHigh(a.AsDouble(), c.AsDouble()).AsSingle();
        var t2 = Avx.UnpackLow(b.AsDouble(), d.AsDouble()).AsSingle();
        var t3 = Avx.UnpackHigh(b.AsDouble(), d.AsDouble()).AsSingle();
        Avx.Permute2x128(t0, t1, 0x20).Store(row);
        Avx.Permute2x128(t2, t3, 0x20).Store(row + 8);
        Avx.Permute2x128(t0, t1, 0x31).Store(row + 16);
        Avx.Permute2x128(t2, t3, 0x31).Store(row + 24);
    }

    /// <summary>row[m·l + q] = src[q·4 + l] (4 tiles).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InterleaveNeon(float* src, float* row, int m)
    {
        var o0 = Vector128.Load(src); var o1 = Vector128.Load(src + 4);
        var a = AdvSimd.Arm64.ZipLow(o0, o1);
        var b = AdvSimd.Arm64.ZipHigh(o0, o1);
        if (m == 2)
        {
            a.Store(row);
            b.Store(row + 4);
            return;
        }
        var o2 = Vector128.Load(src + 8); var o3 = Vector128.Load(src + 12);
        var c = AdvSimd.Arm64.ZipLow(o2, o3);
        var d = AdvSimd.Arm64.ZipHigh(o2, o3);
        AdvSimd.Arm64.ZipLow(a.AsDouble(), c.AsDouble()).AsSingle().Store(row);
        AdvSimd.Arm64.ZipHigh(a.AsDouble(), c.AsDouble()).AsSingle().Store(row + 4);
        AdvSimd.Arm64.ZipLow(b.AsDouble(), d.AsDouble()).AsSingle().Store(row + 8);
        AdvSimd.Arm64.ZipHigh(b.AsDouble(), d.AsDouble()).AsSingle().Store(row + 12);
    }

    /// <summary>y[m·ty + r, m·(tx + l) + q] = o[(r·m + q)·lanes + l] inside the plane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Scatter(float* o, int lanes, int ty, int tx, float* y)
    {
        if (_permute)
        {
            ScatterPermute(o, ty, tx, y);
            return;
        }
        int m = _m, rows = Math.Min(m, _outH - m * ty), count = Math.Min(lanes, TilesW - tx);
        int ow0 = m * tx, outW = _outW;
        bool fullRight = m * (tx + count) <= outW;
        for (int r = 0; r < rows; r++)
        {
            float* dst = y + (nint)(m * ty + r) * outW + ow0;
            float* src = o + r * m * lanes;
            if (fullRight)
            {
                for (int l = 0; l < count; l++, dst += m)
                    for (int q = 0; q < m; q++) dst[q] = src[q * lanes + l];
            }
            else
            {
                for (int l = 0; l < count; l++, dst += m)
                    for (int q = 0; q < m && ow0 + l * m + q < outW; q++) dst[q] = src[q * lanes + l];
            }
        }
    }
}
