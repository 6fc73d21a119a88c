using System.Globalization;
using RnnGen;

namespace CharRnn;

/// <summary>What a checkpoint says about itself (its safetensors <c>__metadata__</c>), readable without loading the model.</summary>
/// <param name="Path">The file.</param>
/// <param name="ModelName">The <c>--model</c> it was trained as.</param>
/// <param name="Vocabulary">The characters of its token ids.</param>
/// <param name="Epochs">Epochs completed.</param>
/// <param name="Steps">Optimizer steps taken.</param>
/// <param name="LearningRate">The learning rate of the next step (after the per-epoch decay so far).</param>
/// <param name="TrainingSeconds">Wall-clock seconds of training so far, over all runs.</param>
/// <param name="ValidationLoss">The validation loss (nats per character) of these parameters, if known.</param>
/// <param name="ValidationFingerprint">Which validation text that loss was measured on (length and hash), if known.</param>
/// <param name="CorpusPath">The <c>--corpus</c> file it was trained on (its full path), or null for the repository's text.</param>
public sealed record CheckpointInfo(string Path, string ModelName, Vocabulary Vocabulary, int Epochs, long Steps,
    double LearningRate, double TrainingSeconds, double? ValidationLoss, string? ValidationFingerprint, string? CorpusPath = null);

/// <summary>
/// Checkpoints: one training checkpoint file (<see cref="TrainingCheckpoint"/>, written atomically) with the model's
/// parameters under PyTorch's names, RMSProp's running averages, step count and learning rate, and the vocabulary and the
/// training position in its metadata, so that <c>--resume</c> continues from the best parameters saved, with the optimizer
/// state, step count and learning rate that went with them (an interrupted epoch starts over), and <c>generate</c> reads
/// the model from the same file.
/// </summary>
public static class Checkpoint
{
    private const string ModelKey = "charrnn.model";
    private const string VocabularyKey = "charrnn.vocabulary";
    private const string UnknownKey = "charrnn.unknown-id";
    private const string EpochsKey = "charrnn.epochs";
    private const string StepsKey = "charrnn.steps";
    private const string LearningRateKey = "charrnn.learning-rate";
    private const string SecondsKey = "charrnn.training-seconds";
    private const string ValidationKey = "charrnn.validation-loss";
    private const string FingerprintKey = "charrnn.validation-text";
    private const string CorpusKey = "charrnn.corpus";

    /// <summary>Where a model is saved unless <c>--checkpoint</c> says otherwise (relative to the current folder).</summary>
    public static string DefaultPath(string modelName) => System.IO.Path.Combine("checkpoints", $"charrnn-{modelName}.safetensors");

    /// <summary>
    /// Refuses, before any training, a checkpoint path that cannot be saved to: a folder, or a path below a file. The folder
    /// is created if it is missing (as the first save would).
    /// </summary>
    public static void CheckWritable(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new CheckpointException($"--checkpoint {path} is a folder; give a file path such as {System.IO.Path.Combine(path, "model.safetensors")}.");
        string? folder = System.IO.Path.GetDirectoryName(full);
        try
        {
            if (folder is not null) Directory.CreateDirectory(folder);
        }
        catch (IOException e)
        {
            throw new CheckpointException($"--checkpoint {path}: its folder cannot be created ({e.Message}).");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new CheckpointException($"--checkpoint {path}: its folder cannot be created ({e.Message}).");
        }
        // a save writes a temporary file in the folder and renames it: try that now, not after the training
        string probe = System.IO.Path.Combine(folder ?? ".", $".charrnn-write-test-{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllBytes(probe, []);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException($"--checkpoint {path}: its folder {folder} is not writable ({e.Message}); give a path in a folder you can write to.");
        }
        finally
        {
            try { File.Delete(probe); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>
    /// Refuses, before any training, to replace a file that is not a CharRnn checkpoint (a text, another program's file:
    /// a typo in <c>--checkpoint</c> must not overwrite it) and a checkpoint path that is the corpus itself.
    /// </summary>
    public static void CheckReplaceable(string path, string? corpusPath)
    {
        string full = System.IO.Path.GetFullPath(path);
        if (corpusPath is not null && SameFile(full, System.IO.Path.GetFullPath(corpusPath)))
            throw new CheckpointException($"--checkpoint {path} is the --corpus file: saving would overwrite the training text. Give another --checkpoint path, such as {CommandLine.Quote(System.IO.Path.ChangeExtension(path, ".safetensors"))}.");
        if (!File.Exists(full)) return;
        try
        {
            ReadInfo(full);
        }
        catch (CheckpointException e)
        {
            throw new CheckpointException($"--checkpoint {path} exists and is not a CharRnn checkpoint ({e.Message.TrimEnd('.')}), so CharRnn does not replace it. " +
                "Give another --checkpoint path, or move that file away if you mean to replace it.");
        }
    }

    private static bool SameFile(string a, string b)
    {
        if (string.Equals(a, b, OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase)) return true;
        // a link to the other one (or both links to the same file)
        string Resolve(string p) => File.ResolveLinkTarget(p, returnFinalTarget: true)?.FullName ?? p;
        try { return Resolve(a) == Resolve(b); }
        catch (IOException) { return false; }
    }

    /// <summary>
    /// Takes the lock of a checkpoint path for a training run: <c>PATH.lock</c>, opened exclusively and deleted when the run
    /// ends (on Linux and macOS an advisory <c>flock</c>, released by the system even if the process is killed). A second run
    /// on the same path is refused, instead of both reporting success while one replaces the other's result.
    /// </summary>
    public static IDisposable Lock(string path)
    {
        string lockPath = path + ".lock";
        try
        {
            return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException($"--checkpoint {path} is in use: another CharRnn run is training into it (it holds {lockPath}: {e.Message}). " +
                "Wait for that run to end, or give another --checkpoint path.");
        }
    }

    /// <summary>
    /// Keeps the checkpoint an earlier run left at <paramref name="path"/> as <c>PATH.previous</c>; returns null, or a note
    /// saying why it could not be kept (the run goes on and saves all the same).
    /// </summary>
    public static string? KeepEarlier(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            // atomically, as the checkpoint itself: a crash during the copy leaves the earlier .previous whole, not half a file
            AtomicFile.Write(path + ".previous", copy =>
            {
                using var earlier = File.OpenRead(path);
                earlier.CopyTo(copy);
            });
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"note: the earlier checkpoint could not be kept as {path}.previous ({e.Message.TrimEnd('.')}); it is replaced.";
        }
    }

    /// <summary>Refuses a <c>--model</c> that is not the model of the checkpoint (the file decides the model).</summary>
    public static void CheckModel(string? model, CheckpointInfo checkpoint, string command)
    {
        if (model is not null && model != checkpoint.ModelName)
            throw new UsageException($"--model {model}, but {checkpoint.Path} holds a {checkpoint.ModelName} model; leave --model out to {command} it.");
    }

    /// <summary>
    /// Saves <paramref name="model"/> with <paramref name="optimizer"/>'s state (the best parameters so far and the state
    /// that produced them) and <paramref name="info"/> in the metadata.
    /// </summary>
    public static void Save<TModel>(TModel model, RmsProp<float> optimizer, CheckpointInfo info)
        where TModel : class, IRecurrentModel<TModel, float>
    {
        string? folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(info.Path));
        if (folder is not null) Directory.CreateDirectory(folder);
        TrainingCheckpoint.Save(model, optimizer, info.Path, Metadata(info));
    }

    /// <summary>Reads the metadata of a checkpoint (no parameters); <paramref name="modelAsked"/>, the --model asked for, goes into
    /// the command that a missing checkpoint's message suggests.</summary>
    /// <exception cref="CheckpointException">The file is missing or is not a CharRnn checkpoint.</exception>
    public static CheckpointInfo ReadInfo(string path, string? modelAsked = null)
    {
        if (Directory.Exists(path))
            throw new CheckpointException($"{System.IO.Path.GetFullPath(path)} is a folder, not a checkpoint; name the checkpoint file with --checkpoint FILE.");
        if (!File.Exists(path))
            throw new CheckpointException($"There is no checkpoint {System.IO.Path.GetFullPath(path)}. Train first (dotnet run -c Release --project samples/CharRnn{(modelAsked is null or "small" ? "" : $" -- --model {modelAsked}")}), or name one with --checkpoint FILE.");
        IReadOnlyDictionary<string, string> metadata;
        try
        {
            metadata = SafeTensors.ReadHeader(path).Metadata;
        }
        catch (ModelFileException e)
        {
            throw new CheckpointException($"{path} is not a readable safetensors file: {e.Message}");
        }
        string Get(string key) => metadata.TryGetValue(key, out string? value)
            ? value
            : throw new CheckpointException($"{path} is a safetensors file but not a CharRnn checkpoint (its metadata has no '{key}').");
        try
        {
            string model = Get(ModelKey);
            if (!ModelCatalog.Names.Contains(model))
                throw new FormatException($"{ModelKey} is '{model}'; the models are {string.Join(", ", ModelCatalog.Names)}");
            return new CheckpointInfo(path, model, Vocabulary.FromText(Get(VocabularyKey), Get(UnknownKey)),
                (int)Number(EpochsKey, Get(EpochsKey), 0, MaximumEpochs), (long)Number(StepsKey, Get(StepsKey), 0, MaximumSteps),
                Number(LearningRateKey, Get(LearningRateKey), double.Epsilon, 10), Number(SecondsKey, Get(SecondsKey), 0, double.MaxValue),
                metadata.TryGetValue(ValidationKey, out string? loss) ? Number(ValidationKey, loss, 0, double.MaxValue) : null,
                metadata.GetValueOrDefault(FingerprintKey), metadata.GetValueOrDefault(CorpusKey));
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new CheckpointException($"The CharRnn metadata of {path} is damaged ({e.Message}); train afresh into another --checkpoint path.");
        }
    }

    /// <summary>Most epochs a checkpoint may record: far beyond any run, far from <see cref="int.MaxValue"/>.</summary>
    private const double MaximumEpochs = 1e9;

    /// <summary>Most steps a checkpoint may record.</summary>
    private const double MaximumSteps = 1e15;

    /// <summary>A finite number of the metadata from <paramref name="min"/> to <paramref name="max"/> (whole for counts).</summary>
    private static double Number(string key, string text, double min, double max)
    {
        bool whole = key is EpochsKey or StepsKey;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value >= min && value <= max)
            || (whole && value != Math.Floor(value)))
        {
            string range = min == double.Epsilon ? $"above 0 and at most {Text(max)}"
                : max == double.MaxValue ? $"finite and at least {Text(min)}"
                : $"from {Text(min)} to {max.ToString("N0", CultureInfo.InvariantCulture)}";
            throw new FormatException($"{key} is '{text}'; it must be {(whole ? "a whole number " : "")}{range}");
        }
        return value;
    }

    /// <summary>Loads the parameters into <paramref name="model"/> (checked by RnnGen: names, shapes, sizes).</summary>
    public static void LoadModel<TModel>(TModel model, string path) where TModel : class, IRecurrentModel<TModel, float>
    {
        try
        {
            SafeTensors.Load(model, path, new SafeTensorsLoadOptions { IgnoreExtraTensors = true }); // the optimizer state is not the model's
        }
        catch (ModelFileException e)
        {
            throw new CheckpointException($"{path} does not fit the model: {e.Message}");
        }
    }

    /// <summary>
    /// Loads the checkpoint into <paramref name="model"/> and <paramref name="optimizer"/> (RMSProp's running averages, step
    /// count and learning rate); returns false when the file holds the parameters alone (a model file, or a checkpoint of
    /// an earlier version of this sample): the model is loaded and RMSProp starts afresh.
    /// </summary>
    public static bool Load<TModel>(TModel model, RmsProp<float> optimizer, CheckpointInfo info)
        where TModel : class, IRecurrentModel<TModel, float>
    {
        if (!SafeTensors.ReadHeader(info.Path).Metadata.ContainsKey(SafeTensorsMetadataKeys.CheckpointOptimizer))
        {
            LoadModel(model, info.Path);
            return false;
        }
        try
        {
            TrainingCheckpoint.Load(model, optimizer, info.Path);
            return true;
        }
        catch (ModelFileException e)
        {
            throw new CheckpointException($"{info.Path} does not fit the model: {e.Message}");
        }
    }

    private static Dictionary<string, string> Metadata(CheckpointInfo info)
    {
        var (characters, unknown) = info.Vocabulary.ToText();
        var metadata = new Dictionary<string, string>
        {
            [ModelKey] = info.ModelName,
            [VocabularyKey] = characters,
            [UnknownKey] = unknown,
            [EpochsKey] = Text(info.Epochs),
            [StepsKey] = Text(info.Steps),
            [LearningRateKey] = Text(info.LearningRate),
            [SecondsKey] = Text(info.TrainingSeconds),
        };
        if (info.ValidationLoss is double loss) metadata[ValidationKey] = Text(loss);
        if (info.ValidationFingerprint is string fingerprint) metadata[FingerprintKey] = fingerprint;
        if (info.CorpusPath is string corpus) metadata[CorpusKey] = corpus;
        return metadata;
    }

    private static string Text(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A checkpoint that is missing, damaged or does not fit, with what to do about it.</summary>
public sealed class CheckpointException(string message) : Exception(message);
