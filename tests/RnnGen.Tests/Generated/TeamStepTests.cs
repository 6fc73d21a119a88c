using System.Numerics;
using RnnGen.Kernels;
using RnnGen.Tests.Models;

namespace RnnGen.Tests.Generated;

/// <summary>
/// <c>Step</c> on a <see cref="CoreTeam"/>: every layer's rows split between cores by hidden units, the cores meeting once per
/// layer. Each output is summed in the same order whichever core computes it, so a stream of steps on a team must give the
/// alone model's outputs and states bit for bit: for every cell kind, dense and token inputs, double precision, two and three
/// cores (with AVX-512, three cores of hidden 128 leave a part with no units), and models whose rows split only where the
/// blocks allow.
/// </summary>
public class TeamStepTests
{
    // Forward and Backward run alone whatever the team: the same bits as a model without one.
    [Theory, InlineData(1, 150), InlineData(3, 50)]
    public void Forward_IgnoresTheTeam(int lanes, int steps) =>
        ForwardEqualsAlone<LstmFChunked, float>(2, lanes, steps, (m, t) => m.Team = t);

    [Theory, InlineData(2), InlineData(3)]
    public void Lstm_DenseTwoLayersHead(int cores) => TeamEqualsAlone<LstmFChunked, float>(cores, (m, t) => m.Team = t);

    [Theory, InlineData(2), InlineData(3)]
    public void Lstm_TokensTwoLayersHead(int cores) => TeamEqualsAlone<LstmTokensTeam, float>(cores, (m, t) => m.Team = t);

    [Theory, InlineData(2), InlineData(3)]
    public void Gru_DenseTwoLayersHead(int cores) => TeamEqualsAlone<GruFTeam, float>(cores, (m, t) => m.Team = t);

    [Theory, InlineData(2), InlineData(3)]
    public void Rnn_DenseDouble(int cores) => TeamEqualsAlone<RnnDChunked, double>(cores, (m, t) => m.Team = t);

    // A team given to a model and dropped with it, never disposed: the helper threads hold only the team's crew, so the team
    // is collected, and its finalizer stops them (they used to keep it alive, and themselves, until the process ended).
    [Fact]
    public void ATeamDroppedWithItsModel_StopsItsHelpers()
    {
        var (teams, crews) = StepAndDrop(6);
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.All(teams, t => Assert.False(t.IsAlive, "a dropped team is still reachable"));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (crews.Any(c => !c.HelpersEnded) && DateTime.UtcNow < deadline)
            Thread.Sleep(10);
        Assert.All(crews, c => Assert.True(c.HelpersEnded, "a dropped team's helper thread still runs"));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static (List<WeakReference> Teams, List<CoreTeam.Crew> Crews) StepAndDrop(int count)
    {
        var teams = new List<WeakReference>();
        var crews = new List<CoreTeam.Crew>();
        for (int i = 0; i < count; i++)
        {
            var team = new CoreTeam(2, spinTime: i % 2 == 0 ? TimeSpan.Zero : null); // helpers asleep, and spinning
            var model = Harness.NewModel<GruFTeam, float>(i);
            model.Team = team;
            var state = new GruFTeam.State();
            model.Step(new float[GruFTeam.InputSize], ref state, new float[GruFTeam.OutputWidth]);
            teams.Add(new WeakReference(team));
            crews.Add(team.Members);
        }
        return (teams, crews);
    }

    // Hidden 150 is not a multiple of the smallest packed block (16 floats): no machine could split it, so it has no Team.
    [Fact]
    public void AModelThatNeverSplits_HasNoTeam()
    {
        Assert.Null(typeof(GruFChunked).GetProperty("Team"));
        Assert.Null(typeof(LstmF64).GetProperty("Team")); // steps in place
        Assert.NotNull(typeof(GruFLarge).GetProperty("Team")); // hidden 96: splits with AVX2, not with AVX-512
    }

    [Theory, InlineData(2), InlineData(3)]
    public void Gru_OddBlockCount(int cores) => TeamEqualsAlone<GruFOddBlocks, float>(cores, (m, t) => m.Team = t);

    // Hidden 96: three blocks of 32 with AVX2 (split 1 + 2); one and a half with AVX-512, so the step runs alone.
    [Fact]
    public void Gru_SplitsOnlyWhereTheBlocksAllow() => TeamEqualsAlone<GruFLarge, float>(2, (m, t) => m.Team = t);

    // Two models take turns on one team.
    [Fact]
    public void TwoModels_ShareOneTeam()
    {
        using var team = new CoreTeam(2, adaptive: false);
        var lstm = Harness.NewModel<LstmFChunked, float>(seed: 1);
        var gru = Harness.NewModel<GruFTeam, float>(seed: 2);
        var lstmAlone = Harness.NewModel<LstmFChunked, float>(seed: 1);
        var gruAlone = Harness.NewModel<GruFTeam, float>(seed: 2);
        lstm.Team = team;
        gru.Team = team;
        var xl = Harness.Random<float>(LstmFChunked.InputSize, seed: 3);
        var xg = Harness.Random<float>(GruFTeam.InputSize, seed: 4);
        LstmFChunked.State sl = new(), slAlone = new();
        GruFTeam.State sg = new(), sgAlone = new();
        float[] yl = new float[LstmFChunked.OutputWidth], ylAlone = new float[LstmFChunked.OutputWidth];
        float[] yg = new float[GruFTeam.OutputWidth], ygAlone = new float[GruFTeam.OutputWidth];
        for (int t = 0; t < 50; t++)
        {
            lstm.Step(xl, ref sl, yl);
            gru.Step(xg, ref sg, yg);
            lstmAlone.Step(xl, ref slAlone, ylAlone);
            gruAlone.Step(xg, ref sgAlone, ygAlone);
            Assert.True(yl.AsSpan().SequenceEqual(ylAlone) && yg.AsSpan().SequenceEqual(ygAlone), $"step {t}");
        }
    }

    [Fact]
    public void Team_CanBeChangedAndRemovedBetweenSteps()
    {
        var alone = Harness.NewModel<LstmFChunked, float>(seed: 7);
        var teamed = Harness.NewModel<LstmFChunked, float>(seed: 7);
        using var two = new CoreTeam(2, adaptive: false);
        using var three = new CoreTeam(3);
        var x = Harness.Random<float>(LstmFChunked.InputSize, seed: 8);
        LstmFChunked.State a = new(), b = new();
        float[] ya = new float[LstmFChunked.OutputWidth], yb = new float[LstmFChunked.OutputWidth];
        CoreTeam?[] teams = [two, null, three, two, null];
        foreach (var team in teams)
        {
            teamed.Team = team;
            Assert.Same(team, teamed.Team);
            for (int i = 0; i < 5; i++)
            {
                alone.Step(x, ref a, ya);
                teamed.Step(x, ref b, yb);
            }
            Assert.True(ya.AsSpan().SequenceEqual(yb));
            Assert.True(a.Values.SequenceEqual(b.Values));
        }
    }

    // An adaptive team switches between stepping together and alone as its probes decide: the bits never change.
    [Fact]
    public void AnAdaptiveTeam_GivesTheSameBitsWhicheverWayItRuns()
    {
        using var team = new CoreTeam(2);
        var alone = Harness.NewModel<LstmTokensTeam, float>(seed: 5);
        var teamed = Harness.NewModel<LstmTokensTeam, float>(seed: 5);
        teamed.Team = team;
        LstmTokensTeam.State a = new(), b = new();
        float[] ya = new float[LstmTokensTeam.OutputWidth], yb = new float[LstmTokensTeam.OutputWidth];
        for (int t = 0; t < CoreTeam.ProbeInterval + 2 * CoreTeam.Probes; t++)
        {
            alone.Step(t % LstmTokensTeam.InputSize, ref a, ya);
            teamed.Step(t % LstmTokensTeam.InputSize, ref b, yb);
            if (t % 97 == 0 || t < 2 * CoreTeam.Probes)
                Assert.True(ya.AsSpan().SequenceEqual(yb), $"step {t}");
        }
        Assert.True(a.Values.SequenceEqual(b.Values));
    }

    // A dense model without a head on an adaptive team, through its probes (alone and together in turn) and beyond: the bits
    // of the step without a team, into an output apart and into the state's own top h.
    [Fact]
    public void AnAdaptiveTeam_WithoutAHead_GivesTheBitsOfTheStepAlone_EvenIntoTheStatesTopHidden()
    {
        using var team = new CoreTeam(2);
        var alone = Harness.NewModel<LstmFTeamNoHead, float>(seed: 9);
        var teamed = Harness.NewModel<LstmFTeamNoHead, float>(seed: 9);
        teamed.Team = team;
        float[] inputs = Harness.Random<float>(64 * LstmFTeamNoHead.InputSize, seed: 10);
        LstmFTeamNoHead.State a = new(), b = new(), c = new();
        float[] ya = new float[LstmFTeamNoHead.OutputWidth], yb = new float[LstmFTeamNoHead.OutputWidth];
        for (int t = 0; t < 2 * CoreTeam.Probes + 40; t++)
        {
            ReadOnlySpan<float> x = inputs.AsSpan(t % 64 * LstmFTeamNoHead.InputSize, LstmFTeamNoHead.InputSize);
            alone.Step(x, ref a, ya);
            teamed.Step(x, ref b, yb);
            teamed.Step(x, ref c, c.Hidden(0));
            Assert.True(ya.AsSpan().SequenceEqual(yb), $"step {t}: output");
            Assert.True(ya.AsSpan().SequenceEqual(c.Hidden(0)), $"step {t}: into the state's top h");
            Assert.True(a.Values.SequenceEqual(b.Values) && a.Values.SequenceEqual(c.Values), $"step {t}: state");
        }
    }

    // Written parameters reach the team's step through ParametersChanged, as they reach the alone step.
    [Fact]
    public void Team_ReadsRefreshedParameters()
    {
        using var team = new CoreTeam(2);
        var alone = Harness.NewModel<GruFTeam, float>(seed: 1);
        var teamed = Harness.NewModel<GruFTeam, float>(seed: 1);
        teamed.Team = team;
        var x = Harness.Random<float>(GruFTeam.InputSize, seed: 2);
        GruFTeam.State a = new(), b = new();
        float[] ya = new float[GruFTeam.OutputWidth], yb = new float[GruFTeam.OutputWidth];
        teamed.Step(x, ref b, yb);
        Harness.Random<float>(GruFTeam.ParameterCount, seed: 3).CopyTo(alone.Parameters);
        alone.ParametersChanged();
        alone.Parameters.CopyTo(teamed.Parameters);
        teamed.ParametersChanged();
        b = new GruFTeam.State();
        alone.Step(x, ref a, ya);
        teamed.Step(x, ref b, yb);
        Assert.True(ya.AsSpan().SequenceEqual(yb));
    }

    // One Forward of the window on each model, then Backward of the same output gradients: outputs, final states and
    // gradients must be the same bits (Backward reads what Forward recorded).
    private static void ForwardEqualsAlone<TModel, T>(int cores, int lanes, int steps, Action<TModel, CoreTeam?> setTeam)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ModelInfo info = TModel.Info;
        var (alone, teamed, team) = Pair<TModel, T>(cores, setTeam);
        using var _ = team;
        var (tokens, inputs) = Inputs<T>(info, lanes * steps);
        var a = new RecurrentState<T>[lanes];
        var b = new RecurrentState<T>[lanes];
        for (int l = 0; l < lanes; l++)
        {
            a[l] = alone.CreateState();
            Harness.Random<T>(a[l].Values.Length, seed: 10 + l, scale: 0.8).CopyTo(a[l].Values);
            b[l] = teamed.CreateState();
            a[l].CopyTo(b[l]);
        }
        var ya = new T[lanes * steps * info.OutputWidth];
        var yb = new T[ya.Length];
        var tapeA = alone.CreateTape(steps, lanes);
        var tapeB = teamed.CreateTape(steps, lanes);
        for (int window = 0; window < 2; window++) // twice: the second from the states the first left
        {
            if (info.Tokens)
            {
                alone.Forward(tokens, a, tapeA, ya);
                teamed.Forward(tokens, b, tapeB, yb);
            }
            else
            {
                alone.Forward(inputs, a, tapeA, ya);
                teamed.Forward(inputs, b, tapeB, yb);
            }
            Assert.True(ya.AsSpan().SequenceEqual(yb), $"{typeof(TModel).Name} on {cores} cores, {lanes} × {steps}: the outputs differ from the alone Forward's");
            for (int l = 0; l < lanes; l++)
                Assert.True(a[l].Values.SequenceEqual(b[l].Values), $"{typeof(TModel).Name}: lane {l}'s final state differs");
        }
        T[] dy = Harness.Random<T>(ya.Length, seed: 9);
        alone.Backward(tapeA, dy, info.Tokens ? default : new T[lanes * steps * info.InputSize], null);
        teamed.Backward(tapeB, dy, info.Tokens ? default : new T[lanes * steps * info.InputSize], null);
        Assert.True(alone.Gradients.SequenceEqual(teamed.Gradients), $"{typeof(TModel).Name}: the gradients after the team's Forward differ");
    }

    // Two models with the same parameters, the second on a new team of `cores` cores.
    private static (TModel Alone, TModel Teamed, CoreTeam Team) Pair<TModel, T>(int cores, Action<TModel, CoreTeam?> setTeam)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var teamed = Harness.NewModel<TModel, T>(seed: 3, scale: 1.5);
        var team = new CoreTeam(cores, adaptive: false); // always together: the split is what is tested
        setTeam(teamed, team);
        return (Harness.NewModel<TModel, T>(seed: 3, scale: 1.5), teamed, team);
    }

    private static (int[] Tokens, T[] Inputs) Inputs<T>(ModelInfo info, int rows) where T : unmanaged, IFloatingPointIeee754<T> =>
        (Harness.RandomTokens(rows, info.InputSize, seed: 4), Harness.Random<T>(rows * info.InputSize, seed: 5));

    private static void TeamEqualsAlone<TModel, T>(int cores, Action<TModel, CoreTeam?> setTeam, int steps = 200)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ModelInfo info = TModel.Info;
        var (alone, teamed, team) = Pair<TModel, T>(cores, setTeam);
        using var _ = team;
        var (tokens, inputs) = Inputs<T>(info, steps);
        var a = alone.CreateState();
        Harness.Random<T>(a.Values.Length, seed: 6, scale: 0.8).CopyTo(a.Values);
        var b = teamed.CreateState();
        a.CopyTo(b);
        var ya = new T[info.OutputWidth];
        var yb = new T[info.OutputWidth];
        for (int t = 0; t < steps; t++)
        {
            if (info.Tokens)
            {
                alone.Step(tokens[t], a, ya);
                teamed.Step(tokens[t], b, yb);
            }
            else
            {
                alone.Step(inputs.AsSpan(t * info.InputSize, info.InputSize), a, ya);
                teamed.Step(inputs.AsSpan(t * info.InputSize, info.InputSize), b, yb);
            }
            Assert.True(ya.AsSpan().SequenceEqual(yb), $"{typeof(TModel).Name} on {cores} cores: step {t}'s output differs from the alone step's");
            Assert.True(a.Values.SequenceEqual(b.Values), $"{typeof(TModel).Name} on {cores} cores: the state after step {t} differs");
        }
        // and the team did step together where the blocks allow a split (every helper, every step), not the caller alone
        long expected = TeamPart.CanSplit<T>(info.HiddenSize) ? (long)steps * (cores - 1) : 0;
        Assert.Equal(expected, team.HelperJobs);
    }
}
