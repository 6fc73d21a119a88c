using RnnGen.Tests.Models;
using static RnnGen.Tests.LossFunctions.LossReference;

namespace RnnGen.Tests.LossFunctions;

/// <summary>
/// The loss gradients are what a generated model's Backward expects: Forward, loss, Backward gives dLoss/dParameters
/// equal to central differences of the reference loss of the whole model.
/// </summary>
public class LossWithModelTests
{
    private const int Steps = 6;

    /// <summary>
    /// Runs Forward (on <paramref name="tokens"/> or dense <paramref name="inputs"/>) from a zero state, the loss and
    /// Backward, then compares <c>Gradients</c> with central differences of <paramref name="reference"/>(Forward
    /// outputs) for every 7th parameter.
    /// </summary>
    private static void CheckParameterGradients<TModel>(
        int[]? tokens,
        double[]? inputs,
        Func<double[], double[], double> loss,
        Func<double[], double> reference)
        where TModel : class, IRecurrentModel<TModel, double>
    {
        TModel model = TModel.Create();
        model.InitializeParameters(5);
        int width = TModel.Info.OutputWidth;

        void Forward(RecurrentState<double> state, RecurrentTape tape, double[] outputs)
        {
            if (tokens is not null) model.Forward(tokens, state, tape, outputs);
            else model.Forward(inputs, state, tape, outputs);
        }

        double[] Outputs()
        {
            var outputs = new double[Steps * width];
            Forward(model.CreateState(), model.CreateTape(Steps), outputs);
            return outputs;
        }

        var tape = model.CreateTape(Steps);
        var outputs = new double[Steps * width];
        Forward(model.CreateState(), tape, outputs);
        var outputGradients = new double[outputs.Length];
        double value = loss(outputs, outputGradients);
        Assert.Equal(reference(outputs), value, 1e-13);
        model.Gradients.Clear();
        model.Backward(tape, outputGradients, default, null);

        var indices = Enumerable.Range(0, TModel.Info.ParameterCount).Where(i => i % 7 == 0).ToArray();
        var expected = new double[indices.Length];
        var actual = new double[indices.Length];
        const double h = 1e-5;
        for (int j = 0; j < indices.Length; j++)
        {
            int i = indices[j];
            double saved = model.Parameters[i];
            model.Parameters[i] = saved + h;
            model.ParametersChanged();
            double plus = reference(Outputs());
            model.Parameters[i] = saved - h;
            model.ParametersChanged();
            double minus = reference(Outputs());
            model.Parameters[i] = saved;
            model.ParametersChanged();
            expected[j] = (plus - minus) / (2 * h);
            actual[j] = model.Gradients[i];
        }
        Assert.Contains(actual, g => Math.Abs(g) > 1e-3);   // the comparison is not all zeros
        AssertClose(expected, actual, relative: 1e-7, absolute: 1e-9);
    }

    [Fact]
    public void Softmax_cross_entropy_drives_a_token_model()
    {
        int[] tokens = [3, 1, 4, 1, 5, 9];
        int[] targets = [1, 4, -1, 5, 9, 2];
        CheckParameterGradients<LstmDTokens>(
            tokens, null,
            (o, g) => RnnGen.Losses.SoftmaxCrossEntropy<double>(o, targets, g),
            o => SoftmaxCrossEntropy(o, targets));
    }

    [Fact]
    public void Mean_squared_error_drives_a_dense_model()
    {
        double[] inputs = Gaussian(Steps * LstmD2x6Head.InputSize, 1.0, seed: 41);
        double[] targets = Gaussian(Steps * LstmD2x6Head.OutputWidth, 1.0, seed: 42);
        CheckParameterGradients<LstmD2x6Head>(
            null, inputs,
            (o, g) => RnnGen.Losses.MeanSquaredError<double>(o, targets, g),
            o => MeanSquaredError(o, targets));
    }

    [Fact]
    public void Binary_cross_entropy_drives_a_dense_model()
    {
        double[] inputs = Gaussian(Steps * LstmD2x6Head.InputSize, 1.0, seed: 43);
        double[] targets = Uniform(Steps * LstmD2x6Head.OutputWidth, seed: 44);
        CheckParameterGradients<LstmD2x6Head>(
            null, inputs,
            (o, g) => RnnGen.Losses.BinaryCrossEntropyWithLogits<double>(o, targets, g),
            o => BinaryCrossEntropyWithLogits(o, targets));
    }
}
