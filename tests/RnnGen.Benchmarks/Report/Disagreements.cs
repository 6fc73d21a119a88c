using System.Collections.Concurrent;
using BenchmarkDotNet.Running;

namespace RnnGen.Benchmarks.Report;

/// <summary>
/// Peers whose outputs disagreed with RnnGen's in a benchmark's set-up (while the naive C# reference agreed with
/// RnnGen): their rows are not timed — a wrong result is not a speed — and the report says which and by how much.
/// </summary>
internal static class Disagreements
{
    private static readonly ConcurrentDictionary<string, string> s_found = new();
    private static readonly ConcurrentDictionary<(Type Benchmark, string Engine), bool> s_engines = new();

    /// <summary>
    /// Records that <paramref name="engine"/> (a row's name, as its <c>[Benchmark]</c> description) disagreed in the
    /// benchmark class <paramref name="benchmark"/> on <paramref name="model"/>, with what was measured.
    /// </summary>
    public static void Add(Type benchmark, string model, string engine, string detail)
    {
        s_found[$"{model}: {engine}"] = detail;
        s_engines[(benchmark, engine)] = true;
    }

    /// <summary>
    /// Whether <paramref name="benchmarkCase"/> is a row of an engine found disagreeing — the engine's own row or its
    /// variants ("TorchSharp sequence, 2 threads"), which run the same engine: its failure is the intended "not timed",
    /// not a broken run.
    /// </summary>
    public static bool Covers(BenchmarkCase benchmarkCase)
    {
        string row = benchmarkCase.Descriptor.WorkloadMethodDisplayInfo.Trim('\'');
        // the instance that recorded it may be BenchmarkDotNet's emitted subclass of the benchmark's class (in-process)
        return s_engines.Keys.Any(k => benchmarkCase.Descriptor.Type.IsAssignableFrom(k.Benchmark) &&
                                       (row == k.Engine || row.StartsWith(k.Engine + ",", StringComparison.Ordinal)));
    }

    /// <summary>Every disagreement recorded in this process, by row.</summary>
    public static IReadOnlyList<(string Row, string Detail)> All =>
        [.. s_found.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, p.Value))];
}
