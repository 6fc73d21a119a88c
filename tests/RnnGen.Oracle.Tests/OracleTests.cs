using System.Globalization;
using Xunit.Abstractions;

namespace RnnGen.Oracle.Tests;

/// <summary>
/// Generated models against libtorch: same weights (RnnGen's <c>Parameters</c> copied into torch.nn.LSTM/GRU/RNN and
/// nn.Linear by state dict name), same inputs and non-zero initial state, same output gradient; compares outputs, final
/// state, every parameter gradient, the input gradient and the initial-state gradient (see <see cref="OracleComparison"/>).
/// </summary>
public class OracleTests(ITestOutputHelper output)
{
    /// <summary>One problem per (steps, variant): steps 1 and 50; batch_first off with a zero final-state gradient, or on with a random one.</summary>
    private static readonly (int Steps, bool BatchFirst, bool FinalStateGradient)[] Cases =
    [
        (1, false, false),
        (1, true, true),
        (50, false, false),
        (50, true, true),
    ];

    public static TheoryData<string, string> Groups => new()
    {
        { "LSTM", "float" }, { "GRU", "float" }, { "RNN-tanh", "float" }, { "RNN-relu", "float" },
        { "LSTM", "double" }, { "GRU", "double" }, { "RNN-tanh", "double" }, { "RNN-relu", "double" },
    };

    public static TheoryData<string> ModelNames => new(OracleModels.All.Select(m => m.Name));

    [Theory]
    [MemberData(nameof(Groups))]
    public void MatchesLibTorch(string kind, string precision)
    {
        output.WriteLine(TorchRuntime.EnsureReady());
        var models = OracleModels.All.Where(m => m.Kind == kind && m.PrecisionName == precision).ToList();
        Assert.NotEmpty(models);
        var (forwardTolerance, gradientTolerance) = OracleComparison.Tolerances(models[0].Info.Precision);
        output.WriteLine($"{kind}, {precision}: tolerances forward {forwardTolerance:0e+00}, gradients {gradientTolerance:0e+00} (‖a−b‖/‖b‖ per tensor)");
        output.WriteLine($"{"model",-26} {"T",3} {"bf",-3} {"dS_T",-4} {"worst forward",-26} {"worst gradient",-30}");

        var rows = new List<(string Case, Deviation Forward, Deviation Gradient)>();
        var failures = new List<string>();
        int seed = 1;
        foreach (OracleModel model in models)
        {
            foreach (var (steps, batchFirst, finalStateGradient) in Cases)
            {
                OracleProblem problem = model.CreateProblem(seed, steps, batchFirst, finalStateGradient);
                OracleResult reference = TorchReference.Run(problem);
                OracleResult rnnGen = model.RunRnnGen(problem);
                List<Deviation> deviations = OracleComparison.Compare(problem, rnnGen, reference);

                string label = $"{model.Name}, steps {steps}, batch_first {batchFirst}, final-state gradient {(finalStateGradient ? "random" : "zero")}, seed {seed}";
                var row = (label, Worst(deviations.Where(d => !d.IsGradient)), Worst(deviations.Where(d => d.IsGradient)));
                rows.Add(row);
                output.WriteLine($"{model.Name,-26} {steps,3} {(batchFirst ? "yes" : "no"),-3} {(finalStateGradient ? "rand" : "0"),-4} " +
                    $"{Describe(row.Item2),-26} {Describe(row.Item3),-30}");
                failures.AddRange(deviations.Where(d => !d.Passed).Select(d => $"{label}: {d}"));
                seed++;
            }
        }
        var worstForward = rows.MaxBy(r => Magnitude(r.Forward));
        var worstGradient = rows.MaxBy(r => Magnitude(r.Gradient));
        output.WriteLine($"worst {kind} {precision} forward:  {Describe(worstForward.Forward)} ({worstForward.Case})");
        output.WriteLine($"worst {kind} {precision} gradient: {Describe(worstGradient.Gradient)} ({worstGradient.Case})");
        Assert.True(failures.Count == 0, $"{failures.Count} tensors differ from libtorch:\n" + string.Join("\n", failures));
    }

    [Theory]
    [MemberData(nameof(ModelNames))]
    public void LayoutIsTheTorchStateDict(string modelName)
    {
        ModelInfo info = OracleModels.Named(modelName).Info;
        var torchLayout = TorchReference.StateDictLayout(info).Select(p => $"{p.Name} [{string.Join(", ", p.Shape)}]");
        var rnnGenLayout = info.Layout.Select(t => $"{t.Name} [{string.Join(", ", t.Shape)}]");
        Assert.Equal(torchLayout, rnnGenLayout);

        // Offsets are consecutive in that order, and ParameterCount is their total (the buffer has no gaps).
        int offset = 0;
        foreach (ParameterTensor tensor in info.Layout)
        {
            Assert.Equal(offset, tensor.Offset);
            offset += tensor.Length;
        }
        Assert.Equal(offset, info.ParameterCount);
    }

    /// <summary>
    /// The harness is not vacuous: RnnGen run on slightly wrong weights must fail the comparison with libtorch run on the
    /// right ones. "gate order": the f and g row blocks of weight_ih_l0 swapped (the classic layout bug);
    /// "one weight": weight_hh_l1[3] off by 1e-2.
    /// </summary>
    [Theory]
    [InlineData("gate order")]
    [InlineData("one weight")]
    public void DetectsWrongWeights(string mistake)
    {
        OracleModel model = OracleModels.Named(nameof(Lstm_H13_L2_In5_Out3));
        OracleProblem problem = model.CreateProblem(seed: 7, steps: 20, batchFirst: false, finalStateGradient: false);
        OracleResult reference = TorchReference.Run(problem);

        double[] wrong = (double[])problem.Parameters.Clone();
        int hidden = model.Info.HiddenSize;
        if (mistake == "gate order")
        {
            ParameterTensor w = model.Info.Find("weight_ih_l0")!;
            int block = hidden * model.Info.InputSize; // one gate's rows
            int f = w.Offset + block, g = w.Offset + 2 * block;
            problem.Parameters.AsSpan(f, block).CopyTo(wrong.AsSpan(g, block));
            problem.Parameters.AsSpan(g, block).CopyTo(wrong.AsSpan(f, block));
        }
        else
        {
            wrong[model.Info.Find("weight_hh_l1")!.Offset + 3] += 1e-2;
        }
        OracleResult rnnGen = model.RunRnnGen(problem with { Parameters = wrong });

        List<Deviation> deviations = OracleComparison.Compare(problem, rnnGen, reference);
        output.WriteLine(string.Join("\n", deviations));
        Assert.Contains(deviations, d => d.Quantity == "outputs" && !d.Passed);
        Assert.Contains(deviations, d => d.IsGradient && !d.Passed);
    }

    private static Deviation Worst(IEnumerable<Deviation> deviations) => deviations.MaxBy(Magnitude);

    /// <summary>The error, with NaN (a failed comparison) ranked above everything.</summary>
    private static double Magnitude(Deviation d) => double.IsNaN(d.Error) ? double.PositiveInfinity : d.Error;

    private static string Describe(Deviation d) =>
        $"{d.Error.ToString("0.00e+00", CultureInfo.InvariantCulture)} {d.Quantity}{(d.Passed ? "" : " FAIL")}";
}
