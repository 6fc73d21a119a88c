namespace RnnGen.Tests.ApiEdges;

/// <summary>
/// Adversarial probes of the runtime API. Each test here states the project's standard ("bad input gets a clear error that
/// says what to change, and nothing is lost") for one input, and FAILS while the library does not meet it.
/// </summary>
public class ApiEdgeFindingTests
{
    private static float[] Ramp(int n, float scale, float offset) =>
        Enumerable.Range(0, n).Select(i => offset + scale * MathF.Sin(i + 1)).ToArray();

    // ---- Optimizer.Step with gradients that partially overlap the parameters ----------------------------------------

    /// <summary>
    /// Gradients one element BEHIND the parameters in one buffer (g[i] is θ[i−1]): Step neither refuses the overlap nor
    /// computes the step of the gradients as they were when Step was called — vectors already written are read back as
    /// gradients, so the result depends on the SIMD width. Losses refuse a partial overlap; the optimizers do not check.
    /// </summary>
    [Theory]
    [InlineData("sgd")]
    [InlineData("adam")]
    public void Step_with_gradients_trailing_parameters_is_refused_or_uses_the_gradients_as_passed(string name)
    {
        const int n = 67;
        float[] buffer = Ramp(n + 1, 1.5f, 0.25f);
        Optimizer<float> Make() => name == "sgd" ? new Sgd<float>(n, learningRate: 0.5) : new Adam<float>(n, learningRate: 0.5);

        // reference: the same step with the gradients copied out first
        float[] expected = buffer.AsSpan(1, n).ToArray();
        float[] copiedGradients = buffer.AsSpan(0, n).ToArray();
        Make().Step(expected, copiedGradients);

        var optimizer = Make();
        float[] before = (float[])buffer.Clone();
        Exception? e = Record.Exception(() => optimizer.Step(buffer.AsSpan(1, n), buffer.AsSpan(0, n)));
        if (e is not null)
        {
            Assert.IsAssignableFrom<ArgumentException>(e);
            Assert.Equal(before, buffer);          // refused: nothing written
            Assert.Equal(0, optimizer.StepCount);
            return;
        }
        Assert.Equal(expected, buffer.AsSpan(1, n).ToArray()); // well-defined: as if the gradients had been copied
    }

    /// <summary>
    /// The fused clip-and-step is documented as "exactly (bit for bit) what ClipByValue followed by Step does". With the
    /// gradients being the very parameters' span (full overlap, which Step(θ, g) alone handles consistently), the fused path
    /// updates from the UNclipped parameters while the two-call path updates from the clipped ones, and nothing is refused.
    /// </summary>
    [Fact]
    public void Fused_clip_step_with_gradients_aliasing_parameters_matches_ClipByValue_then_Step_or_is_refused()
    {
        const int n = 33;
        float[] a = Ramp(n, 3f, 0f), b = (float[])a.Clone();
        float[] before = (float[])b.Clone();

        GradientClipping.ClipByValue<float>(a, 0.5f);
        new Sgd<float>(n, learningRate: 0.1).Step(a, (float[])a.Clone());

        var fused = new Sgd<float>(n, learningRate: 0.1);
        Exception? e = Record.Exception(() => fused.Step(b.AsSpan(), b.AsSpan(), 0.5f));
        if (e is not null)
        {
            Assert.IsAssignableFrom<ArgumentException>(e);
            Assert.Equal(before, b);
            return;
        }
        Assert.Equal(a, b);
    }

    // ---- hyper-parameters validated in double but used in T ---------------------------------------------------------

    /// <summary>
    /// A float optimizer accepts learningRate = 1e39 ("finite, at least 0" — checked in double), rounds it to +∞ in float, and
    /// a ZERO gradient then turns every parameter into NaN (∞·0). Either refuse the rate for a float optimizer (naming
    /// learningRate and float's range) or keep the step finite.
    /// </summary>
    [Fact]
    public void Float_optimizer_refuses_a_learning_rate_beyond_float_range_or_keeps_parameters_finite()
    {
        const int n = 8;
        float[] parameters = Ramp(n, 1f, 0.5f);
        float[] zeros = new float[n];
        Sgd<float> sgd;
        try
        {
            sgd = new Sgd<float>(n, learningRate: 1e39);
        }
        catch (ArgumentOutOfRangeException e)
        {
            Assert.Equal("learningRate", e.ParamName);
            return;
        }
        sgd.Step(parameters, zeros);
        Assert.All(parameters, p => Assert.True(float.IsFinite(p), $"a zero gradient made a parameter {p}"));
    }

    /// <summary>The same through the settable property: a float optimizer's LearningRate = 1e39 is accepted and poisons the parameters.</summary>
    [Fact]
    public void Float_optimizer_LearningRate_setter_refuses_values_beyond_float_range_or_keeps_parameters_finite()
    {
        const int n = 8;
        float[] parameters = Ramp(n, 1f, 0.5f);
        var adam = new Adam<float>(n);
        try
        {
            adam.LearningRate = 1e39;
        }
        catch (ArgumentOutOfRangeException e)
        {
            Assert.Equal("LearningRate", e.ParamName);
            return;
        }
        adam.Step(parameters, new float[n]);
        Assert.All(parameters, p => Assert.True(float.IsFinite(p), $"a zero gradient made a parameter {p}"));
    }

    // ---- schedules that accept settings and later return rates an optimizer refuses ----------------------------------

    /// <summary>
    /// StepDecaySchedule(0, 1, γ = 10) is accepted, but LearningRate(400) is 0 · γ^400 = 0 · ∞ = NaN: a "learning rate"
    /// that Optimizer.LearningRate then refuses in the middle of training (the trainer sets it before every step).
    /// </summary>
    [Fact]
    public void StepDecaySchedule_never_returns_a_rate_the_optimizer_refuses()
    {
        var schedule = new StepDecaySchedule(initialLearningRate: 0, stepSize: 1, gamma: 10);
        double lr = schedule.LearningRate(400);
        Assert.True(double.IsFinite(lr) && lr >= 0, $"LearningRate(400) = {lr}");
    }

    /// <summary>ExponentialDecaySchedule(1e-3, γ = 2): accepted; after ~1034 steps it returns +∞, which the optimizer refuses.</summary>
    [Fact]
    public void ExponentialDecaySchedule_with_gamma_above_one_is_refused_or_stays_finite()
    {
        ExponentialDecaySchedule schedule;
        try
        {
            schedule = new ExponentialDecaySchedule(1e-3, gamma: 2);
        }
        catch (ArgumentOutOfRangeException e)
        {
            Assert.Equal("gamma", e.ParamName);
            return;
        }
        // refused where it leaves double's range, saying why, rather than handing the optimizer a rate it refuses
        Assert.True(double.IsFinite(schedule.LearningRate(1000)));
        Assert.Contains("with a gamma above 1 the rate grows without bound", Assert.Throws<InvalidOperationException>(() => schedule.LearningRate(2000)).Message);
    }

    /// <summary>
    /// OneCycleSchedule checks divFactor / finalDivFactor only as "positive, finite": with both 1e-300 the minimum is
    /// 1 / 1e-300 / 1e-300 = +∞, returned from LearningRate(totalSteps) on.
    /// </summary>
    [Fact]
    public void OneCycleSchedule_refuses_factors_that_make_the_rates_infinite()
    {
        OneCycleSchedule schedule;
        try
        {
            schedule = new OneCycleSchedule(1.0, totalSteps: 100, divFactor: 1e-300, finalDivFactor: 1e-300);
        }
        catch (ArgumentOutOfRangeException)
        {
            return;
        }
        double lr = schedule.LearningRate(100);
        Assert.True(double.IsFinite(lr), $"LearningRate(100) = {lr}");
    }

    // ---- ReduceOnPlateau: settable state that the next Step overflows ------------------------------------------------

    /// <summary>
    /// BadEpochs is settable to int.MaxValue ("≥ 0"), and with patience = int.MaxValue that is a valid resumed state; the
    /// next bad epoch overflows BadEpochs++ and throws "BadEpochs ('-2147483648') must be a non-negative value" — an error
    /// about a value the caller never passed, which says nothing useful to change.
    /// </summary>
    [Fact]
    public void ReduceOnPlateau_bad_epoch_at_int_MaxValue_does_not_throw_an_internal_overflow()
    {
        var plateau = new ReduceOnPlateau(patience: int.MaxValue) { Best = 1.0, BadEpochs = int.MaxValue };
        var optimizer = new Sgd<double>(2, learningRate: 0.1);
        Exception? e = Record.Exception(() => plateau.Step(2.0, optimizer));
        Assert.True(e is null, $"threw {e?.GetType().Name}: {e?.Message}");
    }

    // ---- int.MaxValue sizes ---------------------------------------------------------------------------------------

    /// <summary>
    /// TokenSampler(int.MaxValue): the optimizers answer a size beyond the largest array with an ArgumentOutOfRangeException
    /// naming the parameter; the sampler throws OutOfMemoryException ("Array dimensions exceeded supported range").
    /// </summary>
    [Fact]
    public void TokenSampler_with_a_vocabulary_beyond_the_largest_array_throws_ArgumentOutOfRange()
    {
        var e = Record.Exception(() => new TokenSampler<float>(int.MaxValue));
        var range = Assert.IsType<ArgumentOutOfRangeException>(e);
        Assert.Equal("vocabularySize", range.ParamName);
    }

    private sealed class ProbeState(int layers, int hidden, bool hasCell) : RecurrentState<float>(layers, hidden, hasCell);

    /// <summary>
    /// RecurrentState's constructor sizes its buffer with checked((hasCell ? 2 : 1) · layers · hidden): 65536 layers of
    /// 65536 units throw a bare OverflowException, and hidden = int.MaxValue another one from the aligned allocation — not
    /// an ArgumentOutOfRangeException naming the size (as RecurrentTape.CheckSize and the optimizers do).
    /// </summary>
    [Theory]
    [InlineData(65536, 65536, false)]
    [InlineData(1, int.MaxValue, false)]
    [InlineData(1, 1 << 30, true)]
    public void RecurrentState_too_large_throws_ArgumentOutOfRange(int layers, int hidden, bool hasCell)
    {
        var e = Record.Exception(() => new ProbeState(layers, hidden, hasCell));
        Assert.IsType<ArgumentOutOfRangeException>(e);
    }
}
