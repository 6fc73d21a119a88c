using System.Numerics;

namespace RnnGen;

/// <summary>
/// One training example for <see cref="SequenceTrainer{TModel, T}"/>: an input sequence (token ids or dense vectors)
/// and its targets (class labels or dense vectors). Holds <see cref="ReadOnlyMemory{T}"/> views, so slices of one long
/// array (a corpus) cost no copy.
/// </summary>
/// <typeparam name="T">The model's scalar type (<see cref="float"/> or <see cref="double"/>).</typeparam>
/// <remarks>
/// <para><b>Inputs.</b> Exactly one of <see cref="Tokens"/> (one token id per step, for models declared with
/// <c>Tokens = true</c>) or <see cref="Inputs"/> (steps × <c>InputSize</c> values, row-major, for dense models) is set.</para>
/// <para><b>Targets are aligned to the end of the sequence.</b> Exactly one of <see cref="Labels"/> (one class per step,
/// <c>-1</c> = no loss at that step) or <see cref="Targets"/> (<c>OutputWidth</c> values per step) is set, and it covers
/// the <i>last</i> <c>n</c> steps of the sequence, where <c>n = Labels.Length</c> or <c>Targets.Length / OutputWidth</c>
/// (<c>n ≤ steps</c>). This expresses every shape without padding:</para>
/// <list type="bullet">
/// <item><description>many-to-many (language model, tagging): one target per step (<c>n = steps</c>);</description></item>
/// <item><description>many-to-one (classification of a whole sequence): one target for the last step (<c>n = 1</c>);</description></item>
/// <item><description>one-to-many (generation from a seed input): targets for the steps after the first (<c>n = steps − 1</c>),
/// the later inputs being zeros or the previous targets (teacher forcing);</description></item>
/// <item><description>any other pattern: class labels of <c>-1</c> switch the loss off at single steps.</description></item>
/// </list>
/// <para>The shapes are checked against the model when training starts (<see cref="SequenceTrainer{TModel, T}.Train"/>),
/// with an error that names the dataset and the index of the sequence.</para>
/// </remarks>
public readonly struct TrainingSequence<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private TrainingSequence(ReadOnlyMemory<int> tokens, ReadOnlyMemory<T> inputs, ReadOnlyMemory<int> labels, ReadOnlyMemory<T> targets, bool hasLabels)
    {
        Tokens = tokens;
        Inputs = inputs;
        Labels = labels;
        Targets = targets;
        HasLabels = hasLabels;
    }

    /// <summary>Token-id inputs, one per step (token models); empty for a dense sequence.</summary>
    public ReadOnlyMemory<int> Tokens { get; }

    /// <summary>Dense inputs, steps × <c>InputSize</c> values, row-major (dense models); empty for a token sequence.</summary>
    public ReadOnlyMemory<T> Inputs { get; }

    /// <summary>Class labels for the last <c>Labels.Length</c> steps (<c>-1</c> = no loss at that step); empty when the
    /// sequence has dense <see cref="Targets"/>.</summary>
    public ReadOnlyMemory<int> Labels { get; }

    /// <summary>Dense targets, <c>OutputWidth</c> values for each of the last <c>Targets.Length / OutputWidth</c> steps;
    /// empty when the sequence has class <see cref="Labels"/>.</summary>
    public ReadOnlyMemory<T> Targets { get; }

    /// <summary>Whether the inputs are token ids (<see cref="Tokens"/>) rather than dense vectors (<see cref="Inputs"/>).</summary>
    public bool HasTokens => !Tokens.IsEmpty;

    /// <summary>Whether the targets are class labels (<see cref="Labels"/>) rather than dense vectors (<see cref="Targets"/>).</summary>
    public bool HasLabels { get; }

    /// <summary>Whether this is the default (empty) value rather than a sequence made by a factory method.</summary>
    public bool IsEmpty => Tokens.IsEmpty && Inputs.IsEmpty;

    /// <summary>Number of time steps, given the model's input width (<c>InputSize</c>; not used for token sequences, but checked).</summary>
    /// <param name="inputSize">The model's <c>InputSize</c>, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputSize"/> is less than 1.</exception>
    public int StepCount(int inputSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputSize, 1);
        return HasTokens ? Tokens.Length : Inputs.Length / inputSize;
    }

    /// <summary>Number of final steps that have a target, given the model's output width (<c>OutputWidth</c>).</summary>
    /// <param name="outputWidth">The model's <c>OutputWidth</c>, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="outputWidth"/> is less than 1.</exception>
    public int TargetStepCount(int outputWidth)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outputWidth, 1);
        return HasLabels ? Labels.Length : Targets.Length / outputWidth;
    }

    /// <summary>A token sequence with class labels for its last <c>labels.Length</c> steps (−1 = no loss at a step).</summary>
    /// <param name="tokens">One token id per step (at least one step).</param>
    /// <param name="labels">Class labels aligned to the end of <paramref name="tokens"/>; at most as many as there are steps.
    /// For a language model, the next token of each step; for classification of the whole sequence, one label.</param>
    /// <exception cref="ArgumentException"><paramref name="tokens"/> is empty or <paramref name="labels"/> is longer.</exception>
    public static TrainingSequence<T> FromTokens(ReadOnlyMemory<int> tokens, ReadOnlyMemory<int> labels)
    {
        CheckTokens(tokens);
        if (labels.Length > tokens.Length)
            throw new ArgumentException(
                $"labels has {labels.Length} entries but the sequence has {tokens.Length} steps; labels cover the last steps and cannot be more than the steps.",
                nameof(labels));
        return new(tokens, default, labels, default, hasLabels: true);
    }

    /// <summary>A token sequence with dense targets (<c>OutputWidth</c> values per step) for its last steps.</summary>
    /// <param name="tokens">One token id per step (at least one step).</param>
    /// <param name="targets">Dense targets aligned to the end of the sequence (checked against the model when training starts).</param>
    /// <exception cref="ArgumentException"><paramref name="tokens"/> is empty.</exception>
    public static TrainingSequence<T> FromTokens(ReadOnlyMemory<int> tokens, ReadOnlyMemory<T> targets)
    {
        CheckTokens(tokens);
        return new(tokens, default, default, targets, hasLabels: false);
    }

    /// <summary>A dense sequence (steps × <c>InputSize</c> values) with class labels for its last <c>labels.Length</c> steps.</summary>
    /// <param name="inputs">Input vectors, row-major (at least one step; the width is checked when training starts).</param>
    /// <param name="labels">Class labels aligned to the end of the sequence (−1 = no loss at a step).</param>
    /// <exception cref="ArgumentException"><paramref name="inputs"/> is empty.</exception>
    public static TrainingSequence<T> FromVectors(ReadOnlyMemory<T> inputs, ReadOnlyMemory<int> labels)
    {
        CheckInputs(inputs);
        return new(default, inputs, labels, default, hasLabels: true);
    }

    /// <summary>A dense sequence (steps × <c>InputSize</c> values) with dense targets for its last steps (regression).</summary>
    /// <param name="inputs">Input vectors, row-major (at least one step).</param>
    /// <param name="targets">Target vectors, <c>OutputWidth</c> values per step, aligned to the end of the sequence.</param>
    /// <exception cref="ArgumentException"><paramref name="inputs"/> is empty.</exception>
    public static TrainingSequence<T> FromVectors(ReadOnlyMemory<T> inputs, ReadOnlyMemory<T> targets)
    {
        CheckInputs(inputs);
        return new(default, inputs, default, targets, hasLabels: false);
    }

    private static void CheckTokens(ReadOnlyMemory<int> tokens)
    {
        if (tokens.IsEmpty)
            throw new ArgumentException("tokens is empty; a sequence needs at least one step.", nameof(tokens));
    }

    private static void CheckInputs(ReadOnlyMemory<T> inputs)
    {
        if (inputs.IsEmpty)
            throw new ArgumentException("inputs is empty; a sequence needs at least one step of InputSize values.", nameof(inputs));
    }
}
