using System.Globalization;

namespace CharRnn;

/// <summary>A command line that cannot be understood; the message says what to change.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Settings of a training run (<c>train</c>, the default command). Defaults are char-rnn's.</summary>
public sealed record TrainSettings
{
    /// <summary>Default time budget, in minutes: a first run, build included, takes about two minutes on two cores.</summary>
    public const double DefaultMinutes = 1.5;

    /// <summary>The largest budget, which is no limit (about two years).</summary>
    public const double NoTimeLimit = 1e6;

    public string? Model { get; init; }
    public string? CorpusPath { get; init; }
    public double Minutes { get; init; } = DefaultMinutes;
    public int? Epochs { get; init; }
    public int Batch { get; init; } = 50;
    public int SeqLength { get; init; } = 50;
    public double LearningRate { get; init; } = 2e-3;
    /// <summary>Whether <c>--lr</c> was given: a resumed run then takes it instead of the checkpoint's learning rate.</summary>
    public bool LearningRateGiven { get; init; }
    public double Alpha { get; init; } = 0.95;
    public double Clip { get; init; } = 5;
    public double LearningRateDecay { get; init; } = 0.97;
    public int LearningRateDecayAfter { get; init; } = 10;
    public double InitUniform { get; init; } = 0.08;
    public double ForgetBias { get; init; } = 1;
    public int Seed { get; init; } = 1;
    public int Threads { get; init; } = Environment.ProcessorCount;
    public string? CheckpointPath { get; init; }
    public bool Resume { get; init; }
    public int SampleEvery { get; init; } = 500;
    public int SampleLength { get; init; } = 200;
    public double SampleTemperature { get; init; } = 0.8;
    public bool Plain { get; init; }
}

/// <summary>Settings of <c>generate</c>.</summary>
public sealed record GenerateSettings
{
    public string? Model { get; init; }
    public string? CheckpointPath { get; init; }
    public string? Prime { get; init; }
    public double Temperature { get; init; } = 0.8;
    public int TopK { get; init; }
    public int Length { get; init; } = 500;
    public int Seed { get; init; } = 1;
}

/// <summary>Parses <c>[train|generate] [--name value | --name=value | --flag] …</c>.</summary>
public static class CommandLine
{
    public const string Usage = """
        CharRnn — a character-level LSTM language model trained with RnnGen (char-rnn's recipe).

        Train (the default command):
          dotnet run -c Release --project samples/CharRnn [-- [train] OPTIONS]
            --model small|medium|large  LSTM 1×128 (default), 2×128 (char-rnn's), 2×256
            --corpus FILE               train on a UTF-8 text file (default: this repository's C# and Markdown)
            --minutes M                 time budget (default 1.5); Ctrl+C or SIGTERM stops early and keeps the checkpoint (exit code 130 / 143)
            --epochs N                  stop after N epochs (then no time budget, unless --minutes is given too)
            --checkpoint FILE           default checkpoints/charrnn-MODEL.safetensors
            --resume                    continue from the checkpoint (model, vocabulary, optimizer, learning rate; --lr overrides it)
            --batch 50 --seq-length 50  streams per step × characters per stream per step (fewer for a small corpus)
            --lr 2e-3 --alpha 0.95      RMSProp learning rate and smoothing
            --clip 5                    clamp every gradient to [-clip, clip] (0: none)
            --lr-decay 0.97 --lr-decay-after 10   multiply the learning rate by 0.97 after every epoch from epoch 10 on
            --init-uniform 0.08         initial parameters ~ U(-0.08, 0.08) (0: RnnGen's default U(±1/√hidden))
            --forget-bias 1             initial forget-gate bias (of bias_ih)
            --seed 1                    initialisation and samples
            --threads N                 worker threads (default: the processor count)
            --sample-every 500 --sample-length 200 --sample-temperature 0.8   text samples while training (--sample-every 0: none)
            --plain                     log lines instead of the live progress bar

        Generate from a checkpoint (text goes to stdout):
          dotnet run -c Release --project samples/CharRnn -- generate OPTIONS
            --checkpoint FILE           default checkpoints/charrnn-MODEL.safetensors (--model small|medium|large picks MODEL)
            --prime TEXT                text to start from (default: a new line)
            --temperature 0.8           below 1: safer, above 1: wilder, 0: always the most likely character
            --top-k K                   sample only among the K most likely characters (default 0: all)
            --length 500                characters to generate
            --seed 1                    the same seed gives the same text
        """;

    private static readonly string[] TrainOptions =
    [
        "model", "corpus", "minutes", "epochs", "checkpoint", "resume", "batch", "seq-length", "lr", "alpha", "clip", "lr-decay",
        "lr-decay-after", "init-uniform", "forget-bias", "seed", "threads", "sample-every", "sample-length", "sample-temperature", "plain",
    ];

    private static readonly string[] GenerateOptions = ["model", "checkpoint", "prime", "temperature", "top-k", "length", "seed"];

    private static readonly HashSet<string> Flags = ["resume", "plain", "help"];

    /// <summary>The command (<c>train</c>, <c>generate</c> or <c>help</c>) and its settings.</summary>
    public static (string Command, object? Settings) Parse(string[] args)
    {
        string command = "train";
        int first = 0;
        if (args.Length > 0 && args[0] is "-h" or "--help") return ("help", null);
        if (args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal))
        {
            command = args[0];
            first = 1;
            if (command is not ("train" or "generate" or "help"))
                throw new UsageException($"Unknown command '{command}'; the commands are train (the default) and generate.");
        }
        var values = Read(args.AsSpan(first));
        if (command == "help" || values.ContainsKey("help")) return ("help", null);

        var reader = new OptionReader(values, command == "train" ? TrainOptions : GenerateOptions, command);
        if (command == "generate")
        {
            return (command, new GenerateSettings
            {
                Model = reader.Model(),
                CheckpointPath = reader.String("checkpoint"),
                Prime = reader.String("prime"),
                Temperature = reader.Double("temperature", 0.8, 0, 100),
                TopK = reader.Int("top-k", 0, 0, Vocabulary.Capacity),
                Length = reader.Int("length", 500, 0, 100_000_000),
                Seed = reader.Int("seed", 1, 0, int.MaxValue),
            });
        }
        var defaults = new TrainSettings();
        if (values.ContainsKey("resume") && (values.ContainsKey("init-uniform") || values.ContainsKey("forget-bias")))
            throw new UsageException("--init-uniform and --forget-bias set up a new model, and --resume continues the checkpoint's parameters; leave them out, or leave out --resume to start afresh.");
        return (command, new TrainSettings
        {
            Model = reader.Model(),
            CorpusPath = reader.String("corpus"),
            // --epochs without --minutes: as many epochs as asked, however long they take
            Minutes = reader.Double("minutes", values.ContainsKey("epochs") ? TrainSettings.NoTimeLimit : defaults.Minutes, 0.001, TrainSettings.NoTimeLimit),
            Epochs = values.ContainsKey("epochs") ? reader.Int("epochs", 0, 1, 1_000_000) : null,
            CheckpointPath = reader.String("checkpoint"),
            Resume = reader.Flag("resume"),
            Batch = reader.Int("batch", defaults.Batch, 1, 10_000),
            SeqLength = reader.Int("seq-length", defaults.SeqLength, 1, 100_000),
            LearningRate = reader.Double("lr", defaults.LearningRate, 1e-12, 10),
            LearningRateGiven = values.ContainsKey("lr"),
            Alpha = reader.Double("alpha", defaults.Alpha, 0, 0.9999),
            Clip = reader.Double("clip", defaults.Clip, 0, 1e9),
            LearningRateDecay = reader.Double("lr-decay", defaults.LearningRateDecay, 1e-6, 1),
            LearningRateDecayAfter = reader.Int("lr-decay-after", defaults.LearningRateDecayAfter, 0, 1_000_000),
            InitUniform = reader.Double("init-uniform", defaults.InitUniform, 0, 10),
            ForgetBias = reader.Double("forget-bias", defaults.ForgetBias, -100, 100),
            Seed = reader.Int("seed", defaults.Seed, 0, int.MaxValue),
            Threads = reader.Int("threads", defaults.Threads, 1, 1024),
            SampleEvery = reader.Int("sample-every", defaults.SampleEvery, 0, int.MaxValue),
            SampleLength = reader.Int("sample-length", defaults.SampleLength, 1, 1_000_000, " (--sample-every 0 turns the samples off)"),
            SampleTemperature = reader.Double("sample-temperature", defaults.SampleTemperature, 0, 100),
            Plain = reader.Flag("plain"),
        });
    }

    /// <summary>
    /// <paramref name="argument"/> as it can be pasted into a shell: as it is when it has only letters, digits and
    /// <c>_ . / - + , : = @ %</c>, otherwise in single quotes (a quote inside as <c>'\''</c>).
    /// </summary>
    public static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsLetterOrDigit(c) || "_./-+,:=@%".Contains(c))
            ? argument
            : "'" + argument.Replace("'", @"'\''", StringComparison.Ordinal) + "'";

    private static Dictionary<string, string?> Read(ReadOnlySpan<string> args)
    {
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i] == "-h" ? "--help" : args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
                throw new UsageException($"Unexpected argument '{arg}'; options look like --name value (see --help).");
            string name = arg[2..];
            string? value = null;
            int equals = name.IndexOf('=');
            if (equals >= 0)
            {
                value = name[(equals + 1)..];
                name = name[..equals];
            }
            else if (!Flags.Contains(name))
            {
                if (i + 1 >= args.Length)
                    throw new UsageException(TrainOptions.Contains(name) || GenerateOptions.Contains(name)
                        ? $"--{name} needs a value."
                        : $"Unknown option --{name} (see --help).");
                value = args[++i];
            }
            if (!values.TryAdd(name, value))
                throw new UsageException($"--{name} is given twice.");
        }
        return values;
    }

    /// <summary>Typed access to the options of one command, with range checks that name the option.</summary>
    private sealed class OptionReader
    {
        private readonly Dictionary<string, string?> _values;

        public OptionReader(Dictionary<string, string?> values, string[] known, string command)
        {
            _values = values;
            foreach (string name in values.Keys)
            {
                if (!known.Contains(name))
                    throw new UsageException($"Unknown option --{name} for {command}; its options are {string.Join(", ", known.Select(k => "--" + k))}.");
            }
        }

        public string? String(string name)
        {
            if (!_values.TryGetValue(name, out string? value)) return null;
            if (string.IsNullOrEmpty(value)) throw new UsageException($"--{name} needs a value.");
            return value;
        }

        public string? Model()
        {
            string? model = String("model");
            if (model is not null && !ModelCatalog.Names.Contains(model))
                throw new UsageException($"--model must be one of {string.Join(", ", ModelCatalog.Names)}; got '{model}'.");
            return model;
        }

        public bool Flag(string name)
        {
            if (!_values.TryGetValue(name, out string? value)) return false;
            return value switch
            {
                null or "true" => true,
                "false" => false,
                _ => throw new UsageException($"--{name} is a switch: give it alone (or --{name}=true / false)."),
            };
        }

        public int Int(string name, int fallback, int min, int max, string hint = "")
        {
            string? text = String(name);
            if (text is null) return fallback;
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
                throw new UsageException($"--{name} must be a whole number from {min} to {max}; got '{text}'{hint}.");
            return value;
        }

        public double Double(string name, double fallback, double min, double max)
        {
            string? text = String(name);
            if (text is null) return fallback;
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value >= min && value <= max))
                throw new UsageException($"--{name} must be a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}; got '{text}'.");
            return value;
        }
    }
}
