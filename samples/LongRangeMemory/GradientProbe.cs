using RnnGen;

namespace LongRangeMemory;

/// <summary>
/// How the gradient of the loss decays with the distance it travels back: for d = 0 … L, the ratio
/// <c>‖∂E/∂h_{T−d}‖ / ‖∂E/∂h_T‖</c> (and <c>‖∂E/∂c_{T−d}‖ / ‖∂E/∂h_T‖</c> for an LSTM), where E is the cross-entropy at
/// the last step T and h_T the state it is computed from, averaged geometrically over sequences.
/// </summary>
/// <param name="Hidden">Index d: the hidden-state ratio; <c>Hidden[0] = 1</c>.</param>
/// <param name="CellState">Index d: the cell-state ratio (LSTM only, else null); <c>CellState[0]</c> is NaN (not measured).</param>
public sealed record GradientCurve(double[] Hidden, double[]? CellState);

/// <summary>
/// Measures <see cref="GradientCurve"/>s with RnnGen's gradient-flow diagnostics
/// (<see cref="RecurrentTape.EnableGradientFlow"/>) on a double-precision twin of the model, over the first sequences of a
/// dataset (all of one lag).
/// </summary>
/// <typeparam name="TProbe">The double-precision model class with the same layout as the models it measures.</typeparam>
public sealed class GradientProbe<TProbe> where TProbe : class, IRecurrentModel<TProbe, double>
{
    private readonly TProbe _twin = TProbe.Create();
    private readonly RecurrentTape _tape;
    private readonly RecurrentState<double> _state;
    private readonly GradientFlow _flow;
    private readonly int[][] _tokens;
    private readonly int[][] _targets;
    private readonly int _steps;
    private readonly double[] _outputs, _outputGradients, _hiddenGradient;
    private readonly ParameterTensor _head;

    /// <summary>Prepares a probe over the first <paramref name="count"/> sequences of <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException">The sequences are not all of one length, or <paramref name="count"/> is out of range.</exception>
    public GradientProbe(SequenceDataset<float> data, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, data.Count);
        ModelInfo info = TProbe.Info;
        _head = info.Find("head.weight") ?? throw new ArgumentException($"{typeof(TProbe).Name} has no output head; the probe needs one.", nameof(TProbe));
        _steps = data[0].StepCount(info.InputSize);
        _tokens = new int[count][];
        _targets = new int[count][];
        for (int i = 0; i < count; i++)
        {
            TrainingSequence<float> sequence = data[i];
            if (sequence.StepCount(info.InputSize) != _steps)
                throw new ArgumentException($"Sequence {i} has {sequence.StepCount(info.InputSize)} steps, sequence 0 has {_steps}; probe one lag at a time.", nameof(data));
            _tokens[i] = sequence.Tokens.ToArray();
            _targets[i] = new int[_steps];
            Array.Fill(_targets[i], Losses.IgnoreTarget);
            _targets[i][^1] = sequence.Labels.Span[^1];      // the loss is on the last step only
        }
        _tape = _twin.CreateTape(_steps);
        _state = _twin.CreateState();
        _flow = _tape.EnableGradientFlow();
        _outputs = new double[_steps * info.OutputWidth];
        _outputGradients = new double[_outputs.Length];
        _hiddenGradient = new double[info.HiddenSize];
    }

    /// <summary>Measures the curve of <paramref name="model"/> (its parameters are copied into the double twin; it is not changed).</summary>
    public GradientCurve Measure<TModel>(TModel model) where TModel : class, IRecurrentModel<TModel, float>
    {
        if (TModel.Info.ParameterCount != TProbe.Info.ParameterCount || TModel.Info.Cell != TProbe.Info.Cell)
            throw new ArgumentException($"{typeof(TModel).Name} ({TModel.Info}) is not laid out as {typeof(TProbe).Name} ({TProbe.Info}).", nameof(model));
        ReadOnlySpan<float> source = model.Parameters;
        Span<double> target = _twin.Parameters;
        for (int i = 0; i < source.Length; i++) target[i] = source[i];
        _twin.ParametersChanged();

        // distance d from the last state T: the flow's boundary j = T − d (j = T is the final state itself, which the
        // diagnostics leave at 0 because no later step reads it; its gradient is Vᵀ·∂E/∂o_T, computed here from the head).
        int lag = _steps - 1;
        var logHidden = new double[lag + 1];
        double[]? logCell = TProbe.Info.HasCellState ? new double[lag + 1] : null;
        foreach (var (tokens, targets) in _tokens.Zip(_targets))
        {
            _state.Reset();
            _twin.Forward(tokens, _state, _tape, _outputs);
            Losses.SoftmaxCrossEntropy<double>(_outputs, targets, _outputGradients);
            _twin.Backward(_tape, _outputGradients, default, null);
            double reference = HiddenGradientNorm(_outputGradients.AsSpan(_outputGradients.Length - TProbe.Info.OutputWidth));
            for (int d = 1; d <= lag; d++)
            {
                logHidden[d] += SafeLog(_flow.Hidden(0)[_steps - d] / reference);
                if (logCell is not null) logCell[d] += SafeLog(_flow.Cell(0)[_steps - d] / reference);
            }
        }
        _twin.Gradients.Clear();
        int n = _tokens.Length;
        double[] hidden = logHidden.Select(v => Math.Exp(v / n)).ToArray();
        double[]? cell = logCell?.Select((v, d) => d == 0 ? double.NaN : Math.Exp(v / n)).ToArray();
        return new GradientCurve(hidden, cell);
    }

    /// <summary>‖Vᵀ·g‖: the norm of the gradient reaching the last hidden state through the head o = V·h + c.</summary>
    private double HiddenGradientNorm(ReadOnlySpan<double> outputGradient)
    {
        ReadOnlySpan<double> v = _head.Slice<double>(_twin.Parameters);
        int hiddenSize = _hiddenGradient.Length;
        _hiddenGradient.AsSpan().Clear();
        for (int k = 0; k < outputGradient.Length; k++)
            for (int h = 0; h < hiddenSize; h++) _hiddenGradient[h] += v[k * hiddenSize + h] * outputGradient[k];
        return Math.Sqrt(_hiddenGradient.Sum(x => x * x));
    }

    // A ratio that underflowed even in double counts as 1e−300, so one sequence cannot turn the mean into −∞.
    private static double SafeLog(double ratio) => Math.Log(Math.Max(ratio, 1e-300));
}
