namespace RnnGen;

/// <summary>
/// A learning-rate schedule: the learning rate to use for each optimizer step. Drive an optimizer with
/// <c>optimizer.LearningRate = schedule.LearningRate(optimizer.StepCount);</c> before every <c>Step</c>.
/// </summary>
public interface ILearningRateSchedule
{
    /// <summary>
    /// The learning rate for optimizer step number <paramref name="step"/>, counted from 0: step 0 is the first update
    /// (pass the optimizer's <see cref="Optimizer{T}.StepCount"/> before stepping).
    /// </summary>
    /// <param name="step">Number of optimizer steps already taken, ≥ 0.</param>
    double LearningRate(long step);
}

/// <summary>A constant learning rate: lr(s) = lr₀.</summary>
public sealed class ConstantSchedule : ILearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="learningRate">lr₀, finite and ≥ 0.</param>
    public ConstantSchedule(double learningRate)
    {
        HyperParameter.CheckNonNegative(learningRate, nameof(learningRate));
        BaseLearningRate = learningRate;
    }

    /// <summary>lr₀.</summary>
    public double BaseLearningRate { get; }

    /// <inheritdoc/>
    public double LearningRate(long step)
    {
        Schedule.CheckStep(step);
        return BaseLearningRate;
    }
}

/// <summary>
/// Step decay (PyTorch's <c>StepLR</c> counted in optimizer steps): the learning rate is multiplied by γ once every
/// <see cref="StepSize"/> steps, lr(s) = lr₀ · γ^⌊s / StepSize⌋.
/// </summary>
public sealed class StepDecaySchedule : ILearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="initialLearningRate">lr₀, finite and ≥ 0.</param>
    /// <param name="stepSize">Optimizer steps between decays, ≥ 1 (e.g. steps per epoch × epochs per decay).</param>
    /// <param name="gamma">Factor γ, finite and ≥ 0 (e.g. 0.5 halves the rate).</param>
    public StepDecaySchedule(double initialLearningRate, int stepSize, double gamma)
    {
        HyperParameter.CheckNonNegative(initialLearningRate, nameof(initialLearningRate));
        ArgumentOutOfRangeException.ThrowIfLessThan(stepSize, 1);
        HyperParameter.CheckNonNegative(gamma, nameof(gamma));
        InitialLearningRate = initialLearningRate;
        StepSize = stepSize;
        Gamma = gamma;
    }

    /// <summary>lr₀.</summary>
    public double InitialLearningRate { get; }

    /// <summary>Optimizer steps between two decays.</summary>
    public int StepSize { get; }

    /// <summary>Factor γ applied at each decay.</summary>
    public double Gamma { get; }

    /// <inheritdoc/>
    public double LearningRate(long step)
    {
        return Schedule.Staircase(InitialLearningRate, Gamma, step, StepSize);
    }
}

/// <summary>
/// Exponential decay by γ per optimizer step: lr(s) = lr₀ · γ^s. This is PyTorch's <c>ExponentialLR</c> stepped after every
/// batch; to decay by γ once per epoch (<c>ExponentialLR</c> stepped after every epoch), use
/// <see cref="PerEpoch(double, double, int)"/>: lr(s) = lr₀ · γ^⌊s / stepsPerEpoch⌋.
/// </summary>
public sealed class ExponentialDecaySchedule : ILearningRateSchedule
{
    /// <summary>Decay by <paramref name="gamma"/> after every optimizer step: lr(s) = lr₀ · γ^s.</summary>
    /// <param name="initialLearningRate">lr₀, finite and ≥ 0.</param>
    /// <param name="gamma">Factor γ per step, finite and ≥ 0 (typically slightly below 1, e.g. 0.9999).</param>
    public ExponentialDecaySchedule(double initialLearningRate, double gamma)
        : this(initialLearningRate, gamma, stepsPerDecay: 1)
    {
    }

    private ExponentialDecaySchedule(double initialLearningRate, double gamma, int stepsPerDecay)
    {
        HyperParameter.CheckNonNegative(initialLearningRate, nameof(initialLearningRate));
        HyperParameter.CheckNonNegative(gamma, nameof(gamma));
        InitialLearningRate = initialLearningRate;
        Gamma = gamma;
        StepsPerDecay = stepsPerDecay;
    }

    /// <summary>
    /// Decay by <paramref name="gamma"/> once per epoch of <paramref name="stepsPerEpoch"/> optimizer steps:
    /// lr(s) = lr₀ · γ^⌊s / stepsPerEpoch⌋, constant within an epoch.
    /// </summary>
    /// <param name="initialLearningRate">lr₀, finite and ≥ 0.</param>
    /// <param name="gamma">Factor γ per epoch, finite and ≥ 0 (e.g. 0.97).</param>
    /// <param name="stepsPerEpoch">Optimizer steps (batches) in one epoch, ≥ 1.</param>
    public static ExponentialDecaySchedule PerEpoch(double initialLearningRate, double gamma, int stepsPerEpoch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stepsPerEpoch, 1);
        return new(initialLearningRate, gamma, stepsPerEpoch);
    }

    /// <summary>lr₀.</summary>
    public double InitialLearningRate { get; }

    /// <summary>Factor γ per decay unit.</summary>
    public double Gamma { get; }

    /// <summary>The decay unit in optimizer steps: 1 for per-step decay, the epoch length for per-epoch decay.</summary>
    public int StepsPerDecay { get; }

    /// <inheritdoc/>
    public double LearningRate(long step)
    {
        return Schedule.Staircase(InitialLearningRate, Gamma, step, StepsPerDecay);
    }
}

/// <summary>
/// Linear warm-up followed by cosine decay — the usual transformer recipe (Hugging Face's
/// <c>get_cosine_with_min_lr_schedule_with_warmup</c>, one half cosine), in optimizer steps:
/// <code>
/// s &lt; W:        lr(s) = peak · s / W                                    (warm-up from 0)
/// W ≤ s:        p = min(1, (s − W) / (S − W))
///               lr(s) = min + (peak − min) · (1 + cos(π·p)) / 2           (peak at s = W, min at s = S)
/// </code>
/// with W = <see cref="WarmupSteps"/>, S = <see cref="TotalSteps"/>. Unlike the Hugging Face function, the rate stays at
/// the minimum after S steps instead of rising along the cosine again.
/// </summary>
public sealed class CosineWithWarmupSchedule : ILearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="peakLearningRate">Learning rate reached at the end of the warm-up, finite and ≥ 0.</param>
    /// <param name="warmupSteps">W ≥ 0 (0: no warm-up, start at the peak).</param>
    /// <param name="totalSteps">S &gt; W: the step at which the minimum is reached (usually the length of training).</param>
    /// <param name="minimumLearningRate">Floor of the cosine, in [0, peak] (default 0).</param>
    public CosineWithWarmupSchedule(double peakLearningRate, long warmupSteps, long totalSteps, double minimumLearningRate = 0)
    {
        HyperParameter.CheckNonNegative(peakLearningRate, nameof(peakLearningRate));
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        if (totalSteps <= warmupSteps)
            throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, $"totalSteps must be greater than warmupSteps ({warmupSteps}).");
        HyperParameter.CheckNonNegative(minimumLearningRate, nameof(minimumLearningRate));
        if (minimumLearningRate > peakLearningRate)
            throw new ArgumentOutOfRangeException(nameof(minimumLearningRate), minimumLearningRate, $"minimumLearningRate must not exceed peakLearningRate ({peakLearningRate}).");
        PeakLearningRate = peakLearningRate;
        WarmupSteps = warmupSteps;
        TotalSteps = totalSteps;
        MinimumLearningRate = minimumLearningRate;
    }

    /// <summary>Learning rate at the end of the warm-up.</summary>
    public double PeakLearningRate { get; }

    /// <summary>Number of warm-up steps W.</summary>
    public long WarmupSteps { get; }

    /// <summary>Step S at which the minimum is reached.</summary>
    public long TotalSteps { get; }

    /// <summary>Learning rate from step S on.</summary>
    public double MinimumLearningRate { get; }

    /// <inheritdoc/>
    public double LearningRate(long step)
    {
        Schedule.CheckStep(step);
        if (step < WarmupSteps)
            return PeakLearningRate * step / WarmupSteps;
        double progress = Math.Min(1.0, (double)(step - WarmupSteps) / (TotalSteps - WarmupSteps));
        return MinimumLearningRate + (PeakLearningRate - MinimumLearningRate) * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}

/// <summary>
/// The one-cycle policy (Smith &amp; Topin; PyTorch's <c>OneCycleLR</c> with its defaults and its arithmetic), in optimizer
/// steps: from max / divFactor up to max over the first <c>pctStart</c> of the steps, then down to
/// max / (divFactor · finalDivFactor) at step S − 1; with <c>threePhase</c>, down to the start again by twice
/// <c>pctStart</c> and then to the minimum. Each phase anneals by a half cosine (or linearly), with the phase ends at
/// pctStart · S − 1 (and 2 · pctStart · S − 2), S − 1 as PyTorch places them. After S steps the rate stays at the minimum
/// (PyTorch raises an error there). Momentum is not cycled: RnnGen's schedules set the learning rate only.
/// </summary>
public sealed class OneCycleSchedule : ILearningRateSchedule
{
    private readonly double _initial, _minimum;
    private readonly (double EndStep, double Start, double End)[] _phases;

    /// <summary>Creates the schedule.</summary>
    /// <param name="maxLearningRate">The peak, finite and ≥ 0.</param>
    /// <param name="totalSteps">S ≥ 2: the length of training in optimizer steps.</param>
    /// <param name="pctStart">The fraction of the steps spent rising, in (0, 1) (0.5 at most with <paramref name="threePhase"/>), and
    /// pctStart · totalSteps not 1 (the rising phase would end where it starts).</param>
    /// <param name="cosine">Anneal by a half cosine (PyTorch's 'cos', the default) or linearly ('linear').</param>
    /// <param name="divFactor">The start is max / divFactor, &gt; 0.</param>
    /// <param name="finalDivFactor">The minimum is the start / finalDivFactor, &gt; 0.</param>
    /// <param name="threePhase">Fall back to the start before falling to the minimum (PyTorch's <c>three_phase</c>).</param>
    public OneCycleSchedule(double maxLearningRate, long totalSteps, double pctStart = 0.3, bool cosine = true, double divFactor = 25,
        double finalDivFactor = 1e4, bool threePhase = false)
    {
        HyperParameter.CheckNonNegative(maxLearningRate, nameof(maxLearningRate));
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, 2);
        if (!(pctStart > 0 && (threePhase ? pctStart <= 0.5 : pctStart < 1)))
            throw new ArgumentOutOfRangeException(nameof(pctStart), pctStart, $"pctStart must be in (0, {(threePhase ? "0.5]" : "1)")}.");
        // the rising phase ends at pctStart · S − 1: at 0 it would end where it starts, and step 0 would divide 0 by 0 (PyTorch
        // raises ZeroDivisionError there when the scheduler is made)
        if (pctStart * totalSteps - 1 == 0)
            throw new ArgumentOutOfRangeException(nameof(pctStart), pctStart,
                $"pctStart · totalSteps is 1, so the rising phase would end at step 0, where it starts: choose another pctStart or totalSteps.");
        if (!(divFactor > 0 && double.IsFinite(divFactor)))
            throw new ArgumentOutOfRangeException(nameof(divFactor), divFactor, "divFactor must be a positive number.");
        if (!(finalDivFactor > 0 && double.IsFinite(finalDivFactor)))
            throw new ArgumentOutOfRangeException(nameof(finalDivFactor), finalDivFactor, "finalDivFactor must be a positive number.");
        MaxLearningRate = maxLearningRate;
        TotalSteps = totalSteps;
        Cosine = cosine;
        _initial = maxLearningRate / divFactor;
        _minimum = _initial / finalDivFactor;
        if (!double.IsFinite(_initial) || !double.IsFinite(_minimum))
            throw new ArgumentOutOfRangeException(double.IsFinite(_initial) ? nameof(finalDivFactor) : nameof(divFactor), double.IsFinite(_initial) ? finalDivFactor : divFactor,
                $"the starting rate maxLearningRate / divFactor ({_initial}) and the last, that / finalDivFactor ({_minimum}), must be finite: use larger factors.");
        _phases = threePhase
            ?
            [
                (pctStart * totalSteps - 1, _initial, maxLearningRate),
                (2 * pctStart * totalSteps - 2, maxLearningRate, _initial),
                (totalSteps - 1, _initial, _minimum),
            ]
            :
            [
                (pctStart * totalSteps - 1, _initial, maxLearningRate),
                (totalSteps - 1, maxLearningRate, _minimum),
            ];
    }

    /// <summary>The peak.</summary>
    public double MaxLearningRate { get; }

    /// <summary>S: the steps of the cycle.</summary>
    public long TotalSteps { get; }

    /// <summary>Whether the phases anneal by a half cosine (else linearly).</summary>
    public bool Cosine { get; }

    /// <inheritdoc/>
    public double LearningRate(long step)
    {
        Schedule.CheckStep(step);
        if (step >= TotalSteps) return _minimum;
        double startStep = 0;
        for (int j = 0; j < _phases.Length; j++)
        {
            var (endStep, start, end) = _phases[j];
            if (step <= endStep || j == _phases.Length - 1)
            {
                double pct = (step - startStep) / (endStep - startStep);
                return Cosine ? end + (start - end) / 2.0 * (Math.Cos(Math.PI * pct) + 1) : (end - start) * pct + start;
            }
            startStep = endStep;
        }
        return _minimum; // not reached: the last phase always answers
    }
}

internal static class Schedule
{
    public static void CheckStep(long step) => ArgumentOutOfRangeException.ThrowIfNegative(step);

    /// <summary>lr₀ · γ^⌊step / every⌋, the closed form of PyTorch's StepLR / ExponentialLR.</summary>
    public static double Staircase(double initial, double gamma, long step, int every)
    {
        CheckStep(step);
        if (initial == 0)
            return 0; // 0 · γ^k is 0 even where γ^k overflows (0 · ∞ would be NaN)
        double rate = initial * Math.Pow(gamma, step / every);
        if (!double.IsFinite(rate))
            throw new InvalidOperationException(
                $"the learning rate at step {step} is {initial} · {gamma}^{step / every}, beyond double's range: with a gamma above 1 the rate grows " +
                "without bound; use a gamma of at most 1, or stop the schedule before.");
        return rate;
    }
}
