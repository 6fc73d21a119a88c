using System.Numerics;
using RnnGen.Kernels;

namespace RnnGen.Tests.Kernels;

/// <summary>The vector activations against System.Math, and partial loads and stores at every offset.</summary>
public class LanesTests
{
    private static IEnumerable<double> Points()
    {
        for (double x = -30; x <= 30; x += 0.0137) yield return x;
        foreach (var x in new[] { 0.0, 1e-8, -1e-8, 1e-3, 88, -88, 100, -100, 700, -700 }) yield return x;
    }

    [Fact]
    public void Float_WithinDocumentedError()
    {
        double worstTanh = 0, worstSigmoid = 0;
        foreach (var x in Points())
        {
            var v = new Vector<float>((float)x);
            float xf = (float)x;
            worstTanh = Math.Max(worstTanh, Math.Abs(Lanes<float>.Tanh(v)[0] - Math.Tanh(xf)));
            worstSigmoid = Math.Max(worstSigmoid, Math.Abs(Lanes<float>.Sigmoid(v)[0] - 1 / (1 + Math.Exp(-xf))));
        }
        Assert.True(worstTanh < 2e-7, $"tanh: {worstTanh:E2}");
        Assert.True(worstSigmoid < 2e-7, $"sigmoid: {worstSigmoid:E2}");
        Assert.Equal(1f, Lanes<float>.Tanh(new Vector<float>(100f))[0]);
        Assert.Equal(-1f, Lanes<float>.Tanh(new Vector<float>(-100f))[0]);
    }

    [Fact]
    public void Double_WithinDocumentedError()
    {
        double worstTanh = 0, worstSigmoid = 0;
        foreach (var x in Points())
        {
            var v = new Vector<double>(x);
            worstTanh = Math.Max(worstTanh, Math.Abs(Lanes<double>.Tanh(v)[0] - Math.Tanh(x)));
            worstSigmoid = Math.Max(worstSigmoid, Math.Abs(Lanes<double>.Sigmoid(v)[0] - 1 / (1 + Math.Exp(-x))));
        }
        Assert.True(worstTanh < 4e-16, $"tanh: {worstTanh:E2}");
        Assert.True(worstSigmoid < 4e-16, $"sigmoid: {worstSigmoid:E2}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(13)]
    [InlineData(33)]
    public void PartialLoadAndStore(int length)
    {
        var source = Enumerable.Range(1, length).Select(i => (float)i).ToArray();
        var target = new float[length + 3];
        target[length] = target[length + 1] = target[length + 2] = -7;
        for (int j = 0; j < length; j += Lanes<float>.Count)
            Lanes<float>.Store(Lanes<float>.Load(source, j) * new Vector<float>(2), target.AsSpan(0, length), j);
        for (int i = 0; i < length; i++) Assert.Equal(2f * (i + 1), target[i]);
        Assert.All(target[length..], v => Assert.Equal(-7f, v));   // nothing written past the span
    }
}
