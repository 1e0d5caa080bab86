using System.Runtime.ExceptionServices;
using System.Threading;

namespace EdgeNet.Execution.Threading;

/// <summary>Work a kernel splits into independent parts <c>0..count-1</c> (the kernel itself implements it: no closures).</summary>
public interface IParallelWork
{
    void Execute(int part);
}

/// <summary>
/// Intra-op threads: <c>threads − 1</c> background workers plus the calling thread run the parts of one
/// <see cref="IParallelWork"/>, taking the next part from a shared counter. Nothing is allocated per call.
/// Between calls the workers block on an event after a short spin (~tens of µs), so an idle session burns no CPU.
/// One parallel region runs at a time per pool; pools are shared per thread count across sessions.
/// </summary>
public sealed class WorkerPool
{
    private static readonly Dictionary<int, WorkerPool> s_pools = [];

    private readonly Lock _region = new();
    private readonly ManualResetEventSlim[] _wake;
    private readonly ManualResetEventSlim _done = new(false, spinCount: 2000);
    private IParallelWork? _work;
    private int _count;
    private int _next;
    private int _pending;
    private Exception? _error;

    private WorkerPool(int threads)
    {
        Threads = threads;
        _wake = new ManualResetEventSlim[threads - 1];
        for (int i = 0; i < _wake.Length; i++)
        {
            _wake[i] = new ManualResetEventSlim(false, spinCount: 2000);
            int index = i;
            new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"edgenet-worker-{i + 1}/{threads}" }.Start();
        }
    }

    /// <summary>Total threads including the caller.</summary>
    public int Threads { get; }

    /// <summary>The shared pool with <paramref name="threads"/> threads (created on first use).</summary>
    public static WorkerPool Shared(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        lock (s_pools)
        {
            if (!s_pools.TryGetValue(threads, out var pool)) s_pools[threads] = pool = new WorkerPool(threads);
            return pool;
        }
    }

    /// <summary>Runs parts 0..count-1 of <paramref name="work"/> on up to <paramref name="maxThreads"/> threads; returns when all are done.</summary>
    public void Run(IParallelWork work, int count, int maxThreads = int.MaxValue)
    {
        int helpers = Math.Min(Math.Min(maxThreads, Threads), count) - 1;
        if (helpers <= 0)
        {
            for (int i = 0; i < count; i++) work.Execute(i);
            return;
        }
        lock (_region)
        {
            _work = work;
            _count = count;
            _next = 0;
            _error = null;
            _pending = helpers;
            _done.Reset();
            for (int i = 0; i < helpers; i++) _wake[i].Set();
            Drain();
            _done.Wait();
            _work = null;
            if (_error is { } e) ExceptionDispatchInfo.Capture(e).Throw();
        }
    }

    private void Drain()
    {
        var work = _work!;
        int part;
        while ((part = Interlocked.Increment(ref _next) - 1) < _count)
        {
            try
            {
                work.Execute(part);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, e, null);
            }
        }
    }

    private void WorkerLoop(int index)
    {
        var wake = _wake[index];
        while (true)
        {
            wake.Wait();
            wake.Reset();
            Drain();
            if (Interlocked.Decrement(ref _pending) == 0) _done.Set();
        }
    }
}
