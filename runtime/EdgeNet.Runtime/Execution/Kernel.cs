using System.Runtime.InteropServices;
using EdgeNet.Execution.Threading;

namespace EdgeNet.Execution;

/// <summary>
/// A prepared operator instance for fixed shapes. Execute must not allocate: everything it needs (shapes, strides,
/// packed weights, scratch sizes) is computed when the kernel is created.
/// </summary>
public abstract class Kernel
{
    /// <summary>Slot of each input in the execution context (-1 for a missing optional input). Set by the planner.</summary>
    internal int[] InputSlots { get; set; } = [];
    /// <summary>Slot of each output. Set by the planner.</summary>
    internal int[] OutputSlots { get; set; } = [];

    public abstract void Execute(ExecutionContext ctx);

    protected bool HasInput(int i) => i < InputSlots.Length && InputSlots[i] >= 0;

    protected ReadOnlySpan<T> Input<T>(ExecutionContext ctx, int i) where T : unmanaged =>
        MemoryMarshal.Cast<byte, T>(ctx.Buffers[InputSlots[i]].Span);

    protected Span<T> Output<T>(ExecutionContext ctx, int i) where T : unmanaged =>
        MemoryMarshal.Cast<byte, T>(ctx.Buffers[OutputSlots[i]].Span);

    /// <summary>Raw bytes of an input (type-agnostic data movement ops).</summary>
    protected ReadOnlySpan<byte> InputBytes(ExecutionContext ctx, int i) => ctx.Buffers[InputSlots[i]].Span;
    protected Span<byte> OutputBytes(ExecutionContext ctx, int i) => ctx.Buffers[OutputSlots[i]].Span;

    /// <summary>Scratch memory of <see cref="ScratchBytes"/> bytes, planned into the arena; valid only during Execute.</summary>
    protected Span<byte> Scratch => ScratchMemory.Span;
    internal Memory<byte> ScratchMemory { get; set; }

    /// <summary>Bytes of temporary memory this kernel needs during Execute (planned into the arena, shared by all kernels).</summary>
    public virtual int ScratchBytes => 0;
}

/// <summary>What kernels run against: one memory buffer per slot (arena slices and constants), and the worker pool.</summary>
public sealed class ExecutionContext(Memory<byte>[] buffers, int threads)
{
    public Memory<byte>[] Buffers { get; } = buffers;
    public int Threads { get; } = threads;
    /// <summary>The shared pool for <see cref="Threads"/> threads; null when single-threaded.</summary>
    public WorkerPool? Pool { get; } = threads > 1 ? WorkerPool.Shared(threads) : null;

    /// <summary>Runs parts 0..count-1 on the pool (or inline when single-threaded), on at most maxThreads threads.</summary>
    public void Parallel(IParallelWork work, int count, int maxThreads = int.MaxValue)
    {
        if (Pool is null || maxThreads <= 1 || count <= 1)
        {
            for (int i = 0; i < count; i++) work.Execute(i);
            return;
        }
        Pool.Run(work, count, maxThreads);
    }
}
