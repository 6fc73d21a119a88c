namespace RnnGen.Tests.Sampling;

[LstmModel(hidden: 8, layers: 1, Input = 5, Output = 5, Tokens = true)]
public partial class SamplingTestModel { }

[GruModel(hidden: 6, layers: 2, Input = 7, Output = 4, Tokens = true, Precision = Precision.Double)]
public partial class SamplingNarrowHeadModel { }

[LstmModel(hidden: 5, layers: 1, Input = 5, Tokens = true)]
public partial class SamplingHeadlessModel { }

[RnnModel(hidden: 4, layers: 1, Input = 3, Output = 6, Tokens = true)]
public partial class SamplingWideHeadModel { }

[LstmModel(hidden: 5, layers: 1, Input = 5, Output = 5)]
public partial class SamplingDenseModel { }

public class TokenGeneratorTests
{
    private static readonly int[] Prime = [0, 3, 1, 4];

    private static SamplingTestModel Model(int seed = 1)
    {
        var model = new SamplingTestModel();
        // Twice the default U(−1/√8, 1/√8): logits far from uniform, and (for this seed) a greedy run that
        // does not settle on a single token.
        model.InitializeParameters(seed);
        foreach (ref float p in model.Parameters) p *= 2;
        model.ParametersChanged();
        return model;
    }

    private static int[] Generate(SamplingTestModel model, SamplingOptions options, int[] prime, int count = 40)
    {
        var generator = new TokenGenerator<SamplingTestModel, float>(model, options);
        generator.Prime(prime);
        var tokens = new int[count];
        generator.Generate(tokens);
        return tokens;
    }

    [Fact]
    public void Greedy_generation_equals_a_manual_step_loop_with_argmax()
    {
        var model = Model();
        int[] generated = Generate(model, SamplingOptions.Greedy, Prime);

        var state = new SamplingTestModel.State();
        var logits = new float[SamplingTestModel.OutputWidth];
        foreach (int token in Prime)
            model.Step(token, ref state, logits);
        var expected = new int[generated.Length];
        for (int i = 0; i < expected.Length; i++)
        {
            expected[i] = Array.IndexOf(logits, logits.Max());
            model.Step(expected[i], ref state, logits);
        }

        Assert.Equal(expected, generated);
        Assert.True(expected.Distinct().Count() > 1, "the test model should not be stuck on one token");
    }

    [Fact]
    public void Sampled_generation_equals_a_manual_step_loop_with_the_same_sampler()
    {
        var model = Model();
        var options = new SamplingOptions { Temperature = 1.2, TopK = 4, TopP = 0.9, Seed = 5 };
        int[] generated = Generate(model, options, Prime);

        var sampler = new TokenSampler<float>(5, options);
        var state = new SamplingTestModel.State();
        var logits = new float[5];
        foreach (int token in Prime)
            model.Step(token, ref state, logits);
        var expected = new int[generated.Length];
        for (int i = 0; i < expected.Length; i++)
        {
            expected[i] = sampler.Sample(logits);
            model.Step(expected[i], ref state, logits);
        }
        Assert.Equal(expected, generated);
    }

    [Fact]
    public void Same_seed_repeats_and_different_seeds_differ()
    {
        var model = Model();
        Assert.Equal(Generate(model, new SamplingOptions { Seed = 1 }, Prime), Generate(model, new SamplingOptions { Seed = 1 }, Prime));
        Assert.NotEqual(Generate(model, new SamplingOptions { Seed = 1 }, Prime), Generate(model, new SamplingOptions { Seed = 2 }, Prime));
    }

    /// <summary>
    /// A hand-built LSTM that predicts the successor (t + 1) mod 5 of the last token t: input and output gates open,
    /// forget gate shut, the candidate g writes tanh(3) into cell unit t, and the head maps unit t to a logit of
    /// 10·tanh(σ(10)·tanh(3)) ≈ 7.6 for token t + 1 (0 for every other token).
    /// </summary>
    private static SamplingTestModel SuccessorModel()
    {
        const int H = SamplingTestModel.HiddenSize;
        var model = new SamplingTestModel();
        Span<float> p = model.Parameters;
        int Offset(string name) => SamplingTestModel.Info.Find(name)!.Offset;
        int weightIh = Offset("weight_ih_l0"), biasIh = Offset("bias_ih_l0"), head = Offset("head.weight");
        for (int u = 0; u < H; u++)
        {
            p[biasIh + 0 * H + u] = 10;    // i
            p[biasIh + 1 * H + u] = -10;   // f
            p[biasIh + 3 * H + u] = 10;    // o
        }
        for (int t = 0; t < 5; t++)
        {
            p[weightIh + (2 * H + t) * SamplingTestModel.InputSize + t] = 3;   // g: token t → cell unit t
            p[head + ((t + 1) % 5) * H + t] = 10;                              // unit t → logit of t + 1
        }
        model.ParametersChanged();
        return model;
    }

    [Fact]
    public void Generation_continues_from_the_primed_state()
    {
        var successor = SuccessorModel();
        Assert.Equal([0, 1, 2, 3, 4, 0, 1], Generate(successor, SamplingOptions.Greedy, [0, 3, 1, 4], count: 7));
        Assert.Equal([2, 3, 4, 0, 1, 2, 3], Generate(successor, SamplingOptions.Greedy, [2, 2, 0, 1], count: 7));

        // Different primes, different text: greedy on the random model, sampling on the successor model.
        var model = Model();
        var options = new SamplingOptions { Temperature = 0.8, Seed = 3 };
        Assert.NotEqual(Generate(model, SamplingOptions.Greedy, [0, 3, 1, 4]), Generate(model, SamplingOptions.Greedy, [2, 2, 0, 1]));
        Assert.NotEqual(Generate(successor, options, [0, 3, 1, 4]), Generate(successor, options, [2, 2, 0, 1]));

        // Only the last token the same: the earlier ones still matter through the state.
        float[] Logits(int[] prime)
        {
            var generator = new TokenGenerator<SamplingTestModel, float>(model, options);
            generator.Prime(prime);
            return generator.Logits.ToArray();
        }
        float[] full = Logits([0, 3, 1, 4]), last = Logits([4]);
        Assert.True(full.Zip(last).Max(p => Math.Abs(p.First - p.Second)) > 1e-3, "the earlier prime tokens left no trace in the logits");
    }

    [Fact]
    public void Prime_carries_the_state_like_a_step_loop()
    {
        var model = Model();
        var generator = new TokenGenerator<SamplingTestModel, float>(model);
        generator.Prime(Prime[..2]);
        generator.Prime(Prime[2..]);   // priming in two parts is priming with the whole sequence

        var state = new SamplingTestModel.State();
        var logits = new float[5];
        foreach (int token in Prime)
            model.Step(token, ref state, logits);

        Assert.Equal(state.Values.ToArray(), generator.State.Values.ToArray());
        Assert.Equal(logits, generator.Logits.ToArray());
        Assert.True(generator.IsPrimed);
    }

    [Fact]
    public void Reset_restarts_state_and_random_sequence()
    {
        var generator = new TokenGenerator<SamplingTestModel, float>(Model(), new SamplingOptions { Seed = 11 });
        generator.Prime(Prime);
        int[] first = generator.Generate(30).ToArray();

        generator.Reset();
        Assert.False(generator.IsPrimed);
        Assert.All(generator.State.Values.ToArray(), v => Assert.Equal(0f, v));
        generator.Prime(Prime);
        Assert.Equal(first, generator.Generate(30).ToArray());
    }

    [Fact]
    public void Streaming_continues_where_the_span_overload_stopped()
    {
        var options = new SamplingOptions { Temperature = 0.9, Seed = 21 };
        int[] all = Generate(Model(), options, Prime, count: 30);

        var generator = new TokenGenerator<SamplingTestModel, float>(Model(), options);
        generator.Prime(Prime);
        var head = new int[10];
        generator.Generate(head);
        var streamed = new List<int>();
        foreach (int token in generator.Generate(20))
            streamed.Add(token);
        Assert.Equal(all, head.Concat(streamed).ToArray());
    }

    [Fact]
    public void Streaming_is_lazy()
    {
        var generator = new TokenGenerator<SamplingTestModel, float>(Model(), new SamplingOptions { Seed = 2 });
        generator.Prime(Prime);
        float[] before = generator.State.Values.ToArray();
        IEnumerable<int> tokens = generator.Generate(5);
        Assert.Equal(before, generator.State.Values.ToArray());
        Assert.Equal(5, tokens.Count());
        Assert.NotEqual(before, generator.State.Values.ToArray());
        // enumerable once: a second pass would generate other tokens
        float[] after = generator.State.Values.ToArray();
        var e = Assert.Throws<InvalidOperationException>(() => tokens.ToArray());
        Assert.Contains("already enumerated", e.Message);
        Assert.Equal(after, generator.State.Values.ToArray());
    }

    [Fact]
    public void A_narrow_double_head_samples_only_its_own_vocabulary()
    {
        var model = new SamplingNarrowHeadModel();
        model.InitializeParameters(3);
        var generator = new TokenGenerator<SamplingNarrowHeadModel, double>(model, new SamplingOptions { Temperature = 2, Seed = 6 });
        Assert.Equal(4, generator.VocabularySize);
        generator.Prime([6, 5, 0]);   // ids 4..6 can be read but never generated
        int[] tokens = generator.Generate(300).ToArray();
        Assert.All(tokens, t => Assert.InRange(t, 0, 3));
        Assert.Equal(4, tokens.Distinct().Count());
    }

    [Fact]
    public void Generating_before_priming_throws()
    {
        var generator = new TokenGenerator<SamplingTestModel, float>(Model());
        var e = Assert.Throws<InvalidOperationException>(() => generator.Next());
        Assert.Contains("Prime", e.Message);
        Assert.Throws<InvalidOperationException>(() => generator.Generate(new int[3]));
        Assert.Throws<InvalidOperationException>(() => generator.Generate(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => generator.Generate(-1));

        generator.Prime([]);   // an empty prime changes nothing
        Assert.False(generator.IsPrimed);
        generator.Generate(Span<int>.Empty);   // nothing asked, nothing needed
    }

    [Fact]
    public void Prime_with_an_invalid_token_throws_before_feeding_anything()
    {
        var generator = new TokenGenerator<SamplingTestModel, float>(Model());
        generator.Prime([1]);
        float[] state = generator.State.Values.ToArray();
        float[] logits = generator.Logits.ToArray();

        var e = Assert.Throws<ArgumentException>(() => generator.Prime([2, 3, 5]));
        Assert.Equal("tokens", e.ParamName);
        Assert.Contains("tokens[2] is 5", e.Message);
        Assert.Contains("[0, 4]", e.Message);
        Assert.Equal(state, generator.State.Values.ToArray());
        Assert.Equal(logits, generator.Logits.ToArray());
    }

    [Fact]
    public void Models_that_cannot_generate_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new TokenGenerator<SamplingHeadlessModel, float>(new SamplingHeadlessModel()));
        Assert.Contains("no head", e.Message);
        Assert.Contains("Output = 5", e.Message);

        e = Assert.Throws<ArgumentException>(() => new TokenGenerator<SamplingWideHeadModel, float>(new SamplingWideHeadModel()));
        Assert.Contains("head of 6 logits", e.Message);

        e = Assert.Throws<ArgumentException>(() => new TokenGenerator<SamplingDenseModel, float>(new SamplingDenseModel()));
        Assert.Contains("Tokens = true", e.Message);

        Assert.Throws<ArgumentNullException>(() => new TokenGenerator<SamplingTestModel, float>(null!));
    }

    [Fact]
    public void Next_allocates_nothing()
    {
        var generator = new TokenGenerator<SamplingTestModel, float>(Model(), new SamplingOptions { Temperature = 0.9, TopK = 3, TopP = 0.9 });
        generator.Prime(Prime);
        var tokens = new int[50];
        generator.Generate(tokens);
        Assert.Equal(0, SteadyAllocation.Fewest(() =>
        {
            generator.Generate(tokens);
            for (int i = 0; i < 10; i++)
                generator.Next();
        }));
    }

    // Branching: the saved position (state and the logits computed from it) gives, greedily, the same continuation as
    // before; saving the state alone would pair it with the other branch's logits (the bug this API exists for).
    [Fact]
    public void CopyTo_saves_a_position_that_gives_the_same_greedy_continuation()
    {
        var model = Model();
        var generator = new TokenGenerator<SamplingTestModel, float>(model, SamplingOptions.Greedy);
        var saved = new TokenGenerator<SamplingTestModel, float>(model, SamplingOptions.Greedy);
        generator.Prime(Prime);
        generator.CopyTo(saved);
        Assert.True(saved.IsPrimed);
        Assert.True(saved.Logits.SequenceEqual(generator.Logits));

        var first = new int[20];
        generator.Generate(first);
        saved.CopyTo(generator);
        var second = new int[20];
        generator.Generate(second);

        Assert.Equal(Generate(model, SamplingOptions.Greedy, Prime, 20), first);
        Assert.Equal(first, second);
        Assert.True(first.Distinct().Count() > 1, "the test model should not be stuck on one token");
    }

    [Fact]
    public void CopyTo_copies_the_position_but_not_the_random_sequence()
    {
        var model = Model();
        var source = new TokenGenerator<SamplingTestModel, float>(model, new SamplingOptions { Seed = 1 });
        var destination = new TokenGenerator<SamplingTestModel, float>(model, new SamplingOptions { Seed = 2 });
        var reference = new TokenGenerator<SamplingTestModel, float>(model, new SamplingOptions { Seed = 2 });
        source.Prime(Prime);
        source.CopyTo(destination);
        reference.Prime(Prime);

        var fromSource = new int[30];
        var fromDestination = new int[30];
        var fromReference = new int[30];
        source.Generate(fromSource);
        destination.Generate(fromDestination);
        reference.Generate(fromReference);
        Assert.Equal(fromReference, fromDestination);   // the same position, drawn with the destination's own seed
        Assert.NotEqual(fromSource, fromDestination);   // the source's draws were not copied
    }

    [Fact]
    public void CopyTo_from_an_unprimed_generator_unprimes_the_destination()
    {
        var model = Model();
        var fresh = new TokenGenerator<SamplingTestModel, float>(model);
        var generator = new TokenGenerator<SamplingTestModel, float>(model);
        generator.Prime(Prime);
        generator.Next();
        fresh.CopyTo(generator);
        Assert.False(generator.IsPrimed);
        Assert.Throws<InvalidOperationException>(() => generator.Next());
        Assert.All(generator.State.Values.ToArray(), v => Assert.Equal(0f, v));
        Assert.All(generator.Logits.ToArray(), v => Assert.Equal(0f, v));

        generator.Prime(Prime);
        float[] logits = generator.Logits.ToArray();
        generator.CopyTo(generator); // onto itself: nothing changes
        Assert.True(generator.IsPrimed);
        Assert.Equal(logits, generator.Logits.ToArray());
        Assert.Throws<ArgumentNullException>(() => generator.CopyTo(null!));
    }

    // A model with NaN weights (a diverged run): the error named 'logits', an argument the caller never passed
    [Fact]
    public void A_model_whose_logits_are_NaN_is_named_as_the_cause_not_an_argument()
    {
        var model = Model();
        model.Parameters[^1] = float.NaN; // the head's last bias: that logit is NaN at every step
        model.ParametersChanged();
        var generator = new TokenGenerator<SamplingTestModel, float>(model, new SamplingOptions { Seed = 1 });
        generator.Prime(Prime);
        float[] state = generator.State.Values.ToArray();
        var e = Assert.Throws<InvalidOperationException>(() => generator.Next());
        Assert.StartsWith("The model's logits for the last token fed contain NaN", e.Message);
        Assert.Contains("Parameters", e.Message);
        Assert.True(state.AsSpan().SequenceEqual(generator.State.Values), "the state moved although nothing was sampled");
    }
}
