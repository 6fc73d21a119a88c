namespace RnnGen.Tests.Training;

/// <summary>
/// The gradients the trainer hands to the optimizer, against references: full BPTT run by hand on the model, and central
/// finite differences (double) of an independently computed batch loss. A <see cref="RecordingOptimizer{T}"/> (learning
/// rate 0) captures each step's gradients and leaves the parameters alone, so every window sees the same parameters.
/// </summary>
public class TrainerGradientTests
{
    private static TinyTokenModel NewTokenModel()
    {
        var model = new TinyTokenModel();
        model.InitializeParameters(7);
        return model;
    }

    private static TrainingSequence<double> TokenSequence(int[] tokens, int[] labels) => TrainingSequence<double>.FromTokens(tokens, labels);

    /// <summary>A window covering the whole sequence gives exactly the gradient of a hand-written full-BPTT pass.</summary>
    [Theory]
    [InlineData(null)]
    [InlineData(7)]
    [InlineData(50)]
    public void WindowCoveringTheSequence_IsFullBptt_BitForBit(int? window)
    {
        var tokens = new[] { 1, 4, 0, 3, 3, 2, 1 };
        var labels = new[] { 2, -1, 0, 3, 1, -1, 2 };
        var model = NewTokenModel();

        // Reference: one Forward over all 7 steps, the loss, one Backward.
        var reference = new TinyTokenModel();
        model.Parameters.CopyTo(reference.Parameters);
        reference.ParametersChanged();
        var state = new TinyTokenModel.State();
        var tape = new TinyTokenModel.Tape(7);
        var outputs = new double[7 * TinyTokenModel.OutputWidth];
        reference.Forward(tokens, ref state, tape, outputs);
        var dOutputs = new double[outputs.Length];
        global::RnnGen.Losses.SoftmaxCrossEntropy<double>(outputs, labels, dOutputs);
        reference.Backward(tape, dOutputs);

        var optimizer = new RecordingOptimizer<double>(TinyTokenModel.ParameterCount);
        var trainer = SequenceTrainer.Create(model, optimizer, new TrainerOptions { Epochs = 1, WindowLength = window, WorkerCount = 2 });
        trainer.Train(new SequenceDataset<double>([TokenSequence(tokens, labels)]));

        var recorded = Assert.Single(optimizer.Gradients);
        Assert.Equal(reference.Gradients.ToArray(), recorded);
    }

    /// <summary>
    /// A batch of sequences of different lengths, with ignored steps and many-to-one labels: the gradient is that of the
    /// mean over every counted step of the batch (PyTorch's CrossEntropyLoss over the flattened batch).
    /// </summary>
    [Fact]
    public void CrossEntropyBatch_IsGradientOfMeanOverCountedSteps()
    {
        var sequences = new[]
        {
            TokenSequence([1, 4, 0, 3, 3, 2], [2, -1, 0, 3, 1, -1]),
            TokenSequence([0, 2, 2], [1, 3, 3]),
            TokenSequence([4, 4, 1, 0, 2, 3, 1, 0], [3]),          // many-to-one: one label, for the last step
        };
        var model = NewTokenModel();
        var optimizer = new RecordingOptimizer<double>(TinyTokenModel.ParameterCount);
        SequenceTrainer.Create(model, optimizer, new TrainerOptions { Epochs = 1, BatchSize = 3, WorkerCount = 2 })
            .Train(new SequenceDataset<double>(sequences));

        var lanes = sequences.Select(s => new ReferenceLoss.Lane(s, 0, s.StepCount(TinyTokenModel.InputSize), null)).ToList();
        var expected = ReferenceLoss.Gradient(model, () => ReferenceLoss.Mean(model, lanes, SequenceLoss.SoftmaxCrossEntropy));
        Assert.True(RnnGen.Tests.Generated.Harness.RelativeError(Assert.Single(optimizer.Gradients), expected) < 1e-7);
    }

    /// <summary>
    /// Four sequences of one length, so that several lanes run in one lockstep group, with different numbers of ignored
    /// steps: each lane's share is weighted by its own counted steps (a weight taken from another lane of the group, e.g.
    /// its first, passed every test with groups of one lane).
    /// </summary>
    [Fact]
    public void CrossEntropyBatch_OfOneLength_WeighsEveryLaneOfAGroupByItsOwnCount()
    {
        var sequences = new[]
        {
            TokenSequence([1, 4, 0, 3, 3, 2], [2, -1, -1, -1, 1, -1]),
            TokenSequence([0, 2, 2, 1, 4, 0], [1, 3, 3, 0, 2, 1]),
            TokenSequence([4, 4, 1, 0, 2, 3], [-1, -1, -1, -1, -1, 3]),
            TokenSequence([3, 1, 1, 2, 0, 4], [0, -1, 2, -1, 3, -1]),
        };
        var model = NewTokenModel();
        var optimizer = new RecordingOptimizer<double>(TinyTokenModel.ParameterCount);
        SequenceTrainer.Create(model, optimizer, new TrainerOptions { Epochs = 1, BatchSize = 4, WorkerCount = 2, Shuffle = false })
            .Train(new SequenceDataset<double>(sequences));

        var lanes = sequences.Select(s => new ReferenceLoss.Lane(s, 0, s.StepCount(TinyTokenModel.InputSize), null)).ToList();
        var expected = ReferenceLoss.Gradient(model, () => ReferenceLoss.Mean(model, lanes, SequenceLoss.SoftmaxCrossEntropy));
        Assert.True(RnnGen.Tests.Generated.Harness.RelativeError(Assert.Single(optimizer.Gradients), expected) < 1e-7);
    }

    /// <summary>Dense targets aligned to the end of the sequence, with MSE and BCE: the mean over every target element of the batch.</summary>
    [Theory]
    [InlineData(SequenceLoss.MeanSquaredError)]
    [InlineData(SequenceLoss.BinaryCrossEntropyWithLogits)]
    public void DenseLossBatch_IsGradientOfMeanOverTargetElements(SequenceLoss loss)
    {
        var sequences = new[]
        {
            // 4 steps × 2 inputs, targets for all 4 steps (many-to-many)
            TrainingSequence<double>.FromVectors(new[] { 0.5, -1, 0.25, 0.75, -0.5, 0.1, 1, 0 }, new[] { 1.0, 0, 0.2, 0.9, 0, 0, 1, 1 }),
            // 3 steps, a target for the last step only (many-to-one)
            TrainingSequence<double>.FromVectors(new[] { 1.0, 1, -1, 0.3, 0.2, -0.7 }, new[] { 0.4, 1 }),
            // 5 steps, targets for the last 4 (one-to-many after a seed step)
            TrainingSequence<double>.FromVectors(new[] { 1.0, -1, 0, 0, 0, 0, 0, 0, 0, 0 }, new[] { 0.0, 1, 1, 0, 0.5, 0.5, 1, 1 }),
        };
        var model = new TinyDenseGru();
        model.InitializeParameters(3);
        var optimizer = new RecordingOptimizer<double>(TinyDenseGru.ParameterCount);
        SequenceTrainer.Create(model, optimizer, new TrainerOptions { Epochs = 1, BatchSize = 3, Loss = loss, WorkerCount = 2 })
            .Train(new SequenceDataset<double>(sequences));

        var lanes = sequences.Select(s => new ReferenceLoss.Lane(s, 0, s.StepCount(TinyDenseGru.InputSize), null)).ToList();
        var expected = ReferenceLoss.Gradient(model, () => ReferenceLoss.Mean(model, lanes, loss));
        Assert.True(RnnGen.Tests.Generated.Harness.RelativeError(Assert.Single(optimizer.Gradients), expected) < 1e-7);
    }

    /// <summary>
    /// Truncated BPTT with windows shorter than the sequences: one update per window; each window's gradient is the
    /// derivative of that window's mean loss with the window's starting state held fixed — the state is carried forward
    /// from the previous window (CarryState) or zero (no carry), but no gradient flows back into earlier windows.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ShorterWindows_GradientOfEachWindowWithItsStartStateHeldFixed(bool carryState)
    {
        var sequences = new[]
        {
            TokenSequence([1, 4, 0, 3, 3, 2, 1], [2, -1, 0, 3, 1, -1, 2]),  // windows [0,3) [3,6) [6,7)
            TokenSequence([0, 2, 2, 4, 1], [1, 3, 3, 0, 2]),              // windows [0,3) [3,5)
        };
        const int window = 3;
        var model = NewTokenModel();
        var optimizer = new RecordingOptimizer<double>(TinyTokenModel.ParameterCount);
        SequenceTrainer.Create(model, optimizer, new TrainerOptions
        {
            Epochs = 1, BatchSize = 2, WindowLength = window, CarryState = carryState, Shuffle = false, WorkerCount = 2,
        }).Train(new SequenceDataset<double>(sequences));

        Assert.Equal(3, optimizer.Gradients.Count);
        for (int w = 0; w < 3; w++)
        {
            var lanes = new List<ReferenceLoss.Lane>();
            foreach (var s in sequences)
            {
                int steps = s.StepCount(TinyTokenModel.InputSize);
                int from = w * window;
                if (from >= steps) continue;
                double[]? start = carryState && from > 0 ? ReferenceLoss.StateAfter(model, s, from) : null;
                lanes.Add(new ReferenceLoss.Lane(s, from, Math.Min(from + window, steps), start));
            }
            var expected = ReferenceLoss.Gradient(model, () => ReferenceLoss.Mean(model, lanes, SequenceLoss.SoftmaxCrossEntropy));
            Assert.True(RnnGen.Tests.Generated.Harness.RelativeError(optimizer.Gradients[w], expected) < 1e-7, $"window {w}");
        }
    }

    /// <summary>
    /// What truncation loses, documented: with a window of 3 the windows' gradients differ from the full-BPTT gradient of
    /// the same loss (their sum misses every path from a loss back across a window boundary).
    /// </summary>
    [Fact]
    public void ShorterWindows_DifferFromFullBptt()
    {
        var s = TokenSequence([1, 4, 0, 3, 3, 2], [2, 1, 0, 3, 1, 0]);
        var model = NewTokenModel();
        var truncated = new RecordingOptimizer<double>(TinyTokenModel.ParameterCount);
        SequenceTrainer.Create(model, truncated, new TrainerOptions { Epochs = 1, WindowLength = 3 }).Train(new SequenceDataset<double>([s]));
        var full = new RecordingOptimizer<double>(TinyTokenModel.ParameterCount);
        SequenceTrainer.Create(model, full, new TrainerOptions { Epochs = 1 }).Train(new SequenceDataset<double>([s]));

        // Both windows count 3 steps, so the full mean = (window mean 1 + window mean 2) / 2.
        var sum = new double[TinyTokenModel.ParameterCount];
        for (int i = 0; i < sum.Length; i++) sum[i] = (truncated.Gradients[0][i] + truncated.Gradients[1][i]) / 2;
        double error = RnnGen.Tests.Generated.Harness.RelativeError(sum, Assert.Single(full.Gradients));
        Assert.True(error > 1e-3, $"relative difference {error}");

        // ... while the untruncated run is the finite-difference gradient of the whole sequence's mean loss.
        var lanes = new[] { new ReferenceLoss.Lane(s, 0, 6, null) };
        var fd = ReferenceLoss.Gradient(model, () => ReferenceLoss.Mean(model, lanes, SequenceLoss.SoftmaxCrossEntropy));
        Assert.True(RnnGen.Tests.Generated.Harness.RelativeError(fd, full.Gradients[0]) < 1e-7);
    }
}
