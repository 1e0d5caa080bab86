namespace EdgeNet.Tests.Support;

/// <summary>
/// Checks the zero-allocation promise: after warm-up, an action allocates no managed memory.
/// </summary>
/// <remarks>
/// Warm-up is more than one call: the runtime's tiered JIT promotes hot methods (and on-stack-replaces long
/// loops) at moments of its choosing, and the first promotions can allocate a few runtime objects on the calling
/// thread. So the action runs in batches until one batch allocates nothing on this thread, within a bounded number
/// of batches. An action that allocates on every call never gets a clean batch, and the check fails with the
/// bytes per call of the last batch.
/// </remarks>
public static class Allocations
{
    public static void AssertNoneAfterWarmUp(Action action, int batch = 50, int maxBatches = 40)
    {
        long last = 0;
        for (int b = 0; b < maxBatches; b++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < batch; i++) action();
            last = GC.GetAllocatedBytesForCurrentThread() - before;
            if (last == 0) return;
        }
        Assert.Fail($"still allocating after {maxBatches} batches of {batch} calls: {last} bytes in the last batch ({(double)last / batch:F1} per call)");
    }
}
