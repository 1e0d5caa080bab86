using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Ops.Conv;

namespace EdgeNet.Kernels.Pool;

/// <summary>
/// Float32 MaxPool whose windows tile the input: kernel = stride on both axes, KW ≤ 2, no padding or dilation, and
/// the input height and width whole multiples of the window. Every output row is then the max over one group of KH
/// input rows, and the planes follow each other with nothing skipped, so the whole tensor is one stream of row groups:
/// a 28×8 plane's 4-wide output rows fill whole vectors, with no per-row or per-plane set-up. A vector of 8 outputs
/// takes 16 input columns of each row of its group (from one or several consecutive groups), split into even and odd
/// columns. Taps are combined in the reference's order ((kh, kw) row-major) as the reference does
/// (<c>if (tap &gt; best) best = tap</c>, which is exactly <c>maxps(tap, best)</c>), so the results are the
/// reference's bits, NaN and signed zeros included.
/// </summary>
public static unsafe class F32MaxPoolTiled
{
    /// <summary>True when the windows of <paramref name="g"/> tile the input and the AVX2 stream applies.</summary>
    public static bool Fits(ConvGeometry g, Isa isa)
    {
        if (isa is not (Isa.Avx2 or Isa.Avx512) || !Avx2.IsSupported) return false;
        if (g.InD != 1 || g.KD != 1 || g.OutD != 1) return false;
        for (int a = 0; a < ConvGeometry.MaxRank; a++)
            if (g.PadBegin[a] != 0 || g.PadEnd[a] != 0 || g.Dilations[a] != 1) return false;
        int kh = g.KH, kw = g.KW;
        if (g.SH != kh || g.SW != kw || kw is < 1 or > 2 || kh is < 1 or > 8) return false;
        if (g.InH != g.OutH * kh || g.InW != g.OutW * kw) return false;
        // a load of 8 consecutive columns must stay inside one input row (unless the groups are single rows)
        return kh == 1 || g.InW % 8 == 0;
    }

    /// <summary>
    /// y = MaxPool(x) for <paramref name="groups"/> consecutive row groups (planes × output rows) of a geometry that
    /// <see cref="Fits"/>: x holds groups·KH rows of InW floats, y groups·OutW floats.
    /// </summary>
    public static void Run(ConvGeometry g, float* x, float* y, int groups)
    {
        int kh = g.KH, w = g.InW, total = groups * g.OutW;
        if (total < 8)
        {
            Scalar(g, x, y, 0, total);
            return;
        }
        if (g.KW == 1) Columns(x, y, kh, w, total);
        else Pairs(x, y, kh, w, total);
    }

    /// <summary>KW = 2: output o takes input columns 2o, 2o + 1 of the rows of its group.</summary>
    private static void Pairs(float* x, float* y, int kh, int w, int total)
    {
        // runs of 8 columns walk the first rows of the groups: p at column c of a group's first row
        var walk = new Walk(x, kh, w);
        int o = 0;
        for (; o + 8 <= total; o += 8) PairsVector(walk.Next(), walk.Next(), kh, w, y + o);
        if (o < total)
        {
            // the last vector overlaps the one before
            o = total - 8;
            PairsVector(Walk.At(x, kh, w, 2 * (nint)o), Walk.At(x, kh, w, 2 * (nint)o + 8), kh, w, y + o);
        }
    }

    private static void PairsVector(float* p0, float* p1, int kh, nint w, float* y)
    {
        var acc = Max2(Vector256.Load(p0), Vector256.Load(p1), out var odd);
        acc = Avx.Max(odd, acc);
        for (int r = 1; r < kh; r++)
        {
            var even = Max2(Vector256.Load(p0 + r * w), Vector256.Load(p1 + r * w), out odd);
            acc = Avx.Max(odd, Avx.Max(even, acc));
        }
        acc.Store(y);
    }

    /// <summary>KW = 1: output o is column o of its group's rows.</summary>
    private static void Columns(float* x, float* y, int kh, int w, int total)
    {
        var walk = new Walk(x, kh, w);
        int o = 0;
        for (; o + 8 <= total; o += 8) ColumnsVector(walk.Next(), kh, w, y + o);
        if (o < total)
        {
            o = total - 8;
            ColumnsVector(Walk.At(x, kh, w, o), kh, w, y + o);
        }
    }

    private static void ColumnsVector(float* p, int kh, nint w, float* y)
    {
        var acc = Vector256.Load(p);
        for (int r = 1; r < kh; r++) acc = Avx.Max(Vector256.Load(p + r * w), acc);
        acc.Store(y);
    }

    /// <summary>Runs of 8 consecutive columns of the groups' first rows, in order (no division per vector).</summary>
    private struct Walk(float* x, int kh, int w)
    {
        private float* _p = x;
        private int _column;
        private readonly nint _skip = (nint)(kh - 1) * w; // a group's other rows, passed at the end of its first row

        public float* Next()
        {
            float* p = _p;
            _p += 8;
            _column += 8;
            if (_column >= w) { _column -= w; _p += _skip; } // (w is a multiple of 8 unless kh = 1, where _skip = 0)
            return p;
        }

        /// <summary>Column q of the stream of first rows.</summary>
        public static float* At(float* x, int kh, int w, nint q) => x + q / w * (nint)(kh - 1) * w + q;
    }

    /// <summary>The even and the odd columns of a:b (16 consecutive floats), each in order.</summary>
    private static Vector256<float> Max2(Vector256<float> a, Vector256<float> b, out Vector256<float> odd)
    {
        // per 128-bit lane: a0 a2 b0 b2 | a4 a6 b4 b6, then the 64-bit pairs reordered to a0 a2 a4 a6 b0 b2 b4 b6
        var even = Avx2.Permute4x64(Avx.Shuffle(a, b, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle();
        odd = Avx2.Permute4x64(Avx.Shuffle(a, b, 0b11_01_11_01).AsDouble(), 0b11_01_10_00).AsSingle();
        return even;
    }

    /// <summary>Outputs [from, to) one at a time, taps in the reference's order (tiny tensors).</summary>
    private static void Scalar(ConvGeometry g, float* x, float* y, int from, int to)
    {
        int kh = g.KH, kw = g.KW, w = g.InW, ow = g.OutW;
        for (int o = from; o < to; o++)
        {
            int group = o / ow, col = o % ow;
            float* p = x + (nint)group * kh * w + col * kw;
            float best = p[0];
            for (int r = 0; r < kh; r++)
                for (int c = 0; c < kw; c++)
                    if (p[r * w + c] > best) best = p[r * w + c];
            y[o] = best;
        }
    }
}
