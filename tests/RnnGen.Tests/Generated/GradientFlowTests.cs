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
        long before = GC.GetAllocatedBytesForCurrentThread();
        m.Backward(tape, y);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
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
