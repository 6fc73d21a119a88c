using System.Collections.Immutable;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Order;
using BenchmarkDotNet.Running;

namespace RnnGen.Benchmarks.Streaming;

/// <summary>
/// Runs each class's baseline (RnnGen) and then the floor before its other rows, so that the two times the efficiency
/// divides are measured back to back, under the same load of a shared machine; otherwise the declared order.
/// </summary>
internal sealed class RnnGenFirstOrderer() : DefaultOrderer(SummaryOrderPolicy.Declared)
{
    public override IEnumerable<BenchmarkCase> GetExecutionOrder(ImmutableArray<BenchmarkCase> benchmarksCase, IEnumerable<BenchmarkLogicalGroupRule>? order = null)
    {
        var declared = base.GetExecutionOrder(benchmarksCase, order).ToList();
        var typeRank = new Dictionary<Type, int>();
        foreach (BenchmarkCase c in declared)
            typeRank.TryAdd(c.Descriptor.Type, typeRank.Count);
        return declared
            .Select((c, index) => (Case: c, Index: index))
            .OrderBy(x => typeRank[x.Case.Descriptor.Type])
            .ThenBy(x => x.Case.Descriptor.Baseline ? 0 : x.Case.Descriptor.WorkloadMethod.Name == FloorMethod ? 1 : 2)
            .ThenBy(x => x.Index)
            .Select(x => x.Case);
    }

    private const string FloorMethod = nameof(StreamingBenchmark<Lstm1x16x1>.Floor);
}
