using RnnGen.Kernels;

namespace RnnGen.Tests.Kernels;

/// <summary>
/// <see cref="GateMatrix{T}"/>'s sums against the products written out from PyTorch-layout weights in double, for every
/// slot layout (LSTM's four gates, GRU's split gate, the RNN's one gate), dense and token inputs, and hidden sizes below,
/// at and above one block: a partial last block, and (with 512-bit lanes, where two blocks are interleaved) whole pairs,
/// pairs followed by a lone block, and a pair whose second block is partial. The lane width is this machine's; run the
/// tests with DOTNET_EnableAVX512=0 / DOTNET_EnableAVX2=0 to cover the others.
/// </summary>
public class GateMatrixTests
{
    [Theory]
    [InlineData(4, false, 3, 5)]     // LSTM, less than one block
    [InlineData(4, false, 1, 16)]    // two blocks of 8 doubles: one pair
    [InlineData(4, false, 7, 37)]    // five blocks: two pairs and a lone partial block
    [InlineData(4, false, 5, 12)]    // a pair whose second block is partial
    [InlineData(3, true, 4, 21)]     // GRU: slots r, z, W_in·x + b_in, W_hn·h + b_hn (a pair and a lone block)
    [InlineData(3, true, 2, 32)]     // GRU: two pairs
    [InlineData(1, false, 6, 19)]    // vanilla RNN: one slot
    public void Sums_MatchTheProductsOfTheParameters(int gates, bool split, int inputs, int units)
    {
        Check(gates, split, inputs, units, token: false);
        Check(gates, split, inputs, units, token: true);
    }

    private static void Check(int gates, bool split, int inputs, int units, bool token)
    {
        var random = new Random(gates * 1000 + inputs * 100 + units);
        double[] Random(int n) => Enumerable.Range(0, n).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        int rows = gates * units;
        double[] wih = Random(rows * inputs), whh = Random(rows * units), bih = Random(rows), bhh = Random(rows);
        double[] x = Random(inputs), h = Random(units);
        int tokenId = inputs / 2;
        var matrix = new GateMatrix<double>(gates, units, inputs, split);
        matrix.Pack(wih, whh, bih, bhh);
        int slots = matrix.Slots, width = matrix.Width;
        Assert.Equal(slots * ((units + width - 1) / width) * width, matrix.SumsLength);
        double[] sums = (token ? matrix.Sums(tokenId, h) : matrix.Sums(x, h)).ToArray();
        Assert.Equal(matrix.SumsLength, sums.Length);

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
        // the sums of units j … j + width − 1 from slots·j on, one vector per slot
        double Sum(int unit, int slot) => sums[slots * (unit / width * width) + slot * width + unit % width];

        for (int unit = 0; unit < units; unit++)
        {
            for (int gate = 0; gate < gates; gate++)
            {
                int row = gate * units + unit;
                if (split && gate == gates - 1)
                {
                    Close(InputPart(row), Sum(unit, gate), $"gate {gate} input part, unit {unit}");
                    Close(HiddenPart(row), Sum(unit, gate + 1), $"gate {gate} hidden part, unit {unit}");
                }
                else
                {
                    Close(InputPart(row) + HiddenPart(row), Sum(unit, gate), $"gate {gate}, unit {unit}");
                }
            }
        }
        // the lanes past the last unit are zero padding
        for (int unit = units; unit < (units + width - 1) / width * width; unit++)
            for (int slot = 0; slot < slots; slot++)
                Assert.Equal(0.0, Sum(unit, slot));
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
    public void Sums_RejectsWrongLengths_BeforeWritingAnything()
    {
        var matrix = new GateMatrix<float>(gates: 4, units: 3, inputs: 2);
        float[] Filled(int n) => Enumerable.Range(1, n).Select(i => 0.25f * i).ToArray();
        matrix.Pack(Filled(12 * 2), Filled(12 * 3), Filled(12), Filled(12));
        ReadOnlySpan<float> view = matrix.Sums(new float[] { 1, 2 }, new float[] { 3, 4, 5 });
        float[] before = view.ToArray();
        Assert.Contains(before, v => v != 0);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => matrix.Sums(new float[3], new float[3])).ParamName);
        Assert.Equal("h", Assert.Throws<ArgumentException>(() => matrix.Sums(new float[2], new float[4])).ParamName);
        Assert.Equal("h", Assert.Throws<ArgumentException>(() => matrix.Sums(1, new float[2])).ParamName);
        Assert.Equal("token", Assert.Throws<ArgumentOutOfRangeException>(() => matrix.Sums(2, new float[3])).ParamName);
        Assert.Equal("token", Assert.Throws<ArgumentOutOfRangeException>(() => matrix.Sums(-1, new float[3])).ParamName);
        // the buffer still holds the last good call's sums
        Assert.Equal(before, view.ToArray());
    }

    [Fact]
    public void Sums_StartOnA64ByteBoundary()
    {
        var matrix = new GateMatrix<float>(gates: 4, units: 40, inputs: 3);
        ReadOnlySpan<float> sums = matrix.Sums(new float[3], new float[40]);
        // the address itself (the buffer is pinned): the byte offset from null
        long address = (long)System.Runtime.CompilerServices.Unsafe.ByteOffset(
            ref System.Runtime.CompilerServices.Unsafe.NullRef<float>(), ref System.Runtime.InteropServices.MemoryMarshal.GetReference(sums));
        Assert.Equal(0L, address % 64);
    }

    [Fact]
    public void GateSumsLoad_ReadsABlocksFourSlots_AndRejectsAShortBuffer()
    {
        if (Lanes<float>.IsWide) LoadBlocks<Lanes<float>.Wide>();
        else LoadBlocks<Lanes<float>.Portable>();
    }

    private static void LoadBlocks<L>() where L : struct, ILanes<L, float>
    {
        int n = L.Count;
        var buffer = Enumerable.Range(0, 4 * 2 * n).Select(i => (float)i).ToArray();   // two blocks
        for (int unit = 0; unit < 2 * n; unit += n)
        {
            GateSums<L> sums = GateSums.Load<L, float>(buffer, unit);
            var slots = new[] { sums.Z0, sums.Z1, sums.Z2, sums.Z3 };
            for (int slot = 0; slot < 4; slot++)
            {
                var lanes = new float[n];
                L.Store(slots[slot], lanes, 0);
                for (int lane = 0; lane < n; lane++)
                    Assert.Equal(4 * unit + slot * n + lane, lanes[lane]);   // slot s of units j… at 4·j + s·Count
            }
        }
        Assert.Equal("buffer", Assert.Throws<ArgumentException>(() => GateSums.Load<L, float>(buffer.AsSpan(0, 4 * 2 * n - 1), n)).ParamName);
    }
}
