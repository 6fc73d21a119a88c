using static RnnGen.Tests.LossFunctions.LossReference;

namespace RnnGen.Tests.LossFunctions;

public class SoftmaxCrossEntropyTests
{
    private const int Classes = 5;
    // 7 steps; steps 2 and 5 carry no loss.
    private static readonly int[] Targets = [3, 0, -1, 4, 1, -1, 2];
    private static readonly double[] Logits = Gaussian(Targets.Length * Classes, 2.0, seed: 11);

    [Fact]
    public void Loss_matches_naive_reference()
    {
        var gradient = new double[Logits.Length];
        double loss = RnnGen.Losses.SoftmaxCrossEntropy<double>(Logits, Targets, gradient);
        Assert.Equal(SoftmaxCrossEntropy(Logits, Targets), loss, 1e-13);
    }

    [Fact]
    public void Loss_of_uniform_logits_is_log_of_class_count()
    {
        // Every class equally likely: −log(1/C) = log C per counted step, whatever the target.
        var logits = Filled(3 * Classes, 0.7);
        var gradient = new double[logits.Length];
        double loss = RnnGen.Losses.SoftmaxCrossEntropy<double>(logits, [0, 4, 2], gradient);
        Assert.Equal(Math.Log(Classes), loss, 1e-15);
        // (1/C − onehot) / 3 steps.
        Assert.Equal((0.2 - 1) / 3, gradient[0], 1e-15);
        Assert.Equal(0.2 / 3, gradient[1], 1e-15);
    }

    [Fact]
    public void Gradient_matches_central_differences_of_the_reference_loss()
    {
        var gradient = Filled(Logits.Length);
        RnnGen.Losses.SoftmaxCrossEntropy<double>(Logits, Targets, gradient);
        double[] expected = CentralDifferences(x => SoftmaxCrossEntropy(x, Targets), Logits);
        AssertClose(expected, gradient, relative: 1e-7, absolute: 1e-9);
    }

    [Fact]
    public void Ignored_steps_have_zero_gradient_rows_and_do_not_count()
    {
        var gradient = Filled(Logits.Length);
        double loss = RnnGen.Losses.SoftmaxCrossEntropy<double>(Logits, Targets, gradient, out var stats);

        Assert.Equal(5, stats.Counted);
        foreach (int step in new[] { 2, 5 })
            Assert.All(gradient.AsSpan(step * Classes, Classes).ToArray(), g => Assert.Equal(0.0, g));

        // The mean is over the 5 counted steps only: the same as the loss of those steps alone.
        int[] kept = [0, 1, 3, 4, 6];
        double[] keptLogits = kept.SelectMany(s => Logits.Skip(s * Classes).Take(Classes)).ToArray();
        int[] keptTargets = kept.Select(s => Targets[s]).ToArray();
        Assert.Equal(SoftmaxCrossEntropy(keptLogits, keptTargets), loss, 1e-13);
    }

    [Fact]
    public void When_no_step_counts_loss_and_gradient_are_zero()
    {
        var gradient = Filled(3 * Classes);
        double loss = RnnGen.Losses.SoftmaxCrossEntropy<double>(Logits.AsSpan(0, 3 * Classes), [-1, -1, -1], gradient, out var stats);
        Assert.Equal(0.0, loss);
        Assert.All(gradient, g => Assert.Equal(0.0, g));
        Assert.Equal(new ClassificationStats(0, 0), stats);
        Assert.Equal(0.0, stats.Accuracy);
    }

    [Fact]
    public void Stats_count_correct_argmax_predictions()
    {
        var gradient = new double[Logits.Length];
        RnnGen.Losses.SoftmaxCrossEntropy<double>(Logits, Targets, gradient, out var stats);

        int correct = 0, counted = 0;
        for (int t = 0; t < Targets.Length; t++)
        {
            if (Targets[t] == -1) continue;
            counted++;
            double[] row = Logits.Skip(t * Classes).Take(Classes).ToArray();
            if (Array.IndexOf(row, row.Max()) == Targets[t]) correct++;
        }
        Assert.Equal(new ClassificationStats(counted, correct), stats);
        Assert.Equal((double)correct / counted, stats.Accuracy);
    }

    // −0 and +0 are one value, so [−0, +0] has its first maximum at 0, as torch.argmax says (IndexOfMax ranked +0 higher).
    [Fact]
    public void A_tie_between_signed_zeros_goes_to_the_first_index()
    {
        float[] logits = [-0f, 0f, -0f, 0f, 0f, -0f, -1f, -0f];   // rows of two
        RnnGen.Losses.SoftmaxCrossEntropy<float>(logits, [0, 1, 1, 1], new float[8], out var stats);
        // row 0 target 0: correct; row 1 target 1: the maximum is first at 0; row 2 target 1: likewise; row 3 target 1: −0 > −1
        Assert.Equal(new ClassificationStats(4, 2), stats);
    }

    [Fact]
    public void Stats_on_hand_made_rows()
    {
        double[] logits =
        [
            3, 1, 0,    // argmax 0, target 0: correct
            0, 2, 5,    // argmax 2, target 1: wrong
            1, 1, 0,    // tie: the first maximum (0) counts as the prediction, target 0: correct
            9, 0, 0,    // ignored
        ];
        RnnGen.Losses.SoftmaxCrossEntropy<double>(logits, [0, 1, 0, -1], new double[12], out var stats);
        Assert.Equal(new ClassificationStats(3, 2), stats);
        Assert.Equal(2.0 / 3.0, stats.Accuracy, 1e-15);
        Assert.Equal(new ClassificationStats(5, 3), stats + new ClassificationStats(2, 1));
    }

    [Fact]
    public void Huge_logits_give_finite_exact_values()
    {
        double[] logits =
        [
            1000, -1000, 0,       // target 1: loss = 2000 + log(1 + e^−2000 + e^−1000) = 2000
            -1000, -1000, -1000,  // target 2: loss = log 3
            1000, 1000, -1000,    // target 0: loss = log 2
        ];
        int[] targets = [1, 2, 0];
        var gradient = new double[logits.Length];
        double loss = RnnGen.Losses.SoftmaxCrossEntropy<double>(logits, targets, gradient);

        Assert.Equal((2000 + Math.Log(3) + Math.Log(2)) / 3, loss, 1e-12);
        double[] expected =
        [
            1.0 / 3, -1.0 / 3, 0,
            1.0 / 9, 1.0 / 9, (1.0 / 3 - 1) / 3,
            (0.5 - 1) / 3, 0.5 / 3, 0,
        ];
        AssertClose(expected, gradient, relative: 1e-15, absolute: 1e-300);

        var gradientF = new float[logits.Length];
        float lossF = RnnGen.Losses.SoftmaxCrossEntropy<float>(ToFloat(logits), targets, gradientF);
        Assert.True(float.IsFinite(lossF));
        Assert.All(gradientF, g => Assert.True(float.IsFinite(g)));
        Assert.Equal(loss, lossF, 1e-3 * loss);
    }

    [Fact]
    public void Float_agrees_with_double()
    {
        var gradient = new double[Logits.Length];
        double loss = RnnGen.Losses.SoftmaxCrossEntropy<double>(Logits, Targets, gradient, out var stats);
        var gradientF = new float[Logits.Length];
        float lossF = RnnGen.Losses.SoftmaxCrossEntropy<float>(ToFloat(Logits), Targets, gradientF, out var statsF);

        Assert.Equal(loss, lossF, 1e-5 * loss);
        AssertClose(gradient, Array.ConvertAll(gradientF, g => (double)g), relative: 1e-5, absolute: 1e-7);
        Assert.Equal(stats, statsF);
    }

    [Fact]
    public void Gradient_may_replace_the_logits_in_place()
    {
        var separate = new double[Logits.Length];
        double expectedLoss = RnnGen.Losses.SoftmaxCrossEntropy<double>(Logits, Targets, separate, out var expectedStats);

        var buffer = (double[])Logits.Clone();
        double loss = RnnGen.Losses.SoftmaxCrossEntropy<double>(buffer, Targets, buffer, out var stats);

        Assert.Equal(expectedLoss, loss);
        Assert.Equal(expectedStats, stats);
        Assert.Equal(separate, buffer);
    }

    [Fact]
    public void Wrong_lengths_throw_before_writing()
    {
        var gradient = Filled(Logits.Length);

        var e = Assert.Throws<ArgumentException>(() => RnnGen.Losses.SoftmaxCrossEntropy<double>(Logits.AsSpan(0, 34), Targets, gradient));
        Assert.Equal("logits", e.ParamName);
        Assert.Contains("multiple of 7", e.Message);

        e = Assert.Throws<ArgumentException>(() => RnnGen.Losses.SoftmaxCrossEntropy<double>(Logits, Targets, gradient.AsSpan(1)));
        Assert.Equal("gradient", e.ParamName);
        Assert.Contains("expected 35", e.Message);

        e = Assert.Throws<ArgumentException>(() => RnnGen.Losses.SoftmaxCrossEntropy<double>(Logits, [], gradient));
        Assert.Equal("targets", e.ParamName);

        e = Assert.Throws<ArgumentException>(() => RnnGen.Losses.SoftmaxCrossEntropy<double>(default, Targets, default));
        Assert.Equal("logits", e.ParamName);

        Assert.All(gradient, g => Assert.Equal(12345.0, g));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(-2)]
    [InlineData(int.MinValue)]
    public void Target_out_of_range_names_step_and_value_and_writes_nothing(int bad)
    {
        int[] targets = (int[])Targets.Clone();
        targets[6] = bad;   // the last step: earlier steps must not have been written either
        var gradient = Filled(Logits.Length);

        var e = Assert.Throws<ArgumentException>(() => RnnGen.Losses.SoftmaxCrossEntropy<double>(Logits, targets, gradient));
        Assert.Equal("targets", e.ParamName);
        Assert.Contains($"targets[6] is {bad}", e.Message);
        Assert.Contains("[0, 4]", e.Message);
        Assert.All(gradient, g => Assert.Equal(12345.0, g));
    }

    [Fact]
    public void Partially_overlapping_gradient_is_rejected()
    {
        var buffer = new double[Logits.Length + 1];
        Logits.CopyTo(buffer, 0);
        var e = Assert.Throws<ArgumentException>(() =>
            RnnGen.Losses.SoftmaxCrossEntropy<double>(buffer.AsSpan(0, Logits.Length), Targets, buffer.AsSpan(1)));
        Assert.Equal("gradient", e.ParamName);
        Assert.Contains("overlaps", e.Message);
    }

    [Fact]
    public void Allocates_nothing()
    {
        var logits = ToFloat(Logits);
        var gradient = new float[logits.Length];
        Assert.Equal(0, SteadyAllocation.Fewest(() => RnnGen.Losses.SoftmaxCrossEntropy<float>(logits, Targets, gradient, out _)));
    }

    // With the classes stated: the same loss and gradient when the shape fits; the many-to-one mistake (every step's
    // logits, one target) refused, where the overload without classes reads it as one step of 30 classes.
    [Fact]
    public void WithClasses_ChecksTheShape()
    {
        var logits = ToFloat(Logits);
        int classes = logits.Length / Targets.Length;
        var expected = new float[logits.Length];
        var actual = new float[logits.Length];
        float a = RnnGen.Losses.SoftmaxCrossEntropy<float>(logits, Targets, expected);
        float b = RnnGen.Losses.SoftmaxCrossEntropy<float>(logits, Targets, actual, classes);
        Assert.Equal(a, b);
        Assert.Equal(expected, actual);

        var tenSteps = new float[30];
        var e = Assert.Throws<ArgumentException>(() => RnnGen.Losses.SoftmaxCrossEntropy<float>(tenSteps, [2], new float[30], classes: 3));
        Assert.Contains("logits has 10 steps of 3 classes but targets has 1", e.Message);
        Assert.Equal(MathF.Log(30), RnnGen.Losses.SoftmaxCrossEntropy<float>(tenSteps, [2], new float[30]), 5);
        Assert.Throws<ArgumentException>(() => RnnGen.Losses.SoftmaxCrossEntropy<float>(new float[7], [0, 1], new float[7], classes: 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => RnnGen.Losses.SoftmaxCrossEntropy<float>(new float[6], [0, 1], new float[6], classes: 0));
    }
}
