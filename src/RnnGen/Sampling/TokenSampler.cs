using System.Numerics;
using System.Numerics.Tensors;

namespace RnnGen;

/// <summary>
/// Picks a token id from a vector of logits: greedy, temperature, top-k and top-p (nucleus) sampling, combined
/// as <see cref="SamplingOptions"/> describes, with a seeded random sequence so that runs repeat.
/// </summary>
/// <remarks>
/// Scratch buffers are sized once for <see cref="VocabularySize"/>; <see cref="Sample(ReadOnlySpan{T})"/> allocates nothing.
/// The distribution is computed in double whatever <typeparamref name="T"/> is. A filter ranks tokens by
/// probability with ties going to the lowest token id: top-k with k up to a quarter of the vocabulary keeps the k best in
/// one pass over it, about O(V + k·log k) per token; top-p alone ranks the best 32, 128, … in such passes until they
/// hold the nucleus; a larger k or a nucleus of more than a sixteenth of the vocabulary is ranked by a partial heap
/// sort of all of it, O(V + m·log V) for the m tokens kept. Without filters, sampling is one pass over the vocabulary.
/// Not thread-safe: use one sampler per thread.
/// </remarks>
/// <typeparam name="T">The scalar type of the logits: <see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class TokenSampler<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    // unnormalised probabilities e^((logit − max)/temperature) ∈ [0, 1], from _weights[_at] on: a 64-byte boundary, since
    // TensorPrimitives.Exp can round an element differently (by an ulp) with the array's address, and a seeded sampler
    // must draw the same tokens in every run
    private readonly double[] _weights;
    private readonly int _at;
    private readonly int[] _order;        // token ids; a max-heap in [0, _heapSize), ranked candidates after it
    private int _heapSize;
    private int _selected;                // > 0: _order[0, _selected) holds the most likely tokens, ranked (SelectBest)
    private SeededRandom _random;

    /// <summary>Creates a sampler for logits of <paramref name="vocabularySize"/> tokens.</summary>
    /// <param name="vocabularySize">Length of every logits vector (a token model's <c>OutputWidth</c>); ≥ 1.</param>
    /// <param name="options">Temperature, top-k, top-p and seed; null means <c>new SamplingOptions()</c> (temperature 1, seed 0).</param>
    public TokenSampler(int vocabularySize, SamplingOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabularySize, 1);
        if (vocabularySize > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(vocabularySize), vocabularySize,
                $"vocabularySize is {vocabularySize}; a sampler keeps one weight per token, and an array holds at most {Array.MaxLength}.");
        VocabularySize = vocabularySize;
        Options = options ?? new SamplingOptions();
        _weights = Kernels.Simd.AllocateAligned<double>(vocabularySize, out _at);
        _order = new int[vocabularySize];
        _random = new SeededRandom(Options.Seed);
    }

    private Span<double> Weights => _weights.AsSpan(_at, VocabularySize);

    /// <summary>The length of every logits vector.</summary>
    public int VocabularySize { get; }

    /// <summary>The options given at construction.</summary>
    public SamplingOptions Options { get; }

    /// <summary>Restarts the random sequence from <paramref name="seed"/>.</summary>
    public void Reseed(long seed) => _random = new SeededRandom(seed);

    /// <summary>Restarts the random sequence from <see cref="SamplingOptions.Seed"/>, as a new sampler would.</summary>
    public void Reseed() => Reseed(Options.Seed);

    // the most likely token, ties to the lowest id: the first logit equal to the (finite) maximum, −0 and +0 equal too
    // (TensorPrimitives.IndexOfMax takes +0 as the larger); whole vectors are skipped while none of theirs is equal
    private static int Greedy(ReadOnlySpan<T> logits, T max)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var target = new Vector<T>(max);
            for (; i <= logits.Length - Vector<T>.Count; i += Vector<T>.Count)
                if (Vector.EqualsAny(new Vector<T>(logits.Slice(i)), target))
                    break;
        }
        for (; i < logits.Length; i++)
            if (logits[i] == max) return i;
        throw new InvalidOperationException("unreachable: the maximum is one of the logits");
    }

    /// <summary>Picks one token id in [0, <see cref="VocabularySize"/>) from <paramref name="logits"/>.</summary>
    /// <param name="logits">Unnormalised log-probabilities, <see cref="VocabularySize"/> long. −∞ marks an
    /// impossible token; at least one logit must be finite, none may be NaN or +∞.</param>
    /// <returns>The sampled token id; with <see cref="SamplingOptions.Temperature"/> = 0 the first index of the maximum (−0 and +0 are equal).</returns>
    /// <exception cref="ArgumentException">Wrong length, NaN or +∞ in the logits, or every logit −∞.</exception>
    public int Sample(ReadOnlySpan<T> logits) => Sample(logits, fromModel: false);

    /// <summary>
    /// As <see cref="Sample(ReadOnlySpan{T})"/>; with <paramref name="fromModel"/> the logits are a model's own (a
    /// <see cref="TokenGenerator{TModel, T}"/>'s), so NaN, +∞ or all −∞ there is the model's fault, not an argument's: an
    /// <see cref="InvalidOperationException"/> that points at its parameters and state.
    /// </summary>
    internal int Sample(ReadOnlySpan<T> logits, bool fromModel)
    {
        if (logits.Length != VocabularySize)
            throw new ArgumentException($"logits has length {logits.Length}; expected {VocabularySize} (the vocabulary size).", nameof(logits));
        T max = TensorPrimitives.Max(logits);
        if (!T.IsFinite(max))
        {
            if (fromModel)
                throw new InvalidOperationException(
                    $"The model's logits for the last token fed {(T.IsNaN(max) ? "contain NaN" : T.IsPositiveInfinity(max) ? "contain +∞" : "are all −∞")}: " +
                    "there is no distribution to sample from. Check that the model's Parameters and the generator's State are finite " +
                    "(a training run that diverged leaves NaN in them).");
            throw new ArgumentException(
                T.IsNaN(max) ? $"logits contain NaN (at index {TensorPrimitives.IndexOfMax(logits)}); there is no distribution to sample from."
                : T.IsPositiveInfinity(max) ? $"logits contain +∞ (at index {TensorPrimitives.IndexOfMax(logits)}); use finite logits."
                : "every logit is −∞: no token is possible.",
                nameof(logits));
        }

        double temperature = Options.Temperature;
        if (temperature == 0)
            return Greedy(logits, max);

        // weights = e^((logits − max)/temperature) ∈ [0, 1], the most likely token's 1; −∞ logits give 0.
        Span<double> weights = Weights;
        TensorPrimitives.ConvertTruncating<T, double>(logits, weights);
        double top = double.CreateTruncating(max);
        // double logits further apart than double.MaxValue (only then can logit − max overflow)
        bool overflows = typeof(T) == typeof(double) && temperature > 1 && !double.IsFinite(top - TensorPrimitives.Min(weights));
        TensorPrimitives.Subtract(weights, top, weights);
        TensorPrimitives.Divide(weights, temperature, weights);
        if (overflows)
        {
            // logit − max overflowed to −∞, though its quotient by a temperature above 1 may be finite (1e308 and −1e308 at
            // temperature 1e308: −2, not −∞); divide first there
            for (int i = 0; i < weights.Length; i++)
            {
                double logit = double.CreateTruncating(logits[i]);
                if (double.IsNegativeInfinity(weights[i]) && double.IsFinite(logit))
                    weights[i] = logit / temperature - top / temperature;
            }
        }
        TensorPrimitives.Exp(weights, weights);

        int topK = Options.TopK;
        bool filterK = topK > 0 && topK < VocabularySize;
        bool filterP = Options.TopP < 1;
        if (!filterK && !filterP)
            return DrawFromAll();

        int kept;
        double mass = 0;
        _selected = 0;
        if (filterK && topK <= VocabularySize / 4)
        {
            // the k most likely tokens in one pass over the vocabulary, then ranked: O(V + k·log k), not a heap of all V
            SelectBest(topK);
            for (int j = 0; j < topK; j++)
                mass += _weights[_at + _order[j]];
            kept = topK;
        }
        else if (!filterK)
        {
            mass = TensorPrimitives.Sum<double>(Weights);
            kept = VocabularySize;
            // A nucleus is often a few tokens of a large vocabulary: rank the best few in one pass, four times as many
            // while their mass falls short; a wide one (more than a sixteenth of the vocabulary) is ranked lazily below.
            double needed = Options.TopP * mass;
            for (int few = 32; few <= VocabularySize / 16; few *= 4)
            {
                if (few < needed)
                    continue;                                        // every weight is at most 1: fewer tokens cannot hold it
                SelectBest(few);
                double cumulative = 0;
                for (int count = 1; count <= few; count++)
                {
                    cumulative += _weights[_at + _order[count - 1]];
                    if (cumulative >= needed)
                        return DrawFromRanked(count, cumulative);   // the sums and the draw of the loop below, in its order
                }
            }
            _selected = 0;
        }
        else
            kept = topK;

        if (_selected == 0)
        {
            // Rank candidates lazily: each PopBest moves the next most likely token behind the heap.
            for (int i = 0; i < _order.Length; i++)
                _order[i] = i;
            _heapSize = _order.Length;
            for (int i = _heapSize / 2 - 1; i >= 0; i--)
                SiftDown(i);
            if (filterK)
                for (int j = 0; j < topK; j++)
                    mass += _weights[_at + PopBest()];
        }

        if (filterP)
        {
            // The smallest prefix of the ranking whose mass is >= TopP of the candidates' mass (at least one token).
            double needed = Options.TopP * mass;
            double cumulative = 0;
            int count = 0;
            while (count < kept)
            {
                cumulative += _weights[_at + Ranked(count)];
                count++;
                if (cumulative >= needed)
                    break;
            }
            kept = count;
            mass = cumulative;
        }

        return DrawFromRanked(kept, mass);
    }

    /// <summary>
    /// Ranks the <paramref name="count"/> most likely tokens into <c>_order[0, count)</c>, best first (ties to the lower id):
    /// a heap of the best so far with the least likely on top, which a later token replaces only when more likely (a
    /// later token of equal weight has the higher id), then sorted by popping it from the back.
    /// </summary>
    private void SelectBest(int count)
    {
        for (int i = 0; i < count; i++)
            _order[i] = i;
        for (int i = count / 2 - 1; i >= 0; i--)
            SiftDownWorst(i, count);
        ReadOnlySpan<double> weights = Weights;
        double least = weights[_order[0]];
        for (int i = count; i < weights.Length; i++)
        {
            if (weights[i] > least)
            {
                _order[0] = i;
                SiftDownWorst(0, count);
                least = weights[_order[0]];
            }
        }
        for (int size = count - 1; size > 0; size--)
        {
            (_order[0], _order[size]) = (_order[size], _order[0]);
            SiftDownWorst(0, size);
        }
        _selected = count;
    }

    // a heap in _order[0, size) with the least likely token on top
    private void SiftDownWorst(int node, int size)
    {
        while (true)
        {
            int worst = node;
            int left = 2 * node + 1;
            if (left < size && RanksAbove(_order[worst], _order[left])) worst = left;
            if (left + 1 < size && RanksAbove(_order[worst], _order[left + 1])) worst = left + 1;
            if (worst == node)
                return;
            (_order[node], _order[worst]) = (_order[worst], _order[node]);
            node = worst;
        }
    }

    /// <summary>The <paramref name="rank"/>-th most likely token (0 = best): from the tokens <see cref="SelectBest"/> ranked,
    /// else popping the heap as far as needed.</summary>
    private int Ranked(int rank)
    {
        if (_selected > 0)
            return _order[rank];
        while (_order.Length - _heapSize <= rank)
            PopBest();
        return _order[_order.Length - 1 - rank];
    }

    private int PopBest()
    {
        _heapSize--;
        (_order[0], _order[_heapSize]) = (_order[_heapSize], _order[0]);
        SiftDown(0);
        return _order[_heapSize];
    }

    private void SiftDown(int node)
    {
        while (true)
        {
            int best = node;
            int left = 2 * node + 1;
            if (left < _heapSize && RanksAbove(_order[left], _order[best])) best = left;
            if (left + 1 < _heapSize && RanksAbove(_order[left + 1], _order[best])) best = left + 1;
            if (best == node)
                return;
            (_order[node], _order[best]) = (_order[best], _order[node]);
            node = best;
        }
    }

    /// <summary>Higher probability first; equal probabilities: lower token id first.</summary>
    private bool RanksAbove(int a, int b)
    {
        double wa = _weights[_at + a], wb = _weights[_at + b];
        return wa > wb || (wa == wb && a < b);
    }

    private int DrawFromAll()
    {
        double mass = TensorPrimitives.Sum<double>(Weights);
        double u = _random.NextDouble() * mass;
        double cumulative = 0;
        int lastPossible = 0;
        for (int i = 0; i < VocabularySize; i++)
        {
            if (_weights[_at + i] == 0)
                continue;
            cumulative += _weights[_at + i];
            if (u < cumulative)
                return i;
            lastPossible = i;
        }
        return lastPossible;   // only if rounding put u at the very end of the mass
    }

    private int DrawFromRanked(int kept, double mass)
    {
        double u = _random.NextDouble() * mass;
        double cumulative = 0;
        int chosen = Ranked(0);
        for (int r = 0; r < kept; r++)
        {
            int token = Ranked(r);
            if (_weights[_at + token] == 0)
                break;                  // ranked by probability: the rest are impossible too
            chosen = token;
            cumulative += _weights[_at + token];
            if (u < cumulative)
                break;
        }
        return chosen;                  // the last possible token if rounding put u at the very end of the mass
    }
}
