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

    /// <summary>Reads the metadata of a checkpoint (no parameters).</summary>
    /// <exception cref="CheckpointException">The file is missing or is not a CharRnn checkpoint.</exception>
    public static CheckpointInfo ReadInfo(string path)
    {
        if (!File.Exists(path))
            throw new CheckpointException($"There is no checkpoint {System.IO.Path.GetFullPath(path)}. Train first (dotnet run -c Release --project samples/CharRnn), or name one with --checkpoint FILE.");
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
            return new CheckpointInfo(path, Get(ModelKey), Vocabulary.FromText(Get(VocabularyKey), Get(UnknownKey)),
                int.Parse(Get(EpochsKey), CultureInfo.InvariantCulture), long.Parse(Get(StepsKey), CultureInfo.InvariantCulture),
                double.Parse(Get(LearningRateKey), CultureInfo.InvariantCulture), double.Parse(Get(SecondsKey), CultureInfo.InvariantCulture),
                metadata.TryGetValue(ValidationKey, out string? loss) ? double.Parse(loss, CultureInfo.InvariantCulture) : null,
                metadata.GetValueOrDefault(FingerprintKey), metadata.GetValueOrDefault(CorpusKey));
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new CheckpointException($"{path}: the CharRnn metadata is damaged ({e.Message}).");
        }
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
