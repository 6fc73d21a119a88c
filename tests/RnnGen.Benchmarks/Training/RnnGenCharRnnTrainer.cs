using System.Numerics.Tensors;

namespace RnnGen.Benchmarks.Training;

/// <summary>
/// char-rnn's training step with RnnGen, on one thread: the sequences of the minibatch (each with its own state, carried
/// from update to update) run in the runtime trainer's lockstep groups (at most 16 lanes) — one lane Forward of 50 steps,
/// softmax cross-entropy per lane, one lane Backward (BPTT adding into Gradients) per group; then the mean gradient over
/// the sequences, element-wise clip at 5 and RMSProp (lr 2e-3, α 0.95), as char-rnn's train.lua. At batch 1 that is the
/// plain single-sequence Forward/Backward.
/// </summary>
internal sealed class RnnGenCharRnnTrainer
{
    public const float GradientClip = 5f;
    public const double LearningRate = 2e-3, Alpha = 0.95;

    private const int Steps = CharRnnBatch.Steps, Width = CharRnn.OutputWidth;
    private readonly CharRnn _model = new();
    private readonly CharRnn.State[] _states;
    private readonly (int First, int Count)[] _groups;
    private readonly CharRnn.Tape _tape;
    private readonly int[] _tokens;
    private readonly float[] _logits;
    private readonly float[] _logitGradients;
    private readonly RmsProp<float> _optimizer = new(CharRnn.ParameterCount, LearningRate, Alpha);

    public RnnGenCharRnnTrainer(CharRnnBatch batch, int seed)
    {
        Batch = batch;
        _model.InitializeParameters(seed);
        _states = [.. Enumerable.Range(0, batch.Sequences).Select(_ => new CharRnn.State())];
        // the runtime trainer's groups (50 sequences = 13 + 13 + 12 + 12)
        int groups = LaneGroups.Count(batch.Sequences);
        _groups = new (int, int)[groups];
        for (int g = 0, first = 0; g < groups; g++)
        {
            int count = LaneGroups.Size(batch.Sequences, groups, g);
            _groups[g] = (first, count);
            first += count;
        }
        int lanes = _groups.Max(g => g.Count);
        _tape = new CharRnn.Tape(Steps, lanes);
        _tokens = new int[lanes * Steps];
        _logits = new float[lanes * Steps * Width];
        _logitGradients = new float[lanes * Steps * Width];
    }

    public CharRnnBatch Batch { get; }

    /// <summary>One update; returns the mean loss.</summary>
    public float Update()
    {
        _model.Gradients.Clear();
        float loss = 0;
        foreach (var (first, count) in _groups)
            loss += ForwardBackward(first, count);
        if (_states.Length > 1)
            TensorPrimitives.Multiply(_model.Gradients, 1f / _states.Length, _model.Gradients);
        _optimizer.Step(_model, GradientClip); // clip at ±5 and RMSProp in one pass (the bits of ClipByValue, then Step)
        return loss / _states.Length;
    }

    /// <summary>Forward only, over sequence 0 (its state carried); returns one logit.</summary>
    public float Forward()
    {
        _model.Forward(Batch.Inputs[0], ref _states[0], _tape, _logits.AsSpan(0, Steps * Width));
        return _logits[Steps * Width - 1];
    }

    /// <summary>Backward only, over the tape of the last <see cref="Forward"/>, for the gradient of its loss (added into Gradients).</summary>
    public float Backward()
    {
        _model.Backward(_tape, _logitGradients.AsSpan(0, Steps * Width));
        return _model.Gradients[0];
    }

    /// <summary>Fills the loss gradient for <see cref="Backward"/> from the last <see cref="Forward"/>.</summary>
    public void PrepareBackward() => Losses.SoftmaxCrossEntropy<float>(_logits.AsSpan(0, Steps * Width), Batch.Targets[0], _logitGradients.AsSpan(0, Steps * Width));

    /// <summary>Sequences [first, first + count) in lockstep; returns the sum of their mean losses.</summary>
    private float ForwardBackward(int first, int count)
    {
        for (int k = 0; k < count; k++)
            Batch.Inputs[first + k].CopyTo(_tokens, k * Steps);
        int lane = Steps * Width;
        Span<float> logits = _logits.AsSpan(0, count * lane), gradients = _logitGradients.AsSpan(0, count * lane);
        if (count == 1)
            _model.Forward(_tokens.AsSpan(0, Steps), ref _states[first], _tape, logits);
        else
            _model.Forward(_tokens.AsSpan(0, count * Steps), _states.AsSpan(first, count), _tape, logits);
        float loss = 0;
        for (int k = 0; k < count; k++)
            loss += Losses.SoftmaxCrossEntropy<float>(logits.Slice(k * lane, lane), Batch.Targets[first + k], gradients.Slice(k * lane, lane));
        _model.Backward(_tape, gradients);
        return loss;
    }
}
