using System.Globalization;
using System.Numerics;

namespace RnnGen;

/// <summary>
/// Training checkpoints: one safetensors file with everything a run needs to continue exactly where it stopped — the
/// model's parameters, the optimizer's state, step count and learning rate, and (saved from a trainer) the trainer's
/// shuffle state — written atomically, and read back all or nothing.
/// </summary>
/// <example>
/// <code>
/// var trainer = SequenceTrainer.Create(model, new RmsProp&lt;float&gt;(CharModel.ParameterCount, 2e-3, alpha: 0.95), options);
/// trainer.EpochCompleted += e =&gt; TrainingCheckpoint.Save(trainer, "run.ckpt.safetensors",
///     new Dictionary&lt;string, string&gt; { ["app.epoch"] = e.Epoch.ToString() });
/// ...
/// // later, in a new process: the same model class, optimizer class and trainer options
/// var metadata = TrainingCheckpoint.Load(trainer, "run.ckpt.safetensors"); // then trainer.Train(...) continues the run
/// </code>
/// </example>
/// <remarks>
/// <para><b>The file.</b> The model's tensors under PyTorch's names, as <see cref="SafeTensors"/> writes them (so the file
/// is also a model file: <c>SafeTensors.Load</c> with <see cref="SafeTensorsLoadOptions.IgnoreExtraTensors"/> reads the
/// parameters alone), then the optimizer's <see cref="Optimizer{T}.State"/> as one tensor named
/// <see cref="OptimizerStateTensor"/> of shape [<see cref="Optimizer{T}.StateBufferCount"/>, parameters] (none when the
/// optimizer keeps no state, as plain SGD), in the model's precision. Its <c>__metadata__</c> has the model's keys, the
/// <c>rnngen.checkpoint.*</c> keys of <see cref="SafeTensorsMetadataKeys"/>, and your own.</para>
/// <para><b>Loading</b> checks everything before anything changes: the file as a model file of this model, that it is a
/// checkpoint, that it was saved with an optimizer of the same class and number of state buffers, its step count,
/// learning rate and shuffle state, and the state's values (a negative sum or average of squares — RMSProp's v, Adam's v
/// and v_max, Adagrad's s — or NaN beside a finite parameter: what no run writes, and what would poison the resumed run).
/// Any problem is a <see cref="ModelFileException"/> that says what to change, and the model, the optimizer and the
/// trainer are left as they were. A checkpoint saved without a trainer leaves a trainer's
/// shuffle state as it is. The optimizer's other settings (β, α, ε, weight decay, momentum) are not in the file: create
/// the optimizer with the same ones.</para>
/// <para>A trainer's checkpoint is taken between <c>Train</c> calls or from its events (<c>EpochCompleted</c>,
/// <c>BestModelFound</c>), which run on the training thread between updates.</para>
/// </remarks>
public static class TrainingCheckpoint
{
    /// <summary>The name of the optimizer-state tensor: <c>optimizer.state</c>.</summary>
    public const string OptimizerStateTensor = "optimizer.state";

    /// <summary>
    /// Saves <paramref name="trainer"/>'s model, optimizer, shuffle state and early stopping's best loss and epochs since
    /// it to <paramref name="path"/>, atomically (the previous file stays in place until the new one is complete on disk).
    /// </summary>
    /// <param name="trainer">The trainer; not running (its epoch events are fine: they run between epochs).</param>
    /// <param name="path">The file to create or replace (conventionally <c>*.safetensors</c>).</param>
    /// <param name="metadata">Your own <c>__metadata__</c> entries (an epoch, a vocabulary); keys must not start with <c>rnngen.</c>.</param>
    /// <exception cref="ArgumentException">A metadata key is reserved or a value is null.</exception>
    /// <exception cref="InvalidOperationException">The trainer is running on another thread (from its epoch events it is fine), or
    /// this is one of its progress reports, halfway through an epoch, which the file could not resume.
    /// Called from outside its events, the save holds the trainer idle: a <c>Train</c> or <c>Evaluate</c> started on another
    /// thread meanwhile throws this too, as it does while another call runs.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder of <paramref name="path"/> does not exist.</exception>
    /// <exception cref="IOException"><paramref name="path"/> is a folder, or the file cannot be written.</exception>
    public static void Save<TModel, T>(SequenceTrainer<TModel, T> trainer, string path, IReadOnlyDictionary<string, string>? metadata = null)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Save(trainer, new Place(path, null), metadata);
    }

    /// <summary>
    /// Writes <paramref name="trainer"/>'s checkpoint, as <see cref="Save{TModel, T}(SequenceTrainer{TModel, T}, string, IReadOnlyDictionary{string, string}?)"/>
    /// does, to <paramref name="stream"/> (from its position), and flushes it; the stream stays open. Unlike a file, a
    /// stream is not replaced atomically: what it holds if the save fails halfway is the caller's to discard.
    /// </summary>
    /// <param name="trainer">The trainer; not running (its epoch events are fine: they run between epochs).</param>
    /// <param name="stream">A writable stream.</param>
    /// <param name="metadata">Your own <c>__metadata__</c> entries; keys must not start with <c>rnngen.</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="stream"/> is not writable, or a metadata key is reserved or a value
    /// is null (nothing is written).</exception>
    /// <exception cref="InvalidOperationException">As for the file overload: the trainer runs on another thread, or this is a
    /// progress report halfway through an epoch.</exception>
    public static void Save<TModel, T>(SequenceTrainer<TModel, T> trainer, Stream stream, IReadOnlyDictionary<string, string>? metadata = null)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Save(trainer, new Place(null, StreamArguments.Writable(stream)), metadata);

    private static void Save<TModel, T>(SequenceTrainer<TModel, T> trainer, Place sink, IReadOnlyDictionary<string, string>? metadata)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(trainer);
        if (trainer.RunningOnThisThread)
        {
            // from one of its epoch events: the call is between epochs, and nothing else can start until the event returns;
            // from a progress report it is halfway through an epoch, whose order, windows and lane states the file cannot hold
            if (!trainer.InEpochEvents)
                throw new InvalidOperationException("A checkpoint saved from a progress report, halfway through an epoch, would not resume it (the file " +
                    "holds no position in the epoch): save it from EpochCompleted or BestModelFound, or after Train returns.");
            Write(trainer.Model, trainer.Optimizer, sink, metadata, trainer);
            return;
        }
        // otherwise the trainer is held idle for the whole save, so that no Train starts halfway through it
        trainer.WhileIdle(() =>
        {
            Write(trainer.Model, trainer.Optimizer, sink, metadata, trainer);
            return true;
        }, "The trainer is running on another thread: save its checkpoint from its events (EpochCompleted, BestModelFound), which run between updates, or after Train returns.");
    }

    /// <summary>
    /// Saves <paramref name="model"/> and <paramref name="optimizer"/> (state, step count, learning rate) to
    /// <paramref name="path"/>, atomically: for a training loop written by hand.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="optimizer">Its optimizer, made for the model's parameter count.</param>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="metadata">Your own <c>__metadata__</c> entries; keys must not start with <c>rnngen.</c>.</param>
    /// <exception cref="ArgumentException">The optimizer was made for another parameter count, or a metadata key is reserved or a value null.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder of <paramref name="path"/> does not exist.</exception>
    /// <exception cref="IOException"><paramref name="path"/> is a folder, or the file cannot be written.</exception>
    public static void Save<TModel, T>(TModel model, Optimizer<T> optimizer, string path, IReadOnlyDictionary<string, string>? metadata = null)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Write(model, optimizer, new Place(path, null), metadata, trainer: null);
    }

    /// <summary>
    /// Writes <paramref name="model"/> and <paramref name="optimizer"/> as a checkpoint to <paramref name="stream"/> (from its
    /// position) and flushes it; the stream stays open, and is not replaced atomically as a file is.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="optimizer">Its optimizer, made for the model's parameter count.</param>
    /// <param name="stream">A writable stream.</param>
    /// <param name="metadata">Your own <c>__metadata__</c> entries; keys must not start with <c>rnngen.</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="stream"/> is not writable, the optimizer was made for another
    /// parameter count, or a metadata key is reserved or a value null (nothing is written).</exception>
    public static void Save<TModel, T>(TModel model, Optimizer<T> optimizer, Stream stream, IReadOnlyDictionary<string, string>? metadata = null)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Write(model, optimizer, new Place(null, StreamArguments.Writable(stream)), metadata, trainer: null);

    /// <summary>
    /// Loads a checkpoint into <paramref name="trainer"/>'s model, optimizer and shuffle state, so that its next
    /// <c>Train</c> continues the saved run exactly (with the same options and data). Returns the file's metadata (your
    /// entries among them).
    /// </summary>
    /// <param name="trainer">The trainer; not running.</param>
    /// <param name="path">A file written by <see cref="Save{TModel, T}(SequenceTrainer{TModel, T}, string, IReadOnlyDictionary{string, string}?)"/>.</param>
    /// <exception cref="ModelFileException">The file is malformed, not a training checkpoint, or does not fit the model or
    /// the optimizer; nothing was changed.</exception>
    /// <exception cref="InvalidOperationException">The trainer is running.</exception>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="IOException"><paramref name="path"/> is a folder, or the file cannot be read.</exception>
    public static IReadOnlyDictionary<string, string> Load<TModel, T>(SequenceTrainer<TModel, T> trainer, string path)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Load(trainer, new Place(path, null));
    }

    /// <summary>
    /// Loads a checkpoint read from <paramref name="stream"/> (from its position to the end of its last tensor) into
    /// <paramref name="trainer"/>, as <see cref="Load{TModel, T}(SequenceTrainer{TModel, T}, string)"/> does; returns its metadata.
    /// </summary>
    /// <param name="trainer">The trainer; not running.</param>
    /// <param name="stream">A readable stream holding a checkpoint.</param>
    /// <exception cref="ArgumentException"><paramref name="stream"/> is not readable.</exception>
    /// <exception cref="ModelFileException">The data is malformed, not a training checkpoint, or does not fit the model or
    /// the optimizer; nothing was changed.</exception>
    /// <exception cref="InvalidOperationException">The trainer is running.</exception>
    public static IReadOnlyDictionary<string, string> Load<TModel, T>(SequenceTrainer<TModel, T> trainer, Stream stream)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Load(trainer, new Place(null, StreamArguments.Readable(stream)));

    private static IReadOnlyDictionary<string, string> Load<TModel, T>(SequenceTrainer<TModel, T> trainer, Place source)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(trainer);
        return trainer.WhileIdle(() =>
        {
            var (metadata, shuffle, earlyStopping) = Read(trainer.Model, trainer.Optimizer, source);
            if (shuffle is { } state) trainer.RestoreShuffle(state);
            // early stopping continues from the file's best loss, or starts afresh from a file without one (another point)
            var (bestLoss, sinceBest) = earlyStopping ?? (double.NaN, 0);
            trainer.RestoreEarlyStopping(bestLoss, sinceBest);
            return metadata;
        });
    }

    /// <summary>
    /// Loads a checkpoint into <paramref name="model"/> and <paramref name="optimizer"/> (state, step count, learning
    /// rate). Returns the file's metadata.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="optimizer">Its optimizer: the class it was saved with, made for the model's parameter count.</param>
    /// <param name="path">A training checkpoint.</param>
    /// <exception cref="ModelFileException">The file is malformed, not a training checkpoint, or does not fit the model or
    /// the optimizer; nothing was changed.</exception>
    /// <exception cref="ArgumentException">The optimizer was made for another parameter count.</exception>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="IOException"><paramref name="path"/> is a folder, or the file cannot be read.</exception>
    public static IReadOnlyDictionary<string, string> Load<TModel, T>(TModel model, Optimizer<T> optimizer, string path)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Read(model, optimizer, new Place(path, null)).Metadata;
    }

    /// <summary>
    /// Loads a checkpoint read from <paramref name="stream"/> (from its position to the end of its last tensor) into
    /// <paramref name="model"/> and <paramref name="optimizer"/>; returns its metadata.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="optimizer">Its optimizer: the class it was saved with, made for the model's parameter count.</param>
    /// <param name="stream">A readable stream holding a checkpoint.</param>
    /// <exception cref="ArgumentException"><paramref name="stream"/> is not readable, or the optimizer was made for another
    /// parameter count.</exception>
    /// <exception cref="ModelFileException">The data is malformed, not a training checkpoint, or does not fit the model or
    /// the optimizer; nothing was changed.</exception>
    public static IReadOnlyDictionary<string, string> Load<TModel, T>(TModel model, Optimizer<T> optimizer, Stream stream)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Read(model, optimizer, new Place(null, StreamArguments.Readable(stream))).Metadata;

    // Where a checkpoint goes or comes from: a file (written atomically) or a caller's stream.
    private readonly record struct Place(string? Path, Stream? Stream);

    // ---------------------------------------------------------------- the file

    // A checkpoint saved from a trainer adds its shuffle, and early stopping's best loss and epochs since it.
    private static void Write<TModel, T>(TModel model, Optimizer<T> optimizer, Place sink, IReadOnlyDictionary<string, string>? metadata,
        SequenceTrainer<TModel, T>? trainer)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        CheckFits(model, optimizer);
        var entries = new List<KeyValuePair<string, string>>
        {
            new(SafeTensorsMetadataKeys.CheckpointOptimizer, OptimizerName(optimizer)),
            new(SafeTensorsMetadataKeys.CheckpointSteps, optimizer.StepCount.ToString(CultureInfo.InvariantCulture)),
            new(SafeTensorsMetadataKeys.CheckpointLearningRate, optimizer.LearningRate.ToString("R", CultureInfo.InvariantCulture)),
        };
        if (trainer is not null)
        {
            var (bestLoss, sinceBest) = trainer.EarlyStopping;
            entries.Add(new(SafeTensorsMetadataKeys.CheckpointShuffle, string.Join(",", trainer.ShuffleState.Select(w => w.ToString("x16", CultureInfo.InvariantCulture)))));
            entries.Add(new(SafeTensorsMetadataKeys.CheckpointBestLoss, bestLoss.ToString("R", CultureInfo.InvariantCulture)));
            entries.Add(new(SafeTensorsMetadataKeys.CheckpointEpochsSinceBest, sinceBest.ToString(CultureInfo.InvariantCulture)));
        }
        byte[] header = SafeTensors.BuildHeader(model, metadata, new SafeTensors.Extras(entries, StateTensors(optimizer)));
        void WriteTo(Stream stream)
        {
            stream.Write(header);
            SafeTensors.WriteData(stream, model);
            byte[]? scratch = null;
            ScalarCodec.Write(stream, (ReadOnlySpan<T>)optimizer.State, ref scratch);
        }
        if (sink.Stream is { } target)
        {
            WriteTo(target);
            target.Flush();
        }
        else
            AtomicFile.Write(sink.Path!, WriteTo);
    }

    /// <summary>The optimizer's state as tensors after the model's: one [buffers, parameters] tensor, or none.</summary>
    private static ParameterTensor[] StateTensors<T>(Optimizer<T> optimizer) where T : unmanaged, IFloatingPointIeee754<T> =>
        optimizer.StateBufferCount == 0 ? [] : [new ParameterTensor(OptimizerStateTensor, 0, optimizer.StateBufferCount, optimizer.ParameterCount)];

    /// <summary>
    /// Reads and checks everything, then sets the model and the optimizer; returns the file's metadata and shuffle state
    /// (for a trainer). Nothing is changed unless all of it fits.
    /// </summary>
    private static (IReadOnlyDictionary<string, string> Metadata, SeededRandom? Shuffle, (double BestLoss, int EpochsSinceBest)? EarlyStopping) Read<TModel, T>(
        TModel model, Optimizer<T> optimizer, Place source)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        CheckFits(model, optimizer);
        long steps = 0;
        double learningRate = 0;
        SeededRandom? shuffle = null;
        (double, int)? earlyStopping = null;
        IReadOnlyDictionary<string, string>? metadata = null;

        IReadOnlyList<ParameterTensor> Expect(SafeTensorsHeader header, FileContext ctx)
        {
            metadata = header.Metadata;
            if (!metadata.TryGetValue(SafeTensorsMetadataKeys.CheckpointOptimizer, out string? saved))
                throw ctx.Fail($"it is not a training checkpoint (its metadata has no '{SafeTensorsMetadataKeys.CheckpointOptimizer}'): a model " +
                               "file holds parameters only. Load it with SafeTensors.Load, or save checkpoints with TrainingCheckpoint.Save.");
            if (saved != OptimizerName(optimizer))
                throw ctx.Fail($"the checkpoint was saved with the optimizer {SafeTensorsFormat.Cite(saved)}, and the one given is {OptimizerName(optimizer)}: its state " +
                               $"would mean something else. Create a {saved} with the settings of the saved run.");
            // at long.MaxValue the next step's count would overflow (to a negative t: NaN bias corrections)
            steps = Number<long>(SafeTensorsMetadataKeys.CheckpointSteps,
                s => long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n < long.MaxValue ? n : null);
            learningRate = Number<double>(SafeTensorsMetadataKeys.CheckpointLearningRate,
                s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double r) && double.IsFinite(r) && r >= 0 ? r : null);
            if (metadata.TryGetValue(SafeTensorsMetadataKeys.CheckpointShuffle, out string? words))
            {
                var parsed = words.Split(',').Select(w => ulong.TryParse(w, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong u) ? u : (ulong?)null).ToArray();
                if (parsed.Length != 4 || parsed.Any(w => w is null) || parsed.All(w => w == 0))
                    throw ctx.Fail($"the metadata '{SafeTensorsMetadataKeys.CheckpointShuffle}' is '{SafeTensorsFormat.Cite(words)}', not four hexadecimal 64-bit words (not all zero): the file is damaged.");
                shuffle = SeededRandom.FromWords(parsed[0]!.Value, parsed[1]!.Value, parsed[2]!.Value, parsed[3]!.Value);
            }
            if (metadata.ContainsKey(SafeTensorsMetadataKeys.CheckpointBestLoss) || metadata.ContainsKey(SafeTensorsMetadataKeys.CheckpointEpochsSinceBest))
            {
                // a best loss of NaN: none yet (a finite or +∞ one is compared with the next epochs')
                double bestLoss = Number<double>(SafeTensorsMetadataKeys.CheckpointBestLoss,
                    s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && !double.IsNegativeInfinity(v) ? v : null);
                int sinceBest = Number<int>(SafeTensorsMetadataKeys.CheckpointEpochsSinceBest,
                    s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : null);
                earlyStopping = (bestLoss, sinceBest);
            }
            // the optimizer's state buffers: as many as the optimizer given keeps (SGD with or without momentum, Adam with or without amsgrad)
            // (a state tensor of another rank is reported with its shape by the tensor checks that follow)
            var state = header.Find(OptimizerStateTensor);
            long savedBuffers = state is null ? 0 : state.Shape is [long buffers, _] ? buffers : optimizer.StateBufferCount;
            if (savedBuffers != optimizer.StateBufferCount)
                throw ctx.Fail($"its optimizer state has {savedBuffers} buffers per parameter, and the {OptimizerName(optimizer)} given keeps " +
                               $"{optimizer.StateBufferCount}: create the optimizer with the settings of the saved run (e.g. the same momentum or amsgrad).",
                               OptimizerStateTensor);
            return StateTensors(optimizer);

            TValue Number<TValue>(string key, Func<string, TValue?> parse) where TValue : struct =>
                metadata!.TryGetValue(key, out string? text) && parse(text) is TValue value ? value
                    : throw ctx.Fail($"the metadata '{key}' is {(text is null ? "missing" : $"'{SafeTensorsFormat.Cite(text)}'")}: the checkpoint is damaged.");
        }

        T[] values;
        if (source.Stream is { } stream)
        {
            // a stream is read up to the end of the checkpoint's last tensor, as SafeTensors reads one
            values = SafeTensors.ReadChecked(model, stream, StreamArguments.Remaining(stream), exactLength: false, path: null, SafeTensorsLoadOptions.Default, Expect, out _);
        }
        else
        {
            using var file = SafeTensors.OpenRead(source.Path!, out long? length);
            values = SafeTensors.ReadChecked(model, file, length, exactLength: length is not null, source.Path, SafeTensorsLoadOptions.Default, Expect, out _);
        }
        CheckStateValues<TModel, T>(values, optimizer, new FileContext(source.Path));
        // all of it arrived and fits: now the model and the optimizer change
        SafeTensors.CommitParameters(model, values);
        values.AsSpan(model.Parameters.Length).CopyTo(optimizer.State);
        optimizer.StepCount = steps;
        optimizer.LearningRate = learningRate;
        return (metadata!, shuffle, earlyStopping);
    }

    /// <summary>
    /// The values of the optimizer state read (after the parameters in <paramref name="values"/>) against what every run of
    /// RnnGen's optimizers keeps, so that a damaged file cannot poison the training that resumes from it:
    /// <list type="bullet">
    /// <item>A buffer of squares (RMSProp's v, Adam's v and v_max, Adagrad's s) is never negative (−∞ included): a step
    /// adds g² ≥ 0 to a fraction of it, and √ of a negative value is NaN. It can be +∞ (g² overflows <c>float</c> past
    /// about 1.8e19, and the parameter then stands still, as in PyTorch), so +∞ loads; −0 loads. RMSProp's centered
    /// v − a² may be a rounding below 0: the step takes √max(v − a², 0), so it is not checked.</item>
    /// <item>NaN, in any buffer, only beside a parameter that is NaN too: a step that leaves NaN in the state (a NaN or ∞
    /// gradient, stepped by hand) leaves NaN in that parameter, and a NaN parameter stays NaN. So a diverged run's
    /// checkpoint loads as it was saved, and NaN beside a finite parameter (which the next step would make NaN) is refused.
    /// ±∞ in the other buffers is left alone (a momentum buffer can overflow).</item>
    /// </list>
    /// The state of an optimizer written elsewhere is its own, and not checked.
    /// </summary>
    private static void CheckStateValues<TModel, T>(ReadOnlySpan<T> values, Optimizer<T> optimizer, FileContext ctx)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int count = optimizer.ParameterCount;
        ReadOnlySpan<T> parameters = values[..count];
        for (int buffer = 0; buffer < optimizer.StateBufferCount; buffer++)
        {
            if (optimizer.DescribeStateBuffer(buffer) is not { } meaning) continue;
            ReadOnlySpan<T> state = values.Slice(count * (buffer + 1), count);
            int at = -1;
            for (int i = 0; i < state.Length && at < 0; i++)
                if ((meaning.NonNegative && state[i] < T.Zero) || (T.IsNaN(state[i]) && T.IsFinite(parameters[i])))
                    at = i;
            if (at < 0) continue;

            T value = state[at];
            string why = T.IsNaN(value)
                ? $"NaN beside a finite parameter ({Text(parameters[at])}). A step that leaves NaN in the state leaves NaN in its parameter too, so no run " +
                  "saves this, and the next step would make the parameter NaN"
                : "below 0, which no run writes in a buffer of squared gradients (a step adds g² ≥ 0 to a fraction of it), and whose square root " +
                  "would make the parameter NaN at the next step";
            throw ctx.Fail($"tensor '{OptimizerStateTensor}' holds {Text(value)} at [{buffer}, {at}], the {meaning.Name} of {OptimizerName(optimizer)} " +
                           $"for {ParameterAt(TModel.Info.Layout, at)}: {why}. The file is damaged (or its state was carried over from other " +
                           "parameters): resume from another checkpoint, or load the parameters alone (SafeTensors.Load with " +
                           $"{nameof(SafeTensorsLoadOptions.IgnoreExtraTensors)}) and start the optimizer afresh.", OptimizerStateTensor);
        }

        static string Text(T x) => x.ToString("R", CultureInfo.InvariantCulture);
    }

    /// <summary>Parameter <paramref name="index"/> of the flat buffer by its tensor's name and index: <c>'weight_hh_l0'[3, 7]</c>.</summary>
    private static string ParameterAt(IReadOnlyList<ParameterTensor> layout, int index)
    {
        foreach (var t in layout)
        {
            if (index < t.Offset || index >= t.Offset + t.Length) continue;
            var at = new long[t.Shape.Count];
            long rest = index - t.Offset;
            for (int d = at.Length - 1; d >= 0; d--)
            {
                at[d] = rest % t.Shape[d];
                rest /= t.Shape[d];
            }
            return $"'{t.Name}'[{string.Join(", ", at)}]";
        }
        return $"parameter {index}";
    }

    private static void CheckFits<TModel, T>(TModel model, Optimizer<T> optimizer)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (optimizer.ParameterCount != model.Parameters.Length)
            throw new ArgumentException($"The optimizer was created for {optimizer.ParameterCount} parameters but {typeof(TModel).Name} has " +
                                        $"{model.Parameters.Length}; create it with {typeof(TModel).Name}.ParameterCount.", nameof(optimizer));
    }

    /// <summary>The optimizer's class with its namespace, without its type argument: <c>RnnGen.RmsProp</c>, <c>RnnGen.Adam</c>.</summary>
    private static string OptimizerName<T>(Optimizer<T> optimizer) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Type type = optimizer.GetType();
        string name = type.Namespace is { } ns ? $"{ns}.{type.Name}" : type.Name;
        int tick = name.IndexOf('`');
        return tick < 0 ? name : name[..tick];
    }
}
