using System.Numerics;

namespace RnnGen;

/// <summary>What <see cref="DatasetCheck"/> learned about a dataset while checking it.</summary>
/// <param name="Count">Number of sequences.</param>
/// <param name="MaxSteps">Steps of the longest sequence.</param>
/// <param name="TotalSteps">Steps of all sequences together (tokens per epoch).</param>
internal readonly record struct DatasetShape(int Count, int MaxSteps, long TotalSteps);

/// <summary>
/// Checks every sequence of a dataset against a model and a loss before training touches anything, so that a bad
/// sequence is reported with its dataset name and index instead of failing half-way through an epoch.
/// </summary>
internal static class DatasetCheck
{
    /// <summary>Checks <paramref name="data"/> (called <paramref name="name"/> in messages) and returns its shape.</summary>
    /// <exception cref="ArgumentException">The dataset is empty or a sequence does not fit the model or the loss.</exception>
    public static DatasetShape Check<T>(ISequenceDataset<T> data, string name, ModelInfo info, SequenceLoss loss)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(data, name);
        int count = data.Count;
        if (count <= 0)
            throw new ArgumentException($"{name} has no sequences.", name);

        int maxSteps = 0;
        long totalSteps = 0;
        bool anyTarget = false;
        for (int i = 0; i < count; i++)
        {
            var s = data[i];
            int steps = CheckInputs(s, info, name, i);
            anyTarget |= CheckTargets(s, steps, info, loss, name, i);
            maxSteps = Math.Max(maxSteps, steps);
            totalSteps += steps;
        }
        if (!anyTarget)
            throw new ArgumentException(loss == SequenceLoss.SoftmaxCrossEntropy
                ? $"{name} has no target: every sequence's labels are empty or -1 (no loss at that step), so there is nothing to learn or measure; give each sequence at least one label in [0, {info.OutputWidth - 1}]."
                : $"{name} has no target: every sequence's Targets are empty, so there is nothing to learn or measure; give each sequence targets for its last steps.", name);
        return new DatasetShape(count, maxSteps, totalSteps);
    }

    private static int CheckInputs<T>(TrainingSequence<T> s, ModelInfo info, string name, int i)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (s.IsEmpty)
            throw Bad(name, i, "is an empty TrainingSequence; create sequences with TrainingSequence<T>.FromTokens or FromVectors");
        if (info.Tokens)
        {
            if (!s.HasTokens)
                throw Bad(name, i, $"has dense Inputs, but the model takes token ids (Tokens = true); create it with TrainingSequence<T>.FromTokens");
            var tokens = s.Tokens.Span;
            for (int t = 0; t < tokens.Length; t++)
            {
                if ((uint)tokens[t] >= (uint)info.InputSize)
                    throw Bad(name, i, $"has token {tokens[t]} at step {t}; token ids must be in [0, {info.InputSize - 1}] (the model's vocabulary, Input = {info.InputSize})");
            }
            return tokens.Length;
        }

        if (s.HasTokens)
            throw Bad(name, i, $"has token ids, but the model reads dense vectors of {info.InputSize} values; create it with TrainingSequence<T>.FromVectors (or declare the model with Tokens = true)");
        var inputs = s.Inputs.Span;
        if (inputs.Length % info.InputSize != 0)
            throw Bad(name, i, $"has {inputs.Length} input values, which is not a whole number of steps of InputSize = {info.InputSize}");
        if (!Finite.All(inputs))
            throw Bad(name, i, "has NaN or infinite input values");
        return inputs.Length / info.InputSize;
    }

    /// <summary>Checks a sequence's targets; returns whether it has any (a label other than −1, or a target value).</summary>
    private static bool CheckTargets<T>(TrainingSequence<T> s, int steps, ModelInfo info, SequenceLoss loss, string name, int i)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int width = info.OutputWidth;
        if (loss == SequenceLoss.SoftmaxCrossEntropy)
        {
            if (!s.HasLabels)
                throw Bad(name, i, "has dense Targets, but the loss SoftmaxCrossEntropy needs class Labels; use MeanSquaredError or BinaryCrossEntropyWithLogits for dense targets");
            var labels = s.Labels.Span;
            if (labels.Length > steps)
                throw Bad(name, i, $"has {labels.Length} labels for {steps} steps; labels cover the last steps and cannot be more than the steps");
            for (int t = 0; t < labels.Length; t++)
            {
                if (labels[t] < -1 || labels[t] >= width)
                    throw Bad(name, i, $"has label {labels[t]} at target {t}; labels must be classes in [0, {width - 1}] (the model's OutputWidth) or -1 (no loss at that step)");
            }
            return labels.ContainsAnyExcept(-1);
        }

        if (s.HasLabels)
            throw Bad(name, i, $"has class Labels, but the loss {loss} needs dense Targets; use SoftmaxCrossEntropy for class labels");
        var targets = s.Targets.Span;
        if (targets.Length % width != 0)
            throw Bad(name, i, $"has {targets.Length} target values, which is not a whole number of steps of OutputWidth = {width}");
        if (targets.Length / width > steps)
            throw Bad(name, i, $"has targets for {targets.Length / width} steps but only {steps} steps; targets cover the last steps and cannot be more than the steps");
        for (int t = 0; t < targets.Length; t++)
        {
            bool ok = loss == SequenceLoss.BinaryCrossEntropyWithLogits
                ? targets[t] >= T.Zero && targets[t] <= T.One
                : T.IsFinite(targets[t]);
            if (!ok)
                throw Bad(name, i, loss == SequenceLoss.BinaryCrossEntropyWithLogits
                    ? $"has target {targets[t]} at value {t}; BinaryCrossEntropyWithLogits needs targets in [0, 1]"
                    : $"has target {targets[t]} at value {t}; targets must be finite");
        }
        return !targets.IsEmpty;
    }

    private static ArgumentException Bad(string name, int index, string problem) =>
        new($"{name}[{index}] {problem}.", name);
}

/// <summary>Finiteness checks over spans.</summary>
internal static class Finite
{
    /// <summary>
    /// Whether every value is finite (no NaN, no ±∞): for finite x, x − x is exactly 0, otherwise NaN, summed in four
    /// vector accumulators of the widest vectors. (The check after an optimizer's step rides in its own pass instead:
    /// <see cref="Optimizer{T}.StepChecked"/>.)
    /// </summary>
    public static bool All<T>(ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T> =>
        System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? Elementwise.AllFinite<T, Elementwise.Wide<T>>(values)
        : Elementwise.AllFinite<T, Elementwise.Portable<T>>(values);
}
