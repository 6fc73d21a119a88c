namespace RnnGen.Tests.Training;

/// <summary>Sequences, datasets (stream layout, split) and the metrics of Evaluate.</summary>
public class DatasetAndEvaluationTests
{
    [Fact]
    public void FromTokenStream_CutsTheCorpusIntoParallelNextTokenStreams()
    {
        var corpus = Enumerable.Range(100, 23).ToArray();   // 23 tokens → (23 − 1) / 4 = 5 steps per stream, 2 left over
        var data = SequenceDataset<float>.FromTokenStream(corpus, streams: 4);

        Assert.Equal(4, data.Count);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(Enumerable.Range(100 + 5 * i, 5), data[i].Tokens.ToArray());
            Assert.Equal(Enumerable.Range(101 + 5 * i, 5), data[i].Labels.ToArray());
            Assert.True(data[i].HasTokens && data[i].HasLabels);
        }
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data[3].Tokens, out var segment) && segment.Array == corpus);
    }

    [Fact]
    public void FromTokenStream_BadArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SequenceDataset<float>.FromTokenStream(new int[10], 0));
        Assert.Contains("needs at least streams + 1 = 5 tokens",
            Assert.Throws<ArgumentException>(() => SequenceDataset<float>.FromTokenStream(new int[4], 4)).Message);
        Assert.Equal(4, SequenceDataset<float>.FromTokenStream(new int[5], 4).Count);
        // streams + 1 counted in long: int.MaxValue streams need 2,147,483,648 tokens, not −2,147,483,648
        Assert.Contains("needs at least streams + 1 = 2147483648 tokens",
            Assert.Throws<ArgumentException>(() => SequenceDataset<float>.FromTokenStream(new int[10], int.MaxValue)).Message);
    }

    [Fact]
    public void Split_IsSeededDisjointCompleteAndKeepsOrder()
    {
        var data = new SequenceDataset<float>(Enumerable.Range(0, 50).Select(i => TrainingSequence<float>.FromTokens(new[] { i }, new[] { 0 })));
        var (training, validation) = data.Split(0.2, seed: 4);
        var (training2, validation2) = data.Split(0.2, seed: 4);
        var (_, validation3) = data.Split(0.2, seed: 5);

        int[] Ids(SequenceDataset<float> d) => d.Select(s => s.Tokens.Span[0]).ToArray();
        Assert.Equal(10, validation.Count);
        Assert.Equal(40, training.Count);
        Assert.Equal(Enumerable.Range(0, 50), Ids(training).Concat(Ids(validation)).Order());
        Assert.Equal(Ids(validation), Ids(validation).Order());
        Assert.Equal(Ids(training), Ids(training).Order());
        Assert.Equal(Ids(validation), Ids(validation2));
        Assert.Equal(Ids(training), Ids(training2));
        Assert.NotEqual(Ids(validation), Ids(validation3));
    }

    [Fact]
    public void Split_BadArguments()
    {
        var two = new SequenceDataset<float>([TrainingSequence<float>.FromTokens(new[] { 1 }, new[] { 0 }), TrainingSequence<float>.FromTokens(new[] { 2 }, new[] { 0 })]);
        Assert.Throws<ArgumentOutOfRangeException>(() => two.Split(0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => two.Split(1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => two.Split(double.NaN, 1));
        var (t, v) = two.Split(0.01, 1);   // at least one on each side
        Assert.Equal((1, 1), (t.Count, v.Count));
        Assert.Throws<InvalidOperationException>(() => new SequenceDataset<float>([two[0]]).Split(0.5, 1));
    }

    [Fact]
    public void Sequences_FactoriesCheckWhatTheyCan()
    {
        Assert.Contains("tokens is empty", Assert.Throws<ArgumentException>(() => TrainingSequence<float>.FromTokens(Array.Empty<int>(), new[] { 1 })).Message);
        Assert.Contains("labels has 2 entries but the sequence has 1 steps",
            Assert.Throws<ArgumentException>(() => TrainingSequence<float>.FromTokens(new[] { 1 }, new[] { 1, 2 })).Message);
        Assert.Contains("inputs is empty", Assert.Throws<ArgumentException>(() => TrainingSequence<float>.FromVectors(Array.Empty<float>(), new[] { 1 })).Message);
        Assert.Contains("sequences[1] is an empty TrainingSequence",
            Assert.Throws<ArgumentException>(() => new SequenceDataset<float>([TrainingSequence<float>.FromTokens(new[] { 1 }, new[] { 0 }), default])).Message);

        var s = TrainingSequence<double>.FromVectors(new double[12], new double[8]);
        Assert.Equal((4, 2, false, false), (s.StepCount(3), s.TargetStepCount(4), s.HasTokens, s.HasLabels));
        // a width below 1 is no model's: refused (it was taken as 1, so 12 values of a 0-wide input read as 12 steps)
        Assert.Equal("inputSize", Assert.Throws<ArgumentOutOfRangeException>(() => s.StepCount(0)).ParamName);
        Assert.Equal("outputWidth", Assert.Throws<ArgumentOutOfRangeException>(() => s.TargetStepCount(-1)).ParamName);
    }

    private static SequenceDataset<double> EvaluationData() => new(
    [
        TrainingSequence<double>.FromTokens(new[] { 1, 4, 0, 3, 3, 2, 1 }, new[] { 2, -1, 0, 3, 1, -1, 2 }),
        TrainingSequence<double>.FromTokens(new[] { 0, 2, 2 }, new[] { 3 }),
        TrainingSequence<double>.FromTokens(new[] { 4, 4, 1, 0, 2 }, new[] { 1, 1, 0, 0, 3 }),
    ]);

    /// <summary>
    /// Evaluate against a hand computation: step-by-step inference, −log softmax at every counted step, accuracy of the
    /// arg-max; perplexity e^loss and bits = loss / ln 2. Batches of 2 and windows of 3 with the state carried change
    /// nothing in the result.
    /// </summary>
    [Fact]
    public void Evaluate_MatchesAHandComputation()
    {
        var model = new TinyTokenModel();
        model.InitializeParameters(9);
        var data = EvaluationData();
        double sum = 0;
        int counted = 0, correct = 0;
        var output = new double[TinyTokenModel.OutputWidth];
        foreach (var s in data)
        {
            var state = new TinyTokenModel.State();
            var tokens = s.Tokens.Span;
            var labels = s.Labels.Span;
            for (int t = 0; t < tokens.Length; t++)
            {
                model.Step(tokens[t], ref state, output);
                int k = t - (tokens.Length - labels.Length);
                if (k < 0 || labels[k] < 0) continue;
                double logZ = Math.Log(output.Sum(Math.Exp));
                sum += logZ - output[labels[k]];
                counted++;
                if (Array.IndexOf(output, output.Max()) == labels[k]) correct++;
            }
        }
        double expectedLoss = sum / counted;
        var before = model.Parameters.ToArray();

        var metrics = SequenceTrainer.Create(model, new Adam<double>(TinyTokenModel.ParameterCount),
            new TrainerOptions { BatchSize = 2, WindowLength = 3, WorkerCount = 2 }).Evaluate(data);

        Assert.Equal(expectedLoss, metrics.Loss, 1e-12);
        Assert.Equal(counted, metrics.Counted);
        Assert.Equal((double)correct / counted, metrics.Accuracy);
        Assert.Equal(Math.Exp(expectedLoss), metrics.Perplexity!.Value, 1e-12);
        Assert.Equal(expectedLoss / Math.Log(2), metrics.BitsPerToken!.Value, 1e-12);
        Assert.Equal(15, metrics.Tokens);
        Assert.Equal(before, model.Parameters.ToArray());
    }

    [Fact]
    public void Evaluate_DenseLoss_HasNoClassificationMetrics()
    {
        var model = new TinyDenseGru();
        model.InitializeParameters(2);
        var data = new SequenceDataset<double>([TrainingSequence<double>.FromVectors(new[] { 1.0, 2, 3, 4 }, new[] { 0.5, 0.5 })]);
        var metrics = SequenceTrainer.Create(model, new Adam<double>(TinyDenseGru.ParameterCount), new TrainerOptions { Loss = SequenceLoss.MeanSquaredError }).Evaluate(data);

        var lanes = new[] { new ReferenceLoss.Lane(data[0], 0, 2, null) };
        Assert.Equal(ReferenceLoss.Mean(model, lanes, SequenceLoss.MeanSquaredError), metrics.Loss, 1e-12);
        Assert.Equal(2, metrics.Counted);
        Assert.Null(metrics.Accuracy);
        Assert.Null(metrics.Perplexity);
        Assert.Null(metrics.BitsPerToken);
    }

    // an index outside the dataset is the caller's argument: ArgumentOutOfRangeException naming it, as List<T> throws,
    // not the IndexOutOfRangeException of the array inside
    [Fact]
    public void Indexer_OutOfRange_IsArgumentOutOfRange()
    {
        var data = SequenceDataset<float>.FromTokenStream(new int[10], streams: 2);
        Assert.Equal("index", Assert.Throws<ArgumentOutOfRangeException>(() => data[2]).ParamName);
        Assert.Equal("index", Assert.Throws<ArgumentOutOfRangeException>(() => data[-1]).ParamName);
        Assert.False(data[1].IsEmpty);
    }
}
