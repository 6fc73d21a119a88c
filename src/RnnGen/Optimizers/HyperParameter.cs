namespace RnnGen;

/// <summary>Checks of optimizer and schedule hyper-parameters, with messages that say what to change.</summary>
internal static class HyperParameter
{
    /// <summary>Throws unless <paramref name="value"/> is finite and at least 0.</summary>
    public static void CheckNonNegative(double value, string name)
    {
        if (!double.IsFinite(value) || value < 0)
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number >= 0.");
    }

    /// <summary>Throws unless <paramref name="value"/> is finite and at least 0, also in <typeparamref name="T"/>, the precision an
    /// optimizer computes in (1e39 is finite as a double, ∞ as a float).</summary>
    public static void CheckNonNegative<T>(double value, string name) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        CheckNonNegative(value, name);
        if (!T.IsFinite(T.CreateTruncating(value)))
            throw new ArgumentOutOfRangeException(name, value,
                $"{name} is {value}, beyond the largest {typeof(T).Name}, the precision the optimizer computes in; lower it.");
    }

    /// <summary>Throws unless <paramref name="value"/> is finite and greater than 0.</summary>
    public static void CheckPositive(double value, string name)
    {
        if (!double.IsFinite(value) || value <= 0)
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number > 0.");
    }

    /// <summary>Throws unless <paramref name="value"/> is in [0, 1].</summary>
    public static void CheckClosedUnitInterval(double value, string name)
    {
        if (!(value >= 0 && value <= 1))
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [0, 1].");
    }

    /// <summary>Throws unless <paramref name="value"/> is in [0, 1).</summary>
    public static void CheckUnitInterval(double value, string name)
    {
        if (!(value >= 0 && value < 1))
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [0, 1).");
    }
}
