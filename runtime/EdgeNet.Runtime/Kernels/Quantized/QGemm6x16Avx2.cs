using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeNet.Kernels.Quantized;

/// <summary>
/// AVX2 6×16 tile on the int16 layout: each 32-bit lane holds two k values (activations zero-extended, weights
/// sign-extended at pack time), vpmaddwd multiplies and adds the pair exactly into int32 (|255·128·2| fits easily),
/// so no int16 saturation can occur whatever the weights. 12 accumulators + 2 B vectors + 1 broadcast.
/// </summary>
public sealed unsafe class QGemm6x16Avx2 : QMicrokernel
{
    public static readonly QGemm6x16Avx2 Instance = new();
    public override QVariant Variant => QVariant.Avx2;
    public override int MR => 6;
    public override int NR => 16;
    public override int GroupK => 2;
    public override bool Wide => true;

    // vpmaddwd is symmetric in its operands, so both orientations are one tap at offset 0 with 64-byte k groups
    public override void Run(int groups, byte* a, byte* b, int* c, bool activationsLeft)
    {
        int origin = 0;
        RunTaps(1, groups, a, b, &origin, 64, c, 16);
    }

    public override bool HasGemv => true;

    /// <summary>
    /// One activation row against the weight panels: four panels (8 accumulators) per pass, one broadcast int16 pair
    /// per k group, vpmaddwd against each panel's two vectors (exact as the tile).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Gemv(int groups, byte* a, byte* b, int panels, nint panelBytes, int* c)
    {
        int p = 0;
        for (; p + 4 <= panels; p += 4, b += 4 * panelBytes, c += 64)
        {
            Vector256<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
            byte* ap = a;
            byte* b0 = b, b1 = b + panelBytes, b2 = b + 2 * panelBytes, b3 = b + 3 * panelBytes;
            for (int g = 0; g < groups; g++, ap += 24, b0 += 64, b1 += 64, b2 += 64, b3 += 64)
            {
                var av = Vector256.Create(*(int*)ap).AsInt16();
                c00 = Avx2.Add(c00, Avx2.MultiplyAddAdjacent(Vector256.Load((short*)b0), av));
                c01 = Avx2.Add(c01, Avx2.MultiplyAddAdjacent(Vector256.Load((short*)(b0 + 32)), av));
                c10 = Avx2.Add(c10, Avx2.MultiplyAddAdjacent(Vector256.Load((short*)b1), av));
                c11 = Avx2.Add(c11, Avx2.MultiplyAddAdjacent(Vector256.Load((short*)(b1 + 32)), av));
                c20 = Avx2.Add(c20, Avx2.MultiplyAddAdjacent(Vector256.Load((short*)b2), av));
                c21 = Avx2.Add(c21, Avx2.MultiplyAddAdjacent(Vector256.Load((short*)(b2 + 32)), av));
                c30 = Avx2.Add(c30, Avx2.MultiplyAddAdjacent(Vector256.Load((short*)b3), av));
                c31 = Avx2.Add(c31, Avx2.MultiplyAddAdjacent(Vector256.Load((short*)(b3 + 32)), av));
            }
            c00.Store(c); c01.Store(c + 8); c10.Store(c + 16); c11.Store(c + 24);
            c20.Store(c + 32); c21.Store(c + 40); c30.Store(c + 48); c31.Store(c + 56);
        }
        for (; p < panels; p++, b += panelBytes, c += 16)
        {
            Vector256<int> c0 = default, c1 = default;
            byte* ap = a;
            byte* bp = b;
            for (int g = 0; g < groups; g++, ap += 24, bp += 64)
            {
                var av = Vector256.Create(*(int*)ap).AsInt16();
                c0 = Avx2.Add(c0, Avx2.MultiplyAddAdjacent(Vector256.Load((short*)bp), av));
                c1 = Avx2.Add(c1, Avx2.MultiplyAddAdjacent(Vector256.Load((short*)(bp + 32)), av));
            }
            c0.Store(c); c1.Store(c + 8);
        }
    }

    /// <summary>
    /// <see cref="Gemv"/> over int8 weight panels (32 bytes per k group: lane j's two weights as bytes), sign-extended
    /// to the int16 pairs by vpmovsxbw as they load: the same products, half the weight bytes streamed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void GemvBytes(int groups, byte* a, byte* b, int panels, nint panelBytes, int* c)
    {
        int p = 0;
        for (; p + 4 <= panels; p += 4, b += 4 * panelBytes, c += 64)
        {
            Vector256<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
            byte* ap = a;
            sbyte* b0 = (sbyte*)b, b1 = (sbyte*)(b + panelBytes), b2 = (sbyte*)(b + 2 * panelBytes), b3 = (sbyte*)(b + 3 * panelBytes);
            for (int g = 0; g < groups; g++, ap += 24, b0 += 32, b1 += 32, b2 += 32, b3 += 32)
            {
                var av = Vector256.Create(*(int*)ap).AsInt16();
                c00 = Avx2.Add(c00, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(b0), av));
                c01 = Avx2.Add(c01, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(b0 + 16), av));
                c10 = Avx2.Add(c10, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(b1), av));
                c11 = Avx2.Add(c11, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(b1 + 16), av));
                c20 = Avx2.Add(c20, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(b2), av));
                c21 = Avx2.Add(c21, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(b2 + 16), av));
                c30 = Avx2.Add(c30, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(b3), av));
                c31 = Avx2.Add(c31, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(b3 + 16), av));
            }
            c00.Store(c); c01.Store(c + 8); c10.Store(c + 16); c11.Store(c + 24);
            c20.Store(c + 32); c21.Store(c + 40); c30.Store(c + 48); c31.Store(c + 56);
        }
        for (; p < panels; p++, b += panelBytes, c += 16)
        {
            Vector256<int> c0 = default, c1 = default;
            byte* ap = a;
            sbyte* bp = (sbyte*)b;
            for (int g = 0; g < groups; g++, ap += 24, bp += 32)
            {
                var av = Vector256.Create(*(int*)ap).AsInt16();
                c0 = Avx2.Add(c0, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(bp), av));
                c1 = Avx2.Add(c1, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(bp + 16), av));
            }
            c0.Store(c); c1.Store(c + 8);
        }
    }

    public override bool HasTaps => true;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void RunTaps(int taps, int groupsPerTap, byte* a, byte* b, int* offsets, nint groupStride, int* c, nint ldc)
    {
        Vector256<int> c00 = Vector256<int>.Zero, c01 = Vector256<int>.Zero, c10 = Vector256<int>.Zero, c11 = Vector256<int>.Zero, c20 = Vector256<int>.Zero, c21 = Vector256<int>.Zero, c30 = Vector256<int>.Zero, c31 = Vector256<int>.Zero, c40 = Vector256<int>.Zero, c41 = Vector256<int>.Zero, c50 = Vector256<int>.Zero, c51 = Vector256<int>.Zero;
        for (int t = 0; t < taps; t++)
        {
            byte* bp = b + offsets[t];
            for (int q = 0; q < groupsPerTap; q++, a += 24, bp += groupStride)
            {
                var b0 = Vector256.Load((short*)bp);
                var b1 = Vector256.Load((short*)(bp + 32));
                var a0 = Vector256.Create(*(int*)(a + 0)).AsInt16();
                c00 = Avx2.Add(c00, Avx2.MultiplyAddAdjacent(b0, a0));
                c01 = Avx2.Add(c01, Avx2.MultiplyAddAdjacent(b1, a0));
                var a1 = Vector256.Create(*(int*)(a + 4)).AsInt16();
                c10 = Avx2.Add(c10, Avx2.MultiplyAddAdjacent(b0, a1));
                c11 = Avx2.Add(c11, Avx2.MultiplyAddAdjacent(b1, a1));
                var a2 = Vector256.Create(*(int*)(a + 8)).AsInt16();
                c20 = Avx2.Add(c20, Avx2.MultiplyAddAdjacent(b0, a2));
                c21 = Avx2.Add(c21, Avx2.MultiplyAddAdjacent(b1, a2));
                var a3 = Vector256.Create(*(int*)(a + 12)).AsInt16();
                c30 = Avx2.Add(c30, Avx2.MultiplyAddAdjacent(b0, a3));
                c31 = Avx2.Add(c31, Avx2.MultiplyAddAdjacent(b1, a3));
                var a4 = Vector256.Create(*(int*)(a + 16)).AsInt16();
                c40 = Avx2.Add(c40, Avx2.MultiplyAddAdjacent(b0, a4));
                c41 = Avx2.Add(c41, Avx2.MultiplyAddAdjacent(b1, a4));
                var a5 = Vector256.Create(*(int*)(a + 20)).AsInt16();
                c50 = Avx2.Add(c50, Avx2.MultiplyAddAdjacent(b0, a5));
                c51 = Avx2.Add(c51, Avx2.MultiplyAddAdjacent(b1, a5));
            }
        }
        c00.Store(c + 0 * ldc); c01.Store(c + 0 * ldc + 8);
        c10.Store(c + 1 * ldc); c11.Store(c + 1 * ldc + 8);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 8);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 8);
        c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 8);
        c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + 8);
    }

    /// <summary>
    /// <see cref="RunTaps"/> over byte-pair lanes (2 bytes per lane, <see cref="QShiftedConv"/> on Avx2): the 16 lanes
    /// of a k group are 32 bytes, zero-extended by two vpmovzxbw into the int16 pairs of the tile (the same products).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void RunTapsPairs(int taps, int groupsPerTap, byte* a, byte* b, int* offsets, nint groupStride, int* c, nint ldc)
    {
        Vector256<int> c00 = Vector256<int>.Zero, c01 = Vector256<int>.Zero, c10 = Vector256<int>.Zero, c11 = Vector256<int>.Zero, c20 = Vector256<int>.Zero, c21 = Vector256<int>.Zero, c30 = Vector256<int>.Zero, c31 = Vector256<int>.Zero, c40 = Vector256<int>.Zero, c41 = Vector256<int>.Zero, c50 = Vector256<int>.Zero, c51 = Vector256<int>.Zero;
        for (int t = 0; t < taps; t++)
        {
            byte* bp = b + offsets[t];
            for (int q = 0; q < groupsPerTap; q++, a += 24, bp += groupStride)
                Step(a, bp, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
        }
        c00.Store(c + 0 * ldc); c01.Store(c + 0 * ldc + 8);
        c10.Store(c + 1 * ldc); c11.Store(c + 1 * ldc + 8);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 8);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 8);
        c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 8);
        c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + 8);
    }

    /// <summary>
    /// <see cref="RunTapsRequantized"/> over byte-pair lanes for <paramref name="tiles"/> consecutive 16-lane tiles
    /// (b + tile·32, the bytes to c + tile·16): one call per channel tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void RunTapsPairsRequantized(int tiles, int taps, int groupsPerTap, byte* a, byte* b, int* offsets, nint groupStride,
        int* rowOffsets, float* mult, in QTileRequant rq, byte* c, nint ldc)
    {
        int o0 = rowOffsets[0], o1 = rowOffsets[1], o2 = rowOffsets[2], o3 = rowOffsets[3], o4 = rowOffsets[4], o5 = rowOffsets[5];
        for (int tile = 0; tile < tiles; tile++, b += 32, c += 16)
        {
            // the accumulators start at the rows' offsets (exact: the same wrapping int32 sum)
            Vector256<int> c00 = Vector256.Create(o0), c01 = c00, c10 = Vector256.Create(o1), c11 = c10, c20 = Vector256.Create(o2), c21 = c20,
                c30 = Vector256.Create(o3), c31 = c30, c40 = Vector256.Create(o4), c41 = c40, c50 = Vector256.Create(o5), c51 = c50;
            byte* ap = a;
            for (int t = 0; t < taps; t++)
            {
                byte* bp = b + offsets[t];
                for (int q = 0; q < groupsPerTap; q++, ap += 24, bp += groupStride)
                    Step(ap, bp, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            }
            rq.Rows2(c00, c01, mult[0], c, c10, c11, mult[1], c + ldc);
            rq.Rows2(c20, c21, mult[2], c + 2 * ldc, c30, c31, mult[3], c + 3 * ldc);
            rq.Rows2(c40, c41, mult[4], c + 4 * ldc, c50, c51, mult[5], c + 5 * ldc);
        }
    }

    /// <summary>One k group of the tile from 16 byte-pair lanes at bp.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(byte* a, byte* bp, ref Vector256<int> c00, ref Vector256<int> c01, ref Vector256<int> c10, ref Vector256<int> c11,
        ref Vector256<int> c20, ref Vector256<int> c21, ref Vector256<int> c30, ref Vector256<int> c31, ref Vector256<int> c40, ref Vector256<int> c41,
        ref Vector256<int> c50, ref Vector256<int> c51)
    {
        var b0 = Avx2.ConvertToVector256Int16(bp).AsInt16();
        var b1 = Avx2.ConvertToVector256Int16(bp + 16).AsInt16();
        var a0 = Vector256.Create(*(int*)(a + 0)).AsInt16();
        c00 = Avx2.Add(c00, Avx2.MultiplyAddAdjacent(b0, a0));
        c01 = Avx2.Add(c01, Avx2.MultiplyAddAdjacent(b1, a0));
        var a1 = Vector256.Create(*(int*)(a + 4)).AsInt16();
        c10 = Avx2.Add(c10, Avx2.MultiplyAddAdjacent(b0, a1));
        c11 = Avx2.Add(c11, Avx2.MultiplyAddAdjacent(b1, a1));
        var a2 = Vector256.Create(*(int*)(a + 8)).AsInt16();
        c20 = Avx2.Add(c20, Avx2.MultiplyAddAdjacent(b0, a2));
        c21 = Avx2.Add(c21, Avx2.MultiplyAddAdjacent(b1, a2));
        var a3 = Vector256.Create(*(int*)(a + 12)).AsInt16();
        c30 = Avx2.Add(c30, Avx2.MultiplyAddAdjacent(b0, a3));
        c31 = Avx2.Add(c31, Avx2.MultiplyAddAdjacent(b1, a3));
        var a4 = Vector256.Create(*(int*)(a + 16)).AsInt16();
        c40 = Avx2.Add(c40, Avx2.MultiplyAddAdjacent(b0, a4));
        c41 = Avx2.Add(c41, Avx2.MultiplyAddAdjacent(b1, a4));
        var a5 = Vector256.Create(*(int*)(a + 20)).AsInt16();
        c50 = Avx2.Add(c50, Avx2.MultiplyAddAdjacent(b0, a5));
        c51 = Avx2.Add(c51, Avx2.MultiplyAddAdjacent(b1, a5));
    }

    public override bool HasRequantizedTile => true;

    // a plain tile: 64-byte k groups read in place
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal override void RunRequantized(int groups, byte* a, byte* b, int* offsets, float* mult, int multStride, in QTileRequant rq, byte* c, nint ldc)
        => TileRequantized(groups, a, b, offsets, mult, multStride, rq, c, ldc);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal override void RunRequantizedPanels(int groups, byte* a, byte* b, int panels, nint panelBytes, int* offsets, float* mult, int multStride, in QTileRequant rq, byte* c, nint ldc)
    {
        for (int p = 0; p < panels; p++, b += panelBytes, c += 16)
            TileRequantized(groups, a, b, offsets, mult, multStride, rq, c, ldc);
    }

    /// <summary>One full tile of <see cref="RunRequantized"/>, inlined into the single and the panel-loop entry points.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TileRequantized(int groups, byte* a, byte* b, int* rowOffsets, float* mult, int multStride, in QTileRequant rq, byte* c, nint ldc)
    {
        // the accumulators start at the rows' offsets (exact: the same wrapping int32 sum)
        Vector256<int> c00 = Vector256.Create(rowOffsets[0]), c01 = c00, c10 = Vector256.Create(rowOffsets[1]), c11 = c10, c20 = Vector256.Create(rowOffsets[2]), c21 = c20,
            c30 = Vector256.Create(rowOffsets[3]), c31 = c30, c40 = Vector256.Create(rowOffsets[4]), c41 = c40, c50 = Vector256.Create(rowOffsets[5]), c51 = c50;
        for (int g = 0; g < groups; g++, a += 24, b += 64)
        {
            var b0 = Vector256.Load((short*)b);
            var b1 = Vector256.Load((short*)(b + 32));
            var a0 = Vector256.Create(*(int*)(a + 0)).AsInt16();
            c00 = Avx2.Add(c00, Avx2.MultiplyAddAdjacent(b0, a0));
            c01 = Avx2.Add(c01, Avx2.MultiplyAddAdjacent(b1, a0));
            var a1 = Vector256.Create(*(int*)(a + 4)).AsInt16();
            c10 = Avx2.Add(c10, Avx2.MultiplyAddAdjacent(b0, a1));
            c11 = Avx2.Add(c11, Avx2.MultiplyAddAdjacent(b1, a1));
            var a2 = Vector256.Create(*(int*)(a + 8)).AsInt16();
            c20 = Avx2.Add(c20, Avx2.MultiplyAddAdjacent(b0, a2));
            c21 = Avx2.Add(c21, Avx2.MultiplyAddAdjacent(b1, a2));
            var a3 = Vector256.Create(*(int*)(a + 12)).AsInt16();
            c30 = Avx2.Add(c30, Avx2.MultiplyAddAdjacent(b0, a3));
            c31 = Avx2.Add(c31, Avx2.MultiplyAddAdjacent(b1, a3));
            var a4 = Vector256.Create(*(int*)(a + 16)).AsInt16();
            c40 = Avx2.Add(c40, Avx2.MultiplyAddAdjacent(b0, a4));
            c41 = Avx2.Add(c41, Avx2.MultiplyAddAdjacent(b1, a4));
            var a5 = Vector256.Create(*(int*)(a + 20)).AsInt16();
            c50 = Avx2.Add(c50, Avx2.MultiplyAddAdjacent(b0, a5));
            c51 = Avx2.Add(c51, Avx2.MultiplyAddAdjacent(b1, a5));
        }
        rq.Rows2Any(c00, c01, mult[0], c, c10, c11, mult[multStride], c + ldc);
        rq.Rows2Any(c20, c21, mult[2 * multStride], c + 2 * ldc, c30, c31, mult[3 * multStride], c + 3 * ldc);
        rq.Rows2Any(c40, c41, mult[4 * multStride], c + 4 * ldc, c50, c51, mult[5 * multStride], c + 5 * ldc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal override void RunTapsRequantized(int taps, int groupsPerTap, byte* a, byte* b, int* offsets, nint groupStride,
        int* rowOffsets, float* mult, int multStride, in QTileRequant rq, byte* c, nint ldc)
    {
        // the accumulators start at the rows' offsets (exact: the same wrapping int32 sum)
        Vector256<int> c00 = Vector256.Create(rowOffsets[0]), c01 = c00, c10 = Vector256.Create(rowOffsets[1]), c11 = c10, c20 = Vector256.Create(rowOffsets[2]), c21 = c20,
            c30 = Vector256.Create(rowOffsets[3]), c31 = c30, c40 = Vector256.Create(rowOffsets[4]), c41 = c40, c50 = Vector256.Create(rowOffsets[5]), c51 = c50;
        for (int t = 0; t < taps; t++)
        {
            byte* bp = b + offsets[t];
            for (int q = 0; q < groupsPerTap; q++, a += 24, bp += groupStride)
            {
                var b0 = Vector256.Load((short*)bp);
                var b1 = Vector256.Load((short*)(bp + 32));
                var a0 = Vector256.Create(*(int*)(a + 0)).AsInt16();
                c00 = Avx2.Add(c00, Avx2.MultiplyAddAdjacent(b0, a0));
                c01 = Avx2.Add(c01, Avx2.MultiplyAddAdjacent(b1, a0));
                var a1 = Vector256.Create(*(int*)(a + 4)).AsInt16();
                c10 = Avx2.Add(c10, Avx2.MultiplyAddAdjacent(b0, a1));
                c11 = Avx2.Add(c11, Avx2.MultiplyAddAdjacent(b1, a1));
                var a2 = Vector256.Create(*(int*)(a + 8)).AsInt16();
                c20 = Avx2.Add(c20, Avx2.MultiplyAddAdjacent(b0, a2));
                c21 = Avx2.Add(c21, Avx2.MultiplyAddAdjacent(b1, a2));
                var a3 = Vector256.Create(*(int*)(a + 12)).AsInt16();
                c30 = Avx2.Add(c30, Avx2.MultiplyAddAdjacent(b0, a3));
                c31 = Avx2.Add(c31, Avx2.MultiplyAddAdjacent(b1, a3));
                var a4 = Vector256.Create(*(int*)(a + 16)).AsInt16();
                c40 = Avx2.Add(c40, Avx2.MultiplyAddAdjacent(b0, a4));
                c41 = Avx2.Add(c41, Avx2.MultiplyAddAdjacent(b1, a4));
                var a5 = Vector256.Create(*(int*)(a + 20)).AsInt16();
                c50 = Avx2.Add(c50, Avx2.MultiplyAddAdjacent(b0, a5));
                c51 = Avx2.Add(c51, Avx2.MultiplyAddAdjacent(b1, a5));
            }
        }
        rq.Rows2(c00, c01, mult[0], c, c10, c11, mult[multStride], c + ldc);
        rq.Rows2(c20, c21, mult[2 * multStride], c + 2 * ldc, c30, c31, mult[3 * multStride], c + 3 * ldc);
        rq.Rows2(c40, c41, mult[4 * multStride], c + 4 * ldc, c50, c51, mult[5 * multStride], c + 5 * ldc);
    }
}
