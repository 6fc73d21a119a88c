namespace RnnGen.Tests.Training;

/// <summary>Bad options and bad data are refused with a clear message before anything changes.</summary>
public class TrainerConfigurationTests
{
    public static TheoryData<string, TrainerOptions> BadOptions => new()
    {
        { "Epochs", new TrainerOptions { Epochs = 0 } },
        { "BatchSize", new TrainerOptions { BatchSize = 0 } },
        { "WindowLength", new TrainerOptions { WindowLength = 0 } },
        { "WorkerCount", new TrainerOptions { WorkerCount = 0 } },
        { "Loss", new TrainerOptions { Loss = (SequenceLoss)7 } },
        { "NonFinite", new TrainerOptions { NonFinite = (NonFiniteHandling)3 } },
        { "ClipGradientValue", new TrainerOptions { ClipGradientValue = 0 } },
        { "ClipGradientValue", new TrainerOptions { ClipGradientValue = double.NaN } },
        { "ClipGradientNorm", new TrainerOptions { ClipGradientNorm = -1 } },
        { "ClipGradientNorm", new TrainerOptions { ClipGradientNorm = double.PositiveInfinity } },
        // valid doubles that a float model's precision cannot hold: they would zero every gradient, or never clip
        { "ClipGradientValue", new TrainerOptions { ClipGradientValue = 1e-50 } },
        { "ClipGradientNorm", new TrainerOptions { ClipGradientNorm = 1e-46 } },
        { "ClipGradientValue", new TrainerOptions { ClipGradientValue = 1e40 } },
        { "Patience", new TrainerOptions { Patience = 0 } },
        { "MinImprovement", new TrainerOptions { MinImprovement = -0.1 } },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void BadOption_ThrowsNamingIt(string name, TrainerOptions options)
    {
        var model = new SmallRnn();
        var e = Assert.ThrowsAny<ArgumentException>(() => SequenceTrainer.Create(model, new Adam<float>(SmallRnn.ParameterCount), options));
        Assert.Equal(name, e.ParamName);
        Assert.Contains($"TrainerOptions.{name}", e.Message);
    }

    // the same limits are fine for a double model
    [Fact]
    public void LimitsADoubleHolds_AreAcceptedForADoubleModel() =>
        Assert.NotNull(SequenceTrainer.Create(new ReluRnn(), new Sgd<double>(ReluRnn.ParameterCount, learningRate: 0.1),
            new TrainerOptions { ClipGradientValue = 1e-50, ClipGradientNorm = 1e40 }));

    // options are a record: `with` makes a variant (checked like any other when a trainer takes it), equal settings are equal
    [Fact]
    public void Options_WithMakesAVariant_CheckedByTheTrainer()
    {
        var options = new TrainerOptions { Epochs = 3, BatchSize = 4 };
        var longer = options with { Epochs = 7 };
        Assert.Equal((7, 4), (longer.Epochs, longer.BatchSize));
        Assert.Equal(3, options.Epochs);
        Assert.Equal(options, new TrainerOptions { Epochs = 3, BatchSize = 4 });
        Assert.Equal("BatchSize", Assert.Throws<ArgumentException>(() => SequenceTrainer.Create(new SmallRnn(), new Adam<float>(SmallRnn.ParameterCount), options with { BatchSize = 0 })).ParamName);
    }

    [Fact]
    public void OptimizerForAnotherModel_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => SequenceTrainer.Create(new SmallRnn(), new Adam<float>(SmallRnn.ParameterCount + 1)));
        Assert.Equal("optimizer", e.ParamName);
        Assert.Contains("SmallRnn.ParameterCount", e.Message);
    }

    private static readonly int[] Tokens = [1, 2, 3];

    public static TheoryData<string, TrainingSequence<float>, SequenceLoss> BadTokenSequences => new()
    {
        { "has dense Inputs, but the model takes token ids", TrainingSequence<float>.FromVectors(new float[6], new[] { 1 }), SequenceLoss.SoftmaxCrossEntropy },
        { "has token 6 at step 1; token ids must be in [0, 5]", TrainingSequence<float>.FromTokens(new[] { 1, 6 }, new[] { 1 }), SequenceLoss.SoftmaxCrossEntropy },
        { "has token -1 at step 0", TrainingSequence<float>.FromTokens(new[] { -1 }, new[] { 1 }), SequenceLoss.SoftmaxCrossEntropy },
        { "has label 6 at target 2; labels must be classes in [0, 5]", TrainingSequence<float>.FromTokens(Tokens, new[] { 1, -1, 6 }), SequenceLoss.SoftmaxCrossEntropy },
        { "has label -2 at target 0", TrainingSequence<float>.FromTokens(Tokens, new[] { -2 }), SequenceLoss.SoftmaxCrossEntropy },
        { "has dense Targets, but the loss SoftmaxCrossEntropy needs class Labels", TrainingSequence<float>.FromTokens(Tokens, new float[6]), SequenceLoss.SoftmaxCrossEntropy },
        { "has class Labels, but the loss MeanSquaredError needs dense Targets", TrainingSequence<float>.FromTokens(Tokens, new[] { 1 }), SequenceLoss.MeanSquaredError },
        { "has 7 target values, which is not a whole number of steps of OutputWidth = 6", TrainingSequence<float>.FromTokens(Tokens, new float[7]), SequenceLoss.MeanSquaredError },
        { "has targets for 4 steps but only 3 steps", TrainingSequence<float>.FromTokens(Tokens, new float[24]), SequenceLoss.MeanSquaredError },
        { "has target NaN at value 3; targets must be finite", TrainingSequence<float>.FromTokens(Tokens, new[] { 0, 0, 0, float.NaN, 0, 0 }), SequenceLoss.MeanSquaredError },
        { "has target 2 at value 0; BinaryCrossEntropyWithLogits needs targets in [0, 1]", TrainingSequence<float>.FromTokens(Tokens, new[] { 2f, 0, 0, 0, 0, 0 }), SequenceLoss.BinaryCrossEntropyWithLogits },
        { "is an empty TrainingSequence", default, SequenceLoss.SoftmaxCrossEntropy },
    };

    [Theory]
    [MemberData(nameof(BadTokenSequences))]
    public void BadSequence_ThrowsNamingDatasetAndIndex_BeforeAnyChange(string problem, TrainingSequence<float> bad, SequenceLoss loss)
    {
        var model = new SmallRnn();
        model.InitializeParameters(1);
        var before = model.Parameters.ToArray();
        var optimizer = new Adam<float>(SmallRnn.ParameterCount);
        var trainer = SequenceTrainer.Create(model, optimizer, new TrainerOptions { Loss = loss });
        var good = loss == SequenceLoss.SoftmaxCrossEntropy
            ? TrainingSequence<float>.FromTokens(Tokens, new[] { 1, 2, 3 })
            : TrainingSequence<float>.FromTokens(Tokens, new float[6]);
        var data = new BadDataset([good, bad]);

        var e = Assert.Throws<ArgumentException>(() => trainer.Train(new BadDataset([good]), data));
        Assert.Equal("validation", e.ParamName);
        Assert.Contains($"validation[1] {problem}", e.Message);

        e = Assert.Throws<ArgumentException>(() => trainer.Train(data));
        Assert.Contains($"training[1] {problem}", e.Message);

        Assert.Equal(before, model.Parameters.ToArray());
        Assert.Equal(0, optimizer.StepCount);
    }

    // One optimizer's running averages belong to one model's parameters: a trainer for a second live model with the same
    // optimizer is refused (it would mix them without a word), and nothing of the first is changed; the same model may have
    // several trainers with it, and a collected model frees the optimizer for another.
    [Fact]
    public void AnOptimizerSteppingAnotherLiveModel_IsRefused()
    {
        var optimizer = new Adam<float>(SmallRnn.ParameterCount, learningRate: 0.01);
        var first = new SmallRnn();
        first.InitializeParameters(1);
        var firstTrainer = SequenceTrainer.Create(first, optimizer, new TrainerOptions { Epochs = 1, BatchSize = 4 });
        firstTrainer.Train(Echo(8));
        long steps = optimizer.StepCount;

        var e = Assert.Throws<ArgumentException>(() => SequenceTrainer.Create(new SmallRnn(), optimizer));
        Assert.Equal("optimizer", e.ParamName);
        Assert.Contains("This Adam already trains another SmallRnn", e.Message);
        Assert.Contains("Give each model its own optimizer", e.Message);
        Assert.Equal(steps, optimizer.StepCount);

        // the same model: a second trainer (other options) shares the optimizer
        var again = SequenceTrainer.Create(first, optimizer, new TrainerOptions { Epochs = 1, BatchSize = 2 });
        again.Train(Echo(8));
        Assert.True(optimizer.StepCount > steps);
        GC.KeepAlive(firstTrainer);
    }

    [Fact]
    public void AnOptimizerOfACollectedModel_MayTrainAnother()
    {
        var optimizer = new Sgd<float>(SmallRnn.ParameterCount, learningRate: 0.01);
        BindToAModelThatIsThenDropped(optimizer);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var model = new SmallRnn();
        model.InitializeParameters(2);
        SequenceTrainer.Create(model, optimizer).Train(Echo(4));
        Assert.True(optimizer.StepCount > 0);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void BindToAModelThatIsThenDropped(Optimizer<float> optimizer) => SequenceTrainer.Create(new SmallRnn(), optimizer);

    private static SequenceDataset<float> Echo(int count) => TaskData.Echo<float>(count, 12, vocabulary: 6, delay: 1, seed: 3);

    [Fact]
    public void DenseSequenceProblems_AreNamed()
    {
        var trainer = SequenceTrainer.Create(new ParityModel(), new Adam<float>(ParityModel.ParameterCount));
        Assert.Contains("training[0] has 3 input values, which is not a whole number of steps of InputSize = 2",
            Assert.Throws<ArgumentException>(() => trainer.Train(new BadDataset([TrainingSequence<float>.FromVectors(new float[3], new[] { 1 })]))).Message);
        Assert.Contains("training[0] has NaN or infinite input values",
            Assert.Throws<ArgumentException>(() => trainer.Train(new BadDataset([TrainingSequence<float>.FromVectors(new[] { 0, float.PositiveInfinity }, new[] { 1 })]))).Message);
        Assert.Contains("training[0] has token ids, but the model reads dense vectors of 2 values",
            Assert.Throws<ArgumentException>(() => trainer.Train(new BadDataset([TrainingSequence<float>.FromTokens(new[] { 1 }, new[] { 1 })]))).Message);
        Assert.Contains("training[0] has 2 labels for 1 steps",
            Assert.Throws<ArgumentException>(() => trainer.Train(new BadDataset([TrainingSequence<float>.FromVectors(new float[2], new[] { 1, 1 })]))).Message);
    }

    [Fact]
    public void EmptyOrNullDataset_Throws()
    {
        var trainer = SequenceTrainer.Create(new SmallRnn(), new Adam<float>(SmallRnn.ParameterCount));
        Assert.Contains("training has no sequences", Assert.Throws<ArgumentException>(() => trainer.Train(new BadDataset([]))).Message);
        Assert.Throws<ArgumentNullException>(() => trainer.Train(null!));
        Assert.Contains("data has no sequences", Assert.Throws<ArgumentException>(() => trainer.Evaluate(new BadDataset([]))).Message);
    }

    [Fact]
    public void TrainingWhileTraining_Throws()
    {
        var model = new SmallRnn();
        model.InitializeParameters(1);
        var trainer = SequenceTrainer.Create(model, new Adam<float>(SmallRnn.ParameterCount), new TrainerOptions { Epochs = 1 });
        var data = TaskData.Echo<float>(2, 4, 6, 1, 1);
        Exception? inner = null;
        trainer.Train(data, progress: new SyncProgress<TrainingProgress>(_ => inner ??= Record.Exception(() => trainer.Train(data))));
        Assert.IsType<InvalidOperationException>(inner);
        Assert.Contains("already running", inner!.Message);
        trainer.Train(data);   // and it can run again afterwards
    }

    // A model never initialized has every parameter 0: its weights get no gradient, so training is refused up front.
    [Fact]
    public void AModelWithEveryParameterZero_IsRefused_AskingForInitializeParameters()
    {
        var model = new SmallRnn();
        var trainer = SequenceTrainer.Create(model, new Adam<float>(SmallRnn.ParameterCount), new TrainerOptions { Epochs = 1 });
        var e = Assert.Throws<InvalidOperationException>(() => trainer.Train(TaskData.Echo<float>(4, 6, 6, 1, 1)));
        Assert.Contains("all zero", e.Message);
        Assert.Contains("InitializeParameters(seed)", e.Message);
        model.Parameters[5] = 0.25f;                              // any non-zero parameter: trained as usual
        trainer.Train(TaskData.Echo<float>(4, 6, 6, 1, 1));
    }

    // Data without a single target: nothing to learn, refused with the dataset's name (labels of -1 only, or none).
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DataWithoutATarget_IsRefused(bool inValidation)
    {
        var model = new SmallRnn();
        model.InitializeParameters(1);
        var trainer = SequenceTrainer.Create(model, new Adam<float>(SmallRnn.ParameterCount), new TrainerOptions { Epochs = 1 });
        var none = new SequenceDataset<float>([TrainingSequence<float>.FromTokens(new[] { 1, 2, 3 }, new[] { -1, -1, -1 }),
                                               TrainingSequence<float>.FromTokens(new[] { 4, 5 }, Array.Empty<int>())]);
        var some = TaskData.Echo<float>(4, 6, 6, 1, 1);
        float[] before = model.Parameters.ToArray();
        var e = Assert.Throws<ArgumentException>(() => trainer.Train(inValidation ? some : none, inValidation ? none : null));
        Assert.Equal(inValidation ? "validation" : "training", e.ParamName);
        Assert.Contains("has no target", e.Message);
        Assert.Equal(before, model.Parameters.ToArray());
    }

    // An update that turns finite gradients into NaN parameters (Adam with ε = 0 divides 0 by 0 wherever a gradient is 0)
    // is an error whatever NonFinite says: the message says the parameters are lost and why, instead of skipping forever.
    // Both paths: the one-core update (SmallRnn), and the layer pipeline of a two-layer model at batch 1, where each core
    // checks the parameters it stepped (on two workers and on one).
    [Theory]
    [InlineData(NonFiniteHandling.Throw, 0)]
    [InlineData(NonFiniteHandling.Skip, 0)]
    [InlineData(NonFiniteHandling.Throw, 1)]
    [InlineData(NonFiniteHandling.Skip, 1)]
    [InlineData(NonFiniteHandling.Throw, 2)]
    [InlineData(NonFiniteHandling.Skip, 2)]
    public void AnUpdateThatMakesTheParametersNaN_Throws_SayingTheyAreLost(NonFiniteHandling handling, int pipelineWorkers)
    {
        if (pipelineWorkers == 0) CheckParametersLost<SmallRnn>(handling, workers: 1);
        else CheckParametersLost<RnnGen.Tests.Models.LstmFTokens>(handling, pipelineWorkers);
    }

    private static void CheckParametersLost<TModel>(NonFiniteHandling handling, int workers) where TModel : class, IRecurrentModel<TModel, float>
    {
        var model = TModel.Create();
        model.InitializeParameters(1);
        var trainer = SequenceTrainer.Create(model, new Adam<float>(TModel.Info.ParameterCount, epsilon: 0),
            new TrainerOptions { Epochs = 1, NonFinite = handling, BatchSize = 1, WorkerCount = workers });
        // tokens 0 and 1 only: the weights of the other tokens' columns get a zero gradient
        var data = new SequenceDataset<float>([TrainingSequence<float>.FromTokens(new[] { 0, 1, 0, 1 }, new[] { 1, 0, 1, 0 })]);
        var e = Assert.Throws<InvalidOperationException>(() => trainer.Train(data));
        Assert.Equal(TModel.Info.LayerCount > 1, trainer.LastRunner!.Pipelined); // the two-layer model takes the layer pipeline
        Assert.Contains("the update made parameters NaN or infinite although the loss", e.Message);
        Assert.Contains("The parameters are lost", e.Message);
        Assert.Contains("Adam's epsilon is 0, which divides 0 by 0 where a gradient is 0", e.Message);
        // and the model runs on them: its Step shows the loss instead of the old weights
        var output = new float[TModel.Info.OutputWidth];
        var state = model.CreateState();
        model.Step(3, state, output);                              // token 3's column got a zero gradient: 0 / 0
        Assert.Contains(output, float.IsNaN);
    }

    // The validation set never changes how training runs: one training stream with BatchSize 16 and a validation set of four
    // streams still trains as the layer pipeline, to the bits of the same run without validation (it switched the pipeline
    // off: the runner was sized for the larger of the two sets).
    [Fact]
    public void AValidationSetOfMoreSequences_DoesNotChangeTheTraining()
    {
        int[] corpus = [.. Enumerable.Range(0, 300).Select(i => (i * 7 + i / 5) % RnnGen.Tests.Models.LstmFTokens.InputSize)];
        var training = SequenceDataset<float>.FromTokenStream(corpus.AsMemory(0, 200), 1);
        var validation = SequenceDataset<float>.FromTokenStream(corpus.AsMemory(200), 4);
        float[] Train(ISequenceDataset<float>? validating, out bool pipelined)
        {
            var model = new RnnGen.Tests.Models.LstmFTokens();
            model.InitializeParameters(3);
            var trainer = SequenceTrainer.Create(model, new Adam<float>(model.Parameters.Length, learningRate: 0.01),
                new TrainerOptions { Epochs = 2, BatchSize = 16, WindowLength = 10, WorkerCount = 2 });
            trainer.Train(training, validating);
            pipelined = trainer.LastRunner!.Pipelined;
            return model.Parameters.ToArray();
        }
        float[] alone = Train(null, out bool pipelinedAlone);
        float[] validated = Train(validation, out bool pipelinedValidated);
        Assert.True(pipelinedAlone);
        Assert.True(pipelinedValidated);
        Assert.Equal(alone, validated);
    }

    // A learning rate too large for the model's precision: 1e39 is ∞ in float, refused when the optimizer is made; 1e38 is
    // finite, but RMSProp's first step (g / √((1 − α) g²), about 10) takes the parameters past float's range: the message
    // blames the rate, not epsilon.
    [Fact]
    public void AnUpdateBeyondThePrecision_BlamesTheLearningRate()
    {
        Assert.Contains("beyond the largest Single", Assert.Throws<ArgumentOutOfRangeException>(
            () => new RmsProp<float>(SmallRnn.Info.ParameterCount, learningRate: 1e39)).Message);
        var model = new SmallRnn();
        model.InitializeParameters(1);
        var trainer = SequenceTrainer.Create(model, new RmsProp<float>(SmallRnn.Info.ParameterCount, learningRate: 1e38),
            new TrainerOptions { Epochs = 1, BatchSize = 1, WorkerCount = 1 });
        var data = new SequenceDataset<float>([TrainingSequence<float>.FromTokens(new[] { 0, 1, 0, 1 }, new[] { 1, 0, 1, 0 })]);
        var e = Assert.Throws<InvalidOperationException>(() => trainer.Train(data));
        Assert.Contains("the learning rate 1E+38 took the parameters beyond what Single holds: lower it", e.Message);
        Assert.DoesNotContain("epsilon", e.Message);
    }

    // Without WindowLength every sequence is one window of full BPTT: beyond 10,000 steps (a token stream whose window was
    // forgotten) that is refused before anything runs, naming the option and the length that would make it deliberate.
    [Fact]
    public void LongSequencesWithoutAWindow_AskForWindowLength()
    {
        var model = new TinyCharModel();
        model.InitializeParameters(1);
        float[] before = model.Parameters.ToArray();
        var options = new TrainerOptions { Epochs = 1, BatchSize = 1, WorkerCount = 1 };
        SequenceTrainer<TinyCharModel, float> Trainer(TrainerOptions o) => SequenceTrainer.Create(model, new Adam<float>(TinyCharModel.ParameterCount), o);
        var corpus = new int[10_002];
        for (int i = 0; i < corpus.Length; i++) corpus[i] = i % 7;
        var stream = SequenceDataset<float>.FromTokenStream(corpus, streams: 1);   // 10,001 steps
        var e = Assert.Throws<ArgumentException>(() => Trainer(options).Train(stream));
        Assert.Contains("TrainerOptions.WindowLength is not set, so every sequence would run as one window of full BPTT: here 10,001 steps (the longest sequence, in training)", e.Message);
        Assert.Contains("set WindowLength = 10001", e.Message);
        Assert.Equal("training", e.ParamName);
        Assert.Equal(before, model.Parameters.ToArray());

        // the validation set can be the longest; Evaluate checks the same
        var shortStream = SequenceDataset<float>.FromTokenStream(corpus.AsMemory(0, 101), streams: 1);
        Assert.Equal("validation", Assert.Throws<ArgumentException>(() => Trainer(options).Train(shortStream, stream)).ParamName);
        Assert.Equal("data", Assert.Throws<ArgumentException>(() => Trainer(options).Evaluate(stream)).ParamName);
        Assert.Equal(before, model.Parameters.ToArray());

        // 10,000 steps run whole; so does the longer stream with its length as the window, or with a window of 50
        var limit = SequenceDataset<float>.FromTokenStream(corpus.AsMemory(0, 10_001), streams: 1);
        Assert.Equal(1L, Trainer(options).Train(limit).Epochs[0].Steps);
        Assert.Equal(1L, Trainer(options with { WindowLength = 10_001 }).Train(stream).Epochs[0].Steps);
        Assert.Equal(201L, Trainer(options with { WindowLength = 50 }).Train(stream).Epochs[0].Steps);
    }

    // A window whose tape cannot exist is refused naming the option to set or lower.
    [Fact]
    public void WindowsTooLongForATape_AskForAShorterWindow()
    {
        var tokens = new int[700_000];                          // shared by 16 sequences: 16 lanes × 700,000 steps
        var sequence = TrainingSequence<float>.FromTokens(tokens, tokens);
        var model = new TinyCharModel();
        model.InitializeParameters(1);
        var trainer = SequenceTrainer.Create(model, new Adam<float>(TinyCharModel.ParameterCount), new TrainerOptions { Epochs = 1, BatchSize = 16, WindowLength = 700_000 });
        var e = Assert.Throws<ArgumentException>(() => trainer.Train(new BadDataset(Enumerable.Repeat(sequence, 16).ToArray())));
        Assert.Contains("A window of 700,000 steps × 16 lanes per lockstep group needs more than the largest array holds: lower TrainerOptions.WindowLength", e.Message);
        Assert.Equal("training", e.ParamName);

        // without WindowLength, within the 10,000 steps that run whole: the worker's output buffer of a very wide head
        // (10,000 steps × 16 lanes × 20,000 logits), which the tape's own check does not cover
        var wide = TrainingSequence<float>.FromTokens(new int[10_000], new int[10_000]);
        var wideModel = new VeryWideHeadRnn();
        wideModel.InitializeParameters(1);
        var e2 = Assert.Throws<ArgumentException>(() => SequenceTrainer.Create(wideModel, new Adam<float>(VeryWideHeadRnn.ParameterCount), new TrainerOptions { Epochs = 1, BatchSize = 16 })
            .Train(new BadDataset(Enumerable.Repeat(wide, 16).ToArray())));
        Assert.Contains("TrainerOptions.WindowLength is not set, so every sequence runs as one window of BPTT: here 10,000 steps (the longest sequence, in training) × 16 lanes per lockstep group", e2.Message);
    }

    // Parameters that are already NaN (a model file may hold them) are refused before training, not blamed on an update.
    [Fact]
    public void NonFiniteParametersBeforeTraining_AreRefused()
    {
        var model = new SmallRnn();
        model.InitializeParameters(1);
        model.Parameters[3] = float.NaN;
        var trainer = SequenceTrainer.Create(model, new Adam<float>(SmallRnn.ParameterCount), new TrainerOptions { Epochs = 1 });
        var e = Assert.Throws<InvalidOperationException>(() => trainer.Train(TaskData.Echo<float>(4, 6, 6, 1, 1)));
        Assert.Contains("hold NaN or infinity before training", e.Message);
    }

    /// <summary>A dataset that does not check its sequences (SequenceDataset refuses empty ones itself).</summary>
    private sealed class BadDataset(TrainingSequence<float>[] items) : ISequenceDataset<float>
    {
        public int Count => items.Length;
        public TrainingSequence<float> this[int index] => items[index];
    }
}
