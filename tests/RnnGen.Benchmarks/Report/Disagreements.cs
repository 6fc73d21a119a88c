using System.Collections.Concurrent;

namespace RnnGen.Benchmarks.Report;

/// <summary>
/// Peers whose outputs disagreed with RnnGen's in a benchmark's set-up (while the naive C# reference agreed with
/// RnnGen): their rows are not timed — a wrong result is not a speed — and the report says which and by how much.
/// </summary>
internal static class Disagreements
{
    private static readonly ConcurrentDictionary<string, string> s_found = new();

    /// <summary>Records that <paramref name="row"/> (model and engine) disagreed, with what was measured.</summary>
    public static void Add(string row, string detail) => s_found[row] = detail;

    /// <summary>Every disagreement recorded in this process, by row.</summary>
    public static IReadOnlyList<(string Row, string Detail)> All =>
        [.. s_found.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, p.Value))];
}
