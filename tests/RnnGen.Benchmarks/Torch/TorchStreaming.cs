using RnnGen.Benchmarks.Streaming;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnGen.Benchmarks.Torch;

/// <summary>
/// TorchSharp's nn.LSTM / nn.GRU called the way a streaming application calls it: <see cref="StepsPerCall"/> time steps
/// per call (1 for one step per call, or a whole sequence in one call), batch 1 (or a batch of several streams side by
/// side), no parameter requiring grad, the returned (h, c) fed back as the next call's state, the output read back (one
/// value). Every call runs under
/// <c>torch.inference_mode()</c>, libtorch's fastest mode for inference (no autograd bookkeeping, no version counters).
/// </summary>
internal sealed class TorchModuleEngine : IStreamingEngine
{
    private readonly nn.Module _module;
    private readonly Tensor _x;
    private readonly long[] _stateShape;
    private Tensor _h, _c;
    private Tensor? _lastOutput;

    /// <param name="input">The input fed at every step: InputSize values for each of <paramref name="batch"/> streams, stream after stream.</param>
    public TorchModuleEngine(ModelInfo info, ReadOnlySpan<float> parameters, float[] input, int stepsPerCall, int batch = 1)
    {
        _module = TorchModels.Recurrent(info, parameters, trainable: false);
        StepsPerCall = stepsPerCall;
        var sequence = new float[stepsPerCall * input.Length];
        for (int t = 0; t < stepsPerCall; t++)
            input.CopyTo(sequence, t * input.Length);
        _x = tensor(sequence, [stepsPerCall, batch, input.Length / batch]);
        _stateShape = [info.LayerCount, batch, info.HiddenSize];
        _h = zeros(_stateShape);
        _c = zeros(_stateShape);
    }

    public int StepsPerCall { get; }

    public void Reset()
    {
        using IDisposable mode = inference_mode(); // the state tensors are inference tensors after the first step
        _h.zero_();
        _c.zero_();
    }

    public float Step()
    {
        using IDisposable mode = inference_mode();
        Tensor y, h, c;
        if (_module is LSTM lstm)
        {
            (y, h, c) = lstm.call(_x, (_h, _c));
        }
        else
        {
            (y, h) = ((GRU)_module).call(_x, _h);
            c = _c;
        }
        if (!ReferenceEquals(c, _c))
            _c.Dispose();
        _h.Dispose();
        _h = h;
        _c = c;
        _lastOutput?.Dispose();
        _lastOutput = y;
        return y.ReadCpuSingle(y.numel() - 1);
    }

    public float[] LastOutput() => _lastOutput![-1].reshape(-1).data<float>().ToArray();

    public void Dispose()
    {
        _lastOutput?.Dispose();
        _h.Dispose();
        _c.Dispose();
        _x.Dispose();
        _module.Dispose();
    }
}

/// <summary>
/// One TorchSharp nn.LSTMCell / nn.GRUCell per layer, one step per call, batch 1, no grad, each layer's (h, c) fed back;
/// under <c>torch.inference_mode()</c>, as <see cref="TorchModuleEngine"/>.
/// </summary>
internal sealed class TorchCellsEngine : IStreamingEngine
{
    private readonly nn.Module[] _cells;
    private readonly Tensor _x;
    private readonly Tensor[] _h, _c;

    public TorchCellsEngine(ModelInfo info, ReadOnlySpan<float> parameters, float[] input)
    {
        _cells = TorchModels.Cells(info, parameters);
        _x = tensor(input, [1, input.Length]);
        _h = [.. Enumerable.Range(0, info.LayerCount).Select(_ => zeros(1, info.HiddenSize))];
        _c = [.. Enumerable.Range(0, info.LayerCount).Select(_ => zeros(1, info.HiddenSize))];
    }

    public int StepsPerCall => 1;

    public void Reset()
    {
        using IDisposable mode = inference_mode();
        foreach (Tensor t in _h.Concat(_c))
            t.zero_();
    }

    public float Step()
    {
        using IDisposable mode = inference_mode();
        Tensor x = _x;
        for (int k = 0; k < _cells.Length; k++)
        {
            Tensor h, c;
            if (_cells[k] is LSTMCell lstm)
            {
                (h, c) = lstm.call(x, (_h[k], _c[k]));
                _c[k].Dispose();
                _c[k] = c;
            }
            else
            {
                h = ((GRUCell)_cells[k]).call(x, _h[k]);
            }
            _h[k].Dispose();
            _h[k] = h;
            x = h;
        }
        return x.ReadCpuSingle(0);
    }

    public float[] LastOutput() => _h[^1].data<float>().ToArray();

    public void Dispose()
    {
        foreach (Tensor t in _h.Concat(_c))
            t.Dispose();
        _x.Dispose();
        foreach (nn.Module cell in _cells)
            cell.Dispose();
    }
}
