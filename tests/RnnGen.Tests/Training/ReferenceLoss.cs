namespace RnnGen.Tests.Training;

/// <summary>
/// An independent reference for the trainer's loss: runs the model step by step (the inference path, no tape), computes
/// every per-step loss term from its textbook formula in double, and averages over everything counted in the batch.
/// Its finite-difference gradient is what the trainer's gradient must equal.
/// </summary>
internal static class ReferenceLoss
{
    /// <summary>One lane of a window: a sequence, the window [From, To) and the state it starts from (null = zeros).</summary>
    public sealed record Lane(TrainingSequence<double> Sequence, int From, int To, double[]? InitialState);

    /// <summary>Σ over lanes and target steps of the per-step loss terms, divided by the number of counted items.</summary>
    public static double Mean<TModel>(TModel model, IReadOnlyList<Lane> lanes, SequenceLoss loss)
        where TModel : class, IRecurrentModel<TModel, double>
    {
        var info = TModel.Info;
        int width = info.OutputWidth;
        var output = new double[width];
        double sum = 0;
        long counted = 0;
        foreach (var lane in lanes)
        {
            var s = lane.Sequence;
            int steps = s.StepCount(info.InputSize);
            int targetSteps = s.TargetStepCount(width);
            var state = model.CreateState();
            lane.InitialState?.CopyTo(state.Values);
            for (int t = lane.From; t < lane.To; t++)
            {
                if (s.HasTokens) model.Step(s.Tokens.Span[t], state, output);
                else model.Step(s.Inputs.Span.Slice(t * info.InputSize, info.InputSize), state, output);
                int k = t - (steps - targetSteps);          // index of the target of step t, if any
                if (k < 0) continue;
                switch (loss)
                {
                    case SequenceLoss.SoftmaxCrossEntropy:
                        int label = s.Labels.Span[k];
                        if (label == -1) break;
                        double max = output.Max();
                        double z = 0;
                        foreach (double o in output) z += Math.Exp(o - max);
                        sum += Math.Log(z) + max - output[label];
                        counted++;
                        break;
                    case SequenceLoss.MeanSquaredError:
                        for (int j = 0; j < width; j++)
                        {
                            double d = output[j] - s.Targets.Span[k * width + j];
                            sum += d * d;
                        }
                        counted += width;
                        break;
                    default:
                        for (int j = 0; j < width; j++)
                        {
                            double x = output[j], y = s.Targets.Span[k * width + j];
                            sum += Math.Max(x, 0) - x * y + Math.Log(1 + Math.Exp(-Math.Abs(x)));
                        }
                        counted += width;
                        break;
                }
            }
        }
        return sum / counted;
    }

    /// <summary>The state after running steps [0, <paramref name="steps"/>) of a sequence from zeros.</summary>
    public static double[] StateAfter<TModel>(TModel model, TrainingSequence<double> s, int steps)
        where TModel : class, IRecurrentModel<TModel, double>
    {
        var info = TModel.Info;
        var output = new double[info.OutputWidth];
        var state = model.CreateState();
        for (int t = 0; t < steps; t++)
        {
            if (s.HasTokens) model.Step(s.Tokens.Span[t], state, output);
            else model.Step(s.Inputs.Span.Slice(t * info.InputSize, info.InputSize), state, output);
        }
        return state.Values.ToArray();
    }

    /// <summary>Central finite differences of <paramref name="f"/> with respect to every parameter of <paramref name="model"/>.</summary>
    public static double[] Gradient<TModel>(TModel model, Func<double> f, double h = 1e-6)
        where TModel : class, IRecurrentModel<TModel, double>
    {
        var p = model.Parameters;
        var g = new double[p.Length];
        for (int i = 0; i < g.Length; i++)
        {
            double keep = p[i];
            p[i] = keep + h; model.ParametersChanged();
            double up = f();
            p[i] = keep - h; model.ParametersChanged();
            double down = f();
            p[i] = keep; model.ParametersChanged();
            g[i] = (up - down) / (2 * h);
        }
        return g;
    }
}
