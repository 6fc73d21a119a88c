// Streaming inference, compiled ahead of time: read numbers (one per time step) from a file or stdin, run the
// model one Step per value, write one output per line. Statistics go to stderr, so stdout stays a clean stream.
//
//   StreamingAot --init MODEL [--seed N]      write a model file with seeded parameters (untrained)
//   StreamingAot MODEL [INPUT | -] [--quiet]  stream INPUT (default: stdin) through the model in MODEL
using System.Diagnostics;
using System.Globalization;
using RnnGen;
using StreamingAot;

const string Usage = """
    usage: StreamingAot --init MODEL [--seed N]       write a seeded (untrained) model file
           StreamingAot MODEL [INPUT | -] [--quiet]   one Step per value of INPUT (default: stdin)

    INPUT holds numbers separated by spaces, tabs, commas, semicolons or new lines. Each output is written on its own line to
    stdout (--quiet: none); the number of steps, µs per step and bytes allocated go to stderr at the end.
    """;

string? initPath = null, modelPath = null, inputPath = null;
int seed = 1;
bool quiet = false;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "-h" or "--help":
            Console.WriteLine(Usage);
            return 0;
        case "--init" when i + 1 < args.Length:
            initPath = args[++i];
            break;
        case "--seed" when i + 1 < args.Length:
            if (!int.TryParse(args[++i], NumberStyles.Integer, CultureInfo.InvariantCulture, out seed))
                return UsageError($"--seed needs an integer, not '{args[i]}'.");
            break;
        case "--quiet":
            quiet = true;
            break;
        case var option when option.StartsWith("--", StringComparison.Ordinal):
            return UsageError($"unknown option or missing value: '{option}'.");
        case var path when modelPath is null:
            modelPath = path;
            break;
        case var path when inputPath is null:
            inputPath = path;
            break;
        default:
            return UsageError($"unexpected argument '{args[i]}'.");
    }
}

try
{
    if (initPath is not null)
        return modelPath is null ? Init(initPath, seed) : UsageError("--init takes no MODEL or INPUT argument.");
    return modelPath is null ? UsageError("no model file given.") : Run(modelPath, inputPath, quiet);
}
catch (Exception e) when (e is ModelFileException or FormatException or IOException or UnauthorizedAccessException or ArgumentException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}

static int UsageError(string message)
{
    Console.Error.WriteLine($"error: {message}");
    Console.Error.WriteLine(Usage);
    return 2;
}

static string Describe() =>
    $"LSTM {StreamModel.InputSize}→{StreamModel.HiddenSize}→{StreamModel.OutputSize}, {StreamModel.ParameterCount:N0} parameters";

// Writes a model with PyTorch-style initial parameters; a real model comes from training (RnnGen or PyTorch).
static int Init(string path, int seed)
{
    var model = new StreamModel();
    model.InitializeParameters(seed);
    SafeTensors.Save(model, path, new Dictionary<string, string>
    {
        ["app.note"] = $"untrained: initialised by StreamingAot --init --seed {seed.ToString(CultureInfo.InvariantCulture)}",
    });
    Console.Error.WriteLine($"wrote {path} ({Describe()}, seed {seed})");
    return 0;
}

static int Run(string modelPath, string? inputPath, bool quiet)
{
    // Everything is allocated here, before the first value.
    var model = SafeTensors.Load<StreamModel, float>(modelPath);
    var state = new StreamModel.State();
    using Stream input = inputPath is null or "-" ? Console.OpenStandardInput() : File.OpenRead(inputPath);
    using Stream stdout = Console.OpenStandardOutput();
    var writer = new NumberWriter(stdout);
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
    Console.Error.WriteLine($"steps: {steps} ({Describe()}, {modelPath})");
    if (steps == 0) return 0;
    Console.Error.WriteLine($"first step: {firstStepTicks * microseconds:F1} µs (cold caches; under the JIT, compilation too)");
    if (steps == 1) return 0;
    long steady = steps - 1;
    Console.Error.WriteLine($"Step: {stepTicks * microseconds / steady:F3} µs per step (mean of steps 2 to {steps})");
    Console.Error.WriteLine($"total: {(end - steadyStart) * microseconds / steady:F3} µs per step with reading, parsing and writing (and any wait for input)");
    Console.Error.WriteLine($"allocated after the first step: {allocated} bytes");
    return 0;
}
