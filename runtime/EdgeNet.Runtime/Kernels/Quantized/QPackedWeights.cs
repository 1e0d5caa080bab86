using System.Runtime.InteropServices;

namespace EdgeNet.Kernels.Quantized;

/// <summary>
/// Weights of one quantized GEMM packed once for one variant and orientation: panels of <see cref="Lanes"/> output
/// channels (NR for <see cref="QGemmOrientation.WeightsRight"/>, MR for WeightsLeft) over ⌈K/GroupK⌉ k groups,
/// int8 (uint8 weights shifted by −128 exactly) or int16 for the wide layout, zero padded. Per-channel sums Σ_k w
/// and the int8-domain zero points are kept for the zero-point corrections.
/// </summary>
public sealed unsafe class QPackedWeights
{
    private QPackedWeights(QMicrokernel uk, QGemmOrientation orientation, int channels, int depth, int lanes, byte[] data, int[] sums, int[] zeroPoints, bool hasZeroPoints)
    {
        Microkernel = uk; Orientation = orientation; Channels = channels; Depth = depth; Lanes = lanes;
        Data = data; Sums = sums; ZeroPoints = zeroPoints; HasZeroPoints = hasZeroPoints;
        Groups = (depth + uk.GroupK - 1) / uk.GroupK;
    }

    public QMicrokernel Microkernel { get; }
    public QVariant Variant => Microkernel.Variant;
    public QGemmOrientation Orientation { get; }
    /// <summary>Output channels (N of a MatMul, Cout of a conv group).</summary>
    public int Channels { get; }
    /// <summary>K.</summary>
    public int Depth { get; }
    /// <summary>Channels per panel.</summary>
    public int Lanes { get; }
    /// <summary>k groups per panel (⌈K / GroupK⌉).</summary>
    public int Groups { get; }
    /// <summary>Bytes of one panel.</summary>
    public int PanelBytes => QMicrokernel.PanelBytes(Lanes, Groups);
    internal byte[] Data { get; }
    /// <summary>Σ_k w_s8[ch, k] per channel.</summary>
    internal int[] Sums { get; }
    /// <summary>Zero point per channel in the int8 domain.</summary>
    internal int[] ZeroPoints { get; }
    /// <summary>False when every weight zero point is 0 (symmetric weights): no activation sums needed.</summary>
    internal bool HasZeroPoints { get; }

    /// <summary>
    /// Packs W: element (ch, k) = w[ch·channelStride + k·depthStride] (a MatMul B[K×N] has channelStride 1,
    /// depthStride N; a conv weight [Cout × K] has channelStride K, depthStride 1). zeroPoints: empty (0), one
    /// value, or one per channel, in the weights' own domain (uint8 weights: 0..255).
    /// </summary>
    public static QPackedWeights Pack(QVariant variant, QGemmOrientation orientation, byte* w, bool signed, int channels, int depth,
        nint channelStride, nint depthStride, ReadOnlySpan<int> zeroPoints)
    {
        if (channels <= 0 || depth <= 0) throw new InvalidModelException($"quantized GEMM weights must be non-empty, got {channels}×{depth}");
        if (zeroPoints.Length > 1 && zeroPoints.Length != channels)
            throw new InvalidModelException($"weight zero points: {zeroPoints.Length} values for {channels} channels");
        var uk = QMicrokernel.For(variant);
        int lanes = orientation == QGemmOrientation.WeightsRight ? uk.NR : uk.MR;
        int gk = uk.GroupK, groups = (depth + gk - 1) / gk, panels = (channels + lanes - 1) / lanes;
        int panelBytes = QMicrokernel.PanelBytes(lanes, groups);
        var data = GC.AllocateArray<byte>(panels * panelBytes + 64, pinned: true);
        var sums = new int[channels];
        var zps = new int[channels];
        bool hasZp = false;
        for (int ch = 0; ch < channels; ch++)
        {
            int raw = zeroPoints.Length == 0 ? 0 : zeroPoints[zeroPoints.Length == 1 ? 0 : ch];
            if (signed ? raw is < -128 or > 127 : raw is < 0 or > 255) throw new InvalidModelException($"weight zero point {raw} is out of range");
            zps[ch] = signed ? raw : raw - 128;
            hasZp |= zps[ch] != 0;
        }
        fixed (byte* dst0 = data)
        {
            for (int ch = 0; ch < channels; ch++)
            {
                int panel = ch / lanes, lane = ch % lanes, sum = 0;
                byte* dst = dst0 + (nint)panel * panelBytes + lane * 4;
                for (int k = 0; k < depth; k++)
                {
                    int v = QMath.WeightS8(w[ch * channelStride + k * depthStride], signed);
                    sum += v;
                    byte* lanePtr = dst + (nint)(k / gk) * lanes * 4;
                    if (uk.Wide) ((short*)lanePtr)[k % gk] = (short)v;
                    else lanePtr[k % gk] = (byte)(sbyte)v;
                }
                sums[ch] = sum;
            }
        }
        return new QPackedWeights(uk, orientation, channels, depth, lanes, data, sums, zps, hasZp);
    }

    /// <summary>Packs a conv group's weights [Cout_g × Cin_g·KH·KW] (row-major) for the WeightsLeft orientation.</summary>
    public static QPackedWeights PackRows(QVariant variant, QGemmOrientation orientation, ReadOnlySpan<byte> w, bool signed, int channels, int depth, ReadOnlySpan<int> zeroPoints)
    {
        if (w.Length < (long)channels * depth) throw new InvalidModelException($"weights hold {w.Length} values, need {(long)channels * depth}");
        fixed (byte* p = w) return Pack(variant, orientation, p, signed, channels, depth, depth, 1, zeroPoints);
    }

    /// <summary>Packs a MatMul B[K×N] (row-major) for the WeightsRight orientation.</summary>
    public static QPackedWeights PackMatMul(QVariant variant, ReadOnlySpan<byte> b, bool signed, int k, int n, ReadOnlySpan<int> zeroPoints)
    {
        if (b.Length < (long)k * n) throw new InvalidModelException($"weights hold {b.Length} values, need {(long)k * n}");
        fixed (byte* p = b) return Pack(variant, QGemmOrientation.WeightsRight, p, signed, n, k, 1, n, zeroPoints);
    }
}

/// <summary>What the activation packer needs to know about the element encoding.</summary>
[StructLayout(LayoutKind.Auto)]
internal readonly struct QPackFormat(QMicrokernel uk, bool signed)
{
    public readonly int GroupK = uk.GroupK;
    public readonly bool Wide = uk.Wide;
    /// <summary>raw ^ SignMask is the uint8 value.</summary>
    public readonly int SignMask = signed ? 0x80 : 0;
    /// <summary>raw ^ StoreMask is the stored byte (byte layouts).</summary>
    public readonly byte StoreMask = (byte)((signed ? 0x80 : 0) ^ (uk.ShiftActivations ? 0x80 : 0));
}
