using System.Numerics;

namespace RnnGen;

/// <summary>
/// Generates token sequences from a token model (<c>Tokens = true</c> with a head over the vocabulary) with the
/// streaming <c>Step</c> API, no tape: <see cref="Prime"/> feeds a sequence through the model carrying its state,
/// then every <see cref="Next"/> samples a token from the latest logits and feeds it back.
/// </summary>
/// <example>
/// <code>
/// var generator = new TokenGenerator&lt;CharModel, float&gt;(model, new SamplingOptions { Temperature = 0.8, Seed = 1 });
/// generator.Prime(promptTokens);
/// foreach (int token in generator.Generate(500))
///     Console.Write(vocabulary[token]);
/// </code>
/// </example>
/// <remarks>
/// <see cref="Next"/> allocates nothing. The generator owns its <see cref="State"/>, which persists across calls,
/// so generation can continue, be primed with more text in between, or be restarted with <see cref="Reset"/>.
/// The same model, options, seed and primes give the same tokens. Not thread-safe.
/// </remarks>
/// <typeparam name="TModel">A generated token model class.</typeparam>
/// <typeparam name="T">The model's scalar type.</typeparam>
public sealed class TokenGenerator<TModel, T>
    where TModel : class, IRecurrentModel<TModel, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _logits;

    /// <summary>Creates a generator over <paramref name="model"/> with a zero state.</summary>
    /// <param name="model">The model; its parameters are read, never changed.</param>
    /// <param name="options">Temperature, top-k, top-p and seed; null means <c>new SamplingOptions()</c>.</param>
    /// <exception cref="ArgumentException"><typeparamref name="TModel"/> is not a token model, has no head, or has a head
    /// wider than its input vocabulary (sampled tokens are fed back as inputs).</exception>
    public TokenGenerator(TModel model, SamplingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ModelInfo info = TModel.Info;
        string name = typeof(TModel).Name;
        if (!info.Tokens)
            throw new ArgumentException(
                $"{name} reads dense vectors (Tokens = false); a TokenGenerator feeds sampled token ids back into the model, so declare it with Tokens = true.",
                nameof(model));
        if (info.OutputSize == 0)
            throw new ArgumentException(
                $"{name} has no head (Output = 0): its outputs are the top layer's hidden state ({info.HiddenSize} wide), not logits over the vocabulary; " +
                $"declare it with Output = {info.InputSize} (the vocabulary size).",
                nameof(model));
        if (info.OutputSize > info.InputSize)
            throw new ArgumentException(
                $"{name} has a head of {info.OutputSize} logits but reads only {info.InputSize} token ids: sampled tokens are fed back as inputs, " +
                $"so Output must be <= Input (usually equal).",
                nameof(model));

        Model = model;
        Sampler = new TokenSampler<T>(info.OutputSize, options);
        State = model.CreateState();
        _logits = new T[info.OutputSize];
    }

    /// <summary>The model that runs every step.</summary>
    public TModel Model { get; }

    /// <summary>The sampler that picks each token (its options and random sequence).</summary>
    public TokenSampler<T> Sampler { get; }

    /// <summary>The options the generator samples with.</summary>
    public SamplingOptions Options => Sampler.Options;

    /// <summary>Number of tokens the model can emit: its head width, <c>Output</c>.</summary>
    public int VocabularySize => Sampler.VocabularySize;

    /// <summary>
    /// The model state after every token fed so far: a live object. <see cref="Logits"/> belong to it, so to branch and
    /// come back, save the whole position with <see cref="CopyTo"/> (state and logits), not the state alone. Writing into
    /// it directly is fine when <see cref="Prime"/> follows, which computes logits from the new state.
    /// </summary>
    public RecurrentState<T> State { get; }

    /// <summary>Whether a token has been fed since the last <see cref="Reset"/>, so that <see cref="Logits"/> exist.</summary>
    public bool IsPrimed { get; private set; }

    /// <summary>The logits the model produced for the last token fed: the distribution <see cref="Next"/> samples from.</summary>
    public ReadOnlySpan<T> Logits => _logits;

    /// <summary>
    /// Copies this generator's position — its <see cref="State"/>, the <see cref="Logits"/> computed from it and
    /// <see cref="IsPrimed"/> — into <paramref name="destination"/>, so that it continues from the same text: to branch
    /// (try a continuation, then restore the saved position and try another) or to save a prompt's state once. The random
    /// sequences are not copied: each generator keeps drawing from its own (<see cref="Reset"/> restarts it), so two
    /// branches from one position sample differently unless their options are greedy. Allocates nothing.
    /// </summary>
    /// <example>
    /// <code>
    /// var saved = new TokenGenerator&lt;CharModel, float&gt;(model);
    /// generator.Prime(prompt);
    /// generator.CopyTo(saved);                 // the position after the prompt
    /// generator.Generate(first);               // one continuation
    /// saved.CopyTo(generator);                 // back to the prompt
    /// generator.Generate(second);              // another one
    /// </code>
    /// </example>
    /// <exception cref="ArgumentNullException"><paramref name="destination"/> is null.</exception>
    public void CopyTo(TokenGenerator<TModel, T> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (ReferenceEquals(destination, this))
            return;
        State.CopyTo(destination.State);
        _logits.AsSpan().CopyTo(destination._logits);
        destination.IsPrimed = IsPrimed;
    }

    /// <summary>Zeroes the state, forgets the logits and restarts the random sequence from <see cref="SamplingOptions.Seed"/>.</summary>
    public void Reset()
    {
        State.Reset();
        _logits.AsSpan().Clear();
        IsPrimed = false;
        Sampler.Reseed();
    }

    /// <summary>
    /// Feeds <paramref name="tokens"/> through the model in order, advancing <see cref="State"/>; afterwards
    /// <see cref="Logits"/> predict the token that follows them. Can be called again to append more context.
    /// An empty span changes nothing.
    /// </summary>
    /// <exception cref="ArgumentException">A token is outside [0, Input); checked before any token is fed.</exception>
    public void Prime(ReadOnlySpan<int> tokens)
    {
        int inputs = TModel.Info.InputSize;
        for (int i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)inputs)
                throw new ArgumentException(
                    $"tokens[{i}] is {tokens[i]}; token ids must be in [0, {inputs - 1}] (the model's Input).", nameof(tokens));
        }
        foreach (int token in tokens)
            Feed(token);
    }

    /// <summary>Samples the next token from <see cref="Logits"/>, feeds it back into the model and returns it. Allocates nothing.</summary>
    /// <exception cref="InvalidOperationException">Nothing has been fed yet: call <see cref="Prime"/> first; or the model's
    /// logits hold NaN or +∞ (or are all −∞), as a model whose parameters or state are not finite gives.</exception>
    public int Next()
    {
        EnsurePrimed(1);
        int token = Sampler.Sample(_logits, fromModel: true); // the model's logits: a NaN there is the model's (a diverged run)
        Feed(token);
        return token;
    }

    /// <summary>Fills <paramref name="destination"/> with the next <c>destination.Length</c> tokens. Allocates nothing.</summary>
    /// <exception cref="InvalidOperationException">Nothing has been fed yet: call <see cref="Prime"/> first; or the model's
    /// logits hold NaN or +∞ (or are all −∞), as in <see cref="Next"/>.</exception>
    public void Generate(Span<int> destination)
    {
        EnsurePrimed(destination.Length);
        for (int i = 0; i < destination.Length; i++)
            destination[i] = Next();
    }

    /// <summary>
    /// Streams the next <paramref name="count"/> tokens, each generated when the enumeration asks for it (e.g. to print
    /// text as it appears): nothing is generated until the result is enumerated, and it can be enumerated once, since
    /// every token advances the generator (a second enumeration, <c>Count()</c> after <c>foreach</c> included, throws
    /// <see cref="InvalidOperationException"/>; keep the tokens with <c>ToArray()</c>, or use
    /// <see cref="Generate(Span{int})"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">Nothing has been fed yet: call <see cref="Prime"/> first. While the tokens
    /// are enumerated: the model's logits hold NaN or +∞ (or are all −∞), as in <see cref="Next"/>; or the result is
    /// enumerated a second time.</exception>
    public IEnumerable<int> Generate(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        EnsurePrimed(count);
        return new TokenStream(this, count);
    }

    /// <summary>The tokens of one <see cref="Generate(int)"/>: enumerable once, each token generated when asked for.</summary>
    private sealed class TokenStream(TokenGenerator<TModel, T> generator, int count) : IEnumerable<int>
    {
        private bool _enumerated;

        public IEnumerator<int> GetEnumerator()
        {
            if (_enumerated)
                throw new InvalidOperationException(
                    "These tokens were already enumerated: each enumeration would generate new ones, so Generate(count) can be " +
                    "enumerated once. Keep them with ToArray() to read them twice, or call Generate again for more.");
            _enumerated = true;
            return Tokens();
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        private IEnumerator<int> Tokens()
        {
            for (int i = 0; i < count; i++)
                yield return generator.Next();
        }
    }

    private void EnsurePrimed(int count)
    {
        if (count > 0 && !IsPrimed)
            throw new InvalidOperationException(
                "The generator has no logits yet: call Prime with at least one token (e.g. a start-of-text token) before generating.");
    }

    private void Feed(int token)
    {
        Model.Step(token, State, _logits);
        IsPrimed = true;
    }
}
