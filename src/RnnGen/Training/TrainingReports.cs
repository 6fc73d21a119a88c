namespace RnnGen;

/// <summary>
/// A snapshot reported through <see cref="IProgress{T}"/> after every training window (a struct: reporting it
/// allocates nothing unless the receiver does). Enough for a console progress bar:
/// <c>$"{p.Fraction:P0} epoch {p.Epoch}/{p.EpochCount} loss {p.EpochLoss:F3} {p.TokensPerSecond:N0} tok/s ETA {p.Remaining:mm\\:ss}"</c>.
/// </summary>
/// <param name="Epoch">The current epoch, from 1.</param>
/// <param name="EpochCount">Epochs planned (<see cref="TrainerOptions.Epochs"/>; early stopping may end sooner).</param>
/// <param name="Window">Windows done in this epoch, from 1.</param>
/// <param name="WindowsInEpoch">Windows in this epoch (batches × windows per batch; fixed once the epoch's order is drawn).</param>
/// <param name="Step">Optimizer updates taken so far in this run (<see cref="Optimizer{T}.StepCount"/> also counts earlier
/// runs). A window without any target, or a skipped one, is no update.</param>
/// <param name="Loss">Mean loss of this window over the batch (NaN when the window had no target).</param>
/// <param name="EpochLoss">Mean loss of the epoch so far (over everything counted, as <see cref="EpochSummary.Training"/>).</param>
/// <param name="GradientNorm">Global L2 norm of this window's averaged gradients before clipping (NaN when there was no update).</param>
/// <param name="LearningRate">The learning rate of this window's update.</param>
/// <param name="SkippedSteps">Steps skipped so far because of a non-finite loss or gradient (<see cref="NonFiniteHandling.Skip"/>).</param>
/// <param name="TokensPerSecond">Input steps (tokens) trained per second of training so far (validation time excluded).</param>
/// <param name="Elapsed">Time since training started (validation included).</param>
/// <param name="Remaining">Estimated time for the remaining training windows of all epochs, from
/// <paramref name="TokensPerSecond"/> (validation passes come on top; early stopping may end sooner).</param>
/// <param name="Fraction">Share of all planned training tokens done, in [0, 1].</param>
public readonly record struct TrainingProgress(
    int Epoch,
    int EpochCount,
    int Window,
    int WindowsInEpoch,
    long Step,
    double Loss,
    double EpochLoss,
    double GradientNorm,
    double LearningRate,
    long SkippedSteps,
    double TokensPerSecond,
    TimeSpan Elapsed,
    TimeSpan Remaining,
    double Fraction);

/// <summary>
/// Metrics of a model on a dataset (<see cref="SequenceTrainer{TModel, T}.Evaluate"/>, and the validation pass after every
/// epoch). All means are over everything counted in the whole dataset: steps with a label for cross-entropy, target
/// elements for the dense losses.
/// </summary>
/// <param name="Loss">Mean loss (nats for the cross-entropies). NaN when nothing was counted.</param>
/// <param name="Counted">Steps with a label (cross-entropy) or target elements (dense losses).</param>
/// <param name="Accuracy">Share of counted steps whose most likely class is the label (cross-entropy only, else null).</param>
/// <param name="Tokens">Input steps read.</param>
public readonly record struct EvaluationMetrics(double Loss, long Counted, double? Accuracy, long Tokens)
{
    /// <summary>Perplexity <c>e^Loss</c> (cross-entropy only, else null).</summary>
    public double? Perplexity => Accuracy is null ? null : Math.Exp(Loss);

    /// <summary>Bits per token — bits per character for a character model: <c>Loss / ln 2</c> (cross-entropy only, else null).</summary>
    public double? BitsPerToken => Accuracy is null ? null : Loss / Math.Log(2);
}

/// <summary>What happened in one epoch (<see cref="SequenceTrainer{TModel, T}.EpochCompleted"/>, <see cref="TrainingResult.Epochs"/>).</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="Training">Metrics of the training windows, accumulated while the parameters changed (the running loss).</param>
/// <param name="Validation">Metrics on the validation data after the epoch, or null without validation data.</param>
/// <param name="Steps">Optimizer updates in this epoch.</param>
/// <param name="SkippedSteps">Steps skipped in this epoch because of a non-finite loss or gradient.</param>
/// <param name="LearningRate">Learning rate of the epoch's last update.</param>
/// <param name="Elapsed">Time since training started, at the end of this epoch.</param>
/// <param name="IsBest">Whether the monitored loss (validation if present, else training) improved in this epoch.</param>
public sealed record EpochSummary(
    int Epoch,
    EvaluationMetrics Training,
    EvaluationMetrics? Validation,
    long Steps,
    long SkippedSteps,
    double LearningRate,
    TimeSpan Elapsed,
    bool IsBest)
{
    /// <summary>The loss early stopping and <see cref="IsBest"/> look at: the validation loss if there is validation data,
    /// else the training loss.</summary>
    public double MonitoredLoss => Validation?.Loss ?? Training.Loss;
}

/// <summary>The outcome of <see cref="SequenceTrainer{TModel, T}.Train"/>.</summary>
/// <param name="Epochs">One summary per completed epoch.</param>
/// <param name="BestEpoch">The epoch with the lowest monitored loss (0 if no epoch had a finite one, or, in a call that
/// continues a checkpoint's run, none beat the best before the save).</param>
/// <param name="BestLoss">That loss (NaN if none; in a call that continues a checkpoint's run, possibly the saved best).</param>
/// <param name="StoppedEarly">Whether early stopping (<see cref="TrainerOptions.Patience"/>) ended training.</param>
/// <param name="RestoredBest">Whether the best epoch's parameters were put back (<see cref="TrainerOptions.RestoreBestParameters"/>):
/// false when the last epoch was the best (the model holds its parameters already) or no epoch of this call was. Only the
/// parameters are put back: the optimizer's state, its step count and the shuffle stay where training ended.</param>
/// <param name="Steps">Optimizer updates in this run.</param>
/// <param name="SkippedSteps">Steps skipped in this run because of a non-finite loss or gradient.</param>
/// <param name="Elapsed">Duration of the run.</param>
public sealed record TrainingResult(
    IReadOnlyList<EpochSummary> Epochs,
    int BestEpoch,
    double BestLoss,
    bool StoppedEarly,
    bool RestoredBest,
    long Steps,
    long SkippedSteps,
    TimeSpan Elapsed)
{
    /// <summary>Whether <see cref="SequenceTrainer{TModel, T}.RequestStop"/> ended training before
    /// <see cref="TrainerOptions.Epochs"/> (a request in the last epoch ends nothing early: false).</summary>
    public bool StopRequested { get; init; }

    /// <summary>A one-line summary for logs, e.g. <c>12 epochs, best 9 (loss 0.4213), 1,800 steps (3 skipped) in 00:00:41.2, stopped early, best parameters restored</c>.</summary>
    public override string ToString()
    {
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        string best = BestEpoch > 0 ? string.Create(invariant, $"best {BestEpoch} (loss {BestLoss:G4})") : "no best epoch";
        return string.Create(invariant, $"{Epochs.Count} epoch{(Epochs.Count == 1 ? "" : "s")}, {best}, {Steps:N0} steps ({SkippedSteps:N0} skipped) in {(int)Elapsed.TotalHours:00}:{Elapsed:mm\\:ss\\.f}") +
            (StoppedEarly ? ", stopped early" : "") + (StopRequested ? ", stopped on request" : "") + (RestoredBest ? ", best parameters restored" : "");
    }
}
