namespace EdgeNet.Planning;

/// <summary>
/// One buffer to place in the arena: alive from step FirstUse to step LastUse inclusive (steps are execution
/// order; -1 means "before the first step", int.MaxValue "after the last").
/// </summary>
public sealed record BufferRequest(string Name, long Size, int FirstUse, int LastUse)
{
    public bool OverlapsInTime(BufferRequest other) => FirstUse <= other.LastUse && other.FirstUse <= LastUse;
}

/// <summary>A placed buffer.</summary>
public readonly record struct Placement(BufferRequest Request, long Offset)
{
    public long End => Offset + Request.Size;
}
