using RnnGen.Tests.Models;

namespace RnnGen.Tests.Generated;

/// <summary>
/// Gradient-flow diagnostics against finite differences: for a loss on the last step only, the recorded ‖∂E/∂h_j‖ and
/// ‖∂E/∂c_j‖ of every layer equal the norms of the numerical gradient with respect to the state entering step j,
/// obtained by cutting the sequence at j and perturbing the state there (double precision).
/// </summary>
public class GradientFlowTests
{
    [Fact] public void Lstm() => Check<LstmD3x5>(steps: 6);
    [Fact] public void Gru() => Check<GruD3x5>(steps: 6);
    [Fact] public void Rnn() => Check<RnnTanhD3x5>(steps: 6);

    // A float model's vanishing (1e-25: squares below float's range) and exploding (1e20: squares above it) gradients keep
    // their norms in the record, which is in double: they used to read 0 and ∞.
    [Theory]
    [InlineData(1e-25f)]
    [InlineData(3e-30f)]
    [InlineData(1e20f)]
    [InlineData(3e37f)]
    public void AFloatGradientsNorm_IsRecordedWithoutUnderflowOrOverflow(float value)
    {
        var flow = new GradientFlow(maxSteps: 1, layers: 1, hasCell: true);
        flow.Begin(1);
        float[] hidden = [value, -value, value, -value], cell = [value, 0f, 0f, 0f];
        flow.Record<float>(0, 0, hidden, cell);
        Assert.Equal(2.0 * value, flow.Hidden(0)[0], 1e-12 * value);   // four values of |v|: 2|v|, to double rounding
        Assert.Equal((double)value, flow.Cell(0)[0], 1e-12 * value);
    }

    [Fact]
    public void Off_ByDefault_And_NoAllocationWhenOn()
    {
        var m = new LstmF3x5();
        var tape = new LstmF3x5.Tape(4);
        Assert.Null(tape.GradientFlow);
        var flow = tape.EnableGradientFlow();
        Assert.Same(flow, tape.EnableGradientFlow());
        var s = new LstmF3x5.State();
        var x = new float[4 * LstmF3x5.InputSize];
        var y = new float[4 * LstmF3x5.OutputWidth];
        m.Forward(x, ref s, tape, y);
        m.Backward(tape, y);
        Assert.Equal(0, SteadyAllocation.Fewest(() => m.Backward(tape, y)));
        Assert.Equal(5, flow.Hidden(0).Length);
        tape.DisableGradientFlow();
        Assert.Null(tape.GradientFlow);
    }

    private static void Check<TModel>(int steps) where TModel : class, IRecurrentModel<TModel, double>
    {
        var info = TModel.Info;
        var model = Harness.NewModel<TModel, double>(seed: 31, scale: 2);
        var inputs = Harness.Random<double>(steps * info.InputSize, 32);
        var initial = model.CreateState();
        Harness.Random<double>(info.StateSize, 33, 0.5).CopyTo(initial.Values);
        var r = new double[steps * info.OutputWidth];
        Harness.Random<double>(info.OutputWidth, 34).CopyTo(r.AsSpan((steps - 1) * info.OutputWidth));  // loss on the last step only

        var tape = model.CreateTape(steps);
        var flow = tape.EnableGradientFlow();
        Harness.Run(model, inputs, [], steps, initial, model.CreateState(), tape);
        model.Backward(tape, r, default, null);
        Assert.Equal(steps, flow.Steps);

        for (int j = 0; j < steps; j++)
        {
            // the state entering step j
            var cut = model.CreateState();
            if (j == 0) initial.CopyTo(cut);
            else Harness.Run(model, inputs.AsSpan(0, j * info.InputSize), [], j, initial, cut);
            var rest = inputs.AsSpan(j * info.InputSize).ToArray();
            var restR = r.AsSpan(j * info.OutputWidth).ToArray();
            double Loss()
            {
                var end = model.CreateState();
                return Harness.Dot(Harness.Run(model, rest, [], steps - j, cut, end), restR);
            }
            var numeric = new double[info.StateSize];
            for (int i = 0; i < numeric.Length; i++)
            {
                double keep = cut.Values[i];
                cut.Values[i] = keep + 1e-5; double up = Loss();
                cut.Values[i] = keep - 1e-5; double down = Loss();
                cut.Values[i] = keep;
                numeric[i] = (up - down) / 2e-5;
            }
            int h = info.HiddenSize, layers = info.LayerCount;
            for (int l = 0; l < layers; l++)
            {
                double expectedH = Norm(numeric.AsSpan(l * h, h));
                Assert.True(Math.Abs(flow.Hidden(l)[j] - expectedH) <= 1e-6 * Math.Max(expectedH, 1e-12),
                    $"layer {l}, boundary {j}: ‖∂E/∂h‖ recorded {flow.Hidden(l)[j]:R}, numeric {expectedH:R}");
                if (info.HasCellState)
                {
                    double expectedC = Norm(numeric.AsSpan((layers + l) * h, h));
                    Assert.True(Math.Abs(flow.Cell(l)[j] - expectedC) <= 1e-6 * Math.Max(expectedC, 1e-12),
                        $"layer {l}, boundary {j}: ‖∂E/∂c‖ recorded {flow.Cell(l)[j]:R}, numeric {expectedC:R}");
                }
            }
        }
        // the final state gets no gradient from a loss on the outputs
        Assert.Equal(0, flow.Hidden(info.LayerCount - 1)[steps]);
    }

    private static double Norm(ReadOnlySpan<double> v) => Math.Sqrt(Harness.Dot(v, v));
}

/// <summary>
/// The lesson's claim, measured: through a tanh RNN with small recurrent weights ‖∂E/∂h_k‖ shrinks geometrically with the
/// distance to the loss, while an LSTM whose forget gates are held open (bias 5) carries ‖∂E/∂c_k‖ back almost unchanged.
/// </summary>
public class VanishingGradientTests
{
    private const int Steps = 40;

    [Fact]
    public void TanhRnn_SmallWeights_DecaysGeometrically()
    {
        var m = new FlowRnn();
        m.InitializeParameters(5);
        var p = m.Parameters;
        var whh = FlowRnn.Layout.Single(t => t.Name == "weight_hh_l0");
        foreach (ref double v in whh.Slice(p)) v *= 0.5;             // ‖W‖ well below 1: the Jacobian product must shrink
        m.ParametersChanged();
        var norms = LastStepLossNorms(m, cell: false);
        // per-step factor over the first 20 steps of distance: fit log‖g_k‖ against k
        double rate = Math.Exp(Slope(norms, 1, 20));
        Assert.InRange(rate, 0.0, 0.5);                                // at least halves every step
        Assert.True(norms[20] < 1e-6 * norms[1], $"after 20 steps {norms[20]:E2} vs {norms[1]:E2}");
    }

    [Fact]
    public void Lstm_OpenForgetGates_KeepsTheCellGradient()
    {
        var m = new FlowLstm();
        m.InitializeParameters(5);
        var p = m.Parameters;
        foreach (var name in new[] { "bias_ih_l0", "bias_hh_l0" })
        {
            var b = FlowLstm.Layout.Single(t => t.Name == name).Slice(p);
            b.Slice(FlowLstm.HiddenSize, FlowLstm.HiddenSize).Fill(2.5);  // forget-gate rows: f = σ(5 + …) ≈ 0.99
        }
        m.ParametersChanged();
        var norms = LastStepLossNorms(m, cell: true);
        double rate = Math.Exp(Slope(norms, 1, 20));
        Assert.InRange(rate, 0.95, 1.1);                               // neither vanishes nor explodes: within 5% / 10% per step
        Assert.True(norms[20] > 0.3 * norms[1], $"after 20 steps {norms[20]:E2} vs {norms[1]:E2}");
    }

    /// <summary>‖∂E/∂state‖ at distance d = T − j from a loss on the last output, for d = 0 … T.</summary>
    private static double[] LastStepLossNorms<TModel>(TModel model, bool cell) where TModel : class, IRecurrentModel<TModel, double>
    {
        var info = TModel.Info;
        var tape = model.CreateTape(Steps);
        var flow = tape.EnableGradientFlow();
        var x = Harness.Random<double>(Steps * info.InputSize, 7);
        var y = new double[Steps * info.OutputWidth];
        model.Forward(x, model.CreateState(), tape, y);
        var g = new double[y.Length];
        Harness.Random<double>(info.OutputWidth, 8).CopyTo(g.AsSpan(y.Length - info.OutputWidth));
        model.Backward(tape, g, default, null);
        var row = (cell ? flow.Cell(0) : flow.Hidden(0)).ToArray();
        return Enumerable.Range(0, Steps + 1).Select(d => row[Steps - d]).ToArray();
    }

    private static double Slope(double[] norms, int from, int to)
    {
        var xs = Enumerable.Range(from, to - from + 1).Select(d => (double)d).ToArray();
        var ys = xs.Select(d => Math.Log(norms[(int)d])).ToArray();
        double mx = xs.Average(), my = ys.Average();
        return xs.Zip(ys).Sum(v => (v.First - mx) * (v.Second - my)) / xs.Sum(v => (v - mx) * (v - mx));
    }
}

[RnnModel(hidden: 16, Input = 4, Precision = Precision.Double)]
public partial class FlowRnn { }

[LstmModel(hidden: 16, Input = 4, Precision = Precision.Double)]
public partial class FlowLstm { }
