using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace RnnGen.Tests.Optimizers;

/// <summary>
/// <c>Elementwise.SumOfSquares(transform, g)</c>, the squared norm of the gradients as a step with a clamp (and a scale)
/// will read them, without writing them (the layer pipeline measures the norm with it): against the sum in double of the
/// transform written out, at every vector width, with remainders; NaN stays NaN, ±∞ is clamped; without a transform it is
/// TensorPrimitives.SumOfSquares.
/// </summary>
public class TransformedSumOfSquaresTests
{
    public static TheoryData<int, bool, bool> Cases()
    {
        var data = new TheoryData<int, bool, bool>();
        foreach (int n in new[] { 0, 3, 37, 1003 })
            foreach (bool clamps in new[] { false, true })
                foreach (bool scales in new[] { false, true })
                    data.Add(n, clamps, scales);
        return data;
    }

    [Theory, MemberData(nameof(Cases))]
    public void Float_IsTheSumOfTheTransformedSquares(int n, bool clamps, bool scales) => Check<float>(n, clamps, scales, 1e-6);

    [Theory, MemberData(nameof(Cases))]
    public void Double_IsTheSumOfTheTransformedSquares(int n, bool clamps, bool scales) => Check<double>(n, clamps, scales, 1e-14);

    private static void Check<T>(int n, bool clamps, bool scales, double tolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(n);
        T[] g = [.. Enumerable.Range(0, n).Select(_ => T.CreateTruncating(4 * (random.NextDouble() - 0.5)))];
        T[] before = [.. g];
        var transform = clamps ? GradientTransform<T>.Clamp(T.CreateTruncating(1.25)) : GradientTransform<T>.None;
        if (scales) transform = transform.ThenScale(T.CreateTruncating(0.75));
        double expected = 0;
        foreach (T x in g)
        {
            double v = double.CreateTruncating(x);
            if (clamps) v = Math.Clamp(v, -1.25, 1.25);
            if (scales) v *= 0.75;
            expected += v * v;
        }
        foreach (T sum in Widths(transform, g))
            Assert.True(Math.Abs(double.CreateTruncating(sum) - expected) <= tolerance * Math.Max(1, expected), $"{sum} against {expected}");
        Assert.Equal(before, g); // read only
        if (!clamps && !scales)
            Assert.Equal(TensorPrimitives.SumOfSquares<T>(g), Elementwise.SumOfSquares(transform, g));
    }

    // NaN anywhere (in a full vector or in the remainder) makes the sum NaN, clamp or not; ±∞ is clamped to the limit.
    [Theory]
    [InlineData(5)]
    [InlineData(1001)]
    public void NaN_StaysNaN_AndInfinityIsClamped(int at)
    {
        float[] g = new float[1003];
        g[at] = float.NaN;
        foreach (float sum in Widths(GradientTransform<float>.Clamp(1f), g)) Assert.True(float.IsNaN(sum));
        g[at] = float.NegativeInfinity;
        g[2] = float.PositiveInfinity;
        foreach (float sum in Widths(GradientTransform<float>.Clamp(1f), g)) Assert.Equal(2f, sum);
        Assert.True(float.IsPositiveInfinity(Elementwise.SumOfSquares(GradientTransform<float>.None, g)));
    }

    private static IEnumerable<T> Widths<T>(GradientTransform<T> transform, T[] g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        yield return Elementwise.SumOfSquares(transform, g);
        yield return Elementwise.SumOfSquares<T, Elementwise.Portable<T>>(transform, g);
        if (Vector512.IsHardwareAccelerated) yield return Elementwise.SumOfSquares<T, Elementwise.Wide<T>>(transform, g);
    }
}
