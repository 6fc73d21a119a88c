namespace RnnGen.Tests.Optimizers;

public class LearningRateScheduleTests
{
    private const double Tight = 1e-15;

    [Fact]
    public void Constant()
    {
        var s = new ConstantSchedule(0.1);
        Assert.Equal(0.1, s.LearningRate(0));
        Assert.Equal(0.1, s.LearningRate(123456789));
    }

    [Fact]
    public void Step_decay_multiplies_by_gamma_every_step_size_steps()
    {
        var s = new StepDecaySchedule(0.1, stepSize: 3, gamma: 0.5);
        double[] expected = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125];
        for (int step = 0; step < expected.Length; step++)
            Assert.Equal(expected[step], s.LearningRate(step), tolerance: Tight);
    }

    [Fact]
    public void Exponential_decay_per_step()
    {
        var s = new ExponentialDecaySchedule(2.0, gamma: 0.9);
        Assert.Equal(1, s.StepsPerDecay);
        Assert.Equal(2.0, s.LearningRate(0));
        Assert.Equal(1.8, s.LearningRate(1), tolerance: Tight);
        Assert.Equal(1.62, s.LearningRate(2), tolerance: Tight);
        Assert.Equal(1.458, s.LearningRate(3), tolerance: Tight);
        Assert.Equal(2.0 * 0.9 * 0.9 * 0.9 * 0.9 * 0.9 * 0.9 * 0.9 * 0.9 * 0.9 * 0.9, s.LearningRate(10), tolerance: 1e-14);
    }

    [Fact]
    public void Exponential_decay_per_epoch_is_constant_within_an_epoch()
    {
        var s = ExponentialDecaySchedule.PerEpoch(0.2, gamma: 0.5, stepsPerEpoch: 4);
        Assert.Equal(4, s.StepsPerDecay);
        double[] expected = [0.2, 0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1, 0.05];
        for (int step = 0; step < expected.Length; step++)
            Assert.Equal(expected[step], s.LearningRate(step), tolerance: Tight);
    }

    [Fact]
    public void Cosine_with_warmup_rises_linearly_from_zero_then_follows_a_half_cosine_to_the_minimum()
    {
        var s = new CosineWithWarmupSchedule(peakLearningRate: 1.0, warmupSteps: 4, totalSteps: 12, minimumLearningRate: 0.1);
        Assert.Equal(0.0, s.LearningRate(0));
        Assert.Equal(0.25, s.LearningRate(1), tolerance: Tight);
        Assert.Equal(0.5, s.LearningRate(2), tolerance: Tight);
        Assert.Equal(0.75, s.LearningRate(3), tolerance: Tight);
        Assert.Equal(1.0, s.LearningRate(4), tolerance: Tight);                                   // peak: cos(0)
        Assert.Equal(0.1 + 0.9 * (1 + Math.Sqrt(0.5)) / 2, s.LearningRate(6), tolerance: Tight);  // p = 1/4: cos(π/4) = √½
        Assert.Equal(0.55, s.LearningRate(8), tolerance: Tight);                                  // p = 1/2: cos(π/2) = 0
        Assert.Equal(0.1 + 0.9 * (1 - Math.Sqrt(0.5)) / 2, s.LearningRate(10), tolerance: Tight); // p = 3/4
        Assert.Equal(0.1, s.LearningRate(12), tolerance: Tight);                                  // p = 1: minimum
        Assert.Equal(0.1, s.LearningRate(1000), tolerance: Tight);                                // stays there
    }

    [Fact]
    public void Cosine_without_warmup_starts_at_the_peak_and_decays_to_zero_by_default()
    {
        var s = new CosineWithWarmupSchedule(peakLearningRate: 3e-4, warmupSteps: 0, totalSteps: 100);
        Assert.Equal(3e-4, s.LearningRate(0), tolerance: Tight);
        Assert.Equal(1.5e-4, s.LearningRate(50), tolerance: Tight);
        Assert.Equal(0.0, s.LearningRate(100), tolerance: Tight);
    }

    [Fact]
    public void Invalid_arguments_throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>("learningRate", () => new ConstantSchedule(-1));
        Assert.Throws<ArgumentOutOfRangeException>("stepSize", () => new StepDecaySchedule(0.1, 0, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>("gamma", () => new ExponentialDecaySchedule(0.1, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>("stepsPerEpoch", () => ExponentialDecaySchedule.PerEpoch(0.1, 0.5, 0));
        Assert.Throws<ArgumentOutOfRangeException>("totalSteps", () => new CosineWithWarmupSchedule(0.1, 10, 10));
        Assert.Throws<ArgumentOutOfRangeException>("warmupSteps", () => new CosineWithWarmupSchedule(0.1, -1, 10));
        Assert.Throws<ArgumentOutOfRangeException>("minimumLearningRate", () => new CosineWithWarmupSchedule(0.1, 1, 10, 0.2));
        Assert.Throws<ArgumentOutOfRangeException>("step", () => new ConstantSchedule(0.1).LearningRate(-1));
        Assert.Throws<ArgumentOutOfRangeException>("step", () => new CosineWithWarmupSchedule(0.1, 1, 10).LearningRate(-1));
    }
}
