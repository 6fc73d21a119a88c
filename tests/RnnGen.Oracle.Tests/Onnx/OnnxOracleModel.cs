using System.Numerics;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace RnnGen.Oracle.Tests.Onnx;

/// <summary>What one ONNX Runtime comparison found.</summary>
/// <param name="Deviations">ORT against RnnGen, one per tensor: whole-sequence and step-by-step outputs and final states.</param>
/// <param name="ImportMismatch">Null when the model imported from the ONNX file has bit-identical parameters and outputs; else what differs.</param>
internal sealed record OnnxOracleResult(List<Deviation> Deviations, string? ImportMismatch);

/// <summary>A generated model type as the ONNX Runtime oracle sees it.</summary>
internal abstract class OnnxOracleModel
{
    public abstract string Name { get; }

    public abstract ModelInfo Info { get; }

    /// <summary>Cell kind as PyTorch users say it: LSTM, GRU, RNN-tanh, RNN-relu.</summary>
    public string Kind => OracleModel.KindOf(Info);

    /// <summary>
    /// Exports a model initialised with <paramref name="seed"/>, lets <paramref name="breakGraph"/> (when given) damage the
    /// ONNX graph, and runs <paramref name="batch"/> random sequences of <paramref name="steps"/> steps from random non-zero
    /// initial states: ORT over the whole sequence (one Run) and step by step (one Run per step, hn/cn fed back as h0/c0),
    /// RnnGen's Forward and Step per sequence. Without <paramref name="breakGraph"/> it also imports the file into a new model.
    /// Without <paramref name="stepByStep"/>, ORT runs the whole sequence only (a graph whose input declares its sizes runs on
    /// no others). With <paramref name="lastStep"/>, the graph outputs the last step's outputs only (PyTorch's fc(out[-1]) or
    /// fc(out)[-1]): ORT's whole-sequence output is compared with RnnGen's last step (one step per run, each run's last step is
    /// its one step). With <paramref name="import"/>, the file <paramref name="breakGraph"/> edited is imported too (an edit the
    /// importer accepts).
    /// </summary>
    public abstract OnnxOracleResult Run(int seed, int steps, int batch, Action<ModelProto>? breakGraph = null, bool stepByStep = true, bool lastStep = false,
        bool import = false);

    public override string ToString() => Name;
}

/// <inheritdoc />
internal sealed class OnnxOracleModel<TModel, T> : OnnxOracleModel
    where TModel : class, IRecurrentModel<TModel, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public override string Name => typeof(TModel).Name;

    public override ModelInfo Info => TModel.Info;

    /// <summary>RnnGen's results in ONNX's layouts: outputs [steps, batch, OutputWidth], states [layers, batch, hidden].</summary>
    private sealed record Outputs(T[] Sequence, T[] SequenceHidden, T[] SequenceCell, T[] Steps, T[] StepsHidden, T[] StepsCell);

    public override OnnxOracleResult Run(int seed, int steps, int batch, Action<ModelProto>? breakGraph = null, bool stepByStep = true, bool lastStep = false,
        bool import = false)
    {
        ModelInfo info = TModel.Info;
        int layers = info.LayerCount, hidden = info.HiddenSize, width = info.OutputWidth;
        var random = new Random(seed);
        T[] Uniform(int count, double half) =>
            Enumerable.Range(0, count).Select(_ => T.CreateTruncating((random.NextDouble() * 2 - 1) * half)).ToArray();

        TModel model = TModel.Create();
        model.InitializeParameters(seed);
        T[] inputs = info.Tokens ? [] : Uniform(steps * batch * info.InputSize, 1);
        long[] tokens = info.Tokens ? Enumerable.Range(0, steps * batch).Select(_ => (long)random.Next(info.InputSize)).ToArray() : [];
        T[] h0 = Uniform(layers * batch * hidden, 0.5);
        T[] c0 = info.HasCellState ? Uniform(layers * batch * hidden, 0.5) : [];

        byte[] onnx = OnnxFile.ExportToBytes(model);
        if (breakGraph is not null)
        {
            ModelProto proto = ModelProto.Parser.ParseFrom(onnx);
            breakGraph(proto);
            onnx = proto.ToByteArray();
        }

        Outputs rnnGen = RunRnnGen(model, steps, batch, inputs, tokens, h0, c0);

        using var ort = new OrtRunner<T>(onnx, info);
        var (sequence, sequenceHidden, sequenceCell) = ort.Run(steps, batch, inputs, tokens, h0, info.HasCellState ? c0 : null);

        var stepOutputs = new T[steps * batch * width];
        T[] h = h0, c = c0;
        for (int t = 0; stepByStep && t < steps; t++)
        {
            T[] x = info.Tokens ? [] : inputs.AsSpan(t * batch * info.InputSize, batch * info.InputSize).ToArray();
            long[] ids = info.Tokens ? tokens.AsSpan(t * batch, batch).ToArray() : [];
            var (y, hn, cn) = ort.Run(1, batch, x, ids, h, info.HasCellState ? c : null);
            y.CopyTo(stepOutputs, t * batch * width);
            (h, c) = (hn, cn ?? []);
        }

        double tolerance = OracleComparison.Tolerances(info.Precision).Forward;
        var deviations = new List<Deviation>();
        void Add(string quantity, T[] ortValues, T[] rnnGenValues) =>
            deviations.Add(new Deviation(quantity, false, OracleComparison.RelativeError(ToDoubles(ortValues), ToDoubles(rnnGenValues)), tolerance));
        Add("sequence output", sequence, lastStep ? rnnGen.Sequence[^(batch * width)..] : rnnGen.Sequence);
        Add("sequence hn", sequenceHidden, rnnGen.SequenceHidden);
        if (info.HasCellState) Add("sequence cn", sequenceCell!, rnnGen.SequenceCell);
        if (stepByStep)
        {
            Add("step output", stepOutputs, rnnGen.Steps);
            Add("step hn", h, rnnGen.StepsHidden);
            if (info.HasCellState) Add("step cn", c, rnnGen.StepsCell);
        }

        return new OnnxOracleResult(deviations, breakGraph is null || import ? CheckImport(model, onnx, rnnGen, steps, batch, inputs, tokens, h0, c0) : null);
    }

    /// <summary>The imported model must have the exporting model's parameters bit for bit, hence the same outputs bit for bit.</summary>
    private static string? CheckImport(TModel exporter, byte[] onnx, Outputs expected, int steps, int batch, T[] inputs, long[] tokens, T[] h0, T[] c0)
    {
        TModel imported = TModel.Create();
        imported.Parameters.Fill(T.NaN);
        OnnxFile.Import(imported, new MemoryStream(onnx));
        if (!Bits(imported.Parameters).SequenceEqual(Bits(exporter.Parameters)))
            return "imported parameters differ from the exported ones";
        Outputs actual = RunRnnGen(imported, steps, batch, inputs, tokens, h0, c0);
        T[][] a = [actual.Sequence, actual.SequenceHidden, actual.SequenceCell, actual.Steps, actual.StepsHidden, actual.StepsCell];
        T[][] e = [expected.Sequence, expected.SequenceHidden, expected.SequenceCell, expected.Steps, expected.StepsHidden, expected.StepsCell];
        for (int i = 0; i < a.Length; i++)
            if (!Bits<T>(a[i]).SequenceEqual(Bits<T>(e[i])))
                return $"the imported model's results differ (result {i})";
        return null;
    }

    /// <summary>RnnGen on each of the batch's sequences: Forward over the whole sequence, and Step by step, from h0/c0.</summary>
    private static Outputs RunRnnGen(TModel model, int steps, int batch, T[] inputs, long[] tokens, T[] h0, T[] c0)
    {
        ModelInfo info = TModel.Info;
        int layers = info.LayerCount, hidden = info.HiddenSize, width = info.OutputWidth, inputSize = info.InputSize;
        int stateLength = layers * batch * hidden;
        var result = new Outputs(
            new T[steps * batch * width], new T[stateLength], new T[info.HasCellState ? stateLength : 0],
            new T[steps * batch * width], new T[stateLength], new T[info.HasCellState ? stateLength : 0]);

        for (int b = 0; b < batch; b++)
        {
            // This sequence's inputs, [steps, Input] or [steps].
            T[] x = info.Tokens ? [] : new T[steps * inputSize];
            int[] ids = info.Tokens ? new int[steps] : [];
            for (int t = 0; t < steps; t++)
            {
                if (info.Tokens) ids[t] = checked((int)tokens[t * batch + b]);
                else inputs.AsSpan((t * batch + b) * inputSize, inputSize).CopyTo(x.AsSpan(t * inputSize));
            }

            RecurrentState<T> state = LoadState(model, h0, c0, b, batch);
            var outputs = new T[steps * width];
            if (info.Tokens) model.Forward(ids, state, model.CreateTape(steps), outputs);
            else model.Forward(x, state, model.CreateTape(steps), outputs);
            Scatter(outputs, result.Sequence, steps, b, batch, width);
            StoreState(state, result.SequenceHidden, result.SequenceCell, b, batch);

            RecurrentState<T> stepState = LoadState(model, h0, c0, b, batch);
            var output = new T[width];
            for (int t = 0; t < steps; t++)
            {
                if (info.Tokens) model.Step(ids[t], stepState, output);
                else model.Step(x.AsSpan(t * inputSize, inputSize), stepState, output);
                output.CopyTo(result.Steps, (t * batch + b) * width);
            }
            StoreState(stepState, result.StepsHidden, result.StepsCell, b, batch);
        }
        return result;
    }

    private static RecurrentState<T> LoadState(TModel model, T[] h0, T[] c0, int b, int batch)
    {
        RecurrentState<T> state = model.CreateState();
        int hidden = state.HiddenSize;
        for (int l = 0; l < state.LayerCount; l++)
        {
            h0.AsSpan((l * batch + b) * hidden, hidden).CopyTo(state.Hidden(l));
            if (state.HasCell) c0.AsSpan((l * batch + b) * hidden, hidden).CopyTo(state.Cell(l));
        }
        return state;
    }

    private static void StoreState(RecurrentState<T> state, T[] h, T[] c, int b, int batch)
    {
        int hidden = state.HiddenSize;
        for (int l = 0; l < state.LayerCount; l++)
        {
            state.Hidden(l).CopyTo(h.AsSpan((l * batch + b) * hidden, hidden));
            if (state.HasCell) state.Cell(l).CopyTo(c.AsSpan((l * batch + b) * hidden, hidden));
        }
    }

    /// <summary>[steps, width] of sequence b into [steps, batch, width].</summary>
    private static void Scatter(T[] source, T[] destination, int steps, int b, int batch, int width)
    {
        for (int t = 0; t < steps; t++)
            source.AsSpan(t * width, width).CopyTo(destination.AsSpan((t * batch + b) * width, width));
    }

    private static double[] ToDoubles(T[] values) => values.Select(v => double.CreateTruncating(v)).ToArray();

    private static byte[] Bits<TValue>(Span<TValue> values) where TValue : unmanaged => MemoryMarshal.AsBytes(values).ToArray();
}
