using RnnGen.Kernels;
using RnnGen.Tests.Generated;
using RnnGen.Tests.Models;

namespace RnnGen.Tests.Kernels;

/// <summary>
/// <see cref="Placement"/>: of the candidate placements of a model's streamed weights, the one timed fastest is kept,
/// only for weights of 256 KB to 4 MB, and no result depends on the choice. The timing is replaced by a function (for
/// this test's thread only) where the choice itself is checked; what the clock chooses is what the benchmarks measure.
/// </summary>
public class PlacementTests
{
    [Fact]
    public void Choose_KeepsTheCandidateTimedFastest_ForEveryMatrix()
    {
        var a = new FakeWeights(200 * 1024);
        var b = new FakeWeights(100 * 1024);
        var seen = new List<WeightStorage[]>();
        Placement.TimeOverride = (k, storages) =>
        {
            if (seen.Count < Placement.CandidatesFor(300 * 1024)) seen.Add(storages);
            return k == 7 ? 1 : 10 + k;
        };
        try
        {
            Placement.Choose(a, b);
        }
        finally
        {
            Placement.TimeOverride = null;
        }

        Assert.Equal(24, Placement.CandidatesFor(300 * 1024));
        Assert.Equal(24, seen.Count);
        Assert.Equal(23, a.Allocations); // the current placement is a candidate too
        Assert.Same(seen[7][0].Array, a.Storage.Array);
        Assert.Same(seen[7][1].Array, b.Storage.Array);
        Assert.Equal(seen[7][0].ByteOffset, a.Storage.ByteOffset);
        Assert.Equal(1, a.Uses);
    }

    // as many candidates as fit in 24 MB, 8 to 24
    [Theory, InlineData(256 * 1024, 24), InlineData(904 * 1024, 24), InlineData(2 * 1024 * 1024, 12), InlineData(4 * 1024 * 1024, 8)]
    public void TheCandidates_FitIn24MB_From8To24(int bytes, int candidates) => Assert.Equal(candidates, Placement.CandidatesFor(bytes));

    [Theory, InlineData(100 * 1024), InlineData(5 * 1024 * 1024)]
    public void Choose_LeavesWeightsOutsideTheRange_WhereTheyAre(int bytes)
    {
        var weights = new FakeWeights(bytes);
        var before = weights.Storage;
        Placement.Choose(weights);
        Assert.Equal(0, weights.Allocations);
        Assert.Equal(before, weights.Storage);
    }

    // The char model's streamed weights (W_hh0, [W_ih1 | W_hh1], the head: 790 KB) are placed at their first
    // ParametersChanged (here on candidate 7, so that they move for sure); Step and Forward give the same bits as
    // a model that kept its first placement.
    [Fact]
    public void AModelPlacedElsewhere_ComputesTheBitsOfOneThatWasNot()
    {
        var placed = new LstmTokensTeam();
        var before = StreamedStorage(placed);
        Placement.TimeOverride = (k, _) => k == 7 ? 1 : 2;
        try
        {
            placed.InitializeParameters(3);
        }
        finally
        {
            Placement.TimeOverride = null;
        }
        Assert.NotSame(before.Array, StreamedStorage(placed).Array);

        var kept = new LstmTokensTeam();
        before = StreamedStorage(kept);
        Placement.Enabled = false;
        try
        {
            kept.InitializeParameters(3);
        }
        finally
        {
            Placement.Enabled = true;
        }
        Assert.Same(before.Array, StreamedStorage(kept).Array);

        int[] tokens = Harness.RandomTokens(9, LstmTokensTeam.InputSize, 4);
        Assert.Equal(Outputs(kept, tokens), Outputs(placed, tokens));
    }

    // the storage of the first matrix a step streams (layer 0's W_hh of this token model)
    private static WeightStorage StreamedStorage(LstmTokensTeam model) =>
        ((IStreamedWeights)typeof(LstmTokensTeam).GetField("_hidden0", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!
            .GetValue(model)!).Storage;

    [Fact]
    public void APackedMatrixOnNewStorage_MultipliesAsBefore()
    {
        int rows = 70, left = 9, right = 5;
        float[] w1 = Harness.Random<float>(rows * left, 1), w2 = Harness.Random<float>(rows * right, 2), bias = Harness.Random<float>(rows, 3);
        float[] x1 = Harness.Random<float>(left, 4), x2 = Harness.Random<float>(right, 5);
        var first = new PackedMatrix<float>(rows, left, right);
        first.Pack(w1, w2, bias, default);
        var moved = new PackedMatrix<float>(rows, left, right);
        IStreamedWeights weights = moved;
        var storage = weights.Allocate();
        weights.Use(storage);
        moved.Pack(w1, w2, bias, default);

        Assert.Same(storage.Array, weights.Storage.Array);
        Assert.Equal(0, (System.Runtime.InteropServices.Marshal.UnsafeAddrOfPinnedArrayElement(storage.Array, 0) + storage.ByteOffset) % 64);
        float[] y1 = new float[rows], y2 = new float[rows];
        first.Multiply(x1, x2, y1);
        moved.Multiply(x1, x2, y2);
        Assert.Equal(y1, y2);
    }

    private static float[] Outputs(LstmTokensTeam model, int[] tokens)
    {
        var state = new LstmTokensTeam.State();
        var stepped = new float[tokens.Length * LstmTokensTeam.OutputWidth];
        for (int t = 0; t < tokens.Length; t++)
            model.Step(tokens[t], ref state, stepped.AsSpan(t * LstmTokensTeam.OutputWidth, LstmTokensTeam.OutputWidth));
        var forwardState = new LstmTokensTeam.State();
        var forward = new float[stepped.Length];
        model.Forward(tokens, ref forwardState, new LstmTokensTeam.Tape(tokens.Length), forward);
        return [.. stepped, .. forward];
    }

    private sealed class FakeWeights(int bytes) : IStreamedWeights
    {
        public int Allocations, Uses;

        public int StreamedBytes => bytes;

        public WeightStorage Storage { get; private set; } = new(new byte[bytes + 64], 0);

        public WeightStorage Allocate()
        {
            Allocations++;
            return new(new byte[bytes + 64], 0);
        }

        public void Use(WeightStorage storage)
        {
            Uses++;
            Storage = storage;
        }
    }
}
