using System.Runtime.InteropServices;
using EdgeNet.Execution;
using EdgeNet.Execution.Threading;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Conv;

namespace EdgeNet.Ops.Conv;

/// <summary>
/// The depthwise path of Conv (group = in channels, out channels = multiplier · in channels, one filter per output
/// channel: output channel m reads input channel m / multiplier): ConvOp asks here first. Returns null when the
/// shape is not one the vector kernels cover (3-D, grouped but not depthwise, or the scalar ISA), and ConvOp takes
/// its general path.
/// </summary>
internal static class DepthwiseConvKernel
{
    /// <summary>Below this many multiply-accumulates (~8 µs of work) a node runs on one thread. The pool's caller no
    /// longer waits for a worker to wake, so a split costs little when no worker comes: MobileNetV2's 0.25–0.42 MMAC
    /// depthwise layers at 14×14 and 7×7 (27–40 µs each) now use both threads (they ran on one below 1 << 19).</summary>
    private const long ParallelMacs = 1 << 17;

    public static Kernel? TryCreate(OpContext ctx, ConvShape shape, bool hasBias, FusedActivation activation)
    {
        var g = shape.Geometry;
        if (g.Rank > 2 || shape.Group != shape.InChannels || shape.OutChannels % shape.InChannels != 0) return null;
        // One input channel feeding many filters (an STFT front end, a first conv) is an ordinary conv: as a GEMM the
        // filters share each input patch; as depthwise planes each re-reads the input (10-30x slower on melspectrogram).
        if (shape.InChannels == 1 && shape.OutChannels > 1) return null;
        int multiplier = shape.OutChannels / shape.InChannels;
        // a channel-blocked kernel needs its lanes' planes to be consecutive channels of one filter each (multiplier 1)
        if (F32DwConv.Candidates(ctx.Isa, g).FirstOrDefault(p => multiplier == 1 || p.PlaneGrain == 1) is not { } plane) return null;
        float[]? weights = ctx.InputConstant(1)?.AsSpan<float>().ToArray();
        float[]? bias = hasBias ? ctx.InputConstant(2)?.AsSpan<float>().ToArray() : null;
        long macs = (long)shape.Batch * shape.OutChannels * g.OutVolume * g.KernelVolume;
        int planes = shape.Batch * shape.OutChannels;
        int threads = macs < ParallelMacs ? 1 : ctx.Threads;
        // parts beyond the thread count balance load; kernels with per-call scratch keep one part per thread to bound it
        int grains = (planes + plane.PlaneGrain - 1) / plane.PlaneGrain;
        int parts = threads <= 1 ? 1 : Math.Min(grains, plane.ScratchFloats > 0 ? threads : threads * 8);
        return new Depthwise(shape, plane, weights, hasBias, bias, activation, parts, threads);
    }

    /// <summary>Weights (and bias) are copied into the kernel when constant, else read from the inputs each run.</summary>
    private sealed class Depthwise(ConvShape shape, F32DwConv plane, float[]? weights, bool hasBias, float[]? bias,
        FusedActivation activation, int parts, int threads) : Kernel, IParallelWork
    {
        private readonly int _planes = shape.Batch * shape.OutChannels;
        private readonly int _multiplier = shape.OutChannels / shape.InChannels;
        private readonly int _inVolume = shape.Geometry.InVolume, _outVolume = shape.Geometry.OutVolume;
        private readonly int _taps = shape.Geometry.KernelVolume;
        private ExecutionContext? _ctx;

        public override void Execute(ExecutionContext ctx)
        {
            if (parts == 1)
            {
                Planes(ctx, 0, _planes);
                return;
            }
            _ctx = ctx;
            try { ctx.Parallel(this, parts, threads); }
            finally { _ctx = null; }
        }

        public override int ScratchBytes => parts * plane.ScratchFloats * sizeof(float);

        private readonly int _grains = (shape.Batch * shape.OutChannels + plane.PlaneGrain - 1) / plane.PlaneGrain;

        void IParallelWork.Execute(int part) => Planes(_ctx!, Start(part), Start(part + 1), part);

        /// <summary>First plane of a part: whole channel blocks per part (the last may be short).</summary>
        private int Start(int part) => (int)Math.Min(_planes, (long)part * _grains / parts * plane.PlaneGrain);

        private void Planes(ExecutionContext ctx, int from, int to, int part = 0)
        {
            int scratchFloats = plane.ScratchFloats;
            var scratch = MemoryMarshal.Cast<byte, float>(Scratch).Slice(part * scratchFloats, scratchFloats);
            var x = Input<float>(ctx, 0);
            ReadOnlySpan<float> w = weights ?? Input<float>(ctx, 1);
            ReadOnlySpan<float> b = !hasBias ? default : bias ?? Input<float>(ctx, 2);
            var y = Output<float>(ctx, 0);
            int channels = shape.OutChannels;
            if (_multiplier == 1 && plane.Batches)
            {
                plane.Planes(x, w, hasBias, b, y, channels, from, to, activation, scratch);
                return;
            }
            for (int p = from; p < to; p++)
            {
                int n = p / channels, m = p % channels;
                int inPlane = n * shape.InChannels + m / _multiplier;
                plane.Plane(x.Slice(inPlane * _inVolume, _inVolume), w.Slice(m * _taps, _taps), hasBias ? b[m] : 0,
                    y.Slice(p * _outVolume, _outVolume), activation, scratch);
            }
        }
    }
}
