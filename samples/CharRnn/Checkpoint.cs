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
public sealed record CheckpointInfo(string Path, string ModelName, Vocabulary Vocabulary, int Epochs, long Steps,
    double LearningRate, double TrainingSeconds, double? ValidationLoss, string? ValidationFingerprint);

/// <summary>
/// Checkpoints: the model's parameters as a safetensors file (PyTorch names; written atomically by
/// <see cref="SafeTensors.Save{TModel, T}(IRecurrentModel{TModel, T}, string, IReadOnlyDictionary{string, string}?)"/>) with
/// the vocabulary and the training position in its metadata, plus a second file beside it with RMSProp's running
/// averages, so that <c>--resume</c> continues exactly where training stopped.
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
    private const string OptimizerKey = "charrnn.optimizer";

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
    }

    /// <summary>The optimizer file that belongs to <paramref name="path"/>: <c>x.safetensors</c> → <c>x.optimizer.safetensors</c>.</summary>
    public static string OptimizerPath(string path) => System.IO.Path.ChangeExtension(path, ".optimizer.safetensors");

    /// <summary>
    /// Saves <paramref name="parameters"/> (with <paramref name="info"/> in the metadata) and RMSProp's state. The optimizer
    /// file is written first: the model file, written last, is the one that counts, and a resume ignores an optimizer file
    /// of another step.
    /// </summary>
    /// <param name="scratch">A spare model instance that carries the values into the files (RMSProp keeps one running average
    /// of g² per parameter, in the parameters' layout, so it is saved under the parameters' names).</param>
    /// <param name="parameters">The parameters to save.</param>
    /// <param name="optimizerState">RMSProp's <see cref="Optimizer{T}.State"/> that goes with them.</param>
    /// <param name="info">Path and metadata.</param>
    public static void Save<TModel>(TModel scratch, ReadOnlySpan<float> parameters, ReadOnlySpan<float> optimizerState, CheckpointInfo info)
        where TModel : class, IRecurrentModel<TModel, float>
    {
        string? folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(info.Path));
        if (folder is not null) Directory.CreateDirectory(folder);

        optimizerState.CopyTo(scratch.Parameters);
        SafeTensors.Save(scratch, OptimizerPath(info.Path), new Dictionary<string, string>
        {
            [OptimizerKey] = "rmsprop square averages",
            [StepsKey] = Text(info.Steps),
        });
        parameters.CopyTo(scratch.Parameters);
        SafeTensors.Save(scratch, info.Path, Metadata(info));
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
                metadata.GetValueOrDefault(FingerprintKey));
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
            SafeTensors.Load(model, path);
        }
        catch (ModelFileException e)
        {
            throw new CheckpointException($"{path} does not fit the model: {e.Message}");
        }
    }

    /// <summary>
    /// Loads the optimizer state saved beside <paramref name="info"/>'s file into <paramref name="optimizer"/>; returns
    /// false (leaving it fresh) when that file is missing or belongs to another step.
    /// </summary>
    public static bool TryLoadOptimizer<TModel>(RmsProp<float> optimizer, TModel scratch, CheckpointInfo info)
        where TModel : class, IRecurrentModel<TModel, float>
    {
        string path = OptimizerPath(info.Path);
        if (!File.Exists(path)) return false;
        try
        {
            if (SafeTensors.ReadHeader(path).Metadata.GetValueOrDefault(StepsKey) != Text(info.Steps)) return false;
            SafeTensors.Load(scratch, path);
        }
        catch (ModelFileException)
        {
            return false;
        }
        scratch.Parameters.CopyTo(optimizer.State);
        optimizer.StepCount = info.Steps;
        return true;
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
        return metadata;
    }

    private static string Text(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A checkpoint that is missing, damaged or does not fit, with what to do about it.</summary>
public sealed class CheckpointException(string message) : Exception(message);
