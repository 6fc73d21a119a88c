using System.Diagnostics;
using System.Globalization;
using System.Text;
using RnnGen;

namespace StreamingAot;

/// <summary>
/// The program, over streams given to it (the console's in <c>Program.cs</c>, memory streams in tests): the command
/// line, <c>--init</c>, and the streaming loop.
/// </summary>
public static class App
{
    /// <summary>The usage text printed by <c>-h</c> / <c>--help</c> and after a usage error.</summary>
    public const string Usage = """
        usage: StreamingAot --init MODEL [--seed N] [--force]   write a seeded (untrained) model file (--force: replace MODEL)
               StreamingAot MODEL [INPUT | -] [--quiet]         one Step per value of INPUT (default: stdin)

        INPUT holds numbers separated by spaces, tabs, commas, semicolons or new lines. Each output is written on its own line to
        stdout (--quiet: none); the number of steps, µs per step and bytes allocated go to stderr at the end.
        """;

    /// <summary>Runs the program with <paramref name="args"/>; returns its exit code (0, 1: an error, 2: a usage error).</summary>
    /// <param name="args">The command line.</param>
    /// <param name="standardInput">Read when no INPUT (or <c>-</c>) is given.</param>
    /// <param name="standardOutput">The outputs, one line per step (and the usage for <c>--help</c>).</param>
    /// <param name="standardError">Messages and statistics.</param>
    public static int Run(string[] args, Stream standardInput, Stream standardOutput, TextWriter standardError)
    {
        // help wins wherever it stands, even where a value was expected (--init -h) or beside a wrong argument
        if (args.Any(arg => arg is "-h" or "--help"))
        {
            standardOutput.Write(Encoding.UTF8.GetBytes(Usage + "\n"));
            standardOutput.Flush();
            return 0;
        }

        string? initPath = null, modelPath = null, inputPath = null;
        int? seed = null;
        bool quiet = false, force = false;
        var given = new HashSet<string>();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (arg.StartsWith('-') && arg != "-" && !given.Add(arg))
                return UsageError(standardError, $"{arg} is given twice; give it once.");
            switch (arg)
            {
                case "--init":
                    if (i + 1 == args.Length)
                        return UsageError(standardError, "--init needs a file name: --init MODEL.");
                    if (args[i + 1].StartsWith('-'))
                        return UsageError(standardError, $"--init needs a file name, not '{args[i + 1]}' (for a file whose name starts with '-', write ./{args[i + 1]}).");
                    initPath = args[++i];
                    break;
                case "--seed":
                    if (i + 1 == args.Length)
                        return UsageError(standardError, "--seed needs an integer: --seed N.");
                    if (!int.TryParse(args[++i], NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
                        return UsageError(standardError, $"--seed needs an integer, not '{args[i]}'.");
                    seed = value;
                    break;
                case "--quiet":
                    quiet = true;
                    break;
                case "--force":
                    force = true;
                    break;
                case var option when option.StartsWith('-') && option != "-":
                    return UsageError(standardError, $"unknown option '{option}'.");
                case var path when modelPath is null:
                    modelPath = path;
                    break;
                case var path when inputPath is null:
                    inputPath = path;
                    break;
                default:
                    return UsageError(standardError, $"unexpected argument '{arg}'; give a MODEL and at most one INPUT.");
            }
        }
        if (initPath is not null && modelPath is not null)
            return UsageError(standardError, "--init takes no MODEL or INPUT argument.");
        if (initPath is not null && quiet)
            return UsageError(standardError, "--quiet applies to streaming (StreamingAot MODEL [INPUT]) only, not to --init, which writes no outputs.");
        if (initPath is null && force)
            return UsageError(standardError, "--force applies to --init only: it lets --init replace an existing MODEL file.");
        if (initPath is null && seed is not null)
            return UsageError(standardError, "--seed applies to --init only: it seeds the parameters of the model file --init writes.");
        if (initPath is null && modelPath is null)
            return UsageError(standardError, "no model file given.");

        try
        {
            return initPath is not null
                ? Init(initPath, seed ?? 1, force, standardError)
                : StreamValues(modelPath!, inputPath, quiet, standardInput, standardOutput, standardError);
        }
        catch (Exception e) when (e is ModelFileException or FormatException or IOException or UnauthorizedAccessException or ArgumentException
            or NotSupportedException)
        {
            standardError.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private static int UsageError(TextWriter error, string message)
    {
        error.WriteLine($"error: {message}");
        error.WriteLine(Usage);
        return 2;
    }

    private static string Describe() =>
        $"LSTM {StreamModel.InputSize}→{StreamModel.HiddenSize}→{StreamModel.OutputSize}, {StreamModel.ParameterCount:N0} parameters";

    // Writes a model with PyTorch-style initial parameters; a real model comes from training (RnnGen or PyTorch). An existing
    // file is kept unless --force: it may be a trained model, which an untrained one would replace.
    private static int Init(string path, int seed, bool force, TextWriter log)
    {
        if (File.Exists(path) && !force)
        {
            log.WriteLine($"error: {path} exists, and --init would replace it with an untrained model; give another file name, or add --force to replace it.");
            return 1;
        }
        var model = new StreamModel();
        model.InitializeParameters(seed);
        SafeTensors.Save(model, path, new Dictionary<string, string>
        {
            ["app.note"] = $"untrained: initialised by StreamingAot --init --seed {seed.ToString(CultureInfo.InvariantCulture)}",
        });
        log.WriteLine($"wrote {path} ({Describe()}, seed {seed})");
        return 0;
    }

    // A pipe (StreamingAot <(gunzip -c model.safetensors.gz)) has no length, which loading a file checks first
    // ("Stream does not support seeking"): it is read as a stream, up to the end of its last tensor.
    private static StreamModel LoadModel(string path)
    {
        FileStream? pipe = null;
        if (!Directory.Exists(path))   // a folder: the library says so
        {
            var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
            if (file.CanSeek) file.Dispose();
            else pipe = file;
        }
        if (pipe is null)
            return SafeTensors.Load<StreamModel, float>(path);
        using (pipe)
        {
            try
            {
                return SafeTensors.Load<StreamModel, float>(pipe);
            }
            catch (ModelFileException e) when (e.FilePath is null)
            {
                throw new ModelFileException($"model file '{path}': {e.Message}", path, e.TensorName, e);
            }
        }
    }

    // A folder opened as a file gives "Access to the path '…' is denied.", which sends the user looking at permissions.
    private static FileStream OpenInput(string path) =>
        Directory.Exists(path) ? throw new IOException($"cannot read '{path}': it is a folder, not a file.") : File.OpenRead(path);

    private static int StreamValues(string modelPath, string? inputPath, bool quiet, Stream standardInput, Stream standardOutput, TextWriter log)
    {
        // Everything is allocated here, before the first value.
        var model = LoadModel(modelPath);
        var state = new StreamModel.State();
        using Stream? file = inputPath is null or "-" ? null : OpenInput(inputPath);
        Stream input = file ?? standardInput;
        var writer = new NumberWriter(standardOutput);
        var reader = new NumberReader(input, beforeRead: writer.Flush);
        Span<float> x = stackalloc float[StreamModel.InputSize];
        Span<float> y = stackalloc float[StreamModel.OutputWidth];

        // The first step is measured apart: it initialises the number parser and the console (a few KB, once), and under
        // the JIT it compiles the code. The statistics below describe the steady state of a stream: steps 2, 3, ...
        long steps = 0, firstStepTicks = 0, stepTicks = 0, steadyStart = 0, allocatedAfterFirstStep = 0;
        int filled = 0;
        try
        {
            while (reader.TryRead(out float value))
            {
                x[filled++] = value;
                if (filled < x.Length) continue;
                filled = 0;

                long t0 = Stopwatch.GetTimestamp();
                model.Step(x, ref state, y);
                long ticks = Stopwatch.GetTimestamp() - t0;
                steps++;

                if (!quiet)
                {
                    for (int j = 0; j < y.Length; j++)
                    {
                        if (j > 0) writer.Write(' ');
                        writer.Write(y[j]);
                    }
                    writer.Write('\n');
                }

                if (steps == 1)
                {
                    firstStepTicks = ticks;
                    writer.Flush();
                    allocatedAfterFirstStep = GC.GetAllocatedBytesForCurrentThread();
                    steadyStart = Stopwatch.GetTimestamp();
                }
                else
                {
                    stepTicks += ticks;
                }
            }
        }
        finally
        {
            writer.Flush(); // the outputs computed before a bad value stopped the stream are kept
        }
        long end = Stopwatch.GetTimestamp();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedAfterFirstStep;

        if (filled != 0)
            throw new FormatException($"the input ended in the middle of a step: {filled} of {StreamModel.InputSize} values.");

        double microseconds = 1e6 / Stopwatch.Frequency;
        log.WriteLine($"steps: {steps} ({Describe()}, {modelPath})");
        if (steps == 0) return 0;
        log.WriteLine($"first step: {firstStepTicks * microseconds:F1} µs (cold caches; under the JIT, compilation too)");
        if (steps == 1) return 0;
        long steady = steps - 1;
        log.WriteLine($"Step: {stepTicks * microseconds / steady:F3} µs per step (mean of steps 2 to {steps})");
        log.WriteLine($"total: {(end - steadyStart) * microseconds / steady:F3} µs per step with reading, parsing and writing (and any wait for input)");
        log.WriteLine($"allocated after the first step: {allocated} bytes");
        return 0;
    }
}
