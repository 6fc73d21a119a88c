using System.Numerics.Tensors;

namespace RnnGen.Tests.Docs;

/// <summary>
/// The code of docs/training.md, verbatim (each method body, or the whole method, is a code block of the guide; the
/// comment above each method names its section). TrainingGuideTests runs them and checks what the guide says about
/// them. Keep both in sync: change the guide, change this file.
/// </summary>
internal static class TrainingGuideExamples
{
    // ------------------------------------------------------------------ "Many-to-many: a character language model"
    public const string Vocabulary = "abcdefghijklmnopqrstuvwxyz .";     // 28 symbols: Input = Output = 28

    public static int[] Encode(string text) => text.Select(c => Vocabulary.IndexOf(c)).ToArray();

    public static (Chars Model, TrainingResult Result, string Continuation) LanguageModel(string text)
    {
        int[] corpus = Encode(text);
        int cut = corpus.Length * 9 / 10;                                   // the last 10 % for validation
        var training = SequenceDataset<float>.FromTokenStream(corpus.AsMemory(0, cut), streams: 16);
        var validation = SequenceDataset<float>.FromTokenStream(corpus.AsMemory(cut), streams: 1);

        var model = new Chars();
        model.InitializeParameters(seed: 1);
        var trainer = SequenceTrainer.Create(model, new Adam<float>(Chars.ParameterCount, learningRate: 0.01),
            new TrainerOptions { Epochs = 10, BatchSize = 16, WindowLength = 32, ClipGradientNorm = 5 });
        TrainingResult result = trainer.Train(training, validation);
        Console.WriteLine($"validation: {result.Epochs[^1].Validation!.Value.BitsPerToken:F2} bits per character");

        var generator = new TokenGenerator<Chars, float>(model, SamplingOptions.Greedy);
        generator.Prime(Encode("the cat "));
        string continuation = new(generator.Generate(40).Select(t => Vocabulary[t]).ToArray());
        return (model, result, continuation);
    }

    // ------------------------------------------------------------------ "Many-to-one: a sequence classifier"
    public static SequenceDataset<float> NoisyWaves(int count, long seed)
    {
        var random = new SeededRandom(seed);
        var sequences = new List<TrainingSequence<float>>();
        for (int i = 0; i < count; i++)
        {
            int label = i % 3;                                          // three frequencies: 0.1, 0.2, 0.3 cycles per step
            int steps = 20 + random.NextInt(21);                        // 20 to 40 steps: lengths may differ
            double phase = 2 * Math.PI * random.NextDouble();
            var x = new float[steps];
            for (int t = 0; t < steps; t++)
                x[t] = (float)(Math.Sin(2 * Math.PI * (0.1 + 0.1 * label) * t + phase) + 0.3 * random.NextGaussian());
            sequences.Add(TrainingSequence<float>.FromVectors(x, new[] { label }));   // one label = the last step
        }
        return new SequenceDataset<float>(sequences);
    }

    public static (WaveClassifier Model, TrainingResult Result) Classifier(int workers = 2)
    {
        var (training, validation) = NoisyWaves(600, seed: 7).Split(0.2, seed: 1);
        var model = new WaveClassifier();
        model.InitializeParameters(seed: 1);
        var trainer = SequenceTrainer.Create(model, new Adam<float>(WaveClassifier.ParameterCount, learningRate: 0.01),
            new TrainerOptions { Epochs = 15, BatchSize = 32, Seed = 1, WorkerCount = workers });
        TrainingResult result = trainer.Train(training, validation);
        Console.WriteLine($"validation accuracy: {result.Epochs[^1].Validation!.Value.Accuracy:P1}");
        return (model, result);
    }

    public static int Classify(WaveClassifier model, ReadOnlySpan<float> x)
    {
        var state = new WaveClassifier.State();
        Span<float> logits = stackalloc float[WaveClassifier.OutputWidth];
        for (int t = 0; t < x.Length; t++)
            model.Step(x.Slice(t, 1), ref state, logits);            // one step per input value
        return TensorPrimitives.IndexOfMax<float>(logits);           // the class of the last step's logits
    }

    // ------------------------------------------------------------------ "One-to-many: a generator primed with a seed vector"
    public const int Length = 30;                                    // step 0 reads the seed, steps 1..29 are generated

    public static double Wave(int shape, int t) => shape switch
    {
        0 => Math.Sin(0.3 * t),
        1 => 0.5 * Math.Cos(0.5 * t),
        _ => t % 10 < 5 ? 0.5 : -0.5,                                // a square wave
    };

    public static WaveGenerator Generator()
    {
        var sequences = new List<TrainingSequence<float>>();
        for (int shape = 0; shape < 3; shape++)
        {
            var inputs = new float[Length * WaveGenerator.InputSize];   // zeros ...
            inputs[shape] = 1;                                           // ... but step 0: the seed, one-hot
            var targets = new float[Length - 1];                         // targets for the last 29 steps only
            for (int t = 1; t < Length; t++) targets[t - 1] = (float)Wave(shape, t);
            sequences.Add(TrainingSequence<float>.FromVectors(inputs, targets));
        }

        var model = new WaveGenerator();
        model.InitializeParameters(seed: 1);
        var trainer = SequenceTrainer.Create(model, new Adam<float>(WaveGenerator.ParameterCount, learningRate: 0.01),
            new TrainerOptions { Epochs = 1500, BatchSize = 3, Loss = SequenceLoss.MeanSquaredError, RestoreBestParameters = true });
        trainer.Train(new SequenceDataset<float>(sequences));
        return model;
    }

    public static float[] Generate(WaveGenerator model, int shape)
    {
        var state = new WaveGenerator.State();
        var input = new float[WaveGenerator.InputSize];
        var output = new float[WaveGenerator.OutputWidth];
        var generated = new float[Length - 1];
        input[shape] = 1;
        model.Step(input, ref state, output);                        // prime with the seed (its output is not used)
        input[shape] = 0;
        for (int t = 0; t < generated.Length; t++)
        {
            model.Step(input, ref state, output);                    // then zeros in, one value out per step
            generated[t] = output[0];
        }
        return generated;
    }

    // ------------------------------------------------------------------ "Validation, early stopping and checkpoints"
    public static (WaveClassifier Model, TrainingResult Result) TrainWithCheckpoints(string checkpointPath)
    {
        var (training, validation) = NoisyWaves(600, seed: 7).Split(0.2, seed: 1);
        var model = new WaveClassifier();
        model.InitializeParameters(seed: 1);
        var trainer = SequenceTrainer.Create(model, new Adam<float>(WaveClassifier.ParameterCount, learningRate: 0.01),
            new TrainerOptions { Epochs = 100, BatchSize = 32, Patience = 3, MinImprovement = 1e-3, RestoreBestParameters = true });
        trainer.EpochCompleted += e =>
            Console.WriteLine($"epoch {e.Epoch}: training loss {e.Training.Loss:F4}, validation loss {e.Validation!.Value.Loss:F4}");
        trainer.BestModelFound += e => SafeTensors.Save(model, checkpointPath);   // model holds the best parameters now

        TrainingResult result = trainer.Train(training, validation);
        Console.WriteLine($"best epoch {result.BestEpoch} of {result.Epochs.Count}; stopped early: {result.StoppedEarly}");
        return (model, result);
    }

    // ------------------------------------------------------------------ "Validation, early stopping and checkpoints": resuming
    public static SequenceTrainer<WaveClassifier, float> NewRun(int epochs) =>
        SequenceTrainer.Create(new WaveClassifier(), new Adam<float>(WaveClassifier.ParameterCount, learningRate: 0.01),
            new TrainerOptions { Epochs = epochs, BatchSize = 32, Seed = 5 });

    public static void TrainAndSave(ISequenceDataset<float> training, string path)
    {
        var trainer = NewRun(epochs: 3);
        trainer.Model.InitializeParameters(seed: 1);
        trainer.EpochCompleted += e =>   // between updates: the model, optimizer and shuffle belong together here
            TrainingCheckpoint.Save(trainer, path, new Dictionary<string, string> { ["app.epoch"] = $"{e.Epoch}" });
        trainer.Train(training);
    }

    public static SequenceTrainer<WaveClassifier, float> Resume(ISequenceDataset<float> training, string path)
    {
        var trainer = NewRun(epochs: 2);                                   // a new process: new objects, the same settings
        var metadata = TrainingCheckpoint.Load(trainer, path);             // parameters, Adam's moments and step, shuffle
        Console.WriteLine($"resuming after epoch {metadata["app.epoch"]}");
        trainer.Train(training);                                           // epochs 4 and 5 of the run
        return trainer;
    }

    // ------------------------------------------------------------------ "Progress and cancellation"
    public static bool TrainInterruptibly(SequenceTrainer<WaveClassifier, float> trainer, ISequenceDataset<float> training,
        CancellationToken cancellationToken, string interruptedPath)
    {
        var progress = new Progress<TrainingProgress>(p => Console.Write(
            $"\repoch {p.Epoch}/{p.EpochCount} {p.Fraction:P0} loss {p.EpochLoss:F3} {p.TokensPerSecond:N0} steps/s ETA {p.Remaining:mm\\:ss}  "));
        try
        {
            trainer.Train(training, progress: progress, cancellationToken: cancellationToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            SafeTensors.Save(trainer.Model, interruptedPath);              // the parameters of the last completed update
            return false;
        }
    }

    public static CancellationTokenSource CancelOnCtrlC()
    {
        var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };   // Ctrl+C: stop after this window
        return cancel;
    }

    // ------------------------------------------------------------------ "NaN and infinity"
    public static TrainingResult? TrainOrExplain(SequenceTrainer<WaveGenerator, float> trainer, ISequenceDataset<float> data)
    {
        try
        {
            return trainer.Train(data);
        }
        catch (NonFiniteStepException e)
        {
            Console.WriteLine($"epoch {e.Epoch}, window {e.Window}: loss {e.Loss}. The parameters are those before that step.");
            return null;
        }
    }

    // ------------------------------------------------------------------ "Learning-rate schedules"
    /// <summary>char-rnn's schedule: constant for 10 epochs, then × 0.97 after every epoch.</summary>
    public sealed class CharRnnDecay(double learningRate, int stepsPerEpoch) : ILearningRateSchedule
    {
        public double LearningRate(long step) => learningRate * Math.Pow(0.97, Math.Max(0, step / stepsPerEpoch - 9));
    }

    public static TrainerOptions WarmupThenCosine(int epochs, int stepsPerEpoch) => new()
    {
        Epochs = epochs,
        LearningRateSchedule = new CosineWithWarmupSchedule(peakLearningRate: 2e-3, warmupSteps: stepsPerEpoch,
            totalSteps: (long)epochs * stepsPerEpoch, minimumLearningRate: 1e-4),
    };

    // ------------------------------------------------------------------ "Sampling and generation"
    public static string Sample(Chars model, string prompt, int length)
    {
        var generator = new TokenGenerator<Chars, float>(model,
            new SamplingOptions { Temperature = 0.8, TopK = 10, TopP = 0.95, Seed = 42 });
        generator.Prime(Encode(prompt));
        var text = new System.Text.StringBuilder(prompt);
        foreach (int token in generator.Generate(length))
            text.Append(Vocabulary[token]);
        return text.ToString();
    }

    // ------------------------------------------------------------------ "min-char-rnn" and "char-rnn"
    public const string Shakespeare = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";  // 65 characters

    public static (MinCharRnn Model, TrainingResult Result, string Sample) MinCharRnnRecipe(int[] corpus, int epochs)
    {
        var model = new MinCharRnn();
        var random = new SeededRandom(1);                           // min-char-rnn: weights ~ N(0, 0.01²), biases 0
        foreach (ParameterTensor tensor in MinCharRnn.Layout)
        {
            Span<float> values = tensor.Slice(model.Parameters);
            for (int i = 0; i < values.Length; i++)
                values[i] = tensor.Name.Contains("weight") ? (float)(0.01 * random.NextGaussian()) : 0f;
        }
        model.ParametersChanged();                                   // after writing Parameters directly

        var trainer = SequenceTrainer.Create(model,
            new Adagrad<float>(MinCharRnn.ParameterCount, learningRate: 0.1, epsilon: 1e-8),
            new TrainerOptions
            {
                Epochs = epochs,
                BatchSize = 1,                  // one pass of one stream through the text
                WindowLength = 25,              // seq_length = 25
                ClipGradientValue = 5.0 / 25,   // np.clip(d, -5, 5) of a loss summed over 25 steps; RnnGen's is the mean
            });
        TrainingResult result = trainer.Train(SequenceDataset<float>.FromTokenStream(corpus, streams: 1));

        var generator = new TokenGenerator<MinCharRnn, float>(model, new SamplingOptions { Seed = 1 });   // temperature 1
        generator.Prime(corpus.AsSpan(0, 1));
        string sample = new(generator.Generate(200).Select(t => Shakespeare[t]).ToArray());
        return (model, result, sample);
    }

    public static (CharRnn Model, TrainingResult Result) CharRnnRecipe(int[] corpus, int epochs, string checkpointPath)
    {
        var model = new CharRnn();
        var random = new SeededRandom(123);
        Span<float> parameters = model.Parameters;
        for (int i = 0; i < parameters.Length; i++)
            parameters[i] = (float)(0.16 * random.NextDouble() - 0.08);           // uniform(-0.08, 0.08)
        for (int layer = 0; layer < CharRnn.LayerCount; layer++)                    // forget-gate biases 1: rows [H, 2H)
            CharRnn.Info.Find($"bias_ih_l{layer}")!.Slice(parameters).Slice(CharRnn.HiddenSize, CharRnn.HiddenSize).Fill(1f);
        model.ParametersChanged();

        int split = corpus.Length * 95 / 100;                                       // train_frac 0.95, val_frac 0.05
        var training = SequenceDataset<float>.FromTokenStream(corpus.AsMemory(0, split), streams: 50);
        var validation = SequenceDataset<float>.FromTokenStream(corpus.AsMemory(split), streams: 50);
        int stepsPerEpoch = (training[0].Tokens.Length + 49) / 50;                  // windows of 50 steps per stream

        var trainer = SequenceTrainer.Create(model,
            new RmsProp<float>(CharRnn.ParameterCount, learningRate: 2e-3, alpha: 0.95),   // decay_rate 0.95
            new TrainerOptions
            {
                Epochs = epochs,                                                    // max_epochs 50
                BatchSize = 50,                                                     // batch_size 50
                WindowLength = 50,                                                  // seq_length 50
                ClipGradientValue = 5.0 / 50,                                       // grad_clip 5 on a loss summed over 50 steps
                LearningRateSchedule = new CharRnnDecay(2e-3, stepsPerEpoch),       // × 0.97 per epoch after 10
            });
        trainer.BestModelFound += e => SafeTensors.Save(model, checkpointPath);
        TrainingResult result = trainer.Train(training, validation);
        return (model, result);
    }

    // ------------------------------------------------------------------ "Lanes: several sequences in lockstep"
    public static float[] LockstepLanes(CharRnn model, int[] tokens, float[] outputGradients)
    {
        var tape = new CharRnn.Tape(maxSteps: 50, maxLanes: 16);
        CharRnn.State[] states = [.. Enumerable.Range(0, 16).Select(_ => new CharRnn.State())];
        var outputs = new float[16 * 50 * CharRnn.OutputWidth];   // lane-major: 16 lanes × 50 steps × 65
        model.Forward(tokens, states, tape, outputs);             // tokens: 16 × 50, lane-major
        model.Backward(tape, outputGradients);                    // adds the gradient of all 16 lanes
        return outputs;
    }

    public static void StepStreams(CharRnn model, int[] tokens, CharRnn.State[] streams, CharRnn.Tape oneStep, float[] logits)
    {
        // tokens: one per stream; logits: streams × 65, stream after stream; oneStep = new CharRnn.Tape(1, streams.Length)
        model.Forward(tokens, streams, oneStep, logits);        // every stream's state advances by one step
    }
}
