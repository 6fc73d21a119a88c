using System.Numerics;

namespace RnnGen;

/// <summary>How <see cref="ReduceOnPlateau"/> decides that a metric improved on the best so far.</summary>
public enum PlateauThreshold
{
    /// <summary>By a fraction of the best: below best · (1 − threshold) (above best · (1 + threshold) when maximising). PyTorch's 'rel'.</summary>
    Relative = 0,
    /// <summary>By an amount: below best − threshold (above best + threshold when maximising). PyTorch's 'abs'.</summary>
    Absolute = 1,
}

/// <summary>
/// Lowers the learning rate when a monitored metric (typically the validation loss, once per epoch) stops improving:
/// PyTorch's <c>torch.optim.lr_scheduler.ReduceLROnPlateau</c>, with its defaults and its rules, so its settings carry
/// over. Call <see cref="Step{T}"/> once per epoch with the metric, for example from the trainer's event:
/// <code>
/// var plateau = new ReduceOnPlateau(factor: 0.5, patience: 2);
/// trainer.EpochCompleted += e =&gt; plateau.Step(e.MonitoredLoss, trainer.Optimizer);
/// </code>
/// </summary>
/// <remarks>
/// <para>After each call: if the metric beat the best so far by more than the threshold, it becomes the best and the
/// count of bad epochs restarts; otherwise the count grows (a NaN metric is a bad epoch). During a cool-down after a
/// reduction, bad epochs are not counted. When more than <c>patience</c> bad epochs have passed, the learning rate
/// becomes max(lr · factor, minimum) — unless that changes it by no more than <c>epsilon</c> — and the cool-down starts.</para>
/// <para>It sets <see cref="Optimizer{T}.LearningRate"/>, so do not combine it with <see cref="TrainerOptions"/>'s
/// step schedule, which sets the rate before every step. Its state (<see cref="Best"/>, <see cref="BadEpochs"/>,
/// <see cref="CooldownLeft"/>) is settable, to resume a run.</para>
/// </remarks>
public sealed class ReduceOnPlateau
{
    /// <summary>Creates the rule (PyTorch's defaults).</summary>
    /// <param name="factor">The factor a reduction multiplies the learning rate by, in [0, 1).</param>
    /// <param name="patience">Bad epochs tolerated before a reduction, ≥ 0.</param>
    /// <param name="threshold">How much better counts as better, ≥ 0 (see <paramref name="thresholdMode"/>).</param>
    /// <param name="thresholdMode">Whether the threshold is a fraction of the best or an amount.</param>
    /// <param name="cooldown">Epochs after a reduction whose bad results are not counted, ≥ 0.</param>
    /// <param name="minLearningRate">The learning rate never goes below this, ≥ 0.</param>
    /// <param name="epsilon">A reduction that changes the learning rate by no more than this is skipped, ≥ 0.</param>
    /// <param name="maximize">True when a higher metric is better (an accuracy); false for a loss.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of its range or not finite.</exception>
    public ReduceOnPlateau(double factor = 0.1, int patience = 10, double threshold = 1e-4, PlateauThreshold thresholdMode = PlateauThreshold.Relative,
        int cooldown = 0, double minLearningRate = 0, double epsilon = 1e-8, bool maximize = false)
    {
        if (!(factor >= 0 && factor < 1))
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "The factor must be in [0, 1): a reduction multiplies the learning rate by it.");
        ArgumentOutOfRangeException.ThrowIfNegative(patience);
        ArgumentOutOfRangeException.ThrowIfNegative(cooldown);
        HyperParameter.CheckNonNegative(threshold, nameof(threshold));
        HyperParameter.CheckNonNegative(minLearningRate, nameof(minLearningRate));
        HyperParameter.CheckNonNegative(epsilon, nameof(epsilon));
        if (!Enum.IsDefined(thresholdMode))
            throw new ArgumentOutOfRangeException(nameof(thresholdMode), thresholdMode, "Use PlateauThreshold.Relative or PlateauThreshold.Absolute.");
        Factor = factor;
        Patience = patience;
        Threshold = threshold;
        ThresholdMode = thresholdMode;
        Cooldown = cooldown;
        MinLearningRate = minLearningRate;
        Epsilon = epsilon;
        Maximize = maximize;
        Best = maximize ? double.NegativeInfinity : double.PositiveInfinity;
    }

    /// <summary>The factor of a reduction.</summary>
    public double Factor { get; }

    /// <summary>Bad epochs tolerated before a reduction.</summary>
    public int Patience { get; }

    /// <summary>How much better counts as better.</summary>
    public double Threshold { get; }

    /// <summary>Whether <see cref="Threshold"/> is a fraction or an amount.</summary>
    public PlateauThreshold ThresholdMode { get; }

    /// <summary>Epochs after a reduction whose bad results are not counted.</summary>
    public int Cooldown { get; }

    /// <summary>The lowest learning rate.</summary>
    public double MinLearningRate { get; }

    /// <summary>The smallest change a reduction makes.</summary>
    public double Epsilon { get; }

    /// <summary>Whether a higher metric is better.</summary>
    public bool Maximize { get; }

    private double _best;
    private int _badEpochs, _cooldownLeft;

    /// <summary>The best metric so far (±∞ before the first call). Settable to resume a run: any value but NaN.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to NaN (no metric would ever beat it).</exception>
    public double Best
    {
        get => _best;
        set
        {
            if (double.IsNaN(value))
                throw new ArgumentOutOfRangeException(nameof(Best), value, "Best must not be NaN: no metric would ever beat it. Use ±∞ for \"none yet\".");
            _best = value;
        }
    }

    /// <summary>Bad epochs since the best (or since the last reduction). Settable to resume a run: ≥ 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a negative value.</exception>
    public int BadEpochs
    {
        get => _badEpochs;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value, nameof(BadEpochs));
            _badEpochs = value;
        }
    }

    /// <summary>Epochs of cool-down left. Settable to resume a run: ≥ 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a negative value.</exception>
    public int CooldownLeft
    {
        get => _cooldownLeft;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value, nameof(CooldownLeft));
            _cooldownLeft = value;
        }
    }

    /// <summary>
    /// Takes one epoch's <paramref name="metric"/> and lowers <paramref name="optimizer"/>'s learning rate if the metric
    /// has not improved for more than <see cref="Patience"/> epochs. Returns whether it lowered it.
    /// </summary>
    public bool Step<T>(double metric, Optimizer<T> optimizer) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (IsBetter(metric))
        {
            Best = metric;
            BadEpochs = 0;
        }
        else
        {
            if (BadEpochs < int.MaxValue) BadEpochs++; // a patience of int.MaxValue waits for ever, and the count stays in range
        }
        if (CooldownLeft > 0)
        {
            CooldownLeft--;
            BadEpochs = 0; // bad epochs in the cool-down do not count
        }
        if (BadEpochs <= Patience) return false;

        CooldownLeft = Cooldown;
        BadEpochs = 0;
        double old = optimizer.LearningRate, lowered = Math.Max(old * Factor, MinLearningRate);
        if (old - lowered <= Epsilon) return false;
        optimizer.LearningRate = lowered;
        return true;
    }

    private bool IsBetter(double metric) => (Maximize, ThresholdMode) switch
    {
        (false, PlateauThreshold.Relative) => metric < Best * (1 - Threshold),
        (false, PlateauThreshold.Absolute) => metric < Best - Threshold,
        (true, PlateauThreshold.Relative) => metric > Best * (Threshold + 1),
        _ => metric > Best + Threshold,
    };
}
