using System.Runtime.CompilerServices;

namespace EdgeNet.Kernels.Quantized;

/// <summary>
/// Packs activation positions [pos0, pos0 + count) over all K into ⌈count/lanes⌉ panels (the layout of
/// <see cref="QMicrokernel"/>), converting each raw byte to the variant's encoding, and optionally writes the
/// per-position sums Σ_k a_u8 (needed only when the weights have non-zero zero points).
/// </summary>
public abstract unsafe class QActivationPacker
{
    /// <summary>Scratch bytes one part needs beside the panels (row buffers).</summary>
    internal virtual int ScratchBytes(int maxCount) => 0;

    internal abstract void Pack(byte* src, nint ld, int pos0, int count, int lanes, int depth, in QPackFormat f, byte padRaw, byte* dst, int* sums, byte* scratch);

    /// <summary>
    /// Writes k rows [k0, k0 + GroupK) (row e at rows[e], positions 0..count-1; null = past K, zero) as the e-th
    /// element of the lanes of group g. Panels are lanes·groups·4 bytes apart.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Interleave(byte** rows, int count, int lanes, int groups, int g, in QPackFormat f, byte* dst, int* sums)
    {
        nint panelBytes = (nint)lanes * groups * 4;
        byte* groupBase = dst + (nint)g * lanes * 4;
        if (f.Wide)
        {
            int signMask = f.SignMask;
            for (int e = 0; e < 2; e++)
            {
                byte* r = rows[e];
                byte* panel = groupBase;
                int lane = 0;
                for (int j = 0; j < count; j++)
                {
                    int v = r is null ? 0 : r[j] ^ signMask;
                    ((short*)(panel + lane * 4))[e] = (short)v;
                    if (sums is not null) sums[j] += v;
                    if (++lane == lanes) { lane = 0; panel += panelBytes; }
                }
                for (; lane != 0 && lane < lanes; lane++) ((short*)(panel + lane * 4))[e] = 0;
            }
            return;
        }
        if (count == lanes * (count / lanes) && sums is null && rows[0] is not null && rows[1] is not null && rows[2] is not null && rows[3] is not null)
        {
            // whole panels, no sums: 4 bytes per lane assembled in a register
            uint mask = f.StoreMask * 0x01010101u;
            byte* r0 = rows[0], r1 = rows[1], r2 = rows[2], r3 = rows[3];
            for (int j0 = 0; j0 < count; j0 += lanes, groupBase += panelBytes)
            {
                uint* d = (uint*)groupBase;
                for (int l = 0; l < lanes; l++)
                {
                    int j = j0 + l;
                    d[l] = ((uint)r0[j] | ((uint)r1[j] << 8) | ((uint)r2[j] << 16) | ((uint)r3[j] << 24)) ^ mask;
                }
            }
            return;
        }
        for (int e = 0; e < 4; e++)
        {
            byte* r = rows[e];
            byte* panel = groupBase;
            int lane = 0;
            for (int j = 0; j < count; j++)
            {
                if (r is null) panel[lane * 4 + e] = 0;
                else
                {
                    byte raw = r[j];
                    panel[lane * 4 + e] = (byte)(raw ^ f.StoreMask);
                    if (sums is not null) sums[j] += raw ^ f.SignMask;
                }
                if (++lane == lanes) { lane = 0; panel += panelBytes; }
            }
            for (; lane != 0 && lane < lanes; lane++) panel[lane * 4 + e] = 0;
        }
    }
}

/// <summary>Activations as rows: position p, depth k at src[p·ld + k] (MatMul A[M×K]).</summary>
public sealed unsafe class QRowsPacker : QActivationPacker
{
    public static readonly QRowsPacker Instance = new();

    internal override void Pack(byte* src, nint ld, int pos0, int count, int lanes, int depth, in QPackFormat f, byte padRaw, byte* dst, int* sums, byte* scratch)
    {
        int gk = f.GroupK, groups = (depth + gk - 1) / gk, panels = (count + lanes - 1) / lanes;
        nint panelBytes = (nint)lanes * groups * 4;
        for (int t = 0; t < panels * lanes; t++)
        {
            byte* laneBase = dst + t / lanes * panelBytes + t % lanes * 4;
            nint laneStride = (nint)lanes * 4;
            if (t >= count)
            {
                for (int g = 0; g < groups; g++) *(uint*)(laneBase + g * laneStride) = 0;
                continue;
            }
            byte* row = src + (nint)(pos0 + t) * ld;
            int sum = 0;
            if (f.Wide)
            {
                for (int g = 0; g < groups; g++)
                {
                    int k = 2 * g;
                    int v0 = row[k] ^ f.SignMask, v1 = k + 1 < depth ? row[k + 1] ^ f.SignMask : 0;
                    sum += v0 + v1;
                    *(uint*)(laneBase + g * laneStride) = (uint)v0 | ((uint)v1 << 16);
                }
            }
            else
            {
                uint mask = f.StoreMask * 0x01010101u;
                int full = depth / 4;
                for (int g = 0; g < full; g++)
                    *(uint*)(laneBase + g * laneStride) = Unsafe.ReadUnaligned<uint>(row + 4 * g) ^ mask;
                if (full < groups)
                {
                    uint v = 0;
                    for (int e = 0; e < depth - 4 * full; e++) v |= (uint)(byte)(row[4 * full + e] ^ f.StoreMask) << (8 * e);
                    *(uint*)(laneBase + full * laneStride) = v;
                }
                if (sums is not null)
                    for (int k = 0; k < depth; k++) sum += row[k] ^ f.SignMask;
            }
            if (sums is not null) sums[t] = sum;
        }
    }
}

/// <summary>Activations as columns: position p, depth k at src[k·ld + p] (ConvInteger 1×1, X[K×N] row-major).</summary>
public sealed unsafe class QColumnsPacker : QActivationPacker
{
    public static readonly QColumnsPacker Instance = new();

    internal override void Pack(byte* src, nint ld, int pos0, int count, int lanes, int depth, in QPackFormat f, byte padRaw, byte* dst, int* sums, byte* scratch)
    {
        int gk = f.GroupK, groups = (depth + gk - 1) / gk;
        if (sums is not null) new Span<int>(sums, count).Clear();
        byte** rows = stackalloc byte*[4];
        for (int g = 0; g < groups; g++)
        {
            for (int e = 0; e < gk; e++)
            {
                int k = g * gk + e;
                rows[e] = k < depth ? src + k * ld + pos0 : null;
            }
            Interleave(rows, count, lanes, groups, g, f, dst, sums);
        }
    }
}
