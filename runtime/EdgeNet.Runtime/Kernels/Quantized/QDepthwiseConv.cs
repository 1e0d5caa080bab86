using System.Numerics;
using EdgeNet.Execution.Threading;
using ExecutionContext = EdgeNet.Execution.ExecutionContext;

namespace EdgeNet.Kernels.Quantized;

/// <summary>
/// Depthwise quantized conv (one filter per channel), direct: each channel's input is expanded once into a padded
/// int32 plane of (x_u8 − x_zp) (0 in the padding), split by column phase (column t·sw + φ of the padded row goes to
/// phase φ, index t) so that for every stride the taps of consecutive outputs are consecutive: output ow, tap kw reads
/// phase (kw·dw) mod sw at index ow + ⌊kw·dw / sw⌋. Rows are then vector multiply-adds of (w − w_zp) over ow.
/// Integer sums are exact, so the result equals the reference for any vector width. Channels are spread over threads.
/// </summary>
public sealed unsafe class QDepthwiseConv : IParallelWork
{
    private readonly QConv2dShape _s;
    private readonly int[] _w;
    private readonly bool _inputSigned;
    private readonly QOutputKind _output;
    private readonly int _outBytes, _padH, _phaseW, _planeInts;

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
        _outBytes = output switch { QOutputKind.Int32 or QOutputKind.Float32 => 4, _ => 1 };
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
        // each phase row holds enough entries for ow + ⌊kw·dw/sw⌋ over the whole output row, plus vector slack
        _phaseW = Math.Max((padW + s.StrideW - 1) / s.StrideW, s.OutW + ((s.KW - 1) * s.DilationW) / s.StrideW) + Vector<int>.Count;
        _planeInts = _padH * s.StrideW * _phaseW + 2 * s.OutW + Vector<int>.Count;
        long macs = (long)s.Batch * s.OutChannels * s.OutPlane * taps;
        Threads = macs < (1 << 20) ? 1 : Math.Max(1, Math.Min(threads, s.Batch * s.OutChannels));
    }

    public int Threads { get; }
    public int ScratchBytes => Threads * _planeInts * sizeof(int) + 64;

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
        int* plane = (int*)(_scratch + (nint)part * _planeInts * sizeof(int));
        int* acc = plane + _padH * _s.StrideW * _phaseW;
        int items = _s.Batch * _s.OutChannels;
        int item;
        fixed (int* w = _w)
            while ((item = System.Threading.Interlocked.Increment(ref _next) - 1) < items)
            {
                int c = item % _s.OutChannels;
                Channel(item, c, plane, acc, w + c * _s.KH * _s.KW);
            }
    }

    private void Channel(int item, int c, int* plane, int* acc, int* w)
    {
        var s = _s;
        int sw = s.StrideW, phaseW = _phaseW, mask = _inputSigned ? 0x80 : 0, za = _za;
        new Span<int>(plane, _padH * sw * phaseW).Clear();
        byte* src = _x + (nint)item * s.InPlane;
        for (int ih = 0; ih < s.InH; ih++)
        {
            int* rowBase = plane + (nint)(ih + s.PadTop) * sw * phaseW;
            byte* sp = src + (nint)ih * s.InW;
            for (int iw = 0; iw < s.InW; iw++)
            {
                int col = iw + s.PadLeft;
                rowBase[(col % sw) * phaseW + col / sw] = (sp[iw] ^ mask) - za;
            }
        }
        int ow = s.OutW;
        int bias = _e.Bias is null ? 0 : _e.Bias[c];
        for (int oh = 0; oh < s.OutH; oh++)
        {
            new Span<int>(acc, ow).Fill(bias);
            for (int kh = 0; kh < s.KH; kh++)
            {
                int* prow = plane + (nint)(oh * s.StrideH + kh * s.DilationH) * sw * phaseW;
                for (int kw = 0; kw < s.KW; kw++)
                {
                    int off = kw * s.DilationW;
                    int* p = prow + (off % sw) * phaseW + off / sw;
                    MultiplyAdd(acc, p, w[kh * s.KW + kw], ow);
                }
            }
            nint index = ((nint)item * s.OutPlane + oh * ow);
            QEpilogueWriter.Write(_output, acc, ow, _y, index, c, channelsAlongRow: false, _e);
        }
    }

    private static void MultiplyAdd(int* acc, int* p, int w, int count)
    {
        int t = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vw = new Vector<int>(w);
            for (; t + Vector<int>.Count <= count; t += Vector<int>.Count)
                (Vector.Load(acc + t) + Vector.Load(p + t) * vw).Store(acc + t);
        }
        for (; t < count; t++) acc[t] += p[t] * w;
    }
}
