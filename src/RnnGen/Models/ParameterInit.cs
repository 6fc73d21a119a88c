using System.Numerics;

namespace RnnGen;

/// <summary>Deterministic parameter initialisation used by generated models.</summary>
public static class ParameterInit
{
    /// <summary>
    /// Fills <paramref name="values"/> with U(−bound, bound) from a <see cref="SeededRandom"/> seeded with
    /// <paramref name="seed"/>: the same seed gives the same parameters on every machine.
    /// </summary>
    public static void Uniform<T>(Span<T> values, double bound, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new SeededRandom(seed);
        for (int i = 0; i < values.Length; i++)
            values[i] = T.CreateTruncating((rng.NextDouble() * 2.0 - 1.0) * bound);
    }
}
