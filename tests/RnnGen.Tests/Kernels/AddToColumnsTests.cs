using RnnGen.Kernels;

namespace RnnGen.Tests.Kernels;

/// <summary>
/// <c>MatrixOps.AddToColumns</c>, the weight gradient of one-hot inputs over a window: bit for bit the column adds of a
/// backward pass written out (steps from the last, lanes in order, a column add each), with repeated tokens, one lane
/// and several, and row counts that fill and do not fill its blocks; bad shapes and columns are refused before anything is
/// written.
/// </summary>
public class AddToColumnsTests
{
    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(16, 5, 7, 1)]
    [InlineData(37, 11, 9, 3)]
    [InlineData(512, 65, 50, 1)]
    [InlineData(512, 65, 50, 13)]
    public void AreTheStepByStepColumnAdds_BitForBit(int rows, int cols, int steps, int lanes)
    {
        var random = new Random(rows * cols + lanes);
        float[] w = [.. Enumerable.Range(0, rows * cols).Select(_ => (float)random.NextDouble())];
        float[] v = [.. Enumerable.Range(0, steps * lanes * rows).Select(_ => (float)(random.NextDouble() - 0.5) * 1e-3f)];
        int[] columns = [.. Enumerable.Range(0, steps * lanes).Select(_ => random.Next(Math.Min(cols, 4)))]; // tokens repeat
        float[] expected = [.. w];
        for (int t = steps - 1; t >= 0; t--)
            for (int b = 0; b < lanes; b++)
            {
                int i = t * lanes + b;
                for (int r = 0; r < rows; r++)
                    expected[r * cols + columns[i]] += v[i * rows + r];
            }
        MatrixOps.AddToColumns<float>(w, cols, columns, v, lanes);
        Assert.Equal(expected, w);
    }

    [Fact]
    public void BadShapesAndColumns_AreRefused_BeforeAnythingIsWritten()
    {
        float[] w = new float[12], v = Enumerable.Repeat(1f, 12).ToArray();
        Assert.Throws<ArgumentException>(() => MatrixOps.AddToColumns<float>(w, 5, [0], v, 1));          // 12 is not rows × 5
        Assert.Throws<ArgumentException>(() => MatrixOps.AddToColumns<float>(w, 4, [0, 1, 2], v, 2));    // not whole steps
        Assert.Throws<ArgumentException>(() => MatrixOps.AddToColumns<float>(w, 4, [0, 1, 2, 3, 0], v, 1)); // v holds 4 rows of 3
        Assert.Throws<ArgumentOutOfRangeException>(() => MatrixOps.AddToColumns<float>(w, 4, [0, 4], v, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => MatrixOps.AddToColumns<float>(w, 4, [0], v, 0));
        Assert.All(w, x => Assert.Equal(0f, x));
    }
}
