using System.Numerics;

namespace RnnGen.Tests.Generated;

/// <summary>Model-agnostic helpers for the numerical tests, written against IRecurrentModel.</summary>
internal static class Harness
{
    /// <summary>Uniform values in [-scale, scale] from a seed.</summary>
    public static T[] Random<T>(int length, int seed, double scale = 1.0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new SeededRandom(seed);
        var values = new T[length];
        for (int i = 0; i < values.Length; i++)
            values[i] = T.CreateTruncating((rng.NextDouble() * 2 - 1) * scale);
        return values;
    }

    public static int[] RandomTokens(int length, int vocabulary, int seed)
    {
        var rng = new SeededRandom(seed);
        var tokens = new int[length];
        for (int i = 0; i < tokens.Length; i++)
            tokens[i] = rng.NextInt(vocabulary);
        return tokens;
    }

    /// <summary>A model with seeded parameters scaled by <paramref name="scale"/> (larger scales exercise the nonlinearities).</summary>
    public static TModel NewModel<TModel, T>(int seed, double scale = 1.0)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var model = TModel.Create();
        model.InitializeParameters(seed);
        if (scale != 1.0)
        {
            var p = model.Parameters;
            for (int i = 0; i < p.Length; i++) p[i] *= T.CreateTruncating(scale);
            model.ParametersChanged();
        }
        return model;
    }

    /// <summary>Runs Forward over <paramref name="steps"/> steps of the given inputs from a copy of <paramref name="initial"/>.</summary>
    public static T[] Run<TModel, T>(TModel model, ReadOnlySpan<T> inputs, ReadOnlySpan<int> tokens, int steps, RecurrentState<T> initial, RecurrentState<T> final, RecurrentTape? tape = null)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var outputs = new T[steps * TModel.Info.OutputWidth];
        initial.CopyTo(final);
        tape ??= model.CreateTape(steps);
        if (TModel.Info.Tokens)
            model.Forward(tokens, final, tape, outputs);
        else
            model.Forward(inputs, final, tape, outputs);
        return outputs;
    }

    /// <summary>‖a − b‖ / max(‖a‖, ‖b‖, tiny): a norm-wise relative error.</summary>
    public static double RelativeError(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        Assert.Equal(a.Length, b.Length);
        double diff = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            diff += (a[i] - b[i]) * (a[i] - b[i]);
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return Math.Sqrt(diff) / Math.Max(Math.Max(Math.Sqrt(na), Math.Sqrt(nb)), 1e-30);
    }

    public static double[] ToDouble<T>(ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = double.CreateTruncating(values[i]);
        return result;
    }

    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}
