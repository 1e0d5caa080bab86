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
/// <see cref="IParallelWork"/>, each claiming the next part from a shared counter. Nothing is allocated per call.
/// Between calls the workers block on an event after a short spin (~tens of µs), so an idle session burns no CPU.
/// The caller waits only for parts that have been claimed and are still running, never for a worker to wake up: a
/// worker woken late (it had gone to sleep, or the machine is busy) finds every part taken and sleeps again, while the
/// caller has run them itself. (Waiting for every woken worker to check in cost a whole wake-up, ~10 µs here, per
/// parallel region even when the caller had done all the parts, and made two threads slower than one on a loaded machine.)
/// The claim counter carries the region's generation in its high half, and is closed (next part int.MaxValue, new
/// generation) before a region's fields are written, so a claim can only succeed in the region the worker read the
/// work of. One parallel region runs at a time per pool; pools are shared per thread count across sessions.
/// </summary>
public sealed class WorkerPool
{
    private static readonly Dictionary<int, WorkerPool> s_pools = [];

    private readonly Lock _region = new();
    private readonly ManualResetEventSlim[] _wake;
    /// <summary>Set by the thread that finishes the region's last part.</summary>
    private readonly ManualResetEventSlim _done = new(false, spinCount: 2000);
    // the current region, written before _state publishes it
    private IParallelWork? _work;
    private int _count;
    private int _helpers;
    /// <summary>(generation &lt;&lt; 32) | next unclaimed part.</summary>
    private long _state;
    /// <summary>Parts not finished yet.</summary>
    private int _remaining;
    private Exception? _error;

    private WorkerPool(int threads)
    {
        Threads = threads;
        // a ManualResetEventSlim creates its lock object (24 B) the first time a thread blocks on it: block once here
        // (1 ms), so a caller's first real wait, in some later run, allocates nothing (it showed as 1 B/run at 2 threads)
        _done.Wait(1);
        _wake = new ManualResetEventSlim[threads - 1];
        for (int i = 0; i < _wake.Length; i++)
        {
            _wake[i] = new ManualResetEventSlim(false, spinCount: 2000);
            int index = i;
            new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"edgenet-worker-{i + 1}/{threads}" }.Start();
        }
    }

    /// <summary>Tests: run by workers between reading the claim counter and the region's fields, to widen the window
    /// in which a region can change under them.</summary>
    internal Action? ClaimDelay { get; set; }

    /// <summary>Tests: run by the caller after writing a region's fields, before publishing its claim counter.</summary>
    internal Action? PublishDelay { get; set; }

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
            // close the previous region first (a full fence): a worker that read its exhausted state (gen, count) and
            // then this region's larger count must fail its claim. Without this it could claim (gen, count) — a part
            // of this region, under the old generation — before the new state is published; that part then ran twice
            // and _remaining went below zero, so the caller waited forever (seen once as a hung test run).
            long generation = (Volatile.Read(ref _state) >> 32) + 1;
            Interlocked.Exchange(ref _state, (generation << 32) | int.MaxValue);
            _work = work;
            _count = count;
            _helpers = helpers;
            _error = null;
            Volatile.Write(ref _remaining, count);
            _done.Reset();
            PublishDelay?.Invoke();
            // part 0 of the new generation: from here on workers may claim
            Volatile.Write(ref _state, generation << 32);
            for (int i = 0; i < helpers; i++) _wake[i].Set();
            Drain(-1);
            // a late Set from the previous region's last part only costs one more check
            while (Volatile.Read(ref _remaining) != 0)
            {
                _done.Wait();
                _done.Reset();
            }
            if (_error is { } e) ExceptionDispatchInfo.Capture(e).Throw();
        }
    }

    /// <summary>Claims and runs parts of the current region until none are left (worker: only if the region asked for it).</summary>
    private void Drain(int worker)
    {
        while (true)
        {
            long state = Volatile.Read(ref _state);
            int part = (int)(uint)state;
            if (worker >= 0) ClaimDelay?.Invoke();
            // read after the state: a successful claim below proves these belong to the same region
            var work = _work;
            if (work is null || part >= _count || worker >= _helpers) return;
            if (Interlocked.CompareExchange(ref _state, state + 1, state) != state) continue;
            try
            {
                work.Execute(part);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, e, null);
            }
            finally
            {
                if (Interlocked.Decrement(ref _remaining) == 0 && worker >= 0) _done.Set();
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
            Drain(index);
        }
    }
}
