using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Sdk;

namespace RnnGen.IntegrationTests;

/// <summary>
/// A new console project outside the repository that uses RnnGen only through <c>&lt;PackageReference Include="RnnGen" /&gt;</c>,
/// restored from the test's folder feed: it declares three models, runs one step by step and runs BPTT against finite
/// differences, runs the package readme's example with another, steps the third alone and on a <c>CoreTeam</c>, trains the
/// first with <c>SequenceTrainer</c> at batch 1 (the layer pipeline) on two workers and on one, and prints the results. <see cref="CheckOutput"/> verifies what it printed.
/// </summary>
public sealed class ConsumerProject
{
    /// <summary>The project's assembly (and native executable) name.</summary>
    public const string AssemblyName = "Consumer";

    // The model the program declares (sizes used by the reference below).
    private const int Input = 3, Hidden = 4, Layers = 2, Output = 2, Steps = 5;

    // The program's parameter and input formulas, repeated here for the reference: keep the two in step.
    private static double Parameter(int i) => 0.5 * Math.Sin(0.37 * i + 0.1);
    private static double InputValue(int t, int j) => Math.Cos(0.9 * t + 0.4 * j);

    private const string ProgramSource = """
        // A consumer of the RnnGen package. The integration test that wrote this project checks what it prints.
        using System.Globalization;
        using RnnGen;

        namespace Consumer;

        [LstmModel(hidden: 4, layers: 2, Input = 3, Output = 2, Precision = Precision.Double)]
        public partial class TinyLstm { }

        [LstmModel(hidden: 32, Input = 1, Output = 1)]   // the model of the package's readme
        public partial class Denoiser { }

        [LstmModel(hidden: 128, Input = 8, Output = 3)]  // large enough to have a Team (Step on several cores)
        public partial class Wide { }

        public static class Program
        {
            private const int Steps = 5;

            private static double Parameter(int i) => 0.5 * Math.Sin(0.37 * i + 0.1);
            private static double InputValue(int t, int j) => Math.Cos(0.9 * t + 0.4 * j);
            private static double LossWeight(int t, int k) => Math.Cos(1.3 * t - 0.7 * k);   // loss = Σ weight · output

            public static int Main()
            {
                var model = new TinyLstm();
                for (int i = 0; i < TinyLstm.ParameterCount; i++) model.Parameters[i] = Parameter(i);
                model.ParametersChanged();
                Console.WriteLine($"parameters: {TinyLstm.ParameterCount}");

                // Streaming inference: one Step per time step.
                var state = new TinyLstm.State();
                Span<double> x = stackalloc double[TinyLstm.InputSize];
                Span<double> y = stackalloc double[TinyLstm.OutputWidth];
                for (int t = 0; t < Steps; t++)
                {
                    for (int j = 0; j < x.Length; j++) x[j] = InputValue(t, j);
                    model.Step(x, ref state, y);
                    Console.WriteLine($"step {t}: {string.Join(" ", y.ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}");
                }

                // Training path: Forward + Backward (BPTT) against central finite differences of the same loss.
                var inputs = new double[Steps * TinyLstm.InputSize];
                var weights = new double[Steps * TinyLstm.OutputWidth];
                for (int t = 0; t < Steps; t++)
                {
                    for (int j = 0; j < TinyLstm.InputSize; j++) inputs[t * TinyLstm.InputSize + j] = InputValue(t, j);
                    for (int k = 0; k < TinyLstm.OutputWidth; k++) weights[t * TinyLstm.OutputWidth + k] = LossWeight(t, k);
                }
                var tapeState = new TinyLstm.State();
                var tape = new TinyLstm.Tape(Steps);
                model.Forward(inputs, ref tapeState, tape, new double[weights.Length]);
                model.Backward(tape, weights);

                const double h = 1e-6;
                double worst = 0;
                for (int i = 0; i < TinyLstm.ParameterCount; i++)
                {
                    double saved = model.Parameters[i];
                    model.Parameters[i] = saved + h;
                    model.ParametersChanged();
                    double plus = Loss(model, inputs, weights);
                    model.Parameters[i] = saved - h;
                    model.ParametersChanged();
                    double minus = Loss(model, inputs, weights);
                    model.Parameters[i] = saved;
                    model.ParametersChanged();
                    worst = Math.Max(worst, Math.Abs((plus - minus) / (2 * h) - model.Gradients[i]));
                }
                Console.WriteLine($"gradient check: {worst.ToString("E3", CultureInfo.InvariantCulture)}");

                // The package readme's example, as written there (with a seeded model instead of a file).
                var denoiser = new Denoiser();
                denoiser.InitializeParameters(seed: 1);
                var denoiserState = new Denoiser.State();
                Span<float> output = stackalloc float[Denoiser.OutputWidth];
                int finite = 0;
                foreach (float sample in new[] { 0.1f, -0.4f, 0.9f })
                {
                    denoiser.Step([sample], ref denoiserState, output);
                    if (float.IsFinite(output[0])) finite++;
                }
                Console.WriteLine($"readme example: {finite} finite outputs");

                // Step on two cores: the same outputs as alone, bit for bit.
                var alone = new Wide();
                alone.InitializeParameters(seed: 2);
                var teamed = new Wide();
                teamed.InitializeParameters(seed: 2);
                using (var team = new CoreTeam(2, adaptive: false))
                {
                    teamed.Team = team;
                    var aloneState = new Wide.State();
                    var teamState = new Wide.State();
                    Span<float> wx = stackalloc float[Wide.InputSize];
                    Span<float> wa = stackalloc float[Wide.OutputWidth];
                    Span<float> wb = stackalloc float[Wide.OutputWidth];
                    bool same = true;
                    for (int t = 0; t < 50; t++)
                    {
                        for (int j = 0; j < wx.Length; j++) wx[j] = (float)InputValue(t, j);
                        alone.Step(wx, ref aloneState, wa);
                        teamed.Step(wx, ref teamState, wb);
                        same &= wa.SequenceEqual(wb);
                    }
                    Console.WriteLine($"team step: {(same ? "identical" : "different")} over 50 steps on {team.Cores} cores");
                }

                // Training: SequenceTrainer at batch 1 on the two-layer model (its windows run as the layer pipeline, on two
                // cores with two workers), dense MSE targets: the same bits on two workers and on one, and the loss falls.
                var sequences = new List<TrainingSequence<double>>();
                for (int s = 0; s < 6; s++)
                {
                    var xs = new double[12 * TinyLstm.InputSize];
                    var ys = new double[12 * TinyLstm.OutputWidth];
                    for (int t = 0; t < 12; t++)
                    {
                        for (int j = 0; j < TinyLstm.InputSize; j++) xs[t * TinyLstm.InputSize + j] = InputValue(t + s, j);
                        for (int k = 0; k < TinyLstm.OutputWidth; k++) ys[t * TinyLstm.OutputWidth + k] = 0.5 * Math.Sin(0.5 * (t + s) + k);
                    }
                    sequences.Add(TrainingSequence<double>.FromVectors(xs, ys));
                }
                var data = new SequenceDataset<double>(sequences);
                double[] onTwo = Train(data, workers: 2, out double before, out double after);
                double[] onOne = Train(data, workers: 1, out _, out _);
                Console.WriteLine($"trainer batch 1: {(onTwo.AsSpan().SequenceEqual(onOne) ? "identical" : "different")} on 2 and 1 workers; " +
                    $"loss {before.ToString("R", CultureInfo.InvariantCulture)} -> {after.ToString("R", CultureInfo.InvariantCulture)}");
                return 0;
            }

            private static double[] Train(SequenceDataset<double> data, int workers, out double before, out double after)
            {
                var model = new TinyLstm();
                model.InitializeParameters(seed: 3);
                var trainer = SequenceTrainer.Create(model, new Adam<double>(TinyLstm.ParameterCount, learningRate: 0.03), new TrainerOptions
                {
                    Epochs = 60, BatchSize = 1, WindowLength = 4, WorkerCount = workers, Loss = SequenceLoss.MeanSquaredError, Seed = 1,
                });
                TrainingResult result = trainer.Train(data);
                before = result.Epochs[0].Training.Loss;
                after = result.Epochs[^1].Training.Loss;
                return model.Parameters.ToArray();
            }

            private static double Loss(TinyLstm model, double[] inputs, double[] weights)
            {
                var state = new TinyLstm.State();
                Span<double> y = stackalloc double[TinyLstm.OutputWidth];
                double loss = 0;
                for (int t = 0; t < Steps; t++)
                {
                    model.Step(inputs.AsSpan(t * TinyLstm.InputSize, TinyLstm.InputSize), ref state, y);
                    for (int k = 0; k < y.Length; k++) loss += weights[t * TinyLstm.OutputWidth + k] * y[k];
                }
                return loss;
            }
        }
        """;

    private ConsumerProject(string folder, string version) => (Folder, Version) = (folder, version);

    /// <summary>The project folder.</summary>
    public string Folder { get; }

    /// <summary>The RnnGen version it references.</summary>
    public string Version { get; }

    /// <summary>
    /// Writes the project into <paramref name="folder"/>: a csproj as a user would write it (plus PublishAot, and
    /// warnings as errors so generated code must compile cleanly), a nuget.config whose only source for RnnGen is the
    /// test feed (everything else from nuget.org), and empty Directory.Build files that stop MSBuild from importing
    /// any found in the folders above.
    /// </summary>
    public static ConsumerProject Create(string folder, PackedPackage package)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, AssemblyName + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <PublishAot>true</PublishAot>
                <TrimmerSingleWarn>false</TrimmerSingleWarn>
                <EmitCompilerGeneratedFiles>true</EmitCompilerGeneratedFiles>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="RnnGen" Version="{package.Version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(folder, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="rnngen-test-feed" value="{package.Feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="rnngen-test-feed">
                  <package pattern="RnnGen" />
                </packageSource>
                <packageSource key="nuget.org">
                  <package pattern="*" />
                </packageSource>
              </packageSourceMapping>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(folder, "Directory.Build.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(folder, "Directory.Build.targets"), "<Project />\n");
        File.WriteAllText(Path.Combine(folder, "Program.cs"), ProgramSource);
        return new ConsumerProject(folder, package.Version);
    }

    /// <summary>
    /// Checks the program's output: the parameter count from the LSTM formula, every step's outputs against
    /// <see cref="ReferenceLstm"/> in double, and the gradient check (BPTT vs central differences, h = 1e-6: the
    /// expected error is about 1e-10, rounding of the loss divided by h).
    /// </summary>
    public static void CheckOutput(string output)
    {
        Assert.Contains("team step: identical over 50 steps on 2 cores", output);
        int expectedCount = ReferenceLstm.Tensors(Input, Hidden, Layers, Output).Sum(t => t.Length);
        Assert.Equal(4 * Hidden * (Input + Hidden + 2) + (Layers - 1) * 4 * Hidden * (2 * Hidden + 2) + Output * (Hidden + 1), expectedCount);
        Assert.Contains($"parameters: {expectedCount}", output);

        var reference = ReferenceLstm.FromFlat(Enumerable.Range(0, expectedCount).Select(Parameter).ToArray(), Input, Hidden, Layers, Output);
        for (int t = 0; t < Steps; t++)
        {
            double[] expected = reference.Step(Enumerable.Range(0, Input).Select(j => InputValue(t, j)).ToArray());
            var match = Regex.Match(output, $@"^step {t}: (.+)$", RegexOptions.Multiline);
            Assert.True(match.Success, $"No line 'step {t}: …' in the output:\n{output}");
            double[] actual = match.Groups[1].Value.Trim().Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(Output, actual.Length);
            for (int k = 0; k < Output; k++)
                Assert.True(Math.Abs(actual[k] - expected[k]) <= 1e-12,
                    $"step {t}, output {k}: the program printed {actual[k]:R}, the reference LSTM gives {expected[k]:R}.");
        }

        var gradient = Regex.Match(output, @"^gradient check: (\S+)$", RegexOptions.Multiline);
        Assert.True(gradient.Success, $"No 'gradient check' line in the output:\n{output}");
        double worst = double.Parse(gradient.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(worst < 1e-8, $"max |BPTT gradient − finite difference| = {worst:E3}, expected below 1e-8.");

        Assert.Contains("readme example: 3 finite outputs", output);

        var training = Regex.Match(output, @"^trainer batch 1: identical on 2 and 1 workers; loss (\S+) -> (\S+)$", RegexOptions.Multiline);
        Assert.True(training.Success, $"No 'trainer batch 1: identical …' line in the output:\n{output}");
        double first = double.Parse(training.Groups[1].Value, CultureInfo.InvariantCulture), last = double.Parse(training.Groups[2].Value, CultureInfo.InvariantCulture);
        Assert.True(last < 0.5 * first, $"the training loss went from {first} to {last}; expected it to fall by half at least.");
    }

    /// <summary>The generated source of the consumer's model under obj/ (EmitCompilerGeneratedFiles), or throws.</summary>
    public string GeneratedModelFile()
    {
        string obj = Path.Combine(Folder, "obj");
        return Directory.EnumerateFiles(obj, "*TinyLstm.g.cs", SearchOption.AllDirectories).FirstOrDefault()
            ?? throw new XunitException($"No generated *TinyLstm.g.cs under {obj}: the generator in the package did not run.");
    }
}
