using RnnGen.Kernels;

namespace RnnGen.Tests.Kernels;

/// <summary>
/// <see cref="GateMatrix{T}"/>'s per-block sums against the products written out from PyTorch-layout weights in double,
/// for every slot layout (LSTM's four gates, GRU's split gate, the RNN's one gate), dense and token inputs, hidden sizes
/// below, at and above one block (a partial last block included), and both lane types.
/// </summary>
public class GateMatrixTests
{
    [Theory]
    [InlineData(4, false, 3, 5)]     // LSTM, less than one block
    [InlineData(4, false, 1, 16)]    // LSTM 1→16: one Vector512 block, two Vector256 ones
    [InlineData(4, false, 7, 37)]    // several blocks, the last one partial
    [InlineData(3, true, 4, 21)]     // GRU: slots r, z, W_in·x + b_in, W_hn·h + b_hn
    [InlineData(1, false, 6, 19)]    // vanilla RNN: one slot
    public void Sums_MatchTheProductsOfTheParameters(int gates, bool split, int inputs, int units)
    {
        Check<Lanes<double>.Wide>(gates, split, inputs, units, token: false);
        Check<Lanes<double>.Portable>(gates, split, inputs, units, token: false);
        Check<Lanes<double>.Wide>(gates, split, inputs, units, token: true);
        Check<Lanes<double>.Portable>(gates, split, inputs, units, token: true);
    }

    private static void Check<L>(int gates, bool split, int inputs, int units, bool token) where L : struct, ILanes<L, double>
    {
        var random = new Random(gates * 1000 + inputs * 100 + units);
        double[] Random(int n) => Enumerable.Range(0, n).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        int rows = gates * units;
        double[] wih = Random(rows * inputs), whh = Random(rows * units), bih = Random(rows), bhh = Random(rows);
        double[] x = Random(inputs), h = Random(units);
        int tokenId = inputs / 2;
        var matrix = new TestMatrix(gates, units, inputs, split);
        if (matrix.Width != L.Count) return;   // the matrix packs for the lanes this machine runs; the other type is not used with it
        matrix.Inner.Pack(wih, whh, bih, bhh);

        // the expected sums, per gate: input part and hidden part (with their biases)
        double InputPart(int row)
        {
            double s = bih[row];
            if (token) return s + wih[row * inputs + tokenId];
            for (int k = 0; k < inputs; k++) s += wih[row * inputs + k] * x[k];
            return s;
        }
        double HiddenPart(int row)
        {
            double s = bhh[row];
            for (int k = 0; k < units; k++) s += whh[row * units + k] * h[k];
            return s;
        }

        for (int j = 0; j < units; j += L.Count)
        {
            var slots = new double[4][];
            if (gates == 1)
            {
                L sum = token ? matrix.Inner.MultiplySingle<L>(tokenId, h, j) : matrix.Inner.MultiplySingle<L>(x, h, j);
                slots[0] = Unpack(sum);
            }
            else
            {
                var sums = split
                    ? (token ? matrix.Inner.MultiplySplit<L>(tokenId, h, j) : matrix.Inner.MultiplySplit<L>(x, h, j))
                    : (token ? matrix.Inner.Multiply<L>(tokenId, h, j) : matrix.Inner.Multiply<L>(x, h, j));
                slots = [Unpack(sums.Z0), Unpack(sums.Z1), Unpack(sums.Z2), Unpack(sums.Z3)];
            }
            for (int lane = 0; lane < L.Count && j + lane < units; lane++)
            {
                int unit = j + lane;
                for (int gate = 0; gate < gates; gate++)
                {
                    int row = gate * units + unit;
                    if (split && gate == gates - 1)
                    {
                        Close(InputPart(row), slots[gate][lane], $"gate {gate} input part, unit {unit}");
                        Close(HiddenPart(row), slots[gate + 1][lane], $"gate {gate} hidden part, unit {unit}");
                    }
                    else
                    {
                        Close(InputPart(row) + HiddenPart(row), slots[gate][lane], $"gate {gate}, unit {unit}");
                    }
                }
            }
        }
    }

    private static double[] Unpack<L>(L value) where L : struct, ILanes<L, double>
    {
        var lanes = new double[L.Count];
        L.Store(value, lanes, 0);
        return lanes;
    }

    private static void Close(double expected, double actual, string what) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-12 * (1 + Math.Abs(expected)), $"{what}: expected {expected:R}, got {actual:R}");

    [Fact]
    public void Pack_RejectsWrongLengths()
    {
        var matrix = new GateMatrix<float>(gates: 4, units: 3, inputs: 2);
        var ex = Assert.Throws<ArgumentException>(() => matrix.Pack(new float[12 * 2], new float[12 * 3], new float[11], new float[12]));
        Assert.Equal("biasIh", ex.ParamName);
    }

    [Fact]
    public void Constructor_RejectsShapesOtherThanTheThreeCells()
    {
        Assert.Throws<ArgumentException>(() => new GateMatrix<float>(gates: 2, units: 3, inputs: 2));
        Assert.Throws<ArgumentException>(() => new GateMatrix<float>(gates: 4, units: 3, inputs: 2, splitLastGate: true));
        Assert.Throws<ArgumentException>(() => new GateMatrix<float>(gates: 3, units: 3, inputs: 2));
    }

    [Fact]
    public void Multiply_WithTheOtherLaneWidth_Throws()
    {
        var matrix = new GateMatrix<float>(gates: 4, units: 3, inputs: 2);
        float[] x = new float[2], h = new float[3];
        if (Lanes<float>.Wide.Count != Lanes<float>.Portable.Count)
        {
            if (Lanes<float>.IsWide) Assert.Throws<InvalidOperationException>(() => matrix.Multiply<Lanes<float>.Portable>(x, h, 0));
            else Assert.Throws<InvalidOperationException>(() => matrix.Multiply<Lanes<float>.Wide>(x, h, 0));
        }
        Assert.Throws<InvalidOperationException>(() => Lanes<float>.IsWide
            ? matrix.MultiplySingle<Lanes<float>.Wide>(x, h, 0)
            : matrix.MultiplySingle<Lanes<float>.Portable>(x, h, 0));   // four gates, asked for one
        Assert.Throws<InvalidOperationException>(() => Lanes<float>.IsWide
            ? matrix.MultiplySplit<Lanes<float>.Wide>(x, h, 0)
            : matrix.MultiplySplit<Lanes<float>.Portable>(x, h, 0));    // four gates, asked for a split three
    }

    /// <summary>A matrix of doubles for the tests (the product is then exact enough to compare at 1e-12).</summary>
    private sealed class TestMatrix(int gates, int units, int inputs, bool split)
    {
        public GateMatrix<double> Inner { get; } = new(gates, units, inputs, split);
        public int Width => Inner.Width;
    }
}
