namespace RnnGen.Tests.Docs;

/// <summary>The "Fifteen lines" example of README.md, verbatim in a method, so it keeps compiling; plus what it claims.</summary>
public class ReadmeExampleTests
{
    [Fact]
    public void FifteenLines_Compiles_And_OneStepLowersTheLoss()
    {
        // ---- README.md "Fifteen lines" (keep in sync) ----
        var model = new Echo();
        model.InitializeParameters(seed: 1);
        var state = new Echo.State();
        var tape = new Echo.Tape(maxSteps: 8);
        float[] inputs = new float[8 * Echo.InputSize], outputs = new float[8 * Echo.OutputWidth];
        inputs[0] = 1;                                        // one pulse at t = 0
        model.Forward(inputs, ref state, tape, outputs);      // 8 steps, recorded
        var dOut = new float[outputs.Length];
        dOut[^1] = outputs[^1] - 1;                           // d/dy of ½(y − 1)² on the last step: "remember the pulse"
        model.Backward(tape, dOut);                           // BPTT: dLoss/dParameters added into model.Gradients
        for (int i = 0; i < model.Parameters.Length; i++) model.Parameters[i] -= 0.1f * model.Gradients[i];
        model.ParametersChanged();
        // ---- end of the example ----

        float before = outputs[^1];
        state.Reset();
        var again = new float[outputs.Length];
        model.Forward(inputs, ref state, tape, again);
        Assert.True(Math.Abs(again[^1] - 1) < Math.Abs(before - 1), $"the step should move the last output toward 1: {before} -> {again[^1]}");
    }
}

[LstmModel(hidden: 8, Input = 1, Output = 1)] partial class Echo { }
