using static RnnGen.Tests.Sampling.SamplingReference;

namespace RnnGen.Tests.Sampling;

public class TokenSamplerTests
{
    // A fixed distribution over 8 tokens with distinct logits; softmax ≈ .39 .24 .14 .09 .05 .04 .03 .01.
    private static readonly double[] Logits = [2.0, 1.5, 0.9, 0.5, -0.1, -0.3, -0.6, -1.5];

    // Upper 0.1 % points of the chi-square distribution by degrees of freedom: a correct sampler fails a test with
    // probability 0.001 for a given seed; the seeds are fixed, so a passing test stays passing.
    private static readonly Dictionary<int, double> ChiSquare999 = new()
    {
        [1] = 10.83, [2] = 13.82, [3] = 16.27, [4] = 18.47, [5] = 20.52, [6] = 22.46, [7] = 24.32,
    };

    private static int[] Counts(TokenSampler<double> sampler, double[] logits, int draws)
    {
        var counts = new int[logits.Length];
        for (int i = 0; i < draws; i++)
            counts[sampler.Sample(logits)]++;
        return counts;
    }

    private static int ArgMax(double[] values) => Array.IndexOf(values, values.Max());

    [Fact]
    public void Temperature_zero_is_greedy()
    {
        var sampler = new TokenSampler<double>(16, SamplingOptions.Greedy);
        for (int seed = 0; seed < 50; seed++)
        {
            double[] logits = LossFunctions.LossReference.Gaussian(16, 3.0, seed);
            Assert.Equal(ArgMax(logits), sampler.Sample(logits));
        }
    }

    [Fact]
    public void Greedy_breaks_ties_by_lowest_id_and_ignores_other_filters()
    {
        var sampler = new TokenSampler<float>(5, new SamplingOptions { Temperature = 0, TopK = 2, TopP = 0.1, Seed = 9 });
        Assert.Equal(1, sampler.Sample([0f, 3f, -1f, 3f, 2f]));
        Assert.Equal(4, sampler.Sample([0f, 3f, -1f, 3f, 7f]));
        // −0 and +0 are one value, so they tie too (as they do for TopK = 1 at a temperature above 0)
        Assert.Equal(0, sampler.Sample([-0f, 0f, -1f, -2f, -3f]));
        Assert.Equal(0, new TokenSampler<float>(5, new SamplingOptions { Temperature = 1, TopK = 1 }).Sample([-0f, 0f, -1f, -2f, -3f]));
    }

    [Fact]
    public void Temperature_going_to_zero_approaches_greedy()
    {
        // At T = 1e-3 the runner-up has probability below e^−100 for logits at least 0.1 apart: never drawn.
        var sampler = new TokenSampler<double>(16, new SamplingOptions { Temperature = 1e-3, Seed = 3 });
        for (int seed = 0; seed < 50; seed++)
        {
            double[] logits = Enumerable.Range(0, 16).Select(i => i * 0.1).ToArray();
            new SeededRandom(seed).Shuffle(logits.AsSpan());
            Assert.Equal(ArgMax(logits), sampler.Sample(logits));
        }
    }

    [Theory]
    [InlineData(1.0, 1)]
    [InlineData(0.7, 2)]
    [InlineData(2.5, 3)]
    public void Temperature_sampling_frequencies_match_softmax(double temperature, int seed)
    {
        var sampler = new TokenSampler<double>(Logits.Length, new SamplingOptions { Temperature = temperature, Seed = seed });
        int[] counts = Counts(sampler, Logits, 20_000);
        double chi2 = ChiSquare(counts, Softmax(Logits, temperature));
        Assert.True(chi2 < ChiSquare999[Logits.Length - 1], $"chi-square {chi2:F1} with {Logits.Length - 1} degrees of freedom");

        // The test has power: it rejects the distribution at a temperature 25 % higher.
        double other = ChiSquare(counts, Softmax(Logits, temperature * 1.25));
        Assert.True(other > ChiSquare999[Logits.Length - 1], $"chi-square against temperature × 1.25 is only {other:F1}");
    }

    // Double logits further apart than double.MaxValue, at a temperature that brings them close: logit − max overflows, but
    // the distribution is softmax([1, −1, 0.5]) (every token possible). The sampler used to drop token 1.
    [Fact]
    public void Huge_double_logits_at_a_huge_temperature_sample_the_scaled_softmax()
    {
        double[] logits = [1e308, -1e308, 5e307];
        var sampler = new TokenSampler<double>(3, new SamplingOptions { Temperature = 1e308, Seed = 4 });
        int[] counts = Counts(sampler, logits, 20_000);
        double chi2 = ChiSquare(counts, Softmax([1, -1, 0.5], 1));
        Assert.True(chi2 < ChiSquare999[2], $"chi-square {chi2:F1} with 2 degrees of freedom; counts {string.Join(", ", counts)}");
    }

    [Fact]
    public void Float_logits_sample_the_same_distribution()
    {
        var sampler = new TokenSampler<float>(Logits.Length, new SamplingOptions { Temperature = 0.9, Seed = 4 });
        float[] logits = Array.ConvertAll(Logits, l => (float)l);
        var counts = new int[Logits.Length];
        for (int i = 0; i < 20_000; i++)
            counts[sampler.Sample(logits)]++;
        double chi2 = ChiSquare(counts, Softmax(Logits, 0.9));
        Assert.True(chi2 < ChiSquare999[Logits.Length - 1], $"chi-square {chi2:F1}");
    }

    [Theory]
    [InlineData(1, 5)]
    [InlineData(3, 6)]
    [InlineData(5, 7)]
    public void Top_k_emits_only_and_all_of_the_k_best(int k, int seed)
    {
        double[] logits = LossFunctions.LossReference.Gaussian(20, 1.0, seed);
        var sampler = new TokenSampler<double>(20, new SamplingOptions { TopK = k, Seed = seed });
        int[] counts = Counts(sampler, logits, 5_000);

        HashSet<int> best = TopK(Softmax(logits, 1), k);
        for (int token = 0; token < counts.Length; token++)
        {
            if (best.Contains(token)) Assert.True(counts[token] > 0, $"token {token} is among the {k} best but never drawn");
            else Assert.Equal(0, counts[token]);
        }
    }

    [Fact]
    public void Top_k_ties_at_the_boundary_go_to_the_lowest_ids()
    {
        // Tokens 1, 2 and 4 tie for second place: top-2 keeps 0 and 1.
        var sampler = new TokenSampler<double>(5, new SamplingOptions { TopK = 2, Seed = 8 });
        int[] counts = Counts(sampler, [3, 1, 1, 0, 1], 2_000);
        Assert.Equal(0, counts[2] + counts[3] + counts[4]);
        Assert.True(counts[0] > 0 && counts[1] > 0);
    }

    [Fact]
    public void Top_k_at_least_the_vocabulary_keeps_everything()
    {
        var plain = new TokenSampler<double>(Logits.Length, new SamplingOptions { Seed = 12 });
        var wide = new TokenSampler<double>(Logits.Length, new SamplingOptions { TopK = 100, Seed = 12 });
        for (int i = 0; i < 500; i++)
            Assert.Equal(plain.Sample(Logits), wide.Sample(Logits));
    }

    [Theory]
    [InlineData(0.5, 1.0, 9)]
    [InlineData(0.8, 1.0, 10)]
    [InlineData(0.9, 0.6, 11)]
    [InlineData(0.95, 2.0, 12)]
    public void Top_p_emits_only_and_all_of_the_nucleus(double p, double temperature, int seed)
    {
        var sampler = new TokenSampler<double>(Logits.Length, new SamplingOptions { TopP = p, Temperature = temperature, Seed = seed });
        int[] counts = Counts(sampler, Logits, 5_000);

        HashSet<int> nucleus = Nucleus(Softmax(Logits, temperature), p);
        Assert.InRange(nucleus.Count, 2, Logits.Length - 1);   // the case is not trivial
        for (int token = 0; token < counts.Length; token++)
        {
            if (nucleus.Contains(token)) Assert.True(counts[token] > 0, $"token {token} is in the nucleus but never drawn");
            else Assert.Equal(0, counts[token]);
        }
    }

    // The nucleus boundary exactly: four equal logits (weights exactly 1, each probability exactly 1/4) and TopP = 0.5 keep
    // the first two tokens — the smallest set whose mass reaches p — and never a third (a strict > would keep three).
    [Fact]
    public void Top_p_reaching_p_exactly_stops_there()
    {
        double[] equal = [1.0, 1.0, 1.0, 1.0];
        var sampler = new TokenSampler<double>(equal.Length, new SamplingOptions { TopP = 0.5, Seed = 21 });
        int[] counts = Counts(sampler, equal, 2000);
        Assert.Equal(0, counts[2] + counts[3]);
        Assert.True(counts[0] > 800 && counts[1] > 800, $"counts {string.Join(", ", counts)}");
    }

    [Fact]
    public void Top_p_smaller_than_the_best_probability_keeps_only_the_best()
    {
        var sampler = new TokenSampler<double>(Logits.Length, new SamplingOptions { TopP = 0.05, Seed = 13 });
        int[] counts = Counts(sampler, Logits, 500);
        Assert.Equal(500, counts[0]);
    }

    [Theory]
    [InlineData(0.8, 5, 1.0, 14)]
    [InlineData(1.3, 6, 0.9, 15)]
    [InlineData(1.0, 0, 0.85, 16)]
    [InlineData(0.6, 4, 0.99, 17)]
    public void Combined_filters_sample_the_reference_distribution(double temperature, int topK, double topP, int seed)
    {
        var options = new SamplingOptions { Temperature = temperature, TopK = topK, TopP = topP, Seed = seed };
        var sampler = new TokenSampler<double>(Logits.Length, options);
        int[] counts = Counts(sampler, Logits, 20_000);

        double[] expected = Distribution(Logits, temperature, topK, topP);
        int kept = expected.Count(p => p > 0);
        double chi2 = ChiSquare(counts, expected);   // also asserts that no filtered-out token was drawn
        Assert.True(chi2 < ChiSquare999[kept - 1], $"chi-square {chi2:F1} with {kept - 1} degrees of freedom");
    }

    [Fact]
    public void Same_seed_repeats_and_different_seeds_differ()
    {
        int[] Run(long seed, bool reseedHalfway = false)
        {
            var sampler = new TokenSampler<double>(Logits.Length, new SamplingOptions { TopK = 6, TopP = 0.95, Seed = seed });
            var tokens = new int[200];
            for (int i = 0; i < tokens.Length; i++)
            {
                if (reseedHalfway && i == 100) sampler.Reseed();
                tokens[i] = sampler.Sample(Logits);
            }
            return tokens;
        }

        Assert.Equal(Run(42), Run(42));
        Assert.NotEqual(Run(42), Run(43));
        int[] reseeded = Run(42, reseedHalfway: true);
        Assert.Equal(Run(42)[..100], reseeded[100..]);
    }

    [Fact]
    public void Negative_infinity_marks_impossible_tokens()
    {
        double[] logits = [double.NegativeInfinity, 0.5, double.NegativeInfinity, 0.2, double.NegativeInfinity];
        foreach (var options in new[] { new SamplingOptions { Seed = 1 }, new SamplingOptions { TopP = 0.99, Seed = 1 }, new SamplingOptions { TopK = 4, Seed = 1 } })
        {
            int[] counts = Counts(new TokenSampler<double>(5, options), logits, 2_000);
            Assert.Equal(0, counts[0] + counts[2] + counts[4]);
            Assert.True(counts[1] > 0 && counts[3] > 0);
        }
    }

    [Fact]
    public void Bad_logits_throw()
    {
        var sampler = new TokenSampler<double>(4);
        var e = Assert.Throws<ArgumentException>(() => sampler.Sample([1, 2, 3]));
        Assert.Equal("logits", e.ParamName);
        Assert.Contains("expected 4", e.Message);

        e = Assert.Throws<ArgumentException>(() => sampler.Sample([1, double.NaN, 3, 4]));
        Assert.Contains("NaN (at index 1)", e.Message);
        e = Assert.Throws<ArgumentException>(() => sampler.Sample([1, 2, double.PositiveInfinity, 4]));
        Assert.Contains("+∞ (at index 2)", e.Message);
        e = Assert.Throws<ArgumentException>(() => sampler.Sample([double.NegativeInfinity, double.NegativeInfinity, double.NegativeInfinity, double.NegativeInfinity]));
        Assert.Contains("every logit is −∞", e.Message);

        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenSampler<double>(0));
    }

    [Theory]
    [InlineData(-0.5, 0, 1.0, "Temperature")]
    [InlineData(double.NaN, 0, 1.0, "Temperature")]
    [InlineData(double.PositiveInfinity, 0, 1.0, "Temperature")]
    [InlineData(1.0, -1, 1.0, "TopK")]
    [InlineData(1.0, 0, 0.0, "TopP")]
    [InlineData(1.0, 0, 1.01, "TopP")]
    [InlineData(1.0, 0, double.NaN, "TopP")]
    public void Invalid_options_are_rejected_when_set(double temperature, int topK, double topP, string name)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions { Temperature = temperature, TopK = topK, TopP = topP });
        Assert.Equal(name, e.ParamName);
    }

    [Theory]
    [InlineData(1.0, 0, 1.0)]
    [InlineData(0.8, 3, 1.0)]
    [InlineData(0.8, 0, 0.9)]
    [InlineData(0.8, 5, 0.9)]
    [InlineData(0.0, 0, 1.0)]
    public void Sampling_allocates_nothing(double temperature, int topK, double topP)
    {
        var sampler = new TokenSampler<float>(Logits.Length, new SamplingOptions { Temperature = temperature, TopK = topK, TopP = topP });
        float[] logits = Array.ConvertAll(Logits, l => (float)l);
        Assert.Equal(0, SteadyAllocation.Fewest(() => sampler.Sample(logits), calls: 100));
    }
    // A large vocabulary takes the sampler's one-pass selections (top-k up to a quarter of it, a nucleus of up to a
    // sixteenth) and, past them, its heap of every token: each draw is a token the definition keeps, greedy and top-1 pick
    // the first maximum, with ties to the lowest id.
    [Theory]
    [InlineData(40, 1.0)] [InlineData(3, 1.0)] [InlineData(900, 1.0)] [InlineData(0, 0.3)] [InlineData(0, 0.9)] [InlineData(0, 0.999)] [InlineData(40, 0.5)]
    public void Large_vocabulary_draws_only_kept_tokens(int topK, double topP)
    {
        const int vocabulary = 3000;
        var sampler = new TokenSampler<double>(vocabulary, new SamplingOptions { TopK = topK, TopP = topP, Temperature = 0.7, Seed = 5 });
        for (int seed = 0; seed < 8; seed++)
        {
            double[] logits = LossFunctions.LossReference.Gaussian(vocabulary, seed % 2 == 0 ? 4.0 : 0.5, seed);
            double[] distribution = Distribution(logits, 0.7, topK, topP);
            HashSet<int> kept = Enumerable.Range(0, vocabulary).Where(i => distribution[i] > 0).ToHashSet();
            for (int draw = 0; draw < 20; draw++)
                Assert.Contains(sampler.Sample(logits), kept);
        }

        // ties: logits on a coarse grid, so that many tokens share the k-th weight; top-k keeps the lowest ids among them
        var tied = new TokenSampler<float>(vocabulary, new SamplingOptions { TopK = topK == 0 ? 50 : topK, Seed = 2 });
        var grid = new float[vocabulary];
        for (int seed = 0; seed < 4; seed++)
        {
            var random = new SeededRandom(seed);
            for (int i = 0; i < vocabulary; i++) grid[i] = (float)Math.Round(random.NextDouble() * 6);
            double[] asDouble = Array.ConvertAll(grid, g => (double)g);
            HashSet<int> best = TopK(Softmax(asDouble, 1), topK == 0 ? 50 : topK);
            for (int draw = 0; draw < 20; draw++)
                Assert.Contains(tied.Sample(grid), best);
            int first = Array.IndexOf(grid, grid.Max());
            grid[vocabulary - 1] = grid.Max();                                // a later tie
            Assert.Equal(first, new TokenSampler<float>(vocabulary, SamplingOptions.Greedy).Sample(grid));
            Assert.Equal(first, new TokenSampler<float>(vocabulary, new SamplingOptions { TopK = 1 }).Sample(grid));
        }
        var zeros = new float[vocabulary];
        Array.Fill(zeros, -1f);
        zeros[37] = -0f;
        zeros[38] = 0f;
        Assert.Equal(37, new TokenSampler<float>(vocabulary, SamplingOptions.Greedy).Sample(zeros));   // −0 and +0 tie
    }
    // TensorPrimitives.Exp can round an element by an ulp differently with its array's address (a 65-long row whose
    // array starts 48 or 56 bytes past a 64-byte boundary: e^(−2/3)), and a tie-heavy nucleus turns that ulp into another
    // token; the sampler's scratch starts on a boundary, so samplers created anywhere in memory draw the same tokens.
    // (An unaligned scratch fails here once TensorPrimitives runs fully optimised, as with DOTNET_TieredCompilation=0;
    // a short test run may finish on its first-tier code, which rounds alike at every address.)
    [Fact]
    public void Seeded_samplers_draw_the_same_tokens_wherever_they_are_allocated()
    {
        const int vocabulary = 65;
        var logits = new float[vocabulary];
        var random = new Random(456);                                        // seeded System.Random: a fixed sequence
        for (int j = 0; j < vocabulary; j++) logits[j] = (float)Math.Round(random.NextDouble() * 4) * (j % 3 == 0 ? -1 : 1);
        logits[1] = float.NegativeInfinity;
        logits[2] = -3e38f;
        logits[^1] = -0f;
        var options = new SamplingOptions { TopP = 0.9, Temperature = 3, Seed = 65 };
        var padding = new List<byte[]>();
        int[]? first = null;
        for (int sampler = 0; sampler < 24; sampler++)
        {
            padding.Add(new byte[sampler % 8 + 1]);                         // moves the next allocation by a few bytes
            var s = new TokenSampler<float>(vocabulary, options);
            int[] draws = Enumerable.Range(0, 40).Select(_ => s.Sample(logits)).ToArray();
            first ??= draws;
            Assert.Equal(first, draws);
        }
        GC.KeepAlive(padding);
    }
}
