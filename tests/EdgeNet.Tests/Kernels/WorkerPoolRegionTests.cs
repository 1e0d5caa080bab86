using System.Threading;
using EdgeNet.Execution.Threading;
using EdgeNet.IR;

namespace EdgeNet.Tests.Kernels;

/// <summary>
/// The worker pool's regions as kernels use them back to back: the caller no longer waits for workers that have not
/// claimed a part, so a worker may wake while a later region runs. Every part of every region runs exactly once and
/// with its own region's work, however the regions' sizes alternate; a region asked to run on fewer threads than the
/// pool has never runs on more; an exception in a part reaches the caller after the other parts have run.
/// </summary>
public class WorkerPoolRegionTests
{
    private sealed class Recorder(int count) : IParallelWork
    {
        public readonly int[] Hits = new int[count];
        public readonly int[] Threads = new int[count];
        public int SpinIterations;

        public void Execute(int part)
        {
            Interlocked.Increment(ref Hits[part]);
            Threads[part] = Environment.CurrentManagedThreadId;
            for (int i = 0; i < SpinIterations; i++) Thread.SpinWait(1);
        }
    }

    private sealed class Failing(int count, int bad) : IParallelWork
    {
        public readonly int[] Hits = new int[count];

        public void Execute(int part)
        {
            Interlocked.Increment(ref Hits[part]);
            if (part == bad) throw new InputMismatchException($"part {part} failed");
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void BackToBackRegionsRunEveryPartOnceWithItsOwnWork(int threads)
    {
        var pool = WorkerPool.Shared(threads);
        var rng = new Random(threads);
        for (int region = 0; region < 3000; region++)
        {
            // sizes from 1 part to many, some with work long enough for sleeping workers to wake into the next region
            int count = rng.Next(1, region % 7 == 0 ? 200 : 9);
            var work = new Recorder(count) { SpinIterations = rng.Next(3) == 0 ? rng.Next(0, 400) : 0 };
            pool.Run(work, count, rng.Next(1, threads + 2));
            for (int p = 0; p < count; p++)
                Assert.True(work.Hits[p] == 1, $"region {region}: part {p} of {count} ran {work.Hits[p]} times");
        }
    }

    [Fact]
    public async Task AWorkerDelayedBetweenReadingTheCounterAndTheRegionCannotClaimInTheNextRegion()
    {
        // workers pause (randomly) right after reading the claim counter, while the caller ends a small region and
        // starts a larger one: a claim on the old, exhausted counter with the new region's count used to run a part
        // twice and leave the caller waiting forever. A pool of its own (6 threads) so the delay touches no other test.
        var pool = WorkerPool.Shared(6);
        int seed = 0;
        pool.ClaimDelay = () =>
        {
            int r = Interlocked.Increment(ref seed) * 7919 % 13;
            for (int i = 0; i < r * 40; i++) Thread.SpinWait(1);
        };
        pool.PublishDelay = () => { for (int i = 0; i < 400; i++) Thread.SpinWait(1); };
        try
        {
            var run = Task.Run(() =>
            {
                for (int region = 0; region < 4000; region++)
                {
                    int count = region % 2 == 0 ? 1 + region % 3 : 40;
                    var work = new Recorder(count);
                    pool.Run(work, count);
                    for (int p = 0; p < count; p++)
                        Assert.True(work.Hits[p] == 1, $"region {region}: part {p} of {count} ran {work.Hits[p]} times");
                }
            });
            try { await run.WaitAsync(TimeSpan.FromSeconds(120)); }
            catch (TimeoutException) { Assert.Fail("the regions did not finish in 120 s (a caller waits forever)"); }
        }
        finally { pool.ClaimDelay = null; pool.PublishDelay = null; }
    }

    [Fact]
    public void ARegionNeverRunsOnMoreThreadsThanAskedFor()
    {
        var pool = WorkerPool.Shared(4);
        for (int round = 0; round < 200; round++)
        {
            // every worker awake and spinning, then a region limited to two threads
            pool.Run(new Recorder(64) { SpinIterations = 50 }, 64);
            var limited = new Recorder(64) { SpinIterations = 50 };
            pool.Run(limited, 64, maxThreads: 2);
            Assert.All(limited.Hits, h => Assert.Equal(1, h));
            Assert.True(limited.Threads.Distinct().Count() <= 2, $"round {round}: {limited.Threads.Distinct().Count()} threads");
        }
    }

    [Fact]
    public void AFailingPartIsRethrownAfterTheOtherPartsRan()
    {
        var pool = WorkerPool.Shared(2);
        for (int round = 0; round < 100; round++)
        {
            var work = new Failing(32, round % 32);
            var ex = Assert.Throws<InputMismatchException>(() => pool.Run(work, 32));
            Assert.Contains($"part {round % 32}", ex.Message);
            Assert.All(work.Hits, h => Assert.Equal(1, h));
            var next = new Recorder(8);
            pool.Run(next, 8);
            Assert.All(next.Hits, h => Assert.Equal(1, h));
        }
    }
}
