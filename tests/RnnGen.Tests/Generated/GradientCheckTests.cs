using RnnGen.Tests.Models;
using Xunit.Abstractions;

namespace RnnGen.Tests.Generated;

/// <summary>
/// Backward against central finite differences in double precision, for every parameter tensor, the inputs and the
/// initial state. The loss is L = Σ outputs ⊙ R + Σ finalState ⊙ S with random R and S, so the output gradients and
/// the gradient arriving at the final state are both exercised.
/// </summary>
public class GradientCheckTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-6;

    [Fact] public void Lstm_3Layers_Odd() => Check<LstmD3x5>(steps: 7);
    [Fact] public void Lstm_Head() => Check<LstmD2x6Head>(steps: 6);
    [Fact] public void Lstm_Tokens_Head() => Check<LstmDTokens>(steps: 9);
    [Fact] public void Lstm_OneStep() => Check<LstmD2x6Head>(steps: 1);
    [Fact] public void Gru_3Layers_Odd() => Check<GruD3x5>(steps: 7);
    [Fact] public void Gru_Tokens_Head() => Check<GruDTokens>(steps: 8);
    [Fact] public void RnnTanh_3Layers_Odd() => Check<RnnTanhD3x5>(steps: 7);
    [Fact] public void RnnRelu_Head() => Check<RnnReluD2x5>(steps: 6);
    [Fact] public void RnnTanh_Tokens() => Check<RnnTanhDTokens>(steps: 5);

    private void Check<TModel>(int steps) where TModel : class, IRecurrentModel<TModel, double>
    {
        var info = TModel.Info;
        var model = Harness.NewModel<TModel, double>(seed: 11, scale: 2.5);
        var inputs = info.Tokens ? [] : Harness.Random<double>(steps * info.InputSize, seed: 12);
        var tokens = info.Tokens ? Harness.RandomTokens(steps, info.InputSize, seed: 13) : [];
        var initial = model.CreateState();
        Harness.Random<double>(info.StateSize, seed: 14, scale: 0.8).CopyTo(initial.Values);
        var r = Harness.Random<double>(steps * info.OutputWidth, seed: 15);
        var s = Harness.Random<double>(info.StateSize, seed: 16);

        double Loss()
        {
            var final = model.CreateState();
            var outputs = Harness.Run(model, inputs, tokens, steps, initial, final);
            return Harness.Dot(outputs, r) + Harness.Dot(final.Values, s);
        }

        // analytic gradients
        var finalState = model.CreateState();
        var tape = model.CreateTape(steps);
        Harness.Run(model, inputs, tokens, steps, initial, finalState, tape);
        model.Gradients.Clear();
        var inputGradients = new double[inputs.Length];
        var stateGradient = model.CreateState();
        s.CopyTo(stateGradient.Values);
        model.Backward(tape, r, inputGradients, stateGradient);
        var parameterGradients = model.Gradients.ToArray();

        // numeric gradients
        double[] Numeric(Span<double> values, Action? changed = null)
        {
            const double h = 1e-5;
            var result = new double[values.Length];
            for (int i = 0; i < values.Length; i++)
            {
                double keep = values[i];
                values[i] = keep + h; changed?.Invoke();
                double up = Loss();
                values[i] = keep - h; changed?.Invoke();
                double down = Loss();
                values[i] = keep; changed?.Invoke();
                result[i] = (up - down) / (2 * h);
            }
            return result;
        }

        var numericParameters = Numeric(model.Parameters, model.ParametersChanged);
        foreach (var tensor in info.Layout)
        {
            double error = Harness.RelativeError(tensor.Slice<double>(parameterGradients), tensor.Slice<double>(numericParameters));
            output.WriteLine($"{tensor.Name,-14} relative error {error:E2}");
            Assert.True(error <= Tolerance, $"{typeof(TModel).Name} {tensor.Name}: relative error {error:E3} > {Tolerance:E0}");
            Assert.True(tensor.Slice<double>(numericParameters).ToArray().Any(v => v != 0) || tensor.Name.StartsWith("weight_ih_l0") && info.Tokens,
                $"{tensor.Name}: the numeric gradient is all zeros, so the check would prove nothing");
        }

        var numericInitial = Numeric(initial.Values);
        double stateError = Harness.RelativeError(stateGradient.Values, numericInitial);
        output.WriteLine($"initial state  relative error {stateError:E2}");
        Assert.True(stateError <= Tolerance, $"initial state: relative error {stateError:E3}");

        if (!info.Tokens)
        {
            var numericInputs = Numeric(inputs);
            double inputError = Harness.RelativeError(inputGradients, numericInputs);
            output.WriteLine($"inputs         relative error {inputError:E2}");
            Assert.True(inputError <= Tolerance, $"inputs: relative error {inputError:E3}");
        }
    }
}
