using System.Numerics;
using System.Numerics.Tensors;
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
/// (docs/design.md, "Batch 1"; docs/training.md, "Batch 1 on two cores"). Core A runs the layers below the
/// <see cref="SplitLayer"/> and the input sums of its first <see cref="SplitRow"/> gate rows; core B its other rows, its
/// steps, the layers above and the head; the head and loss (softmax cross-entropy, MSE or BCE:
/// <see cref="WindowTargets{T}"/>) are split by halves of the window. Per-step vectors cross one way through a counter
/// each (forward: A's chunk of states and input sums; backward: B's chunk of the split layer's dL/dz and its share of the
/// gradient passed down), never a meeting; every layer's input sums and the gradient passed down at the split run per
/// chunk of <see cref="Chunk"/> steps as matrix–matrix products. Each core clears, computes and measures its share of the
/// gradients, then steps and repacks the parameters it reads, so no weight moves between the cores. Alone (no team, or an
/// adaptive team in a slow phase of the machine) the calling thread runs both roles: the same bits. The sums run in
/// another order than the model's own <c>Forward</c>/<c>Backward</c>, so the results equal those to float rounding, not
/// bit for bit.
/// </summary>
internal sealed class LayerPipeline<TModel, T> : ITeamWork
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
    private readonly PackedMatrix<T>? _head, _headA;      // the head: B's, and A's for its half (a product's scratch is not shared)

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
    private ref long HeadA => ref _flags[32];       // A's half of the head and loss done
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

    /// <summary>Refreshes the training copies of the weights from the model's <c>Parameters</c> (after writing them).</summary>
    public void Pack()
    {
        Pack(owner: 0);
        Pack(owner: 1);
    }

    /// <summary>Refreshes the copies core <paramref name="owner"/> reads: A's layer 0 and layer 1's first rows, B's the rest.</summary>
    private void Pack(int owner)
    {
        foreach (var (_, _, copy, layer) in _owned[owner])
            if (copy != Copy.None) Repack(copy, layer);
    }

    /// <summary>The training copies, each fed by one weight range (and the biases it folds in).</summary>
    private enum Copy { None, Embedding, Input, Hidden, SplitA, SplitB, Head }

    /// <summary>Refreshes one training copy from the model's parameters.</summary>
    private void Repack(Copy copy, int layer)
    {
        ReadOnlySpan<T> p = _model.Parameters;
        if (copy == Copy.Head)
        {
            _head!.Pack(_headWeight!.Slice(p), default, _headBias!.Slice(p), default);
            _headA!.Pack(_headWeight!.Slice(p), default, _headBias!.Slice(p), default);
            return;
        }
        ReadOnlySpan<T> wih = Tensor(p, WIh, layer), whh = Tensor(p, WHh, layer), bih = Tensor(p, BIh, layer), bhh = Tensor(p, BHh, layer);
        // an LSTM or RNN folds both biases into the input sums; a GRU keeps b_hh with W_hh (r ⊙ (W_hn·h + b_hn))
        ReadOnlySpan<T> inputBias2 = _gru ? default : bhh;
        switch (copy)
        {
            case Copy.Embedding: _embedding!.Pack(wih, bih, inputBias2); break;
            case Copy.Input: _ih[layer]!.Pack(wih, default, bih, inputBias2); break;
            case Copy.Hidden: _hh[layer].Pack(whh, default, _gru ? bhh : default, default); break;
            default:
                // the split layer's input rows: A's first, B's the rest
                int from = copy == Copy.SplitA ? 0 : SplitRow, rows = copy == Copy.SplitA ? SplitRow : _g - SplitRow;
                (copy == Copy.SplitA ? _ihSplitA : _ihSplitB).Pack(wih.Slice(from * _h, rows * _h), default, bih.Slice(from, rows),
                    _gru ? default : bhh.Slice(from, rows));
                break;
        }
    }

    /// <summary>
    /// What core <paramref name="core"/> steps and repacks: the parameters of the copies it reads — its layers, its rows of
    /// the split layer's W_ih and biases, the head on B — each weight range with the copy it feeds.
    /// </summary>
    private IEnumerable<(int Start, int Length, Copy Copy, int Layer)> OwnedBy(int core)
    {
        foreach (var (start, length, tensor, layer) in Split(core, SplitRow))
        {
            string name = tensor.Name;
            Copy copy = name.StartsWith("bias", StringComparison.Ordinal) || name == "head.bias" ? Copy.None
                : name == "head.weight" ? Copy.Head
                : name.StartsWith("weight_hh", StringComparison.Ordinal) ? Copy.Hidden
                : layer == SplitLayer ? (core == 0 ? Copy.SplitA : Copy.SplitB)
                : layer == 0 && _embedding is not null ? Copy.Embedding : Copy.Input;
            yield return (start, length, copy, layer);
        }
    }

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
        if (optimizer is not null && !optimizer.StepRange(_model.Parameters, _model.Gradients, GradientTransform<T>.None, 0, 0, 1))
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
        // the loss is the mean over the counted steps of the whole window; each core's half is scaled to that mean
        _half = _n / 2;
        // chunks: one step first and last (so that neither core waits long for the other at either end), Chunk steps between
        _chunks = 0;
        for (int t = 0; t < _n; _chunks++)
        {
            t = t == 0 || t >= _n - 2 ? t + 1 : Math.Min(t + Chunk, _n - 1);
            _bounds[_chunks + 1] = t;
        }
        if (_lossKind == SequenceLoss.SoftmaxCrossEntropy)
        {
            _countA = Counted(targets.Labels.Slice(0, _half));
            _countB = Counted(targets.Labels.Slice(_half));
        }
        else
        {
            // every element of the steps with a target counts (the mean is over them all, as PyTorch's MSELoss / BCEWithLogitsLoss)
            _countA = Math.Max(0, _half - _targetFrom) * _width;
            _countB = (_n - Math.Max(_half, _targetFrom)) * _width;
        }
        _call++;
        if (team is null) ((ITeamWork)this).Run(TeamPart.Alone); // both roles on the calling thread: the same bits
        else team.Run(this);
        return _loss;
    }

    private readonly (int Start, int Length, Copy Copy, int Layer)[][] _owned; // per core: what it steps and repacks (see OwnedBy)
    private readonly (int Start, int Length)[][] _computed; // per core: the gradient ranges it clears, computes and measures
    private static int Counted(ReadOnlySpan<int> labels) => labels.Length - labels.Count(Losses.IgnoreTarget);

    private Optimizer<T>? _optimizer;
    private GradientTransform<T> _transform;
    private long _step;
    private bool _clear;
    private int _half, _countA, _countB;
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
            HeadHalf(0);
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
            if (part.Index == 0) { ForwardA(); HeadHalf(0); BackwardA(); } else { ForwardB(); BackwardB(); }
        }
        catch
        {
            Volatile.Write(ref _failed, _call); // the other role's waits on this one's counters give up
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

    private long _failed; // the call in which a role failed

    /// <summary>
    /// Each core clears the gradients it computes before it writes them (instead of the caller clearing them all): the
    /// window's gradients replace the last ones.
    /// </summary>
    internal bool ClearGradientsFirst { get; set; }

    private void ClearComputed(int core)
    {
        Span<T> gradients = _model.Gradients;
        foreach (var (start, length) in _computed[core]) gradients.Slice(start, length).Clear();
    }

    // ---------------------------------------------------------------- the step's decision (for the trainer)

    /// <summary>
    /// Called on the calling thread between the backward and the update with the window's loss and the norm of the
    /// gradients (each core's share summed in a fixed order; after the clamp by <see cref="ClampBeforeNorm"/>): returns
    /// whether to step, and the scale (a clip by norm) to apply to the gradients as they are stepped, after the clamp by
    /// <see cref="ClampBeforeNorm"/> (a clamp in the transform it returns is not used). Null: step with the transform given
    /// to <c>Run</c>. It may throw (the call then ends without a step). When the norm is not finite, the gradients it may
    /// read are clamped in place first.
    /// </summary>
    internal Func<T, T, (bool Step, GradientTransform<T> Transform)>? Decide { get; set; }

    /// <summary>
    /// Clamps each core's gradients to ±this as they are measured and as they are stepped (a clip by value followed by a
    /// clip by norm); the step writes the clamped gradients back.
    /// </summary>
    internal T? ClampBeforeNorm { get; set; }

    /// <summary>Whether the last call stepped the parameters (an optimizer given, and the decision to step).</summary>
    internal bool Stepped => Volatile.Read(ref _stepDecision) == _call;

    /// <summary>The norm of the last call's gradients (NaN before the first call with an optimizer).</summary>
    internal T GradientNorm { get; private set; } = T.NaN;

    private readonly double[] _squares = new double[24]; // per core, on lines of their own: [0] and [8]
    private long _stepDecision; // the call whose step was taken (its negative: declined)

    /// <summary>
    /// The sum of squares of the gradients core <paramref name="core"/> computed, as clamped if asked: read only (the step
    /// clamps them as it reads them).
    /// </summary>
    private void Measure(int core)
    {
        Span<T> gradients = _model.Gradients;
        var clamp = ClampBeforeNorm is T limit ? GradientTransform<T>.Clamp(limit) : GradientTransform<T>.None;
        double sum = 0;
        foreach (var (start, length) in _computed[core])
            sum += double.CreateTruncating(Elementwise.SumOfSquares(clamp, gradients.Slice(start, length)));
        _squares[core * 8] = sum;
    }

    private bool DecideStep()
    {
        GradientNorm = T.CreateTruncating(Math.Sqrt(_squares[0] + _squares[8]));
        // a norm that is not finite sends the caller to the gradients themselves (a NaN check, a norm rescaled against
        // overflow): with a clamp, they must read the clamped values, every core's (both cores wait in a meeting)
        if (!T.IsFinite(GradientNorm) && ClampBeforeNorm is T clampLimit)
            GradientTransform<T>.Clamp(clampLimit).Apply(_model.Gradients);
        GradientTransform<T> transform = _transform;
        if (Decide is not null)
        {
            (bool step, transform) = Decide(_loss, GradientNorm);
            if (!step) return false;
        }
        // the clamp the norm was measured after, then the decided scale (a clip by norm)
        if (ClampBeforeNorm is T limit)
            transform = transform.Scales ? GradientTransform<T>.Clamp(limit).ThenScale(transform.Scale) : GradientTransform<T>.Clamp(limit);
        _transform = transform;
        _step = _optimizer!.BeginRangeStep(); // StepCount advances only for a step taken
        return true;
    }

    /// <summary>
    /// Core <paramref name="owner"/>'s step: the bias ranges (<paramref name="biases"/>), or each weight range followed by
    /// the repacking of the copy it feeds, while the stepped values are still in the core's caches (3 µs less per window
    /// on A than repacking after the whole step: a 512 × 128 copy packs in 4.8 µs from L2, 7.8 from L3).
    /// </summary>
    private void Update(int owner, bool biases)
    {
        if (_optimizer is null) return;
        bool finite = !biases || _finite[owner];
        foreach (var (start, length, copy, layer) in _owned[owner])
        {
            if ((copy == Copy.None) != biases) continue;
            _optimizer.StepRange(_model.Parameters, _model.Gradients, _transform, start, length, _step);
            if (_clear) _model.Gradients.Slice(start, length).Clear(); // by its owner, for the next window's Backward
            finite &= Finite.All<T>(_model.Parameters.Slice(start, length));
            if (copy != Copy.None) Repack(copy, layer);
        }
        _finite[owner] = finite;
    }

    private readonly bool[] _finite = new bool[2]; // per core: its parameters finite after the last step

    /// <summary>Whether every parameter is finite after the last call's step (each core checks those it stepped).</summary>
    internal bool ParametersFinite => _finite[0] && _finite[1];

    /// <summary>
    /// Core <paramref name="core"/>'s parameter ranges when the split layer's W_ih and biases are split at gate row
    /// <paramref name="split"/>: A has the layers below and the rows before the split, B the rest.
    /// </summary>
    private IEnumerable<(int Start, int Length)> RangesOf(int core, int split) => Split(core, split).Select(r => (r.Start, r.Length));

    private IEnumerable<(int Start, int Length, ParameterTensor Tensor, int Layer)> Split(int core, int split)
    {
        foreach (var tensor in _info.Layout)
        {
            string name = tensor.Name;
            int layer = name.StartsWith("head", StringComparison.Ordinal) ? _layers
                : int.Parse(name.AsSpan(name.LastIndexOf("_l", StringComparison.Ordinal) + 2), System.Globalization.CultureInfo.InvariantCulture);
            bool byRows = layer == SplitLayer && !name.StartsWith("weight_hh", StringComparison.Ordinal); // its W_ih and both biases
            if (byRows)
            {
                int columns = name.StartsWith("weight", StringComparison.Ordinal) ? _h : 1;
                yield return core == 0 ? (tensor.Offset, split * columns, tensor, layer) : (tensor.Offset + split * columns, (_g - split) * columns, tensor, layer);
            }
            else if ((layer < SplitLayer) == (core == 0))
                yield return (tensor.Offset, tensor.Length, tensor, layer);
        }
    }

    private long Base => (_call - 1) * (2L * _steps + 2);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Wait(ref long flag, long value, [CallerArgumentExpression(nameof(flag))] string name = "")
    {
        while (Volatile.Read(ref flag) < value)
        {
            if (Volatile.Read(ref _failed) == _call)
                throw new OperationCanceledException($"LayerPipeline: the other core's role failed while this one waited for {name}.");
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

    // ---------------------------------------------------------------- core A: the layers below the split, its first rows

    private void ForwardA()
    {
        long b0 = Base;
        for (int l = 0; l < SplitLayer; l++) StartState(l);
        T[] below = _records[SplitLayer - 1];
        for (int c = 0; c < _chunks; c++)
        {
            int t0 = _bounds[c], n = _bounds[c + 1] - t0;
            for (int l = 0; l < SplitLayer; l++) ChunkForward(l, t0, n, _gxA, _ghA);
            // the split layer's input sums for A's rows, for the chunk's steps in one product
            _ihSplitA.Multiply(n, below.AsSpan((t0 + 1) * _record), _record, default, 0, _sums[SplitLayer].AsSpan(t0 * _g), _g);
            Volatile.Write(ref Forward, b0 + t0 + n);
        }
    }

    private void BackwardA()
    {
        if (ClearGradientsFirst) ClearComputed(0); // while B finishes its forward and starts its backward
        long b0 = Base;
        int k = SplitLayer - 1;
        // the layer below the split, chunk by chunk as B hands over dL/dz of the split layer and its share of dL/dh
        Span<T> dhNext = _dhNext[k], dcNext = _dcNext[k];
        dhNext.Clear();
        dcNext.Clear();
        ReadOnlySpan<T> p = _model.Parameters;
        ReadOnlySpan<T> wihSplit = Tensor(p, WIh, SplitLayer), whh = Tensor(p, WHh, k);
        for (int c = _chunks - 1; c >= 0; c--)
        {
            int t0 = _bounds[c], t1 = _bounds[c + 1], n = t1 - t0;
            Wait(ref Backward, b0 + _steps + 1 + (_n - t0));
            // dL/dh += W_ih[A's rows]ᵀ·dz[A's rows] of the split layer (B has written its rows' share)
            Gemm.MultiplyRows(_downSplit.AsSpan(t0 * _h), _h, _dz[SplitLayer].AsSpan(t0 * _g), _g, wihSplit.Slice(0, SplitRow * _h), SplitRow, _h, n, accumulate: true);
            for (int t = t1 - 1; t >= t0; t--)
            {
                TensorPrimitives.Add(_downSplit.AsSpan(t * _h, _h), dhNext, _dhA);
                dhNext.Clear();
                StepBackward(k, t, _records[k], _dhA, dcNext, dhNext, whh);
            }
        }
        WindowProducts(k);
        // the split layer's rows [0, GradientSplitRow) of W_ih and both biases (B adds the rest)
        BiasSums(SplitLayer, 0, GradientSplitRow);
        InputProducts(SplitLayer, 0, GradientSplitRow);
        // the layers below, whole windows, top down
        for (int l = k - 1; l >= 0; l--)
        {
            Gemm.MultiplyRows(_downA, _h, _dz[l + 1], _g, Tensor(p, WIh, l + 1), _g, _h, _n);
            LayerBackward(l, _downA, _dhA);
        }
    }

    // ---------------------------------------------------------------- core B: the split layer's other rows, the layers above, the head

    private void ForwardB()
    {
        if (ClearGradientsFirst) ClearComputed(1);
        long b0 = Base;
        for (int l = SplitLayer; l < _layers; l++) StartState(l);
        T[] below = _records[SplitLayer - 1];
        for (int c = 0; c < _chunks; c++)
        {
            int t0 = _bounds[c], n = _bounds[c + 1] - t0;
            Wait(ref Forward, b0 + t0 + n);
            _ihSplitB.Multiply(n, below.AsSpan((t0 + 1) * _record), _record, default, 0, _sums[SplitLayer].AsSpan(t0 * _g + SplitRow), _g);
            for (int l = SplitLayer; l < _layers; l++) ChunkForward(l, t0, n, _gxB, _ghB);
            Volatile.Write(ref Top, b0 + t0 + n);
        }
    }

    private void BackwardB()
    {
        long b0 = Base;
        // the head and loss of B's half of the window; A's half is done meanwhile on A, awaited where first needed
        HeadHalf(1);
        bool headA = false;
        T[] top = _records[_layers - 1];
        ReadOnlySpan<T> p = _model.Parameters;

        // the layers above the split, whole windows, top down; `_down` carries dL/dh of the layer at hand
        if (_layers > SplitLayer + 1) AwaitHeadA(ref headA);
        for (int l = _layers - 1; l > SplitLayer; l--)
        {
            LayerBackward(l, _down, _dhB);
            Gemm.MultiplyRows(_down, _h, _dz[l], _g, Tensor(p, WIh, l), _g, _h, _n); // dL/dh of the layer below = W_ihᵀ·dz
        }

        // the split layer, chunk by chunk from the end, handing A its dz and B's rows' share of dL/dh below
        {
            int l = SplitLayer;
            Span<T> dhNext = _dhNext[l], dcNext = _dcNext[l];
            dhNext.Clear();
            dcNext.Clear();
            ReadOnlySpan<T> whh = Tensor(p, WHh, l), wih = Tensor(p, WIh, l);
            for (int c = _chunks - 1; c >= 0; c--)
            {
                int t0 = _bounds[c], t1 = _bounds[c + 1], n = t1 - t0;
                if (t0 < _half) AwaitHeadA(ref headA);
                for (int t = t1 - 1; t >= t0; t--)
                {
                    TensorPrimitives.Add(_down.AsSpan(t * _h, _h), dhNext, _dhB);
                    dhNext.Clear();
                    StepBackward(l, t, _records[l], _dhB, dcNext, dhNext, whh);
                }
                Gemm.MultiplyRows(_downSplit.AsSpan(t0 * _h), _h, _dz[l].AsSpan(t0 * _g + SplitRow), _g,
                    wih.Slice(SplitRow * _h), _g - SplitRow, _h, n);
                Volatile.Write(ref Backward, b0 + _steps + 1 + (_n - t0));
            }
            AwaitHeadA(ref headA); // a window of one step has no chunk in A's half
            // the head's weight gradients, now that both halves' output gradients are in
            if (_head is not null)
            {
                Gemm.AddOuterProducts(_headWeight!.Slice(_model.Gradients), _info.OutputSize, _h, _outputGradients, _width, top.AsSpan(_record), _record, _n);
                Gemm.AddRowSums(_headBias!.Slice(_model.Gradients), _outputGradients, _width, _n);
            }
            // the split layer's: W_hh, and W_ih's and both biases' rows [GradientSplitRow, G) (A adds its rows')
            WindowProducts(l, GradientSplitRow);
        }
    }

    /// <summary>B: waits once for A's half of the head and loss, then sets the window's loss.</summary>
    private void AwaitHeadA(ref bool done)
    {
        if (done) return;
        Wait(ref HeadA, _call);
        done = true;
        int counted = _countA + _countB;
        _loss = counted == 0 ? T.Zero : (_lossA * T.CreateTruncating(_countA) + _lossB * T.CreateTruncating(_countB)) / T.CreateTruncating(counted);
    }

    /// <summary>
    /// The outputs, the loss and dL/dh of the top layer for one half of the window: A's the first (after waiting for B's
    /// top layer to get there), B's the second; each half's gradient scaled to the mean over the whole window's counted steps.
    /// </summary>
    private void HeadHalf(int owner)
    {
        int t0 = owner == 0 ? 0 : _half, n = owner == 0 ? _half : _n - _half;
        int counted = _countA + _countB, mine = owner == 0 ? _countA : _countB;
        if (owner == 0) Wait(ref Top, Base + _half);
        T[] top = _records[_layers - 1];
        Span<T> outputs = _outputs.AsSpan(t0 * _width, n * _width), gradients = _outputGradients.AsSpan(t0 * _width, n * _width);
        if (n > 0)
        {
            if (_head is not null)
                (owner == 0 ? _headA! : _head).Multiply(n, top.AsSpan((t0 + 1) * _record), _record, default, 0, outputs, _width);
            else
                for (int t = 0; t < n; t++) top.AsSpan((t0 + t + 1) * _record, _h).CopyTo(outputs.Slice(t * _width, _width));
            T loss = HalfLoss(t0, n, outputs, gradients, out int correct);
            if (owner == 0) _correctA = correct; else _correctB = correct;
            if (counted > 0 && mine > 0) TensorPrimitives.Multiply(gradients, T.CreateTruncating((double)mine / counted), gradients);
            if (owner == 0) _lossA = loss; else _lossB = loss;
            Span<T> down = _down.AsSpan(t0 * _h, n * _h);
            if (_head is not null)
                Gemm.MultiplyRows(down, _h, gradients, _width, _headWeight!.Slice((ReadOnlySpan<T>)_model.Parameters), _info.OutputSize, _h, n);
            else
                gradients.CopyTo(down);
        }
        else if (owner == 0) (_lossA, _correctA) = (T.Zero, 0); else (_lossB, _correctB) = (T.Zero, 0);
        if (owner == 0) Volatile.Write(ref HeadA, _call);
    }

    /// <summary>The mean loss of steps [t0, t0 + n) over their counted steps or elements, and its gradient (zeros where none).</summary>
    private T HalfLoss(int t0, int n, ReadOnlySpan<T> outputs, Span<T> gradients, out int correct)
    {
        correct = 0;
        if (_lossKind == SequenceLoss.SoftmaxCrossEntropy)
        {
            T ce = Losses.SoftmaxCrossEntropy<T>(outputs, _labels.AsSpan(t0, n), gradients, out ClassificationStats stats);
            correct = stats.Correct;
            return ce;
        }
        int local = Math.Clamp(_targetFrom - t0, 0, n); // the half's steps before it have no target
        gradients.Slice(0, local * _width).Clear();
        if (local == n) return T.Zero;
        ReadOnlySpan<T> y = outputs.Slice(local * _width), targets = _targets.AsSpan((t0 + local) * _width, (n - local) * _width);
        Span<T> g = gradients.Slice(local * _width);
        return _lossKind == SequenceLoss.MeanSquaredError ? Losses.MeanSquaredError(y, targets, g) : Losses.BinaryCrossEntropyWithLogits(y, targets, g);
    }

    // ---------------------------------------------------------------- one layer

    /// <summary>
    /// Layer <paramref name="layer"/> over steps [t0, t0 + n): its input sums for the chunk in one product (but a token layer
    /// 0's, a column per step, and the split layer's, which both cores make), then its steps.
    /// </summary>
    private void ChunkForward(int layer, int t0, int n, Span<T> gx, Span<T> gh)
    {
        T[] rec = _records[layer];
        bool tokens = layer == 0 && _embedding is not null;
        if (layer != SplitLayer && !tokens)
        {
            if (layer == 0) _ih[0]!.Multiply(n, _inputs.AsSpan(t0 * _info.InputSize), _info.InputSize, default, 0, _sums[0].AsSpan(t0 * _g), _g);
            else _ih[layer]!.Multiply(n, _records[layer - 1].AsSpan((t0 + 1) * _record), _record, default, 0, _sums[layer].AsSpan(t0 * _g), _g);
        }
        for (int t = t0; t < t0 + n; t++)
            StepLayer(layer, tokens ? _tokens[t] : -1, tokens ? default : _sums[layer].AsSpan(t * _g, _g),
                rec.AsSpan(t * _record, _record), rec.AsSpan((t + 1) * _record, _record), gx, gh);
    }

    /// <summary>
    /// One step of layer <paramref name="layer"/> into <paramref name="next"/>, its input sums from <paramref name="token"/>'s
    /// column (≥ 0) or from <paramref name="sums"/>; <paramref name="gx"/> and <paramref name="gh"/> are scratch.
    /// </summary>
    private void StepLayer(int layer, int token, ReadOnlySpan<T> sums, ReadOnlySpan<T> prev, Span<T> next, Span<T> gx, Span<T> gh)
    {
        ReadOnlySpan<T> hPrev = prev.Slice(0, _h);
        ReadOnlySpan<T> cPrev = _lstm ? prev.Slice(_h, _h) : default;
        if (_gru)
        {
            if (token >= 0) _embedding!.CopyColumn(token, gx);
            else sums.CopyTo(gx);
            _hh[layer].Multiply(hPrev, default, gh);   // W_hh·h + b_hh
            TModel.CellForward(gx, gh, hPrev, cPrev, next);
            return;
        }
        _hh[layer].Multiply(hPrev, default, gx);       // W_hh·h, then the input sums added in place
        if (token >= 0) _embedding!.AddColumn(token, gx);
        else TensorPrimitives.Add(gx, sums, gx);
        TModel.CellForward(gx, default, hPrev, cPrev, next);
    }

    /// <summary>
    /// Layer <paramref name="layer"/>'s backward over the whole window, dL/dh from above in <paramref name="down"/>
    /// (<paramref name="dh"/> scratch), then its window's gradients.
    /// </summary>
    private void LayerBackward(int layer, ReadOnlySpan<T> down, Span<T> dh)
    {
        Span<T> dhNext = _dhNext[layer], dcNext = _dcNext[layer];
        dhNext.Clear();
        dcNext.Clear();
        ReadOnlySpan<T> whh = Tensor(_model.Parameters, WHh, layer);
        for (int t = _n - 1; t >= 0; t--)
        {
            TensorPrimitives.Add(down.Slice(t * _h, _h), dhNext, dh);
            dhNext.Clear();
            StepBackward(layer, t, _records[layer], dh, dcNext, dhNext, whh);
        }
        WindowProducts(layer);
    }

    /// <summary>The cell's backward at step <paramref name="t"/> and dL/dh_(t−1) += W_hhᵀ·dz into <paramref name="dhPrev"/>.</summary>
    private void StepBackward(int layer, int t, T[] records, Span<T> dh, Span<T> dc, Span<T> dhPrev, ReadOnlySpan<T> whh)
    {
        ReadOnlySpan<T> prev = records.AsSpan(t * _record, _record), cur = records.AsSpan((t + 1) * _record, _record);
        Span<T> dz = _dz[layer].AsSpan(t * _g, _g);
        Span<T> dzh = _gru ? _dzHidden[layer].AsSpan(t * _g, _g) : default;
        TModel.CellBackward(cur, prev.Slice(0, _h), _lstm ? prev.Slice(_h, _h) : default, dh, dc, dz, dzh, dhPrev);
        Gemm.MultiplyRows(dhPrev, _h, _gru ? dzh : dz, _g, whh, _g, _h, 1, accumulate: true);
    }

    /// <summary>
    /// The window's gradients of a layer: W_hh's, and the biases' and the input weights' gate rows from
    /// <paramref name="from"/> on (a token layer 0's columns, from the tokens).
    /// </summary>
    private void WindowProducts(int layer, int from = 0)
    {
        Gemm.AddOuterProducts(GradientOf(WHh, layer), _g, _h, _gru ? _dzHidden[layer] : _dz[layer], _g, _records[layer], _record, _n);
        BiasSums(layer, from, _g);
        // a token model's W_ih0: dz₀ of every step added to its token's column, in blocks of rows
        if (layer == 0 && _embedding is not null) MatrixOps.AddToColumns(GradientOf(WIh, 0), _info.InputSize, _tokens.AsSpan(0, _n), _dz[0], lanes: 1);
        else InputProducts(layer, from, _g);
    }

    /// <summary>The window's gradients of layer <paramref name="layer"/>'s biases, gate rows [<paramref name="from"/>, <paramref name="to"/>).</summary>
    private void BiasSums(int layer, int from, int to)
    {
        Gemm.AddRowSums(GradientOf(BIh, layer).Slice(from, to - from), _dz[layer].AsSpan(from), _g, _n);
        Gemm.AddRowSums(GradientOf(BHh, layer).Slice(from, to - from), (_gru ? _dzHidden[layer] : _dz[layer]).AsSpan(from), _g, _n);
    }

    /// <summary>The window's gradient of layer <paramref name="layer"/>'s input weights, gate rows [<paramref name="from"/>, <paramref name="to"/>).</summary>
    private void InputProducts(int layer, int from, int to)
    {
        int width = layer == 0 ? _info.InputSize : _h;
        ReadOnlySpan<T> input = layer == 0 ? _inputs : _records[layer - 1].AsSpan(_record);
        Gemm.AddOuterProducts(GradientOf(WIh, layer).Slice(from * width, (to - from) * width), to - from, width,
            _dz[layer].AsSpan(from), _g, input, layer == 0 ? width : _record, _n);
    }
}
