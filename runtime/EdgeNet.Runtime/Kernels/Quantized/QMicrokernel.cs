using System.Runtime.CompilerServices;

namespace EdgeNet.Kernels.Quantized;

/// <summary>
/// One register tile of the quantized GEMM: c[i·NR + j] = Σ_g Σ_e A[g, i, e] · B[g, j, e] for the whole MR×NR tile.
/// Both operands are packed panels of 32-bit lanes: lane (g, r) holds <see cref="GroupK"/> consecutive k values of
/// row r (4 bytes, or 2 int16 for <see cref="Wide"/>), groups of MR (A) or NR (B) lanes, zero padded in k and in
/// rows, so the kernel always runs the full tile. One side is the weights (int8), the other the activations
/// (uint8, or int8 after the −128 shift of <see cref="ShiftActivations"/>); <c>activationsLeft</c> says which.
/// Microkernels are stateless singletons.
/// </summary>
public abstract unsafe class QMicrokernel
{
    public abstract QVariant Variant { get; }
    /// <summary>Rows of the tile (lanes per group of an A panel).</summary>
    public abstract int MR { get; }
    /// <summary>Columns of the tile (lanes per group of a B panel).</summary>
    public abstract int NR { get; }
    /// <summary>k values per 32-bit lane: 4 bytes, or 2 for the int16 layout.</summary>
    public virtual int GroupK => 4;
    /// <summary>Elements are int16 (activations zero-extended, weights sign-extended) instead of bytes.</summary>
    public virtual bool Wide => false;
    /// <summary>Activations are stored as int8 (u8 − 128: x ^ 0x80) because the multiply is signed × signed.</summary>
    public virtual bool ShiftActivations => false;

    /// <summary>Bytes of one packed panel of <paramref name="lanes"/> rows over <paramref name="groups"/> k groups.</summary>
    public static int PanelBytes(int lanes, int groups) => lanes * groups * 4;

    /// <summary>Computes the full tile into c (MR rows of NR int32).</summary>
    public abstract void Run(int groups, byte* a, byte* b, int* c, bool activationsLeft);

    /// <summary>True when <see cref="Gemv"/> is implemented (a single activation row against many weight panels).</summary>
    public virtual bool HasGemv => false;

    /// <summary>
    /// One activation row (lane 0 of an A panel: group g at a + g·MR·4) times <paramref name="panels"/> consecutive
    /// weight B panels (panelBytes apart): c[p·NR + j] for every panel p and lane j. Batch-1 Dense / LSTM steps, where
    /// the MR-row tile would waste MR − 1 rows.
    /// </summary>
    public virtual void Gemv(int groups, byte* a, byte* b, int panels, nint panelBytes, int* c) => throw new NotSupportedException();

    /// <summary>True when <see cref="RunRequantized"/> is implemented.</summary>
    public virtual bool HasRequantizedTile => false;

    /// <summary>
    /// A full WeightsLeft tile (weights a, activations b) requantized in registers: row i (channel) gets
    /// offsets[i], multiplier mult[i·multStride] and goes as NR bytes to c + i·ldc (<see cref="QTileRequant"/>).
    /// </summary>
    internal virtual void RunRequantized(int groups, byte* a, byte* b, int* offsets, float* mult, int multStride, in QTileRequant rq, byte* c, nint ldc) => throw new NotSupportedException();

    /// <summary>
    /// <see cref="RunRequantized"/> over <paramref name="panels"/> consecutive activation panels (b + p·panelBytes)
    /// of one weight panel, panel p's bytes going to c + p·NR: the per-tile call, the offsets' and multipliers'
    /// pointers and the requantization constants stay in the caller's registers (pointwise convs with small K run a
    /// tile in a few dozen cycles, where the per-tile dispatch was a fifth of the time).
    /// </summary>
    internal virtual void RunRequantizedPanels(int groups, byte* a, byte* b, int panels, nint panelBytes, int* offsets, float* mult, int multStride, in QTileRequant rq, byte* c, nint ldc)
    {
        for (int p = 0; p < panels; p++)
            RunRequantized(groups, a, b + p * panelBytes, offsets, mult, multStride, rq, c + (nint)p * NR, ldc);
    }

    /// <summary>True when <see cref="RunTaps"/> is implemented (the shifted-view conv, <see cref="QShiftedConv"/>).</summary>
    public virtual bool HasTaps => false;

    /// <summary>
    /// A full MR×NR tile whose activation (B, NR side) panel is not packed but read from shifted views: k group
    /// (t, q) (t &lt; taps, q &lt; groupsPerTap; the weights A are packed in that order) reads its NR lanes at
    /// b + offsets[t] + q·groupStride (NR consecutive 32-bit lanes). Row i of the tile goes to c + i·ldc.
    /// </summary>
    public virtual void RunTaps(int taps, int groupsPerTap, byte* a, byte* b, int* offsets, nint groupStride, int* c, nint ldc) => throw new NotSupportedException();

    /// <summary><see cref="RunTaps"/> requantized in registers as <see cref="RunRequantized"/>: NR bytes per row to c + i·ldc.</summary>
    internal virtual void RunTapsRequantized(int taps, int groupsPerTap, byte* a, byte* b, int* offsets, nint groupStride,
        int* rowOffsets, float* mult, int multStride, in QTileRequant rq, byte* c, nint ldc) => throw new NotSupportedException();

    public static QMicrokernel For(QVariant v) => v switch
    {
        QVariant.Avx2 => QGemm6x16Avx2.Instance,
        QVariant.AvxVnni => QGemm6x16AvxVnni.Instance,
        QVariant.Avx512 => QGemm8x32Avx512.Instance,
        QVariant.Neon => QGemm4x8Neon.Instance,
        QVariant.NeonDot => QGemm8x8NeonDot.Instance,
        _ => QGemm4x8Scalar.Instance,
    };
}

/// <summary>Portable scalar 4×8 tile over the byte layout (u8 activations × s8 weights).</summary>
public sealed unsafe class QGemm4x8Scalar : QMicrokernel
{
    public static readonly QGemm4x8Scalar Instance = new();
    public override QVariant Variant => QVariant.Scalar;
    public override int MR => 4;
    public override int NR => 8;

    public override void Run(int groups, byte* a, byte* b, int* c, bool activationsLeft)
    {
        if (activationsLeft) Tile<byte, sbyte>(groups, a, (sbyte*)b, c);
        else Tile<sbyte, byte>(groups, (sbyte*)a, b, c);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TA, TB>(int groups, TA* a, TB* b, int* c)
        where TA : unmanaged, System.Numerics.IBinaryInteger<TA> where TB : unmanaged, System.Numerics.IBinaryInteger<TB>
    {
        for (int t = 0; t < 4 * 8; t++) c[t] = 0;
        for (int g = 0; g < groups; g++, a += 4 * 4, b += 8 * 4)
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 8; j++)
                {
                    int s = 0;
                    for (int e = 0; e < 4; e++) s += int.CreateTruncating(a[i * 4 + e]) * int.CreateTruncating(b[j * 4 + e]);
                    c[i * 8 + j] += s;
                }
    }
}
