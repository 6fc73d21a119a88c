using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using RnnGen.Benchmarks.Streaming;

namespace RnnGen.Benchmarks.Onnx;

/// <summary>
/// ONNX Runtime at its best for streaming: the model's operators as RnnGen's <see cref="OnnxFile"/> exports them (one ONNX
/// LSTM / GRU operator per layer), in the leanest graph for one step per run (<see cref="StreamingGraph"/>: every layer's
/// state an input and an output of its own, layers chained through Y_h — no Split, Concat or Squeeze), in one session
/// (one intra-op thread, sequential, all graph optimisations): the input [1, batch, In] and the output [1, batch, OutputWidth] are
/// pre-allocated OrtValues, and two IOBindings alternate the two sets of state buffers (h0/c0 = A → hn/cn = B, then
/// B → A), so a step is one <c>RunWithBinding</c> call that allocates nothing and copies no state.
/// </summary>
internal sealed class OnnxEngine : IStreamingEngine
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly OrtValue _x, _y;
    private readonly OrtValue[][] _state; // [buffer A/B][h, (c)]
    private readonly OrtIoBinding[] _bindings;
    private readonly bool _hasHead;
    private readonly int _topHidden; // index of the top layer's h among the state buffers
    private int _next;

    /// <param name="onnxModel">The model as <see cref="OnnxFile.ExportToBytes{TModel, T}"/> writes it (rewired by <see cref="StreamingGraph"/>).</param>
    /// <param name="info">The model's description (sizes).</param>
    /// <param name="input">The input fed at every step: InputSize values for each of <paramref name="batch"/> streams, stream after stream.</param>
    /// <param name="batch">Streams run side by side (the operator's batch dimension).</param>
    public OnnxEngine(byte[] onnxModel, ModelInfo info, float[] input, int batch = 1)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(StreamingGraph.Build(onnxModel, info, batch), options);

        _x = Allocate(1, batch, info.InputSize);
        input.CopyTo(_x.GetTensorMutableDataAsSpan<float>());
        _hasHead = info.OutputSize > 0;
        _y = Allocate(1, batch, info.OutputWidth);
        var names = new List<(string In, string Out)>();
        for (int k = 0; k < info.LayerCount; k++)
        {
            names.Add((StreamingGraph.HiddenIn(k), StreamingGraph.HiddenOut(k)));
            if (info.HasCellState)
                names.Add((StreamingGraph.CellIn(k), StreamingGraph.CellOut(k)));
        }
        _state = [.. Enumerable.Range(0, 2).Select(_ => names.Select(_ => Allocate(1, batch, info.HiddenSize)).ToArray())];
        _topHidden = names.FindIndex(n => n.Out == StreamingGraph.HiddenOut(info.LayerCount - 1));
        _bindings = new OrtIoBinding[2];
        for (int b = 0; b < 2; b++)
        {
            OrtIoBinding binding = _session.CreateIoBinding();
            binding.BindInput(OnnxFile.InputName, _x);
            if (_hasHead) binding.BindOutput(OnnxFile.OutputName, _y);
            for (int i = 0; i < names.Count; i++)
            {
                binding.BindInput(names[i].In, _state[b][i]);
                binding.BindOutput(names[i].Out, _state[1 - b][i]);
            }
            _bindings[b] = binding;
        }
        Reset();
    }

    public int StepsPerCall => 1;

    public void Reset()
    {
        foreach (OrtValue v in _state.SelectMany(s => s))
            v.GetTensorMutableDataAsSpan<float>().Clear();
        _next = 0;
    }

    public float Step()
    {
        _session.RunWithBinding(_runOptions, _bindings[_next]);
        _next = 1 - _next;
        return Output[0];
    }

    public float[] LastOutput() => Output.ToArray();

    // the head's output, or without a head the top layer's h, in the state buffer the last run wrote (now _state[_next])
    private ReadOnlySpan<float> Output => _hasHead ? _y.GetTensorDataAsSpan<float>() : _state[_next][_topHidden].GetTensorDataAsSpan<float>();

    private static OrtValue Allocate(params long[] shape) =>
        OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, shape);

    public void Dispose()
    {
        foreach (OrtIoBinding b in _bindings)
            b.Dispose();
        foreach (OrtValue v in _state.SelectMany(s => s))
            v.Dispose();
        _x.Dispose();
        _y.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}
