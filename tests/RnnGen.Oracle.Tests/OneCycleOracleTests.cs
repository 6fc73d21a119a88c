using TorchSharp;

namespace RnnGen.Oracle.Tests;

/// <summary>
/// <see cref="OneCycleSchedule"/> against libtorch's <c>torch.optim.lr_scheduler.OneCycleLR</c> (TorchSharp's port of
/// PyTorch's rule, momentum not cycled): the learning rate of every step of the cycle, bit for bit, for two and three
/// phases, cosine and linear annealing.
/// </summary>
public class OneCycleOracleTests
{
    public static TheoryData<int, double, bool, double, double, bool> Settings() => new()
    {
        // total steps, pct start, cosine, div factor, final div factor, three phase
        { 100, 0.3, true, 25, 1e4, false },     // PyTorch's defaults
        { 37, 0.25, false, 10, 100, false },
        { 250, 0.4, true, 25, 1e4, true },
        { 61, 0.5, false, 5, 50, true },
    };

    [Theory, MemberData(nameof(Settings))]
    public void LearningRates_MatchLibTorch_StepByStep(int totalSteps, double pctStart, bool cosine, double divFactor, double finalDivFactor, bool threePhase)
    {
        TorchRuntime.EnsureReady();
        const double max = 0.2;
        using var weight = new TorchSharp.Modules.Parameter(torch.zeros(1));
        var optimizer = torch.optim.SGD([weight], learningRate: max);
        var scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr: max, total_steps: totalSteps, pct_start: pctStart,
            anneal_strategy: cosine ? torch.optim.lr_scheduler.impl.OneCycleLR.AnnealStrategy.Cos : torch.optim.lr_scheduler.impl.OneCycleLR.AnnealStrategy.Linear,
            cycle_momentum: false, div_factor: divFactor, final_div_factor: finalDivFactor, three_phase: threePhase);
        var schedule = new OneCycleSchedule(max, totalSteps, pctStart, cosine, divFactor, finalDivFactor, threePhase);

        for (int step = 0; step < totalSteps; step++)
        {
            double expected = optimizer.ParamGroups.First().LearningRate;
            Assert.True(expected == schedule.LearningRate(step), $"step {step}: libtorch {expected}, RnnGen {schedule.LearningRate(step)}");
            scheduler.step();
        }
        // the cycle is covered: near the peak (reached exactly only when pctStart · S − 1 is a whole step) and down past the start
        double[] rates = [.. Enumerable.Range(0, totalSteps).Select(s => schedule.LearningRate(s))];
        Assert.InRange(rates.Max(), 0.9 * max, max);
        Assert.True(rates[^1] < rates[0], $"last {rates[^1]}, first {rates[0]}");
    }
}
