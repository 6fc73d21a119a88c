using BenchmarkDotNet.Attributes;

namespace RnnGen.Benchmarks.Streaming;

// One class per model: the RnnGen row calls the generated Step on the concrete model and State types, as a user's
// code does (no interface call). The other engines' rows come from StreamingBenchmark<TModel>.

public class LstmStreaming64x128x2 : StreamingBenchmark<Lstm64x128x2>
{
    private Lstm64x128x2.State _state = new(), _teamState = new();
    private Lstm64x128x2 _teamModel = null!;
    private CoreTeam? _team;

    [Benchmark(Baseline = true, Description = "RnnGen")]
    public override float RnnGen()
    {
        Model.Step(Input, ref _state, Output);
        return Output[0];
    }

    /// <summary>The same weights, stepping on a <see cref="CoreTeam"/> of both cores; the team lives only for this row.</summary>
    [GlobalSetup(Target = nameof(RnnGenTwoCores))]
    public void SetupTeam()
    {
        Setup();
        _teamModel = new Lstm64x128x2();
        Model.Parameters.CopyTo(_teamModel.Parameters);
        _teamModel.ParametersChanged();
        _team = new CoreTeam(2);
        _teamModel.Team = _team;
        CheckTeam(_teamModel);
        Report.ThreadAllocations.Measure($"{nameof(Lstm64x128x2)}: Step on 2 cores", () => RnnGenTwoCores());
    }

    [GlobalCleanup(Target = nameof(RnnGenTwoCores))]
    public void CleanupTeam()
    {
        _team?.Dispose();
        Cleanup();
    }

    [Benchmark(Description = TwoCores)]
    public float RnnGenTwoCores()
    {
        _teamModel.Step(Input, ref _teamState, Output);
        return Output[0];
    }
}

public class LstmStreaming64x64x1 : StreamingBenchmark<Lstm64x64x1>
{
    private Lstm64x64x1.State _state = new();

    [Benchmark(Baseline = true, Description = "RnnGen")]
    public override float RnnGen()
    {
        Model.Step(Input, ref _state, Output);
        return Output[0];
    }
}

public class GruStreaming64x64x1 : StreamingBenchmark<Gru64x64x1>
{
    private Gru64x64x1.State _state = new();

    [Benchmark(Baseline = true, Description = "RnnGen")]
    public override float RnnGen()
    {
        Model.Step(Input, ref _state, Output);
        return Output[0];
    }
}

public class LstmStreaming1x32x1 : StreamingBenchmark<Lstm1x32x1>
{
    private Lstm1x32x1.State _state = new();

    [Benchmark(Baseline = true, Description = "RnnGen")]
    public override float RnnGen()
    {
        Model.Step(Input, ref _state, Output);
        return Output[0];
    }
}

public class LstmStreaming1x16x1 : StreamingBenchmark<Lstm1x16x1>
{
    private Lstm1x16x1.State _state = new();

    [Benchmark(Baseline = true, Description = "RnnGen")]
    public override float RnnGen()
    {
        Model.Step(Input, ref _state, Output);
        return Output[0];
    }
}

public class LstmStreaming512x512x1 : StreamingBenchmark<Lstm512x512x1>
{
    private Lstm512x512x1.State _state = new(), _teamState = new();
    private Lstm512x512x1 _teamModel = null!;
    private CoreTeam? _team;

    [Benchmark(Baseline = true, Description = "RnnGen")]
    public override float RnnGen()
    {
        Model.Step(Input, ref _state, Output);
        return Output[0];
    }

    /// <summary>The same weights, stepping on a <see cref="CoreTeam"/> of both cores; the team lives only for this row.</summary>
    [GlobalSetup(Target = nameof(RnnGenTwoCores))]
    public void SetupTeam()
    {
        Setup();
        _teamModel = new Lstm512x512x1();
        Model.Parameters.CopyTo(_teamModel.Parameters);
        _teamModel.ParametersChanged();
        _team = new CoreTeam(2);
        _teamModel.Team = _team;
        CheckTeam(_teamModel);
        Report.ThreadAllocations.Measure($"{nameof(Lstm512x512x1)}: Step on 2 cores", () => RnnGenTwoCores());
    }

    [GlobalCleanup(Target = nameof(RnnGenTwoCores))]
    public void CleanupTeam()
    {
        _team?.Dispose();
        Cleanup();
    }

    [Benchmark(Description = TwoCores)]
    public float RnnGenTwoCores()
    {
        _teamModel.Step(Input, ref _teamState, Output);
        return Output[0];
    }
}
