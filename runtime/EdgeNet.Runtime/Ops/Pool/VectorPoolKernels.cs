using EdgeNet.Execution;
using EdgeNet.Execution.Threading;
using EdgeNet.Kernels.Pool;
using EdgeNet.Ops.Conv;

namespace EdgeNet.Ops.Pool;

/// <summary>Splits planes over the worker pool when the node is large enough to pay for waking workers.</summary>
internal abstract class PlaneParallelKernel : Kernel, IParallelWork
{
    /// <summary>Below this many window taps (or elements) a node runs on one thread.</summary>
    private const long ParallelWork = 1 << 19;

    private readonly int _planes, _parts, _threads;
    private ExecutionContext? _ctx;

    protected PlaneParallelKernel(int planes, long work, int threads)
    {
        _planes = planes;
        _threads = work < ParallelWork ? 1 : threads;
        _parts = _threads <= 1 ? 1 : Math.Min(planes, _threads * 8);
    }

    public sealed override void Execute(ExecutionContext ctx)
    {
        if (_parts == 1)
        {
            Planes(ctx, 0, _planes);
            return;
        }
        _ctx = ctx;
        try { ctx.Parallel(this, _parts, _threads); }
        finally { _ctx = null; }
    }

    void IParallelWork.Execute(int part) =>
        Planes(_ctx!, (int)((long)part * _planes / _parts), (int)((long)(part + 1) * _planes / _parts));

    protected abstract void Planes(ExecutionContext ctx, int from, int to);
}

/// <summary>Float32 MaxPool (without Indices) / AveragePool, 1-D or 2-D, on the session's vector ISA.</summary>
internal sealed class VectorPoolKernel(int planes, ConvGeometry g, F32Pool2d pool, int threads)
    : PlaneParallelKernel(planes, (long)planes * g.OutVolume * g.KernelVolume, threads)
{
    protected override void Planes(ExecutionContext ctx, int from, int to)
    {
        var x = Input<float>(ctx, 0);
        var y = Output<float>(ctx, 0);
        int inVolume = g.InVolume, outVolume = g.OutVolume;
        for (int p = from; p < to; p++) pool.Plane(x.Slice(p * inVolume, inVolume), y.Slice(p * outVolume, outVolume));
    }
}

/// <summary>Float32 GlobalAveragePool / GlobalMaxPool on the session's vector ISA.</summary>
internal sealed class VectorGlobalPoolKernel(bool max, int planes, int size, F32GlobalPool pool, int threads)
    : PlaneParallelKernel(planes, (long)planes * size, threads)
{
    protected override void Planes(ExecutionContext ctx, int from, int to)
    {
        var x = Input<float>(ctx, 0);
        var y = Output<float>(ctx, 0);
        for (int p = from; p < to; p++)
        {
            var plane = x.Slice(p * size, size);
            y[p] = max ? pool.Max(plane) : pool.Average(plane);
        }
    }
}

/// <summary>Float32 MaxPool whose windows tile the input (<see cref="F32MaxPoolTiled"/>): planes as one stream of row groups.</summary>
internal sealed unsafe class TiledMaxPoolKernel(int planes, ConvGeometry g, int threads)
    : PlaneParallelKernel(planes, (long)planes * g.OutVolume * g.KernelVolume, threads)
{
    protected override void Planes(ExecutionContext ctx, int from, int to)
    {
        fixed (float* x = Input<float>(ctx, 0))
        fixed (float* y = Output<float>(ctx, 0))
            F32MaxPoolTiled.Run(g, x + (nint)from * g.InVolume, y + (nint)from * g.OutVolume, (to - from) * g.OutH);
    }
}
