using EdgeNet.Execution.Threading;
using EdgeNet.IR;
using EdgeNet.Tests.Support;

namespace EdgeNet.Tests.Execution;

public class WorkerPoolTests
{
    private sealed class CountParts(int count) : IParallelWork
    {
        public readonly int[] Hits = new int[count];
        public void Execute(int part) => System.Threading.Interlocked.Increment(ref Hits[part]);
    }

    private sealed class FailAt(int bad) : IParallelWork
    {
        public void Execute(int part)
        {
            if (part == bad) throw new InputMismatchException($"part {part} failed");
        }
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(2, 7)]
    [InlineData(3, 2)]
    [InlineData(4, 1000)]
    public void EveryPartRunsExactlyOnce(int threads, int parts)
    {
        var pool = WorkerPool.Shared(threads);
        for (int round = 0; round < 50; round++)
        {
            var work = new CountParts(parts);
            pool.Run(work, parts);
            Assert.All(work.Hits, h => Assert.Equal(1, h));
        }
    }

    [Fact]
    public void AFailingPartRethrowsItsOwnExceptionAndThePoolStaysUsable()
    {
        var pool = WorkerPool.Shared(2);
        var ex = Assert.Throws<InputMismatchException>(() => pool.Run(new FailAt(5), 16));
        Assert.Contains("part 5", ex.Message);
        var work = new CountParts(16);
        pool.Run(work, 16);
        Assert.All(work.Hits, h => Assert.Equal(1, h));
    }

    /// <summary>The caller's part waits until a worker has started the other, which then sleeps: the caller must block.</summary>
    private sealed class WorkerSleeps(int callerThread) : IParallelWork
    {
        private volatile bool _started;
        public bool CallerWaited;

        public void Execute(int part)
        {
            if (Environment.CurrentManagedThreadId == callerThread)
            {
                long end = System.Diagnostics.Stopwatch.GetTimestamp() + 2 * System.Diagnostics.Stopwatch.Frequency;
                while (!_started && System.Diagnostics.Stopwatch.GetTimestamp() < end) System.Threading.Thread.SpinWait(10);
                CallerWaited = _started;
            }
            else
            {
                _started = true;
                System.Threading.Thread.Sleep(30);
            }
        }
    }

    [Fact]
    public void TheCallersFirstBlockingWaitAllocatesNothing()
    {
        // a pool of its own (7 threads): its caller has never blocked before this region
        var pool = WorkerPool.Shared(7);
        var work = new WorkerSleeps(Environment.CurrentManagedThreadId);
        long before = GC.GetAllocatedBytesForCurrentThread();
        pool.Run(work, 2);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(work.CallerWaited, "no worker took a part");
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void RunAllocatesNothingAfterWarmUp()
    {
        var pool = WorkerPool.Shared(2);
        var work = new CountParts(64);
        Allocations.AssertNoneAfterWarmUp(() => pool.Run(work, 64));
    }
}
