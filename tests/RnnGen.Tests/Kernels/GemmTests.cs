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
        // past the cache blocking: more than one chunk of steps (64) and panel of inner rows (64), with partial last chunks
        { 600, 70, 150 }, { 257, 129, 13 }, { 512, 128, 650 },
        // column tiles of four, two and one vectors side by side (112 floats = 4 + 2 + 1 vectors of 16), lone rows and steps
        { 130, 112, 13 }, { 65, 80, 66 }, { 1, 112, 2 },
        // columns past the widest vectors in narrower ones, then the last ones padded: hidden 100 (96 + 4 with vectors of
        // 16 floats), 124 (112 + 8 + 4), 62 (48 + 8 + 4 + 2) over two chunks of steps; 66 (64 + 2) with more than one
        // block (256) of padded rows, inner rows and steps
        { 400, 100, 50 }, { 33, 124, 9 }, { 9, 62, 70 }, { 300, 66, 300 },
    };

    // The one-lane backward's W_hh^T·dz: every column sums its rows in order from y's value, fused on the whole vectors
    // of columns and as rounded products past them (the scalar loop's sums), however the columns are tiled: the same
    // bits as a naive loop written that way, signed zeros included, for narrow matrices (fewer columns than a tile of
    // eight vectors) and columns that do not fill a vector.
    [Theory]
    [InlineData(1)] [InlineData(7)] [InlineData(15)] [InlineData(16)] [InlineData(17)] [InlineData(33)] [InlineData(48)]
    [InlineData(64)] [InlineData(100)] [InlineData(127)] [InlineData(129)] [InlineData(200)]
    public void TransposeMultiplyAdd_IsExactlyItsColumnSums(int cols)
    {
        TransposeExact<float>(cols);
        TransposeExact<double>(cols);
    }

    private static void TransposeExact<T>(int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int p = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? System.Runtime.Intrinsics.Vector512<T>.Count
            : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? System.Runtime.Intrinsics.Vector256<T>.Count
            : System.Runtime.Intrinsics.Vector128<T>.Count;
        foreach (int rows in new[] { 1, 5, 132 })
        {
            var w = Harness.Random<T>(rows * cols, 11);
            var v = Harness.Random<T>(rows, 12);
            var y = Harness.Random<T>(cols, 13);
            for (int i = 0; i < w.Length; i += 7) w[i] = T.Zero;   // zero products onto −0 sums
            for (int i = 0; i < cols; i += 3) y[i] = -T.Zero;
            var expected = (T[])y.Clone();
            // the vector columns take the hardware's fused multiply-add (MultiplyAddEstimate), where it has one
            bool fma = System.Runtime.Intrinsics.X86.Fma.IsSupported || System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported;
            int fused = fma ? cols - cols % p : 0;
            for (int c = 0; c < cols; c++)
                for (int r = 0; r < rows; r++)
                    expected[c] = c < fused ? T.FusedMultiplyAdd(w[r * cols + c], v[r], expected[c]) : expected[c] + w[r * cols + c] * v[r];
            MatrixOps.TransposeMultiplyAdd<T>(w, v, y);
            for (int c = 0; c < cols; c++)
                Assert.True(expected[c].Equals(y[c]) && T.IsNegative(expected[c]) == T.IsNegative(y[c]),
                    $"{typeof(T).Name} {rows} × {cols}, column {c}: {y[c]}, expected {expected[c]}");
        }
    }

    [Theory]
    [InlineData(600, 70, 13)] [InlineData(256, 32, 8)] [InlineData(513, 17, 5)] [InlineData(0, 9, 6)] [InlineData(64, 64, 4)] [InlineData(129, 128, 3)]
    public void MultiplyRows_AcrossPanels_Float(int inner, int cols, int steps) => MultiplyWithinBound<float>(inner, cols, steps);

    [Theory, MemberData(nameof(Shapes))]
    public void OuterProducts_Float(int rows, int cols, int steps) => Outer<float>(rows, cols, steps);

    [Theory, MemberData(nameof(Shapes))]
    public void OuterProducts_Double(int rows, int cols, int steps) => Outer<double>(rows, cols, steps);

    [Theory, MemberData(nameof(Shapes))]
    public void MultiplyRows_Float(int inner, int cols, int steps) => MultiplyWithinBound<float>(inner, cols, steps);

    [Theory, MemberData(nameof(Shapes))]
    public void MultiplyRows_Double(int inner, int cols, int steps) => MultiplyWithinBound<double>(inner, cols, steps);

    public static TheoryData<int, int> RowCounts()
    {
        // steps 1..3 are all remainder rows; 5..7 a group of four and a remainder; columns around one and two vectors
        var data = new TheoryData<int, int>();
        foreach (int steps in new[] { 1, 2, 3, 4, 5, 6, 7, 9 })
            foreach (int cols in new[] { 1, 7, 8, 15, 16, 17, 30, 33, 48, 65 })
                data.Add(steps, cols);
        return data;
    }

    [Theory, MemberData(nameof(RowCounts))]
    public void MultiplyRows_EveryRowCount_Float(int steps, int cols) => MultiplyWithinBound<float>(37, cols, steps);

    [Theory, MemberData(nameof(RowCounts))]
    public void MultiplyRows_EveryRowCount_Double(int steps, int cols) => MultiplyWithinBound<double>(37, cols, steps);

    // Against the naive product in double, within the standard bound of a floating-point sum of n terms, (n + 2)·ε·Σ|terms|;
    // the padding between rows of c is left alone.
    private static void MultiplyWithinBound<T>(int inner, int cols, int steps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int aStride = inner + 3, cStride = cols + 2;
        var a = Harness.Random<T>(steps * aStride, 7);
        var b = Harness.Random<T>(inner * cols, 8);
        double epsilon = double.CreateTruncating(T.BitIncrement(T.One) - T.One);
        foreach (bool accumulate in new[] { false, true })
        {
            var c = Harness.Random<T>(steps * cStride, 9);
            var before = Harness.ToDouble<T>(c);
            Gemm.MultiplyRows<T>(c, cStride, a, aStride, b, inner, cols, steps, accumulate);
            for (int t = 0; t < steps; t++)
            {
                for (int k = 0; k < cols; k++)
                {
                    double expected = accumulate ? before[t * cStride + k] : 0, magnitude = Math.Abs(expected);
                    for (int r = 0; r < inner; r++)
                    {
                        double term = double.CreateTruncating(a[t * aStride + r]) * double.CreateTruncating(b[r * cols + k]);
                        expected += term;
                        magnitude += Math.Abs(term);
                    }
                    double actual = double.CreateTruncating(c[t * cStride + k]);
                    Assert.True(Math.Abs(expected - actual) <= (inner + 2) * epsilon * magnitude,
                        $"steps {steps} cols {cols} accumulate {accumulate}: c[{t}, {k}] = {actual}, expected {expected}");
                }
                for (int k = cols; k < cStride && t * cStride + k < c.Length; k++)
                    Assert.Equal(before[t * cStride + k], double.CreateTruncating(c[t * cStride + k]));
            }
        }
    }

    // Against the naive sum in double, within the standard bound of a floating-point sum of n terms, (n + 2)·ε·Σ|terms|.
    private static void Outer<T>(int rows, int cols, int steps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int aStride = rows + 3, bStride = cols + 5;
        var a = Harness.Random<T>(steps * aStride, 1);
        var b = Harness.Random<T>(steps * bStride, 2);
        var c = Harness.Random<T>(rows * cols, 3);
        var expected = Harness.ToDouble<T>(c);
        var magnitude = expected.Select(Math.Abs).ToArray();
        for (int r = 0; r < rows; r++)
            for (int k = 0; k < cols; k++)
                for (int t = 0; t < steps; t++)
                {
                    double term = double.CreateTruncating(a[t * aStride + r]) * double.CreateTruncating(b[t * bStride + k]);
                    expected[r * cols + k] += term;
                    magnitude[r * cols + k] += Math.Abs(term);
                }
        Gemm.AddOuterProducts<T>(c, rows, cols, a, aStride, b, bStride, steps);
        double epsilon = double.CreateTruncating(T.BitIncrement(T.One) - T.One);
        for (int i = 0; i < expected.Length; i++)
        {
            double actual = double.CreateTruncating(c[i]);
            Assert.True(Math.Abs(expected[i] - actual) <= (steps + 2) * epsilon * magnitude[i], $"[{i}] {expected[i]} vs {actual}");
        }
    }

    // Where a call's range of rows ends only moves work: the rows of C in two calls, split anywhere, are the same bits as
    // in one (LayerPipeline splits a weight gradient's rows between the cores), for columns in whole vectors, past them
    // and in rows past the last vector.
    [Theory]
    [InlineData(37, 70, 9)] [InlineData(300, 100, 70)] [InlineData(19, 3, 5)] [InlineData(64, 17, 66)]
    public void OuterProducts_SplitRows_SameBits(int rows, int cols, int steps)
    {
        SplitExact<float>(rows, cols, steps);
        SplitExact<double>(rows, cols, steps);
    }

    private static void SplitExact<T>(int rows, int cols, int steps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int aStride = rows + 3, bStride = cols + 1;
        var a = Harness.Random<T>(steps * aStride, 4);
        var b = Harness.Random<T>(steps * bStride, 5);
        var start = Harness.Random<T>(rows * cols, 6);
        var whole = (T[])start.Clone();
        Gemm.AddOuterProducts<T>(whole, rows, cols, a, aStride, b, bStride, steps);
        foreach (int split in new[] { 1, 2, 3, 5, rows / 2 + 1, rows - 1 })
        {
            if (split <= 0 || split >= rows) continue;
            var parts = (T[])start.Clone();
            Gemm.AddOuterProducts<T>(parts.AsSpan(0, split * cols), split, cols, a, aStride, b, bStride, steps);
            Gemm.AddOuterProducts<T>(parts.AsSpan(split * cols), rows - split, cols, a.AsSpan(split), aStride, b, bStride, steps);
            for (int i = 0; i < whole.Length; i++)
                Assert.True(whole[i].Equals(parts[i]), $"{typeof(T).Name} split {split}: [{i / cols}, {i % cols}] {parts[i]}, in one call {whole[i]}");
        }
    }

    // A shape whose element count overflows int (65536 × 65536 wraps to 0) is refused, not taken for an empty matrix.
    [Fact]
    public void ShapesThatOverflow_AreRefused()
    {
        const int big = 65536;
        Assert.Throws<ArgumentException>(() => MatrixOps.TransposeMultiplyAdd<float>(ReadOnlySpan<float>.Empty, new float[big], new float[big]));
        Assert.Throws<ArgumentException>(() => Gemm.MultiplyRows<float>(new float[big], big, new float[big], big, ReadOnlySpan<float>.Empty, big, big, 1));
        Assert.Throws<ArgumentException>(() => Gemm.AddOuterProducts<float>(Span<float>.Empty, big, big, new float[big], big, new float[big], big, 1));
    }
}
