using System.Numerics.Tensors;
using RnnGen.Kernels;

namespace RnnGen;

// The layer pipeline's two roles: core A (the layers below the split layer, its first rows) and core B (its other rows,
// the layers above, the head), and the steps of one layer they share.
internal sealed partial class LayerPipeline<TModel, T>
{
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
        StartBackward(k);
        ReadOnlySpan<T> p = _model.Parameters;
        ReadOnlySpan<T> wihSplit = Tensor(p, WIh, SplitLayer);
        for (int c = _chunks - 1; c >= 0; c--)
        {
            int t0 = _bounds[c], t1 = _bounds[c + 1], n = t1 - t0;
            Wait(ref Backward, b0 + _steps + 1 + (_n - t0));
            // dL/dh += W_ih[A's rows]ᵀ·dz[A's rows] of the split layer (B has written its rows' share)
            Gemm.MultiplyRows(_downSplit.AsSpan(t0 * _h), _h, _dz[SplitLayer].AsSpan(t0 * _g), _g, wihSplit.Slice(0, SplitRow * _h), SplitRow, _h, n, accumulate: true);
            StepsBackward(k, t0, t1, _downSplit, _dhA);
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
        // the head and loss of B's share of the window (its last steps); A's is done meanwhile on A, awaited where first needed
        HeadShare(1);
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
            StartBackward(l);
            ReadOnlySpan<T> wih = Tensor(p, WIh, l);
            for (int c = _chunks - 1; c >= 0; c--)
            {
                int t0 = _bounds[c], t1 = _bounds[c + 1], n = t1 - t0;
                if (t0 < _headSplit) AwaitHeadA(ref headA);
                StepsBackward(l, t0, t1, _down, _dhB);
                Gemm.MultiplyRows(_downSplit.AsSpan(t0 * _h), _h, _dz[l].AsSpan(t0 * _g + SplitRow), _g,
                    wih.Slice(SplitRow * _h), _g - SplitRow, _h, n);
                Volatile.Write(ref Backward, b0 + _steps + 1 + (_n - t0));
            }
            AwaitHeadA(ref headA); // (a window of one step has no chunk in A's share)
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

    /// <summary>B: waits once for A's share of the head and loss, then sets the window's loss.</summary>
    private void AwaitHeadA(ref bool done)
    {
        if (done) return;
        Wait(ref HeadA, _call);
        done = true;
        int counted = _countA + _countB;
        _loss = counted == 0 ? T.Zero : (_lossA * T.CreateTruncating(_countA) + _lossB * T.CreateTruncating(_countB)) / T.CreateTruncating(counted);
    }

    /// <summary>
    /// The outputs, the loss and dL/dh of the top layer for one core's share of the window: A's the steps before
    /// <c>_headSplit</c> (after waiting for B's top layer to get there), B's the rest; each share's gradient scaled to the
    /// mean over the whole window's counted steps.
    /// </summary>
    private void HeadShare(int owner)
    {
        int t0 = owner == 0 ? 0 : _headSplit, n = owner == 0 ? _headSplit : _n - _headSplit;
        int counted = _countA + _countB, mine = owner == 0 ? _countA : _countB;
        if (owner == 0) Wait(ref Top, Base + _headSplit);
        T[] top = _records[_layers - 1];
        Span<T> outputs = _outputs.AsSpan(t0 * _width, n * _width), gradients = _outputGradients.AsSpan(t0 * _width, n * _width);
        if (n > 0)
        {
            if (_head is not null)
                (owner == 0 ? _headA! : _head).Multiply(n, top.AsSpan((t0 + 1) * _record), _record, default, 0, outputs, _width);
            else
                for (int t = 0; t < n; t++) top.AsSpan((t0 + t + 1) * _record, _h).CopyTo(outputs.Slice(t * _width, _width));
            T loss = ShareLoss(t0, n, outputs, gradients, out int correct);
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
    private T ShareLoss(int t0, int n, ReadOnlySpan<T> outputs, Span<T> gradients, out int correct)
    {
        correct = 0;
        if (_lossKind == SequenceLoss.SoftmaxCrossEntropy)
        {
            T ce = Losses.SoftmaxCrossEntropy<T>(outputs, _labels.AsSpan(t0, n), gradients, out ClassificationStats stats);
            correct = stats.Correct;
            return ce;
        }
        int local = Math.Clamp(_targetFrom - t0, 0, n); // the share's steps before it have no target
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
        StartBackward(layer);
        StepsBackward(layer, 0, _n, down, dh);
        WindowProducts(layer);
    }

    /// <summary>Clears layer <paramref name="layer"/>'s carries (dL/dh and dL/dc from the step after the window's last).</summary>
    private void StartBackward(int layer)
    {
        _dhNext[layer].AsSpan().Clear();
        _dcNext[layer].AsSpan().Clear();
    }

    /// <summary>
    /// Layer <paramref name="layer"/>'s backward over steps [t0, t1), from the last: each step's dL/dh is
    /// <paramref name="down"/>'s (from above) plus the carry from the step after it (<paramref name="dh"/> scratch); the
    /// cell's backward writes dL/dz, and dL/dh_(t−1) = W_hhᵀ·dz (plus the cell's share) becomes the carry.
    /// </summary>
    private void StepsBackward(int layer, int t0, int t1, ReadOnlySpan<T> down, Span<T> dh)
    {
        Span<T> dhNext = _dhNext[layer], dcNext = _dcNext[layer];
        T[] records = _records[layer];
        ReadOnlySpan<T> whh = Tensor(_model.Parameters, WHh, layer);
        for (int t = t1 - 1; t >= t0; t--)
        {
            TensorPrimitives.Add(down.Slice(t * _h, _h), dhNext, dh);
            dhNext.Clear();
            ReadOnlySpan<T> prev = records.AsSpan(t * _record, _record), cur = records.AsSpan((t + 1) * _record, _record);
            Span<T> dz = _dz[layer].AsSpan(t * _g, _g);
            Span<T> dzh = _gru ? _dzHidden[layer].AsSpan(t * _g, _g) : default;
            TModel.CellBackward(cur, prev.Slice(0, _h), _lstm ? prev.Slice(_h, _h) : default, dh, dcNext, dz, dzh, dhNext);
            Gemm.MultiplyRows(dhNext, _h, _gru ? dzh : dz, _g, whh, _g, _h, 1, accumulate: true);
        }
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
