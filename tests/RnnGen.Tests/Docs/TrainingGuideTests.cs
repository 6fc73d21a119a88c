using Xunit.Abstractions;
using static RnnGen.Tests.Docs.TrainingGuideExamples;

namespace RnnGen.Tests.Docs;

/// <summary>
/// Runs the examples of docs/training.md (TrainingGuideExamples, verbatim) and checks what the guide claims about
/// them. Each test names its section of the guide.
/// </summary>
public class TrainingGuideTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string[] Subjects = ["the cat", "the dog", "a bird"];
    private static readonly string[] Verbs = ["sat on", "ran to", "looked at"];
    private static readonly string[] Objects = ["the mat", "the log", "a tree"];

    /// <summary>The language model and the classifier are trained once and shared by the tests that use them.</summary>
    private static readonly Lazy<(Chars Model, TrainingResult Result, string Continuation)> s_languageModel =
        new(() => LanguageModel(GrammarText(600, seed: 3)));

    private static readonly Lazy<(WaveClassifier Model, TrainingResult Result)> s_classifier = new(() => Classifier());

    private readonly string _folder = Directory.CreateTempSubdirectory("rnngen-guide-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>
    /// Sentences "subject verb object. " of a tiny grammar (3 × 3 × 3 = 27 sentences), drawn at random: the corpus of the
    /// language-model examples. Its entropy is log2 27 ≈ 4.75 bits per sentence of about 22 characters, ≈ 0.2 bits per
    /// character: what a perfect model of this text scores.
    /// </summary>
    private static string GrammarText(int sentences, long seed)
    {
        var random = new SeededRandom(seed);
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < sentences; i++)
            text.Append($"{Subjects[random.NextInt(3)]} {Verbs[random.NextInt(3)]} {Objects[random.NextInt(3)]}. ");
        return text.ToString();
    }

    private static bool IsSentence(string s) =>
        Subjects.Any(a => Verbs.Any(b => Objects.Any(c => s == $"{a} {b} {c}")));

    // ---------------------------------------------------------------- Many-to-many

    /// <summary>"Many-to-many: a character language model": below 0.3 bits per character, grammatical greedy text.</summary>
    [Fact]
    public void ManyToMany_LanguageModel_ReachesTheGrammarsEntropy_AndContinuesGrammatically()
    {
        var (_, result, continuation) = s_languageModel.Value;
        output.WriteLine($"{GrammarText(600, seed: 3).Length} characters");
        double bits = result.Epochs[^1].Validation!.Value.BitsPerToken!.Value;
        output.WriteLine($"bits per character by epoch: {string.Join(" ", result.Epochs.Select(e => e.Validation!.Value.BitsPerToken!.Value.ToString("F3")))}");
        output.WriteLine($"the cat |{continuation}|");
        Assert.True(bits < 0.3, $"{bits} bits per character");   // uniform over 28 symbols: 4.8 bits

        Assert.Equal(40, continuation.Length);
        string[] sentences = ("the cat " + continuation).Split(". ");
        Assert.True(sentences.Length >= 2, continuation);
        Assert.All(sentences[..^1], s => Assert.True(IsSentence(s), $"'{s}' is not a sentence of the grammar"));
    }

    // ---------------------------------------------------------------- Many-to-one

    /// <summary>"Many-to-one: a sequence classifier": at least 95 % on validation and on 300 new sequences run with Step.</summary>
    [Fact]
    public void ManyToOne_Classifier_AtLeast95Percent()
    {
        var (model, result) = s_classifier.Value;
        double accuracy = result.Epochs[^1].Validation!.Value.Accuracy!.Value;
        output.WriteLine($"validation accuracy by epoch: {string.Join(" ", result.Epochs.Select(e => e.Validation!.Value.Accuracy!.Value.ToString("F3")))}");
        Assert.True(accuracy >= 0.95, $"validation accuracy {accuracy}");

        var unseen = NoisyWaves(300, seed: 99);
        int correct = unseen.Count(s => Classify(model, s.Inputs.Span) == s.Labels.Span[0]);
        output.WriteLine($"new sequences: {correct} / {unseen.Count}");
        Assert.True(correct >= 0.95 * unseen.Count, $"{correct} of {unseen.Count}");
    }

    // ---------------------------------------------------------------- One-to-many

    /// <summary>"One-to-many": 29 generated values per seed, each shape within a mean squared error of 0.001.</summary>
    [Fact]
    public void OneToMany_Generator_DrawsEachShapeFromItsSeed()
    {
        var model = Generator();
        for (int shape = 0; shape < 3; shape++)
        {
            float[] generated = Generate(model, shape);
            Assert.Equal(Length - 1, generated.Length);
            double mse = Enumerable.Range(1, Length - 1).Average(t => Math.Pow(generated[t - 1] - Wave(shape, t), 2));
            output.WriteLine($"shape {shape}: mean squared error {mse:E2}");
            Assert.True(mse < 1e-3, $"shape {shape}: mean squared error {mse}");
        }
    }

    // ---------------------------------------------------------------- Minibatches and workers

    /// <summary>"Minibatches and workers": one worker and two give the same parameters, bit for bit.</summary>
    [Fact]
    public void Determinism_AnyWorkerCount_SameBits()
    {
        var (twoWorkers, _) = s_classifier.Value;
        var (oneWorker, _) = Classifier(workers: 1);
        Assert.Equal(oneWorker.Parameters.ToArray(), twoWorkers.Parameters.ToArray());
    }

    // ---------------------------------------------------------------- Validation, early stopping and checkpoints

    /// <summary>
    /// "Validation, early stopping and checkpoints": early stopping ends the run, the file holds the best epoch's
    /// parameters, and the model ends with them too.
    /// </summary>
    [Fact]
    public void Checkpoints_TheFileHoldsTheBestEpoch_AndTheModelEndsWithIt()
    {
        string path = Path.Combine(_folder, "best.safetensors");
        var (model, result) = TrainWithCheckpoints(path);
        output.WriteLine($"best epoch {result.BestEpoch} of {result.Epochs.Count}; stopped early {result.StoppedEarly}; restored {result.RestoredBest}");
        output.WriteLine(string.Join(" ", result.Epochs.Select(e => e.MonitoredLoss.ToString("F4"))));

        Assert.True(result.StoppedEarly);
        Assert.Equal(result.BestEpoch + 3, result.Epochs.Count);                   // Patience = 3 epochs without improvement
        Assert.Equal(result.Epochs[result.BestEpoch - 1].MonitoredLoss, result.BestLoss);
        // (what MinImprovement decides is tested exactly in TrainerControlTests.MinImprovement_DecidesWhichEpochIsBest)
        var saved = SafeTensors.Load<WaveClassifier, float>(path);
        Assert.Equal(model.Parameters.ToArray(), saved.Parameters.ToArray());
        Assert.True(result.RestoredBest);
    }

    /// <summary>"Validation, early stopping and checkpoints": three epochs, saved, resumed in new objects for two more, give the bits of five in one run.</summary>
    [Fact]
    public void Resume_FromATrainingCheckpoint_GivesTheBitsOfOneRun()
    {
        var (training, _) = NoisyWaves(600, seed: 7).Split(0.2, seed: 1);
        string path = Path.Combine(_folder, "run.safetensors");
        TrainAndSave(training, path);
        var resumed = Resume(training, path);

        var straight = NewRun(epochs: 5);
        straight.Model.InitializeParameters(seed: 1);
        straight.Train(training);
        Assert.Equal(straight.Model.Parameters.ToArray(), resumed.Model.Parameters.ToArray());
        Assert.Equal(straight.Optimizer.State.ToArray(), resumed.Optimizer.State.ToArray());
        Assert.Equal("3", SafeTensors.ReadHeader(path).Metadata["app.epoch"]);
    }

    // ---------------------------------------------------------------- Progress and cancellation

    /// <summary>
    /// "Progress and cancellation": cancelled after epoch 2 (from the EpochCompleted event), training stops before the
    /// next window and the saved model holds the last completed update: 2 epochs × 15 batches (480 training sequences in
    /// batches of 32, one window each).
    /// </summary>
    [Fact]
    public void Cancellation_StopsBeforeTheNextWindow_AndSavesTheLastUpdate()
    {
        var (training, _) = NoisyWaves(600, seed: 7).Split(0.2, seed: 1);
        var model = new WaveClassifier();
        model.InitializeParameters(seed: 1);
        var optimizer = new Adam<float>(WaveClassifier.ParameterCount, learningRate: 0.01);
        var trainer = SequenceTrainer.Create(model, optimizer, new TrainerOptions { Epochs = 10, BatchSize = 32 });
        using var cancel = new CancellationTokenSource();
        trainer.EpochCompleted += e => { if (e.Epoch == 2) cancel.Cancel(); };
        string path = Path.Combine(_folder, "interrupted.safetensors");

        Assert.False(TrainInterruptibly(trainer, training, cancel.Token, path));

        Assert.Equal(2 * 15, optimizer.StepCount);
        Assert.Equal(model.Parameters.ToArray(), SafeTensors.Load<WaveClassifier, float>(path).Parameters.ToArray());

        using var ctrlC = CancelOnCtrlC();
        Assert.False(ctrlC.IsCancellationRequested);
    }

    // ---------------------------------------------------------------- NaN and infinity

    /// <summary>
    /// The generator's data (as in the guide's one-to-many example); with <paramref name="overflowingTarget"/>, one target
    /// of the second sequence is 3e38, so that its squared error overflows float to +∞.
    /// </summary>
    private static SequenceDataset<float> GeneratorData(bool overflowingTarget = false)
    {
        var sequences = new List<TrainingSequence<float>>();
        for (int shape = 0; shape < 3; shape++)
        {
            var inputs = new float[Length * WaveGenerator.InputSize];
            inputs[shape] = 1;
            float[] targets = Enumerable.Range(1, Length - 1).Select(t => (float)Wave(shape, t)).ToArray();
            if (overflowingTarget && shape == 1) targets[5] = 3e38f;
            sequences.Add(TrainingSequence<float>.FromVectors(inputs, targets));
        }
        return new SequenceDataset<float>(sequences);
    }

    /// <summary>"NaN and infinity": by default the step is refused with an exception; with Skip it is counted and skipped.</summary>
    [Fact]
    public void NonFinite_ThrowByDefault_SkipOnRequest()
    {
        var model = new WaveGenerator();
        model.InitializeParameters(seed: 1);
        var data = GeneratorData(overflowingTarget: true);
        var throwing = SequenceTrainer.Create(model, new Adam<float>(WaveGenerator.ParameterCount),
            new TrainerOptions { Epochs = 2, BatchSize = 1, Shuffle = false, Loss = SequenceLoss.MeanSquaredError });
        Assert.Null(TrainOrExplain(throwing, data));
        Assert.Equal(1, throwing.Optimizer.StepCount);                              // the first window only

        var skipping = SequenceTrainer.Create(model, new Adam<float>(WaveGenerator.ParameterCount),
            new TrainerOptions { Epochs = 2, BatchSize = 1, Shuffle = false, Loss = SequenceLoss.MeanSquaredError, NonFinite = NonFiniteHandling.Skip });
        TrainingResult result = TrainOrExplain(skipping, data)!;
        Assert.Equal((4L, 2L), (result.Steps, result.SkippedSteps));
        Assert.All(result.Epochs, e => Assert.True(double.IsFinite(e.Training.Loss)));
    }

    // ---------------------------------------------------------------- Learning-rate schedules

    /// <summary>"Learning-rate schedules": char-rnn's decay computed by hand: lr₀ for epochs 1–10, then × 0.97 per epoch.</summary>
    [Fact]
    public void Schedules_CharRnnDecay_AndWarmupThenCosine()
    {
        var decay = new CharRnnDecay(2e-3, stepsPerEpoch: 100);
        Assert.Equal(2e-3, decay.LearningRate(0));
        Assert.Equal(2e-3, decay.LearningRate(999));                               // last step of epoch 10
        Assert.Equal(2e-3 * 0.97, decay.LearningRate(1000), 15);                    // epoch 11
        Assert.Equal(2e-3 * 0.97 * 0.97, decay.LearningRate(1100), 15);             // epoch 12

        TrainerOptions options = WarmupThenCosine(epochs: 4, stepsPerEpoch: 1);     // 3 sequences, one batch: one step per epoch
        var trainer = SequenceTrainer.Create(new WaveClassifier(), new Adam<float>(WaveClassifier.ParameterCount), options);
        trainer.Model.InitializeParameters(seed: 1);
        TrainingResult result = trainer.Train(NoisyWaves(3, seed: 1));
        // step s: warm-up 2e-3 · s / 1 for s < 1, then 1e-4 + (2e-3 − 1e-4) · (1 + cos(π (s − 1) / 3)) / 2
        double[] expected = [0, 2e-3, 1e-4 + 1.9e-3 * 0.75, 1e-4 + 1.9e-3 * 0.25];
        Assert.Equal(expected, result.Epochs.Select(e => Math.Round(e.LearningRate, 15)).ToArray());
    }

    // ---------------------------------------------------------------- Sampling and generation

    /// <summary>"Sampling and generation": the same seed gives the same text; top-k = 1 is greedy.</summary>
    [Fact]
    public void Sampling_SameSeedSameText_TopKOneIsGreedy()
    {
        Chars model = s_languageModel.Value.Model;
        string first = Sample(model, "the ", 100), second = Sample(model, "the ", 100);
        output.WriteLine(first);
        Assert.Equal(104, first.Length);
        Assert.Equal(first, second);

        var greedy = new TokenGenerator<Chars, float>(model, SamplingOptions.Greedy);
        var topOne = new TokenGenerator<Chars, float>(model, new SamplingOptions { TopK = 1, Seed = 5 });
        greedy.Prime(Encode("a bird "));
        topOne.Prime(Encode("a bird "));
        Assert.Equal(greedy.Generate(60).ToArray(), topOne.Generate(60).ToArray());
    }

    // ---------------------------------------------------------------- min-char-rnn and char-rnn

    /// <summary>
    /// "min-char-rnn": the recipe runs at its real sizes (23,265 parameters: 100·65 + 100·100 + 100 + 100 + 65·100 + 65)
    /// and learns: from about ln 65 ≈ 4.17 nats per character down to under 1 in five passes over a small text. (The
    /// trajectory depends on the processor's rounding — after five passes 0.21 with AVX-512, 0.53 with AVX2, 0.25 with SSE
    /// only; after three, 0.47 / 1.24 / 0.57 — so the bound is set where every instruction set clears it.)
    /// </summary>
    [Fact]
    public void MinCharRnn_Recipe_Learns()
    {
        Assert.Equal(65, Shakespeare.Length);
        int count = MinCharRnn.ParameterCount;
        Assert.Equal(65 * 100 + 100 * 100 + 100 + 100 + 65 * 100 + 65, count);
        int[] corpus = GrammarText(100, seed: 4).Select(c => Shakespeare.IndexOf(c)).ToArray();
        output.WriteLine($"{corpus.Length} characters");

        var (_, result, sample) = MinCharRnnRecipe(corpus, epochs: 5);

        output.WriteLine($"loss by epoch: {string.Join(" ", result.Epochs.Select(e => e.Training.Loss.ToString("F3")))}");
        output.WriteLine(sample);
        Assert.Equal((corpus.Length - 1 + 24) / 25 * 5, result.Steps);               // one update per window of 25
        Assert.True(result.Epochs[^1].Training.Loss < 1.0, $"loss {result.Epochs[^1].Training.Loss}");
        Assert.Equal(200, sample.Length);
    }

    /// <summary>
    /// "char-rnn": the recipe runs at its real sizes (240,321 parameters, 50 streams × windows of 50 steps) for one epoch
    /// of two windows on a small text: the loss falls below ln 65 (a uniform guess) and the validation loss after the two
    /// updates below the training loss of the epoch; the best checkpoint is written.
    /// </summary>
    [Fact]
    public void CharRnn_Recipe_RunsAtFullSize()
    {
        int layer0 = 4 * 128 * 65 + 4 * 128 * 128 + 2 * 4 * 128, layer1 = 2 * 4 * 128 * 128 + 2 * 4 * 128, head = 65 * 128 + 65;
        int count = CharRnn.ParameterCount;
        Assert.Equal(layer0 + layer1 + head, count);
        Assert.Equal(240_321, count);
        int[] corpus = GrammarText(200, seed: 5).Select(c => Shakespeare.IndexOf(c)).ToArray();
        string path = Path.Combine(_folder, "char-rnn.safetensors");

        var (model, result) = CharRnnRecipe(corpus, epochs: 1, path);

        EpochSummary epoch = result.Epochs.Single();
        output.WriteLine($"{corpus.Length} characters; training loss {epoch.Training.Loss:F3}, validation {epoch.Validation!.Value.Loss:F3}; {result.Elapsed.TotalSeconds:F1} s");
        int perStream = (corpus.Length * 95 / 100 - 1) / 50;                       // 95 % of the text in 50 streams
        Assert.Equal((perStream + 49) / 50, result.Steps);                          // one update per window of ≤ 50 steps
        Assert.Equal(2, result.Steps);
        Assert.Equal(2e-3, epoch.LearningRate);
        Assert.True(epoch.Training.Loss < Math.Log(65), $"training loss {epoch.Training.Loss}");   // uniform guess: ln 65 ≈ 4.17
        Assert.True(epoch.Validation!.Value.Loss < epoch.Training.Loss, "the two updates should lower the loss");
        Assert.Equal(model.Parameters.ToArray(), SafeTensors.Load<CharRnn, float>(path).Parameters.ToArray());
    }

    /// <summary>"Lanes": 16 sequences in lockstep give each sequence's own outputs and the sum of their gradients.</summary>
    [Fact]
    public void LockstepLanes_EqualOneSequenceAtATime()
    {
        var model = new CharRnn();
        model.InitializeParameters(3);
        var reference = new CharRnn();
        model.Parameters.CopyTo(reference.Parameters);
        reference.ParametersChanged();
        int[] tokens = Generated.Harness.RandomTokens(16 * 50, CharRnn.InputSize, 4);
        float[] gradients = Generated.Harness.Random<float>(16 * 50 * CharRnn.OutputWidth, 5);

        float[] outputs = LockstepLanes(model, tokens, gradients);

        var tape = new CharRnn.Tape(50);
        var expected = new float[outputs.Length];
        int lane = 50 * CharRnn.OutputWidth;
        for (int b = 0; b < 16; b++)
        {
            var state = new CharRnn.State();
            reference.Forward(tokens.AsSpan(b * 50, 50), ref state, tape, expected.AsSpan(b * lane, lane));
            reference.Backward(tape, gradients.AsSpan(b * lane, lane));
        }
        double outputError = Generated.Harness.RelativeError(Generated.Harness.ToDouble<float>(expected), Generated.Harness.ToDouble<float>(outputs));
        double gradientError = Generated.Harness.RelativeError(Generated.Harness.ToDouble<float>(reference.Gradients), Generated.Harness.ToDouble<float>(model.Gradients));
        Assert.True(outputError < 1e-6, $"outputs: relative error {outputError:E2}");
        Assert.True(gradientError < 1e-5, $"gradients: relative error {gradientError:E2}");
    }

    /// <summary>"Several streams at inference": one lane Forward of one step per call gives each stream what its own Step gives.</summary>
    [Fact]
    public void StepStreams_EqualsOneStepPerStream()
    {
        const int streams = 8, steps = 30, width = CharRnn.OutputWidth;
        var model = new CharRnn();
        model.InitializeParameters(6);
        CharRnn.State[] lanes = [.. Enumerable.Range(0, streams).Select(_ => new CharRnn.State())];
        CharRnn.State[] alone = [.. Enumerable.Range(0, streams).Select(_ => new CharRnn.State())];
        var oneStep = new CharRnn.Tape(1, streams);
        int[] tokens = Generated.Harness.RandomTokens(streams * steps, CharRnn.InputSize, 7);
        var logits = new float[streams * width];
        var expected = new float[streams * width];
        double worst = 0;
        for (int t = 0; t < steps; t++)
        {
            int[] now = [.. Enumerable.Range(0, streams).Select(b => tokens[t * streams + b])];
            StepStreams(model, now, lanes, oneStep, logits);
            for (int b = 0; b < streams; b++)
                model.Step(now[b], ref alone[b], expected.AsSpan(b * width, width));
            worst = Math.Max(worst, Generated.Harness.RelativeError(Generated.Harness.ToDouble<float>(expected), Generated.Harness.ToDouble<float>(logits)));
        }
        for (int b = 0; b < streams; b++)
            Assert.True(Generated.Harness.RelativeError(Generated.Harness.ToDouble<float>(alone[b].Hidden(1)), Generated.Harness.ToDouble<float>(lanes[b].Hidden(1))) < 1e-5, $"stream {b}'s state");
        Assert.True(worst < 1e-5, $"logits: relative error {worst:E2}");

        int[] first = tokens[..streams];
        StepStreams(model, first, lanes, oneStep, logits);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int t = 0; t < 100; t++)
            StepStreams(model, first, lanes, oneStep, logits);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);   // nothing allocated per step
    }

    // ---------------------------------------------------------------- the guide itself

    /// <summary>
    /// Every C# block of docs/training.md appears, line for line (indentation aside), in TrainingGuideExamples.cs or
    /// TrainingGuideModels.cs — so every block of the guide is code these tests compile and run.
    /// </summary>
    [Fact]
    public void GuideCodeBlocks_AppearVerbatimInTheTestedExamples()
    {
        string root = RepositoryRoot();
        string guide = File.ReadAllText(Path.Combine(root, "docs", "training.md"));
        string folder = Path.Combine(root, "tests", "RnnGen.Tests", "Docs");
        string[] source = [.. Lines(File.ReadAllText(Path.Combine(folder, "TrainingGuideExamples.cs"))),
                           "", .. Lines(File.ReadAllText(Path.Combine(folder, "TrainingGuideModels.cs")))];

        var blocks = System.Text.RegularExpressions.Regex.Matches(guide, "```csharp\n(.*?)```", System.Text.RegularExpressions.RegexOptions.Singleline);
        Assert.True(blocks.Count >= 20, $"only {blocks.Count} C# blocks found");
        foreach (System.Text.RegularExpressions.Match block in blocks)
        {
            string[] lines = Lines(block.Groups[1].Value);
            bool found = Enumerable.Range(0, source.Length - lines.Length + 1)
                .Any(start => lines.AsSpan().SequenceEqual(source.AsSpan(start, lines.Length)));
            Assert.True(found, $"This block of docs/training.md is not in the tested examples:\n{block.Groups[1].Value}");
        }
    }

    /// <summary>Trimmed, non-empty lines.</summary>
    private static string[] Lines(string text) =>
        text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "RnnGen.sln")))
                return folder.FullName;
        }
        throw new InvalidOperationException($"RnnGen.sln not found above {AppContext.BaseDirectory}.");
    }
}
