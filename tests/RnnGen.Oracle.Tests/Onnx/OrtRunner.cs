using Microsoft.ML.OnnxRuntime;

namespace RnnGen.Oracle.Tests.Onnx;

/// <summary>
/// One ONNX Runtime session over an exported RnnGen model: runs the graph on (input, h0[, c0]) and returns
/// (output, hn[, cn]) as flat arrays in ONNX's layouts ([seq, batch, ...] and [layers, batch, hidden]).
/// </summary>
internal sealed class OrtRunner<T> : IDisposable where T : unmanaged
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly ModelInfo _info;

    public OrtRunner(byte[] onnxModel, ModelInfo info)
    {
        _info = info;
        // One thread (the machine is shared) and the default optimisations, as a user would run it.
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        _session = new InferenceSession(onnxModel, options);
    }

    /// <summary>The graph's input and output names, in order.</summary>
    public string Signature =>
        string.Join(", ", _session.InputNames) + " → " + string.Join(", ", _session.OutputNames);

    /// <summary>
    /// Runs <paramref name="steps"/> steps for <paramref name="batch"/> sequences. Dense models read <paramref name="inputs"/>
    /// [steps, batch, Input], token models <paramref name="tokens"/> [steps, batch]; the state is [layers, batch, hidden] each.
    /// </summary>
    public (T[] Output, T[] Hidden, T[]? Cell) Run(int steps, int batch, T[] inputs, long[] tokens, T[] h0, T[]? c0)
    {
        int layers = _info.LayerCount, hidden = _info.HiddenSize;
        var values = new List<OrtValue>();
        try
        {
            var feeds = new Dictionary<string, OrtValue>
            {
                [OnnxFile.InputName] = Track(values, _info.Tokens
                    ? OrtValue.CreateTensorValueFromMemory(tokens, [steps, batch])
                    : OrtValue.CreateTensorValueFromMemory(inputs, [steps, batch, _info.InputSize])),
                [OnnxFile.InitialHiddenName] = Track(values, OrtValue.CreateTensorValueFromMemory(h0, [layers, batch, hidden])),
            };
            if (_info.HasCellState)
                feeds[OnnxFile.InitialCellName] = Track(values, OrtValue.CreateTensorValueFromMemory(c0!, [layers, batch, hidden]));

            using IDisposableReadOnlyCollection<OrtValue> results = _session.Run(_runOptions, feeds, _session.OutputNames);
            T[] Read(string name) => results[_session.OutputNames.ToList().IndexOf(name)].GetTensorDataAsSpan<T>().ToArray();
            return (Read(OnnxFile.OutputName), Read(OnnxFile.FinalHiddenName), _info.HasCellState ? Read(OnnxFile.FinalCellName) : null);
        }
        finally
        {
            foreach (OrtValue value in values) value.Dispose();
        }
    }

    private static OrtValue Track(List<OrtValue> values, OrtValue value)
    {
        values.Add(value);
        return value;
    }

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }
}
