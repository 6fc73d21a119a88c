namespace RnnGen.Oracle.Tests;

/// <summary>How far one quantity computed by RnnGen is from libtorch's.</summary>
/// <param name="Quantity">What was compared, e.g. <c>outputs</c>, <c>h_n</c>, <c>∂weight_hh_l1</c>, <c>∂c0</c>.</param>
/// <param name="IsGradient">False for the forward pass (outputs, final state), true for gradients.</param>
/// <param name="Error">‖rnnGen − torch‖₂ / max(‖torch‖₂, tiny).</param>
/// <param name="Tolerance">The largest error accepted for this quantity.</param>
internal readonly record struct Deviation(string Quantity, bool IsGradient, double Error, double Tolerance)
{
    /// <summary>Within tolerance (a NaN error never is).</summary>
    public bool Passed => Error <= Tolerance;

    public override string ToString() => $"{Quantity}: {Error:0.00e+00} (tolerance {Tolerance:0e+00})";
}

/// <summary>Relative errors per tensor, and the tolerances they are held to.</summary>
internal static class OracleComparison
{
    /// <summary>Below this norm a reference tensor counts as zero (the error is then absolute).</summary>
    public const double Tiny = 1e-30;

    /// <summary>
    /// Norm-wise relative tolerances. Float against libtorch float, fixed before measuring: forward 1e-5 and gradients 1e-4,
    /// about 84 and 840 times float's machine epsilon (2⁻²³). Double against libtorch float64: the same multiples of double's
    /// (2⁻⁵²), 2e-14 and 2e-13 (they were 1e-11 and 1e-10 until the errors had been measured on every cell kind: at most
    /// 5.5e-16 forward and 1.3e-15 for gradients, so a bug that costs double precision its last four digits now fails).
    /// </summary>
    public static (double Forward, double Gradient) Tolerances(Precision precision) =>
        precision == Precision.Single ? (1e-5, 1e-4) : (2e-14, 2e-13);

    /// <summary>‖actual − expected‖₂ / max(‖expected‖₂, <see cref="Tiny"/>); NaN when the lengths differ or a value is NaN.</summary>
    public static double RelativeError(ReadOnlySpan<double> actual, ReadOnlySpan<double> expected)
    {
        if (actual.Length != expected.Length) return double.NaN;
        double difference = 0, reference = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = actual[i] - expected[i];
            difference += d * d;
            reference += expected[i] * expected[i];
        }
        return Math.Sqrt(difference) / Math.Max(Math.Sqrt(reference), Tiny);
    }

    /// <summary>Every quantity of <paramref name="rnnGen"/> against <paramref name="torch"/>, one deviation per tensor.</summary>
    public static List<Deviation> Compare(OracleProblem problem, OracleResult rnnGen, OracleResult torch)
    {
        ModelInfo info = problem.Info;
        var (forward, gradient) = Tolerances(info.Precision);
        int block = info.LayerCount * info.HiddenSize; // h (or c) of every layer
        var deviations = new List<Deviation>();
        void Add(string quantity, bool isGradient, ReadOnlySpan<double> actual, ReadOnlySpan<double> expected) =>
            deviations.Add(new Deviation(quantity, isGradient, RelativeError(actual, expected), isGradient ? gradient : forward));

        Add("outputs", false, rnnGen.Outputs, torch.Outputs);
        Add("h_n", false, rnnGen.FinalState.AsSpan(0, block), torch.FinalState.AsSpan(0, block));
        if (info.HasCellState)
            Add("c_n", false, rnnGen.FinalState.AsSpan(block), torch.FinalState.AsSpan(block));

        foreach (ParameterTensor tensor in info.Layout)
            Add("∂" + tensor.Name, true, tensor.Slice(rnnGen.ParameterGradients.AsSpan()), tensor.Slice(torch.ParameterGradients.AsSpan()));
        if (!info.Tokens)
            Add("∂input", true, rnnGen.InputGradients, torch.InputGradients);
        Add("∂h0", true, rnnGen.InitialStateGradient.AsSpan(0, block), torch.InitialStateGradient.AsSpan(0, block));
        if (info.HasCellState)
            Add("∂c0", true, rnnGen.InitialStateGradient.AsSpan(block), torch.InitialStateGradient.AsSpan(block));
        return deviations;
    }
}
