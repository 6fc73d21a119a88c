using RnnGen.Kernels;

namespace RnnGen.Tests.Kernels;

/// <summary>
/// <c>MatrixOps.AddTransposed</c>: W[r, c] += transposed[c, r] for the listed columns only (the token columns of a weight
/// gradient, summed per token as rows first), against the element-by-element loop, for row counts that fill and do not
/// fill its blocks; bad shapes and columns are refused before anything is written.
/// </summary>
public class AddTransposedTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(16, 5)]
    [InlineData(37, 11)]
    [InlineData(512, 65)]
    public void AddsTheListedColumns_AndNothingElse(int rows, int cols)
    {
        var random = new Random(rows * cols);
        float[] w = [.. Enumerable.Range(0, rows * cols).Select(_ => (float)random.NextDouble())];
        float[] transposed = [.. Enumerable.Range(0, rows * cols).Select(_ => (float)random.NextDouble())];
        int[] columns = [.. Enumerable.Range(0, cols).Where(c => c % 3 != 1).Reverse()];
        float[] expected = [.. w];
        foreach (int c in columns)
            for (int r = 0; r < rows; r++)
                expected[r * cols + c] += transposed[c * rows + r];
        MatrixOps.AddTransposed<float>(w, cols, transposed, columns);
        Assert.Equal(expected, w);
    }

    [Fact]
    public void BadShapesAndColumns_AreRefused_BeforeAnythingIsWritten()
    {
        float[] w = new float[12], transposed = Enumerable.Repeat(1f, 12).ToArray();
        Assert.Throws<ArgumentException>(() => MatrixOps.AddTransposed<float>(w, 5, transposed, [0]));          // 12 is not rows × 5
        Assert.Throws<ArgumentException>(() => MatrixOps.AddTransposed<float>(w, 4, transposed.AsSpan(1), [0])); // transposed too short
        Assert.Throws<ArgumentOutOfRangeException>(() => MatrixOps.AddTransposed<float>(w, 4, transposed, [0, 4]));
        Assert.All(w, v => Assert.Equal(0f, v));
    }
}
