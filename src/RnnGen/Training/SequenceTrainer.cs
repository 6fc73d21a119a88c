using System.Diagnostics;
using System.Numerics;
using System.Numerics.Tensors;

namespace RnnGen;

/// <summary>Creates a <see cref="SequenceTrainer{TModel, T}"/> with the type arguments inferred from the model and the optimizer.</summary>
public static class SequenceTrainer
{
    /// <summary>Creates a trainer for <paramref name="model"/>; see <see cref="SequenceTrainer{TModel, T}"/>.</summary>
    /// <param name="model">The generated model to train (its parameters are updated in place).</param>
    /// <param name="optimizer">The optimizer, created for the model's <c>ParameterCount</c>.</param>
    /// <param name="options">Settings; <c>null</c> for the defaults.</param>
    public static SequenceTrainer<TModel, T> Create<TModel, T>(TModel model, Optimizer<T> optimizer, TrainerOptions? options = null)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
        => new(model, optimizer, options);
}

/// <summary>
/// Trains any generated model on sequences — many-to-many, many-to-one, one-to-many — with truncated backpropagation
/// through time, minibatches processed in parallel, validation, early stopping, checkpoints, progress and cancellation,
/// without a hand-written loop. Deterministic: the same seed, data, initial parameters and options give the same bits,
/// whatever the number of workers.
/// </summary>
/// <typeparam name="TModel">The generated model class.</typeparam>
/// <typeparam name="T">Its scalar type (<see cref="float"/> or <see cref="double"/>).</typeparam>
/// <remarks>
/// <para><b>What a run does.</b> Each epoch draws an order of the training sequences (seeded shuffle) and cuts it into
/// batches of <see cref="TrainerOptions.BatchSize"/> sequences. The sequences of a batch are its lanes; each lane starts from
/// a zero state and is cut into windows of <see cref="TrainerOptions.WindowLength"/> steps. For every window the lanes run
/// <c>Forward</c>, the loss and <c>Backward</c> in lockstep groups of up to 16, the groups in parallel (one model replica per
/// worker); the group gradients are summed in group order, checked for NaN/∞, clipped, and the optimizer takes one step. The lanes' states are carried into the next
/// window (<see cref="TrainerOptions.CarryState"/>), the gradient is not (truncated BPTT: every window's <c>Backward</c>
/// starts from a zero state gradient). Lanes whose sequence has ended sit out the remaining windows of the batch; a window
/// without any target across the batch only advances the states. After the epoch the validation data, if any, is evaluated
/// (<see cref="Evaluate"/>), <see cref="EpochCompleted"/> is raised, and <see cref="BestModelFound"/> when the monitored
/// loss improved; early stopping may end the run.</para>
/// <para><b>Loss normalisation.</b> The loss of a window is the mean over everything counted in it across the whole batch
/// (counted steps for cross-entropy, target elements for the dense losses) — PyTorch's <c>reduction='mean'</c> over the
/// flattened batch — and the update uses the gradient of that mean.</para>
/// <para><b>State of the model during and after a run.</b> The model given to the constructor is the master: it holds the
/// trained parameters after every update; its <c>Gradients</c> hold the last window's (clipped) gradients. Cancelling or an
/// exception leaves it with the parameters of the last completed update (never half an update) — except the one update
/// that turns finite gradients into NaN or ∞ parameters (the optimizer's settings): that update is complete, and
/// <see cref="Train"/> throws after it with the model running on those parameters, so the loss is not hidden. The first lockstep group
/// of every window runs on the master itself and the others on replicas, one per worker (a batch of one sequence is one
/// group: it never copies the parameters to a replica or its gradients back; from two sequences on there are at least
/// two). The master's own packed copy of the weights (<c>ParametersChanged</c>) is refreshed before every window and
/// before your code can run it —
/// before every progress report and event, and when <see cref="Train"/> returns or throws — not after every update.</para>
/// <para><b>One update</b> reads the summed gradients once for their norm (which is also the NaN/∞ check: the norm is
/// finite only if every gradient is) and once more in the optimizer's pass, which clips them on the way
/// (<see cref="TrainerOptions.ClipGradientValue"/>, <see cref="TrainerOptions.ClipGradientNorm"/>) with the same bits as
/// <see cref="GradientClipping"/>'s methods; then it reads the parameters once, to check that the step left them finite.</para>
/// <para><b>Memory between calls.</b> The replicas, tapes and buffers a call needs are allocated on the first call and kept
/// for the next one with the same window length, number of lanes and workers (calling <see cref="Train"/> once per epoch, or
/// <see cref="Evaluate"/> between epochs, allocates them once); they are replaced when that shape changes and freed with
/// the trainer. The worker threads live for one call. Parameters you write into the model between calls are used by the
/// next call.</para>
/// <para>One run at a time per trainer; the events and <see cref="IProgress{T}.Report"/> are called on the thread that
/// called <see cref="Train"/>.</para>
/// </remarks>
public sealed class SequenceTrainer<TModel, T>
    where TModel : class, IRecurrentModel<TModel, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ModelInfo _info;
    private int _busy;

    /// <summary>Creates a trainer; checks the options and that the optimizer fits the model.</summary>
    /// <param name="model">The generated model to train (its parameters are updated in place; initialise them first).</param>
    /// <param name="optimizer">The optimizer, created for the model's <c>ParameterCount</c>; the trainer calls its <c>Step</c>.
    /// Its state belongs to this model: another trainer may share it only for the same model.</param>
    /// <param name="options">Settings; <c>null</c> for the defaults of <see cref="TrainerOptions"/>.</param>
    /// <exception cref="ArgumentException">An option is out of range, the optimizer was made for another parameter count, or
    /// a trainer already steps another model (still alive) with it.</exception>
    public SequenceTrainer(TModel model, Optimizer<T> optimizer, TrainerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        options ??= new TrainerOptions();
        options.Validate();
        CheckInPrecision(options.ClipGradientValue, nameof(TrainerOptions.ClipGradientValue));
        CheckInPrecision(options.ClipGradientNorm, nameof(TrainerOptions.ClipGradientNorm));
        _info = TModel.Info;
        if (optimizer.ParameterCount != model.Parameters.Length)
            throw new ArgumentException(
                $"The optimizer was created for {optimizer.ParameterCount} parameters but {typeof(TModel).Name} has {model.Parameters.Length}; create it with {typeof(TModel).Name}.ParameterCount.",
                nameof(optimizer));
        optimizer.BindTo(model);
        Model = model;
        Optimizer = optimizer;
        Options = options;
        _shuffle = new SeededRandom(options.Seed);
    }

    /// <summary>The model being trained (the master copy of the parameters).</summary>
    public TModel Model { get; }

    /// <summary>The optimizer that updates <see cref="Model"/>.</summary>
    public Optimizer<T> Optimizer { get; }

    /// <summary>The settings (checked at construction).</summary>
    public TrainerOptions Options { get; }

    /// <summary>
    /// The state of the shuffle's random generator, four 64-bit words: where the order of the next epoch's sequences comes
    /// from. A trainer starts it from <see cref="TrainerOptions.Seed"/> and continues it across <see cref="Train"/> calls, so
    /// a new trainer would repeat the first epochs' orders. To resume a run exactly, save it together with the parameters
    /// and the optimizer's <see cref="Optimizer{T}.State"/> and <see cref="Optimizer{T}.StepCount"/>, and set it on the new
    /// trainer (same options) before its first <see cref="Train"/> (<see cref="TrainingCheckpoint"/> does all of this). Each
    /// read returns a new copy: writing into the array changes nothing; assign a whole array to set it.
    /// </summary>
    /// <exception cref="ArgumentException">Set to other than four words, or to four zeros (not a state of the generator).</exception>
    /// <exception cref="InvalidOperationException">Set while the trainer is running.</exception>
    [CLSCompliant(false)]
    public ulong[] ShuffleState
    {
        get
        {
            var (s0, s1, s2, s3) = _shuffle.Words;
            return [s0, s1, s2, s3];
        }
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Length != 4)
                throw new ArgumentException($"The shuffle state is four 64-bit words (ShuffleState of the trainer that ran before); got {value.Length}.", nameof(value));
            if ((value[0] | value[1] | value[2] | value[3]) == 0)
                throw new ArgumentException("The shuffle state cannot be four zeros: that is not a state of the generator (it would only ever return 0).", nameof(value));
            var state = SeededRandom.FromWords(value[0], value[1], value[2], value[3]);
            Enter();
            _shuffle = state;
            Exit();
        }
    }

    // Early stopping's state: the best monitored loss of the current (or last) Train call (NaN: none yet) and the epochs
    // since it, kept in checkpoints saved from the trainer. Each Train call starts it afresh, unless the trainer has just
    // loaded a checkpoint that holds one: then the next call continues the saved run's.
    private double _bestLoss = double.NaN;
    private int _epochsSinceBest;
    private bool _earlyStoppingLoaded;

    /// <summary>Early stopping's state, for a checkpoint: the best monitored loss so far (NaN: none) and the epochs since it.</summary>
    internal (double BestLoss, int EpochsSinceBest) EarlyStopping => (_bestLoss, _epochsSinceBest);

    /// <summary>Sets early stopping's state from a checkpoint, for the next <see cref="Train"/> to continue; for a caller
    /// inside <see cref="WhileIdle"/>.</summary>
    internal void RestoreEarlyStopping(double bestLoss, int epochsSinceBest)
    {
        _bestLoss = bestLoss;
        _epochsSinceBest = epochsSinceBest;
        _earlyStoppingLoaded = true;
    }

    /// <summary>Whether the training thread is in <see cref="EpochCompleted"/> or <see cref="BestModelFound"/> (between
    /// epochs: a checkpoint saved there resumes exactly; one saved from a progress report, halfway through an epoch, would not).</summary>
    internal bool InEpochEvents { get; private set; }

    /// <summary>Raised after every epoch, once the validation pass (if any) is done.</summary>
    public event Action<EpochSummary>? EpochCompleted;

    private volatile bool _stopRequested;

    /// <summary>
    /// Ends the running <see cref="Train"/> call after the epoch in progress, which is completed as any other (its validation,
    /// <see cref="EpochCompleted"/>, <see cref="BestModelFound"/>); <see cref="Train"/> then returns its
    /// <see cref="TrainingResult"/> with <see cref="TrainingResult.StopRequested"/> set, and
    /// <see cref="TrainerOptions.RestoreBestParameters"/> applies as at the last epoch. Called from
    /// <see cref="EpochCompleted"/>, it stops after the epoch just completed (a time budget:
    /// <c>trainer.EpochCompleted += e => { if (e.Elapsed > budget) trainer.RequestStop(); };</c>). Any thread may call it;
    /// a request made while no <see cref="Train"/> runs is dropped when the next one starts. To stop within an epoch, cancel
    /// its token instead (<see cref="Train"/> then throws).
    /// </summary>
    public void RequestStop() => _stopRequested = true;

    /// <summary>
    /// Raised after an epoch in which the monitored loss (validation loss with validation data, else the epoch's training
    /// loss) improved on the best so far by more than <see cref="TrainerOptions.MinImprovement"/>. <see cref="Model"/> holds
    /// exactly the parameters that achieved it: save it here (e.g. to a model file) to keep the best checkpoint.
    /// </summary>
    public event Action<EpochSummary>? BestModelFound;

    /// <summary>
    /// Trains <see cref="Model"/> on <paramref name="training"/> for <see cref="TrainerOptions.Epochs"/> epochs (or until
    /// early stopping), evaluating on <paramref name="validation"/> after every epoch.
    /// </summary>
    /// <param name="training">The training sequences; every one is checked against the model and the loss before anything
    /// is modified.</param>
    /// <param name="validation">Validation sequences, or null.</param>
    /// <param name="progress">Receives a <see cref="TrainingProgress"/> after every window; may be null.</param>
    /// <param name="cancellationToken">Checked before every window (training and validation): cancelling stops within one
    /// window and throws <see cref="OperationCanceledException"/>, the model keeping its last completed update.</param>
    /// <returns>The summaries of the epochs, the best epoch and how training ended.</returns>
    /// <exception cref="ArgumentException">A dataset is empty, a sequence does not fit the model or the loss (the message
    /// names the dataset and the sequence), no sequence of a dataset has a target (a label other than −1, or target
    /// values), or a window is too long for a worker's tape and buffers, or <see cref="TrainerOptions.WindowLength"/> is null
    /// and the longest sequence has more than 10,000 steps (each message says to set or lower <c>WindowLength</c>).</exception>
    /// <exception cref="NonFiniteStepException">A step's loss or gradients were NaN or infinite and
    /// <see cref="TrainerOptions.NonFinite"/> is <see cref="NonFiniteHandling.Throw"/>; that update was not applied.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="InvalidOperationException">This trainer is already running; or the model's parameters are all zero
    /// (initialize it first) or hold NaN or infinity before training (load them again or initialize the model); or an update made the parameters NaN or infinite from finite gradients (the optimizer's
    /// settings, whatever <see cref="TrainerOptions.NonFinite"/> says: the parameters are lost).</exception>
    public TrainingResult Train(ISequenceDataset<T> training, ISequenceDataset<T>? validation = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        DatasetShape trainShape = DatasetCheck.Check(training, nameof(training), _info, Options.Loss);
        DatasetShape? validationShape = validation is null ? null : DatasetCheck.Check(validation, nameof(validation), _info, Options.Loss);
        if (!Model.Parameters.ContainsAnyExcept(T.Zero))
            throw new InvalidOperationException(
                $"{typeof(TModel).Name}'s parameters are all zero (a new model): call InitializeParameters(seed) or load a model file before " +
                "training. With every weight zero, every hidden state stays zero and most gradients are exactly zero, so training cannot move the weights.");
        if (!Finite.All<T>(Model.Parameters))
            throw new InvalidOperationException(
                $"{typeof(TModel).Name}'s parameters hold NaN or infinity before training: load them again from a sound model file, or call " +
                "InitializeParameters(seed). (A model file may store such values; training cannot repair them.)");
        string longest = validationShape is { } vs && vs.MaxSteps > trainShape.MaxSteps ? "validation" : "training";
        int window = WindowFor(Math.Max(trainShape.MaxSteps, validationShape?.MaxSteps ?? 0), longest);
        // room for a batch of either set (validation runs in the batches Evaluate uses, so its loss has Evaluate's bits), and
        // the layer pipeline chosen by the training batch alone: the validation set never changes how training runs
        int lanes = Math.Min(Options.BatchSize, Math.Max(trainShape.Count, validationShape?.Count ?? 0));
        int trainingLanes = Math.Min(Options.BatchSize, trainShape.Count);

        Enter();
        try
        {
            _stopRequested = false; // a request belongs to the call it was made in
            var runner = Runner(window, lanes, Uniform(trainShape) && (validationShape is not { } v || (Uniform(v) && v.MaxSteps == trainShape.MaxSteps)), longest,
                pipelined: CanPipeline(trainingLanes));
            using var workers = runner.StartWorkers();
            var run = new Run(this, runner, training, trainShape, validation, progress, cancellationToken, window);
            return run.Execute();
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Evaluates <see cref="Model"/> on <paramref name="data"/> without changing it: the sequences are run in order, in
    /// batches and windows as in training (state carried as <see cref="TrainerOptions.CarryState"/> says), and the loss is
    /// averaged over everything counted in the whole dataset.
    /// </summary>
    /// <param name="data">The sequences; checked against the model and the loss first.</param>
    /// <param name="cancellationToken">Checked before every window.</param>
    /// <returns>Mean loss, accuracy, perplexity and bits per token (the last three for cross-entropy).</returns>
    /// <exception cref="ArgumentException">The dataset is empty, a sequence does not fit, no sequence has a target, or a
    /// window is too long for a worker's tape and buffers, or <see cref="TrainerOptions.WindowLength"/> is null and the longest
    /// sequence has more than 10,000 steps (set <see cref="TrainerOptions.WindowLength"/>).</exception>
    /// <exception cref="InvalidOperationException">This trainer is running.</exception>
    public EvaluationMetrics Evaluate(ISequenceDataset<T> data, CancellationToken cancellationToken = default)
    {
        DatasetShape shape = DatasetCheck.Check(data, nameof(data), _info, Options.Loss);
        Enter();
        try
        {
            int lanes = Math.Min(Options.BatchSize, shape.Count);
            var runner = Runner(WindowFor(shape.MaxSteps, nameof(data)), lanes, Uniform(shape), nameof(data), pipelined: CanPipeline(lanes));
            using var workers = runner.StartWorkers();
            return EvaluateWith(runner, data, shape.Count, cancellationToken);
        }
        finally
        {
            Exit();
        }
    }

    // The replicas, tapes and buffers of the last call (megabytes for a large model), kept for the next call with the same
    // window, lanes and workers: a user who calls Train once per epoch, or Evaluate between epochs, allocates them once.
    private BatchRunner<TModel, T>? _runner;

    // The shuffle's generator, made at the first Train and continued by every later one: Train(Epochs = 1) three times
    // shuffles as Train(Epochs = 3) does, instead of repeating the first epoch's order.
    private SeededRandom _shuffle;

    /// <summary>
    /// The longest sequence without <see cref="TrainerOptions.WindowLength"/> that runs as one window of full BPTT; a longer
    /// one is refused, since it is almost always a token stream (<see cref="SequenceDataset{T}.FromTokenStream"/>) whose
    /// window was forgotten: one update per pass and a tape of every step (gigabytes for a corpus of millions of tokens).
    /// Setting WindowLength to the length itself trains on whole sequences deliberately.
    /// </summary>
    internal const int FullBpttLimit = 10_000;

    // The window of a call whose longest sequence has maxSteps steps (in the dataset named `longest`): WindowLength, capped
    // by the data (a window longer than every sequence changes nothing but the size of the tapes).
    private int WindowFor(int maxSteps, string longest)
    {
        if (Options.WindowLength is { } length)
            return Math.Min(length, maxSteps);
        if (maxSteps > FullBpttLimit)
        {
            string steps = maxSteps.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
            throw new ArgumentException(
                $"TrainerOptions.WindowLength is not set, so every sequence would run as one window of full BPTT: here {steps} steps " +
                $"(the longest sequence, in {longest}), with one update per pass over it and a tape that records every step. Set " +
                $"WindowLength (char-rnn uses 50) to cut the sequences into windows, the state carried from one to the next; to train " +
                $"on whole sequences this long on purpose, set WindowLength = {maxSteps}. (Without it, sequences of up to " +
                $"{FullBpttLimit.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} steps run whole.)", longest);
        }
        return maxSteps;
    }

    // Whether every sequence has the same length: then every window's lanes have equal steps and form LaneGroups.Count groups.
    private static bool Uniform(DatasetShape shape) => shape.TotalSteps == (long)shape.Count * shape.MaxSteps;

    private BatchRunner<TModel, T> Runner(int window, int lanes, bool uniform, string longest, bool pipelined)
    {
        // no more workers than a window can have groups: with sequences of one length, LaneGroups.Count of the lanes (50
        // lanes: 4); with mixed lengths, up to one per lane (each run of equal lengths is grouped on its own)
        int workers = Math.Min(Options.WorkerCount, uniform ? LaneGroups.Count(lanes) : lanes);
        if (_runner is null || !_runner.Fits(window, lanes, workers) || _runner.Pipelined != pipelined)
        {
            _runner = null; // let the old one go before allocating the new one
            try
            {
                _runner = new BatchRunner<TModel, T>(Model, Options.Loss, Options.CarryState, window, lanes, workers);
                if (pipelined) _runner.UsePipeline(twoCores: Options.WorkerCount >= 2);
            }
            catch (ArgumentOutOfRangeException e) when (e.ParamName is "maxSteps")
            {
                // a window too long for a worker's arrays (its tape, outputs or inputs): say which option cuts it
                int groupLanes = Math.Min(lanes, LaneGroups.MaxLanes);
                string steps = window.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
                throw new ArgumentException(Options.WindowLength is null
                    ? $"TrainerOptions.WindowLength is not set, so every sequence runs as one window of BPTT: here {steps} steps (the longest sequence, in {longest}) × {groupLanes} lanes per lockstep group, more than the largest array holds. Set WindowLength (char-rnn uses 50) to cut the sequences into windows, the state carried from one to the next. ({e.Message})"
                    : $"A window of {steps} steps × {groupLanes} lanes per lockstep group needs more than the largest array holds: lower TrainerOptions.WindowLength{(groupLanes < LaneGroups.MaxLanes ? " or BatchSize" : "")}. ({e.Message})",
                    longest, e);
            }
        }
        _runner.BeforeHandOver = BeforeHandOver;
        return _runner;
    }

    /// <summary>
    /// Whether windows of <paramref name="lanes"/> lanes run as a layer pipeline (docs/training.md, "Batch 1 on two cores"):
    /// one lane, a model of two layers or more that exposes its cell, and an optimizer that steps ranges of the parameters
    /// (any of the losses). With one worker the calling thread runs both of its roles: the same bits as on two, so that the
    /// worker count never changes the numbers.
    /// </summary>
    private bool CanPipeline(int lanes)
    {
        if (lanes != 1 || _info.LayerCount < 2 || !UsePipeline)
            return false;
        try { _ = TModel.CellRecordSize; }
        catch (NotSupportedException) { return false; }
        return Optimizer.StepRange(Model.Parameters, Model.Gradients, GradientTransform<T>.None, 0, 0, 1, out _);
    }

    /// <summary>Tests: whether a window of one lane may run as a layer pipeline (to compare with the model's own passes).</summary>
    internal bool UsePipeline { get; set; } = true;

    /// <summary>Tests only: passed to the runner (<see cref="BatchRunner{TModel, T}.BeforeHandOver"/>).</summary>
    internal Action<int>? BeforeHandOver { get; set; }

    /// <summary>Tests only: the runner of the last call.</summary>
    internal BatchRunner<TModel, T>? LastRunner => _runner;

    // A clipping limit is applied in T: one that T rounds to 0 (below float's smallest subnormal) would zero every gradient,
    // one it rounds to ∞ would never clip.
    private static void CheckInPrecision(double? limit, string name)
    {
        if (limit is double value && !(T.CreateTruncating(value) is var rounded && T.IsFinite(rounded) && rounded > T.Zero))
            throw new ArgumentException(
                $"TrainerOptions.{name} is {value}, which is {(value < 1 ? "0" : "∞")} in the model's precision ({typeof(T).Name}); choose a limit that {typeof(T).Name} can hold.",
                name);
    }

    private void Enter(string? busyMessage = null)
    {
        if (Interlocked.Exchange(ref _busy, 1) != 0)
            throw new InvalidOperationException(busyMessage ?? "This trainer is already running; a trainer runs one Train or Evaluate at a time.");
        Volatile.Write(ref _runningThread, Environment.CurrentManagedThreadId);
    }

    private void Exit()
    {
        Volatile.Write(ref _runningThread, 0);
        Volatile.Write(ref _busy, 0);
    }

    private int _runningThread; // the managed thread that runs the current call (its events run there too), or 0

    /// <summary>Sets the shuffle's generator; for a caller inside <see cref="WhileIdle"/>.</summary>
    internal void RestoreShuffle(SeededRandom state) => _shuffle = state;

    /// <summary>Whether a call runs now on the caller's thread (the caller is one of its events, between updates).</summary>
    internal bool RunningOnThisThread => Volatile.Read(ref _runningThread) == Environment.CurrentManagedThreadId;

    /// <summary>
    /// Runs <paramref name="action"/> while no <see cref="Train"/> or <see cref="Evaluate"/> can start (checkpoints); throws
    /// <see cref="InvalidOperationException"/> (with <paramref name="busyMessage"/>, if given) when one is running.
    /// </summary>
    internal TResult WhileIdle<TResult>(Func<TResult> action, string? busyMessage = null)
    {
        Enter(busyMessage);
        try
        {
            return action();
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Runs the sequences of <paramref name="data"/> in order and sums their metrics (deterministic order).</summary>
    private EvaluationMetrics EvaluateWith(BatchRunner<TModel, T> runner, ISequenceDataset<T> data, int count, CancellationToken cancellationToken)
    {
        var indices = new int[runner.LaneCapacity];
        double lossSum = 0;
        long counted = 0, correct = 0, tokens = 0;
        for (int first = 0; first < count; first += runner.LaneCapacity)
        {
            int lanes = Math.Min(runner.LaneCapacity, count - first);
            for (int b = 0; b < lanes; b++) indices[b] = first + b;
            int windows = runner.BeginBatch(data, indices.AsSpan(0, lanes));
            for (int w = 0; w < windows; w++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                WindowResult r = runner.RunWindow(w, training: false);
                lossSum += r.LossSum;
                counted += r.Counted;
                correct += r.Correct;
                tokens += r.Tokens;
            }
        }
        return Metrics(lossSum, counted, correct, tokens);
    }

    private EvaluationMetrics Metrics(double lossSum, long counted, long correct, long tokens) =>
        new(counted > 0 ? lossSum / counted : double.NaN, counted,
            Options.Loss == SequenceLoss.SoftmaxCrossEntropy ? (counted > 0 ? (double)correct / counted : 0.0) : null,
            tokens);

    /// <summary>The state of one <see cref="Train"/> call.</summary>
    private sealed class Run
    {
        private readonly SequenceTrainer<TModel, T> _trainer;
        private readonly TrainerOptions _options;
        private readonly BatchRunner<TModel, T> _runner;
        private readonly ISequenceDataset<T> _training;
        private readonly ISequenceDataset<T>? _validation;
        private readonly IProgress<TrainingProgress>? _progress;
        private readonly CancellationToken _cancellationToken;
        private readonly int _window;
        private readonly int[] _order;
        private readonly T[]? _bestParameters;
        private readonly Stopwatch _clock = Stopwatch.StartNew();      // the whole run
        private readonly Stopwatch _trainingClock = new();              // training windows only (for the token rate)

        private long _steps, _skipped, _tokens;
        private readonly long _plannedTokens;

        // the epoch being trained
        private int _epoch, _windowInEpoch, _windowsInEpoch;
        private long _epochSteps, _epochSkipped;
        private double _epochLossSum;
        private long _epochCounted, _epochCorrect, _epochTokens;

        public Run(SequenceTrainer<TModel, T> trainer, BatchRunner<TModel, T> runner, ISequenceDataset<T> training, DatasetShape shape,
            ISequenceDataset<T>? validation, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken, int window)
        {
            _trainer = trainer;
            _options = trainer.Options;
            _runner = runner;
            _training = training;
            _validation = validation;
            _progress = progress;
            _cancellationToken = cancellationToken;
            _window = window;
            _order = new int[shape.Count];
            _bestParameters = _options.RestoreBestParameters ? new T[trainer.Model.Parameters.Length] : null;
            _plannedTokens = shape.TotalSteps * _options.Epochs;
        }

        public TrainingResult Execute()
        {
            try
            {
                return TrainEpochs();
            }
            finally
            {
                RefreshModel(); // also after an exception or a cancellation: the model is left ready to run
            }
        }

        private TrainingResult TrainEpochs()
        {
            var epochs = new List<EpochSummary>(Math.Min(_options.Epochs, 1024)); // Epochs may be "until cancelled" (int.MaxValue)
            // early stopping starts afresh, or continues the run of the checkpoint the trainer has just loaded
            if (!_trainer._earlyStoppingLoaded)
                (_trainer._bestLoss, _trainer._epochsSinceBest) = (double.NaN, 0);
            _trainer._earlyStoppingLoaded = false;
            double best = _trainer._bestLoss;
            int bestEpoch = 0, sinceBest = _trainer._epochsSinceBest;
            // a checkpoint saved in the epoch where its run stopped: the run is over, as it was for the run that saved it
            bool stoppedEarly = _options.Patience is int spent && sinceBest >= spent, stopRequested = false;

            for (_epoch = 1; _epoch <= _options.Epochs && !stoppedEarly; _epoch++)
            {
                TrainEpoch();
                EvaluationMetrics trainingMetrics = _trainer.Metrics(_epochLossSum, _epochCounted, _epochCorrect, _epochTokens);
                EvaluationMetrics? validationMetrics = _validation is null
                    ? null
                    : _trainer.EvaluateWith(_runner, _validation, _validation.Count, _cancellationToken);

                double monitored = validationMetrics?.Loss ?? trainingMetrics.Loss;
                bool isBest = double.IsFinite(monitored) && (double.IsNaN(best) || monitored < best - _options.MinImprovement);
                var summary = new EpochSummary(_epoch, trainingMetrics, validationMetrics, _epochSteps, _epochSkipped,
                    _trainer.Optimizer.LearningRate, _clock.Elapsed, isBest);
                epochs.Add(summary);

                if (isBest)
                {
                    best = monitored;
                    bestEpoch = _epoch;
                    sinceBest = 0;
                    if (_bestParameters is not null) _trainer.Model.Parameters.CopyTo(_bestParameters);
                }
                else
                {
                    sinceBest++;
                }
                _trainer._bestLoss = best;
                _trainer._epochsSinceBest = sinceBest;

                RefreshModel();
                if (_trainer.EpochCompleted is not null || (isBest && _trainer.BestModelFound is not null))
                {
                    _trainer.InEpochEvents = true;
                    try
                    {
                        _trainer.EpochCompleted?.Invoke(summary);
                        if (isBest) _trainer.BestModelFound?.Invoke(summary);
                    }
                    finally
                    {
                        _trainer.InEpochEvents = false;
                    }
                    _runner.ParametersUpdated(); // a handler may have written the parameters: the replicas copy them again
                }

                if (_options.Patience is int patience && sinceBest >= patience && _epoch < _options.Epochs)
                {
                    stoppedEarly = true;
                    break;
                }
                if (_trainer._stopRequested && _epoch < _options.Epochs)
                {
                    stopRequested = true;
                    break;
                }
            }

            bool restored = false;
            // the best epoch's parameters of this call, unless the model holds them already (the last epoch was the best)
            if (_bestParameters is not null && bestEpoch != 0 && bestEpoch != epochs.Count)
            {
                _bestParameters.CopyTo(_trainer.Model.Parameters);
                _runner.ParametersUpdated();
                _runner.RefreshMaster();
                restored = true;
            }

            return new TrainingResult(epochs.AsReadOnly(), bestEpoch, best, stoppedEarly, restored, _steps, _skipped, _clock.Elapsed) { StopRequested = stopRequested };
        }

        private void TrainEpoch()
        {
            // before the epoch's shuffle: a call cancelled between epochs (from EpochCompleted) leaves the generator where the
            // uninterrupted run has it, so the next call trains in that run's order
            _cancellationToken.ThrowIfCancellationRequested();
            for (int i = 0; i < _order.Length; i++) _order[i] = i;
            if (_options.Shuffle) _trainer._shuffle.Shuffle<int>(_order); // the trainer's generator: it continues across calls

            int lanes = Math.Min(_options.BatchSize, _order.Length);
            _windowsInEpoch = 0;
            for (int first = 0; first < _order.Length; first += lanes)
            {
                int longest = 0;
                for (int b = first; b < Math.Min(first + lanes, _order.Length); b++)
                    longest = Math.Max(longest, _training[_order[b]].StepCount(_trainer._info.InputSize));
                _windowsInEpoch += BatchRunner<TModel, T>.WindowCount(longest, _window);
            }

            _trainingClock.Start();
            _windowInEpoch = 0;
            _epochSteps = _epochSkipped = 0;
            _epochLossSum = 0;
            _epochCounted = _epochCorrect = _epochTokens = 0;

            for (int first = 0; first < _order.Length; first += lanes)
            {
                int windows = _runner.BeginBatch(_training, _order.AsSpan(first, Math.Min(lanes, _order.Length - first)));
                for (int w = 0; w < windows; w++)
                {
                    _cancellationToken.ThrowIfCancellationRequested();
                    TrainWindow(w);
                }
            }
            _trainingClock.Stop();
        }

        private void TrainWindow(int index)
        {
            _windowInEpoch++;
            if (_runner.Pipelined)
            {
                TrainWindowPipelined(index);
                return;
            }
            WindowResult r = _runner.RunWindow(index, training: true);
            _tokens += r.Tokens;
            _epochTokens += r.Tokens;

            double loss = double.NaN, norm = double.NaN;
            if (r.Counted > 0)
            {
                loss = r.LossSum / r.Counted;
                if (Update(loss, out norm))
                {
                    _epochLossSum += r.LossSum;
                    _epochCounted += r.Counted;
                    _epochCorrect += r.Correct;
                }
            }
            Report(loss, norm);
        }

        // A window of one lane as a layer pipeline: the checks, clipping and schedule of Update are taken between its
        // backward and its update (DecidePipelined, on this thread), each core then stepping its own parameters.
        private void TrainWindowPipelined(int index)
        {
            T? clamp = _options.ClipGradientValue is double limit ? T.CreateTruncating(limit) : null;
            _pipelineNorm = double.NaN;
            _pipelineSkipped = false;
            WindowResult r = _runner.RunWindowPipelined(index, _trainer.Optimizer, _decide ??= DecidePipelined, clamp, out bool stepped, out bool parametersFinite);
            _tokens += r.Tokens;
            _epochTokens += r.Tokens;
            double loss = double.NaN;
            if (r.Counted > 0)
            {
                loss = r.LossSum / r.Counted;
                if (stepped)
                {
                    CountStep(loss, parametersFinite);
                    _epochLossSum += r.LossSum;
                    _epochCounted += r.Counted;
                    _epochCorrect += r.Correct;
                }
                else if (_pipelineSkipped)
                    CountSkip();
            }
            Report(loss, _pipelineNorm);
        }

        private Func<T, T, T, (bool, GradientTransform<T>)>? _decide;
        private double _pipelineNorm;
        private bool _pipelineSkipped;

        // Update's checks and schedule, between the pipeline's backward and its update (both cores wait meanwhile): the
        // gradients as computed are checked and their norm reported, as in Update; the pipeline applies the clip by value
        // as it steps, so only a clip by norm is left for the transform, scaled by the norm of the clamped gradients.
        private (bool, GradientTransform<T>) DecidePipelined(T lossValue, T gradientNorm, T clampedNorm)
        {
            Span<T> gradients = _trainer.Model.Gradients;
            if (!AcceptStep(double.CreateTruncating(lossValue), gradientNorm, gradients, out _pipelineNorm))
            {
                _pipelineSkipped = true;
                return (false, GradientTransform<T>.None);
            }
            var transform = GradientTransform<T>.None;
            if (_options.ClipGradientNorm is double maxNorm)
            {
                // a clamped norm that overflowed is measured again from the gradients: clamped first, in place, as Update does
                if (!T.IsFinite(clampedNorm) && _options.ClipGradientValue is double limit)
                    GradientTransform<T>.Clamp(T.CreateTruncating(limit)).Apply(gradients);
                if (GradientClipping.GlobalNormScale<T>(gradients, clampedNorm, T.CreateTruncating(maxNorm)) is T scale)
                    transform = transform.ThenScale(scale);
            }
            return (true, transform);
        }

        /// <summary>
        /// Whether a step with this loss and gradient norm may be taken: false to skip it (NonFinite = Skip), or throws
        /// (Throw). When it may, <paramref name="norm"/> is the norm to report and the schedule's learning rate is set.
        /// </summary>
        private bool AcceptStep(double loss, T gradientNorm, ReadOnlySpan<T> gradients, out double norm)
        {
            norm = double.NaN;
            bool lossFinite = double.IsFinite(loss);
            // a finite norm means finite gradients; only a non-finite one (which finite gradients can also give, by
            // overflow) needs the element-by-element check
            if (!lossFinite || (!T.IsFinite(gradientNorm) && !Finite.All<T>(gradients)))
            {
                if (_options.NonFinite == NonFiniteHandling.Throw)
                    throw new NonFiniteStepException(_epoch, _windowInEpoch, loss, lossFinite);
                return false;
            }
            norm = double.CreateTruncating(GradientClipping.Measured<T>(gradients, gradientNorm));
            Optimizer<T> optimizer = _trainer.Optimizer;
            if (_options.LearningRateSchedule is { } schedule)
                optimizer.LearningRate = schedule.LearningRate(optimizer.StepCount);
            return true;
        }

        /// <summary>A skipped step: counted, and lanes whose state became non-finite start over.</summary>
        private void CountSkip()
        {
            _skipped++;
            _epochSkipped++;
            _runner.ResetNonFiniteStates();
        }

        /// <summary>A step taken (its parameters already marked updated): counted, unless it made them NaN or ∞ (then throws).</summary>
        private void CountStep(double loss, bool parametersFinite)
        {
            if (!parametersFinite)
            {
                Optimizer<T> optimizer = _trainer.Optimizer;
                double? epsilon = optimizer switch { Adam<T> a => a.Epsilon, RmsProp<T> r => r.Epsilon, Adagrad<T> g => g.Epsilon, _ => null };
                string cause = epsilon is double eps && T.CreateTruncating(eps) == T.Zero // 0, or below what T holds
                    ? $"{optimizer.GetType().Name.Split('`')[0]}'s epsilon is {(eps == 0 ? "0" : $"{eps:G3}, 0 in {typeof(T).Name}")}, which divides 0 by 0 where a gradient is 0: give it a small positive epsilon"
                    : $"the learning rate {optimizer.LearningRate:G4} took the parameters beyond what {typeof(T).Name} holds: lower it, or clip the gradients (TrainerOptions.ClipGradientNorm)";
                throw new InvalidOperationException(
                    $"Epoch {_epoch}, window {_windowInEpoch}: the update made parameters NaN or infinite although the loss ({loss:G4}) and " +
                    $"the gradients were finite, so the optimizer's settings cannot work ({cause}). The parameters are lost: load them again " +
                    "from a model file or a checkpoint, or initialize the model again, and change the optimizer's settings.");
            }
            _steps++;
            _epochSteps++;
        }

        /// <summary>Checks, clips and applies the summed gradients; false if the step was skipped.</summary>
        private bool Update(double loss, out double norm)
        {
            TModel model = _trainer.Model;
            Span<T> gradients = model.Gradients;
            // one pass for the check and the norm: a NaN or ±∞ gradient makes the sum of squares NaN or ∞
            T gradientNorm = double.IsFinite(loss) ? TensorPrimitives.Norm<T>(gradients) : T.NaN;
            if (!AcceptStep(loss, gradientNorm, gradients, out norm))
            {
                CountSkip();
                return false;
            }
            // the clipping rides along with the optimizer's pass, with the bits of GradientClipping's calls
            bool finite = _trainer.Optimizer.StepChecked(model.Parameters, gradients, Clipping(gradients, gradientNorm));
            _runner.ParametersUpdated(); // also before a throw: the model is refreshed on the way out and runs on what it holds
            CountStep(loss, finite);
            return true;
        }

        /// <summary>
        /// The clipping of the options as a transform for the optimizer's pass: the same bits as
        /// <see cref="GradientClipping.ClipByValue"/> then <see cref="GradientClipping.ClipByGlobalNorm"/>.
        /// </summary>
        /// <param name="gradients">The (finite) gradients.</param>
        /// <param name="norm">Their L2 norm, as <see cref="TensorPrimitives.Norm{T}(ReadOnlySpan{T})"/> computes it.</param>
        private GradientTransform<T> Clipping(Span<T> gradients, T norm)
        {
            var transform = _options.ClipGradientValue is double limit
                ? GradientTransform<T>.Clamp(T.CreateTruncating(limit))
                : GradientTransform<T>.None;
            if (_options.ClipGradientNorm is double maxNorm)
            {
                if (transform.Clamps)
                {
                    // the norm to clip is that of the clamped gradients: clamp them first, in place
                    transform.Apply(gradients);
                    transform = GradientTransform<T>.None;
                    norm = TensorPrimitives.Norm<T>(gradients);
                }
                if (GradientClipping.GlobalNormScale<T>(gradients, norm, T.CreateTruncating(maxNorm)) is T scale)
                    transform = transform.ThenScale(scale);
            }
            return transform;
        }

        /// <summary>
        /// Refreshes the master model's packed weights (<c>ParametersChanged</c>) if updates have changed its parameters since
        /// the last refresh: before the caller's code can use it (progress, events, the end of the run). The runner refreshes
        /// it itself before every window, whose first lockstep group runs on the master.
        /// </summary>
        private void RefreshModel() => _runner.RefreshMaster();

        private void Report(double loss, double norm)
        {
            if (_progress is null) return;
            RefreshModel();
            TimeSpan elapsed = _clock.Elapsed;
            double seconds = _trainingClock.Elapsed.TotalSeconds;
            double rate = seconds > 0 ? _tokens / seconds : 0;
            long remainingTokens = Math.Max(0, _plannedTokens - _tokens);
            TimeSpan remaining = rate > 0 ? TimeSpan.FromSeconds(Math.Min(remainingTokens / rate, TimeSpan.MaxValue.TotalSeconds / 2)) : TimeSpan.Zero;
            _progress.Report(new TrainingProgress(
                _epoch, _options.Epochs, _windowInEpoch, _windowsInEpoch, _steps,
                loss, _epochCounted > 0 ? _epochLossSum / _epochCounted : double.NaN, norm,
                _trainer.Optimizer.LearningRate, _skipped, rate, elapsed, remaining,
                _plannedTokens > 0 ? Math.Min(1.0, (double)_tokens / _plannedTokens) : 1.0));
        }
    }
}
