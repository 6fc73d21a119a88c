using BenchmarkDotNet.Attributes;

namespace RnnGen.Benchmarks.Streaming;

// One class per model: the RnnGen row calls the generated Step on the concrete model and State types, as a user's
// code does (no interface call). The other engines' rows come from StreamingBenchmark<TModel>.

public class LstmStreaming64x128x2 : TeamStreamingBenchmark<Lstm64x128x2>
{
    private Lstm64x128x2.State _state = new(), _teamState = new();

    [Benchmark(Baseline = true, Description = "RnnGen")]
    public override float RnnGen()
    {
        Model.Step(Input, ref _state, Output);
        return Output[0];
    }

    protected override void Attach(Lstm64x128x2 model, CoreTeam team) => model.Team = team;

    [Benchmark(Description = TwoCores)]
    public override float RnnGenTwoCores()
    {
        TeamModel.Step(Input, ref _teamState, Output);
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

public class LstmStreaming512x512x1 : TeamStreamingBenchmark<Lstm512x512x1>
{
    private Lstm512x512x1.State _state = new(), _teamState = new();

    [Benchmark(Baseline = true, Description = "RnnGen")]
    public override float RnnGen()
    {
        Model.Step(Input, ref _state, Output);
        return Output[0];
    }

    protected override void Attach(Lstm512x512x1 model, CoreTeam team) => model.Team = team;

    [Benchmark(Description = TwoCores)]
    public override float RnnGenTwoCores()
    {
        TeamModel.Step(Input, ref _teamState, Output);
        return Output[0];
    }
}

/// <summary>
/// A large model's streaming benchmark, with one row more: RnnGen's <c>Step</c> of a second instance (the same weights) on a
/// <see cref="CoreTeam"/> of both cores. The team lives only while that row runs, so its spinning helper never competes
/// with the other rows.
/// </summary>
public abstract class TeamStreamingBenchmark<TModel> : StreamingBenchmark<TModel> where TModel : class, IRecurrentModel<TModel, float>
{
    private CoreTeam? _team;

    /// <summary>The instance that steps on the team.</summary>
    protected TModel TeamModel { get; private set; } = null!;

    /// <summary>Gives <paramref name="model"/> the team (the generated <c>Team</c> property, which only larger models have).</summary>
    protected abstract void Attach(TModel model, CoreTeam team);

    /// <summary>RnnGen's <c>Step</c> on the team (declared by each model's class, as <see cref="StreamingBenchmark{TModel}.RnnGen"/>).</summary>
    public abstract float RnnGenTwoCores();

    [GlobalSetup(Target = nameof(RnnGenTwoCores))]
    public void SetupTeam()
    {
        Setup();
        TeamModel = TModel.Create();
        Model.Parameters.CopyTo(TeamModel.Parameters);
        TeamModel.ParametersChanged();
        _team = new CoreTeam(2);
        Attach(TeamModel, _team);
        CheckTeam(TeamModel);
        Report.ThreadAllocations.Measure($"{typeof(TModel).Name}: Step on 2 cores", () => RnnGenTwoCores());
    }

    [GlobalCleanup(Target = nameof(RnnGenTwoCores))]
    public void CleanupTeam()
    {
        _team?.Dispose();
        Cleanup();
    }

    /// <summary>
    /// Steps <paramref name="teamModel"/> (the same weights as <see cref="Model"/>, on a <see cref="CoreTeam"/>) and
    /// <see cref="Model"/> from zero state for <see cref="CheckSteps"/> steps: the outputs must be the same bits.
    /// </summary>
    private void CheckTeam(TModel teamModel)
    {
        ModelInfo info = TModel.Info;
        RecurrentState<float> state = Model.CreateState(), teamState = teamModel.CreateState();
        var expected = new float[info.OutputWidth];
        var actual = new float[info.OutputWidth];
        for (int t = 0; t < CheckSteps; t++)
        {
            Model.Step(Input, state, expected);
            teamModel.Step(Input, teamState, actual);
            if (!expected.AsSpan().SequenceEqual(actual))
                throw new InvalidOperationException($"RnnGen's Step on a CoreTeam disagrees with its Step alone on {info} at step {t}.");
        }
    }
}
