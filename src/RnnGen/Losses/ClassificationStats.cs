namespace RnnGen;

/// <summary>
/// What <see cref="Losses.SoftmaxCrossEntropy{T}(ReadOnlySpan{T}, ReadOnlySpan{int}, Span{T}, out ClassificationStats)"/>
/// counted besides the loss. Add the stats of several batches with <c>+</c>.
/// </summary>
/// <param name="Counted">Steps whose target is a class (not −1): the divisor of the mean loss.</param>
/// <param name="Correct">Counted steps whose most likely class (the first index of the row's maximum) is the target.</param>
public readonly record struct ClassificationStats(int Counted, int Correct)
{
    /// <summary><see cref="Correct"/> / <see cref="Counted"/>, or 0 when nothing was counted.</summary>
    public double Accuracy => Counted == 0 ? 0.0 : (double)Correct / Counted;

    /// <summary>The stats of two batches together.</summary>
    public static ClassificationStats operator +(ClassificationStats a, ClassificationStats b)
        => new(a.Counted + b.Counted, a.Correct + b.Correct);
}
