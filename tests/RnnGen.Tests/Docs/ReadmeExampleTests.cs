namespace RnnGen.Tests.Docs;

/// <summary>The "Twenty lines" example of README.md, verbatim in a method, so it keeps compiling; plus what it claims.</summary>
public class ReadmeExampleTests
{
    [Fact]
    public void TwentyLines_Compiles_And_LearnsToRememberThePulse()
    {
        var first = new List<float>();
        var console = new StringWriter();
        TextWriter stdout = Console.Out;
        Console.SetOut(console);
        try
        {
            // ---- README.md "Twenty lines" (keep in sync) ----
            var model = new Echo();
            model.InitializeParameters(seed: 1);
            var state = new Echo.State();
            var tape = new Echo.Tape(maxSteps: 8);
            float[] inputs = new float[8 * Echo.InputSize], outputs = new float[8 * Echo.OutputWidth], dOut = new float[outputs.Length];
            inputs[0] = 1;                                            // one pulse at t = 0
            for (int update = 0; update < 100; update++)
            {
                state.Reset();                                        // every run starts from zeros
                model.Forward(inputs, ref state, tape, outputs);      // 8 steps, recorded
                if (update < 2) first.Add(outputs[^1]); // (not in the README: the first runs' outputs, to compare)
                dOut[^1] = outputs[^1] - 1;                           // d/dy of ½(y − 1)² on the last step: "remember the pulse"
                model.Gradients.Clear();                              // Backward adds into Gradients: clear them first
                model.Backward(tape, dOut);                           // BPTT: dLoss/dParameters
                for (int i = 0; i < model.Parameters.Length; i++) model.Parameters[i] -= 0.1f * model.Gradients[i];
                model.ParametersChanged();                            // Step and Forward read packed copies: refresh them
            }
            Console.WriteLine(outputs[^1]);                           // the last output of the last run: close to 1
            // ---- end of the example ----
        }
        finally
        {
            Console.SetOut(stdout);
        }

        float last = float.Parse(console.ToString().Trim(), System.Globalization.CultureInfo.CurrentCulture);
        Assert.True(Math.Abs(first[1] - 1) < Math.Abs(first[0] - 1), $"the first update should move the last output toward 1: {first[0]} -> {first[1]}");
        Assert.True(Math.Abs(last - 1) < 0.01, $"after 100 updates the last output should be close to 1: {first[0]} at first, {last} at the end");
    }
}

[LstmModel(hidden: 8, Input = 1, Output = 1)] partial class Echo { }
