using System.Numerics.Tensors;

namespace RnnGen.Benchmarks.Training;

/// <summary>
/// char-rnn's training step with RnnGen, on one thread: for each sequence of the minibatch (its own state, carried from
/// update to update), Forward 50 steps, softmax cross-entropy, Backward (BPTT adding into Gradients); then the mean
/// gradient over the sequences, element-wise clip at 5 and RMSProp (lr 2e-3, α 0.95), as char-rnn's train.lua.
/// </summary>
internal sealed class RnnGenCharRnnTrainer
{
    public const float GradientClip = 5f;
    public const double LearningRate = 2e-3, Alpha = 0.95;

    private readonly CharRnn _model = new();
    private readonly CharRnn.State[] _states;
    private readonly CharRnn.Tape _tape = new(CharRnnBatch.Steps);
    private readonly float[] _logits = new float[CharRnnBatch.Steps * CharRnn.OutputWidth];
    private readonly float[] _logitGradients = new float[CharRnnBatch.Steps * CharRnn.OutputWidth];
    private readonly RmsProp<float> _optimizer = new(CharRnn.ParameterCount, LearningRate, Alpha);

    public RnnGenCharRnnTrainer(CharRnnBatch batch, int seed)
    {
        Batch = batch;
        _model.InitializeParameters(seed);
        _states = [.. Enumerable.Range(0, batch.Sequences).Select(_ => new CharRnn.State())];
    }

    public CharRnnBatch Batch { get; }

    /// <summary>One update; returns the mean loss.</summary>
    public float Update()
    {
        _model.Gradients.Clear();
        float loss = 0;
        for (int s = 0; s < _states.Length; s++)
            loss += ForwardBackward(s);
        if (_states.Length > 1)
            TensorPrimitives.Multiply(_model.Gradients, 1f / _states.Length, _model.Gradients);
        GradientClipping.ClipByValue(_model.Gradients, GradientClip);
        _optimizer.Step(_model);
        return loss / _states.Length;
    }

    /// <summary>Forward only, over sequence 0 (its state carried); returns one logit.</summary>
    public float Forward()
    {
        _model.Forward(Batch.Inputs[0], ref _states[0], _tape, _logits);
        return _logits[^1];
    }

    /// <summary>Backward only, over the tape of the last <see cref="Forward"/>, for the gradient of its loss (added into Gradients).</summary>
    public float Backward()
    {
        _model.Backward(_tape, _logitGradients);
        return _model.Gradients[0];
    }

    /// <summary>Fills the loss gradient for <see cref="Backward"/> from the last <see cref="Forward"/>.</summary>
    public void PrepareBackward() => Losses.SoftmaxCrossEntropy<float>(_logits, Batch.Targets[0], _logitGradients);

    private float ForwardBackward(int sequence)
    {
        _model.Forward(Batch.Inputs[sequence], ref _states[sequence], _tape, _logits);
        float loss = Losses.SoftmaxCrossEntropy<float>(_logits, Batch.Targets[sequence], _logitGradients);
        _model.Backward(_tape, _logitGradients);
        return loss;
    }
}
