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
/// probability with ties going to the lowest token id, and costs O(V + m·log V) per token for the m tokens it
/// keeps (a partial heap sort); without filters, sampling is one pass over the vocabulary.
/// Not thread-safe: use one sampler per thread.
/// </remarks>
/// <typeparam name="T">The scalar type of the logits: <see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class TokenSampler<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly double[] _weights;   // unnormalised probabilities e^((logit − max)/temperature) ∈ [0, 1]
    private readonly int[] _order;        // token ids; a max-heap in [0, _heapSize), ranked candidates after it
    private int _heapSize;
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
        _weights = new double[vocabularySize];
        _order = new int[vocabularySize];
        _random = new SeededRandom(Options.Seed);
    }

    /// <summary>The length of every logits vector.</summary>
    public int VocabularySize { get; }

    /// <summary>The options given at construction.</summary>
    public SamplingOptions Options { get; }

    /// <summary>Restarts the random sequence from <paramref name="seed"/>.</summary>
    public void Reseed(long seed) => _random = new SeededRandom(seed);

    /// <summary>Restarts the random sequence from <see cref="SamplingOptions.Seed"/>, as a new sampler would.</summary>
    public void Reseed() => Reseed(Options.Seed);

    // the most likely token, ties to the lowest id: −0 and +0 tie too (TensorPrimitives.IndexOfMax takes +0 as the larger)
    private static int Greedy(ReadOnlySpan<T> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
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
            return Greedy(logits);

        // weights = e^((logits − max)/temperature) ∈ [0, 1], the most likely token's 1; −∞ logits give 0.
        Span<double> weights = _weights;
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

        // Rank candidates lazily: each PopBest moves the next most likely token behind the heap.
        for (int i = 0; i < _order.Length; i++)
            _order[i] = i;
        _heapSize = _order.Length;
        for (int i = _heapSize / 2 - 1; i >= 0; i--)
            SiftDown(i);

        int kept;
        double mass = 0;
        if (filterK)
        {
            for (int j = 0; j < topK; j++)
                mass += _weights[PopBest()];
            kept = topK;
        }
        else
        {
            mass = TensorPrimitives.Sum<double>(_weights);
            kept = VocabularySize;
        }

        if (filterP)
        {
            // The smallest prefix of the ranking whose mass is >= TopP of the candidates' mass (at least one token).
            double needed = Options.TopP * mass;
            double cumulative = 0;
            int count = 0;
            while (count < kept)
            {
                cumulative += _weights[Ranked(count)];
                count++;
                if (cumulative >= needed)
                    break;
            }
            kept = count;
            mass = cumulative;
        }

        return DrawFromRanked(kept, mass);
    }

    /// <summary>The <paramref name="rank"/>-th most likely token (0 = best), popping the heap as far as needed.</summary>
    private int Ranked(int rank)
    {
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
        double wa = _weights[a], wb = _weights[b];
        return wa > wb || (wa == wb && a < b);
    }

    private int DrawFromAll()
    {
        double mass = TensorPrimitives.Sum<double>(_weights);
        double u = _random.NextDouble() * mass;
        double cumulative = 0;
        int lastPossible = 0;
        for (int i = 0; i < _weights.Length; i++)
        {
            if (_weights[i] == 0)
                continue;
            cumulative += _weights[i];
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
            if (_weights[token] == 0)
                break;                  // ranked by probability: the rest are impossible too
            chosen = token;
            cumulative += _weights[token];
            if (u < cumulative)
                break;
        }
        return chosen;                  // the last possible token if rounding put u at the very end of the mass
    }
}
