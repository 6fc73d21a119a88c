namespace RnnGen.Tests.Optimizers;

/// <summary>
/// <see cref="OneCycleSchedule"/>'s settings are checked, and past its last step it holds the minimum (libtorch's rule
/// inside the cycle: RnnGen.Oracle.Tests, OneCycleOracleTests).
/// </summary>
public class OneCycleScheduleTests
{
    [Fact]
    public void BadSettings_AreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new OneCycleSchedule(-1, 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OneCycleSchedule(0.1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OneCycleSchedule(0.1, 100, pctStart: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OneCycleSchedule(0.1, 100, pctStart: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OneCycleSchedule(0.1, 100, pctStart: 0.6, threePhase: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OneCycleSchedule(0.1, 100, divFactor: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OneCycleSchedule(0.1, 100, finalDivFactor: double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OneCycleSchedule(0.1, 100).LearningRate(-1));
        // pctStart · S = 1: the rising phase would end at step 0, where it starts (0 / 0 at step 0; PyTorch raises there)
        foreach (bool threePhase in new[] { false, true })
            foreach (bool cosine in new[] { false, true })
                Assert.Contains("rising phase would end at step 0", Assert.Throws<ArgumentOutOfRangeException>(
                    () => new OneCycleSchedule(0.1, totalSteps: 10, pctStart: 0.1, cosine: cosine, threePhase: threePhase)).Message);
        // just beside it every step has a finite rate
        foreach (var (steps, pct) in new[] { (10L, 0.15), (20L, 0.04), (3L, 0.3) })
            for (long step = 0; step <= steps; step++)
                Assert.True(double.IsFinite(new OneCycleSchedule(0.1, steps, pct).LearningRate(step)), $"S {steps}, pctStart {pct}, step {step}");
    }

    // S = 11, pctStart 0.5, linear: up from 0.01 to 0.1 over steps 0…4.5, down to 1e-4 at step 10, then held there
    [Fact]
    public void PastTheCycle_TheRateStaysAtTheMinimum()
    {
        var schedule = new OneCycleSchedule(0.1, totalSteps: 11, pctStart: 0.5, cosine: false, divFactor: 10, finalDivFactor: 100);
        Assert.Equal(0.01, schedule.LearningRate(0), 15);
        Assert.Equal(0.01 + 0.09 * 4 / 4.5, schedule.LearningRate(4), 15);
        Assert.Equal(1e-4, schedule.LearningRate(10), 15);
        Assert.Equal(1e-4, schedule.LearningRate(11));
        Assert.Equal(1e-4, schedule.LearningRate(1_000_000));
    }
}
