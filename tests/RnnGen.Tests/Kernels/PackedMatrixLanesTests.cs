using System.Numerics;
using RnnGen.Kernels;
using RnnGen.Tests.Generated;

namespace RnnGen.Tests.Kernels;

/// <summary>
/// The multi-lane product <c>y_b = bias + W·[x1_b; x2_b]</c> against a naive double-precision loop, for shapes around
/// every block and vector boundary, lane counts around every tile size, strides wider than the rows; what it must not
/// write; and its argument checks.
/// </summary>
public class PackedMatrixLanesTests
{
    private const float Sentinel = -12345.5f;

    public static TheoryData<int, int, int> Shapes() => new()
    {
        { 1, 1, 0 }, { 1, 0, 3 }, { 3, 5, 0 }, { 64, 1, 16 }, { 65, 7, 9 }, { 128, 64, 64 }, { 20, 3, 5 }, { 200, 0, 33 },
        { 17, 2, 0 }, { 33, 40, 1 }, { 100, 13, 0 },
    };

    public static TheoryData<int> LaneCounts()
    {
        var data = new TheoryData<int>();
        for (int lanes = 1; lanes <= 17; lanes++) data.Add(lanes);
        return data;
    }

    [Theory, MemberData(nameof(Shapes))]
    public void Float_AllLaneCounts(int rows, int left, int right)
    {
        for (int lanes = 1; lanes <= 17; lanes++) Check<float>(rows, left, right, lanes, seed: lanes);
    }

    [Theory, MemberData(nameof(Shapes))]
    public void Double_AllLaneCounts(int rows, int left, int right)
    {
        for (int lanes = 1; lanes <= 17; lanes++) Check<double>(rows, left, right, lanes, seed: lanes);
    }

    [Theory, MemberData(nameof(LaneCounts))]
    public void EveryLane_EqualsTheOneLaneProduct_Bitwise(int lanes)
    {
        // each lane's sum runs in the same order whatever tile it falls in: batching changes no bit
        const int rows = 97, left = 19, right = 24, s1 = 23, s2 = 24, sy = 101;
        var m = NewMatrix<float>(rows, left, right, 7);
        var x1 = Harness.Random<float>(lanes * s1, 8);
        var x2 = Harness.Random<float>(lanes * s2, 9);
        var y = new float[lanes * sy];
        m.Multiply(lanes, x1, s1, x2, s2, y, sy);
        var one = new float[rows];
        for (int b = 0; b < lanes; b++)
        {
            m.Multiply(x1.AsSpan(b * s1, left), x2.AsSpan(b * s2, right), one);
            Assert.True(one.AsSpan().SequenceEqual(y.AsSpan(b * sy, rows)), $"lane {b} differs from the one-lane product");
        }
    }

    [Fact]
    public void OneLane_EqualsTheSingleLaneOverload_Bitwise()
    {
        foreach (var (rows, left, right) in new[] { (1, 1, 0), (65, 7, 9), (200, 0, 33), (128, 64, 64) })
        {
            var m = NewMatrix<double>(rows, left, right, 3);
            var x1 = Harness.Random<double>(left, 4);
            var x2 = Harness.Random<double>(right, 5);
            var expected = new double[rows];
            m.Multiply(x1, x2, expected);
            var y = new double[rows + 3];
            y.AsSpan().Fill(Sentinel);
            m.Multiply(1, x1, left, x2, right, y, rows + 3);
            Assert.True(expected.AsSpan().SequenceEqual(y.AsSpan(0, rows)));
            Assert.All(y[rows..], v => Assert.Equal(Sentinel, v));
        }
    }

    [Fact]
    public void InputsOfNoColumns_AreIgnored()
    {
        // left only: x2 empty with any stride; right only: x1 default
        var leftOnly = NewMatrix<float>(70, 6, 0, 1);
        var x1 = Harness.Random<float>(3 * 6, 2);
        var y = new float[3 * 70];
        leftOnly.Multiply(3, x1, 6, default, -5, y, 70);
        var one = new float[70];
        leftOnly.Multiply(x1.AsSpan(12, 6), default, one);
        Assert.True(one.AsSpan().SequenceEqual(y.AsSpan(140, 70)));

        var rightOnly = NewMatrix<float>(70, 0, 6, 1);
        rightOnly.Multiply(3, default, 0, x1, 6, y, 70);
        rightOnly.Multiply(default, x1.AsSpan(6, 6), one);
        Assert.True(one.AsSpan().SequenceEqual(y.AsSpan(70, 70)));
    }

    [Fact]
    public void ZeroLanes_IsANoOp()
    {
        var m = NewMatrix<float>(5, 2, 3, 1);
        m.Multiply(0, default, 2, default, 3, default, 5);
        var y = new float[] { Sentinel };
        m.Multiply(0, new float[1], 2, new float[1], 3, y, 5);
        Assert.Equal(Sentinel, y[0]);
    }

    [Fact]
    public void BadArguments_ThrowBeforeWriting()
    {
        const int rows = 40, left = 5, right = 3, lanes = 3;
        var m = NewMatrix<float>(rows, left, right, 1);
        var x1 = new float[(lanes - 1) * 7 + left];
        var x2 = new float[(lanes - 1) * 4 + right];
        var y = new float[(lanes - 1) * 50 + rows];
        y.AsSpan().Fill(Sentinel);

        AssertThrows("x1", "need 19", () => m.Multiply(lanes, x1.AsSpan(1), 7, x2, 4, y, 50));
        AssertThrows("x2", "need 11", () => m.Multiply(lanes, x1, 7, x2.AsSpan(1), 4, y, 50));
        AssertThrows("y", "need 140", () => m.Multiply(lanes, x1, 7, x2, 4, y.AsSpan(1), 50));
        AssertThrows("x1", "at least the row width 5", () => m.Multiply(1, x1, 4, x2, 4, y, 50));
        AssertThrows("x2", "at least the row width 3", () => m.Multiply(1, x1, 7, x2, 2, y, 50));
        AssertThrows("y", "at least the row width 40", () => m.Multiply(1, x1, 7, x2, 4, y, 39));
        Assert.Throws<ArgumentOutOfRangeException>("lanes", () => m.Multiply(-1, x1, 7, x2, 4, y, 50));
        Assert.All(y, v => Assert.Equal(Sentinel, v));

        // the single-lane overload wants exact lengths
        AssertThrows("x1", "expected 5", () => m.Multiply(x1.AsSpan(0, 4), x2.AsSpan(0, 3), y.AsSpan(0, rows)));
        AssertThrows("y", "expected 40", () => m.Multiply(x1.AsSpan(0, 5), x2.AsSpan(0, 3), y.AsSpan(0, rows + 1)));
        Assert.All(y, v => Assert.Equal(Sentinel, v));
    }

    [Fact]
    public void OutputsOverlappingInputs_Throw_InterleavedLanesDoNot()
    {
        const int rows = 8, left = 3;
        var m = NewMatrix<float>(rows, left, 0, 1);
        // one record per lane: [x (3) | y (8)], stride 11: inputs and outputs interleave without sharing a value
        const int stride = left + rows, lanes = 4;
        var records = Harness.Random<float>(lanes * stride, 2);
        var expected = new float[rows];
        m.Multiply(lanes, records, stride, default, 0, records.AsSpan(left), stride);
        for (int b = 0; b < lanes; b++)
        {
            m.Multiply(records.AsSpan(b * stride, left), default, expected);
            Assert.True(expected.AsSpan().SequenceEqual(records.AsSpan(b * stride + left, rows)), $"lane {b}");
        }

        var buffer = Harness.Random<float>(64, 3);
        var before = (float[])buffer.Clone();
        // lane 0's output [21, 29) starts inside lane 2's input [20, 23)
        AssertThrows("y", "overlaps x1", () => m.Multiply(3, buffer, 10, default, 0, buffer.AsSpan(21), 9));
        // one lane, output on top of the input
        AssertThrows("y", "overlaps x1", () => m.Multiply(buffer.AsSpan(0, left), default, buffer.AsSpan(2, rows)));
        var m2 = NewMatrix<float>(rows, 2, 3, 1);
        AssertThrows("y", "overlaps x2", () => m2.Multiply(2, buffer, 2, buffer.AsSpan(40), 3, buffer.AsSpan(45), rows));
        Assert.Equal(before, buffer);
    }

    private static void AssertThrows(string parameter, string messagePart, Action action)
    {
        var e = Assert.Throws<ArgumentException>(parameter, action);
        Assert.Contains(messagePart, e.Message);
    }

    private static PackedMatrix<T> NewMatrix<T>(int rows, int left, int right, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var m = new PackedMatrix<T>(rows, left, right);
        m.Pack(Harness.Random<T>(rows * left, seed), Harness.Random<T>(rows * right, seed + 1), Harness.Random<T>(rows, seed + 2), Harness.Random<T>(rows, seed + 3));
        return m;
    }

    // y_b against Σ in double; the tolerance is the standard bound of a floating-point sum of n terms, (n + 2)·ε·Σ|terms|.
    private static void Check<T>(int rows, int left, int right, int lanes, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int s1 = left + 3, s2 = right + 1, sy = rows + 5;
        var wl = Harness.Random<T>(rows * left, seed);
        var wr = Harness.Random<T>(rows * right, seed + 1);
        var b1 = Harness.Random<T>(rows, seed + 2);
        var b2 = Harness.Random<T>(rows, seed + 3);
        var x1 = Harness.Random<T>(lanes * s1, seed + 4);
        var x2 = Harness.Random<T>(lanes * s2, seed + 5);
        var m = new PackedMatrix<T>(rows, left, right);
        m.Pack(wl, wr, b1, b2);
        var y = new T[lanes * sy + 7];
        y.AsSpan().Fill(T.CreateTruncating(Sentinel));
        m.Multiply(lanes, x1, s1, x2, s2, y, sy);

        static double D(T v) => double.CreateTruncating(v);
        double epsilon = D(T.BitIncrement(T.One) - T.One);
        for (int b = 0; b < lanes; b++)
            for (int r = 0; r < rows; r++)
            {
                double expected = D(b1[r]) + D(b2[r]), magnitude = Math.Abs(D(b1[r])) + Math.Abs(D(b2[r]));
                for (int k = 0; k < left; k++)
                {
                    double term = D(wl[r * left + k]) * D(x1[b * s1 + k]);
                    expected += term;
                    magnitude += Math.Abs(term);
                }
                for (int k = 0; k < right; k++)
                {
                    double term = D(wr[r * right + k]) * D(x2[b * s2 + k]);
                    expected += term;
                    magnitude += Math.Abs(term);
                }
                double bound = (left + right + 2) * epsilon * magnitude;
                double actual = D(y[b * sy + r]);
                Assert.True(Math.Abs(expected - actual) <= bound, $"{typeof(T).Name} {rows}x({left}+{right}) lanes {lanes}, lane {b} row {r}: {expected} vs {actual} (bound {bound:E2})");
            }
        // nothing outside the lanes' rows was written
        for (int i = 0; i < y.Length; i++)
        {
            int b = i / sy, r = i % sy;
            if (b < lanes && r < rows) continue;
            Assert.True(y[i] == T.CreateTruncating(Sentinel), $"{rows}x({left}+{right}) lanes {lanes}: y[{i}] was written");
        }
    }
}
