using EdgeNet.Planning;

namespace EdgeNet.Tests.Planning;

public class GreedyMemoryPlannerTests
{
    [Fact]
    public void BuffersAliveTogetherNeverShareBytes()
    {
        var rng = new Random(7);
        for (int trial = 0; trial < 200; trial++)
        {
            var requests = new List<BufferRequest>();
            int n = rng.Next(1, 40);
            for (int i = 0; i < n; i++)
            {
                int a = rng.Next(-1, 30), b = rng.Next(a, 31);
                requests.Add(new BufferRequest($"b{i}", rng.Next(1, 5000), a, b));
            }
            var (placements, arena) = GreedyMemoryPlanner.Plan(requests);
            GreedyMemoryPlanner.Verify(placements);
            Assert.All(placements, p => Assert.Equal(0, p.Offset % GreedyMemoryPlanner.Alignment));
            Assert.All(placements, p => Assert.True(p.End <= arena));
        }
    }

    [Fact]
    public void DisjointLifetimesReuseTheSameMemory()
    {
        var requests = new[]
        {
            new BufferRequest("a", 1000, 0, 1),
            new BufferRequest("b", 1000, 1, 2),
            new BufferRequest("c", 1000, 2, 3),
        };
        var (_, arena) = GreedyMemoryPlanner.Plan(requests);
        Assert.Equal(2 * GreedyMemoryPlanner.Padded(1000), arena);
    }
}
