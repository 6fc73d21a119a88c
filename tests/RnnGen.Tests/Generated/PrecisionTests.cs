using RnnGen.Tests.Models;

namespace RnnGen.Tests.Generated;

/// <summary>A float model's gradients agree with the double model's (same weights, same data) within 1e-3 relative.</summary>
public class PrecisionTests
{
    [Fact] public void Lstm() => Compare<LstmF3x5, LstmD3x5>(steps: 12, tokens: false);
    [Fact] public void Lstm_Tokens() => Compare<LstmFTokens, LstmDTokens>(steps: 12, tokens: true);
    [Fact] public void Lstm_Head() => Compare<LstmF2x6Head, LstmD2x6Head>(steps: 12, tokens: false);
    [Fact] public void Gru() => Compare<GruF3x5, GruD3x5>(steps: 12, tokens: false);
    [Fact] public void Gru_Tokens() => Compare<GruFTokens, GruDTokens>(steps: 12, tokens: true);
    [Fact] public void Rnn() => Compare<RnnTanhF3x5, RnnTanhD3x5>(steps: 12, tokens: false);
    [Fact] public void RnnRelu() => Compare<RnnReluF2x5, RnnReluD2x5>(steps: 12, tokens: false);

    private static void Compare<TF, TD>(int steps, bool tokens)
        where TF : class, IRecurrentModel<TF, float>
        where TD : class, IRecurrentModel<TD, double>
    {
        var info = TD.Info;
        Assert.Equal(info.ParameterCount, TF.Info.ParameterCount);
        var d = Harness.NewModel<TD, double>(seed: 21, scale: 1.5);
        var f = TF.Create();
        for (int i = 0; i < info.ParameterCount; i++) f.Parameters[i] = (float)d.Parameters[i];
        f.ParametersChanged();
        // the double model uses the float-rounded weights too, so only the arithmetic differs
        for (int i = 0; i < info.ParameterCount; i++) d.Parameters[i] = f.Parameters[i];
        d.ParametersChanged();

        var inD = tokens ? [] : Harness.Random<double>(steps * info.InputSize, 22).Select(v => (double)(float)v).ToArray();
        var inF = inD.Select(v => (float)v).ToArray();
        var tok = tokens ? Harness.RandomTokens(steps, info.InputSize, 23) : [];
        var gD = Harness.Random<double>(steps * info.OutputWidth, 24).Select(v => (double)(float)v).ToArray();
        var gF = gD.Select(v => (float)v).ToArray();

        var tapeD = d.CreateTape(steps);
        var tapeF = f.CreateTape(steps);
        Harness.Run(d, inD, tok, steps, d.CreateState(), d.CreateState(), tapeD);
        Harness.Run(f, inF, tok, steps, f.CreateState(), f.CreateState(), tapeF);
        var dxD = new double[inD.Length];
        var dxF = new float[inF.Length];
        d.Gradients.Clear();
        f.Gradients.Clear();
        d.Backward(tapeD, gD, dxD, null);
        f.Backward(tapeF, gF, dxF, null);

        foreach (var tensor in info.Layout)
        {
            double err = Harness.RelativeError(tensor.Slice<double>(d.Gradients.ToArray()), Harness.ToDouble<float>(tensor.Slice<float>(f.Gradients)));
            Assert.True(err <= 1e-3, $"{tensor.Name}: float vs double relative error {err:E2}");
        }
        if (!tokens)
            Assert.True(Harness.RelativeError(dxD, Harness.ToDouble<float>(dxF)) <= 1e-3);
    }
}
