namespace RnnGen;

/// <summary>
/// The <c>__metadata__</c> keys RnnGen writes into a model file (all values are strings, as the format
/// requires). Keys starting with <see cref="Prefix"/> are reserved; put your own data under other keys
/// (for example <c>"charrnn.vocab"</c>).
/// </summary>
/// <remarks>
/// Example for <c>[LstmModel(hidden: 128, layers: 2, Input = 65, Output = 65, Tokens = true)]</c>:
/// <c>"format": "pt", "rnngen.format": "1", "rnngen.cell": "lstm", "rnngen.input": "65", "rnngen.hidden": "128",
/// "rnngen.layers": "2", "rnngen.output": "65", "rnngen.tokens": "true", "rnngen.precision": "single"</c>.
/// When such keys are present, a load compares them with the model (see
/// <see cref="SafeTensorsLoadOptions.IgnoreModelMetadata"/>); files without them (e.g. saved by PyTorch) load
/// on names, shapes and dtypes alone.
/// </remarks>
public static class SafeTensorsMetadataKeys
{
    /// <summary>Prefix of every key reserved by RnnGen: <c>rnngen.</c>.</summary>
    public const string Prefix = "rnngen.";

    /// <summary>Version of RnnGen's file layout, decimal: <c>"1"</c> (<see cref="SafeTensors.FormatVersion"/>). A load refuses a newer version.</summary>
    public const string Format = "rnngen.format";

    /// <summary>Cell kind: <c>"lstm"</c>, <c>"gru"</c> or <c>"rnn"</c>. Checked on load.</summary>
    public const string Cell = "rnngen.cell";

    /// <summary>Input width (vocabulary size for token models), decimal. Checked on load.</summary>
    public const string Input = "rnngen.input";

    /// <summary>Hidden width of every layer, decimal. Checked on load.</summary>
    public const string Hidden = "rnngen.hidden";

    /// <summary>Number of layers, decimal. Checked on load.</summary>
    public const string Layers = "rnngen.layers";

    /// <summary>Width of the linear head, decimal; <c>"0"</c> when there is no head. Checked on load.</summary>
    public const string Output = "rnngen.output";

    /// <summary>Whether inputs are token ids: <c>"true"</c> or <c>"false"</c>. Informative (the parameters are the same either way).</summary>
    public const string Tokens = "rnngen.tokens";

    /// <summary>Activation of a vanilla RNN: <c>"tanh"</c> or <c>"relu"</c>; written for RNN models only. Checked on load.</summary>
    public const string Activation = "rnngen.activation";

    /// <summary>Precision of the saved model: <c>"single"</c> or <c>"double"</c>. Informative (a load converts).</summary>
    public const string Precision = "rnngen.precision";

    /// <summary>
    /// A training checkpoint (<see cref="TrainingCheckpoint"/>): the optimizer's class with its namespace, e.g. <c>"RnnGen.RmsProp"</c>. Checked on
    /// <see cref="TrainingCheckpoint"/>'s load against the optimizer given.
    /// </summary>
    public const string CheckpointOptimizer = "rnngen.checkpoint.optimizer";

    /// <summary>A training checkpoint: the optimizer's <see cref="Optimizer{T}.StepCount"/>, decimal.</summary>
    public const string CheckpointSteps = "rnngen.checkpoint.steps";

    /// <summary>A training checkpoint: the optimizer's <see cref="Optimizer{T}.LearningRate"/>, round-trip decimal.</summary>
    public const string CheckpointLearningRate = "rnngen.checkpoint.learning-rate";

    /// <summary>
    /// A training checkpoint saved from a trainer: its <see cref="SequenceTrainer{TModel, T}.ShuffleState"/>, four 64-bit
    /// words in hexadecimal, comma-separated.
    /// </summary>
    public const string CheckpointShuffle = "rnngen.checkpoint.shuffle";

    /// <summary>A training checkpoint saved from a trainer: early stopping's best monitored loss so far, round-trip decimal
    /// (<c>NaN</c>: no epoch yet).</summary>
    public const string CheckpointBestLoss = "rnngen.checkpoint.best-loss";

    /// <summary>A training checkpoint saved from a trainer: the epochs since that best loss, decimal (what
    /// <see cref="TrainerOptions.Patience"/> counts).</summary>
    public const string CheckpointEpochsSinceBest = "rnngen.checkpoint.epochs-since-best";

    /// <summary>
    /// Not RnnGen's: the Hugging Face convention <c>"format": "pt"</c>, which tells tools the tensors follow
    /// PyTorch conventions. Written unless the caller supplies its own <c>"format"</c>.
    /// </summary>
    public const string TorchFormat = "format";
}
