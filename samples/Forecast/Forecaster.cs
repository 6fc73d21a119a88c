using RnnGen;
using ScottPlot;

namespace Forecast;

/// <summary>The model: one LSTM layer of 32 units, one input and one output value per step.</summary>
[LstmModel(hidden: 32, Input = 1, Output = 1)]
public partial class ForecastModel { }

/// <summary>The sizes of one run. <see cref="Default"/> is the sample's; the tests use a smaller one.</summary>
/// <param name="Length">Steps in the whole series; the first 80 % train, the last 20 % test.</param>
/// <param name="ChunkLength">The training part is cut into sequences of this many steps.</param>
/// <param name="Epochs">Passes over the training sequences.</param>
/// <param name="Noise">Standard deviation of the noise in the series.</param>
/// <param name="Seed">Seed of the series, the initial parameters and the shuffling.</param>
/// <param name="Workers">Training threads.</param>
/// <param name="PlotPath">Where the PNG goes (null: no plot).</param>
/// <param name="PlotSteps">How many test steps the plot shows.</param>
public sealed record ForecastOptions(int Length = 6000, int ChunkLength = 100, int Epochs = 40, double Noise = 0.1,
    int Seed = 1, int Workers = 2, string? PlotPath = "forecast.png", int PlotSteps = 150)
{
    /// <summary>The sample's default sizes.</summary>
    public static ForecastOptions Default { get; } = new();
}

/// <summary>What a run measured on the held-out test stretch.</summary>
/// <param name="ModelRmse">Root mean squared error of the model's one-step forecasts.</param>
/// <param name="NaiveRmse">The same for "the next value equals the last one".</param>
/// <param name="TestSteps">Forecasts scored.</param>
/// <param name="Training">The trainer's report.</param>
/// <param name="PlotPath">The PNG written, or null.</param>
public sealed record ForecastResult(double ModelRmse, double NaiveRmse, int TestSteps, TrainingResult Training, string? PlotPath)
{
    /// <summary>Model error over naive error: below 1 means the model beats the baseline.</summary>
    public double Ratio => ModelRmse / NaiveRmse;
}

/// <summary>Trains the forecaster, scores it against the naive baseline and plots a stretch of the test set.</summary>
public static class ForecastRun
{
    /// <summary>Generates the series, trains a <see cref="ForecastModel"/>, evaluates it and writes the plot.</summary>
    public static ForecastResult Run(ForecastOptions options, Action<EpochSummary>? epochCompleted = null)
    {
        if (options.ChunkLength < 2)
            throw new ArgumentException($"ChunkLength is {options.ChunkLength}; it must be at least 2.", nameof(options));
        if (options.Length * 8 / 10 < options.ChunkLength + 2 || options.Length - options.Length * 8 / 10 < 2)
            throw new ArgumentException($"Length {options.Length} is too short for one training chunk of {options.ChunkLength} " +
                $"steps in its first 80 % and a test stretch in the rest; use at least {(options.ChunkLength + 2) * 10 / 8 + 2} steps.", nameof(options));
        if (options.PlotSteps < 2)
            throw new ArgumentException($"PlotSteps is {options.PlotSteps}; the plot needs at least 2 steps.", nameof(options));
        double[] x = Series.Generate(options.Length, options.Noise, options.Seed);
        int split = options.Length * 8 / 10;

        // The model sees changes, d(t) = x(t) − x(t−1), and predicts the next change; the forecast is x(t) + predicted
        // d(t+1). Changes have no trend, so the test stretch looks like the training data (raw values would not: the
        // trend takes them higher). The changes are divided by their training standard deviation (unit scale for the LSTM).
        double[] d = new double[x.Length];
        for (int t = 1; t < x.Length; t++) d[t] = x[t] - x[t - 1];
        double scale = Math.Sqrt(d.AsSpan(1, split - 1).ToArray().Select(v => v * v).Average());

        // Training: non-overlapping chunks of the training part; at every step the target is the next (scaled) change.
        var chunks = new List<TrainingSequence<float>>();
        for (int start = 1; start + options.ChunkLength + 1 <= split; start += options.ChunkLength)
        {
            var inputs = new float[options.ChunkLength];
            var targets = new float[options.ChunkLength];
            for (int i = 0; i < options.ChunkLength; i++)
            {
                inputs[i] = (float)(d[start + i] / scale);
                targets[i] = (float)(d[start + i + 1] / scale);
            }
            chunks.Add(TrainingSequence<float>.FromVectors(inputs, targets));
        }

        var model = new ForecastModel();
        model.InitializeParameters(seed: options.Seed);
        var trainer = SequenceTrainer.Create(model, new Adam<float>(ForecastModel.ParameterCount, learningRate: 0.005),
            new TrainerOptions
            {
                Epochs = options.Epochs,
                BatchSize = 8,
                Loss = SequenceLoss.MeanSquaredError,   // one target per step: many-to-many regression
                ClipGradientNorm = 1,
                Seed = options.Seed,
                WorkerCount = options.Workers,
            });
        if (epochCompleted is not null) trainer.EpochCompleted += epochCompleted;
        TrainingResult training = trainer.Train(new SequenceDataset<float>(chunks));

        // Forecast: run the model over the whole series one step at a time (the training part warms the state up) and
        // score the one-step forecasts of the test part, x(t+1) for t = split−1 … Length−2.
        var state = new ForecastModel.State();
        Span<float> input = stackalloc float[1];
        Span<float> output = stackalloc float[1];
        var forecast = new double[x.Length];                   // forecast[t+1] = the model's guess of x(t+1), made at t
        for (int t = 1; t < x.Length - 1; t++)
        {
            input[0] = (float)(d[t] / scale);
            model.Step(input, ref state, output);
            forecast[t + 1] = x[t] + output[0] * scale;
        }
        double modelSquares = 0, naiveSquares = 0;
        for (int t = split; t < x.Length; t++)
        {
            modelSquares += Square(forecast[t] - x[t]);
            naiveSquares += Square(x[t - 1] - x[t]);          // naive: the next value is the last one
        }
        int testSteps = x.Length - split;

        string? plotPath = options.PlotPath is null ? null : Plot(x, forecast, split, options.PlotSteps, options.PlotPath);
        return new ForecastResult(Math.Sqrt(modelSquares / testSteps), Math.Sqrt(naiveSquares / testSteps), testSteps,
            training, plotPath);
    }

    static double Square(double v) => v * v;

    /// <summary>Truth, model forecast and naive forecast over the first <paramref name="steps"/> test steps, as a PNG.</summary>
    static string Plot(double[] x, double[] forecast, int split, int steps, string path)
    {
        steps = Math.Min(steps, x.Length - split);
        double[] time = Enumerable.Range(split, steps).Select(t => (double)t).ToArray();
        double[] truth = x.AsSpan(split, steps).ToArray();
        double[] model = forecast.AsSpan(split, steps).ToArray();
        double[] naive = x.AsSpan(split - 1, steps).ToArray();

        var plot = new Plot();
        var naiveLine = plot.Add.ScatterLine(time, naive);
        naiveLine.LegendText = "naive (last value)";
        naiveLine.Color = Colors.Gray.WithAlpha(0.6);
        naiveLine.LineWidth = 1;
        var truthLine = plot.Add.Scatter(time, truth);
        truthLine.LegendText = "truth";
        truthLine.Color = Colors.Black;
        truthLine.MarkerSize = 3;
        truthLine.LineWidth = 1;
        var modelLine = plot.Add.ScatterLine(time, model);
        modelLine.LegendText = "LSTM forecast";
        modelLine.Color = Colors.OrangeRed;
        modelLine.LineWidth = 2;
        plot.Title("One-step forecast on held-out data");
        plot.XLabel("step");
        plot.YLabel("value");
        plot.ShowLegend(Alignment.UpperLeft);

        string full = Path.GetFullPath(path);
        PlotFile.Save(full, () => plot.GetImage(1000, 450).GetImageBytes());   // written atomically: never half a PNG
        return full;
    }
}
