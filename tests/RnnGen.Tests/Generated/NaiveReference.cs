namespace RnnGen.Tests.Generated;

/// <summary>
/// An independent, deliberately plain implementation of PyTorch's nn.LSTM / nn.GRU / nn.RNN (+ Linear head), in
/// double, written from the equations in the PyTorch documentation. It reads weights by name through the model's
/// Layout, so it checks the layout too.
/// </summary>
internal static class NaiveReference
{
    private static double Sigmoid(double x) => 1.0 / (1.0 + Math.Exp(-x));

    /// <summary>Runs a whole sequence. <paramref name="h"/> and <paramref name="c"/> are [layer][unit] and are advanced.</summary>
    public static double[] Run(ModelInfo info, double[] p, double[][] inputs, double[][] h, double[][] c)
    {
        int hidden = info.HiddenSize;
        int gates = info.GateCount;
        var outputs = new double[inputs.Length * info.OutputWidth];
        for (int t = 0; t < inputs.Length; t++)
        {
            double[] x = inputs[t];
            for (int l = 0; l < info.LayerCount; l++)
            {
                var wih = info.Find($"weight_ih_l{l}")!;
                var whh = info.Find($"weight_hh_l{l}")!;
                var bih = info.Find($"bias_ih_l{l}")!;
                var bhh = info.Find($"bias_hh_l{l}")!;
                int inWidth = wih.Shape[1];
                // ax[r] = W_ih[r]·x + b_ih[r];  ah[r] = W_hh[r]·h + b_hh[r]
                var ax = new double[gates * hidden];
                var ah = new double[gates * hidden];
                for (int r = 0; r < gates * hidden; r++)
                {
                    double sx = p[bih.Offset + r], sh = p[bhh.Offset + r];
                    for (int k = 0; k < inWidth; k++) sx += p[wih.Offset + r * inWidth + k] * x[k];
                    for (int k = 0; k < hidden; k++) sh += p[whh.Offset + r * hidden + k] * h[l][k];
                    ax[r] = sx;
                    ah[r] = sh;
                }
                var hNew = new double[hidden];
                for (int j = 0; j < hidden; j++)
                {
                    switch (info.Cell)
                    {
                        case CellKind.Lstm:
                        {
                            double i = Sigmoid(ax[j] + ah[j]);
                            double f = Sigmoid(ax[hidden + j] + ah[hidden + j]);
                            double g = Math.Tanh(ax[2 * hidden + j] + ah[2 * hidden + j]);
                            double o = Sigmoid(ax[3 * hidden + j] + ah[3 * hidden + j]);
                            c[l][j] = f * c[l][j] + i * g;
                            hNew[j] = o * Math.Tanh(c[l][j]);
                            break;
                        }
                        case CellKind.Gru:
                        {
                            double r = Sigmoid(ax[j] + ah[j]);
                            double z = Sigmoid(ax[hidden + j] + ah[hidden + j]);
                            double n = Math.Tanh(ax[2 * hidden + j] + r * ah[2 * hidden + j]);
                            hNew[j] = (1 - z) * n + z * h[l][j];
                            break;
                        }
                        default:
                        {
                            double a = ax[j] + ah[j];
                            hNew[j] = info.Activation == RnnActivation.Relu ? Math.Max(a, 0) : Math.Tanh(a);
                            break;
                        }
                    }
                }
                h[l] = hNew;
                x = hNew;
            }
            if (info.OutputSize > 0)
            {
                var hw = info.Find("head.weight")!;
                var hb = info.Find("head.bias")!;
                for (int o = 0; o < info.OutputSize; o++)
                {
                    double s = p[hb.Offset + o];
                    for (int k = 0; k < hidden; k++) s += p[hw.Offset + o * hidden + k] * x[k];
                    outputs[t * info.OutputWidth + o] = s;
                }
            }
            else
            {
                Array.Copy(x, 0, outputs, t * info.OutputWidth, hidden);
            }
        }
        return outputs;
    }

    /// <summary>Token ids as one-hot rows, the way PyTorch sees a token model.</summary>
    public static double[][] OneHot(int[] tokens, int vocabulary) =>
        tokens.Select(t => { var v = new double[vocabulary]; v[t] = 1; return v; }).ToArray();
}
