using System.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnGen.Oracle.Tests.Interop;

/// <summary>What one engine computed from one sequence: outputs and final state, in double, in RnnGen's layouts.</summary>
/// <param name="Outputs">steps × OutputWidth.</param>
/// <param name="FinalState">h of every layer, then (LSTM) c of every layer (<see cref="RecurrentState{T}.Values"/>).</param>
internal sealed record ForwardResult(double[] Outputs, double[] FinalState);

/// <summary>
/// One generated model type seen through what the interop tests need: the TorchSharp module with RnnGen's names, the
/// sequence both engines run, RnnGen's side of the run, and the model's parameters as doubles.
/// </summary>
internal abstract class InteropCase
{
    public abstract string Name { get; }

    public abstract ModelInfo Info { get; }

    /// <summary>The torch dtype of the model's precision (Float32 for float, Float64 for double).</summary>
    public ScalarType DType => Info.Precision == Precision.Single ? ScalarType.Float32 : ScalarType.Float64;

    /// <summary>
    /// Largest norm-wise relative error ‖rnnGen − torch‖₂ / ‖torch‖₂ accepted for outputs and final states, fixed before
    /// measuring: 1e-6 for float (a few float roundings over the sequence), 1e-12 for double.
    /// </summary>
    public double Tolerance => Info.Precision == Precision.Single ? 1e-6 : 1e-12;

    /// <summary>Loads <paramref name="path"/> with <c>SafeTensors.Load</c> into a new model and returns its parameters.</summary>
    public abstract double[] LoadParameters(string path);

    /// <summary>Initialises a new model with <c>InitializeParameters(seed)</c> and saves it with <c>SafeTensors.Save</c>.</summary>
    public abstract double[] SaveInitialized(string path, int seed);

    /// <summary>Loads <paramref name="path"/> into a new model and runs <paramref name="sequence"/> with <c>Forward</c>.</summary>
    public abstract ForwardResult RunForward(string path, InteropSequence sequence);

    /// <summary>Loads <paramref name="path"/> into a new model and runs <paramref name="sequence"/> one <c>Step</c> at a time.</summary>
    public abstract ForwardResult RunSteps(string path, InteropSequence sequence);

    /// <summary>A random sequence for this model: inputs in [−1, 1) (or token ids), a non-zero initial state in [−0.5, 0.5),
    /// every value rounded to the model's precision so that both engines see the same numbers.</summary>
    public InteropSequence CreateSequence(int seed, int steps)
    {
        var random = new Random(seed);
        double Uniform(double half) => Round((random.NextDouble() * 2 - 1) * half);
        return new InteropSequence(
            Inputs: Info.Tokens ? [] : Enumerable.Range(0, steps * Info.InputSize).Select(_ => Uniform(1)).ToArray(),
            Tokens: Info.Tokens ? Enumerable.Range(0, steps).Select(_ => random.Next(Info.InputSize)).ToArray() : [],
            InitialState: Enumerable.Range(0, Info.StateSize).Select(_ => Uniform(0.5)).ToArray());
    }

    /// <summary>
    /// Runs <paramref name="sequence"/> through <paramref name="module"/> with libtorch (token inputs as one-hot vectors:
    /// <c>W_ih · one_hot(t)</c> is column t of <c>W_ih</c>, which a token model looks up).
    /// </summary>
    public ForwardResult RunTorch(RnnGenNamedModule module, InteropSequence sequence)
    {
        using var scope = NewDisposeScope();
        int steps = sequence.Steps(Info), block = Info.LayerCount * Info.HiddenSize;
        double[] inputs = Info.Tokens ? OneHot(sequence.Tokens, Info.InputSize) : sequence.Inputs;
        Tensor x = tensor(inputs, [steps, 1, Info.InputSize], DType);
        long[] stateShape = [Info.LayerCount, 1, Info.HiddenSize];
        Tensor h0 = tensor(sequence.InitialState[..block], stateShape, DType);
        Tensor? c0 = Info.HasCellState ? tensor(sequence.InitialState[block..], stateShape, DType) : null;
        var (outputs, hN, cN) = module.Run(x, h0, c0);
        return new ForwardResult(ToDoubles(outputs), cN is null ? ToDoubles(hN) : [.. ToDoubles(hN), .. ToDoubles(cN)]);
    }

    /// <summary>The parameters of <paramref name="module"/> as one flat buffer in RnnGen's layout (by state-dict name).</summary>
    public double[] TorchParameters(RnnGenNamedModule module)
    {
        var flat = new double[Info.ParameterCount];
        var stateDict = module.state_dict();
        foreach (ParameterTensor slot in Info.Layout)
        {
            Tensor tensor = stateDict[slot.Name];
            Assert.Equal(slot.Shape.Select(d => (long)d).ToArray(), tensor.shape);
            ToDoubles(tensor).CopyTo(slot.Slice(flat.AsSpan()));
        }
        return flat;
    }

    public override string ToString() => Name;

    protected abstract double Round(double value);

    private static double[] OneHot(int[] tokens, int vocabulary)
    {
        var values = new double[tokens.Length * vocabulary];
        for (int t = 0; t < tokens.Length; t++) values[t * vocabulary + tokens[t]] = 1;
        return values;
    }

    private static double[] ToDoubles(Tensor t) => t.detach().contiguous().to_type(ScalarType.Float64).data<double>().ToArray();
}

/// <summary>The inputs of one run: dense inputs (steps × InputSize) or token ids, and the initial state.</summary>
internal sealed record InteropSequence(double[] Inputs, int[] Tokens, double[] InitialState)
{
    public int Steps(ModelInfo info) => info.Tokens ? Tokens.Length : Inputs.Length / info.InputSize;
}

/// <inheritdoc />
internal sealed class InteropCase<TModel, T> : InteropCase
    where TModel : class, IRecurrentModel<TModel, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public override string Name => typeof(TModel).Name;

    public override ModelInfo Info => TModel.Info;

    public override double[] LoadParameters(string path) => ToDoubles(SafeTensors.Load<TModel, T>(path).Parameters);

    public override double[] SaveInitialized(string path, int seed)
    {
        TModel model = TModel.Create();
        model.InitializeParameters(seed);
        SafeTensors.Save(model, path);
        return ToDoubles(model.Parameters);
    }

    public override ForwardResult RunForward(string path, InteropSequence sequence)
    {
        TModel model = SafeTensors.Load<TModel, T>(path);
        RecurrentState<T> state = StateOf(model, sequence);
        int steps = sequence.Steps(Info);
        var outputs = new T[steps * Info.OutputWidth];
        RecurrentTape tape = model.CreateTape(steps);
        if (Info.Tokens)
            model.Forward(sequence.Tokens, state, tape, outputs);
        else
            model.Forward(FromDoubles(sequence.Inputs), state, tape, outputs);
        return new ForwardResult(ToDoubles(outputs), ToDoubles(state.Values));
    }

    public override ForwardResult RunSteps(string path, InteropSequence sequence)
    {
        TModel model = SafeTensors.Load<TModel, T>(path);
        RecurrentState<T> state = StateOf(model, sequence);
        int steps = sequence.Steps(Info), width = Info.OutputWidth;
        var outputs = new T[steps * width];
        T[] inputs = FromDoubles(sequence.Inputs);
        for (int t = 0; t < steps; t++)
        {
            if (Info.Tokens)
                model.Step(sequence.Tokens[t], state, outputs.AsSpan(t * width, width));
            else
                model.Step(inputs.AsSpan(t * Info.InputSize, Info.InputSize), state, outputs.AsSpan(t * width, width));
        }
        return new ForwardResult(ToDoubles(outputs), ToDoubles(state.Values));
    }

    protected override double Round(double value) => double.CreateChecked(T.CreateChecked(value));

    private static RecurrentState<T> StateOf(TModel model, InteropSequence sequence)
    {
        RecurrentState<T> state = model.CreateState();
        FromDoubles(sequence.InitialState).CopyTo(state.Values);
        return state;
    }

    private static double[] ToDoubles(ReadOnlySpan<T> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = double.CreateChecked(values[i]);
        return result;
    }

    private static T[] FromDoubles(double[] values) => values.Select(T.CreateChecked).ToArray();
}
