using RnnGen.Tests.Models;

namespace RnnGen.Tests.Generated;

/// <summary>Wrong span lengths and token ids throw ArgumentException naming the argument, before anything changes.</summary>
public class BadInputTests
{
    private static (LstmF2x6Head Model, LstmF2x6Head.State State, float[] StateBefore, float[] Gradients) Setup()
    {
        var m = new LstmF2x6Head();
        m.InitializeParameters(5);
        var s = new LstmF2x6Head.State();
        Harness.Random<float>(s.Values.Length, 6).CopyTo(s.Values);
        Harness.Random<float>(m.Gradients.Length, 7).CopyTo(m.Gradients);
        return (m, s, s.Values.ToArray(), m.Gradients.ToArray());
    }

    [Theory]
    [InlineData(3, 3, "input", "4")]
    [InlineData(5, 3, "input", "4")]
    [InlineData(4, 2, "output", "3")]
    [InlineData(4, 4, "output", "3")]
    public void Step_WrongLengths(int inputLength, int outputLength, string name, string expected)
    {
        var (m, s, before, _) = Setup();
        var output = new float[outputLength];
        var e = Assert.ThrowsAny<ArgumentException>(() => m.Step(new float[inputLength], ref s, output));
        Assert.Equal(name, e.ParamName);
        Assert.Contains(expected, e.Message);
        Assert.Equal(before, s.Values.ToArray());
        Assert.All(output, v => Assert.Equal(0f, v));
    }

    // A tape too large for an array is refused with a message that says so, not an OverflowException from an allocation.
    [Theory]
    [InlineData(int.MaxValue, 1)]
    [InlineData(1 << 16, 1 << 16)]
    [InlineData(int.MaxValue, int.MaxValue)]   // steps × lanes × the record size passes long (once wrapped to a size the check let through)
    public void ATapeTooLarge_IsRefusedClearly(int steps, int lanes)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new LstmF2x6Head.Tape(steps, lanes));
        Assert.Equal("maxSteps", e.ParamName);
        Assert.Contains("an array holds at most", e.Message);
    }

    // Memory shared where each side would overwrite the other is refused before anything changes: a lane's state given
    // twice (one lane's result would be lost), outputs over a state, input gradients over a state gradient.
    [Fact]
    public void SharedMemory_IsRefusedBeforeAnythingChanges()
    {
        var (m, s, before, gradientsBefore) = Setup();
        int w = LstmF2x6Head.OutputWidth, i = LstmF2x6Head.InputSize;
        var tape = new LstmF2x6Head.Tape(maxSteps: 3, maxLanes: 2);

        // Step without a head: the output may be the top layer's h itself, nothing else of the state
        var plain = Harness.NewModel<LstmF3x5, float>(seed: 2);
        var ps = new LstmF3x5.State();
        Harness.Random<float>(ps.Values.Length, 9).CopyTo(ps.Values);
        float[] plainBefore = ps.Values.ToArray();
        var e = Assert.ThrowsAny<ArgumentException>(() => plain.Step(new float[LstmF3x5.InputSize], ref ps, ps.Cell(2)));
        Assert.Equal("output", e.ParamName);
        Assert.Equal(plainBefore, ps.Values.ToArray());
        var copy = ps.Clone();
        var expected = new float[LstmF3x5.OutputWidth];
        plain.Step(new float[LstmF3x5.InputSize], ref copy, expected);
        plain.Step(new float[LstmF3x5.InputSize], ref ps, ps.Hidden(2));          // allowed: the same values either way
        Assert.Equal(expected, ps.Hidden(2).ToArray());
        Assert.Equal(copy.Values.ToArray(), ps.Values.ToArray());

        // Step with a head: the output over the state
        e = Assert.ThrowsAny<ArgumentException>(() => m.Step(new float[i], ref s, s.Values.Slice(0, w)));
        Assert.Equal("output", e.ParamName);
        Assert.Contains("shares memory with the state's values", e.Message);
        Assert.Equal(before, s.Values.ToArray());

        // Forward: the same state for two lanes; outputs over a state
        e = Assert.ThrowsAny<ArgumentException>(() => m.Forward(new float[2 * i], new[] { s, s }, tape, new float[2 * w]));
        Assert.Equal("states", e.ParamName);
        Assert.Contains("states[1] is the same object as states[0]", e.Message);
        e = Assert.ThrowsAny<ArgumentException>(() => m.Forward(new float[i], ref s, tape, s.Values.Slice(0, w)));
        Assert.Equal("outputs", e.ParamName);
        Assert.Equal(before, s.Values.ToArray());
        Assert.Equal(0, tape.Steps);

        // Backward: the same state gradient for two lanes; input gradients over a state gradient
        var other = s.Clone();
        m.Forward(new float[2 * 3 * i], new[] { s, other }, tape, new float[2 * 3 * w]);
        var g = new LstmF2x6Head.State();
        e = Assert.ThrowsAny<ArgumentException>(() => m.Backward(tape, new float[2 * 3 * w], default, new[] { g, g }));
        Assert.Equal("stateGradients", e.ParamName);
        Assert.Contains("is the same object", e.Message);
        var g2 = new LstmF2x6Head.State();
        e = Assert.ThrowsAny<ArgumentException>(() => m.Backward(tape, new float[2 * 3 * w], g.Values.Slice(0, 2 * 3 * i), new[] { g, g2 }));
        Assert.Equal("inputGradients", e.ParamName);
        m.Forward(new float[3 * i], ref s, tape, new float[3 * w]);
        e = Assert.ThrowsAny<ArgumentException>(() => m.Backward(tape, new float[3 * w], g.Values.Slice(0, 3 * i), ref g));
        Assert.Equal("inputGradients", e.ParamName);
        Assert.Equal(gradientsBefore, m.Gradients.ToArray());
        Assert.All(g.Values.ToArray(), v => Assert.Equal(0f, v));
    }

    /// <summary>
    /// A state given to two of many lanes is found wherever the two sit, named by both lanes, before anything is
    /// written; the same distinct states pass call after call (the check marks each call's states with a number of its own).
    /// </summary>
    [Fact]
    public void LaneStates_ARepeatAmongManyIsNamed_AndDistinctStatesPassEveryCall()
    {
        var (m, _, _, _) = Setup();
        const int lanes = 40;
        int i = LstmF2x6Head.InputSize, w = LstmF2x6Head.OutputWidth;
        var states = Enumerable.Range(0, lanes).Select(_ => new LstmF2x6Head.State()).ToArray();
        var tape = new LstmF2x6Head.Tape(1, lanes);
        for (int call = 0; call < 3; call++)
            m.Forward(new float[lanes * i], states, tape, new float[lanes * w]);
        float[][] before = [.. states.Select(s => s.Values.ToArray())];

        var repeated = (LstmF2x6Head.State[])states.Clone();
        repeated[37] = repeated[12];
        var e = Assert.ThrowsAny<ArgumentException>(() => m.Forward(new float[lanes * i], repeated, tape, new float[lanes * w]));
        Assert.Equal("states", e.ParamName);
        Assert.Contains("states[37] is the same object as states[12]", e.Message);
        Assert.All(Enumerable.Range(0, lanes), b => Assert.Equal(before[b], states[b].Values.ToArray()));

        m.Forward(new float[lanes * i], states, tape, new float[lanes * w]); // the distinct states still pass
        m.Forward(new float[2 * i], new[] { states[5], states[6] }, tape, new float[2 * w]);
    }

    [Fact]
    public void Forward_WrongLengths()
    {
        var (m, s, before, _) = Setup();
        var tape = new LstmF2x6Head.Tape(4);
        // not a whole number of steps
        Assert.Equal("inputs", Assert.ThrowsAny<ArgumentException>(() => m.Forward(new float[7], ref s, tape, new float[6])).ParamName);
        // empty
        Assert.Equal("inputs", Assert.ThrowsAny<ArgumentException>(() => m.Forward([], ref s, tape, [])).ParamName);
        // more steps than the tape holds
        var e = Assert.ThrowsAny<ArgumentException>(() => m.Forward(new float[5 * 4], ref s, tape, new float[5 * 3]));
        Assert.Contains("maxSteps >= 5", e.Message);
        // outputs of the wrong size
        e = Assert.ThrowsAny<ArgumentException>(() => m.Forward(new float[2 * 4], ref s, tape, new float[5]));
        Assert.Equal("outputs", e.ParamName);
        Assert.Contains("expected 6", e.Message);
        Assert.Equal(before, s.Values.ToArray());
        Assert.Equal(0, tape.Steps);
    }

    [Fact]
    public void Backward_WrongLengths_LeaveGradientsAlone()
    {
        var (m, s, _, gradients) = Setup();
        var tape = new LstmF2x6Head.Tape(4);
        Assert.Throws<InvalidOperationException>(() => m.Backward(tape, new float[6]));
        m.Forward(new float[2 * 4], ref s, tape, new float[2 * 3]);
        var e = Assert.ThrowsAny<ArgumentException>(() => m.Backward(tape, new float[5]));
        Assert.Equal("outputGradients", e.ParamName);
        var dx = new float[3];
        e = Assert.ThrowsAny<ArgumentException>(() => m.Backward(tape, new float[6], dx));
        Assert.Equal("inputGradients", e.ParamName);
        Assert.Contains("expected 8", e.Message);
        Assert.Equal(gradients, m.Gradients.ToArray());
        Assert.All(dx, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Tokens_OutOfRange()
    {
        var m = new LstmFTokens();
        m.InitializeParameters(1);
        var s = new LstmFTokens.State();
        Harness.Random<float>(s.Values.Length, 6).CopyTo(s.Values);
        var before = s.Values.ToArray();
        var tape = new LstmFTokens.Tape(4);
        var outputs = new float[3 * LstmFTokens.OutputWidth];
        var e = Assert.ThrowsAny<ArgumentException>(() => m.Forward([1, 2, LstmFTokens.InputSize], ref s, tape, outputs));
        Assert.Equal("tokens", e.ParamName);
        Assert.Contains("[0, 10]", e.Message);
        Assert.ThrowsAny<ArgumentException>(() => m.Step(-1, ref s, new float[LstmFTokens.OutputWidth]));
        Assert.Equal(before, s.Values.ToArray());
        Assert.All(outputs, v => Assert.Equal(0f, v));
        // token models have no input gradient
        m.Forward([1, 2, 3], ref s, tape, outputs);
        Assert.Equal("inputGradients", Assert.ThrowsAny<ArgumentException>(() => m.Backward(tape, outputs, new float[3])).ParamName);
    }

    [Fact]
    public void Interface_RefusesForeignStateAndWrongInputKind()
    {
        IRecurrentModel<LstmFTokens, float> m = new LstmFTokens();
        Assert.Equal("state", Assert.ThrowsAny<ArgumentException>(() => m.Step(1, new ForeignState(), new float[LstmFTokens.OutputWidth])).ParamName);
        Assert.Throws<NotSupportedException>(() => m.Step(new float[11], m.CreateState(), new float[11]));
    }

    private sealed class ForeignState() : RecurrentState<float>(2, 7, hasCell: true);
}

/// <summary>The same checks through the interface, for every cell kind: nothing changes when a length is wrong.</summary>
public class BadInputAllCellsTests
{
    [Fact] public void Gru() => Check<GruF3x5>();
    [Fact] public void Rnn() => Check<RnnTanhF3x5>();
    [Fact] public void RnnRelu() => Check<RnnReluF2x5>();
    [Fact] public void Lstm() => Check<LstmF3x5>();

    private static void Check<TModel>() where TModel : class, IRecurrentModel<TModel, float>
    {
        var info = TModel.Info;
        var m = Harness.NewModel<TModel, float>(1);
        var s = m.CreateState();
        Harness.Random<float>(info.StateSize, 2).CopyTo(s.Values);
        var before = s.Values.ToArray();
        var tape = m.CreateTape(3);
        var x = new float[3 * info.InputSize];
        var output = new float[info.OutputWidth + 1];
        Assert.Equal("output", Assert.ThrowsAny<ArgumentException>(() => m.Step(x.AsSpan(0, info.InputSize), s, output)).ParamName);
        Assert.Equal("input", Assert.ThrowsAny<ArgumentException>(() => m.Step(x.AsSpan(0, info.InputSize - 1), s, output.AsSpan(1))).ParamName);
        Assert.Equal("outputs", Assert.ThrowsAny<ArgumentException>(() => m.Forward(x, s, tape, new float[3 * info.OutputWidth - 1])).ParamName);
        Assert.Equal(before, s.Values.ToArray());
        Assert.All(output, v => Assert.Equal(0f, v));
        m.Forward(x, s, tape, new float[3 * info.OutputWidth]);
        var grads = m.Gradients.ToArray();
        Assert.Equal("outputGradients", Assert.ThrowsAny<ArgumentException>(() => m.Backward(tape, new float[2 * info.OutputWidth], default, null)).ParamName);
        Assert.Equal("inputGradients", Assert.ThrowsAny<ArgumentException>(() => m.Backward(tape, new float[3 * info.OutputWidth], new float[1], null)).ParamName);
        Assert.Equal(grads, m.Gradients.ToArray());
    }

    // Steps × OutputWidth past 2³¹: the check is made in long, so a short outputs span is refused by name before the tape
    // is touched (in int the product wrapped to 65,536 and Forward overwrote the recording, then failed in a kernel).
    [Fact]
    public void OutputsPastTwoToThe31_AreRefusedBeforeTheTapeChanges()
    {
        const int width = GruFWideHead.OutputWidth, steps = 65537;
        var m = Harness.NewModel<GruFWideHead, float>(1);
        var tape = new GruFWideHead.Tape(steps);
        var state = new GruFWideHead.State();
        m.Forward([0.1f, 0.2f, 0.3f], ref state, tape, new float[3 * width]);
        float[] dOut = Harness.Random<float>(3 * width, 2);
        m.Gradients.Clear();
        m.Backward(tape, dOut);
        float[] recorded = m.Gradients.ToArray();

        var fresh = new GruFWideHead.State();
        float[] inputs = new float[steps];
        Array.Fill(inputs, 5f);
        var e = Assert.ThrowsAny<ArgumentException>(() => m.Forward(inputs, ref fresh, tape, new float[width])); // 65,537 × 65,536 ≡ 65,536 mod 2³²
        Assert.Equal("outputs", e.ParamName);
        Assert.Contains("more than a span holds", e.Message);
        Assert.All(fresh.Values.ToArray(), v => Assert.Equal(0f, v));

        m.Gradients.Clear();
        m.Backward(tape, dOut); // the earlier recording, untouched
        Assert.Equal(recorded, m.Gradients.ToArray());
    }
}
