namespace LongRangeMemory;

/// <summary>The settings of one run of the experiment. <see cref="Full"/> and <see cref="Quick"/> are the presets.</summary>
public sealed record ExperimentOptions
{
    /// <summary>The full experiment: lags 5, 10, 20, 50, 100, five seeds, up to 6,000 updates per run (about 6 minutes on 2 cores).</summary>
    public static ExperimentOptions Full { get; } = new();

    /// <summary><c>--quick</c>: lags 5, 20, 100, one seed, up to 2,000 updates per run (well under a minute on 2 cores).</summary>
    public static ExperimentOptions Quick { get; } = new() { Lags = [5, 20, 100], Seeds = [1], MaxSteps = 2000 };

    /// <summary>The lags L (distractors between the signal and the answer), ascending, each ≥ 1.</summary>
    public IReadOnlyList<int> Lags { get; init; } = [5, 10, 20, 50, 100];

    /// <summary>Seeds: every cell is trained once per seed at every lag (seed = initial parameters, data and shuffling).</summary>
    public IReadOnlyList<int> Seeds { get; init; } = [1, 2, 3, 4, 5];

    /// <summary>At most this many optimizer updates per run; a run stops earlier once it has solved the task.</summary>
    public int MaxSteps { get; init; } = 6000;

    /// <summary>Sequences per update.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Updates on one freshly drawn training set before the model is validated (and a new set drawn).</summary>
    public int StepsPerRound { get; init; } = 25;

    /// <summary>Held-out sequences per lag and seed on which accuracy and loss are measured.</summary>
    public int ValidationSize { get; init; } = 512;

    /// <summary>Validation accuracy at which the task counts as solved and the run stops.</summary>
    public double SolvedAccuracy { get; init; } = 0.99;

    /// <summary>Adam's learning rate (PyTorch's default 1e-3).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>The summed gradient is rescaled to at most this global L2 norm before each update.</summary>
    public double ClipGradientNorm { get; init; } = 1.0;

    /// <summary>Initial bias of the LSTM's forget gate and the GRU's update gate (<see cref="Experiment.OpenMemoryGates"/>):
    /// at initialisation they keep σ(3) ≈ 0.95 of their state per step. 0 sets them to exactly 0 (σ = ½, PyTorch's initial gate on average; PyTorch draws them from U(±1/√H)).</summary>
    public double MemoryGateBias { get; init; } = 3.0;

    /// <summary>Validation sequences over which the gradient-flow curves are averaged.</summary>
    public int ProbeSequences { get; init; } = 32;

    /// <summary>Training threads (the result does not depend on it).</summary>
    public int WorkerCount { get; init; } = Environment.ProcessorCount;

    /// <summary>Checks every setting; throws an <see cref="ArgumentException"/> that says what to change.</summary>
    /// <param name="displayName">How a setting is named in the message (the command line passes its option, such as
    /// <c>--max-steps</c> for <c>MaxSteps</c>); by default the property's own name.</param>
    public void Validate(Func<string, string>? displayName = null)
    {
        string N(string property) => displayName?.Invoke(property) ?? property;
        CheckAscending(Lags, N(nameof(Lags)), "lag", 1);
        CheckAscending(Seeds, N(nameof(Seeds)), "seed", 0);
        Require(MaxSteps >= 1, N(nameof(MaxSteps)), MaxSteps, "≥ 1");
        Require(BatchSize >= 1, N(nameof(BatchSize)), BatchSize, "≥ 1");
        Require(StepsPerRound >= 1, N(nameof(StepsPerRound)), StepsPerRound, "≥ 1");
        Require(ValidationSize >= 1, N(nameof(ValidationSize)), ValidationSize, "≥ 1");
        Require(SolvedAccuracy is > 0 and <= 1, N(nameof(SolvedAccuracy)), SolvedAccuracy, "in (0, 1]");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), N(nameof(LearningRate)), LearningRate, "finite and > 0");
        Require(ClipGradientNorm > 0 && double.IsFinite(ClipGradientNorm), N(nameof(ClipGradientNorm)), ClipGradientNorm, "finite and > 0");
        Require(double.IsFinite(MemoryGateBias), N(nameof(MemoryGateBias)), MemoryGateBias, "finite");
        Require(ProbeSequences >= 1 && ProbeSequences <= ValidationSize, N(nameof(ProbeSequences)), ProbeSequences, $"in [1, {N(nameof(ValidationSize))} = {ValidationSize}]");
        Require(WorkerCount >= 1, N(nameof(WorkerCount)), WorkerCount, "≥ 1");
    }

    private static void CheckAscending(IReadOnlyList<int> values, string name, string what, int minimum)
    {
        if (values.Count == 0) throw Invalid($"{name} is empty; give at least one {what}.", name);
        for (int i = 0; i < values.Count; i++)
        {
            if (values[i] < minimum) throw Invalid($"{name} contains {values[i]}; every {what} must be ≥ {minimum}.", name);
            if (i > 0 && values[i] <= values[i - 1])
                throw Invalid($"{name} must be ascending without repeats; {values[i]} follows {values[i - 1]}.", name);
        }
    }

    private static void Require(bool ok, string name, object value, string rule)
    {
        if (!ok) throw Invalid($"{name} is {value}; it must be {rule}.", name);
    }

    // an option's name (--max-steps) is not a parameter name: the message alone, without " (Parameter '--max-steps')"
    private static ArgumentException Invalid(string message, string name) =>
        name.StartsWith('-') ? new ArgumentException(message) : new ArgumentException(message, name);
}
