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

    [Fact]
    public void RunAllocatesNothingAfterWarmUp()
    {
        var pool = WorkerPool.Shared(2);
        var work = new CountParts(64);
        Allocations.AssertNoneAfterWarmUp(() => pool.Run(work, 64));
    }
}
