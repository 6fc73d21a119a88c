using System.Numerics;

namespace RnnGen.Oracle.Tests;

/// <summary>A generated model type seen through what the oracle needs: make a problem, solve it with RnnGen.</summary>
internal abstract class OracleModel
{
    /// <summary>The model class's name.</summary>
    public abstract string Name { get; }

    /// <summary>The generated <c>Info</c>.</summary>
    public abstract ModelInfo Info { get; }

    /// <summary>Cell kind as PyTorch users say it: LSTM, GRU, RNN-tanh, RNN-relu.</summary>
    public string Kind => KindOf(Info);

    /// <summary>LSTM, GRU, RNN-tanh or RNN-relu for a model's <see cref="ModelInfo"/>.</summary>
    public static string KindOf(ModelInfo info) => info.Cell switch
    {
        CellKind.Lstm => "LSTM",
        CellKind.Gru => "GRU",
        _ => info.Activation == RnnActivation.Relu ? "RNN-relu" : "RNN-tanh",
    };

    /// <summary>"float" or "double".</summary>
    public string PrecisionName => Info.Precision == Precision.Single ? "float" : "double";

    /// <summary>
    /// A random problem: parameters from RnnGen's own <c>InitializeParameters(seed)</c>, inputs and gradients uniform in
    /// [−1, 1), a non-zero initial state uniform in [−0.5, 0.5); every value rounded to the model's precision so that both
    /// engines see exactly the same numbers.
    /// </summary>
    public abstract OracleProblem CreateProblem(int seed, int steps, bool batchFirst, bool finalStateGradient);

    /// <summary>Solves <paramref name="problem"/> with the generated code: Forward, then Backward with the stateGradient overload.</summary>
    public abstract OracleResult RunRnnGen(OracleProblem problem);

    public override string ToString() => Name;
}

/// <inheritdoc />
internal sealed class OracleModel<TModel, T> : OracleModel
    where TModel : class, IRecurrentModel<TModel, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public override string Name => typeof(TModel).Name;

    public override ModelInfo Info => TModel.Info;

    public override OracleProblem CreateProblem(int seed, int steps, bool batchFirst, bool finalStateGradient)
    {
        ModelInfo info = TModel.Info;
        var random = new Random(seed);
        double[] Uniform(int count, double half) =>
            Enumerable.Range(0, count).Select(_ => Round((random.NextDouble() * 2 - 1) * half)).ToArray();

        TModel model = TModel.Create();
        model.InitializeParameters(seed);
        return new OracleProblem(
            info,
            Parameters: ToDoubles(model.Parameters),
            Inputs: info.Tokens ? [] : Uniform(steps * info.InputSize, 1),
            Tokens: info.Tokens ? Enumerable.Range(0, steps).Select(_ => random.Next(info.InputSize)).ToArray() : [],
            InitialState: Uniform(info.StateSize, 0.5),
            OutputGradient: Uniform(steps * info.OutputWidth, 1),
            FinalStateGradient: finalStateGradient ? Uniform(info.StateSize, 1) : new double[info.StateSize],
            BatchFirst: batchFirst);
    }

    public override OracleResult RunRnnGen(OracleProblem problem)
    {
        ModelInfo info = TModel.Info;
        int steps = problem.Steps;

        // The weights go in as a user loading a PyTorch state dict would: write Parameters, then ParametersChanged().
        TModel model = TModel.Create();
        FromDoubles(problem.Parameters, model.Parameters);
        model.ParametersChanged();

        RecurrentState<T> state = model.CreateState();
        FromDoubles(problem.InitialState, state.Values);
        RecurrentTape tape = model.CreateTape(steps);
        var outputs = new T[steps * info.OutputWidth];
        if (info.Tokens)
            model.Forward(problem.Tokens, state, tape, outputs);
        else
            model.Forward(FromDoubles(problem.Inputs), state, tape, outputs);

        RecurrentState<T> stateGradient = model.CreateState();
        FromDoubles(problem.FinalStateGradient, stateGradient.Values);
        // Backward overwrites inputGradients: start from NaN so a value it fails to write cannot pass.
        T[] inputGradients = info.Tokens ? [] : Enumerable.Repeat(T.NaN, steps * info.InputSize).ToArray();
        model.Backward(tape, FromDoubles(problem.OutputGradient), inputGradients, stateGradient);

        return new OracleResult(
            Outputs: ToDoubles(outputs),
            FinalState: ToDoubles(state.Values),
            ParameterGradients: ToDoubles(model.Gradients),
            InputGradients: ToDoubles(inputGradients),
            InitialStateGradient: ToDoubles(stateGradient.Values));
    }

    private static double Round(double value) => double.CreateChecked(T.CreateChecked(value));

    private static double[] ToDoubles(ReadOnlySpan<T> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = double.CreateChecked(values[i]);
        return result;
    }

    private static T[] FromDoubles(double[] values)
    {
        var result = new T[values.Length];
        FromDoubles(values, result);
        return result;
    }

    private static void FromDoubles(double[] values, Span<T> destination)
    {
        if (values.Length != destination.Length)
            throw new ArgumentException($"{values.Length} values for a span of {destination.Length}.", nameof(values));
        for (int i = 0; i < values.Length; i++) destination[i] = T.CreateChecked(values[i]);
    }
}
