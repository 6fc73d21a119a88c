using System.Numerics;
using System.Numerics.Tensors;

namespace RnnGen;

/// <summary>What one window of a batch produced, summed over its lanes in lane order.</summary>
/// <param name="LossSum">Σ over lanes of (mean loss × counted): the loss summed over everything counted.</param>
/// <param name="Counted">Counted steps (cross-entropy) or target elements (dense losses) in the window.</param>
/// <param name="Correct">Counted steps whose arg-max is the label (cross-entropy only).</param>
/// <param name="Tokens">Input steps run in the window.</param>
internal readonly record struct WindowResult(double LossSum, long Counted, long Correct, long Tokens);

/// <summary>
/// The machinery under <see cref="SequenceTrainer{TModel, T}"/>: runs the windows of a batch of sequences (the lanes) on a
/// <see cref="WorkerTeam"/>, each worker with its own model replica, tape and buffers, and sums the lanes' gradients into
/// the master model's <c>Gradients</c> in lane order. Everything is allocated in the constructor; a window allocates nothing.
/// </summary>
/// <remarks>
/// <para>Determinism: a lane's gradient is computed alone, in a cleared replica buffer, by identical code on identical
/// parameters; lane gradients and losses are then added in lane order (a lane finished before its turn is parked in its
/// worker's pending buffer). The result is therefore the same bits for any number of workers.</para>
/// <para>Truncated BPTT: every window's <c>Backward</c> starts from a zero state gradient (the gradient is cut at the
/// window's start); the forward state of each lane lives in <see cref="_states"/> and is carried to the next window unless
/// the options say otherwise.</para>
/// </remarks>
internal sealed class BatchRunner<TModel, T> : IDisposable
    where TModel : class, IRecurrentModel<TModel, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly TModel _master;
    private readonly ModelInfo _info;
    private readonly SequenceLoss _loss;
    private readonly bool _carryState;
    private readonly int _window;
    private readonly int _width;

    // per worker
    private readonly TModel[] _replicas;
    private readonly RecurrentTape[] _tapes;
    private readonly T[][] _outputs;
    private readonly T[][] _outputGradients;
    private readonly int[] _replicaVersion;
    private int _parameterVersion;

    // per lane (lane = position in the batch)
    private readonly RecurrentState<T>[] _states;
    private readonly TrainingSequence<T>[] _sequences;
    private readonly int[] _steps;
    private int _laneCount;

    // per active lane of the current window (index i = the lane's turn in the gradient sum)
    private readonly int[] _activeLane;
    private readonly int[] _activeSteps;
    private readonly int[] _activeCounted;
    private readonly double[] _lossSum;
    private readonly int[] _correct;
    private int _activeCount;
    private int _windowStart;
    private bool _training;
    private long _totalCounted;

    private int _nextActive;       // next active lane to claim (Interlocked)
    // Lane-ordered summation. _turn is the next active lane to add to the master's gradients; only the worker whose lane it
    // is adds (then it drains the following lanes that were deposited). A worker that finishes a lane before its turn
    // deposits the lane's gradient in its pending buffer and goes on with another lane; it waits only if it finishes a
    // second lane while the first is still pending.
    private readonly object _turnGate = new();
    private readonly T[][] _pending;             // per worker: a finished lane's gradient waiting for its turn
    private readonly int[] _pendingOfWorker;     // per worker: the active lane in its pending buffer, or −1
    private readonly int[] _depositedBy;         // per active lane: the worker holding it in its pending buffer, or −1
    private int _turn;
    private bool _faulted;

    private readonly WorkerTeam _team;

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

        _replicas = new TModel[workers];
        _tapes = new RecurrentTape[workers];
        _outputs = new T[workers][];
        _outputGradients = new T[workers][];
        _replicaVersion = new int[workers];
        _pending = new T[workers][];
        _pendingOfWorker = new int[workers];
        for (int w = 0; w < workers; w++)
        {
            _pending[w] = workers > 1 ? new T[master.Parameters.Length] : []; // a lone worker always has the turn
            _replicas[w] = TModel.Create();
            _tapes[w] = _replicas[w].CreateTape(window);
            _outputs[w] = new T[checked(window * _width)];
            _outputGradients[w] = new T[checked(window * _width)];
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

        _team = new WorkerTeam(workers, Work);
    }

    /// <summary>Lanes available (the largest batch).</summary>
    public int LaneCapacity => _states.Length;

    /// <summary>Call after the master's parameters changed: every replica copies them before its next window.</summary>
    public void ParametersUpdated() => _parameterVersion++;

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
            _depositedBy[i] = -1;
            _totalCounted += _activeCounted[i];
            tokens += steps;
            if (reset) _states[b].Reset();
        }

        if (training) _master.Gradients.Clear();
        _nextActive = 0;
        _turn = 0;
        _faulted = false;
        Array.Fill(_pendingOfWorker, -1);
        _team.Run();

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

    /// <summary>The job of worker <paramref name="w"/>: claims active lanes in order until none is left.</summary>
    private void Work(int w)
    {
        TModel replica = _replicas[w];
        try
        {
            if (_replicaVersion[w] != _parameterVersion)
            {
                _master.Parameters.CopyTo(replica.Parameters);
                replica.ParametersChanged();
                _replicaVersion[w] = _parameterVersion;
            }

            int i;
            while ((i = Interlocked.Increment(ref _nextActive) - 1) < _activeCount)
            {
                if (!RunLane(w, replica, i)) return;
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

    /// <summary>Forward, loss and (when training) backward of active lane <paramref name="i"/>; false if another worker failed.</summary>
    private bool RunLane(int w, TModel replica, int i)
    {
        int lane = _activeLane[i];
        int steps = _activeSteps[i];
        int counted = _activeCounted[i];
        ref readonly TrainingSequence<T> s = ref _sequences[lane];
        RecurrentTape tape = _tapes[w];
        Span<T> outputs = _outputs[w].AsSpan(0, steps * _width);
        Span<T> gradients = _outputGradients[w].AsSpan(0, steps * _width);

        if (s.HasTokens)
            replica.Forward(s.Tokens.Span.Slice(_windowStart, steps), _states[lane], tape, outputs);
        else
            replica.Forward(s.Inputs.Span.Slice(_windowStart * _info.InputSize, steps * _info.InputSize), _states[lane], tape, outputs);

        if (counted > 0)
            _lossSum[i] = Loss(s, _steps[lane], steps, outputs, gradients, out _correct[i]) * counted;

        if (!_training) return true;

        if (counted > 0)
        {
            // The loss function's gradient is that of the lane's own mean (÷ counted); rescale it to the batch mean (÷ total).
            TensorPrimitives.Multiply(gradients, T.CreateTruncating((double)counted / _totalCounted), gradients);
            replica.Gradients.Clear();
            replica.Backward(tape, gradients, default, null); // zero incoming state gradient: truncated BPTT
        }

        return AddInLaneOrder(w, replica, i);
    }

    /// <summary>
    /// Adds active lane <paramref name="i"/>'s gradient (in <paramref name="replica"/>) to the master's gradients in its turn,
    /// then the lanes after it that other workers deposited; or deposits it if its turn has not come. False if another
    /// worker failed.
    /// </summary>
    private bool AddInLaneOrder(int w, TModel replica, int i)
    {
        lock (_turnGate)
        {
            while (_turn != i && _pendingOfWorker[w] >= 0 && !_faulted) Monitor.Wait(_turnGate);
            if (_faulted) return false;
            if (_turn != i)
            {
                if (_activeCounted[i] > 0) replica.Gradients.CopyTo(_pending[w]);
                _pendingOfWorker[w] = i;
                _depositedBy[i] = w;
                return true;
            }
        }

        Span<T> sum = _master.Gradients;
        if (_activeCounted[i] > 0) TensorPrimitives.Add(sum, replica.Gradients, sum);
        for (int next = i + 1; ; next++)
        {
            int owner;
            lock (_turnGate)
            {
                owner = next < _activeCount && !_faulted ? _depositedBy[next] : -1;
                if (owner < 0)
                {
                    _turn = next;
                    Monitor.PulseAll(_turnGate);
                    return !_faulted;
                }
            }
            if (_activeCounted[next] > 0) TensorPrimitives.Add(sum, _pending[owner], sum);
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

    /// <summary>Stops the worker threads.</summary>
    public void Dispose() => _team.Dispose();
}
