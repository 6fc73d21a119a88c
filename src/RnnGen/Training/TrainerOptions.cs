namespace RnnGen;

/// <summary>The loss that <see cref="SequenceTrainer{TModel, T}"/> minimises (the functions of <see cref="Losses"/>).</summary>
public enum SequenceLoss
{
    /// <summary>Softmax cross-entropy over the outputs as logits, with class <see cref="TrainingSequence{T}.Labels"/>
    /// (−1 = no loss at that step). The mean is taken over the counted steps. Reports accuracy, perplexity and bits per token.</summary>
    SoftmaxCrossEntropy = 0,

    /// <summary>Mean squared error against dense <see cref="TrainingSequence{T}.Targets"/>; the mean is taken over every
    /// target element (steps × OutputWidth), as PyTorch's <c>MSELoss</c>.</summary>
    MeanSquaredError = 1,

    /// <summary>Binary cross-entropy on the outputs as logits against dense <see cref="TrainingSequence{T}.Targets"/> in [0, 1];
    /// the mean is taken over every target element, as PyTorch's <c>BCEWithLogitsLoss</c>.</summary>
    BinaryCrossEntropyWithLogits = 2,
}

/// <summary>
/// What the trainer does when a step's loss or summed gradients contain NaN or ±∞. (An update that makes the parameters
/// themselves NaN or ±∞ from finite gradients is different: it is applied, and the trainer then throws an
/// <see cref="InvalidOperationException"/> under either setting, since no later step could repair them.)
/// </summary>
public enum NonFiniteHandling
{
    /// <summary>Throw a <see cref="NonFiniteStepException"/>; the parameters and the optimizer keep the values they had
    /// before that step.</summary>
    Throw = 0,

    /// <summary>Skip the step: no parameter or optimizer update, training goes on with the next window. Skipped steps are
    /// counted in <see cref="TrainingProgress.SkippedSteps"/> and <see cref="EpochSummary.SkippedSteps"/> and left out of
    /// the epoch's training loss. A lane whose recurrent state became NaN or ±∞ in the skipped window restarts from a zero
    /// state; the other lanes carry their state on as usual.</summary>
    Skip = 1,
}

/// <summary>
/// Settings of a <see cref="SequenceTrainer{TModel, T}"/>. Every property has a sensible default; the trainer checks them
/// all when it is constructed and throws an <see cref="ArgumentException"/> that says what to change. A record: a variant
/// of a set of options is <c>options with { Epochs = 5 }</c>, and two equal settings compare equal.
/// </summary>
/// <remarks>
/// <para><b>One training step</b> takes one window of <see cref="WindowLength"/> steps from each of the
/// <see cref="BatchSize"/> sequences of a batch (the <i>lanes</i>), runs <c>Forward</c> and <c>Backward</c> on them in
/// lockstep groups of up to 16 lanes (every weight read serves the whole group), sums the groups' gradients in a fixed order
/// and updates the parameters once with the optimizer.</para>
/// <para><b>The loss of a step</b> is the mean over everything counted in that window across the whole batch — the counted
/// steps for cross-entropy (labels ≠ −1), the target elements for the dense losses — exactly as PyTorch's
/// <c>CrossEntropyLoss</c> / <c>MSELoss</c> / <c>BCEWithLogitsLoss</c> with <c>reduction='mean'</c> over the flattened
/// batch. The gradients are those of that mean.</para>
/// </remarks>
public sealed record TrainerOptions
{
    /// <summary>Passes over the training data (≥ 1). Default 10.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Sequences trained side by side in one batch (≥ 1). Default 32. For a token stream made by
    /// <see cref="SequenceDataset{T}.FromTokenStream"/>, set it to the number of streams.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>
    /// Truncated-BPTT window k (≥ 1): each sequence is cut into windows of at most k steps; gradients flow back only
    /// within a window, and the parameters are updated after every window. <c>null</c> (the default) uses the length of
    /// the longest sequence, i.e. full BPTT with one update per batch, for sequences of up to 10,000 steps: a longer one
    /// without a window (usually a <see cref="SequenceDataset{T}.FromTokenStream"/> stream whose window was forgotten) is
    /// refused when training starts, with an <see cref="ArgumentException"/> that says to set this (to its length, to train
    /// on whole sequences that long on purpose). The model's tape is sized for this many steps; a window too long for a
    /// worker's tape and buffers (steps × lanes beyond the largest array) is refused the same way.
    /// </summary>
    public int? WindowLength { get; init; }

    /// <summary>
    /// Whether a lane's recurrent state is carried forward from one window to the next window of the same sequence
    /// (default <c>true</c>, the usual truncated BPTT: the state flows forward, the gradient does not flow back across the
    /// window boundary). When <c>false</c>, every window starts from a zero state, as if it were a sequence of its own.
    /// The state is always reset to zero at the start of each sequence.
    /// </summary>
    public bool CarryState { get; init; } = true;

    /// <summary>Whether the order of the training sequences is reshuffled each epoch (seeded by <see cref="Seed"/>). Default
    /// <c>true</c>.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Seed of the shuffling. The same seed, data, model parameters and options give bit-identical training, with
    /// any <see cref="WorkerCount"/>. A trainer's shuffle continues across its <c>Train</c> calls (three calls of one epoch
    /// order the sequences as one call of three); a new trainer starts again from the seed: to resume a run exactly,
    /// carry <see cref="SequenceTrainer{TModel, T}.ShuffleState"/> over. Default 0.</summary>
    public long Seed { get; init; }

    /// <summary>
    /// Threads that process the lockstep lane groups of a batch in parallel (≥ 1), each with its own model replica (parameters
    /// copied from the trained model after every update). Default <see cref="Environment.ProcessorCount"/>. The groups depend
    /// only on the batch and their gradients are summed in group order, so the result does not depend on this number. The
    /// trainer starts no more workers than a window can have groups (with sequences of one length an even number, about one
    /// per 16 lanes, and one for a batch of one; with mixed lengths up to one per lane).
    /// </summary>
    public int WorkerCount { get; init; } = Environment.ProcessorCount;

    /// <summary>The loss to minimise; it must match the targets of the data (labels or dense). Default
    /// <see cref="SequenceLoss.SoftmaxCrossEntropy"/>.</summary>
    public SequenceLoss Loss { get; init; } = SequenceLoss.SoftmaxCrossEntropy;

    /// <summary>Clip every gradient to [−v, v] before the update (<see cref="GradientClipping.ClipByValue"/>; char-rnn uses 5).
    /// <c>null</c> (default): no clipping by value. Applied before <see cref="ClipGradientNorm"/> when both are set.</summary>
    public double? ClipGradientValue { get; init; }

    /// <summary>Rescale the summed gradients to a global L2 norm of at most this value before the update
    /// (<see cref="GradientClipping.ClipByGlobalNorm"/>; finite gradients whose sum of squares overflows are measured
    /// again without overflow and clipped too). <c>null</c> (default): no clipping by norm.</summary>
    public double? ClipGradientNorm { get; init; }

    /// <summary>Sets the optimizer's learning rate before every update to
    /// <c>schedule.LearningRate(optimizer.StepCount)</c>. <c>null</c> (default): the optimizer's own rate is used as it is.</summary>
    public ILearningRateSchedule? LearningRateSchedule { get; init; }

    /// <summary>What to do with a step whose loss or gradients are not finite. Default <see cref="NonFiniteHandling.Throw"/>.</summary>
    public NonFiniteHandling NonFinite { get; init; } = NonFiniteHandling.Throw;

    /// <summary>
    /// Early stopping: stop after this many epochs (≥ 1) in a row without improvement of the monitored loss (the validation
    /// loss when validation data is given, else the epoch's training loss). <c>null</c> (default): train all
    /// <see cref="Epochs"/>. Each <c>Train</c> call counts afresh, unless the trainer has just loaded a checkpoint saved from
    /// a trainer (<see cref="TrainingCheckpoint"/>): that holds the saved run's best loss and epochs since it, and the next
    /// call continues them.
    /// </summary>
    public int? Patience { get; init; }

    /// <summary>The monitored loss must fall by more than this (≥ 0) to count as an improvement. Default 0.</summary>
    public double MinImprovement { get; init; }

    /// <summary>When training ends (all epochs or early stopping), put back the parameters of the call's best epoch (a call
    /// resumed from a checkpoint knows only its own epochs: a best before the save is in the file its <c>BestModelFound</c>
    /// handler wrote). The parameters only: the optimizer's state, its step count and the shuffle stay where training
    /// ended. Default <c>false</c> (the model keeps the parameters of the last step). Costs one copy of the parameters.</summary>
    public bool RestoreBestParameters { get; init; }

    /// <summary>Checks every setting; throws an <see cref="ArgumentException"/> naming the first bad one and the valid range.</summary>
    public void Validate()
    {
        Require(Epochs >= 1, nameof(Epochs), Epochs, "must be at least 1");
        Require(BatchSize >= 1, nameof(BatchSize), BatchSize, "must be at least 1");
        Require(WindowLength is null or >= 1, nameof(WindowLength), WindowLength, "must be at least 1 (or null for full BPTT over the longest sequence)");
        Require(WorkerCount >= 1, nameof(WorkerCount), WorkerCount, "must be at least 1");
        Require(Enum.IsDefined(Loss), nameof(Loss), Loss, "is not a SequenceLoss value");
        Require(Enum.IsDefined(NonFinite), nameof(NonFinite), NonFinite, "is not a NonFiniteHandling value");
        Require(ClipGradientValue is null || (double.IsFinite(ClipGradientValue.Value) && ClipGradientValue > 0),
            nameof(ClipGradientValue), ClipGradientValue, "must be finite and > 0 (or null for no clipping)");
        Require(ClipGradientNorm is null || (double.IsFinite(ClipGradientNorm.Value) && ClipGradientNorm > 0),
            nameof(ClipGradientNorm), ClipGradientNorm, "must be finite and > 0 (or null for no clipping)");
        Require(Patience is null or >= 1, nameof(Patience), Patience, "must be at least 1 (or null for no early stopping)");
        Require(double.IsFinite(MinImprovement) && MinImprovement >= 0, nameof(MinImprovement), MinImprovement, "must be finite and >= 0");
    }

    private static void Require(bool ok, string name, object? value, string rule)
    {
        if (!ok)
            throw new ArgumentException($"TrainerOptions.{name} is {value?.ToString() ?? "null"}; it {rule}.", name);
    }
}
