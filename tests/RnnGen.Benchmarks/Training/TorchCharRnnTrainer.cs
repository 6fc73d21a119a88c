using RnnGen.Benchmarks.Torch;
using RnnGen.Oracle.Tests;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnGen.Benchmarks.Training;

/// <summary>
/// The same training step in TorchSharp, as a PyTorch user writes char-rnn: one-hot inputs [50, B, 65] into nn.LSTM(65,
/// 128, 2) and nn.Linear(128, 65), cross-entropy (mean over the B × 50 characters), backward, element-wise gradient clip
/// at 5, RMSprop (lr 2e-3, α 0.95); (h, c) carried across updates, detached. Same initial weights as RnnGen's model.
/// The one-hot tensor and the targets are built once (the best case for torch).
/// </summary>
internal sealed class TorchCharRnnTrainer : IDisposable
{
    private readonly LSTM _lstm;
    private readonly Linear _head;
    private readonly Parameter[] _parameters;
    private readonly optim.Optimizer _optimizer;
    private readonly Tensor _inputs, _targets;
    private Tensor _h, _c;

    public TorchCharRnnTrainer(CharRnnBatch batch, int seed)
    {
        TorchRuntime.EnsureReady();
        var reference = new CharRnn();
        reference.InitializeParameters(seed);
        ModelInfo info = CharRnn.Info;
        _lstm = nn.LSTM(CharRnn.InputSize, CharRnn.HiddenSize, CharRnn.LayerCount);
        _head = nn.Linear(CharRnn.HiddenSize, CharRnn.OutputSize);
        TorchModels.Load(_lstm, name => name, info, reference.Parameters, trainable: true);
        TorchModels.Load(_head, name => "head." + name, info, reference.Parameters, trainable: true);
        _parameters = [.. _lstm.parameters(), .. _head.parameters()];
        _optimizer = optim.RMSProp(_parameters, lr: RnnGenCharRnnTrainer.LearningRate, alpha: RnnGenCharRnnTrainer.Alpha);

        int b = batch.Sequences;
        var oneHot = new float[CharRnnBatch.Steps * b * CharRnnBatch.Vocabulary];
        var targets = new long[CharRnnBatch.Steps * b];
        for (int t = 0; t < CharRnnBatch.Steps; t++)
        {
            for (int s = 0; s < b; s++)
            {
                oneHot[(t * b + s) * CharRnnBatch.Vocabulary + batch.Inputs[s][t]] = 1;
                targets[t * b + s] = batch.Targets[s][t];
            }
        }
        _inputs = tensor(oneHot, [CharRnnBatch.Steps, b, CharRnnBatch.Vocabulary]);
        _targets = tensor(targets, [CharRnnBatch.Steps * b]);
        _h = zeros(CharRnn.LayerCount, b, CharRnn.HiddenSize);
        _c = zeros(CharRnn.LayerCount, b, CharRnn.HiddenSize);
    }

    /// <summary>One update; returns the loss.</summary>
    public float Update()
    {
        using var scope = NewDisposeScope();
        _optimizer.zero_grad();
        var (y, h, c) = _lstm.call(_inputs, (_h, _c));
        Tensor logits = _head.call(y).reshape(-1, CharRnnBatch.Vocabulary);
        Tensor loss = nn.functional.cross_entropy(logits, _targets);
        loss.backward();
        nn.utils.clip_grad_value_(_parameters, RnnGenCharRnnTrainer.GradientClip);
        _optimizer.step();
        _h.Dispose();
        _c.Dispose();
        _h = h.detach().DetachFromDisposeScope();
        _c = c.detach().DetachFromDisposeScope();
        return loss.ToSingle();
    }

    public void Dispose()
    {
        _h.Dispose();
        _c.Dispose();
        _inputs.Dispose();
        _targets.Dispose();
        _optimizer.Dispose();
        _head.Dispose();
        _lstm.Dispose();
    }
}
