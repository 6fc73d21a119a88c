using System.Numerics;
using RnnGen.Kernels;
using RnnGen.Tests.Generated;

namespace RnnGen.Tests.Kernels;

/// <summary>The window products against naive triple loops, at sizes around every tile and vector boundary, with strides.</summary>
public class GemmTests
{
    public static TheoryData<int, int, int> Shapes() => new()
    {
        { 1, 1, 1 }, { 3, 5, 7 }, { 64, 128, 50 }, { 65, 33, 9 }, { 20, 16, 4 }, { 7, 64, 5 }, { 512, 65, 3 }, { 2, 129, 11 },
    };

    [Theory, MemberData(nameof(Shapes))]
    public void OuterProducts_Float(int rows, int cols, int steps) => Outer<float>(rows, cols, steps, 1e-5);

    [Theory, MemberData(nameof(Shapes))]
    public void OuterProducts_Double(int rows, int cols, int steps) => Outer<double>(rows, cols, steps, 1e-13);

    [Theory, MemberData(nameof(Shapes))]
    public void MultiplyRows_Float(int inner, int cols, int steps) => Multiply<float>(inner, cols, steps, 1e-5);

    [Theory, MemberData(nameof(Shapes))]
    public void MultiplyRows_Double(int inner, int cols, int steps) => Multiply<double>(inner, cols, steps, 1e-13);

    private static void Outer<T>(int rows, int cols, int steps, double tol) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int aStride = rows + 3, bStride = cols + 5;
        var a = Harness.Random<T>(steps * aStride, 1);
        var b = Harness.Random<T>(steps * bStride, 2);
        var c = Harness.Random<T>(rows * cols, 3);
        var expected = Harness.ToDouble<T>(c);
        for (int r = 0; r < rows; r++)
            for (int k = 0; k < cols; k++)
                for (int t = 0; t < steps; t++)
                    expected[r * cols + k] += double.CreateTruncating(a[t * aStride + r]) * double.CreateTruncating(b[t * bStride + k]);
        Gemm.AddOuterProducts<T>(c, rows, cols, a, aStride, b, bStride, steps);
        AssertClose(expected, Harness.ToDouble<T>(c), tol);
    }

    private static void Multiply<T>(int inner, int cols, int steps, double tol) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int aStride = inner + 2, cStride = cols + 1;
        var a = Harness.Random<T>(steps * aStride, 4);
        var b = Harness.Random<T>(inner * cols, 5);
        foreach (bool accumulate in new[] { false, true })
        {
            var c = Harness.Random<T>(steps * cStride, 6);
            var expected = Harness.ToDouble<T>(c);
            for (int t = 0; t < steps; t++)
                for (int k = 0; k < cols; k++)
                {
                    double s = accumulate ? expected[t * cStride + k] : 0;
                    for (int r = 0; r < inner; r++) s += double.CreateTruncating(a[t * aStride + r]) * double.CreateTruncating(b[r * cols + k]);
                    expected[t * cStride + k] = s;
                }
            Gemm.MultiplyRows<T>(c, cStride, a, aStride, b, inner, cols, steps, accumulate);
            AssertClose(expected, Harness.ToDouble<T>(c), tol);
        }
    }

    private static void AssertClose(double[] expected, double[] actual, double tol)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * Math.Max(1, Math.Abs(expected[i])), $"[{i}] {expected[i]} vs {actual[i]}");
    }
}
