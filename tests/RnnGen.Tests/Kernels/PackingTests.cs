using System.Numerics;
using RnnGen.Kernels;
using RnnGen.Tests.Generated;

namespace RnnGen.Tests.Kernels;

/// <summary>
/// What <see cref="PackedMatrix{T}.Pack"/> and <see cref="TransposedMatrix{T}.Pack"/> store, bit for bit: the tiled
/// transpose against the element-by-element definition, and each packed column read back through the public products.
/// </summary>
public class PackingTests
{
    // around the 8 × 8 (float) and 4 × 4 (double) tiles and the 16–64-row blocks
    public static TheoryData<int, int> TransposeShapes() => new()
    {
        { 1, 1 }, { 1, 9 }, { 9, 1 }, { 3, 5 }, { 4, 4 }, { 8, 8 }, { 7, 9 }, { 16, 24 }, { 17, 33 }, { 64, 128 }, { 65, 130 }, { 512, 65 },
    };

    [Theory, MemberData(nameof(TransposeShapes))]
    public void Transpose_float_is_the_element_by_element_transpose(int rows, int columns) => Transpose<float>(rows, columns);

    [Theory, MemberData(nameof(TransposeShapes))]
    public void Transpose_double_is_the_element_by_element_transpose(int rows, int columns) => Transpose<double>(rows, columns);

    [Theory, MemberData(nameof(TransposeShapes))]
    public void Transpose_of_other_types_is_the_element_by_element_transpose(int rows, int columns) => Transpose<int>(rows, columns);

    private static void Transpose<T>(int rows, int columns) where T : unmanaged, INumber<T>
    {
        foreach (int stride in new[] { rows, rows + 5 })
        {
            T[] source = Enumerable.Range(0, rows * columns).Select(i => T.CreateTruncating(i + 1)).ToArray();
            T sentinel = T.CreateTruncating(-7);
            T[] destination = Enumerable.Repeat(sentinel, (columns - 1) * stride + rows + 3).ToArray();
            PackTranspose.Transpose<T>(source, rows, columns, destination, stride);
            for (int k = 0; k < columns; k++)
                for (int i = 0; i < stride; i++)
                {
                    int at = k * stride + i;
                    if (at >= destination.Length) continue;
                    T expected = i < rows ? source[i * columns + k] : sentinel; // nothing between the columns is written
                    Assert.True(expected == destination[at], $"{typeof(T).Name} {rows}×{columns} stride {stride}: [{k}, {i}] = {destination[at]}, expected {expected}");
                }
            Assert.All(destination[^3..], x => Assert.Equal(sentinel, x));
        }
    }

    [Fact]
    public void Transpose_rejects_spans_too_short_for_the_shape()
    {
        Assert.Throws<ArgumentException>(() => PackTranspose.Transpose<float>(new float[11], 3, 4, new float[12], 3));
        Assert.Throws<ArgumentException>(() => PackTranspose.Transpose<float>(new float[12], 3, 4, new float[11], 3));
        Assert.Throws<ArgumentException>(() => PackTranspose.Transpose<float>(new float[12], 3, 4, new float[12], 2));
    }

    // char-rnn's matrices (512 × 128, 512 × [128 | 128], 65 × 128) and shapes around every block and tile edge
    public static TheoryData<int, int, int> PackedShapes() => new()
    {
        { 512, 128, 0 }, { 512, 128, 128 }, { 65, 128, 0 }, { 1, 1, 0 }, { 3, 5, 7 }, { 64, 9, 16 }, { 67, 0, 33 }, { 130, 65, 3 },
    };

    [Theory, MemberData(nameof(PackedShapes))]
    public void Packed_float_columns_read_back_exactly(int rows, int left, int right) => PackedColumns<float>(rows, left, right);

    [Theory, MemberData(nameof(PackedShapes))]
    public void Packed_double_columns_read_back_exactly(int rows, int left, int right) => PackedColumns<double>(rows, left, right);

    /// <summary>
    /// The product with a unit vector e_k is bias + column k, and each row rounds only that one sum (the other columns add
    /// w·0 = 0): so it shows every packed weight and bias exactly. Packed twice, as every optimizer step does, so that the
    /// second pack is seen to overwrite the first.
    /// </summary>
    private static void PackedColumns<T>(int rows, int left, int right) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var m = new PackedMatrix<T>(rows, left, right);
        m.Pack(Harness.Random<T>(rows * left, 10), Harness.Random<T>(rows * right, 11), Harness.Random<T>(rows, 12), default);
        T[] wl = Harness.Random<T>(rows * left, 1), wr = Harness.Random<T>(rows * right, 2);
        T[] b1 = Harness.Random<T>(rows, 3), b2 = Harness.Random<T>(rows, 4);
        m.Pack(wl, wr, b1, b2);

        var x1 = new T[left];
        var x2 = new T[right];
        var y = new T[rows];
        for (int k = 0; k < left + right; k++)
        {
            Array.Clear(x1);
            Array.Clear(x2);
            if (k < left) x1[k] = T.One; else x2[k - left] = T.One;
            m.Multiply(x1, x2, y);
            for (int r = 0; r < rows; r++)
            {
                T w = k < left ? wl[r * left + k] : wr[r * right + k - left];
                T expected = (b1[r] + b2[r]) + w;
                Assert.True(expected == y[r], $"{typeof(T).Name} {rows}×[{left}|{right}]: row {r}, column {k}: {y[r]}, expected {expected}");
            }
        }
    }

    [Theory]
    [InlineData(512, 65)]
    [InlineData(6, 4)]
    [InlineData(3, 1)]
    [InlineData(9, 17)]
    public void Transposed_columns_are_the_weights_plus_both_biases(int rows, int columns)
    {
        float[] w = Harness.Random<float>(rows * columns, 1), b1 = Harness.Random<float>(rows, 2), b2 = Harness.Random<float>(rows, 3);
        var t = new TransposedMatrix<float>(rows, columns);
        var y = new float[rows];
        foreach (var (first, second) in new (float[], float[])[] { (b1, b2), (b1, []), ([], []) })
        {
            t.Pack(w, first, second);
            for (int c = 0; c < columns; c++)
            {
                t.CopyColumn(c, y);
                for (int r = 0; r < rows; r++)
                {
                    // (w + b₁) + b₂, an absent bias counting as 0
                    float expected = w[r * columns + c] + (first.Length > 0 ? first[r] : 0f) + (second.Length > 0 ? second[r] : 0f);
                    Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(y[r]));
                }
            }
        }
    }

    [Fact]
    public void Transposed_negative_zero_weights_become_plus_zero_as_weight_plus_a_zero_bias()
    {
        var t = new TransposedMatrix<double>(3, 2);
        t.Pack([-0.0, 1, -0.0, -0.0, 2, -0.0], default, default);
        var y = new double[3];
        t.CopyColumn(0, y);
        Assert.Equal([0.0, 0.0, 2.0], y);
        Assert.All(y, v => Assert.False(double.IsNegative(v)));
    }
}
