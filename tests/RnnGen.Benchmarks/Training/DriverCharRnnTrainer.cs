namespace RnnGen.Benchmarks.Training;

/// <summary>
/// char-rnn's training through the runtime's sequence driver (<see cref="SequenceTrainer{TModel, T}"/>): 50 token
/// streams of <see cref="StreamLength"/> characters, minibatches of all 50 streams, windows of 50 steps with the state
/// carried from window to window, softmax cross-entropy, element-wise clip at 5, RMSProp (lr 2e-3, α 0.95), on
/// <paramref name="workers"/> worker threads. One <see cref="Epoch"/> = StreamLength / 50 updates of 50 × 50 characters.
/// </summary>
/// <param name="workers">The trainer's worker threads (lanes of the minibatch run in parallel; gradients summed in lane order).</param>
/// <param name="seed">Weights and tokens.</param>
internal sealed class DriverCharRnnTrainer(int workers, int seed, int streams = DriverCharRnnTrainer.Streams)
{
    public const int Streams = 50, StreamLength = 500;

    /// <summary>Characters trained per <see cref="Epoch"/>.</summary>
    public const int CharactersPerEpoch = Streams * StreamLength;

    private readonly SequenceTrainer<CharRnn, float> _trainer = SequenceTrainer.Create(
        Initialized(seed),
        new RmsProp<float>(CharRnn.ParameterCount, RnnGenCharRnnTrainer.LearningRate, RnnGenCharRnnTrainer.Alpha),
        new TrainerOptions
        {
            Epochs = 1,
            BatchSize = streams,
            WindowLength = CharRnnBatch.Steps,
            CarryState = true,
            Shuffle = false,
            WorkerCount = workers,
            Loss = SequenceLoss.SoftmaxCrossEntropy,
            ClipGradientValue = RnnGenCharRnnTrainer.GradientClip,
            Seed = seed,
        });

    private readonly SequenceDataset<float> _data = SequenceDataset<float>.FromTokenStream(Corpus(seed), streams);

    /// <summary>One pass over the 50 streams; returns the epoch's mean training loss.</summary>
    public double Epoch() => _trainer.Train(_data).Epochs[^1].Training.Loss;

    private static CharRnn Initialized(int seed)
    {
        var model = new CharRnn();
        model.InitializeParameters(seed);
        return model;
    }

    private static int[] Corpus(int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, CharactersPerEpoch + 1).Select(_ => random.Next(CharRnnBatch.Vocabulary))];
    }
}
