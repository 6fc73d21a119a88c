using System.Numerics;
using RnnGen.Kernels;
using RnnGen.Tests.Generated;

namespace RnnGen.Tests.Kernels;

/// <summary>The packed kernels against naive loops, for sizes around every block and vector boundary.</summary>
public class PackedMatrixTests
{
    public static TheoryData<int, int, int> Shapes() => new()
    {
        { 1, 1, 0 }, { 3, 5, 0 }, { 64, 1, 16 }, { 65, 7, 9 }, { 128, 64, 64 }, { 20, 3, 5 }, { 200, 0, 33 }, { 17, 2, 0 },
    };

    [Theory, MemberData(nameof(Shapes))]
    public void Float(int rows, int left, int right) => Check<float>(rows, left, right, 1e-5);

    [Theory, MemberData(nameof(Shapes))]
    public void Double(int rows, int left, int right) => Check<double>(rows, left, right, 1e-13);

    private static void Check<T>(int rows, int left, int right, double tolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var wl = Harness.Random<T>(rows * left, 1);
        var wr = Harness.Random<T>(rows * right, 2);
        var b1 = Harness.Random<T>(rows, 3);
        var b2 = Harness.Random<T>(rows, 4);
        var x1 = Harness.Random<T>(left, 5);
        var x2 = Harness.Random<T>(right, 6);
        var m = new PackedMatrix<T>(rows, left, right);
        m.Pack(wl, wr, b1, b2);
        var y = new T[rows];
        m.Multiply(x1, x2, y);
        for (int r = 0; r < rows; r++)
        {
            double expected = double.CreateTruncating(b1[r]) + double.CreateTruncating(b2[r]);
            for (int k = 0; k < left; k++) expected += double.CreateTruncating(wl[r * left + k]) * double.CreateTruncating(x1[k]);
            for (int k = 0; k < right; k++) expected += double.CreateTruncating(wr[r * right + k]) * double.CreateTruncating(x2[k]);
            Assert.True(Math.Abs(expected - double.CreateTruncating(y[r])) <= tolerance * Math.Max(1, Math.Abs(expected)), $"row {r}: {expected} vs {y[r]}");
        }
        Assert.Throws<ArgumentException>(() => m.Multiply(x1, x2, new T[rows + 1]));
    }

    [Fact]
    public void TransposedColumns_FoldTheBiases()
    {
        var w = Harness.Random<float>(6 * 4, 1);
        var b = Harness.Random<float>(6, 2);
        var t = new TransposedMatrix<float>(6, 4);
        t.Pack(w, b, default);
        var y = new float[6];
        t.CopyColumn(2, y);
        for (int r = 0; r < 6; r++) Assert.Equal(w[r * 4 + 2] + b[r], y[r]);
        t.AddColumn(3, y);
        for (int r = 0; r < 6; r++) Assert.Equal(w[r * 4 + 2] + b[r] + (w[r * 4 + 3] + b[r]), y[r], 6);
        Assert.Throws<ArgumentOutOfRangeException>(() => t.AddColumn(4, y));
        // y is exactly a column long: a longer or shorter one is refused before anything is written
        float[] before = [.. y];
        foreach (int length in new[] { 5, 7 })
        {
            var other = new float[length];
            Assert.Equal("y", Assert.Throws<ArgumentException>(() => t.CopyColumn(1, other)).ParamName);
            Assert.Equal("y", Assert.Throws<ArgumentException>(() => t.AddColumn(1, other)).ParamName);
            Assert.All(other, v => Assert.Equal(0f, v));
        }
        Assert.Equal(before, y);
    }

    // A storage the kernels would read past, or of another type, is refused (the placement's storages come from Allocate).
    [Fact]
    public void UsingAStorageNotMadeForTheMatrix_IsRefused()
    {
        var m = new PackedMatrix<float>(64, 8, 8);
        IStreamedWeights weights = m;
        WeightStorage good = weights.Allocate();
        Assert.Throws<ArgumentException>(() => weights.Use(new WeightStorage(new float[4], 0)));
        Assert.Throws<ArgumentException>(() => weights.Use(new WeightStorage(new double[good.Array.Length], good.ByteOffset)));
        Assert.Throws<ArgumentException>(() => weights.Use(good with { ByteOffset = good.ByteOffset + 2 }));     // inside an element
        Assert.Throws<ArgumentException>(() => weights.Use(good with { ByteOffset = good.ByteOffset + 128 }));   // past the end
        weights.Use(good);
    }
}
