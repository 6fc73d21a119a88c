using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using RnnGen.Benchmarks.Streaming;

namespace RnnGen.Benchmarks.Onnx;

/// <summary>
/// ONNX Runtime at its best for streaming: the <see cref="OnnxRecurrentGraph"/> step graph in one session (one intra-op
/// thread, sequential, all graph optimisations), inputs and outputs pre-allocated as OrtValues and pre-bound with two
/// IOBindings that alternate the two state buffers (state A in → state B out, then B in → A out), so a step is one
/// <c>RunWithBinding</c> call that allocates nothing and copies no state.
/// </summary>
internal sealed class OnnxEngine : IStreamingEngine
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly OrtValue _x;
    private readonly OrtValue[][] _state; // [buffer A/B][h_l0, (c_l0,) h_l1, ...]
    private readonly OrtIoBinding[] _bindings;
    private readonly int _top; // index of the top layer's h in a state buffer
    private int _next;

    public OnnxEngine(ModelInfo info, ReadOnlySpan<float> parameters, float[] input)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(OnnxRecurrentGraph.Build(info, parameters), options);

        _x = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, [1, 1, info.InputSize]);
        input.CopyTo(_x.GetTensorMutableDataAsSpan<float>());
        var names = new List<(string In, string Out)>();
        for (int k = 0; k < info.LayerCount; k++)
        {
            names.Add((OnnxRecurrentGraph.HiddenIn(k), OnnxRecurrentGraph.HiddenOut(k)));
            if (info.HasCellState)
                names.Add((OnnxRecurrentGraph.CellIn(k), OnnxRecurrentGraph.CellOut(k)));
        }
        _top = names.FindIndex(n => n.Out == OnnxRecurrentGraph.HiddenOut(info.LayerCount - 1));
        _state = [.. Enumerable.Range(0, 2).Select(_ => names
            .Select(_ => OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, [1, 1, info.HiddenSize]))
            .ToArray())];
        _bindings = new OrtIoBinding[2];
        for (int b = 0; b < 2; b++)
        {
            OrtIoBinding binding = _session.CreateIoBinding();
            binding.BindInput(OnnxRecurrentGraph.Input, _x);
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
        int b = _next;
        _session.RunWithBinding(_runOptions, _bindings[b]);
        _next = 1 - b;
        return _state[1 - b][_top].GetTensorDataAsSpan<float>()[0];
    }

    public float[] LastOutput() => _state[_next][_top].GetTensorDataAsSpan<float>().ToArray();

    public void Dispose()
    {
        foreach (OrtIoBinding b in _bindings)
            b.Dispose();
        foreach (OrtValue v in _state.SelectMany(s => s))
            v.Dispose();
        _x.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}
