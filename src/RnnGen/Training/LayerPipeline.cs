using System.Numerics;
using System.Runtime.CompilerServices;
using RnnGen.Kernels;

namespace RnnGen;

/// <summary>
/// What a window of the layer pipeline is trained against: class labels (−1: no loss at that step) for softmax
/// cross-entropy, or, for MSE or BCE, dense targets of the steps from <see cref="From"/> on ((steps − From) × OutputWidth
/// values: a sequence's targets sit at its end).
/// </summary>
internal readonly ref struct WindowTargets<T>
{
    public SequenceLoss Loss { get; private init; }
    public ReadOnlySpan<int> Labels { get; private init; }
    public ReadOnlySpan<T> Values { get; private init; }
    public int From { get; private init; }

    public static WindowTargets<T> Classes(ReadOnlySpan<int> labels) => new() { Loss = SequenceLoss.SoftmaxCrossEntropy, Labels = labels };

    public static WindowTargets<T> Dense(SequenceLoss loss, ReadOnlySpan<T> values, int from) => loss == SequenceLoss.SoftmaxCrossEntropy
        ? throw new ArgumentException("softmax cross-entropy takes labels.", nameof(loss))
        : new() { Loss = loss, Values = values, From = from };
}

/// <summary>
/// Batch-1 training of a stacked model (two layers or more) on a <see cref="CoreTeam"/> of two, as a layer pipeline
/// (docs/design.md, "Batch 1: the layer pipeline"; docs/training.md, "Batch 1 on two cores"). Core A runs the layers below the
/// <see cref="SplitLayer"/> and the input sums of its first <see cref="SplitRow"/> gate rows; core B its other rows, its
/// steps, the layers above and the head; the head and loss (softmax cross-entropy, MSE or BCE:
/// <see cref="WindowTargets{T}"/>) are split by steps of the window (B the last eighth). Per-step vectors cross one way through a counter
/// each (forward: A's chunk of states and input sums; backward: B's chunk of the split layer's dL/dz and its share of the
/// gradient passed down), never a meeting; every layer's input sums and the gradient passed down at the split run per
/// chunk of <see cref="Chunk"/> steps as matrix–matrix products. Each core clears, computes and measures its share of the
/// gradients, then steps and repacks the parameters it reads, so no weight moves between the cores. Alone (no team, or an
/// adaptive team in a slow phase of the machine) the calling thread runs both roles: the same bits. The sums run in
/// another order than the model's own <c>Forward</c>/<c>Backward</c>, so the results equal those to float rounding, not
/// bit for bit.
/// </summary>
internal sealed partial class LayerPipeline<TModel, T> : ITeamWork
    where TModel : class, IRecurrentModel<TModel, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Steps per chunk of the input products and of the gradient passed down.</summary>
    public const int Chunk = 4;

    private readonly TModel _model;
    private readonly ModelInfo _info;
    private readonly int _h, _g, _layers, _record, _steps, _width;
    private readonly bool _lstm, _gru;

    // Training copies of the weights, refreshed by Pack. Every layer's input sums are made per chunk of steps as one
    // matrix–matrix product (W_ih with the input biases; b_hh too for an LSTM or RNN), and its steps add W_hh·h (a GRU's
    // keeps b_hh with W_hh, for r ⊙ (W_hn·h + b_hn)); a token layer 0 adds its token's column instead.
    private readonly TransposedMatrix<T>? _embedding;     // layer 0 of a token model: W_ih0 columns + input biases
    private readonly PackedMatrix<T>?[] _ih;              // per layer: W_ih + input biases (not the split layer's, nor a token layer 0's)
    private readonly PackedMatrix<T>[] _hh;               // per layer: W_hh (+ b_hh for a GRU)
    private readonly PackedMatrix<T> _ihSplitA, _ihSplitB; // the split layer's W_ih, rows [0, SplitRow) and [SplitRow, G), + input biases
    private readonly PackedMatrix<T>? _head, _headA;      // the head: B's, and A's for its share (a product's scratch is not shared)

    // per layer: (steps + 1) records, record 0 the state going in
    private readonly T[][] _records;
    private readonly T[][] _dz;                           // per layer: steps × G, dL/d(input sums)
    private readonly T[][] _dzHidden;                     // GRU: per layer steps × G
    private readonly T[]?[] _sums;                        // per layer: its input sums, steps × G (the split layer's: A's rows, then B's)
    private readonly T[] _down, _downA;                   // steps × H: dL/dh passed down to the layer below, on B and on A
    private readonly T[] _downSplit;                      // steps × H: dL/dh of the layer below the split (B's share, then A adds its own)
    private readonly T[] _outputs, _outputGradients;
    private readonly T[][] _dhNext, _dcNext;
    private readonly T[] _gxA, _gxB, _ghA, _ghB, _dhA, _dhB;

    // the counters, each on a cache line of its own
    private readonly long[] _flags = new long[40];
    private ref long Forward => ref _flags[8];
    private ref long Backward => ref _flags[16];
    private ref long Top => ref _flags[24];         // B's forward: steps of the top layer done
    private ref long HeadA => ref _flags[32];       // A's share of the head and loss done
    private long _call;

    // the current call
    private readonly int[] _tokens;                       // the window's tokens (token models), copied in
    private readonly T[] _inputs;                         // a dense model's window, steps × InputSize
    private readonly int[] _labels;                       // the window's labels, −1 where no loss
    private readonly T[] _targets;                        // or its dense targets, steps × OutputWidth (from _targetFrom on)
    private T _loss;
    private bool _carry;

    /// <summary>A pipeline for sequences of up to <paramref name="steps"/> steps of <paramref name="model"/>.</summary>
    /// <param name="model">The model trained.</param>
    /// <param name="steps">The longest window.</param>
    /// <param name="gradientSplitRow">Tests: where core A's rows of the split layer's input gradients end (default: see
    /// <see cref="GradientSplitRow"/>); it moves work between the cores, never a value.</param>
    public LayerPipeline(TModel model, int steps, int? gradientSplitRow = null)
    {
        _model = model;
        _info = TModel.Info;
        if (_info.LayerCount < 2)
            throw new ArgumentException($"{typeof(TModel).Name} has one layer; the layer pipeline needs two or more.", nameof(model));
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        _h = _info.HiddenSize;
        _g = _info.GateCount * _h;
        _layers = _info.LayerCount;
        _record = TModel.CellRecordSize;
        _steps = steps;
        _width = _info.OutputWidth;
        _lstm = _info.Cell == CellKind.Lstm;
        _gru = _info.Cell == CellKind.Gru;
        SplitLayer = SplitByBytes(_info, _g, _h);
        SplitRow = _g / 2;
        GradientSplitRow = gradientSplitRow ?? (_layers == 2 ? _g / 4 : SplitRow);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)GradientSplitRow, (uint)_g, nameof(gradientSplitRow));
        _tensors = new ParameterTensor[_layers, KindNames.Length];
        for (int l = 0; l < _layers; l++)
            for (int k = 0; k < KindNames.Length; k++)
                _tensors[l, k] = _info.Find($"{KindNames[k]}_l{l}")!;
        _headWeight = _info.Find("head.weight");
        _headBias = _info.Find("head.bias");

        _ih = new PackedMatrix<T>?[_layers];
        _hh = new PackedMatrix<T>[_layers];
        _sums = new T[]?[_layers];
        if (_info.Tokens) _embedding = new TransposedMatrix<T>(_g, _info.InputSize);
        for (int l = 0; l < _layers; l++)
        {
            bool tokenLayer = l == 0 && _info.Tokens;
            if (l != SplitLayer && !tokenLayer) _ih[l] = new PackedMatrix<T>(_g, l == 0 ? _info.InputSize : _h);
            _hh[l] = new PackedMatrix<T>(_g, _h);
        }
        _ihSplitA = new PackedMatrix<T>(SplitRow, _h);
        _ihSplitB = new PackedMatrix<T>(_g - SplitRow, _h);
        if (_info.OutputSize > 0)
        {
            _head = new PackedMatrix<T>(_info.OutputSize, _h);
            _headA = new PackedMatrix<T>(_info.OutputSize, _h);
        }

        _records = new T[_layers][];
        _dz = new T[_layers][];
        _dzHidden = new T[_layers][];
        _dhNext = new T[_layers][];
        _dcNext = new T[_layers][];
        for (int l = 0; l < _layers; l++)
        {
            _records[l] = new T[(steps + 1) * _record];
            _dz[l] = new T[steps * _g];
            _dzHidden[l] = _gru ? new T[steps * _g] : [];
            _dhNext[l] = new T[_h];
            _dcNext[l] = new T[_h];
        }
        for (int l = 0; l < _layers; l++)
            if (l > 0 || !_info.Tokens) _sums[l] = new T[steps * _g];
        _inputs = _info.Tokens ? [] : new T[steps * _info.InputSize];
        _tokens = _info.Tokens ? new int[steps] : [];
        _labels = new int[steps];
        _targets = new T[steps * _width];
        _bounds = new int[steps + 1];
        _down = new T[steps * _h];
        _downSplit = new T[steps * _h];
        _downA = SplitLayer > 1 ? new T[steps * _h] : []; // A's own chain, for the layers below the one below the split
        _outputs = new T[steps * _width];
        _outputGradients = new T[steps * _width];
        _gxA = new T[_g]; _gxB = new T[_g]; _ghA = new T[_g]; _ghB = new T[_g];
        _dhA = new T[_h]; _dhB = new T[_h];
        _owned = [[.. OwnedBy(0)], [.. OwnedBy(1)]];
        _computed = [[.. RangesOf(0, GradientSplitRow)], [.. RangesOf(1, GradientSplitRow)]];
        Pack();
    }

    /// <summary>
    /// The layer the cores share: core A runs the layers below it and the input sums of its first <see cref="SplitRow"/>
    /// gate rows, core B its other rows, its steps, the layers above it and the head. Chosen so that both cores stream
    /// about as many weight bytes per step (<see cref="SplitByBytes"/>): layer 1 for two layers.
    /// </summary>
    public int SplitLayer { get; }

    /// <summary>The split layer's gate rows [0, SplitRow) belong to core A, the rest to core B.</summary>
    public int SplitRow { get; }

    /// <summary>
    /// The split layer, from the weight bytes each core streams per step: a layer's W_hh every step, its W_ih (and the
    /// head) once per chunk of <see cref="Chunk"/> steps, a token layer's columns nothing; half of the split layer's W_ih on
    /// each core. The layer that makes the busier core least busy (the lower one on a tie).
    /// </summary>
    internal static int SplitByBytes(ModelInfo info, int g, int h)
    {
        double Layer(int l) => (double)g * h + (l > 0 ? (double)g * h / Chunk : info.Tokens ? 0 : (double)g * info.InputSize / Chunk);
        double half = (double)g * h / Chunk / 2, head = (double)info.OutputSize * h / Chunk;
        int best = 1;
        double least = double.MaxValue;
        for (int k = 1; k < info.LayerCount; k++)
        {
            double a = half, b = head - half;
            for (int l = 0; l < info.LayerCount; l++)
                if (l < k) a += Layer(l); else b += Layer(l);
            if (Math.Max(a, b) < least) (best, least) = (k, Math.Max(a, b));
        }
        return best;
    }

    /// <summary>
    /// The gradients of the split layer's W_ih and biases: core A computes gate rows [0, GradientSplitRow), core B the rest
    /// (and measures them; each core then steps and repacks the rows it reads, [0, SplitRow) and the rest, after a meeting). It
    /// balances the cores' work: a quarter of the rows for two layers (measured on the character model, 2.5 % faster than
    /// half: A's backward also waits for B's chunks and adds the token columns), half for deeper models.
    /// </summary>
    public int GradientSplitRow { get; }

    /// <summary>The model's outputs of the last call, steps × OutputWidth.</summary>
    public ReadOnlySpan<T> Outputs => _outputs.AsSpan(0, _n * _width);

    // the layer tensors, found once: [layer, kind]
    private const int WIh = 0, WHh = 1, BIh = 2, BHh = 3;
    private static readonly string[] KindNames = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"];
    private readonly ParameterTensor[,] _tensors;
    private readonly ParameterTensor? _headWeight, _headBias;

    private ReadOnlySpan<T> Tensor(ReadOnlySpan<T> p, int kind, int layer) => _tensors[layer, kind].Slice(p);

    private Span<T> GradientOf(int kind, int layer) => _tensors[layer, kind].Slice(_model.Gradients);

    /// <summary>
    /// Forward, softmax cross-entropy against <paramref name="labels"/> (−1: no loss at that step) and backward over one
    /// token sequence, on <paramref name="team"/> (null: both roles on the calling thread, the same bits); the gradients are added into the model's <c>Gradients</c>. The state
    /// is carried from the previous call unless <paramref name="carryState"/> is false. Returns the mean loss.
    /// </summary>
    public T Run(CoreTeam? team, ReadOnlySpan<int> tokens, ReadOnlySpan<int> labels, bool carryState = true) => Run(team, tokens, labels, carryState, null, GradientTransform<T>.None);

    /// <summary>
    /// As <see cref="Run(CoreTeam?, ReadOnlySpan{int}, ReadOnlySpan{int}, bool)"/>, then one step of <paramref name="optimizer"/> with
    /// <paramref name="transform"/> applied to the gradients (clip by value), each core stepping and repacking the
    /// parameters it reads, so that no weight moves between the cores. The model's own packed copy (its <c>Step</c> and
    /// <c>Forward</c>) is left stale: call its <c>ParametersChanged()</c> before running it. With
    /// <paramref name="clearGradients"/>, each core then clears its gradients for the next call (instead of the caller).
    /// </summary>
    internal T Run(CoreTeam? team, ReadOnlySpan<int> tokens, ReadOnlySpan<int> labels, bool carryState, Optimizer<T>? optimizer, in GradientTransform<T> transform,
        bool clearGradients = false) =>
        Run(team, tokens, WindowTargets<T>.Classes(labels), carryState, optimizer, transform, clearGradients);

    /// <summary>As the token overload with labels, against any <paramref name="targets"/> (labels, or dense targets for MSE or BCE).</summary>
    internal T Run(CoreTeam? team, ReadOnlySpan<int> tokens, in WindowTargets<T> targets, bool carryState, Optimizer<T>? optimizer, in GradientTransform<T> transform,
        bool clearGradients = false)
    {
        if (!_info.Tokens) throw new NotSupportedException($"{typeof(TModel).Name} reads dense vectors: use the overload that takes them.");
        if (tokens.Length > _steps) throw new ArgumentException($"a window holds 1 to {_steps} steps.", nameof(tokens));
        tokens.CopyTo(_tokens);
        return Run(team, tokens.Length, targets, carryState, optimizer, transform, clearGradients);
    }

    /// <summary>As the token overload, for a model that reads dense vectors: <paramref name="inputs"/> is steps × InputSize.</summary>
    internal T Run(CoreTeam? team, ReadOnlySpan<T> inputs, ReadOnlySpan<int> labels, bool carryState, Optimizer<T>? optimizer, in GradientTransform<T> transform,
        bool clearGradients = false) =>
        Run(team, inputs, WindowTargets<T>.Classes(labels), carryState, optimizer, transform, clearGradients);

    /// <summary>As the dense overload with labels, against any <paramref name="targets"/>.</summary>
    internal T Run(CoreTeam? team, ReadOnlySpan<T> inputs, in WindowTargets<T> targets, bool carryState, Optimizer<T>? optimizer, in GradientTransform<T> transform,
        bool clearGradients = false)
    {
        if (_info.Tokens) throw new NotSupportedException($"{typeof(TModel).Name} reads token ids: use the overload that takes them.");
        int n = inputs.Length / _info.InputSize;
        if (n * _info.InputSize != inputs.Length || n > _steps)
            throw new ArgumentException($"inputs must hold 1 to {_steps} steps of {_info.InputSize} values.", nameof(inputs));
        inputs.CopyTo(_inputs);
        return Run(team, n, targets, carryState, optimizer, transform, clearGradients);
    }

    private T Run(CoreTeam? team, int steps, in WindowTargets<T> targets, bool carryState, Optimizer<T>? optimizer, in GradientTransform<T> transform,
        bool clearGradients)
    {
        if (steps < 1 || steps > _steps)
            throw new ArgumentException($"a window holds 1 to {_steps} steps.");
        if (targets.Loss == SequenceLoss.SoftmaxCrossEntropy ? targets.Labels.Length != steps
            : targets.From < 0 || targets.From > steps || targets.Values.Length != (steps - targets.From) * _width)
            throw new ArgumentException(targets.Loss == SequenceLoss.SoftmaxCrossEntropy
                ? $"a window of {steps} steps needs {steps} labels."
                : $"a window of {steps} steps with targets from step {targets.From} needs {(long)Math.Max(0, steps - targets.From) * _width} target values.", nameof(targets));
        if (team is not null && team.Cores != 2) throw new ArgumentException("the layer pipeline runs on a team of two cores.", nameof(team));
        if (optimizer is not null && !optimizer.StepRange(_model.Parameters, _model.Gradients, GradientTransform<T>.None, 0, 0, 1, out _))
            throw new NotSupportedException($"{optimizer.GetType().Name} cannot step a range of the parameters; use one of RnnGen's optimizers.");
        _lossKind = targets.Loss;
        _targetFrom = targets.From;
        if (_lossKind == SequenceLoss.SoftmaxCrossEntropy) targets.Labels.CopyTo(_labels);
        else targets.Values.CopyTo(_targets.AsSpan(_targetFrom * _width));
        _carry = carryState;
        _optimizer = optimizer;
        _transform = transform;
        _clear = clearGradients;
        _lastN = _n;
        _n = steps;
        // the head and loss: A takes the window's steps before _headSplit, B the last eighth (at least one step), which it
        // does between its forward and its backward while A waits for it anyway (2 % faster than halves on the character
        // model in quiet phases). The loss is the mean over the counted steps of the whole window; each core's share is
        // scaled to that mean.
        _headSplit = _n - Math.Max(1, _n / 8);
        // chunks: one step first and last (so that neither core waits long for the other at either end), Chunk steps between
        _chunks = 0;
        for (int t = 0; t < _n; _chunks++)
        {
            t = t == 0 || t >= _n - 2 ? t + 1 : Math.Min(t + Chunk, _n - 1);
            _bounds[_chunks + 1] = t;
        }
        if (_lossKind == SequenceLoss.SoftmaxCrossEntropy)
        {
            _countA = Counted(targets.Labels.Slice(0, _headSplit));
            _countB = Counted(targets.Labels.Slice(_headSplit));
        }
        else
        {
            // every element of the steps with a target counts (the mean is over them all, as PyTorch's MSELoss / BCEWithLogitsLoss)
            _countA = Math.Max(0, _headSplit - _targetFrom) * _width;
            _countB = (_n - Math.Max(_headSplit, _targetFrom)) * _width;
        }
        _call++;
        _roleFailure = null;
        if (team is null) ((ITeamWork)this).Run(TeamPart.Alone); // both roles on the calling thread: the same bits
        else
        {
            try
            {
                team.Run(this);
            }
            catch (OtherRoleFailedException) when (_roleFailure is { } failure)
            {
                // the waiting role's give-up reached the team first: the caller gets the failure itself
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            }
        }
        return _loss;
    }

    private readonly (int Start, int Length, Copy Copy, int Layer)[][] _owned; // per core: what it steps and repacks (see OwnedBy)
    private readonly (int Start, int Length)[][] _computed; // per core: the gradient ranges it clears, computes and measures
    private static int Counted(ReadOnlySpan<int> labels) => labels.Length - labels.Count(Losses.IgnoreTarget);

    private Optimizer<T>? _optimizer;
    private GradientTransform<T> _transform;
    private long _step;
    private bool _clear;
    private int _headSplit, _countA, _countB;
    private SequenceLoss _lossKind;              // this call's loss
    private int _targetFrom;                     // dense targets: the first step with one
    private int _chunks;                         // chunks of this call: [_bounds[c], _bounds[c + 1])
    private readonly int[] _bounds;
    private int _n, _lastN;                      // steps of this call and of the previous one (whose last record is the state)
    private T _lossA, _lossB;
    private int _correctA, _correctB;

    /// <summary>The last call's counted steps whose most likely class was the label (as the loss's statistics count them).</summary>
    internal int Correct => _correctA + _correctB;

    // On a team, each core runs its role; alone (a CoreTeam that times stepping alone faster, in a slow phase of the
    // machine, runs TeamPart.Alone), the calling thread runs both in an order that never waits — the same operations on
    // the same values, so the same bits either way.
    void ITeamWork.Run(TeamPart part)
    {
        // this call's settings, read before the first meeting: once part 0 has returned, the caller may already be setting
        // up the next call while part 1 finishes this one
        Optimizer<T>? optimizer = _optimizer;
        long call = _call;
        if (part.Count == 1)
        {
            ForwardA();
            ForwardB();
            HeadShare(0);
            BackwardB();
            BackwardA();
            if (optimizer is null) return;
            Measure(0);
            Measure(1);
            if (!DecideStep()) return;
            _stepDecision = call;
            Update(0, biases: true);
            Update(1, biases: true);
            Update(0, biases: false);
            Update(1, biases: false);
            return;
        }
        try
        {
            if (part.Index == 0) { ForwardA(); HeadShare(0); BackwardA(); } else { ForwardB(); BackwardB(); }
        }
        catch (Exception e) when (e is not OtherRoleFailedException)
        {
            Interlocked.CompareExchange(ref _roleFailure, e, null); // what the caller sees, whichever role's exception reaches the team first
            Volatile.Write(ref _failed, _call); // the other role's waits on this one's counters give up
            BeforeFailureRethrown?.Invoke();
            throw;
        }
        if (optimizer is not null) Measure(part.Index); // the gradients it computed, while they are in its caches
        part.Sync(); // both roles done and both shares of the norm in place (B's window products read A's records; each core steps rows whose gradient the other computed)
        if (optimizer is null) return;
        if (part.Index == 0) Volatile.Write(ref _stepDecision, DecideStep() ? call : -call);
        part.Sync(); // the decision taken (on the calling thread, which may throw)
        if (Volatile.Read(ref _stepDecision) != call) return;
        Update(part.Index, biases: true);
        part.Sync(); // every bias stepped before a copy that folds it in is repacked (a GRU's W_hh copy of the split layer holds b_hh, partly A's)
        Update(part.Index, biases: false);
        part.Sync(); // nothing after the last meeting: the next call (perhaps alone) finds both cores done
    }

    /// <summary>Tests only: runs in a failing role between telling the other role and rethrowing (to let the other's give-up reach the team first).</summary>
    internal Action? BeforeFailureRethrown { get; set; }

    private long _failed; // the call in which a role failed
    private Exception? _roleFailure; // that role's exception (the other role's give-up is not news)

    // A role's give-up when the other role failed: never what the caller sees (Run rethrows the failure itself).
    private sealed class OtherRoleFailedException(string message) : Exception(message);

    private long Base => (_call - 1) * (2L * _steps + 2);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Wait(ref long flag, long value, [CallerArgumentExpression(nameof(flag))] string name = "")
    {
        while (Volatile.Read(ref flag) < value)
        {
            if (Volatile.Read(ref _failed) == _call)
                throw new OtherRoleFailedException($"LayerPipeline: the other core's role failed while this one waited for {name}.");
            Thread.SpinWait(1);
        }
    }

    /// <summary>
    /// Sets the state the next call with <c>carryState</c> starts from: <paramref name="state"/>'s values (every layer's h,
    /// then every layer's c, as <see cref="RecurrentState{T}.Values"/>).
    /// </summary>
    public void LoadState(RecurrentState<T> state)
    {
        ReadOnlySpan<T> v = state.Values;
        if (v.Length != _info.StateSize) throw new ArgumentException($"state has {v.Length} values; expected {_info.StateSize}.", nameof(state));
        for (int l = 0; l < _layers; l++)
        {
            Span<T> last = _records[l].AsSpan(_n * _record); // the record the next call copies its start from
            v.Slice(l * _h, _h).CopyTo(last);
            if (_lstm) v.Slice((_layers + l) * _h, _h).CopyTo(last.Slice(_h));
        }
    }

    /// <summary>Writes the state the last call ended in into <paramref name="state"/> (as <see cref="LoadState"/> reads it).</summary>
    public void SaveState(RecurrentState<T> state)
    {
        Span<T> v = state.Values;
        if (v.Length != _info.StateSize) throw new ArgumentException($"state has {v.Length} values; expected {_info.StateSize}.", nameof(state));
        for (int l = 0; l < _layers; l++)
        {
            ReadOnlySpan<T> last = _records[l].AsSpan(_n * _record);
            last.Slice(0, _h).CopyTo(v.Slice(l * _h, _h));
            if (_lstm) last.Slice(_h, _h).CopyTo(v.Slice((_layers + l) * _h, _h));
        }
    }

    private void StartState(int layer)
    {
        Span<T> rec = _records[layer];
        int state = _lstm ? 2 * _h : _h;                                 // h, and c for an LSTM
        if (_carry) rec.Slice(_lastN * _record, state).CopyTo(rec);     // record 0 = the last state
        else rec.Slice(0, state).Clear();
    }
}
