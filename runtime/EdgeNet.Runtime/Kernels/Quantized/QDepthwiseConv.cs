using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using EdgeNet.Execution.Threading;
using ExecutionContext = EdgeNet.Execution.ExecutionContext;

namespace EdgeNet.Kernels.Quantized;

/// <summary>
/// Depthwise quantized conv (one filter per channel), direct: each channel's input is expanded once into a padded
/// int32 plane of (x_u8 − x_zp) (0 in the padding), split by column phase (column t·sw + φ of the padded row goes to
/// phase φ, index t) so that for every stride the taps of consecutive outputs are consecutive: output ow, tap kw reads
/// phase (kw·dw) mod sw at index ow + ⌊kw·dw / sw⌋. Every tap is then a fixed offset from the output row's base, so
/// an output row is a loop of vectors over ow whose accumulator stays in a register across all taps (3×3 unrolled
/// with its nine weights held in registers). The expansion has no per-element division: stride 1 widens 16 bytes at a
/// time, stride 2 splits byte pairs into the two phases (low / high byte of a 16-bit lane), other strides walk the
/// phases with counters. Integer sums are exact, so the result equals the reference for any vector width (x86 and
/// NEON alike); the last vector of a row computes lanes past OutW, which the next row overwrites. The rows of a channel
/// are accumulated back to back and requantized in one epilogue pass over the whole plane (small 7×7 planes stay
/// vectorised). Channels are spread over threads.
/// </summary>
public sealed unsafe class QDepthwiseConv : IParallelWork
{
    private readonly QConv2dShape _s;
    private readonly int[] _w;
    /// <summary>Offset of tap (kh, kw) from an output row's plane base, in the reference's tap order.</summary>
    private readonly int[] _tapOffsets;
    private readonly bool _inputSigned;
    private readonly QOutputKind _output;
    private readonly int _padH, _phaseW, _rowInts, _planeInts, _accInts;

    // per run
    private byte* _x, _scratch;
    private void* _y;
    private int _za;
    private QEpilogue _e;
    private int _next;

    public QDepthwiseConv(QConv2dShape s, ReadOnlySpan<byte> weights, bool weightsSigned, ReadOnlySpan<int> weightZeroPoints, bool inputSigned, QOutputKind output, int threads)
    {
        _s = s;
        _inputSigned = inputSigned;
        _output = output;
        int taps = s.KH * s.KW;
        _w = new int[s.OutChannels * taps];
        for (int c = 0; c < s.OutChannels; c++)
        {
            int raw = weightZeroPoints.Length == 0 ? 0 : weightZeroPoints[weightZeroPoints.Length == 1 ? 0 : c];
            int zw = weightsSigned ? raw : raw - 128;
            for (int t = 0; t < taps; t++) _w[c * taps + t] = QMath.WeightS8(weights[c * taps + t], weightsSigned) - zw;
        }
        _padH = s.InH + s.PadTop + s.PadBottom;
        int padW = s.InW + s.PadLeft + s.PadRight;
        int v = Vector<int>.Count;
        int outVectors = (s.OutW + v - 1) / v * v;
        // each phase row holds every padded column of its phase and the reads of the last (full) vector of a row;
        // +16 lets the stride-2 expansion write whole 8-int groups
        _phaseW = Math.Max((padW + s.StrideW - 1) / s.StrideW, outVectors + ((s.KW - 1) * s.DilationW) / s.StrideW) + 16;
        _rowInts = s.StrideW * _phaseW;
        _tapOffsets = new int[taps];
        for (int kh = 0; kh < s.KH; kh++)
            for (int kw = 0; kw < s.KW; kw++)
            {
                int off = kw * s.DilationW;
                _tapOffsets[kh * s.KW + kw] = kh * s.DilationH * _rowInts + (off % s.StrideW) * _phaseW + off / s.StrideW;
            }
        _planeInts = _padH * _rowInts + 16;
        _accInts = (s.OutH - 1) * s.OutW + outVectors + 16;
        long macs = (long)s.Batch * s.OutChannels * s.OutPlane * taps;
        Threads = macs < (1 << 20) ? 1 : Math.Max(1, Math.Min(threads, s.Batch * s.OutChannels));
    }

    /// <summary>(w − w_zp) per channel and tap (the x86 byte-plane kernel packs these).</summary>
    internal int[] TapWeights => _w;

    public int Threads { get; }
    public int ScratchBytes => Threads * (_planeInts + _accInts) * sizeof(int) + 64;

    public void Run(ExecutionContext? ctx, byte* x, int xZeroPoint, void* y, in QEpilogue e, byte* scratch)
    {
        _x = x; _y = y; _e = e; _scratch = scratch;
        _za = _inputSigned ? xZeroPoint + 128 : xZeroPoint;
        _next = 0;
        if (ctx is null || Threads == 1) for (int p = 0; p < Threads; p++) Execute(p);
        else ctx.Parallel(this, Threads, Threads);
    }

    public void Execute(int part)
    {
        int* plane = (int*)(_scratch + (nint)part * (_planeInts + _accInts) * sizeof(int));
        int* acc = plane + _planeInts;
        int items = _s.Batch * _s.OutChannels;
        int item;
        // the expansion writes the same interior positions for every channel, so the padding cleared here stays 0
        new Span<int>(plane, _planeInts).Clear();
        fixed (int* w = _w)
        fixed (int* offsets = _tapOffsets)
            while ((item = System.Threading.Interlocked.Increment(ref _next) - 1) < items)
            {
                int c = item % _s.OutChannels;
                Expand(_x + (nint)item * _s.InPlane, plane);
                int bias = _e.Bias is null ? 0 : _e.Bias[c];
                int* wc = w + c * _s.KH * _s.KW;
                // rows land back to back in acc; a row's extra lanes spill into the next row, which overwrites them
                for (int oh = 0; oh < _s.OutH; oh++)
                {
                    int* rowBase = plane + (nint)oh * _s.StrideH * _rowInts;
                    int* rowAcc = acc + (nint)oh * _s.OutW;
                    if (_tapOffsets.Length == 9) Row3x3(rowBase, offsets, wc, bias, rowAcc, _s.OutW);
                    else RowGeneric(rowBase, offsets, _tapOffsets.Length, wc, bias, rowAcc, _s.OutW);
                }
                QEpilogueWriter.Write(_output, acc, _s.OutPlane, _y, (nint)item * _s.OutPlane, c, channelsAlongRow: false, _e, padded: true);
            }
    }

    /// <summary>Writes the interior of the phase-split int32 plane of one channel (the padding is already 0).</summary>
    private void Expand(byte* src, int* plane)
    {
        var s = _s;
        int mask = _inputSigned ? 0x80 : 0, za = _za, sw = s.StrideW;
        for (int ih = 0; ih < s.InH; ih++)
        {
            int* row = plane + (nint)(ih + s.PadTop) * _rowInts;
            byte* sp = src + (nint)ih * s.InW;
            if (sw == 1) ExpandStride1(sp, row + s.PadLeft, s.InW, mask, za);
            else if (sw == 2) ExpandStride2(sp, row, s.PadLeft, s.InW, _phaseW, mask, za);
            else
            {
                // column col = iw + PadLeft lives at phase col mod sw, index col / sw: walk both with counters
                int phase = s.PadLeft % sw, index = s.PadLeft / sw;
                for (int iw = 0; iw < s.InW; iw++)
                {
                    row[phase * _phaseW + index] = (sp[iw] ^ mask) - za;
                    if (++phase == sw) { phase = 0; index++; }
                }
            }
        }
    }

    private static void ExpandStride1(byte* sp, int* d, int count, int mask, int za)
    {
        int i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            var vm = Vector128.Create((byte)mask);
            var vz = Vector128.Create(za);
            for (; i + 16 <= count; i += 16)
            {
                var b = Vector128.Load(sp + i) ^ vm;
                var (lo, hi) = Vector128.Widen(b);
                var (a0, a1) = Vector128.Widen(lo);
                var (a2, a3) = Vector128.Widen(hi);
                (a0.AsInt32() - vz).Store(d + i);
                (a1.AsInt32() - vz).Store(d + i + 4);
                (a2.AsInt32() - vz).Store(d + i + 8);
                (a3.AsInt32() - vz).Store(d + i + 12);
            }
        }
        for (; i < count; i++) d[i] = (sp[i] ^ mask) - za;
    }

    /// <summary>Stride 2: padded column col goes to phase col &amp; 1, index col / 2.</summary>
    private static void ExpandStride2(byte* sp, int* row, int padLeft, int count, int phaseW, int mask, int za)
    {
        int* even = row, odd = row + phaseW;
        int iw = 0;
        if ((padLeft & 1) != 0 && count > 0)
        {
            odd[padLeft >> 1] = (sp[0] ^ mask) - za;
            iw = 1;
        }
        // from here col = iw + padLeft is even: bytes (iw, iw + 1) go to even[t], odd[t] with t = col / 2
        int t = (iw + padLeft) >> 1;
        if (Vector128.IsHardwareAccelerated)
        {
            var vm = Vector128.Create((byte)mask);
            var vz = Vector128.Create(za);
            var low = Vector128.Create((ushort)0xFF);
            for (; iw + 16 <= count; iw += 16, t += 8)
            {
                var pairs = (Vector128.Load(sp + iw) ^ vm).AsUInt16();
                var (e0, e1) = Vector128.Widen(pairs & low);
                var (o0, o1) = Vector128.Widen(pairs >>> 8);
                (e0.AsInt32() - vz).Store(even + t);
                (e1.AsInt32() - vz).Store(even + t + 4);
                (o0.AsInt32() - vz).Store(odd + t);
                (o1.AsInt32() - vz).Store(odd + t + 4);
            }
        }
        for (; iw + 1 < count; iw += 2, t++)
        {
            even[t] = (sp[iw] ^ mask) - za;
            odd[t] = (sp[iw + 1] ^ mask) - za;
        }
        if (iw < count) even[t] = (sp[iw] ^ mask) - za;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row3x3(int* p, int* off, int* w, int bias, int* acc, int count)
    {
        int* p0 = p + off[0], p1 = p + off[1], p2 = p + off[2], p3 = p + off[3], p4 = p + off[4], p5 = p + off[5], p6 = p + off[6], p7 = p + off[7], p8 = p + off[8];
        var w0 = new Vector<int>(w[0]); var w1 = new Vector<int>(w[1]); var w2 = new Vector<int>(w[2]);
        var w3 = new Vector<int>(w[3]); var w4 = new Vector<int>(w[4]); var w5 = new Vector<int>(w[5]);
        var w6 = new Vector<int>(w[6]); var w7 = new Vector<int>(w[7]); var w8 = new Vector<int>(w[8]);
        var b = new Vector<int>(bias);
        for (int t = 0; t < count; t += Vector<int>.Count)
        {
            var a = b + Vector.Load(p0 + t) * w0 + Vector.Load(p1 + t) * w1 + Vector.Load(p2 + t) * w2;
            var a2 = Vector.Load(p3 + t) * w3 + Vector.Load(p4 + t) * w4 + Vector.Load(p5 + t) * w5;
            var a3 = Vector.Load(p6 + t) * w6 + Vector.Load(p7 + t) * w7 + Vector.Load(p8 + t) * w8;
            (a + a2 + a3).Store(acc + t);
        }
    }

    private static void RowGeneric(int* p, int* off, int taps, int* w, int bias, int* acc, int count)
    {
        var b = new Vector<int>(bias);
        for (int t = 0; t < count; t += Vector<int>.Count)
        {
            var a = b;
            for (int i = 0; i < taps; i++) a += Vector.Load(p + off[i] + t) * new Vector<int>(w[i]);
            a.Store(acc + t);
        }
    }
}
