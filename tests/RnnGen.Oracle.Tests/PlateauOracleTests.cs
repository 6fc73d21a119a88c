using TorchSharp;

namespace RnnGen.Oracle.Tests;

/// <summary>
/// <see cref="ReduceOnPlateau"/> against libtorch's <c>torch.optim.lr_scheduler.ReduceLROnPlateau</c> (TorchSharp's port of
/// PyTorch's rule): the same metric sequence gives the same learning rate after every epoch, bit for bit, in every mode.
/// The metrics are a seeded random walk with flat stretches, jumps and NaNs, so that improvements, plateaus, cool-downs
/// and the floor all occur.
/// </summary>
public class PlateauOracleTests
{
    public static TheoryData<string, string, double, int, double, int, double, double> Settings() => new()
    {
        // mode, threshold mode, factor, patience, threshold, cooldown, min lr, eps
        { "min", "rel", 0.1, 10, 1e-4, 0, 0, 1e-8 },            // PyTorch's defaults
        { "min", "abs", 0.5, 1, 0.01, 2, 1e-3, 1e-8 },
        { "max", "rel", 0.3, 2, 0.05, 1, 0, 1e-8 },
        { "max", "abs", 0.5, 0, 0.0, 0, 0.01, 1e-8 },
        { "min", "rel", 0.9, 1, 1e-3, 0, 0, 0.02 },              // eps larger than some reductions: those are skipped
    };

    [Theory, MemberData(nameof(Settings))]
    public void LearningRates_MatchLibTorch_EpochByEpoch(string mode, string thresholdMode, double factor, int patience, double threshold,
        int cooldown, double minLr, double eps)
    {
        TorchRuntime.EnsureReady();
        double[] metrics = Metrics(seed: 7, count: 120);

        using var weight = new TorchSharp.Modules.Parameter(torch.zeros(1));
        var torchOptimizer = torch.optim.SGD([weight], learningRate: 0.5);
        var torchScheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(torchOptimizer, mode, factor, patience, threshold, thresholdMode,
            cooldown, [minLr], eps);

        var optimizer = new Sgd<double>(1, learningRate: 0.5);
        var plateau = new ReduceOnPlateau(factor, patience, threshold,
            thresholdMode == "rel" ? PlateauThreshold.Relative : PlateauThreshold.Absolute, cooldown, minLr, eps, maximize: mode == "max");

        int reductions = 0;
        for (int epoch = 0; epoch < metrics.Length; epoch++)
        {
            torchScheduler.step(metrics[epoch]);
            if (plateau.Step(metrics[epoch], optimizer)) reductions++;
            Assert.True(torchOptimizer.ParamGroups.First().LearningRate == optimizer.LearningRate,
                $"epoch {epoch} (metric {metrics[epoch]}): libtorch {torchOptimizer.ParamGroups.First().LearningRate}, RnnGen {optimizer.LearningRate}");
        }
        Assert.InRange(reductions, 2, metrics.Length); // the sequence does exercise the rule
    }

    // A noisy walk: mostly small steps down (a loss that improves), flat stretches, a few jumps up, and NaN at epochs 30 and 31.
    private static double[] Metrics(int seed, int count)
    {
        var random = new Random(seed);
        var metrics = new double[count];
        double value = 2;
        for (int i = 0; i < count; i++)
        {
            double u = random.NextDouble();
            value = u < 0.4 ? value * (1 - 0.05 * random.NextDouble()) // improves
                : u < 0.8 ? value                                       // flat
                : value * (1 + 0.1 * random.NextDouble());              // worse
            metrics[i] = i is 30 or 31 ? double.NaN : value;
        }
        return metrics;
    }
}
