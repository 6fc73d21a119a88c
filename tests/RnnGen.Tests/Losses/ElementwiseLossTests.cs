using static RnnGen.Tests.LossFunctions.LossReference;

namespace RnnGen.Tests.LossFunctions;

public class MeanSquaredErrorTests
{
    private static readonly double[] Outputs = Gaussian(24, 1.5, seed: 21);
    private static readonly double[] Targets = Gaussian(24, 1.0, seed: 22);

    [Fact]
    public void Loss_matches_naive_reference()
    {
        var gradient = new double[Outputs.Length];
        double loss = RnnGen.Losses.MeanSquaredError<double>(Outputs, Targets, gradient);
        Assert.Equal(MeanSquaredError(Outputs, Targets), loss, 1e-14);
    }

    [Fact]
    public void Hand_computed_example()
    {
        // ((1−0)² + (−2−1)² + (0.5−0.5)² + (4−2)²) / 4 = (1 + 9 + 0 + 4) / 4 = 3.5; gradient 2(y − t)/4.
        var gradient = Filled(4);
        double loss = RnnGen.Losses.MeanSquaredError<double>([1, -2, 0.5, 4], [0, 1, 0.5, 2], gradient);
        Assert.Equal(3.5, loss);
        Assert.Equal([0.5, -1.5, 0, 1], gradient);
    }

    [Fact]
    public void Gradient_matches_central_differences_of_the_reference_loss()
    {
        var gradient = Filled(Outputs.Length);
        RnnGen.Losses.MeanSquaredError<double>(Outputs, Targets, gradient);
        double[] expected = CentralDifferences(y => MeanSquaredError(y, Targets), Outputs);
        AssertClose(expected, gradient, relative: 1e-7, absolute: 1e-9);
    }

    [Fact]
    public void Float_agrees_with_double()
    {
        var gradient = new double[Outputs.Length];
        double loss = RnnGen.Losses.MeanSquaredError<double>(Outputs, Targets, gradient);
        var gradientF = new float[Outputs.Length];
        float lossF = RnnGen.Losses.MeanSquaredError<float>(ToFloat(Outputs), ToFloat(Targets), gradientF);
        Assert.Equal(loss, lossF, 1e-5 * loss);
        AssertClose(gradient, Array.ConvertAll(gradientF, g => (double)g), relative: 1e-5, absolute: 1e-7);
    }

    [Fact]
    public void Gradient_may_replace_outputs_or_targets_in_place()
    {
        var separate = new double[Outputs.Length];
        double expected = RnnGen.Losses.MeanSquaredError<double>(Outputs, Targets, separate);

        var outputs = (double[])Outputs.Clone();
        Assert.Equal(expected, RnnGen.Losses.MeanSquaredError<double>(outputs, Targets, outputs));
        Assert.Equal(separate, outputs);

        var targets = (double[])Targets.Clone();
        Assert.Equal(expected, RnnGen.Losses.MeanSquaredError<double>(Outputs, targets, targets));
        Assert.Equal(separate, targets);
    }

    [Fact]
    public void Bad_arguments_throw_before_writing()
    {
        var gradient = Filled(Outputs.Length);

        var e = Assert.Throws<ArgumentException>(() => RnnGen.Losses.MeanSquaredError<double>(Outputs, Targets.AsSpan(1), gradient));
        Assert.Equal("targets", e.ParamName);
        Assert.Contains("expected 24", e.Message);

        e = Assert.Throws<ArgumentException>(() => RnnGen.Losses.MeanSquaredError<double>(Outputs, Targets, gradient.AsSpan(0, 23)));
        Assert.Equal("gradient", e.ParamName);
        Assert.Contains("expected 24", e.Message);

        e = Assert.Throws<ArgumentException>(() => RnnGen.Losses.MeanSquaredError<double>(default, default, default));
        Assert.Equal("outputs", e.ParamName);

        var shared = new double[25];
        e = Assert.Throws<ArgumentException>(() => RnnGen.Losses.MeanSquaredError<double>(Outputs, shared.AsSpan(0, 24), shared.AsSpan(1)));
        Assert.Equal("gradient", e.ParamName);

        Assert.All(gradient, g => Assert.Equal(12345.0, g));
    }

    [Fact]
    public void Allocates_nothing()
    {
        var outputs = ToFloat(Outputs);
        var targets = ToFloat(Targets);
        var gradient = new float[outputs.Length];
        Assert.Equal(0, SteadyAllocation.Fewest(() => RnnGen.Losses.MeanSquaredError<float>(outputs, targets, gradient)));
    }
}

public class BinaryCrossEntropyWithLogitsTests
{
    private static readonly double[] Logits = Gaussian(24, 2.0, seed: 31);
    private static readonly double[] SoftTargets = Uniform(24, seed: 32);
    private static readonly double[] HardTargets = Array.ConvertAll(Uniform(24, seed: 33), u => u < 0.5 ? 0.0 : 1.0);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Loss_matches_naive_reference(bool soft)
    {
        double[] targets = soft ? SoftTargets : HardTargets;
        var gradient = new double[Logits.Length];
        double loss = RnnGen.Losses.BinaryCrossEntropyWithLogits<double>(Logits, targets, gradient);
        Assert.Equal(BinaryCrossEntropyWithLogits(Logits, targets), loss, 1e-13);
    }

    [Fact]
    public void Hand_computed_example()
    {
        // x = 0, t = 1: log 2.   x = 2, t = 0.25: 2 − 0.5 + log(1 + e^−2).
        var gradient = new double[2];
        double loss = RnnGen.Losses.BinaryCrossEntropyWithLogits<double>([0, 2], [1, 0.25], gradient);
        Assert.Equal((Math.Log(2) + 1.5 + Math.Log(1 + Math.Exp(-2))) / 2, loss, 1e-15);
        Assert.Equal((0.5 - 1) / 2, gradient[0], 1e-16);
        Assert.Equal((1 / (1 + Math.Exp(-2)) - 0.25) / 2, gradient[1], 1e-16);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Gradient_matches_central_differences_of_the_reference_loss(bool soft)
    {
        double[] targets = soft ? SoftTargets : HardTargets;
        var gradient = Filled(Logits.Length);
        RnnGen.Losses.BinaryCrossEntropyWithLogits<double>(Logits, targets, gradient);
        double[] expected = CentralDifferences(x => BinaryCrossEntropyWithLogits(x, targets), Logits);
        AssertClose(expected, gradient, relative: 1e-7, absolute: 1e-9);
    }

    [Fact]
    public void Huge_logits_give_finite_exact_values()
    {
        // Per element: max(x,0) − x·t + log(1 + e^−|x|) = 0, 1000, 0, 1000; σ(x) − t = 0, 1, 0, −1.
        double[] logits = [1000, 1000, -1000, -1000];
        double[] targets = [1, 0, 0, 1];
        var gradient = new double[4];
        double loss = RnnGen.Losses.BinaryCrossEntropyWithLogits<double>(logits, targets, gradient);
        Assert.Equal(500.0, loss);
        Assert.Equal([0, 0.25, 0, -0.25], gradient);

        var gradientF = new float[4];
        float lossF = RnnGen.Losses.BinaryCrossEntropyWithLogits<float>(ToFloat(logits), ToFloat(targets), gradientF);
        Assert.Equal(500f, lossF);
        Assert.Equal([0f, 0.25f, 0f, -0.25f], gradientF);
    }

    [Fact]
    public void Tiny_losses_keep_their_relative_precision()
    {
        // x = −40, t = 0: the loss is log(1 + e^−40) = e^−40 − e^−80/2 + … ≈ 4.25e−18, which a plain
        // log(1 + e^−40) would round to 0.
        var gradient = new double[1];
        double loss = RnnGen.Losses.BinaryCrossEntropyWithLogits<double>([-40], [0], gradient);
        double expected = Math.Exp(-40) - Math.Exp(-80) / 2;
        Assert.Equal(expected, loss, 1e-15 * expected);
        Assert.Equal(1 / (1 + Math.Exp(40)), gradient[0], 1e-15 * gradient[0]);
    }

    [Fact]
    public void Float_agrees_with_double()
    {
        var gradient = new double[Logits.Length];
        double loss = RnnGen.Losses.BinaryCrossEntropyWithLogits<double>(Logits, SoftTargets, gradient);
        var gradientF = new float[Logits.Length];
        float lossF = RnnGen.Losses.BinaryCrossEntropyWithLogits<float>(ToFloat(Logits), ToFloat(SoftTargets), gradientF);
        Assert.Equal(loss, lossF, 1e-5 * loss);
        AssertClose(gradient, Array.ConvertAll(gradientF, g => (double)g), relative: 1e-5, absolute: 1e-7);
    }

    [Fact]
    public void Gradient_may_replace_the_logits_in_place()
    {
        var separate = new double[Logits.Length];
        double expected = RnnGen.Losses.BinaryCrossEntropyWithLogits<double>(Logits, SoftTargets, separate);
        var buffer = (double[])Logits.Clone();
        Assert.Equal(expected, RnnGen.Losses.BinaryCrossEntropyWithLogits<double>(buffer, SoftTargets, buffer));
        Assert.Equal(separate, buffer);
    }

    [Theory]
    [InlineData(-0.01)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void Target_outside_0_1_names_index_and_writes_nothing(double bad)
    {
        double[] targets = (double[])SoftTargets.Clone();
        targets[17] = bad;
        var gradient = Filled(Logits.Length);
        var e = Assert.Throws<ArgumentException>(() => RnnGen.Losses.BinaryCrossEntropyWithLogits<double>(Logits, targets, gradient));
        Assert.Equal("targets", e.ParamName);
        Assert.Contains("targets[17]", e.Message);
        Assert.All(gradient, g => Assert.Equal(12345.0, g));
    }

    [Fact]
    public void Wrong_lengths_throw_before_writing()
    {
        var gradient = Filled(Logits.Length);
        var e = Assert.Throws<ArgumentException>(() => RnnGen.Losses.BinaryCrossEntropyWithLogits<double>(Logits, SoftTargets.AsSpan(2), gradient));
        Assert.Equal("targets", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => RnnGen.Losses.BinaryCrossEntropyWithLogits<double>(Logits, SoftTargets, gradient.AsSpan(2)));
        Assert.Equal("gradient", e.ParamName);
        Assert.Contains("expected 24 (the length of logits)", e.Message);
        e = Assert.Throws<ArgumentException>(() => RnnGen.Losses.BinaryCrossEntropyWithLogits<double>(default, default, default));
        Assert.Equal("logits", e.ParamName);
        Assert.All(gradient, g => Assert.Equal(12345.0, g));
    }

    [Fact]
    public void Allocates_nothing()
    {
        var logits = ToFloat(Logits);
        var targets = ToFloat(SoftTargets);
        var gradient = new float[logits.Length];
        Assert.Equal(0, SteadyAllocation.Fewest(() => RnnGen.Losses.BinaryCrossEntropyWithLogits<float>(logits, targets, gradient)));
    }
}
