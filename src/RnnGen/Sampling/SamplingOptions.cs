namespace RnnGen;

/// <summary>
/// How <see cref="TokenSampler{T}"/> and <see cref="TokenGenerator{TModel, T}"/> pick the next token from logits.
/// The filters apply in Hugging Face's order: temperature, then top-k, then top-p. Values are checked when set.
/// </summary>
/// <example><c>new SamplingOptions { Temperature = 0.8, TopK = 40, TopP = 0.95, Seed = 42 }</c></example>
public sealed record SamplingOptions
{
    private readonly double _temperature = 1.0;
    private readonly int _topK;
    private readonly double _topP = 1.0;

    /// <summary>Greedy decoding: always the most likely token (<see cref="Temperature"/> = 0).</summary>
    public static SamplingOptions Greedy { get; } = new() { Temperature = 0 };

    /// <summary>
    /// Divides the logits before the softmax: below 1 sharpens the distribution, above 1 flattens it.
    /// 0 means greedy (the limit as the temperature goes to 0; ties go to the lowest token id) and then
    /// <see cref="TopK"/>, <see cref="TopP"/> and the random sequence play no part. Finite and ≥ 0; default 1.
    /// </summary>
    public double Temperature
    {
        get => _temperature;
        init
        {
            if (!(value >= 0) || double.IsPositiveInfinity(value))
                throw new ArgumentOutOfRangeException(nameof(Temperature), value, "Temperature must be finite and >= 0 (0 = greedy, 1 = the model's own distribution).");
            _temperature = value;
        }
    }

    /// <summary>
    /// Keep only the <see cref="TopK"/> most likely tokens: exactly k of them, ties going to the lowest token id (Hugging
    /// Face's <c>TopKLogitsWarper</c> keeps every token tied with the k-th, so it may keep more). 0 (the default)
    /// or a value ≥ the vocabulary size keeps every token. Must be ≥ 0.
    /// </summary>
    public int TopK
    {
        get => _topK;
        init
        {
            if (value < 0)
                throw new ArgumentOutOfRangeException(nameof(TopK), value, "TopK must be >= 0 (0 = no top-k filter).");
            _topK = value;
        }
    }

    /// <summary>
    /// Nucleus sampling: keep the smallest set of most likely tokens whose probability mass (after temperature and
    /// top-k) is ≥ <see cref="TopP"/>; at least one token always remains. In (0, 1]; 1 (the default) keeps every token.
    /// </summary>
    public double TopP
    {
        get => _topP;
        init
        {
            if (!(value > 0 && value <= 1))
                throw new ArgumentOutOfRangeException(nameof(TopP), value, "TopP must be in (0, 1] (1 = no nucleus filter).");
            _topP = value;
        }
    }

    /// <summary>Seed of the <see cref="SeededRandom"/> sequence: the same seed, logits and options give the same tokens.</summary>
    public long Seed { get; init; }
}
