namespace RnnGen;

// The layer pipeline's parameters: which core clears, computes and measures which gradients, steps and repacks which
// parameters, and the decision between the backward and the step (for the trainer).
internal sealed partial class LayerPipeline<TModel, T>
{
    /// <summary>Refreshes the training copies of the weights from the model's <c>Parameters</c> (after writing them).</summary>
    public void Pack()
    {
        Pack(owner: 0);
        Pack(owner: 1);
    }

    /// <summary>Refreshes the copies core <paramref name="owner"/> reads: A's the layers below the split and its first rows, B's the rest.</summary>
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
        foreach (var (start, length, layer, kind) in Split(core, SplitRow))
        {
            Copy copy = kind is BIh or BHh or HeadB ? Copy.None
                : kind == HeadW ? Copy.Head
                : kind == WHh ? Copy.Hidden
                : layer == SplitLayer ? (core == 0 ? Copy.SplitA : Copy.SplitB)
                : layer == 0 && _embedding is not null ? Copy.Embedding : Copy.Input;
            yield return (start, length, copy, layer);
        }
    }

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
    /// Called on the calling thread between the backward and the update (both cores wait meanwhile) with the window's loss,
    /// the norm of the gradients as computed and their norm after the clamp by <see cref="ClampBeforeNorm"/> (the same
    /// without a clamp; each core's share summed in a fixed order): returns whether to step, and the scale (a clip by norm)
    /// to apply to the gradients as they are stepped, after the clamp by <see cref="ClampBeforeNorm"/> (a clamp in the
    /// transform it returns is not used). Null: step with the transform given to <c>Run</c>. It may throw (the call then ends
    /// without a step). The gradients it may read are as computed: the clamp is applied as the step reads them.
    /// </summary>
    internal Func<T, T, T, (bool Step, GradientTransform<T> Transform)>? Decide { get; set; }

    /// <summary>
    /// Clamps each core's gradients to ±this as they are measured and as they are stepped (a clip by value followed by a
    /// clip by norm); the step writes the clamped gradients back.
    /// </summary>
    internal T? ClampBeforeNorm { get; set; }

    /// <summary>Whether the last call stepped the parameters (an optimizer given, and the decision to step).</summary>
    internal bool Stepped => Volatile.Read(ref _stepDecision) == _call;

    /// <summary>The norm of the last call's gradients as computed, before any clamp (NaN before the first call with an optimizer).</summary>
    internal T GradientNorm { get; private set; } = T.NaN;

    /// <summary>The norm of the last call's gradients clamped by <see cref="ClampBeforeNorm"/> (<see cref="GradientNorm"/> without a clamp).</summary>
    internal T ClampedGradientNorm { get; private set; } = T.NaN;

    private readonly double[] _squares = new double[24]; // per core, on lines of their own: [0], [1] (as computed) and [8], [9]
    private long _stepDecision; // the call whose step was taken (its negative: declined)

    /// <summary>
    /// The sums of squares of the gradients core <paramref name="core"/> computed, as computed and, if asked, as clamped: read
    /// only (the step clamps them as it reads them).
    /// </summary>
    private void Measure(int core)
    {
        Span<T> gradients = _model.Gradients;
        double raw = 0, clamped = 0;
        if (ClampBeforeNorm is T limit)
        {
            var clamp = GradientTransform<T>.Clamp(limit);
            foreach (var (start, length) in _computed[core])
            {
                var (c, r) = Elementwise.SumsOfSquares(clamp, gradients.Slice(start, length));
                clamped += double.CreateTruncating(c);
                raw += double.CreateTruncating(r);
            }
        }
        else
        {
            foreach (var (start, length) in _computed[core])
                raw += double.CreateTruncating(Elementwise.SumOfSquares(GradientTransform<T>.None, gradients.Slice(start, length)));
            clamped = raw;
        }
        _squares[core * 8] = clamped;
        _squares[core * 8 + 1] = raw;
    }

    private bool DecideStep()
    {
        // the norm as computed decides whether the gradients are finite and is the one reported; the clamped one is what a
        // clip by norm scales (a caller that needs to read the gradients themselves reads them as computed: a clamp is
        // applied as the step reads them)
        GradientNorm = T.CreateTruncating(Math.Sqrt(_squares[1] + _squares[9]));
        ClampedGradientNorm = T.CreateTruncating(Math.Sqrt(_squares[0] + _squares[8]));
        GradientTransform<T> transform = _transform;
        if (Decide is not null)
        {
            (bool step, transform) = Decide(_loss, GradientNorm, ClampedGradientNorm);
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
            _optimizer.StepRange(_model.Parameters, _model.Gradients, _transform, start, length, _step, out bool rangeFinite);
            finite &= rangeFinite; // checked in the step's own pass (a second pass over the ranges cost 0.15–0.17 µs per character on A)
            if (_clear) _model.Gradients.Slice(start, length).Clear(); // by its owner, for the next window's Backward
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

    // the head's tensors, as kinds after the layers' (WIh, WHh, BIh, BHh)
    private const int HeadW = 4, HeadB = 5;

    /// <summary>Core <paramref name="core"/>'s ranges with their layer and kind, in the layout's order (layer by layer, then the head).</summary>
    private IEnumerable<(int Start, int Length, int Layer, int Kind)> Split(int core, int split)
    {
        for (int layer = 0; layer < _layers; layer++)
            for (int kind = 0; kind < KindNames.Length; kind++)
            {
                ParameterTensor tensor = _tensors[layer, kind];
                if (layer == SplitLayer && kind != WHh) // its W_ih and both biases: by gate rows
                {
                    int columns = kind == WIh ? _h : 1;
                    yield return core == 0 ? (tensor.Offset, split * columns, layer, kind) : (tensor.Offset + split * columns, (_g - split) * columns, layer, kind);
                }
                else if ((layer < SplitLayer) == (core == 0))
                    yield return (tensor.Offset, tensor.Length, layer, kind);
            }
        if (core == 1 && _headWeight is not null)
        {
            yield return (_headWeight.Offset, _headWeight.Length, _layers, HeadW);
            yield return (_headBias!.Offset, _headBias.Length, _layers, HeadB);
        }
    }
}
