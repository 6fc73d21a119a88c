namespace RnnGen.IntegrationTests;

/// <summary>
/// A naive LSTM in double precision, written from PyTorch's <c>nn.LSTM</c> documentation (gate rows i, f, g, o),
/// plus an <c>nn.Linear</c> head: the independent reference the programs' printed outputs are checked against.
/// <code>
/// i = σ(W_ii x + b_ii + W_hi h + b_hi)    f = σ(W_if x + b_if + W_hf h + b_hf)
/// g = tanh(W_ig x + b_ig + W_hg h + b_hg) o = σ(W_io x + b_io + W_ho h + b_ho)
/// c' = f ⊙ c + i ⊙ g                      h' = o ⊙ tanh(c')          y = W_head h'_top + b_head
/// </code>
/// </summary>
public sealed class ReferenceLstm
{
    private readonly int _input, _hidden, _layers, _output;
    private readonly Func<string, double[]> _tensor;
    private readonly double[][] _h, _c;

    /// <summary>An LSTM whose tensors (PyTorch names, row-major) come from <paramref name="tensor"/>; zero state.</summary>
    public ReferenceLstm(Func<string, double[]> tensor, int input, int hidden, int layers, int output)
    {
        (_tensor, _input, _hidden, _layers, _output) = (tensor, input, hidden, layers, output);
        _h = Enumerable.Range(0, layers).Select(_ => new double[hidden]).ToArray();
        _c = Enumerable.Range(0, layers).Select(_ => new double[hidden]).ToArray();
    }

    /// <summary>
    /// Names and lengths of the tensors in PyTorch's <c>state_dict</c> order, which is also the order of a
    /// generated model's flat <c>Parameters</c> buffer (SPEC: per layer weight_ih, weight_hh, bias_ih, bias_hh; then the head).
    /// </summary>
    public static IEnumerable<(string Name, int Length)> Tensors(int input, int hidden, int layers, int output)
    {
        for (int k = 0; k < layers; k++)
        {
            int width = k == 0 ? input : hidden;
            yield return ($"weight_ih_l{k}", 4 * hidden * width);
            yield return ($"weight_hh_l{k}", 4 * hidden * hidden);
            yield return ($"bias_ih_l{k}", 4 * hidden);
            yield return ($"bias_hh_l{k}", 4 * hidden);
        }
        yield return ("head.weight", output * hidden);
        yield return ("head.bias", output);
    }

    /// <summary>A reference over one flat parameter buffer in <see cref="Tensors"/> order.</summary>
    public static ReferenceLstm FromFlat(double[] parameters, int input, int hidden, int layers, int output)
    {
        var tensors = new Dictionary<string, double[]>();
        int offset = 0;
        foreach (var (name, length) in Tensors(input, hidden, layers, output))
        {
            tensors[name] = parameters[offset..(offset + length)];
            offset += length;
        }
        if (offset != parameters.Length)
            throw new ArgumentException($"{parameters.Length} parameters given, the layout has {offset}.", nameof(parameters));
        return new ReferenceLstm(name => tensors[name], input, hidden, layers, output);
    }

    /// <summary>One time step: advances the state and returns the head's output.</summary>
    public double[] Step(double[] x)
    {
        if (x.Length != _input) throw new ArgumentException($"x has {x.Length} values, expected {_input}.", nameof(x));
        int H = _hidden;
        double[] layerInput = x;
        for (int k = 0; k < _layers; k++)
        {
            double[] wih = _tensor($"weight_ih_l{k}"), whh = _tensor($"weight_hh_l{k}");
            double[] bih = _tensor($"bias_ih_l{k}"), bhh = _tensor($"bias_hh_l{k}");
            int width = layerInput.Length;
            var pre = new double[4 * H];
            for (int r = 0; r < 4 * H; r++)
            {
                double sum = bih[r] + bhh[r];
                for (int j = 0; j < width; j++) sum += wih[r * width + j] * layerInput[j];
                for (int j = 0; j < H; j++) sum += whh[r * H + j] * _h[k][j];
                pre[r] = sum;
            }
            for (int u = 0; u < H; u++)
            {
                double i = Sigmoid(pre[u]), f = Sigmoid(pre[H + u]), g = Math.Tanh(pre[2 * H + u]), o = Sigmoid(pre[3 * H + u]);
                _c[k][u] = f * _c[k][u] + i * g;
                _h[k][u] = o * Math.Tanh(_c[k][u]);
            }
            layerInput = _h[k];
        }

        double[] w = _tensor("head.weight"), b = _tensor("head.bias");
        var y = new double[_output];
        for (int r = 0; r < _output; r++)
        {
            double sum = b[r];
            for (int j = 0; j < H; j++) sum += w[r * H + j] * layerInput[j];
            y[r] = sum;
        }
        return y;
    }

    private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));
}
