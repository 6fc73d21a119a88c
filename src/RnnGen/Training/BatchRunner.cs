using System.Numerics;
using System.Numerics.Tensors;

namespace RnnGen;

/// <summary>What one window of a batch produced, summed over its lanes (in lane order).</summary>
/// <param name="LossSum">Σ over lanes of (mean loss × counted): the loss summed over everything counted.</param>
/// <param name="Counted">Counted steps (cross-entropy) or target elements (dense losses) in the window.</param>
/// <param name="Correct">Counted steps whose arg-max is the label (cross-entropy only).</param>
/// <param name="Tokens">Input steps run in the window.</param>
internal readonly record struct WindowResult(double LossSum, long Counted, long Correct, long Tokens);

/// <summary>
/// The machinery under <see cref="SequenceTrainer{TModel, T}"/>: runs the windows of a batch of sequences (the lanes) on a
/// <see cref="WorkerTeam"/>, each worker with its own model replica, tape and buffers, and sums the gradients into the master
/// model's <c>Gradients</c> in a fixed order (the first group of every window runs on the master itself). Everything is allocated in the constructor; a window allocates nothing. The
/// trainer keeps a runner from one call to the next; only the worker threads live for one call (<see cref="StartWorkers"/>).
/// </summary>
/// <remarks>
/// <para>Lockstep groups: the active lanes of a window are cut into groups of consecutive lanes with the same number of steps
/// (at most <see cref="LaneGroups.MaxLanes"/> each, sizes as equal as possible, an even number of groups when there are two lanes or
/// more so that two workers share the work evenly). A group runs as one lane <c>Forward</c>/<c>Backward</c> of the model, so
/// every weight read per step serves all of its lanes.</para>
/// <para>Determinism: the groups depend only on the batch, not on the workers; a group's gradient is computed alone, in a
/// cleared buffer (group 0's in the master's own, which is where it would be added), by identical code on identical
/// parameters; group gradients are then added in group order (a group finished before its turn is parked in its worker's
/// pending buffer). The result is therefore the same bits for any number of workers.</para>
/// <para>Truncated BPTT: every window's <c>Backward</c> starts from a zero state gradient (the gradient is cut at the
/// window's start); the forward state of each lane lives in <see cref="_states"/> and is carried to the next window unless
/// the options say otherwise.</para>
/// </remarks>
internal sealed class BatchRunner<TModel, T>
    where TModel : class, IRecurrentModel<TModel, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly TModel _master;
    private readonly ModelInfo _info;
    private readonly SequenceLoss _loss;
    private readonly bool _carryState;
    private readonly int _window;
    private readonly int _width;
    private readonly int _workers;


    // per worker
    private readonly TModel[] _replicas;
    private readonly RecurrentTape[] _tapes;
    private readonly T[][] _outputs;          // lane-major, group lanes × window × OutputWidth
    private readonly T[][] _outputGradients;
    private readonly int[][] _groupTokens;     // lane-major inputs of the group at hand (token models)
    private readonly T[][] _groupInputs;       // … (dense models)
    private readonly RecurrentState<T>[][] _groupStates;
    private readonly int[] _replicaVersion;
    private int _parameterVersion;
    private int _masterVersion = -1;          // the parameter version the master's packed weights were refreshed for

    // per lane (lane = position in the batch)
    private readonly RecurrentState<T>[] _states;
    private readonly TrainingSequence<T>[] _sequences;
    private readonly int[] _steps;
    private int _laneCount;

    // per active lane of the current window, in lane order
    private readonly int[] _activeLane;
    private readonly int[] _activeSteps;
    private readonly int[] _activeCounted;
    private readonly double[] _lossSum;
    private readonly int[] _correct;
    private int _activeCount;

    // per group of the current window (index g = the group's turn in the gradient sum): active lanes [start, start + count)
    private readonly int[] _groupStart;
    private readonly int[] _groupCount;
    private readonly long[] _groupCounted;
    private int _groupTotal;
    private int _windowStart;
    private bool _training;
    private long _totalCounted;

    private int _nextGroup;        // next group to claim (Interlocked)
    // Group-ordered summation. _turn is the next group to add to the master's gradients; only the worker whose group it
    // is adds (then it drains the following groups that were deposited). A worker that finishes a group before its turn
    // deposits the group's gradient in its pending buffer and goes on with another group; it waits only if it finishes a
    // second group while the first is still pending.
    private readonly object _turnGate = new();
    private readonly T[][] _pending;             // per worker: a finished group's gradient waiting for its turn
    private readonly int[] _pendingOfWorker;     // per worker: the group in its pending buffer, or −1
    private readonly int[] _depositedBy;         // per group: the worker holding it in its pending buffer, or −1
    private int _turn;
    private bool _faulted;

    /// <summary>Tests only: called with a group's index just before its gradient is handed over (a delay there forces the
    /// order in which the groups arrive, and so which of the paths below runs).</summary>
    internal Action<int>? BeforeHandOver { get; set; }

    /// <summary>Tests only: gradients deposited because their turn had not come, and waits of a worker whose deposit had
    /// not been taken yet.</summary>
    internal int Deposits, Waits;

    /// <summary>Tests only: the group whose gradient is added next (read while the workers run).</summary>
    internal int Turn => Volatile.Read(ref _turn);

    private WorkerTeam? _team;     // the worker threads, between StartWorkers and the disposal of what it returns

    // The layer pipeline: a window of one lane run on a CoreTeam of two, the layers below a split layer on one core and the
    // rest on the other, each stepping its own parameters (or both roles on the caller). Set up by UsePipeline; its team lives as the
    // workers do.
    private LayerPipeline<TModel, T>? _pipeline;
    private CoreTeam? _pipelineTeam;
    private CoreTeam? _lastPipelineTeam; // the last call's (disposed: no threads), whose choice the next one continues
    private int _pipelineVersion = -1;
    private int[] _pipelineLabels = [];

    /// <summary>Creates replicas and buffers for <paramref name="workers"/> workers, <paramref name="lanes"/> lanes and windows of
    /// up to <paramref name="window"/> steps.</summary>
    public BatchRunner(TModel master, SequenceLoss loss, bool carryState, int window, int lanes, int workers)
    {
        _master = master;
        _info = TModel.Info;
        _loss = loss;
        _carryState = carryState;
        _window = window;
        _width = _info.OutputWidth;

        int groupLanes = Math.Min(lanes, LaneGroups.MaxLanes);
        // a worker's outputs and inputs for a window: refused as the tape refuses its own (maxSteps), not by an overflow
        long widest = (long)groupLanes * window * Math.Max(_width, _info.Tokens ? 1 : _info.InputSize);
        if (widest > Array.MaxLength)
            throw new ArgumentOutOfRangeException("maxSteps", window,
                $"A window of {window} steps × {groupLanes} lanes needs arrays of {widest} values for its outputs or inputs; an array holds at most {Array.MaxLength}.");
        _replicas = new TModel[workers];
        _tapes = new RecurrentTape[workers];
        _outputs = new T[workers][];
        _outputGradients = new T[workers][];
        _replicaVersion = new int[workers];
        _pending = new T[workers][];
        _pendingOfWorker = new int[workers];
        _groupTokens = new int[workers][];
        _groupInputs = new T[workers][];
        _groupStates = new RecurrentState<T>[workers][];
        for (int w = 0; w < workers; w++)
        {
            _pending[w] = workers > 1 ? new T[master.Parameters.Length] : []; // a lone worker always has the turn
            _replicas[w] = TModel.Create();
            _tapes[w] = _replicas[w].CreateTape(window, groupLanes);
            _outputs[w] = new T[checked(groupLanes * window * _width)];
            _outputGradients[w] = new T[checked(groupLanes * window * _width)];
            _groupTokens[w] = _info.Tokens ? new int[checked(groupLanes * window)] : [];
            _groupInputs[w] = _info.Tokens ? [] : new T[checked(groupLanes * window * _info.InputSize)];
            _groupStates[w] = new RecurrentState<T>[groupLanes];
            _replicaVersion[w] = -1;
        }

        _states = new RecurrentState<T>[lanes];
        for (int b = 0; b < lanes; b++) _states[b] = master.CreateState();
        _sequences = new TrainingSequence<T>[lanes];
        _steps = new int[lanes];
        _activeLane = new int[lanes];
        _activeSteps = new int[lanes];
        _activeCounted = new int[lanes];
        _lossSum = new double[lanes];
        _correct = new int[lanes];
        _depositedBy = new int[lanes];
        _groupStart = new int[lanes];
        _groupCount = new int[lanes];
        _groupCounted = new long[lanes];

        _workers = workers;
    }

    /// <summary>Window length, lanes and workers this runner was made for.</summary>
    public bool Fits(int window, int lanes, int workers) => window == _window && lanes == _states.Length && workers == _workers;

    /// <summary>
    /// Starts the worker threads for one call of the trainer (a runner outlives its threads, so that an idle trainer holds
    /// none); disposing the result stops and joins them. Every replica copies the master's parameters before its next window
    /// (they may have changed since the last call). Not reentrant.
    /// </summary>
    public IDisposable StartWorkers()
    {
        if (_team is not null) throw new InvalidOperationException("The workers are already running.");
        ParametersUpdated();
        _team = new WorkerTeam(_workers, Work);
        if (_pipeline is not null && _pipelineTwoCores)
        {
            _pipelineTeam = new CoreTeam(2); // adaptive: alone (the same bits) while that is faster
            _pipelineTeam.ContinueFrom(_lastPipelineTeam); // with the last call's choice and place in its probe interval
        }
        return new Workers(this);
    }

    /// <summary>Runs windows of one lane as a layer pipeline (<see cref="RunWindowPipelined"/>), on two cores or on the caller alone.</summary>
    internal void UsePipeline(bool twoCores)
    {
        _pipeline ??= new LayerPipeline<TModel, T>(_master, _window);
        _pipelineLabels = new int[_window];
        _pipelineTwoCores = twoCores;
    }

    private bool _pipelineTwoCores;

    /// <summary>Whether windows run as a layer pipeline.</summary>
    internal bool Pipelined => _pipeline is not null;

    /// <summary>
    /// Window <paramref name="index"/> of the current batch, of one lane, as a layer pipeline: forward, loss and backward,
    /// then, if <paramref name="decide"/> says so, the optimizer's step, each core its own parameters. The master's
    /// gradients hold the window's on return (clamped by <paramref name="clamp"/>, if given, where a step was taken or the
    /// norm was not finite); its parameters are stepped (and
    /// <paramref name="parametersFinite"/> says whether they are all finite, as each core checked its own); its own
    /// packed copy is left stale (<see cref="RefreshMaster"/> after <see cref="ParametersUpdated"/>).
    /// </summary>
    internal WindowResult RunWindowPipelined(int index, Optimizer<T> optimizer, Func<T, T, T, (bool, GradientTransform<T>)> decide, T? clamp, out bool stepped, out bool parametersFinite)
    {
        LayerPipeline<TModel, T> pipeline = _pipeline!;
        _windowStart = index * _window;
        int sequenceSteps = _steps[0], steps = Math.Min(_window, sequenceSteps - _windowStart);
        _activeCount = 1; // lane 0 ran (for ResetNonFiniteStates after a skipped step)
        _activeLane[0] = 0;
        ref readonly TrainingSequence<T> s = ref _sequences[0];
        if (index == 0 || !_carryState) _states[0].Reset();
        int counted = CountTargets(s, sequenceSteps, _windowStart, steps);
        // the sequence's targets sit at its end: the labels of the window's steps (−1 before them), or the dense targets
        // of its steps from the first that has one
        int targetSteps = s.TargetStepCount(_width), targetFirst = sequenceSteps - targetSteps;
        WindowTargets<T> targets;
        if (_loss == SequenceLoss.SoftmaxCrossEntropy)
        {
            Span<int> labels = _pipelineLabels.AsSpan(0, steps);
            for (int t = 0; t < steps; t++)
            {
                int step = _windowStart + t;
                labels[t] = step >= targetFirst ? s.Labels.Span[step - targetFirst] : Losses.IgnoreTarget;
            }
            targets = WindowTargets<T>.Classes(labels);
        }
        else
        {
            int from = Math.Clamp(targetFirst - _windowStart, 0, steps);
            ReadOnlySpan<T> values = from < steps ? s.Targets.Span.Slice((_windowStart + from - targetFirst) * _width, (steps - from) * _width) : default;
            targets = WindowTargets<T>.Dense(_loss, values, from);
        }
        if (_pipelineVersion != _parameterVersion)                      // parameters changed elsewhere since its last step
        {
            pipeline.Pack();
            _pipelineVersion = _parameterVersion;
        }
        pipeline.ClearGradientsFirst = true;   // each core clears its own share, where it will write it
        pipeline.Decide = decide;
        pipeline.ClampBeforeNorm = clamp;
        pipeline.LoadState(_states[0]);
        Optimizer<T>? stepper = counted > 0 ? optimizer : null; // a window without a target only advances the state
        T loss = _info.Tokens
            ? pipeline.Run(_pipelineTeam, s.Tokens.Span.Slice(_windowStart, steps), targets, true, stepper, GradientTransform<T>.None)
            : pipeline.Run(_pipelineTeam, s.Inputs.Span.Slice(_windowStart * _info.InputSize, steps * _info.InputSize), targets, true, stepper, GradientTransform<T>.None);
        pipeline.SaveState(_states[0]);
        stepped = pipeline.Stepped;
        parametersFinite = !stepped || pipeline.ParametersFinite;
        if (stepped)
        {
            ParametersUpdated();
            _pipelineVersion = _parameterVersion; // its copies hold the new parameters already
        }
        return new WindowResult(double.CreateTruncating(loss) * counted, counted, pipeline.Correct, steps);
    }

    private sealed class Workers(BatchRunner<TModel, T> runner) : IDisposable
    {
        public void Dispose()
        {
            runner._team?.Dispose();
            runner._team = null;
            runner._pipelineTeam?.Dispose();
            runner._lastPipelineTeam = runner._pipelineTeam ?? runner._lastPipelineTeam;
            runner._pipelineTeam = null;
            Array.Clear(runner._sequences); // do not keep the caller's data alive between calls
        }
    }

    /// <summary>Lanes available (the largest batch).</summary>
    public int LaneCapacity => _states.Length;

    /// <summary>Call after the master's parameters changed: every replica copies them before its next window.</summary>
    public void ParametersUpdated() => _parameterVersion++;

    /// <summary>
    /// Refreshes the master's own packed weights (<c>ParametersChanged</c>) if its parameters changed since the last refresh:
    /// before the caller's code can run the master, and before a window that runs on the master itself.
    /// </summary>
    public void RefreshMaster()
    {
        if (_masterVersion == _parameterVersion) return;
        _master.ParametersChanged();
        _masterVersion = _parameterVersion;
    }

    /// <summary>Loads a batch: lane b gets <c>data[indices[b]]</c>. Returns the number of windows of the batch.</summary>
    public int BeginBatch(ISequenceDataset<T> data, ReadOnlySpan<int> indices)
    {
        _laneCount = indices.Length;
        int longest = 0;
        for (int b = 0; b < indices.Length; b++)
        {
            _sequences[b] = data[indices[b]];
            _steps[b] = _sequences[b].StepCount(_info.InputSize);
            longest = Math.Max(longest, _steps[b]);
        }
        return WindowCount(longest, _window);
    }

    /// <summary>Windows needed for <paramref name="steps"/> steps.</summary>
    public static int WindowCount(int steps, int window) => (steps + window - 1) / window;

    /// <summary>
    /// Runs window number <paramref name="index"/> of the current batch on every lane that still has steps. When
    /// <paramref name="training"/>, the master's <c>Gradients</c> are overwritten with d(mean loss of the window)/dParameters.
    /// </summary>
    public WindowResult RunWindow(int index, bool training)
    {
        _windowStart = index * _window;
        _training = training;
        _activeCount = 0;
        _totalCounted = 0;
        long tokens = 0;
        bool reset = index == 0 || !_carryState;
        for (int b = 0; b < _laneCount; b++)
        {
            int remaining = _steps[b] - _windowStart;
            if (remaining <= 0) continue;
            int i = _activeCount++;
            int steps = Math.Min(_window, remaining);
            _activeLane[i] = b;
            _activeSteps[i] = steps;
            _activeCounted[i] = CountTargets(_sequences[b], _steps[b], _windowStart, steps);
            _lossSum[i] = 0;
            _correct[i] = 0;
            _totalCounted += _activeCounted[i];
            tokens += steps;
            if (reset) _states[b].Reset();
        }
        FormGroups();

        if (training) _master.Gradients.Clear();
        _nextGroup = 0;
        _turn = 0;
        _faulted = false;
        Array.Fill(_pendingOfWorker, -1);
        (_team ?? throw new InvalidOperationException("StartWorkers first.")).Run();

        double lossSum = 0;
        long correct = 0;
        for (int i = 0; i < _activeCount; i++)
        {
            lossSum += _lossSum[i];
            correct += _correct[i];
        }
        return new WindowResult(lossSum, _totalCounted, correct, tokens);
    }

    /// <summary>
    /// Resets to zeros the state of every lane of the last window whose state holds NaN or ±∞ (after a skipped step, so
    /// that a lane that blew up starts over instead of poisoning the rest of its sequence). Returns how many were reset.
    /// </summary>
    public int ResetNonFiniteStates()
    {
        int reset = 0;
        for (int i = 0; i < _activeCount; i++)
        {
            RecurrentState<T> state = _states[_activeLane[i]];
            if (!Finite.All<T>(state.Values))
            {
                state.Reset();
                reset++;
            }
        }
        return reset;
    }

    /// <summary>
    /// Cuts the active lanes into lockstep groups: runs of consecutive lanes with the same number of steps, each run split
    /// into near-equal groups of at most <see cref="LaneGroups.MaxLanes"/> (an even number of them for runs of two lanes or more).
    /// Depends on the batch only, never on the workers.
    /// </summary>
    private void FormGroups()
    {
        _groupTotal = 0;
        for (int first = 0; first < _activeCount;)
        {
            int end = first + 1;
            while (end < _activeCount && _activeSteps[end] == _activeSteps[first]) end++;
            int run = end - first;
            int groups = LaneGroups.Count(run);
            for (int k = 0, start = first; k < groups; k++)
            {
                int count = LaneGroups.Size(run, groups, k);
                int g = _groupTotal++;
                _groupStart[g] = start;
                _groupCount[g] = count;
                long counted = 0;
                for (int i = start; i < start + count; i++) counted += _activeCounted[i];
                _groupCounted[g] = counted;
                _depositedBy[g] = -1;
                start += count;
            }
            first = end;
        }
    }

    /// <summary>Counted steps (labels ≠ −1) or target elements of a sequence inside the window [start, start + steps).</summary>
    private int CountTargets(in TrainingSequence<T> s, int sequenceSteps, int start, int steps)
    {
        int targetSteps = s.TargetStepCount(_width);
        int first = Math.Max(start, sequenceSteps - targetSteps);
        int end = start + steps;
        if (first >= end) return 0;
        if (!s.HasLabels) return (end - first) * _width;
        var labels = s.Labels.Span.Slice(first - (sequenceSteps - targetSteps), end - first);
        return labels.Length - labels.Count(Losses.IgnoreTarget);
    }

    /// <summary>The job of worker <paramref name="w"/>: claims groups in order until none is left.</summary>
    private void Work(int w)
    {
        TModel replica = _replicas[w];
        try
        {
            int g;
            while ((g = Interlocked.Increment(ref _nextGroup) - 1) < _groupTotal)
            {
                TModel model;
                if (g == 0)
                {
                    // the first group of the sum runs on the master itself: its gradient lands in the master's Gradients,
                    // which RunWindow has cleared — the bits of adding it there, without a replica refresh or a copy (a
                    // batch of one lane is one group: its windows never touch a replica)
                    RefreshMaster();
                    model = _master;
                }
                else
                {
                    // a worker refreshes its replica only when it has a group to run on it
                    if (_replicaVersion[w] != _parameterVersion)
                    {
                        _master.Parameters.CopyTo(replica.Parameters);
                        replica.ParametersChanged();
                        _replicaVersion[w] = _parameterVersion;
                    }
                    model = replica;
                }
                if (!RunGroup(w, model, g)) return;
            }
        }
        catch
        {
            lock (_turnGate)
            {
                _faulted = true;
                Monitor.PulseAll(_turnGate);
            }
            throw;
        }
    }

    /// <summary>Forward, loss and (when training) backward of group <paramref name="g"/> on <paramref name="model"/> (the master or the worker's replica), all its lanes in lockstep; false if another worker failed.</summary>
    private bool RunGroup(int w, TModel model, int g)
    {
        int first = _groupStart[g], lanes = _groupCount[g];
        int steps = _activeSteps[first];
        RecurrentTape tape = _tapes[w];
        RecurrentState<T>[] states = _groupStates[w];
        int[] tokens = _groupTokens[w];
        T[] inputs = _groupInputs[w];
        int inputSize = _info.InputSize, laneOutputs = steps * _width;
        for (int k = 0; k < lanes; k++)
        {
            int lane = _activeLane[first + k];
            ref readonly TrainingSequence<T> s = ref _sequences[lane];
            states[k] = _states[lane];
            if (_info.Tokens)
                s.Tokens.Span.Slice(_windowStart, steps).CopyTo(tokens.AsSpan(k * steps));
            else
                s.Inputs.Span.Slice(_windowStart * inputSize, steps * inputSize).CopyTo(inputs.AsSpan(k * steps * inputSize));
        }
        ReadOnlySpan<RecurrentState<T>> groupStates = states.AsSpan(0, lanes);
        Span<T> outputs = _outputs[w].AsSpan(0, lanes * laneOutputs);
        Span<T> gradients = _outputGradients[w].AsSpan(0, lanes * laneOutputs);
        if (_info.Tokens)
            model.Forward(tokens.AsSpan(0, lanes * steps), groupStates, tape, outputs);
        else
            model.Forward(inputs.AsSpan(0, lanes * steps * inputSize), groupStates, tape, outputs);

        for (int k = 0; k < lanes; k++)
        {
            int i = first + k, lane = _activeLane[i], counted = _activeCounted[i];
            Span<T> laneGradients = gradients.Slice(k * laneOutputs, laneOutputs);
            if (counted == 0)
            {
                laneGradients.Clear();
                continue;
            }
            _lossSum[i] = Loss(_sequences[lane], _steps[lane], steps, outputs.Slice(k * laneOutputs, laneOutputs), laneGradients, out _correct[i]) * counted;
            // The loss function's gradient is that of the lane's own mean (÷ counted); rescale it to the batch mean (÷ total).
            if (_training) TensorPrimitives.Multiply(laneGradients, T.CreateTruncating((double)counted / _totalCounted), laneGradients);
        }

        if (!_training) return true;

        if (_groupCounted[g] > 0)
        {
            if (!ReferenceEquals(model, _master)) model.Gradients.Clear();
            model.Backward(tape, gradients, default, null); // zero incoming state gradient: truncated BPTT
        }

        BeforeHandOver?.Invoke(g);
        return AddInGroupOrder(w, model, g);
    }

    /// <summary>
    /// Adds group <paramref name="i"/>'s gradient (in <paramref name="model"/>; group 0's is in the master already) to the
    /// master's gradients in its turn, then the groups after it that other workers deposited; or deposits it if its turn has
    /// not come. False if another worker failed.
    /// </summary>
    private bool AddInGroupOrder(int w, TModel model, int i)
    {
        lock (_turnGate)
        {
            while (_turn != i && _pendingOfWorker[w] >= 0 && !_faulted)
            {
                Waits++;
                Monitor.Wait(_turnGate);
            }
            if (_faulted) return false;
            if (_turn != i)
            {
                Deposits++;
                if (_groupCounted[i] > 0) model.Gradients.CopyTo(_pending[w]);
                _pendingOfWorker[w] = i;
                _depositedBy[i] = w;
                return true;
            }
        }

        // Elementwise.Add, not TensorPrimitives.Add: the latter streams long spans past the caches, and the sum is read
        // again at once (the norm, the optimizer)
        Span<T> sum = _master.Gradients;
        if (_groupCounted[i] > 0 && !ReferenceEquals(model, _master)) Elementwise.Add(sum, model.Gradients); // group 0 is there already
        for (int next = i + 1; ; next++)
        {
            int owner;
            lock (_turnGate)
            {
                owner = next < _groupTotal && !_faulted ? _depositedBy[next] : -1;
                if (owner < 0)
                {
                    _turn = next;
                    Monitor.PulseAll(_turnGate);
                    return !_faulted;
                }
            }
            if (_groupCounted[next] > 0) Elementwise.Add(sum, _pending[owner]);
            lock (_turnGate)
            {
                _depositedBy[next] = -1;
                _pendingOfWorker[owner] = -1;
                Monitor.PulseAll(_turnGate);
            }
        }
    }

    /// <summary>
    /// The lane's mean loss over the targets inside the window; writes dLoss/dOutputs into <paramref name="gradients"/>
    /// (zeros at steps without a target).
    /// </summary>
    private double Loss(in TrainingSequence<T> s, int sequenceSteps, int steps, ReadOnlySpan<T> outputs, Span<T> gradients, out int correct)
    {
        int targetSteps = s.TargetStepCount(_width);
        int targetFirst = sequenceSteps - targetSteps;
        int first = Math.Max(_windowStart, targetFirst);   // first step of the window with a target
        int local = first - _windowStart;                    // its position in the window
        int n = steps - local;                               // steps of the window with a target
        gradients.Slice(0, local * _width).Clear();
        ReadOnlySpan<T> y = outputs.Slice(local * _width, n * _width);
        Span<T> g = gradients.Slice(local * _width, n * _width);
        correct = 0;
        switch (_loss)
        {
            case SequenceLoss.SoftmaxCrossEntropy:
                T ce = Losses.SoftmaxCrossEntropy(y, s.Labels.Span.Slice(first - targetFirst, n), g, out ClassificationStats stats);
                correct = stats.Correct;
                return double.CreateTruncating(ce);
            case SequenceLoss.MeanSquaredError:
                return double.CreateTruncating(Losses.MeanSquaredError(y, s.Targets.Span.Slice((first - targetFirst) * _width, n * _width), g));
            default:
                return double.CreateTruncating(Losses.BinaryCrossEntropyWithLogits(y, s.Targets.Span.Slice((first - targetFirst) * _width, n * _width), g));
        }
    }
}

/// <summary>How the trainer cuts a run of lanes with equal steps into lockstep groups (depends on the lanes only).</summary>
internal static class LaneGroups
{
    /// <summary>The largest group: enough lanes that a weight read feeds many multiply-adds, few enough that a group's tape
    /// stays near the caches.</summary>
    public const int MaxLanes = 16;

    /// <summary>Groups for <paramref name="lanes"/> lanes: at most <see cref="MaxLanes"/> lanes each, an even number of them
    /// from two lanes on (so that two workers share a batch evenly).</summary>
    public static int Count(int lanes)
    {
        int groups = (lanes + MaxLanes - 1) / MaxLanes;
        return lanes >= 2 && groups % 2 == 1 ? groups + 1 : groups;
    }

    /// <summary>Lanes in group <paramref name="group"/> of <paramref name="groups"/>: near-equal sizes, the larger first.</summary>
    public static int Size(int lanes, int groups, int group) => lanes / groups + (group < lanes % groups ? 1 : 0);
}
