namespace RnnGen.Tests.Optimizers;

/// <summary>
/// <see cref="ReduceOnPlateau"/>'s settings are checked, and its rule on a short hand-made sequence (libtorch's rule on
/// long ones: RnnGen.Oracle.Tests, PlateauOracleTests).
/// </summary>
public class ReduceOnPlateauTests
{
    [Fact]
    public void BadSettings_AreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceOnPlateau(factor: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceOnPlateau(factor: -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceOnPlateau(factor: double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceOnPlateau(patience: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceOnPlateau(cooldown: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceOnPlateau(threshold: double.PositiveInfinity));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceOnPlateau(minLearningRate: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceOnPlateau(thresholdMode: (PlateauThreshold)7));
    }

    // patience 1: the second epoch in a row without an improvement halves the rate; a NaN is not an improvement; the
    // rate stops at the minimum
    [Fact]
    public void TheRate_FallsAfterPatienceBadEpochs_AndStopsAtTheMinimum()
    {
        var optimizer = new Sgd<float>(1, learningRate: 1);
        var plateau = new ReduceOnPlateau(factor: 0.5, patience: 1, threshold: 0, minLearningRate: 0.3);
        double[] metrics = [5, 4, 4, 4, double.NaN, 3, 3, 3, 3, 3];
        double[] expected = [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.3, 0.3, 0.3];
        var rates = new double[metrics.Length];
        for (int i = 0; i < metrics.Length; i++)
        {
            plateau.Step(metrics[i], optimizer);
            rates[i] = optimizer.LearningRate;
        }
        Assert.Equal(expected, rates);
        Assert.Equal(3, plateau.Best);
    }

    // the settable state (to resume a run) refuses what no run holds: a negative count, or a NaN best, with which every
    // metric would count as bad and the rate would fall every patience + 1 epochs however the loss improved
    [Fact]
    public void StateSetters_RefuseValuesNoRunHolds()
    {
        var plateau = new ReduceOnPlateau(factor: 0.5, patience: 1);
        Assert.Equal("BadEpochs", Assert.Throws<ArgumentOutOfRangeException>(() => plateau.BadEpochs = -1).ParamName);
        Assert.Equal("CooldownLeft", Assert.Throws<ArgumentOutOfRangeException>(() => plateau.CooldownLeft = -1).ParamName);
        Assert.Equal("Best", Assert.Throws<ArgumentOutOfRangeException>(() => plateau.Best = double.NaN).ParamName);
        Assert.Equal(double.PositiveInfinity, plateau.Best);
        Assert.Equal(0, plateau.BadEpochs);
        Assert.Equal(0, plateau.CooldownLeft);

        // what a run holds is accepted: the initial ±∞, any finite best, counts >= 0
        plateau.Best = double.NegativeInfinity;
        plateau.Best = 1.5;
        plateau.BadEpochs = 3;
        plateau.CooldownLeft = 2;
        Assert.Equal((1.5, 3, 2), (plateau.Best, plateau.BadEpochs, plateau.CooldownLeft));
    }
}
