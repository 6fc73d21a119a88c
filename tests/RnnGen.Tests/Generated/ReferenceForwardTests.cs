using System.Numerics;
using RnnGen.Tests.Models;

namespace RnnGen.Tests.Generated;

/// <summary>
/// Step and Forward of float and double models against <see cref="NaiveReference"/> (double, from the equations), from a random
/// non-zero initial state; and Step repeated T times against one Forward over T steps (equal to float rounding: they sum the
/// gates' pre-activations in different orders).
/// </summary>
public class ReferenceForwardTests
{
    private const double Tolerance = 1e-5;

    [Fact] public void Lstm_3Layers() => Check<LstmF3x5>(steps: 9);
    [Fact] public void Lstm_Head() => Check<LstmF2x6Head>(steps: 12);
    [Fact] public void Lstm_Tokens() => Check<LstmFTokens>(steps: 10);
    [Fact] public void Lstm_Wide() => Check<LstmF33>(steps: 20);
    [Fact] public void Lstm_WideTokens() => Check<LstmF48Tokens>(steps: 20);
    [Fact] public void Gru_Wide() => Check<GruF40>(steps: 20);
    [Fact] public void Gru_3Layers() => Check<GruF3x5>(steps: 9);
    [Fact] public void Gru_Tokens() => Check<GruFTokens>(steps: 10);
    [Fact] public void RnnTanh_3Layers() => Check<RnnTanhF3x5>(steps: 9);
    [Fact] public void RnnRelu_Head() => Check<RnnReluF2x5>(steps: 9);
    [Fact] public void Lstm_AboveTheInPlaceStepSize() => Check<LstmFLarge>(steps: 8);
    [Fact] public void Gru_AboveTheInPlaceStepSize() => Check<GruFLarge>(steps: 8);
    [Fact] public void RnnTanh_MinCharRnnSizes() => Check<RnnFChars>(steps: 25);
    [Fact] public void Lstm_AtTheInPlaceStepSize() => Check<LstmF64>(steps: 8);
    [Fact] public void Lstm_AboveTheInPlaceStepSize_PartialVector_NoHead() => Check<LstmF100>(steps: 8);
    [Fact] public void RnnDouble_AboveTheInPlaceStepSize() => CheckDouble<RnnDChunked>(steps: 8);
    [Fact] public void LstmDouble_TwoLayers_AboveTheInPlaceStepSize() => CheckDouble<LstmD96x2>(steps: 8);
    [Fact] public void GruDouble_AboveTheInPlaceStepSize() => CheckDouble<GruD112>(steps: 8);
    [Fact] public void LstmDouble_InPlace() => CheckDouble<LstmD24>(steps: 8);

    // Without a head the output may be the state's own top h (Step writes it in place): the same bits as into a buffer apart.
    [Fact]
    public void Step_IntoTheStatesOwnTopHidden_GivesTheBitsOfAnOutputApart()
    {
        var model = Harness.NewModel<LstmF100, float>(seed: 7, scale: 1.5);
        float[] inputs = Harness.Random<float>(5 * LstmF100.InputSize, seed: 8);
        var apart = new LstmF100.State();
        var own = new LstmF100.State();
        var output = new float[LstmF100.OutputWidth];
        for (int t = 0; t < 5; t++)
        {
            ReadOnlySpan<float> x = inputs.AsSpan(t * LstmF100.InputSize, LstmF100.InputSize);
            model.Step(x, ref apart, output);
            model.Step(x, ref own, own.Hidden(0));
            Assert.Equal(output, own.Hidden(0).ToArray());
            Assert.Equal(apart.Values.ToArray(), own.Values.ToArray());
        }
    }

    private static void Check<TModel>(int steps) where TModel : class, IRecurrentModel<TModel, float> => Check<TModel, float>(steps, Tolerance);

    // Double models against the same reference: their arithmetic is double throughout, so the bound is double's rounding
    // of a few hundred terms, not float's.
    private static void CheckDouble<TModel>(int steps) where TModel : class, IRecurrentModel<TModel, double> => Check<TModel, double>(steps, 1e-12);

    private static void Check<TModel, T>(int steps, double tolerance)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var info = TModel.Info;
        var model = Harness.NewModel<TModel, T>(seed: 3, scale: 1.5);
        var inputs = info.Tokens ? [] : Harness.Random<T>(steps * info.InputSize, seed: 4);
        var tokens = info.Tokens ? Harness.RandomTokens(steps, info.InputSize, seed: 5) : [];
        var initial = model.CreateState();
        Harness.Random<T>(info.StateSize, seed: 6, scale: 0.9).CopyTo(initial.Values);

        // the reference, in double, from the same float parameters
        var p = Harness.ToDouble<T>(model.Parameters);
        var h = Enumerable.Range(0, info.LayerCount).Select(l => Harness.ToDouble<T>(initial.Hidden(l))).ToArray();
        var c = Enumerable.Range(0, info.LayerCount).Select(l => info.HasCellState ? Harness.ToDouble<T>(initial.Cell(l)) : new double[info.HiddenSize]).ToArray();
        var x = info.Tokens
            ? NaiveReference.OneHot(tokens, info.InputSize)
            : Enumerable.Range(0, steps).Select(t => Harness.ToDouble<T>(inputs.AsSpan(t * info.InputSize, info.InputSize))).ToArray();
        var expected = NaiveReference.Run(info, p, x, h, c);

        // Forward over the whole sequence
        var forwardState = model.CreateState();
        var forward = Harness.Run(model, inputs, tokens, steps, initial, forwardState);
        AssertClose(expected, Harness.ToDouble<T>(forward), "Forward outputs", tolerance);
        for (int l = 0; l < info.LayerCount; l++)
        {
            AssertClose(h[l], Harness.ToDouble<T>(forwardState.Hidden(l)), $"final h of layer {l}", tolerance);
            if (info.HasCellState) AssertClose(c[l], Harness.ToDouble<T>(forwardState.Cell(l)), $"final c of layer {l}", tolerance);
        }

        // Step, T times, carrying the state
        var stepState = model.CreateState();
        initial.CopyTo(stepState);
        var stepped = new T[steps * info.OutputWidth];
        for (int t = 0; t < steps; t++)
        {
            var o = stepped.AsSpan(t * info.OutputWidth, info.OutputWidth);
            if (info.Tokens) model.Step(tokens[t], stepState, o);
            else model.Step(inputs.AsSpan(t * info.InputSize, info.InputSize), stepState, o);
        }
        AssertClose(expected, Harness.ToDouble<T>(stepped), "Step outputs", tolerance);
        // Step and Forward evaluate the same equations with the same activations, but Step sums each gate's pre-activation
        // in its own order (both biases first, then the block's columns, GateMatrix) while Forward uses the training
        // layout: they agree to float rounding, not bit for bit. Each is held to the double reference above; to each
        // other, at the same tolerance (the rounding of a float step, not a looser bound).
        AssertClose(Harness.ToDouble<T>(forward), Harness.ToDouble<T>(stepped), "Step against Forward", tolerance);
        AssertClose(Harness.ToDouble<T>(forwardState.Values), Harness.ToDouble<T>(stepState.Values), "Step's final state against Forward's", tolerance);
        if (GateWeights(info) > 32768)
        {
            // above the in-place size, Step runs the products of Forward's own step, in place on the state: the same bits
            Assert.Equal(forward, stepped);
            Assert.Equal(forwardState.Values.ToArray(), stepState.Values.ToArray());
        }
    }

    private static long GateWeights(ModelInfo info)
    {
        long gates = info.Layout[0].Shape[0], weights = 0;
        for (int l = 0; l < info.LayerCount; l++)
            weights += gates * ((l == 0 ? info.InputSize : info.HiddenSize) + info.HiddenSize);
        return weights;
    }

    private static void AssertClose(double[] expected, double[] actual, string what, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(expected[i] - actual[i]) / Math.Max(1.0, Math.Abs(expected[i]));
            Assert.True(err <= tolerance, $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (error {err:E2})");
        }
    }
}

/// <summary>Double models of the packed (above the in-place size) and in-place steps, for the reference.</summary>
[LstmModel(hidden: 96, layers: 2, Input = 7, Output = 3, Precision = Precision.Double)]
public partial class LstmD96x2 { }

[GruModel(hidden: 112, Input = 5, Precision = Precision.Double)]
public partial class GruD112 { }

[LstmModel(hidden: 24, Input = 4, Output = 2, Precision = Precision.Double)]
public partial class LstmD24 { }
