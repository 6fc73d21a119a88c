namespace RnnGen.Tests.LossFunctions;

/// <summary>
/// Naive double-precision losses written straight from their textbook definitions (no max-subtraction, no
/// stable forms: only for moderate values), central finite differences, and test data.
/// </summary>
internal static class LossReference
{
    /// <summary>mean over steps with target != -1 of −log(e^{l_target} / Σ_j e^{l_j}); 0 when none counts.</summary>
    public static double SoftmaxCrossEntropy(double[] logits, int[] targets)
    {
        int classes = logits.Length / targets.Length;
        double total = 0;
        int counted = 0;
        for (int t = 0; t < targets.Length; t++)
        {
            if (targets[t] == -1) continue;
            double denominator = 0;
            for (int j = 0; j < classes; j++)
                denominator += Math.Exp(logits[t * classes + j]);
            double probability = Math.Exp(logits[t * classes + targets[t]]) / denominator;
            total += -Math.Log(probability);
            counted++;
        }
        return counted == 0 ? 0 : total / counted;
    }

    /// <summary>Σ (y − t)² / N.</summary>
    public static double MeanSquaredError(double[] outputs, double[] targets)
    {
        double total = 0;
        for (int i = 0; i < outputs.Length; i++)
            total += (outputs[i] - targets[i]) * (outputs[i] - targets[i]);
        return total / outputs.Length;
    }

    /// <summary>mean of −[t·log σ(x) + (1 − t)·log(1 − σ(x))] with σ(x) = 1/(1 + e^−x).</summary>
    public static double BinaryCrossEntropyWithLogits(double[] logits, double[] targets)
    {
        double total = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            double p = 1.0 / (1.0 + Math.Exp(-logits[i]));
            total += -(targets[i] * Math.Log(p) + (1 - targets[i]) * Math.Log(1 - p));
        }
        return total / logits.Length;
    }

    /// <summary>(f(x + h·e_i) − f(x − h·e_i)) / 2h for every i.</summary>
    public static double[] CentralDifferences(Func<double[], double> f, double[] x, double h = 1e-5)
    {
        var gradient = new double[x.Length];
        var probe = (double[])x.Clone();
        for (int i = 0; i < x.Length; i++)
        {
            probe[i] = x[i] + h;
            double plus = f(probe);
            probe[i] = x[i] - h;
            double minus = f(probe);
            probe[i] = x[i];
            gradient[i] = (plus - minus) / (2 * h);
        }
        return gradient;
    }

    /// <summary>
    /// |expected − actual| ≤ relative·max(|expected|, |actual|) + absolute for every element. The absolute floor
    /// covers entries near zero, where a central difference with h = 1e-5 has a rounding error of about
    /// eps·|loss|/h ≈ 1e-10.
    /// </summary>
    public static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double relative, double absolute)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double bound = relative * Math.Max(Math.Abs(expected[i]), Math.Abs(actual[i])) + absolute;
            Assert.True(Math.Abs(expected[i] - actual[i]) <= bound,
                $"element {i}: expected {expected[i]:R}, actual {actual[i]:R} (difference {Math.Abs(expected[i] - actual[i]):E2} > {bound:E2})");
        }
    }

    /// <summary>Standard normal values × <paramref name="scale"/>, seeded.</summary>
    public static double[] Gaussian(int length, double scale, int seed)
    {
        var random = new SeededRandom(seed);
        var values = new double[length];
        for (int i = 0; i < length; i++)
            values[i] = random.NextGaussian() * scale;
        return values;
    }

    /// <summary>Uniform values in [0, 1), seeded.</summary>
    public static double[] Uniform(int length, int seed)
    {
        var random = new SeededRandom(seed);
        var values = new double[length];
        for (int i = 0; i < length; i++)
            values[i] = random.NextDouble();
        return values;
    }

    public static float[] ToFloat(double[] values) => Array.ConvertAll(values, v => (float)v);

    /// <summary>A buffer full of a sentinel, to see that a method overwrites (or leaves alone) every element.</summary>
    public static double[] Filled(int length, double value = 12345.0) => Enumerable.Repeat(value, length).ToArray();
}
