namespace RnnGen.Tests;

/// <summary>
/// Allocation checks that a one-off allocation of the runtime cannot fail: a method's tier-up or on-stack replacement, a
/// type loaded for the first time — on a loaded machine these land inside a measured window now and then (seen in CI:
/// 712 bytes in ten calls of a step that allocates nothing). The call is warmed up, then measured in several windows, and
/// the smallest count is returned: an allocation made by every call shows in every window, and one made every few calls
/// in every window of as many calls (ten by default), so a steady or periodic allocation still fails the check, while a
/// one-off one does not.
/// </summary>
internal static class SteadyAllocation
{
    /// <summary>The fewest bytes the current thread allocated in one of <paramref name="windows"/> windows of <paramref name="calls"/> calls.</summary>
    public static long Fewest(Action run, int windows = 5, int calls = 10, int warmUp = 3)
    {
        for (int i = 0; i < warmUp; i++) run();
        long fewest = long.MaxValue;
        for (int w = 0; w < windows; w++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < calls; i++) run();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return fewest;
    }
}
