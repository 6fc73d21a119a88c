using System.Diagnostics;
using System.Globalization;

namespace LongRangeMemory;

/// <summary>The command line of the sample: parses the options, runs the experiment, prints the table, writes the plots.</summary>
public static class Cli
{
    /// <summary>File name of the accuracy-against-lag plot.</summary>
    public const string AccuracyPlot = "long-range-accuracy.png";

    /// <summary>File name of the gradient-flow plot.</summary>
    public const string GradientPlot = "long-range-gradient-flow.png";

    /// <summary>The usage text.</summary>
    public const string Usage = """
        usage: LongRangeMemory [--quick] [--out DIR] [options]
          --quick                 lags 5,20,100, seed 1, at most 2,000 updates per run (well under a minute)
          --out DIR               folder for the two PNG plots (default: the current folder)
          --lags 5,10,20          lags L to run, ascending (full run: 5,10,20,50,100)
          --seeds 1,2,3           seeds, ascending (full run: 1,2,3,4,5)
          --max-steps N           optimizer updates per run at most (full run: 6000)
          --validation N          held-out sequences per lag and seed (512)
          --learning-rate X       Adam's learning rate (0.001)
          --memory-gate-bias B    initial bias of the LSTM forget gate and GRU update gate (3; 0: σ = ½, as PyTorch's on average)
          --workers N             training threads (default: the processor count; results do not depend on it)
        """;

    /// <summary>Runs the sample with <paramref name="args"/>; returns the process exit code (0 ok, 2 bad arguments).</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ExperimentOptions options;
        string folder;
        try
        {
            (options, folder) = Parse(args);
            options?.Validate(OptionName); // null: --help
        }
        catch (ArgumentException e)
        {
            error.WriteLine(e.Message);
            error.WriteLine(Usage);
            return 2;
        }
        if (options is null) { output.WriteLine(Usage); return 0; }
        // checked now, not after the experiment has run
        if (CheckFolder(folder) is string problem)
        {
            error.WriteLine(problem);
            return 2;
        }

        var clock = Stopwatch.StartNew();
        WriteSetup(options, output);
        IReadOnlyList<CellRun> runs = Experiment.Run(options, run => output.WriteLine(
            $"  L = {run.Lag,3}  seed {run.Seed}  {Experiment.Name(run.Cell),-10}  accuracy {run.Accuracy * 100,5:F1} %  " +
            $"loss {run.Loss:F3}  {run.Steps,5} updates  {(run.Solved ? "solved" : "not solved"),-10}  " +
            $"ratio at d = L {Ratio(run.Initial.Hidden[run.Lag])} → {Ratio(run.Trained.Hidden[run.Lag])}  ({run.Time.TotalSeconds:F1} s)"));
        IReadOnlyList<CellSummary> summaries = CellSummary.Of(runs);

        output.WriteLine();
        output.Write(ResultsTable.Format(summaries));
        output.WriteLine();

        string accuracyPath = Path.Combine(folder, AccuracyPlot), gradientPath = Path.Combine(folder, GradientPlot);
        try
        {
            Save(accuracyPath, () => Plots.Accuracy(summaries, options));
            Save(gradientPath, () => Plots.GradientFlow(summaries));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the folder changed during the experiment (removed, made read-only, the disk filled): the table above stands
            error.WriteLine($"error: the plots could not be written to {Path.GetFullPath(folder)} ({e.Message}).");
            return 1;
        }
        output.WriteLine($"Plots: {accuracyPath}, {gradientPath}");
        output.WriteLine($"Total time: {clock.Elapsed.TotalSeconds:F0} s");
        return 0;
    }

    /// <summary>The option that sets a property of <see cref="ExperimentOptions"/> (for messages), or the property's name.</summary>
    private static string OptionName(string property) => property switch
    {
        nameof(ExperimentOptions.Lags) => "--lags",
        nameof(ExperimentOptions.Seeds) => "--seeds",
        nameof(ExperimentOptions.MaxSteps) => "--max-steps",
        nameof(ExperimentOptions.ValidationSize) or nameof(ExperimentOptions.ProbeSequences) => "--validation",
        nameof(ExperimentOptions.LearningRate) => "--learning-rate",
        nameof(ExperimentOptions.MemoryGateBias) => "--memory-gate-bias",
        nameof(ExperimentOptions.WorkerCount) => "--workers",
        _ => property,
    };

    /// <summary>
    /// Null if the plots can be written to <paramref name="folder"/> (created if missing, then tried: a temporary file is
    /// created there and deleted), else the error to print.
    /// </summary>
    public static string? CheckFolder(string folder)
    {
        if (folder.Length == 0 || File.Exists(folder))
            return $"error: --out '{folder}' must be a folder (it is created if missing), not a file.";
        string probe = Path.Combine(folder, $".long-range-write-test-{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(probe, []);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"error: --out '{folder}': the plots cannot be written there ({e.Message}); give a folder you can write to.";
        }
        finally
        {
            try { File.Delete(probe); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Writes the PNG <paramref name="png"/> makes to <paramref name="path"/> through RnnGen's
    /// <see cref="RnnGen.AtomicFile"/> (a temporary file, then one rename): never half a PNG.</summary>
    private static void Save(string path, Func<byte[]> png)
    {
        byte[] bytes = png();
        RnnGen.AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    private static string Ratio(double value) => value.ToString("0.0e+00", CultureInfo.InvariantCulture);

    private static void WriteSetup(ExperimentOptions o, TextWriter output)
    {
        output.WriteLine($"Recall the first token after L distractors: {RecallTask.Classes} signal tokens, {RecallTask.Distractors} distractor tokens; " +
            $"chance accuracy {RecallTask.ChanceAccuracy * 100:F1} %, chance loss ln {RecallTask.Classes} = {RecallTask.ChanceLoss:F3} nats.");
        output.WriteLine("Cells of about equal size: " + string.Join(", ", Experiment.Cells.Select(c =>
            $"{Experiment.Name(c)} H = {Experiment.HiddenSize(c)} ({Experiment.ParameterCount(c):N0} parameters)")) + ".");
        output.WriteLine(FormattableString.Invariant(
            $"Adam lr {o.LearningRate}, batch {o.BatchSize}, gradient norm clipped at {o.ClipGradientNorm}, forget/update gate bias {o.MemoryGateBias}; ") +
            $"at most {o.MaxSteps:N0} updates per run, solved at {o.SolvedAccuracy * 100:F0} % validation accuracy on {o.ValidationSize} sequences.");
        output.WriteLine($"Lags {string.Join(", ", o.Lags)}; seeds {string.Join(", ", o.Seeds)}.");
        output.WriteLine();
    }

    /// <summary>Parses the arguments; returns null options for --help.</summary>
    private static (ExperimentOptions Options, string Folder) Parse(string[] args)
    {
        ExperimentOptions options = args.Contains("--quick") ? ExperimentOptions.Quick : ExperimentOptions.Full;
        string folder = ".";
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            if (name == "--quick") continue;
            if (name is "--help" or "-h") return (null!, folder);
            if (i + 1 >= args.Length)
                throw new ArgumentException(KnownOptions.Contains(name) ? $"{name} needs a value." : $"Unknown option {name}.");
            string value = args[++i];
            options = name switch
            {
                "--out" => options,
                "--lags" => options with { Lags = IntList(name, value) },
                "--seeds" => options with { Seeds = IntList(name, value) },
                "--max-steps" => options with { MaxSteps = Int(name, value) },
                "--validation" => options with { ValidationSize = Int(name, value), ProbeSequences = Math.Min(options.ProbeSequences, Int(name, value)) },
                "--learning-rate" => options with { LearningRate = Double(name, value) },
                "--memory-gate-bias" => options with { MemoryGateBias = Double(name, value) },
                "--workers" => options with { WorkerCount = Int(name, value) },
                _ => throw new ArgumentException($"Unknown option {name}."),
            };
            if (name == "--out") folder = value;
        }
        return (options, folder);
    }

    private static readonly string[] KnownOptions =
        ["--out", "--lags", "--seeds", "--max-steps", "--validation", "--learning-rate", "--memory-gate-bias", "--workers"];

    private static int Int(string name, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
        : throw new ArgumentException($"{name} expects an integer, got '{value}'.");

    private static double Double(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
        : throw new ArgumentException($"{name} expects a number, got '{value}'.");

    private static int[] IntList(string name, string value) => value.Split(',').Select(v => Int(name, v.Trim())).ToArray();
}
