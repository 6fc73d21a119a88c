using Forecast;
using SequenceClassifier;

namespace RnnGen.Tests.Samples;

/// <summary>
/// The SequenceClassifier and Forecast samples' cores (<c>Run(options)</c>) on small sizes: each learns something real,
/// and what it reports agrees with quantities recomputed here from the generated data.
/// </summary>
public sealed class SampleTests(Xunit.Abstractions.ITestOutputHelper output)
{
    static readonly ClassifierOptions TinyClassifier = new(TrainingCount: 400, TestCount: 200, Epochs: 10, MinSteps: 20,
        MaxSteps: 30, Seed: 3, Workers: 2);

    [Fact]
    public void SequenceClassifier_Tiny_ClearlyAboveChance()
    {
        ClassifierResult result = WaveClassifierRun.Run(TinyClassifier);
        output.WriteLine($"held-out accuracy {result.Accuracy:P1} after {result.Training.Epochs.Count} epochs");

        // Four balanced classes: chance is 25 %. A clear margin: at least 60 %.
        Assert.True(result.Accuracy >= 0.60, $"held-out accuracy {result.Accuracy:P1}, chance 25 %");

        // The confusion matrix accounts for every test sequence, row sums are the class counts (balanced: 50 each),
        // and its diagonal gives the reported accuracy.
        int classes = Waveforms.Names.Length;
        Assert.Equal(classes, result.Confusion.GetLength(0));
        Assert.Equal(classes, result.Confusion.GetLength(1));
        int total = 0, diagonal = 0;
        for (int actual = 0; actual < classes; actual++)
        {
            int row = 0;
            for (int predicted = 0; predicted < classes; predicted++) row += result.Confusion[actual, predicted];
            Assert.Equal(TinyClassifier.TestCount / classes, row);
            total += row;
            diagonal += result.Confusion[actual, actual];
        }
        Assert.Equal(TinyClassifier.TestCount, total);
        Assert.Equal((double)diagonal / total, result.Accuracy, 12);
    }

    [Fact]
    public void SequenceClassifier_Waveforms_AreSeededBalancedAndInRange()
    {
        var a = Waveforms.Generate(40, 20, 30, 0.3, seed: 5);
        var b = Waveforms.Generate(40, 20, 30, 0.3, seed: 5);
        Assert.Equal(40, a.Count);
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal(i % 4, a[i].Labels.Span[0]);
            Assert.Single(a[i].Labels.ToArray());
            Assert.InRange(a[i].Inputs.Length, 20, 30);
            Assert.Equal(a[i].Inputs.ToArray(), b[i].Inputs.ToArray());
        }
    }

    [Fact]
    public void Forecast_Tiny_BeatsNaiveBaselineAndWritesPng()
    {
        string folder = Path.Combine(Path.GetTempPath(), "rnngen-forecast-" + Guid.NewGuid().ToString("N"));
        string png = Path.Combine(folder, "plot.png");
        try
        {
            var options = new ForecastOptions(Length: 2000, ChunkLength: 100, Epochs: 12, Noise: 0.1, Seed: 2, Workers: 2,
                PlotPath: png, PlotSteps: 100);
            ForecastResult result = ForecastRun.Run(options);
            output.WriteLine($"model RMSE {result.ModelRmse:F4}, naive {result.NaiveRmse:F4}, ratio {result.Ratio:F3}, " +
                             $"PNG {new FileInfo(png).Length} bytes");

            // The naive baseline recomputed here from the same seeded series: the last 20 % of steps, x(t) vs x(t−1).
            double[] x = Series.Generate(options.Length, options.Noise, options.Seed);
            int split = options.Length * 8 / 10;
            double squares = 0;
            for (int t = split; t < x.Length; t++) squares += (x[t] - x[t - 1]) * (x[t] - x[t - 1]);
            Assert.Equal(x.Length - split, result.TestSteps);
            Assert.Equal(Math.Sqrt(squares / result.TestSteps), result.NaiveRmse, 9);

            // The model beats the baseline clearly, yet cannot beat the noise it cannot predict (σ = 0.1 on every value).
            Assert.True(result.Ratio < 0.85, $"model RMSE {result.ModelRmse:F4} vs naive {result.NaiveRmse:F4}");
            Assert.True(result.ModelRmse > 0.8 * options.Noise, $"model RMSE {result.ModelRmse:F4} below the noise floor");

            // A real PNG of non-trivial size.
            Assert.Equal(Path.GetFullPath(png), result.PlotPath);
            byte[] bytes = File.ReadAllBytes(png);
            Assert.True(bytes.Length > 10_000, $"PNG of {bytes.Length} bytes");
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Samples_TooSmallOptions_ThrowSayingWhatToChange()
    {
        var forecast = Assert.Throws<ArgumentException>(() => ForecastRun.Run(new ForecastOptions(Length: 50, PlotPath: null)));
        Assert.Contains("too short", forecast.Message);
        var classifier = Assert.Throws<ArgumentException>(() => WaveClassifierRun.Run(new ClassifierOptions(TrainingCount: 10)));
        Assert.Contains("at least 40 training sequences", classifier.Message);
    }
}
