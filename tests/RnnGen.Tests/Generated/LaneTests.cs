using System.Numerics;
using RnnGen.Tests.Models;

namespace RnnGen.Tests.Generated;

/// <summary>
/// Lockstep lanes: <c>Forward</c> over several sequences at once (one read of each weight matrix per step for all of them) and
/// the matching <c>Backward</c> must give what one <c>Forward</c>/<c>Backward</c> per sequence gives — outputs, final states,
/// parameter gradients (summed over the lanes), input gradients and initial-state gradients — for every cell kind, dense and
/// token inputs, with and without a head.
/// </summary>
public class LaneTests
{
    public static TheoryData<string> Models => new() { "LstmD2x6Head", "LstmDTokens", "LstmD3x5", "GruD3x5", "GruDTokens", "RnnReluD2x5", "RnnTanhDTokens", "LstmF2x6Head", "LstmFTokens", "GruFTokens", "RnnFChars" };

    [Theory]
    [MemberData(nameof(Models))]
    public void Lanes_MatchOneSequenceAtATime(string model)
    {
        switch (model)
        {
            case "LstmD2x6Head": Check<LstmD2x6Head, double>(); break;
            case "LstmDTokens": Check<LstmDTokens, double>(); break;
            case "LstmD3x5": Check<LstmD3x5, double>(); break;
            case "GruD3x5": Check<GruD3x5, double>(); break;
            case "GruDTokens": Check<GruDTokens, double>(); break;
            case "RnnReluD2x5": Check<RnnReluD2x5, double>(); break;
            case "RnnTanhDTokens": Check<RnnTanhDTokens, double>(); break;
            case "LstmF2x6Head": Check<LstmF2x6Head, float>(); break;
            case "LstmFTokens": Check<LstmFTokens, float>(); break;
            case "GruFTokens": Check<GruFTokens, float>(); break;
            case "RnnFChars": Check<RnnFChars, float>(); break;
            default: throw new ArgumentOutOfRangeException(nameof(model));
        }
    }

    private static void Check<TModel, T>()
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // float: the lane products sum in a different order than one sequence at a time
        double tolerance = typeof(T) == typeof(double) ? 1e-12 : 2e-5;
        foreach (var (lanes, steps, maxLanes) in new[] { (1, 4, 1), (3, 5, 3), (4, 1, 6), (7, 3, 7), (13, 25, 16) })
            CheckCase<TModel, T>(lanes, steps, maxLanes, tolerance);
    }

    private static void CheckCase<TModel, T>(int lanes, int steps, int maxLanes, double tolerance)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ModelInfo info = TModel.Info;
        int width = info.OutputWidth, inputSize = info.InputSize;
        var model = Harness.NewModel<TModel, T>(seed: 11, scale: 2.0);
        var laneModel = Harness.NewModel<TModel, T>(seed: 11, scale: 2.0);
        int[] tokens = Harness.RandomTokens(lanes * steps, inputSize, seed: 12);
        T[] inputs = Harness.Random<T>(lanes * steps * inputSize, seed: 13);
        T[] outputGradients = Harness.Random<T>(lanes * steps * width, seed: 14);
        var initial = new RecurrentState<T>[lanes];
        var finalGradients = new RecurrentState<T>[lanes];
        for (int b = 0; b < lanes; b++)
        {
            initial[b] = model.CreateState();
            Harness.Random<T>(initial[b].Values.Length, seed: 20 + b, scale: 0.8).CopyTo(initial[b].Values);
            finalGradients[b] = model.CreateState();
            Harness.Random<T>(finalGradients[b].Values.Length, seed: 40 + b).CopyTo(finalGradients[b].Values);
        }

        // one sequence at a time
        var expectedOutputs = new T[lanes * steps * width];
        var expectedInputGradients = new T[lanes * steps * inputSize];
        var expectedStates = new RecurrentState<T>[lanes];
        var expectedStateGradients = new RecurrentState<T>[lanes];
        var tape = model.CreateTape(steps);
        for (int b = 0; b < lanes; b++)
        {
            expectedStates[b] = model.CreateState();
            initial[b].CopyTo(expectedStates[b]);
            Span<T> outputs = expectedOutputs.AsSpan(b * steps * width, steps * width);
            if (info.Tokens) model.Forward(tokens.AsSpan(b * steps, steps), expectedStates[b], tape, outputs);
            else model.Forward(inputs.AsSpan(b * steps * inputSize, steps * inputSize), expectedStates[b], tape, outputs);
            expectedStateGradients[b] = model.CreateState();
            finalGradients[b].CopyTo(expectedStateGradients[b]);
            model.Backward(tape, outputGradients.AsSpan(b * steps * width, steps * width),
                info.Tokens ? default : expectedInputGradients.AsSpan(b * steps * inputSize, steps * inputSize), expectedStateGradients[b]);
        }

        // all lanes at once (a tape used before for something else, possibly with room for more lanes)
        var laneTape = laneModel.CreateTape(steps + 2, maxLanes);
        var states = new RecurrentState<T>[lanes];
        for (int b = 0; b < lanes; b++)
        {
            states[b] = laneModel.CreateState();
            initial[b].CopyTo(states[b]);
        }
        var laneOutputs = new T[lanes * steps * width];
        if (info.Tokens) laneModel.Forward(tokens, states, laneTape, laneOutputs);
        else laneModel.Forward(inputs, states, laneTape, laneOutputs);
        Assert.Equal(steps, laneTape.Steps);
        Assert.Equal(lanes, laneTape.Lanes);
        var laneInputGradients = new T[lanes * steps * inputSize];
        var stateGradients = new RecurrentState<T>[lanes];
        for (int b = 0; b < lanes; b++)
        {
            stateGradients[b] = laneModel.CreateState();
            finalGradients[b].CopyTo(stateGradients[b]);
        }
        BackwardLanes<TModel, T>(laneModel, laneTape, outputGradients, info.Tokens ? default : laneInputGradients, stateGradients);

        string at = $"{typeof(TModel).Name}, {lanes} lanes × {steps} steps";
        AssertClose(expectedOutputs, laneOutputs, tolerance, "outputs, " + at);
        for (int b = 0; b < lanes; b++)
        {
            AssertClose(expectedStates[b].Values.ToArray(), states[b].Values.ToArray(), tolerance, $"final state of lane {b}, {at}");
            AssertClose(expectedStateGradients[b].Values.ToArray(), stateGradients[b].Values.ToArray(), tolerance, $"initial-state gradient of lane {b}, {at}");
        }
        AssertClose(model.Gradients.ToArray(), laneModel.Gradients.ToArray(), tolerance, "parameter gradients, " + at);
        if (!info.Tokens)
            AssertClose(expectedInputGradients, laneInputGradients, tolerance, "input gradients, " + at);
    }

    /// <summary>The typed lane overload of Backward (the interface has no per-lane state gradients).</summary>
    private static void BackwardLanes<TModel, T>(TModel model, RecurrentTape tape, T[] outputGradients, Span<T> inputGradients, RecurrentState<T>[] stateGradients)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (model)
        {
            case LstmD2x6Head m: m.Backward((LstmD2x6Head.Tape)tape, (double[])(object)outputGradients, Cast<double, T>(inputGradients), As<LstmD2x6Head.State>(stateGradients)); break;
            case LstmDTokens m: m.Backward((LstmDTokens.Tape)tape, (double[])(object)outputGradients, default, As<LstmDTokens.State>(stateGradients)); break;
            case LstmD3x5 m: m.Backward((LstmD3x5.Tape)tape, (double[])(object)outputGradients, Cast<double, T>(inputGradients), As<LstmD3x5.State>(stateGradients)); break;
            case GruD3x5 m: m.Backward((GruD3x5.Tape)tape, (double[])(object)outputGradients, Cast<double, T>(inputGradients), As<GruD3x5.State>(stateGradients)); break;
            case GruDTokens m: m.Backward((GruDTokens.Tape)tape, (double[])(object)outputGradients, default, As<GruDTokens.State>(stateGradients)); break;
            case RnnReluD2x5 m: m.Backward((RnnReluD2x5.Tape)tape, (double[])(object)outputGradients, Cast<double, T>(inputGradients), As<RnnReluD2x5.State>(stateGradients)); break;
            case RnnTanhDTokens m: m.Backward((RnnTanhDTokens.Tape)tape, (double[])(object)outputGradients, default, As<RnnTanhDTokens.State>(stateGradients)); break;
            case LstmF2x6Head m: m.Backward((LstmF2x6Head.Tape)tape, (float[])(object)outputGradients, Cast<float, T>(inputGradients), As<LstmF2x6Head.State>(stateGradients)); break;
            case LstmFTokens m: m.Backward((LstmFTokens.Tape)tape, (float[])(object)outputGradients, default, As<LstmFTokens.State>(stateGradients)); break;
            case GruFTokens m: m.Backward((GruFTokens.Tape)tape, (float[])(object)outputGradients, default, As<GruFTokens.State>(stateGradients)); break;
            case RnnFChars m: m.Backward((RnnFChars.Tape)tape, (float[])(object)outputGradients, default, As<RnnFChars.State>(stateGradients)); break;
            default: throw new NotSupportedException(typeof(TModel).Name);
        }
    }

    private static TState[] As<TState>(object[] states) => states.Cast<TState>().ToArray();

    private static Span<TTo> Cast<TTo, TFrom>(Span<TFrom> span) where TTo : unmanaged where TFrom : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<TFrom, TTo>(span);

    private static void AssertClose<T>(T[] expected, T[] actual, double tolerance, string what) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double error = Harness.RelativeError(Harness.ToDouble<T>(expected), Harness.ToDouble<T>(actual));
        Assert.True(error <= tolerance, $"{what}: relative error {error:E2} > {tolerance:E0}");
    }

    [Fact]
    public void Lanes_LeaveOtherLanesOfTheTapeAlone_AndReuseTheTape()
    {
        // a 4-lane forward, then a 2-lane one on the same tape: the second must not see the first
        var model = Harness.NewModel<LstmDTokens, double>(seed: 3, scale: 2.0);
        var reference = Harness.NewModel<LstmDTokens, double>(seed: 3, scale: 2.0);
        var tape = new LstmDTokens.Tape(maxSteps: 6, maxLanes: 4);
        var four = new[] { new LstmDTokens.State(), new LstmDTokens.State(), new LstmDTokens.State(), new LstmDTokens.State() };
        model.Forward(Harness.RandomTokens(4 * 6, LstmDTokens.InputSize, 1), four, tape, new double[4 * 6 * LstmDTokens.OutputWidth]);
        model.Backward(tape, Harness.Random<double>(4 * 6 * LstmDTokens.OutputWidth, 2));
        model.Gradients.Clear();

        int[] tokens = Harness.RandomTokens(2 * 3, LstmDTokens.InputSize, 4);
        double[] gradients = Harness.Random<double>(2 * 3 * LstmDTokens.OutputWidth, 5);
        var two = new[] { new LstmDTokens.State(), new LstmDTokens.State() };
        var outputs = new double[2 * 3 * LstmDTokens.OutputWidth];
        model.Forward(tokens, two, tape, outputs);
        model.Backward(tape, gradients);

        var referenceTape = new LstmDTokens.Tape(3);
        var expected = new double[outputs.Length];
        for (int b = 0; b < 2; b++)
        {
            var s = new LstmDTokens.State();
            reference.Forward(tokens.AsSpan(b * 3, 3), ref s, referenceTape, expected.AsSpan(b * 3 * LstmDTokens.OutputWidth, 3 * LstmDTokens.OutputWidth));
            reference.Backward(referenceTape, gradients.AsSpan(b * 3 * LstmDTokens.OutputWidth, 3 * LstmDTokens.OutputWidth));
            Assert.Equal(s.Values.ToArray(), two[b].Values.ToArray());
        }
        Assert.Equal(expected, outputs);
        AssertClose(reference.Gradients.ToArray(), model.Gradients.ToArray(), 1e-13, "gradients after reuse");
    }

    [Fact]
    public void Lanes_BadArguments_ThrowBeforeAnythingChanges()
    {
        var model = Harness.NewModel<LstmF2x6Head, float>(seed: 5);
        var tape = new LstmF2x6Head.Tape(maxSteps: 4, maxLanes: 2);
        var states = new[] { new LstmF2x6Head.State(), new LstmF2x6Head.State() };
        Harness.Random<float>(states[0].Values.Length, 6).CopyTo(states[0].Values);
        float[] before = states[0].Values.ToArray();
        int w = LstmF2x6Head.OutputWidth, i = LstmF2x6Head.InputSize;

        // more lanes than the tape holds
        var three = new[] { states[0], states[1], new LstmF2x6Head.State() };
        var e = Assert.ThrowsAny<ArgumentException>(() => model.Forward(new float[3 * 2 * i], three, tape, new float[3 * 2 * w]));
        Assert.Equal("states", e.ParamName);
        Assert.Contains("maxLanes >= 3", e.Message);
        // no lanes; a null lane
        Assert.Equal("states", Assert.ThrowsAny<ArgumentException>(() => model.Forward(new float[i], ReadOnlySpan<LstmF2x6Head.State>.Empty, tape, new float[w])).ParamName);
        Assert.Equal("states", Assert.ThrowsAny<ArgumentException>(() => model.Forward(new float[2 * i], new[] { states[0], null! }, tape, new float[2 * w])).ParamName);
        // inputs not an equal number of whole steps per lane
        e = Assert.ThrowsAny<ArgumentException>(() => model.Forward(new float[3 * i], states, tape, new float[3 * w]));
        Assert.Equal("inputs", e.ParamName);
        Assert.Contains("each of the 2 lanes", e.Message);
        // too many steps; outputs of the wrong size
        Assert.Contains("maxSteps >= 5", Assert.ThrowsAny<ArgumentException>(() => model.Forward(new float[2 * 5 * i], states, tape, new float[2 * 5 * w])).Message);
        e = Assert.ThrowsAny<ArgumentException>(() => model.Forward(new float[2 * 2 * i], states, tape, new float[2 * w]));
        Assert.Equal("outputs", e.ParamName);
        Assert.Contains($"expected {2 * 2 * w}", e.Message);
        // a state of another model through the interface
        IRecurrentModel<LstmF2x6Head, float> general = model;
        var foreign = new RecurrentState<float>[] { states[0], new LstmF3x5.State() };
        Assert.Equal("states", Assert.ThrowsAny<ArgumentException>(() => general.Forward(new float[2 * i], foreign, tape, new float[2 * w])).ParamName);
        Assert.Equal(before, states[0].Values.ToArray());
        Assert.Equal(0, tape.Steps);

        // Backward: lane-major gradients of the right size; per-lane state gradients
        model.Forward(new float[2 * 3 * i], states, tape, new float[2 * 3 * w]);
        float[] gradients = model.Gradients.ToArray();
        Assert.Equal("outputGradients", Assert.ThrowsAny<ArgumentException>(() => model.Backward(tape, new float[3 * w])).ParamName);
        Assert.Equal("inputGradients", Assert.ThrowsAny<ArgumentException>(() => model.Backward(tape, new float[2 * 3 * w], new float[3 * i])).ParamName);
        var one = new LstmF2x6Head.State();
        Assert.Equal("stateGradient", Assert.ThrowsAny<ArgumentException>(() => model.Backward(tape, new float[2 * 3 * w], default, ref one)).ParamName);
        Assert.Equal("stateGradients", Assert.ThrowsAny<ArgumentException>(() => model.Backward(tape, new float[2 * 3 * w], default, new[] { one })).ParamName);
        Assert.Equal(gradients, model.Gradients.ToArray());
    }

    [Fact]
    public void Lanes_AllocateNothing()
    {
        var model = Harness.NewModel<LstmFTokens, float>(seed: 8);
        var tape = new LstmFTokens.Tape(maxSteps: 5, maxLanes: 3);
        var states = new[] { new LstmFTokens.State(), new LstmFTokens.State(), new LstmFTokens.State() };
        int[] tokens = Harness.RandomTokens(3 * 5, LstmFTokens.InputSize, 9);
        var outputs = new float[3 * 5 * LstmFTokens.OutputWidth];
        var gradients = Harness.Random<float>(outputs.Length, 10);
        for (int warm = 0; warm < 3; warm++)
        {
            model.Forward(tokens, states, tape, outputs);
            model.Backward(tape, gradients, default, states);
        }
        Assert.Equal(0, SteadyAllocation.Fewest(() =>
        {
            model.Forward(tokens, states, tape, outputs);
            model.Backward(tape, gradients, default, states);
        }, calls: 10));
    }
}
