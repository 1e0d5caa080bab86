using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
        if (f.Wide && sums is null && lanes >= 4 && System.Numerics.BitOperations.IsPow2(lanes) && rows[0] is not null)
        {
            int done = InterleaveWide(rows[0], rows[1], count, lanes, panelBytes, (byte)f.SignMask, groupBase);
            if (done == count) { ZeroTail(groupBase, count, lanes, panelBytes); return; }
            rows[0] += done;
            if (rows[1] is not null) rows[1] += done;
            InterleaveWideScalar(rows, count - done, done, lanes, panelBytes, f, groupBase, null);
            return;
        }
        if (f.Wide)
        {
            InterleaveWideScalar(rows, count, 0, lanes, panelBytes, f, groupBase, sums);
            return;
        }
        if (sums is null && rows[0] is not null && rows[1] is not null && rows[2] is not null && rows[3] is not null && lanes >= 4 && System.Numerics.BitOperations.IsPow2(lanes))
        {
            int done = InterleaveBytes(rows[0], rows[1], rows[2], rows[3], count, lanes, panelBytes, f.StoreMask, groupBase);
            if (done == count) { ZeroTail(groupBase, count, lanes, panelBytes); return; }
            for (int e = 0; e < 4; e++) rows[e] += done;
            // the tail starts on a panel boundary or inside one: continue lane by lane from there
            InterleaveScalar(rows, count - done, done, lanes, panelBytes, f, groupBase, null);
            return;
        }
        InterleaveScalar(rows, count, 0, lanes, panelBytes, f, groupBase, sums);
    }

    /// <summary>Int16 layout, 16 positions at a time: two rows zipped, then each byte zero-extended to 16 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int InterleaveWide(byte* r0, byte* r1, int count, int lanes, nint panelBytes, byte signMask, byte* groupBase)
    {
        int j = 0;
        if (!System.Runtime.Intrinsics.X86.Sse2.IsSupported && !System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.IsSupported) return 0;
        var mask = Vector128.Create(signMask);
        var zero = Vector128<byte>.Zero;
        if (Avx2.IsSupported && lanes >= 8 && r1 is not null)
        {
            // the byte pairs of 8 positions zero-extended in one vpmovzxbw: 8 whole lanes (32 bytes, inside one
            // panel as lanes is a power of two ≥ 8) per store, half the shuffles and stores of the 16-byte steps
            for (; j + 16 <= count; j += 16)
            {
                var v0 = Vector128.Load(r0 + j) ^ mask;
                var v1 = Vector128.Load(r1 + j) ^ mask;
                Avx2.ConvertToVector256Int16(Sse2.UnpackLow(v0, v1)).Store((short*)LaneAddress(groupBase, j, lanes, panelBytes));
                Avx2.ConvertToVector256Int16(Sse2.UnpackHigh(v0, v1)).Store((short*)LaneAddress(groupBase, j + 8, lanes, panelBytes));
            }
            return j;
        }
        for (; j + 16 <= count; j += 16)
        {
            var v0 = Vector128.Load(r0 + j) ^ mask;
            var v1 = r1 is null ? zero : Vector128.Load(r1 + j) ^ mask;
            Vector128<byte> q0, q1, q2, q3;
            if (System.Runtime.Intrinsics.X86.Sse2.IsSupported)
            {
                var lo = System.Runtime.Intrinsics.X86.Sse2.UnpackLow(v0, v1);
                var hi = System.Runtime.Intrinsics.X86.Sse2.UnpackHigh(v0, v1);
                q0 = System.Runtime.Intrinsics.X86.Sse2.UnpackLow(lo, zero);
                q1 = System.Runtime.Intrinsics.X86.Sse2.UnpackHigh(lo, zero);
                q2 = System.Runtime.Intrinsics.X86.Sse2.UnpackLow(hi, zero);
                q3 = System.Runtime.Intrinsics.X86.Sse2.UnpackHigh(hi, zero);
            }
            else
            {
                var lo = System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.ZipLow(v0, v1);
                var hi = System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.ZipHigh(v0, v1);
                q0 = System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.ZipLow(lo, zero);
                q1 = System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.ZipHigh(lo, zero);
                q2 = System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.ZipLow(hi, zero);
                q3 = System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.ZipHigh(hi, zero);
            }
            q0.Store(LaneAddress(groupBase, j, lanes, panelBytes));
            q1.Store(LaneAddress(groupBase, j + 4, lanes, panelBytes));
            q2.Store(LaneAddress(groupBase, j + 8, lanes, panelBytes));
            q3.Store(LaneAddress(groupBase, j + 12, lanes, panelBytes));
        }
        return j;
    }

    private static void InterleaveWideScalar(byte** rows, int count, int first, int lanes, nint panelBytes, in QPackFormat f, byte* groupBase, int* sums)
    {
        {
            int signMask = f.SignMask;
            for (int e = 0; e < 2; e++)
            {
                byte* r = rows[e];
                byte* panel = groupBase + first / lanes * panelBytes;
                int lane = first % lanes;
                for (int j = 0; j < count; j++)
                {
                    int v = r is null ? 0 : r[j] ^ signMask;
                    ((short*)(panel + lane * 4))[e] = (short)v;
                    if (sums is not null) sums[j] += v;
                    if (++lane == lanes) { lane = 0; panel += panelBytes; }
                }
                for (; lane != 0 && lane < lanes; lane++) ((short*)(panel + lane * 4))[e] = 0;
            }
        }
    }

    /// <summary>Zeroes the lanes of the last panel past count (all four bytes).</summary>
    private static void ZeroTail(byte* groupBase, int count, int lanes, nint panelBytes)
    {
        int lane = count % lanes;
        if (lane == 0) return;
        byte* panel = groupBase + count / lanes * panelBytes;
        for (; lane < lanes; lane++) *(uint*)(panel + lane * 4) = 0;
    }

    /// <summary>
    /// 16 positions at a time: bytes of 4 rows zipped into 4-byte lanes (punpcklbw/punpcklwd or zip1/zip2), stored as
    /// four 16-byte chunks of 4 lanes (lanes is a multiple of 4, so a chunk never straddles panels). Returns how many
    /// positions were done.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int InterleaveBytes(byte* r0, byte* r1, byte* r2, byte* r3, int count, int lanes, nint panelBytes, byte storeMask, byte* groupBase)
    {
        int j = 0;
        if (!System.Runtime.Intrinsics.X86.Sse2.IsSupported && !System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.IsSupported) return 0;
        if (Avx2.IsSupported && lanes == 16)
        {
            // 32 positions (two whole panels) a step: the in-lane unpacks give positions 0..15 in the low and
            // 16..31 in the high 128 bits; vperm2i128 joins 8 consecutive lanes (32 bytes) of one panel per store
            var m = Vector256.Create(storeMask);
            for (; j + 32 <= count; j += 32)
            {
                var v0 = Vector256.Load(r0 + j) ^ m;
                var v1 = Vector256.Load(r1 + j) ^ m;
                var v2 = Vector256.Load(r2 + j) ^ m;
                var v3 = Vector256.Load(r3 + j) ^ m;
                var p01lo = Avx2.UnpackLow(v0, v1).AsUInt16();   // positions 0..7 | 16..23
                var p01hi = Avx2.UnpackHigh(v0, v1).AsUInt16();  // 8..15 | 24..31
                var p23lo = Avx2.UnpackLow(v2, v3).AsUInt16();
                var p23hi = Avx2.UnpackHigh(v2, v3).AsUInt16();
                var q0 = Avx2.UnpackLow(p01lo, p23lo).AsByte();   // 0..3 | 16..19
                var q1 = Avx2.UnpackHigh(p01lo, p23lo).AsByte();  // 4..7 | 20..23
                var q2 = Avx2.UnpackLow(p01hi, p23hi).AsByte();   // 8..11 | 24..27
                var q3 = Avx2.UnpackHigh(p01hi, p23hi).AsByte();  // 12..15 | 28..31
                byte* d = groupBase + (nint)(j >> 4) * panelBytes;
                Avx2.Permute2x128(q0, q1, 0x20).Store(d);
                Avx2.Permute2x128(q2, q3, 0x20).Store(d + 32);
                Avx2.Permute2x128(q0, q1, 0x31).Store(d + panelBytes);
                Avx2.Permute2x128(q2, q3, 0x31).Store(d + panelBytes + 32);
            }
        }
        var mask = Vector128.Create(storeMask);
        for (; j + 16 <= count; j += 16)
        {
            var v0 = Vector128.Load(r0 + j) ^ mask;
            var v1 = Vector128.Load(r1 + j) ^ mask;
            var v2 = Vector128.Load(r2 + j) ^ mask;
            var v3 = Vector128.Load(r3 + j) ^ mask;
            Vector128<byte> p01lo, p01hi, p23lo, p23hi, q0, q1, q2, q3;
            if (System.Runtime.Intrinsics.X86.Sse2.IsSupported)
            {
                p01lo = System.Runtime.Intrinsics.X86.Sse2.UnpackLow(v0, v1);
                p01hi = System.Runtime.Intrinsics.X86.Sse2.UnpackHigh(v0, v1);
                p23lo = System.Runtime.Intrinsics.X86.Sse2.UnpackLow(v2, v3);
                p23hi = System.Runtime.Intrinsics.X86.Sse2.UnpackHigh(v2, v3);
                q0 = System.Runtime.Intrinsics.X86.Sse2.UnpackLow(p01lo.AsUInt16(), p23lo.AsUInt16()).AsByte();
                q1 = System.Runtime.Intrinsics.X86.Sse2.UnpackHigh(p01lo.AsUInt16(), p23lo.AsUInt16()).AsByte();
                q2 = System.Runtime.Intrinsics.X86.Sse2.UnpackLow(p01hi.AsUInt16(), p23hi.AsUInt16()).AsByte();
                q3 = System.Runtime.Intrinsics.X86.Sse2.UnpackHigh(p01hi.AsUInt16(), p23hi.AsUInt16()).AsByte();
            }
            else
            {
                p01lo = System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.ZipLow(v0, v1);
                p01hi = System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.ZipHigh(v0, v1);
                p23lo = System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.ZipLow(v2, v3);
                p23hi = System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.ZipHigh(v2, v3);
                q0 = System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.ZipLow(p01lo.AsUInt16(), p23lo.AsUInt16()).AsByte();
                q1 = System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.ZipHigh(p01lo.AsUInt16(), p23lo.AsUInt16()).AsByte();
                q2 = System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.ZipLow(p01hi.AsUInt16(), p23hi.AsUInt16()).AsByte();
                q3 = System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.ZipHigh(p01hi.AsUInt16(), p23hi.AsUInt16()).AsByte();
            }
            q0.Store(LaneAddress(groupBase, j, lanes, panelBytes));
            q1.Store(LaneAddress(groupBase, j + 4, lanes, panelBytes));
            q2.Store(LaneAddress(groupBase, j + 8, lanes, panelBytes));
            q3.Store(LaneAddress(groupBase, j + 12, lanes, panelBytes));
        }
        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte* LaneAddress(byte* groupBase, int position, int lanes, nint panelBytes) =>
        groupBase + (position >> System.Numerics.BitOperations.Log2((uint)lanes)) * panelBytes + (position & (lanes - 1)) * 4;

    /// <summary>Lane-by-lane interleave of positions [0, count) of rows, which are positions [first, first + count) of the block.</summary>
    private static void InterleaveScalar(byte** rows, int count, int first, int lanes, nint panelBytes, in QPackFormat f, byte* groupBase, int* sums)
    {
        for (int e = 0; e < 4; e++)
        {
            byte* r = rows[e];
            byte* panel = groupBase + first / lanes * panelBytes;
            int lane = first % lanes;
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
