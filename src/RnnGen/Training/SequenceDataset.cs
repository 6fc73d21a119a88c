using System.Collections;
using System.Numerics;

namespace RnnGen;

/// <summary>
/// What <see cref="SequenceTrainer{TModel, T}"/> trains on: an indexed collection of <see cref="TrainingSequence{T}"/>.
/// Implement it to serve sequences from your own storage (for example views into one large array);
/// <see cref="SequenceDataset{T}"/> is the ready-made in-memory implementation.
/// </summary>
/// <typeparam name="T">The model's scalar type.</typeparam>
/// <remarks>
/// The trainer reads <see cref="Count"/> and every sequence once when training starts (to check shapes and plan the
/// batches), then reads sequences again, from one thread, while it trains. The sequences must not change meanwhile.
/// </remarks>
public interface ISequenceDataset<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Number of sequences.</summary>
    int Count { get; }

    /// <summary>The sequence at <paramref name="index"/> (0 ≤ index &lt; <see cref="Count"/>).</summary>
    TrainingSequence<T> this[int index] { get; }
}

/// <summary>
/// An in-memory <see cref="ISequenceDataset{T}"/>: a fixed list of sequences, plus the char-rnn layout of one long token
/// stream (<see cref="FromTokenStream"/>) and a seeded train/validation split (<see cref="Split"/>).
/// </summary>
/// <typeparam name="T">The model's scalar type.</typeparam>
public sealed class SequenceDataset<T> : ISequenceDataset<T>, IReadOnlyList<TrainingSequence<T>>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly TrainingSequence<T>[] _items;

    /// <summary>Creates a dataset holding <paramref name="sequences"/> (copied into an array; the data itself is not copied).</summary>
    /// <exception cref="ArgumentException">A sequence is the default (empty) value.</exception>
    public SequenceDataset(IEnumerable<TrainingSequence<T>> sequences)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        _items = sequences.ToArray();
        for (int i = 0; i < _items.Length; i++)
        {
            if (_items[i].IsEmpty)
                throw new ArgumentException(
                    $"sequences[{i}] is an empty TrainingSequence; create sequences with TrainingSequence<T>.FromTokens or FromVectors.",
                    nameof(sequences));
        }
    }

    /// <inheritdoc/>
    public int Count => _items.Length;

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is negative or not below <see cref="Count"/>.</exception>
    public TrainingSequence<T> this[int index]
    {
        get
        {
            if ((uint)index >= (uint)_items.Length)
                throw new ArgumentOutOfRangeException(nameof(index), index, $"index must be in [0, {_items.Length - 1}] (the dataset has {_items.Length} sequences).");
            return _items[index];
        }
    }

    /// <summary>
    /// Lays one long token stream out as <paramref name="streams"/> parallel sequences for language-model training,
    /// as char-rnn does: the corpus (minus its last token, which only serves as a target) is cut into
    /// <paramref name="streams"/> contiguous pieces of <c>L = (corpus.Length − 1) / streams</c> steps; sequence <c>i</c>
    /// reads tokens <c>[i·L, (i+1)·L)</c> and learns to predict the token after each of them. Nothing is copied; the
    /// <c>(corpus.Length − 1) mod streams</c> leftover tokens at the end are not used.
    /// </summary>
    /// <remarks>
    /// Train with <see cref="TrainerOptions.BatchSize"/> = <paramref name="streams"/> and a
    /// <see cref="TrainerOptions.WindowLength"/> (for example 50): every epoch is then one batch whose
    /// <paramref name="streams"/> lanes advance window by window through their piece of the corpus, the recurrent state
    /// carried from each window to the next (truncated BPTT), one optimizer step per window. For a validation stream,
    /// keep the end of the corpus apart, e.g. <c>FromTokenStream(corpus.AsMemory(0, n), 50)</c> and
    /// <c>FromTokenStream(corpus.AsMemory(n), 1)</c>.
    /// </remarks>
    /// <param name="corpus">The token ids of the whole text.</param>
    /// <param name="streams">Number of parallel streams B (≥ 1).</param>
    /// <exception cref="ArgumentException">The corpus is too short to give every stream at least one step.</exception>
    public static SequenceDataset<T> FromTokenStream(ReadOnlyMemory<int> corpus, int streams)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(streams, 1);
        int length = (corpus.Length - 1) / streams;
        if (corpus.Length < 2 || length < 1)
            throw new ArgumentException(
                $"corpus has {corpus.Length} tokens, too few for {streams} streams: it needs at least streams + 1 = {streams + 1L} tokens.",
                nameof(corpus));
        var items = new TrainingSequence<T>[streams];
        for (int i = 0; i < streams; i++)
            items[i] = TrainingSequence<T>.FromTokens(corpus.Slice(i * length, length), corpus.Slice(i * length + 1, length));
        return new SequenceDataset<T>(items);
    }

    /// <summary>
    /// Splits the sequences at random into a training and a validation set: a seeded shuffle (<see cref="SeededRandom"/>),
    /// then the first <c>round(Count · validationFraction)</c> sequences of the shuffled order (at least one) form the
    /// validation set. Both sets keep the original relative order of their sequences. The same seed gives the same split.
    /// </summary>
    /// <param name="validationFraction">Share of sequences for validation, in (0, 1).</param>
    /// <param name="seed">Seed of the shuffle.</param>
    /// <returns>The two sets; they share the sequences' memory.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The fraction is not in (0, 1).</exception>
    /// <exception cref="InvalidOperationException">There are fewer than two sequences.</exception>
    public (SequenceDataset<T> Training, SequenceDataset<T> Validation) Split(double validationFraction, long seed)
    {
        if (!(validationFraction > 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "validationFraction must be in (0, 1), e.g. 0.1.");
        if (_items.Length < 2)
            throw new InvalidOperationException($"The dataset has {_items.Length} sequence(s); a split needs at least 2.");
        int validationCount = Math.Clamp((int)Math.Round(_items.Length * validationFraction), 1, _items.Length - 1);

        var order = new int[_items.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var rng = new SeededRandom(seed);
        rng.Shuffle<int>(order);
        var isValidation = new bool[_items.Length];
        for (int i = 0; i < validationCount; i++) isValidation[order[i]] = true;

        var training = new List<TrainingSequence<T>>(_items.Length - validationCount);
        var validation = new List<TrainingSequence<T>>(validationCount);
        for (int i = 0; i < _items.Length; i++)
            (isValidation[i] ? validation : training).Add(_items[i]);
        return (new SequenceDataset<T>(training), new SequenceDataset<T>(validation));
    }

    /// <inheritdoc/>
    public IEnumerator<TrainingSequence<T>> GetEnumerator() => ((IEnumerable<TrainingSequence<T>>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
