using RnnGen;

namespace Forecast;

/// <summary>The generated time series: two seasonal cycles, a slow trend and noise.</summary>
public static class Series
{
    /// <summary>Period of the slow cycle, in steps.</summary>
    public const double LongPeriod = 60;

    /// <summary>Period of the fast cycle, in steps.</summary>
    public const double ShortPeriod = 11;

    /// <summary>
    /// x(t) = sin(2πt/60) + 0.5·sin(2πt/11 + 1) + 0.0005·t + ε, ε ~ N(0, <paramref name="noise"/>²), seeded. The trend
    /// carries the series out of the range seen in training by the end, which is why the model works on differences.
    /// </summary>
    public static double[] Generate(int length, double noise, long seed)
    {
        var random = new SeededRandom(seed);
        var x = new double[length];
        for (int t = 0; t < length; t++)
            x[t] = Math.Sin(2 * Math.PI * t / LongPeriod) + 0.5 * Math.Sin(2 * Math.PI * t / ShortPeriod + 1)
                   + 0.0005 * t + noise * random.NextGaussian();
        return x;
    }
}
