using RnnGen;

namespace LongRangeMemory;

/// <summary>
/// "Recall the first token after L distractors": a sequence starts with one of <see cref="Classes"/> signal tokens,
/// followed by <c>L</c> distractor tokens drawn at random; after the last one the model must name the signal. The
/// answer at step <c>t = L</c> depends only on the input <c>L</c> steps back, so the gradient that teaches it has to
/// travel back through <c>L</c> Jacobians.
/// </summary>
/// <remarks>
/// Tokens 0 … 7 are the signals (token <c>k</c> has class <c>k</c>), tokens 8 … 15 the distractors. A sequence has
/// <c>L + 1</c> steps and one label, on its last step (many-to-one). A model that has not learned the task scores the
/// chance accuracy 1/8 and the loss ln 8 ≈ 2.079 nats.
/// </remarks>
public static class RecallTask
{
    /// <summary>Signal tokens, and classes of the answer.</summary>
    public const int Classes = 8;

    /// <summary>Distractor tokens.</summary>
    public const int Distractors = 8;

    /// <summary>Input vocabulary: signals then distractors.</summary>
    public const int Vocabulary = Classes + Distractors;

    /// <summary>Accuracy of a guess: 1/8.</summary>
    public const double ChanceAccuracy = 1.0 / Classes;

    /// <summary>Loss of a uniform guess: ln 8 nats.</summary>
    public static double ChanceLoss => Math.Log(Classes);

    /// <summary>
    /// <paramref name="count"/> sequences of lag <paramref name="lag"/> (<c>lag + 1</c> steps each), drawn with
    /// <paramref name="seed"/>; the same arguments give the same sequences.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lag"/> or <paramref name="count"/> is below 1.</exception>
    public static SequenceDataset<float> Generate(int lag, int count, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lag, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        int steps = lag + 1;
        var tokens = new int[count * steps];
        var labels = new int[count];
        var random = new SeededRandom(seed);
        var sequences = new TrainingSequence<float>[count];
        for (int i = 0; i < count; i++)
        {
            Span<int> sequence = tokens.AsSpan(i * steps, steps);
            labels[i] = random.NextInt(Classes);
            sequence[0] = labels[i];
            for (int t = 1; t < steps; t++) sequence[t] = Classes + random.NextInt(Distractors);
            sequences[i] = TrainingSequence<float>.FromTokens(tokens.AsMemory(i * steps, steps), labels.AsMemory(i, 1));
        }
        return new SequenceDataset<float>(sequences);
    }
}
