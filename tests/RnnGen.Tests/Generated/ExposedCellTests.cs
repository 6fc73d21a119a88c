using RnnGen.Tests.Models;

namespace RnnGen.Tests.Generated;

/// <summary>
/// The cell a generated model exposes through <see cref="IRecurrentModel{TSelf, T}"/> (for drivers that run a model layer
/// by layer): its forward against the cell equations written out, and its backward against finite differences of its
/// forward, in double, for every cell kind — which checks that each argument reaches the right parameter.
/// </summary>
public class ExposedCellTests
{
    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    [Fact] public void Lstm() => Check<LstmD3x5>();
    [Fact] public void Gru() => Check<GruD3x5>();
    [Fact] public void RnnTanh() => Check<RnnTanhD3x5>();
    [Fact] public void RnnRelu() => Check<RnnReluD2x5>();

    private static void Check<TModel>() where TModel : class, IRecurrentModel<TModel, double>
    {
        ModelInfo info = TModel.Info;
        int h = info.HiddenSize, g = info.GateCount * h;
        var random = new Random(5);
        double[] Random(int n) => [.. Enumerable.Range(0, n).Select(_ => 2 * random.NextDouble() - 1)];
        double[] gx = Random(g), gh = Random(g), hPrev = Random(h), cPrev = Random(h);
        int recordSize = TModel.CellRecordSize;
        Assert.True(recordSize >= h);

        double[] Run(double[] gxIn, double[] ghIn, double[] hIn, double[] cIn)
        {
            var record = new double[recordSize];
            TModel.CellForward(gxIn, ghIn, hIn, cIn, record);
            return record;
        }

        // forward: h (and c) from the equations
        double[] rec = Run(gx, gh, hPrev, cPrev);
        for (int j = 0; j < h; j++)
        {
            double expectedH, expectedC = 0;
            switch (info.Cell)
            {
                case CellKind.Lstm:
                    expectedC = Sigmoid(gx[h + j]) * cPrev[j] + Sigmoid(gx[j]) * Math.Tanh(gx[2 * h + j]);
                    expectedH = Sigmoid(gx[3 * h + j]) * Math.Tanh(expectedC);
                    Assert.Equal(expectedC, rec[h + j], 1e-14);
                    break;
                case CellKind.Gru:
                    double r = Sigmoid(gx[j] + gh[j]), z = Sigmoid(gx[h + j] + gh[h + j]);
                    expectedH = (1 - z) * Math.Tanh(gx[2 * h + j] + r * gh[2 * h + j]) + z * hPrev[j];
                    break;
                default:
                    expectedH = info.Activation == RnnActivation.Relu ? Math.Max(0, gx[j]) : Math.Tanh(gx[j]);
                    break;
            }
            Assert.Equal(expectedH, rec[j], 1e-14);
        }

        // backward: L = Σ wh·h (+ Σ wc·c for an LSTM); every input's gradient against central differences
        double[] wh = Random(h), wc = Random(h);
        double Loss(double[] gxIn, double[] ghIn, double[] hIn, double[] cIn)
        {
            double[] r = Run(gxIn, ghIn, hIn, cIn);
            double loss = 0;
            for (int j = 0; j < h; j++)
                loss += wh[j] * r[j] + (info.Cell == CellKind.Lstm ? wc[j] * r[h + j] : 0);
            return loss;
        }
        var dh = (double[])wh.Clone();
        var dc = (double[])wc.Clone();             // in: dL/dc; out: dL/dc_prev
        var dgx = new double[g];
        var dgh = Enumerable.Repeat(0.25, g).ToArray();       // written by a GRU only: the others must leave it alone
        var dhPrev = Enumerable.Repeat(0.125, h).ToArray();   // the direct path only (W_hhᵀ·dz is the caller's), added
        TModel.CellBackward(rec, hPrev, cPrev, dh, dc, dgx, dgh, dhPrev);
        if (info.Cell != CellKind.Gru)
        {
            Assert.All(dgh, v => Assert.Equal(0.25, v));
            Assert.All(dhPrev, v => Assert.Equal(0.125, v));  // no direct path: nothing added
        }
        else
            for (int j = 0; j < h; j++) dhPrev[j] -= 0.125;   // what it added
        if (info.Cell != CellKind.Lstm)
            Assert.Equal(wc, dc);                             // no cell state: dL/dc ignored

        void Compare(double[] target, double[] analytic, string name, bool applies)
        {
            for (int k = 0; k < target.Length; k++)
            {
                double keep = target[k], step = 1e-6;
                target[k] = keep + step;
                double up = Loss(gx, gh, hPrev, cPrev);
                target[k] = keep - step;
                double down = Loss(gx, gh, hPrev, cPrev);
                target[k] = keep;
                double numeric = (up - down) / (2 * step);
                Assert.True(Math.Abs((applies ? analytic[k] : 0) - numeric) < 1e-8,
                    $"{info.Cell}: d{name}[{k}] = {(applies ? analytic[k] : 0)}, finite differences {numeric}");
            }
        }
        Compare(gx, dgx, "gx", true);
        Compare(gh, dgh, "gh", info.Cell == CellKind.Gru);            // only a GRU reads gh
        Compare(hPrev, dhPrev, "hPrev", info.Cell == CellKind.Gru);   // only a GRU has a direct path h_prev → h
        Compare(cPrev, dc, "cPrev", info.Cell == CellKind.Lstm);      // only an LSTM reads c_prev
    }

    // A hand-written model that does not expose its cell says so.
    [Fact]
    public void TheDefault_Throws() =>
        Assert.Throws<NotSupportedException>(() => Probe<RnnGen.Tests.IO.ProbeModel>());

    private static int Probe<TModel>() where TModel : class, IRecurrentModel<TModel, float> => TModel.CellRecordSize;
}
