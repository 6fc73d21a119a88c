namespace RnnGen.Tests.Sampling;

/// <summary>
/// The sampling distribution written directly from its definition (Hugging Face's order: temperature, top-k,
/// top-p), with LINQ sorting and no shared code with the sampler; and a chi-square statistic.
/// </summary>
internal static class SamplingReference
{
    /// <summary>softmax(logits / temperature) in double.</summary>
    public static double[] Softmax(double[] logits, double temperature)
    {
        double max = logits.Max();
        double[] e = logits.Select(l => Math.Exp((l - max) / temperature)).ToArray();
        double sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }

    /// <summary>Token ids by decreasing probability, ties by increasing id.</summary>
    public static int[] Ranking(double[] probabilities) =>
        Enumerable.Range(0, probabilities.Length).OrderByDescending(i => probabilities[i]).ThenBy(i => i).ToArray();

    /// <summary>The k most probable tokens.</summary>
    public static HashSet<int> TopK(double[] probabilities, int k) => Ranking(probabilities).Take(k).ToHashSet();

    /// <summary>The smallest set of most probable tokens whose mass is ≥ p (at least one).</summary>
    public static HashSet<int> Nucleus(double[] probabilities, double p)
    {
        var kept = new HashSet<int>();
        double mass = 0;
        foreach (int token in Ranking(probabilities))
        {
            kept.Add(token);
            mass += probabilities[token];
            if (mass >= p) break;
        }
        return kept;
    }

    /// <summary>The final distribution: softmax with temperature, restricted to top-k, renormalised, restricted to top-p, renormalised.</summary>
    public static double[] Distribution(double[] logits, double temperature, int topK, double topP)
    {
        double[] p = Softmax(logits, temperature);
        if (topK > 0) p = Restrict(p, TopK(p, topK));
        if (topP < 1) p = Restrict(p, Nucleus(p, topP));
        return p;
    }

    private static double[] Restrict(double[] p, HashSet<int> kept)
    {
        double mass = kept.Sum(i => p[i]);
        return p.Select((v, i) => kept.Contains(i) ? v / mass : 0).ToArray();
    }

    /// <summary>Σ (observed − expected)² / expected over the categories with a non-zero probability.</summary>
    public static double ChiSquare(int[] counts, double[] probabilities)
    {
        int n = counts.Sum();
        double chi2 = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            if (probabilities[i] == 0)
            {
                Assert.Equal(0, counts[i]);
                continue;
            }
            double expected = n * probabilities[i];
            chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
        }
        return chi2;
    }
}
