using System.Numerics;

namespace RnnGen;

/// <summary>Deterministic parameter initialisation used by generated models.</summary>
public static class ParameterInit
{
    /// <summary>
    /// Fills <paramref name="values"/> with U(−bound, bound) from a <see cref="SeededRandom"/> seeded with
    /// <paramref name="seed"/>: the same seed gives the same parameters on every machine. Writing a model's
    /// <c>Parameters</c> this way needs <c>ParametersChanged()</c> afterwards (<c>InitializeParameters</c> calls it).
    /// </summary>
    /// <param name="values">The values to overwrite.</param>
    /// <param name="bound">Half the width of the interval, finite and ≥ 0 (PyTorch's RNNs use 1/√hidden).</param>
    /// <param name="seed">Seed of the <see cref="SeededRandom"/> sequence.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bound"/> is negative, infinite or NaN (nothing is written).</exception>
    public static void Uniform<T>(Span<T> values, double bound, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!(bound >= 0 && double.IsFinite(bound)))
            throw new ArgumentOutOfRangeException(nameof(bound), bound, "bound must be finite and >= 0: the values are drawn from U(-bound, bound).");
        var rng = new SeededRandom(seed);
        for (int i = 0; i < values.Length; i++)
            values[i] = T.CreateTruncating((rng.NextDouble() * 2.0 - 1.0) * bound);
    }
}
