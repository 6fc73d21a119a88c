using System.Collections.Concurrent;

namespace RnnGen.Benchmarks.Report;

/// <summary>
/// Bytes that RnnGen's hot calls allocate on the calling thread, measured in the benchmarks' set-up (the suite runs in
/// this process, so the report reads them here). BenchmarkDotNet's MemoryDiagnoser counts every thread of the process —
/// the JIT's background compilations, TorchSharp's finalizers — so a one-off allocation elsewhere shows up in its column
/// as a few bytes per call of the long-running rows; this is the figure the "0 B" target is about.
/// </summary>
internal static class ThreadAllocations
{
    private static readonly ConcurrentDictionary<string, double> s_perCall = new();

    /// <summary>Bytes per call on the calling thread, by what was measured.</summary>
    public static IReadOnlyDictionary<string, double> PerCall => s_perCall;

    /// <summary>Calls <paramref name="call"/> a few times to warm it up, then measures the bytes it allocates per call.</summary>
    public static void Measure(string what, Action call, int calls = 5)
    {
        for (int i = 0; i < 3; i++) call();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < calls; i++) call();
        s_perCall[what] = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)calls;
    }
}
