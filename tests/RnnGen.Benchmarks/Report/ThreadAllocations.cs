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

    /// <summary>
    /// Warms <paramref name="call"/> up (<see cref="UntilCompiled"/>), then measures the bytes it allocates per call in three windows of at least 50 ms
    /// each, and for a call of a millisecond or less at least 4,096 calls (as many as a <c>CoreTeam</c>'s shortest adaptive cycle, so
    /// that anything a step does now and then falls inside every window), and keeps the fewest: a one-off allocation of the runtime (a method's tier-up) lands in
    /// one window at most, a steady or periodic one in all three.
    /// </summary>
    public static void Measure(string what, Action call)
    {
        UntilCompiled(call);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int warm = 0;
        do { call(); warm++; } while (warm < 3 || (clock.ElapsedMilliseconds < 50 && warm < 4096));
        double perCall = clock.Elapsed.TotalMilliseconds / warm;
        int calls = (int)Math.Clamp(Math.Max(50 / perCall, 4096), 5, 1_000_000);
        if (perCall > 1) calls = Math.Max(5, (int)(50 / perCall)); // a slow call (a training update): 50 ms of them
        double fewest = double.MaxValue;
        for (int window = 0; window < 3; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < calls; i++) call();
            fewest = Math.Min(fewest, (GC.GetAllocatedBytesForCurrentThread() - before) / (double)calls);
        }
        s_perCall[what] = fewest;
    }

    /// <summary>
    /// Calls <paramref name="call"/> until the JIT has compiled nothing for a quarter of a second of calls (at most 5 s), so
    /// that tiered compilation has replaced the quick first code of everything the call runs before it is timed. The
    /// tier-0 code of a model's step runs 5–30× slower, and how long the tier-up takes depends on what else the process
    /// compiled: 0.4 s for the LSTM 64→128×2 alone, but after the ONNX Runtime and TorchSharp engines had been checked,
    /// BenchmarkDotNet's iterations went on timing the slow code for more than a second (2026-12-01, 90 µs a step instead of 16).
    /// </summary>
    public static void UntilCompiled(Action call)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long compiled = System.Runtime.JitInfo.GetCompiledMethodCount(), quietSince = 0;
        while (clock.ElapsedMilliseconds - quietSince < 250 && clock.ElapsedMilliseconds < 5000)
        {
            call();
            long now = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (now != compiled)
                (compiled, quietSince) = (now, clock.ElapsedMilliseconds);
        }
    }
}
