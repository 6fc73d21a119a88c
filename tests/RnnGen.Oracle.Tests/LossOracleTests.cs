using TorchSharp;
using static TorchSharp.torch;

namespace RnnGen.Oracle.Tests;

/// <summary>
/// The runtime's losses against libtorch's (<c>cross_entropy</c> with <c>ignore_index = −1</c>, <c>mse_loss</c>,
/// <c>binary_cross_entropy_with_logits</c>, each the mean): the loss and, through autograd, its gradient, in double, on
/// logits large enough to need the stable forms, and on infinite logits, where both engines give the same NaNs.
/// </summary>
public class LossOracleTests
{
    private const double Tolerance = 1e-12;

    [Theory]
    [InlineData(1.0)]
    [InlineData(40.0)] // exp would overflow float's range without the stable form; double's needs more, but the form is the same
    public void SoftmaxCrossEntropy_MatchesLibTorch(double scale)
    {
        TorchRuntime.EnsureReady();
        const int steps = 23, classes = 7;
        double[] logits = Random(steps * classes, seed: 3, scale);
        int[] targets = new int[steps];
        var random = new Random(4);
        for (int t = 0; t < steps; t++)
            targets[t] = t % 5 == 2 ? Losses.IgnoreTarget : random.Next(classes);
        var gradient = new double[logits.Length];
        double loss = Losses.SoftmaxCrossEntropy<double>(logits, targets, gradient, classes);

        var (torchLoss, torchGradient) = Torch(logits, [steps, classes],
            x => nn.functional.cross_entropy(x, tensor(targets.Select(c => (long)c).ToArray()), ignore_index: -1));
        AssertClose(torchLoss, loss);
        AssertClose(torchGradient, gradient);
    }

    [Fact]
    public void MeanSquaredError_MatchesLibTorch()
    {
        TorchRuntime.EnsureReady();
        double[] outputs = Random(60, seed: 5, 3.0), targets = Random(60, seed: 6, 3.0);
        var gradient = new double[outputs.Length];
        double loss = Losses.MeanSquaredError<double>(outputs, targets, gradient);

        var (torchLoss, torchGradient) = Torch(outputs, [60], x => nn.functional.mse_loss(x, tensor(targets)));
        AssertClose(torchLoss, loss);
        AssertClose(torchGradient, gradient);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(800.0)] // e^800 overflows double: only the stable form survives
    public void BinaryCrossEntropyWithLogits_MatchesLibTorch(double scale)
    {
        TorchRuntime.EnsureReady();
        double[] logits = Random(50, seed: 7, scale);
        var random = new Random(8);
        double[] targets = [.. Enumerable.Range(0, 50).Select(i => i % 3 == 0 ? random.NextDouble() : i % 2)];
        var gradient = new double[logits.Length];
        double loss = Losses.BinaryCrossEntropyWithLogits<double>(logits, targets, gradient);

        var (torchLoss, torchGradient) = Torch(logits, [50], x => nn.functional.binary_cross_entropy_with_logits(x, tensor(targets)));
        AssertClose(torchLoss, loss);
        AssertClose(torchGradient, gradient);
    }

    // Infinite logits: libtorch's losses are NaN (∞ − ∞ in the log-sum-exp; ∞·0 or −∞ + ∞ in its BCE form) or ∞ (x = +∞, t = 0),
    // and so are RnnGen's, as its docs say; the gradients agree element by element (NaN where libtorch's is, else the same values).
    [Theory]
    [InlineData(double.PositiveInfinity, 1.0)]
    [InlineData(double.NegativeInfinity, 0.0)]
    [InlineData(double.PositiveInfinity, 0.0)]
    public void InfiniteLogits_GiveLibTorchsResults(double logit, double target)
    {
        TorchRuntime.EnsureReady();
        double[] logits = [0.5, logit, -1.0];
        double[] targets = [1.0, target, 0.0];
        var gradient = new double[3];
        double loss = Losses.BinaryCrossEntropyWithLogits<double>(logits, targets, gradient);
        var (torchLoss, torchGradient) = Torch(logits, [3], x => nn.functional.binary_cross_entropy_with_logits(x, tensor(targets)));
        AssertClose(torchLoss, loss);
        AssertClose(torchGradient, gradient);

        double[] rows = [0.5, logit, -1.0, 2.0, 0.0, 1.0];
        int[] classes = [1, 2];
        var rowGradient = new double[rows.Length];
        double crossEntropy = Losses.SoftmaxCrossEntropy<double>(rows, classes, rowGradient, 3);
        var (torchCrossEntropy, torchRowGradient) = Torch(rows, [2, 3], x => nn.functional.cross_entropy(x, tensor(new long[] { 1, 2 })));
        AssertClose(torchCrossEntropy, crossEntropy);
        AssertClose(torchRowGradient, rowGradient);
    }

    private static (double Loss, double[] Gradient) Torch(double[] values, long[] shape, Func<Tensor, Tensor> loss)
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(values, shape).requires_grad_(true);
        Tensor l = loss(x);
        l.backward();
        return (l.item<double>(), x.grad!.data<double>().ToArray());
    }

    private static double[] Random(int length, int seed, double scale)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, length).Select(_ => (2 * random.NextDouble() - 1) * scale)];
    }

    private static void AssertClose(double expected, double actual)
    {
        if (!double.IsFinite(expected))
            Assert.True(expected.Equals(actual), $"libtorch {expected}, RnnGen {actual}");
        else
            Assert.True(Math.Abs(actual - expected) <= Tolerance * Math.Max(1, Math.Abs(expected)), $"libtorch {expected:R}, RnnGen {actual:R}");
    }

    private static void AssertClose(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            AssertClose(expected[i], actual[i]);
    }
}
