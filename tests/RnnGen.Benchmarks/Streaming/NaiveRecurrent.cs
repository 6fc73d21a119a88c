using System.Numerics.Tensors;

namespace RnnGen.Benchmarks.Streaming;

/// <summary>
/// What a user would write by hand without a generator: an LSTM or GRU stack whose sizes are known only at run time,
/// PyTorch's weights as they come (one row-major array per tensor), a loop over gate rows with
/// <see cref="TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/> for each row, then the gate equations
/// with <see cref="MathF"/>. Allocation-free after construction, like the other engines.
/// </summary>
internal sealed class NaiveRecurrent : IStreamingEngine
{
    private readonly CellKind _cell;
    private readonly int _hidden;
    private readonly Layer[] _layers;
    private readonly float[] _input;
    private readonly float[] _inputGates;  // W_ih·x + b_ih, G·H
    private readonly float[] _hiddenGates; // W_hh·h + b_hh, G·H

    private sealed record Layer(int InputSize, float[] WeightIh, float[] WeightHh, float[] BiasIh, float[] BiasHh, float[] H, float[] C);

    public NaiveRecurrent(ModelInfo info, ReadOnlySpan<float> parameters, float[] input)
    {
        if (info.Cell is not (CellKind.Lstm or CellKind.Gru) || info.OutputSize != 0 || info.Tokens)
            throw new NotSupportedException($"The naive engine runs dense LSTM and GRU stacks without a head, not {info}.");
        _cell = info.Cell;
        _hidden = info.HiddenSize;
        _input = input;
        int rows = info.GateCount * _hidden;
        _inputGates = new float[rows];
        _hiddenGates = new float[rows];
        _layers = new Layer[info.LayerCount];
        for (int k = 0; k < _layers.Length; k++)
        {
            _layers[k] = new Layer(k == 0 ? info.InputSize : _hidden,
                Copy(info, parameters, $"weight_ih_l{k}"), Copy(info, parameters, $"weight_hh_l{k}"),
                Copy(info, parameters, $"bias_ih_l{k}"), Copy(info, parameters, $"bias_hh_l{k}"),
                new float[_hidden], new float[_hidden]);
        }
    }

    private static float[] Copy(ModelInfo info, ReadOnlySpan<float> parameters, string name) => info.Find(name)!.Slice(parameters).ToArray();

    public int StepsPerCall => 1;

    public void Reset()
    {
        foreach (Layer layer in _layers)
        {
            Array.Clear(layer.H);
            Array.Clear(layer.C);
        }
    }

    public float Step()
    {
        ReadOnlySpan<float> x = _input;
        foreach (Layer layer in _layers)
        {
            for (int r = 0; r < _inputGates.Length; r++)
            {
                _inputGates[r] = layer.BiasIh[r] + TensorPrimitives.Dot(layer.WeightIh.AsSpan(r * layer.InputSize, layer.InputSize), x);
                _hiddenGates[r] = layer.BiasHh[r] + TensorPrimitives.Dot(layer.WeightHh.AsSpan(r * _hidden, _hidden), layer.H);
            }
            if (_cell == CellKind.Lstm)
                LstmGates(layer);
            else
                GruGates(layer);
            x = layer.H;
        }
        return x[0];
    }

    public float[] LastOutput() => _layers[^1].H.ToArray();

    // PyTorch's nn.LSTM: gates i, f, g, o.
    private void LstmGates(Layer layer)
    {
        int n = _hidden;
        for (int j = 0; j < n; j++)
        {
            float i = Sigmoid(_inputGates[j] + _hiddenGates[j]);
            float f = Sigmoid(_inputGates[n + j] + _hiddenGates[n + j]);
            float g = MathF.Tanh(_inputGates[2 * n + j] + _hiddenGates[2 * n + j]);
            float o = Sigmoid(_inputGates[3 * n + j] + _hiddenGates[3 * n + j]);
            float c = f * layer.C[j] + i * g;
            layer.C[j] = c;
            layer.H[j] = o * MathF.Tanh(c);
        }
    }

    // PyTorch's nn.GRU: gates r, z, n; the reset gate scales W_hn·h + b_hn.
    private void GruGates(Layer layer)
    {
        int n = _hidden;
        for (int j = 0; j < n; j++)
        {
            float r = Sigmoid(_inputGates[j] + _hiddenGates[j]);
            float z = Sigmoid(_inputGates[n + j] + _hiddenGates[n + j]);
            float candidate = MathF.Tanh(_inputGates[2 * n + j] + r * _hiddenGates[2 * n + j]);
            layer.H[j] = (1 - z) * candidate + z * layer.H[j];
        }
    }

    private static float Sigmoid(float v) => 1 / (1 + MathF.Exp(-v));

    public void Dispose() { }
}
