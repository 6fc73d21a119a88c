namespace RnnGen.Tests.Training;

/// <summary>The trainer makes real models learn: many-to-one, many-to-many, and long streams with carried state.</summary>
public class TrainerLearningTests
{
    /// <summary>Every bit string of 2 to 6 bits, labelled at its last step with its parity.</summary>
    private static SequenceDataset<float> ParityData()
    {
        var items = new List<TrainingSequence<float>>();
        for (int bits = 2; bits <= 6; bits++) items.AddRange(TaskData.Parity(bits));
        return new SequenceDataset<float>(items);
    }

    [Fact]
    public void ManyToOne_LstmLearnsParity_AtLeast95PercentValidationAccuracy()
    {
        var (training, validation) = ParityData().Split(0.25, seed: 3);
        var model = new ParityModel();
        model.InitializeParameters(1);
        var trainer = SequenceTrainer.Create(model, new Adam<float>(ParityModel.ParameterCount, learningRate: 0.02),
            new TrainerOptions { Epochs = 60, BatchSize = 8, Seed = 1 });

        var result = trainer.Train(training, validation);

        Assert.True(result.Epochs[^1].Validation!.Value.Accuracy >= 0.95, $"validation accuracy {result.Epochs[^1].Validation!.Value.Accuracy}");
        // Independent check of the claim: run the trained model step by step on the unseen strings and take the arg-max.
        int correct = 0;
        var output = new float[2];
        foreach (var s in validation)
        {
            var state = new ParityModel.State();
            var inputs = s.Inputs.Span;
            for (int t = 0; t < inputs.Length / 2; t++) model.Step(inputs.Slice(2 * t, 2), ref state, output);
            if ((output[1] > output[0] ? 1 : 0) == s.Labels.Span[0]) correct++;
        }
        Assert.True(correct >= 0.95 * validation.Count, $"{correct} of {validation.Count} correct");
    }

    [Fact]
    public void ManyToMany_LstmLearnsToEchoTheTokenFromTwoStepsAgo_NearZeroLoss()
    {
        var (training, validation) = TaskData.Echo<float>(120, 20, vocabulary: 4, delay: 2, seed: 5).Split(0.2, seed: 1);
        var model = new EchoModel();
        model.InitializeParameters(1);
        var trainer = SequenceTrainer.Create(model, new Adam<float>(EchoModel.ParameterCount, learningRate: 0.02),
            new TrainerOptions { Epochs = 25, BatchSize = 8, Seed = 1 });

        var result = trainer.Train(training, validation);

        double first = result.Epochs[0].Training.Loss, last = result.Epochs[^1].Validation!.Value.Loss;
        Assert.True(first > 0.5, $"first epoch loss {first}");   // ln 4 ≈ 1.39 at the start
        Assert.True(last < 0.01, $"validation loss {last}");
        Assert.Equal(1.0, result.Epochs[^1].Validation!.Value.Accuracy);
    }

    /// <summary>
    /// Long sequences cut into windows of 5 (as a char-rnn stream): with the state carried from window to window the model
    /// echoes correctly even at a window's first two steps, whose answer was only seen in the previous window. Evaluating
    /// the same model with the state reset at every window shows what the carried state was worth.
    /// </summary>
    [Fact]
    public void LongStreams_StateCarriedAcrossWindows()
    {
        var data = TaskData.Echo<float>(8, 400, vocabulary: 4, delay: 2, seed: 9);
        var model = new EchoModel();
        model.InitializeParameters(2);
        var options = new TrainerOptions { Epochs = 8, BatchSize = 8, WindowLength = 5, Seed = 1 };
        var result = SequenceTrainer.Create(model, new Adam<float>(EchoModel.ParameterCount, learningRate: 0.02), options).Train(data);
        Assert.Equal(8 * 80, result.Steps);   // one update per window: 400 / 5 windows per epoch

        var carried = SequenceTrainer.Create(model, new Adam<float>(EchoModel.ParameterCount), options).Evaluate(data);
        var reset = SequenceTrainer.Create(model, new Adam<float>(EchoModel.ParameterCount), new TrainerOptions { WindowLength = 5, CarryState = false }).Evaluate(data);

        Assert.True(carried.Accuracy > 0.99, $"accuracy with carried state {carried.Accuracy}");
        // Without the carried state the first two steps of every window (2 of 5) are guesses among 4 tokens.
        Assert.True(reset.Accuracy < 0.85, $"accuracy with the state reset per window {reset.Accuracy}");
        Assert.True(reset.Loss > 5 * carried.Loss);
    }

    /// <summary>A corpus laid out by FromTokenStream trains as one batch of parallel streams, one update per window.</summary>
    [Fact]
    public void TokenStream_CharRnnLayout_LossFalls()
    {
        // A text of a repeating pattern: after '0' comes '0' or '1' depending on the position, so memory helps.
        int[] pattern = [0, 0, 1, 2, 0, 3, 1, 2];
        var corpus = new int[4001];
        for (int i = 0; i < corpus.Length; i++) corpus[i] = pattern[i % pattern.Length];
        var data = SequenceDataset<float>.FromTokenStream(corpus, streams: 10);
        var model = new EchoModel();
        model.InitializeParameters(3);
        var trainer = SequenceTrainer.Create(model, new RmsProp<float>(EchoModel.ParameterCount, learningRate: 0.02),
            new TrainerOptions { Epochs = 6, BatchSize = 10, WindowLength = 20, ClipGradientValue = 5 });

        var result = trainer.Train(data);

        Assert.Equal(6 * 20, result.Steps);   // 400 steps per stream / 20 per window, 6 epochs
        Assert.True(result.Epochs[^1].Training.Loss < 0.1, string.Join(" ", result.Epochs.Select(e => e.Training.Loss)));
        Assert.Equal(400 * 10, result.Epochs[0].Training.Tokens);
    }
}
