using System.Globalization;
using System.Text;

namespace EdgeNet.Planning;

/// <summary>
/// Places buffers with known lifetimes into one arena (tflite-micro's greedy planner): largest first, each at the
/// lowest offset that does not overlap, in both time and address, any buffer already placed. Sizes are rounded up to
/// <see cref="Alignment"/> so every buffer starts vector-aligned and kernels may read a full vector past a tail.
/// </summary>
public static class GreedyMemoryPlanner
{
    /// <summary>Every buffer starts at a multiple of this (one AVX-512 vector / cache line).</summary>
    public const int Alignment = 64;

    public static long Padded(long size) => (Math.Max(size, 1) + Alignment - 1) / Alignment * Alignment;

    public static (Placement[] Placements, long ArenaBytes) Plan(IReadOnlyList<BufferRequest> requests)
    {
        var order = Enumerable.Range(0, requests.Count)
            .OrderByDescending(i => requests[i].Size).ThenBy(i => requests[i].FirstUse).ThenBy(i => i).ToArray();
        var placed = new List<Placement>();
        var result = new Placement[requests.Count];
        long arena = 0;
        var live = new List<Placement>();
        foreach (int index in order)
        {
            var request = requests[index];
            long size = Padded(request.Size);
            live.Clear();
            foreach (var p in placed) if (p.Request.OverlapsInTime(request)) live.Add(p);
            live.Sort((a, b) => a.Offset.CompareTo(b.Offset));
            long offset = 0;
            foreach (var p in live)
            {
                if (offset + size <= p.Offset) break;
                offset = Math.Max(offset, p.Offset + Padded(p.Request.Size));
            }
            var placement = new Placement(request with { Size = size }, offset);
            placed.Add(placement);
            result[index] = placement;
            arena = Math.Max(arena, offset + size);
        }
        return (result, arena);
    }

    /// <summary>Throws if two buffers alive at the same time share bytes: the planner's invariant, checked in tests and debug plans.</summary>
    public static void Verify(IReadOnlyList<Placement> placements)
    {
        for (int i = 0; i < placements.Count; i++)
            for (int j = i + 1; j < placements.Count; j++)
            {
                var a = placements[i]; var b = placements[j];
                if (a.Request.OverlapsInTime(b.Request) && a.Offset < b.End && b.Offset < a.End)
                    throw new InvalidOperationException($"Planner overlap: '{a.Request.Name}' and '{b.Request.Name}'");
            }
    }

    /// <summary>A readable table of the plan (edgenet inspect --plan).</summary>
    public static string Describe(IReadOnlyList<Placement> placements, long arenaBytes)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"arena: {arenaBytes} bytes, {placements.Count} buffers");
        sb.AppendLine("  offset      size   live      name");
        foreach (var p in placements.OrderBy(p => p.Offset))
        {
            string first = p.Request.FirstUse < 0 ? "in" : p.Request.FirstUse.ToString(CultureInfo.InvariantCulture);
            string last = p.Request.LastUse == int.MaxValue ? "out" : p.Request.LastUse.ToString(CultureInfo.InvariantCulture);
            sb.AppendLine(CultureInfo.InvariantCulture, $"  {p.Offset,8} {p.Request.Size,9}   {first,3}..{last,-4} {p.Request.Name}");
        }
        return sb.ToString();
    }
}
