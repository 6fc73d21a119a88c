using System.Numerics.Tensors;
using RnnGen;

namespace SequenceClassifier;

/// <summary>The model: one GRU layer of 32 units over one input value per step, a head of 4 logits (one per class).</summary>
[GruModel(hidden: 32, Input = 1, Output = 4)]
public partial class WaveModel { }

/// <summary>The sizes of one run. <see cref="Default"/> is the sample's; the tests use a smaller one.</summary>
/// <param name="TrainingCount">Training sequences.</param>
/// <param name="TestCount">Held-out test sequences (drawn with another seed, never seen in training).</param>
/// <param name="Epochs">At most this many passes over the training set (training stops earlier when validation stops improving).</param>
/// <param name="MinSteps">Shortest sequence.</param>
/// <param name="MaxSteps">Longest sequence.</param>
/// <param name="Noise">Standard deviation of the noise added to the periodic waves.</param>
/// <param name="Seed">Seed of the data, the initial parameters and the shuffling.</param>
/// <param name="Workers">Training threads.</param>
public sealed record ClassifierOptions(int TrainingCount = 2000, int TestCount = 800, int Epochs = 30, int MinSteps = 30,
    int MaxSteps = 60, double Noise = 0.3, int Seed = 1, int Workers = 2)
{
    /// <summary>The sample's default sizes.</summary>
    public static ClassifierOptions Default { get; } = new();
}

/// <summary>What a run measured on the held-out set.</summary>
/// <param name="Accuracy">Fraction of test sequences classified correctly.</param>
/// <param name="Confusion">Confusion[actual, predicted]: counts of test sequences.</param>
/// <param name="Training">The trainer's report (loss and validation accuracy per epoch).</param>
public sealed record ClassifierResult(double Accuracy, int[,] Confusion, TrainingResult Training);

/// <summary>Trains the classifier and evaluates it on held-out data.</summary>
public static class WaveClassifierRun
{
    /// <summary>Generates the data, trains a <see cref="WaveModel"/> and classifies a fresh test set.</summary>
    public static ClassifierResult Run(ClassifierOptions options, Action<EpochSummary>? epochCompleted = null)
    {
        if (options.TrainingCount < 40 || options.TestCount < 4)
            throw new ArgumentException($"TrainingCount {options.TrainingCount} and TestCount {options.TestCount} are too small; " +
                "use at least 40 training sequences (10 % go to validation) and 4 test sequences (one per class).", nameof(options));
        if (options.MinSteps < 1 || options.MaxSteps < options.MinSteps)
            throw new ArgumentException($"MinSteps {options.MinSteps} and MaxSteps {options.MaxSteps} must satisfy 1 ≤ MinSteps ≤ MaxSteps.", nameof(options));
        // Training data with 10 % kept aside for validation during training; the test set uses a different seed.
        var all = Waveforms.Generate(options.TrainingCount, options.MinSteps, options.MaxSteps, options.Noise, options.Seed);
        var (training, validation) = all.Split(0.1, seed: options.Seed);
        var test = Waveforms.Generate(options.TestCount, options.MinSteps, options.MaxSteps, options.Noise, options.Seed + 1000);

        var model = new WaveModel();
        model.InitializeParameters(seed: options.Seed);
        var trainer = SequenceTrainer.Create(model, new Adam<float>(WaveModel.ParameterCount, learningRate: 0.01),
            new TrainerOptions
            {
                Epochs = options.Epochs,
                BatchSize = 32,
                ClipGradientNorm = 5,           // guards against the occasional large gradient of a long sequence
                Seed = options.Seed,
                Patience = 5,                   // stop when validation has not improved for 5 epochs ...
                RestoreBestParameters = true,   // ... and keep the parameters of the best validation epoch
                WorkerCount = options.Workers,
                // Loss = SoftmaxCrossEntropy (the default); the one label of each sequence belongs to its last step.
            });
        if (epochCompleted is not null) trainer.EpochCompleted += epochCompleted;
        TrainingResult result = trainer.Train(training, validation);

        // Classify every test sequence the way an application would: one Step per value, argmax of the last logits.
        int classes = WaveModel.OutputWidth;
        var confusion = new int[classes, classes];
        int correct = 0;
        foreach (TrainingSequence<float> sequence in test)
        {
            int actual = sequence.Labels.Span[0];
            int predicted = Classify(model, sequence.Inputs.Span);
            confusion[actual, predicted]++;
            if (actual == predicted) correct++;
        }
        return new ClassifierResult((double)correct / test.Count, confusion, result);
    }

    /// <summary>The class of a whole sequence: the largest logit after its last value.</summary>
    public static int Classify(WaveModel model, ReadOnlySpan<float> values)
    {
        var state = new WaveModel.State();
        Span<float> logits = stackalloc float[WaveModel.OutputWidth];
        for (int t = 0; t < values.Length; t++)
            model.Step(values.Slice(t, 1), ref state, logits);
        return TensorPrimitives.IndexOfMax<float>(logits);
    }
}
