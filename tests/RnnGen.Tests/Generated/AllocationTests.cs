using RnnGen.Tests.Models;

namespace RnnGen.Tests.Generated;

/// <summary>Step, Forward and Backward allocate nothing once the model, state and tape exist.</summary>
public class AllocationTests
{
    [Fact]
    public void Lstm_Dense_Head()
    {
        var m = new LstmF2x6Head();
        m.InitializeParameters(1);
        var state = new LstmF2x6Head.State();
        var grad = new LstmF2x6Head.State();
        var tape = new LstmF2x6Head.Tape(16);
        var x = new float[16 * LstmF2x6Head.InputSize];
        var y = new float[16 * LstmF2x6Head.OutputWidth];
        var dx = new float[x.Length];

        void Run()
        {
            m.Step(x.AsSpan(0, LstmF2x6Head.InputSize), ref state, y.AsSpan(0, LstmF2x6Head.OutputWidth));
            m.Forward(x, ref state, tape, y);
            m.Backward(tape, y, dx);
            m.Backward(tape, y, dx, ref grad);
        }
        AssertNoAllocation(Run);
    }

    // Above the in-place size, alone and on a CoreTeam of two (adaptive: its probes take timestamps, and allocate nothing
    // either). The calling thread is the team's part 0 and runs the same generated code as the helper part; the
    // process-wide count would include the other tests that xUnit runs in parallel.
    [Theory, InlineData(false), InlineData(true)]
    public void Lstm_AboveTheInPlaceStepSize(bool onATeam)
    {
        using var team = onATeam ? new CoreTeam(2) : null;
        var m = new LstmFChunked { Team = team };
        m.InitializeParameters(1);
        var state = new LstmFChunked.State();
        var tape = new LstmFChunked.Tape(4);
        var x = new float[4 * LstmFChunked.InputSize];
        var y = new float[4 * LstmFChunked.OutputWidth];

        void Run()
        {
            m.Step(x.AsSpan(0, LstmFChunked.InputSize), ref state, y.AsSpan(0, LstmFChunked.OutputWidth));
            m.Forward(x, ref state, tape, y);
            m.Backward(tape, y);
        }
        AssertNoAllocation(Run);
    }

    [Fact]
    public void Lstm_Tokens()
    {
        var m = new LstmFTokens();
        m.InitializeParameters(1);
        var state = new LstmFTokens.State();
        var grad = new LstmFTokens.State();
        var tape = new LstmFTokens.Tape(16);
        var tokens = Harness.RandomTokens(16, LstmFTokens.InputSize, 2);
        var y = new float[16 * LstmFTokens.OutputWidth];

        void Run()
        {
            m.Step(tokens[0], ref state, y.AsSpan(0, LstmFTokens.OutputWidth));
            m.Forward(tokens, ref state, tape, y);
            m.Backward(tape, y);
            m.Backward(tape, y, default, ref grad);
        }
        AssertNoAllocation(Run);
    }

    [Fact]
    public void Gru_And_Rnn()
    {
        var g = new GruFTokens();
        var gs = new GruFTokens.State();
        var gt = new GruFTokens.Tape(8);
        var r = new RnnReluF2x5();
        var rs = new RnnReluF2x5.State();
        var rt = new RnnReluF2x5.Tape(8);
        var tokens = Harness.RandomTokens(8, GruFTokens.InputSize, 2);
        var gy = new float[8 * GruFTokens.OutputWidth];
        var rx = new float[8 * RnnReluF2x5.InputSize];
        var ry = new float[8 * RnnReluF2x5.OutputWidth];

        void Run()
        {
            g.Step(tokens[0], ref gs, gy.AsSpan(0, GruFTokens.OutputWidth));
            g.Forward(tokens, ref gs, gt, gy);
            g.Backward(gt, gy);
            r.Step(rx.AsSpan(0, RnnReluF2x5.InputSize), ref rs, ry.AsSpan(0, RnnReluF2x5.OutputWidth));
            r.Forward(rx, ref rs, rt, ry);
            r.Backward(rt, ry, rx);
        }
        AssertNoAllocation(Run);
    }

    // double precision, a dense GRU, and the overloads that chain a state gradient, for every cell kind
    [Fact]
    public void Double_DenseGru_AndStateGradients()
    {
        var l = new LstmD2x6Head();
        var ls = new LstmD2x6Head.State();
        var lg = new LstmD2x6Head.State();
        var lt = new LstmD2x6Head.Tape(8);
        var lx = new double[8 * LstmD2x6Head.InputSize];
        var ly = new double[8 * LstmD2x6Head.OutputWidth];
        var g = new GruF40();
        var gs = new GruF40.State();
        var gg = new GruF40.State();
        var gt = new GruF40.Tape(8);
        var gx = new float[8 * GruF40.InputSize];
        var gy = new float[8 * GruF40.OutputWidth];
        var r = new RnnTanhD3x5();
        var rs = new RnnTanhD3x5.State();
        var rg = new RnnTanhD3x5.State();
        var rt = new RnnTanhD3x5.Tape(8);
        var rx = new double[8 * RnnTanhD3x5.InputSize];
        var ry = new double[8 * RnnTanhD3x5.OutputWidth];
        l.InitializeParameters(1);
        g.InitializeParameters(2);
        r.InitializeParameters(3);

        void Run()
        {
            l.Step(lx.AsSpan(0, LstmD2x6Head.InputSize), ref ls, ly.AsSpan(0, LstmD2x6Head.OutputWidth));
            l.Forward(lx, ref ls, lt, ly);
            l.Backward(lt, ly, lx, ref lg);
            g.Step(gx.AsSpan(0, GruF40.InputSize), ref gs, gy.AsSpan(0, GruF40.OutputWidth));
            g.Forward(gx, ref gs, gt, gy);
            g.Backward(gt, gy, gx, ref gg);
            r.Step(rx.AsSpan(0, RnnTanhD3x5.InputSize), ref rs, ry.AsSpan(0, RnnTanhD3x5.OutputWidth));
            r.Forward(rx, ref rs, rt, ry);
            r.Backward(rt, ry, rx, ref rg);
        }
        AssertNoAllocation(Run);
    }

    // The check itself: an allocation made by every call is seen in every window; one made once is not.
    [Fact]
    public void TheCheck_SeesSteadyAllocations_AndNotOneOffOnes()
    {
        object? keep = null;
        Assert.True(SteadyAllocation.Fewest(() => keep = new byte[16]) >= 10 * 16);
        int calls = 0;
        Assert.Equal(0, SteadyAllocation.Fewest(() => { if (++calls == 5) keep = new byte[1024]; }));
        GC.KeepAlive(keep);
    }

    // ten calls allocate nothing, in the fewest of several windows (a one-off allocation of the runtime is not the call's)
    private static void AssertNoAllocation(Action run) => Assert.Equal(0, SteadyAllocation.Fewest(run));
}
