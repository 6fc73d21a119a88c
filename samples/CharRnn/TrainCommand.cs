using System.Diagnostics;
using System.Runtime.InteropServices;
using RnnGen;
using Spectre.Console;

namespace CharRnn;

/// <summary>
/// Trains a character model with RnnGen's <see cref="SequenceTrainer{TModel, T}"/>, char-rnn's way: the text cut into
/// parallel streams, windows of truncated BPTT with the state carried between them, RMSProp, gradients clamped, the
/// learning rate decayed per epoch; validation on the last 5 % of the text after every epoch; a checkpoint of the best
/// parameters; samples of generated text on the way; a time budget and Ctrl+C that stop cleanly.
/// </summary>
public sealed class TrainCommand(TrainSettings settings, Corpus corpus, CheckpointInfo? resume) : IModelCommand
{
    /// <summary>Head bias of the token ids a corpus does not use: e^−40 ≈ 4e−18, so they are never predicted or sampled,
    /// and the model behaves as if its vocabulary had exactly the corpus's characters.</summary>
    private const float UnusedTokenBias = -40;

    public int Run<TModel>(string modelName) where TModel : class, IRecurrentModel<TModel, float>
    {
        string checkpointPath = settings.CheckpointPath ?? Checkpoint.DefaultPath(modelName);
        Checkpoint.CheckWritable(checkpointPath); // before training, not at the first save
        using IDisposable checkpointLock = Checkpoint.Lock(checkpointPath); // held until the run ends: one run per checkpoint
        Checkpoint.CheckReplaceable(checkpointPath, corpus.FilePath);
        Vocabulary vocabulary = resume?.Vocabulary ?? Vocabulary.Build(corpus.Text);
        // On --resume the model's vocabulary is fixed: a corpus with new characters (it changed since the checkpoint was
        // written, or --corpus names another text) is refused with what to do instead.
        int[] tokens = resume is null
            ? vocabulary.Encode(corpus.Text, out long replaced)
            : vocabulary.Encode(corpus.Text, out replaced, $"The corpus, {corpus.Description},",
                $"--resume keeps the vocabulary of {resume.Path}: resume on the text it was trained on, or train afresh on this one " +
                "(without --resume, into another --checkpoint to keep that one); the checkpoint is left as it was.");

        // The last 5 % of the text, in one piece, is the validation text; the rest is cut into parallel streams.
        int validationLength = Math.Max(2, tokens.Length / 20);
        int trainingLength = tokens.Length - validationLength;
        var layout = StreamLayout.For(trainingLength, settings.Batch, settings.SeqLength);
        var training = SequenceDataset<float>.FromTokenStream(tokens.AsMemory(0, trainingLength), layout.Streams);
        var validation = SequenceDataset<float>.FromTokenStream(tokens.AsMemory(trainingLength), streams: 1);

        var model = TModel.Create();
        // a resumed run continues the checkpoint's (decayed) learning rate unless --lr says otherwise
        double learningRate = resume is null || settings.LearningRateGiven ? settings.LearningRate : resume.LearningRate;
        var optimizer = new RmsProp<float>(TModel.Info.ParameterCount, learningRate: learningRate, alpha: settings.Alpha);
        bool optimizerRestored = false;
        if (resume is null)
        {
            Initialize(model, vocabulary);
        }
        else
        {
            optimizerRestored = Checkpoint.Load(model, optimizer, resume);
            optimizer.LearningRate = learningRate; // the checkpoint's, or --lr
        }

        // ---- what is about to happen ----
        var console = AnsiConsole.Console;
        console.MarkupLine($"[bold]CharRnn[/] — a character-level language model, trained by RnnGen with char-rnn's recipe");
        console.WriteLine($"Corpus:     {corpus.Description}");
        console.WriteLine($"            {tokens.Length:N0} characters; " + DescribeVocabulary(vocabulary, replaced, tokens.Length));
        console.WriteLine($"Model:      {modelName}: {ModelCatalog.Describe<TModel>()} (sizes fixed at compile time: {Vocabulary.Capacity} token ids in, {Vocabulary.Capacity} logits out)");
        console.WriteLine($"Training:   {trainingLength:N0} characters as {layout.Streams} streams × windows of {layout.Window} ({layout.StepsPerEpoch:N0} steps per epoch){layout.Note}");
        console.WriteLine($"Validation: the last 5 %, {validationLength:N0} characters in one piece, after every epoch");
        console.WriteLine($"Optimizer:  RMSProp lr {optimizer.LearningRate:G3}, alpha {settings.Alpha}, {(settings.Clip > 0 ? $"gradients clamped to ±{settings.Clip}" : "no gradient clamp")}, " +
                          $"lr × {settings.LearningRateDecay} per epoch from epoch {settings.LearningRateDecayAfter} on");
        console.WriteLine(resume is null
            ? $"Start:      {(settings.InitUniform > 0 ? $"parameters ~ U(±{settings.InitUniform})" : "RnnGen's default initialisation")}, forget-gate bias {settings.ForgetBias}, seed {settings.Seed}"
            : $"Resume:     {resume.Path} after {resume.Steps:N0} steps and {resume.Epochs} epoch(s){(optimizerRestored ? ", optimizer state restored" : ", optimizer state NOT found: RMSProp starts afresh")}; " +
              (settings.LearningRateGiven ? $"learning rate {settings.LearningRate:G3} from --lr (the checkpoint's was {resume.LearningRate:G3}); " : "") +
              "an interrupted epoch starts over");
        console.WriteLine($"Budget:     {(settings.Minutes >= TrainSettings.NoTimeLimit ? "no time limit" : $"{settings.Minutes:0.##} min")}{(settings.Epochs is int e ? $" or {e} epochs" : "")} on up to {settings.Threads} thread(s); Ctrl+C (or SIGTERM) stops early and keeps the checkpoint in {checkpointPath}" +
            (resume is null && File.Exists(checkpointPath) ? $" (replacing the one an earlier run left there, kept as {checkpointPath}.previous; --resume continues that one instead)" : ""));
        console.WriteLine();

        var run = new TrainingRun<TModel>(settings, modelName, checkpointPath, vocabulary, model, optimizer, training, validation, layout,
            Fingerprint(tokens.AsSpan(trainingLength)), resume, corpus.FilePath);
        return run.Execute();
    }

    /// <summary>char-rnn's initialisation: every parameter ~ U(−0.08, 0.08), then the forget-gate bias set to 1 in every
    /// layer (bias_ih, as char-rnn's i2h bias); unused token ids get a very negative head bias.</summary>
    private void Initialize<TModel>(TModel model, Vocabulary vocabulary) where TModel : class, IRecurrentModel<TModel, float>
    {
        ModelInfo info = TModel.Info;
        if (settings.InitUniform > 0) ParameterInit.Uniform(model.Parameters, settings.InitUniform, settings.Seed);
        else model.InitializeParameters(settings.Seed);

        int hidden = info.HiddenSize;
        for (int layer = 0; layer < info.LayerCount; layer++)
        {
            // Gate rows in PyTorch order i, f, g, o: the forget gate is rows [H, 2H).
            Span<float> bias = Tensor(info, $"bias_ih_l{layer}").Slice(model.Parameters);
            bias.Slice(hidden, hidden).Fill((float)settings.ForgetBias);
        }
        Tensor(info, "head.bias").Slice(model.Parameters)[vocabulary.Count..].Fill(UnusedTokenBias);
        model.ParametersChanged();
    }

    /// <summary>Identifies the validation text (its length and an FNV-1a hash of its tokens), so that a resumed run on the
    /// same text can compare its validation loss with the checkpoint's.</summary>
    private static string Fingerprint(ReadOnlySpan<int> tokens)
    {
        ulong hash = 14695981039346656037;
        foreach (int token in tokens) hash = (hash ^ (uint)token) * 1099511628211;
        return $"{tokens.Length}:{hash:x16}";
    }

    private static ParameterTensor Tensor(ModelInfo info, string name) =>
        info.Find(name) ?? throw new InvalidOperationException($"The model has no tensor {name}.");

    private static string DescribeVocabulary(Vocabulary vocabulary, long replaced, int length) => vocabulary.UnknownId is null
        ? $"{vocabulary.Count} distinct, one token id each"
        : $"the {vocabulary.Count - 1} most frequent characters have token ids, the rest ({replaced:N0} characters, {(double)replaced / length:P2} of the text) share the id of {Vocabulary.UnknownSymbol}";

    /// <summary>One training run: the trainer, its events, the view, the budget, the checkpoints and the summary.</summary>
    /// <remarks>
    /// The checkpoint holds the best parameters seen so far (lowest validation loss, measured after every epoch and at the
    /// end) together with the optimizer state and learning rate of that moment: a long run on a small corpus starts to
    /// overfit, and then its last parameters are not the ones to keep. The best snapshot lives in memory and is written at
    /// most every <see cref="SaveInterval"/> and at the end.
    /// </remarks>
    private sealed class TrainingRun<TModel> where TModel : class, IRecurrentModel<TModel, float>
    {
        /// <summary>A new best snapshot is written at most this often (a small corpus has many short epochs); the end of the run
        /// always writes the best one.</summary>
        private static readonly TimeSpan SaveInterval = TimeSpan.FromSeconds(30);

        /// <summary>At most one epoch line per this interval.</summary>
        private static readonly TimeSpan EpochLineInterval = TimeSpan.FromSeconds(1);

        private readonly TrainSettings _settings;
        private readonly string _modelName, _checkpointPath, _validationFingerprint;
        private readonly string? _corpusPath; // the --corpus file (saved with the checkpoint, for --resume), or null
        private readonly bool _resumed;
        private readonly Vocabulary _vocabulary;
        private readonly TModel _model, _sampleModel;
        private readonly RmsProp<float> _optimizer;
        private readonly SequenceDataset<float> _training, _validation;
        private readonly StreamLayout _layout;
        private readonly SequenceTrainer<TModel, float> _trainer;
        private readonly TokenGenerator<TModel, float> _sampler;
        private readonly int[] _prime;
        private readonly TrainingView _view;
        private readonly int _epochOffset;
        private readonly long _stepOffset;
        private readonly double _secondsOffset;
        private readonly Stopwatch _clock = new(), _sinceSave = new(), _sinceEpochLine = new();
        private readonly TimeSpan _budget;

        // The best parameters so far and what goes with them (epoch and step counts are totals over all runs).
        private readonly TModel _best;                  // the parameters …
        private readonly RmsProp<float> _bestOptimizer; // … and the optimizer state that produced them
        private double _bestLoss = double.PositiveInfinity;
        private int _bestEpochs;
        private long _bestSteps;
        private double _bestLearningRate, _bestSeconds;
        private bool _hasBest, _bestSaved = true, _earlierKept;

        private int _epochsDone;
        private long _steps, _lastSampleStep;
        private double _smoothedLoss = double.NaN, _charactersPerSecond, _epochPosition;

        public TrainingRun(TrainSettings settings, string modelName, string checkpointPath, Vocabulary vocabulary, TModel model,
            RmsProp<float> optimizer, SequenceDataset<float> training, SequenceDataset<float> validation, StreamLayout layout,
            string validationFingerprint, CheckpointInfo? resume, string? corpusPath)
        {
            _corpusPath = corpusPath;
            _settings = settings;
            _modelName = modelName;
            _checkpointPath = checkpointPath;
            _validationFingerprint = validationFingerprint;
            _vocabulary = vocabulary;
            _model = model;
            _optimizer = optimizer;
            _training = training;
            _validation = validation;
            _layout = layout;
            _resumed = resume is not null;
            _epochOffset = resume?.Epochs ?? 0;
            _stepOffset = resume?.Steps ?? 0;
            _secondsOffset = resume?.TrainingSeconds ?? 0;
            _budget = TimeSpan.FromMinutes(settings.Minutes);
            _best = TModel.Create();
            _bestOptimizer = new RmsProp<float>(optimizer.ParameterCount, optimizer.LearningRate, settings.Alpha);
            // Resuming on the same validation text: the checkpoint's loss is the one to beat.
            if (resume is { ValidationLoss: double loss } && resume.ValidationFingerprint == validationFingerprint) _bestLoss = loss;

            _trainer = SequenceTrainer.Create(model, optimizer, new TrainerOptions
            {
                Epochs = settings.Epochs ?? 100_000,         // without --epochs, the time budget ends training
                BatchSize = layout.Streams,
                WindowLength = layout.Window,
                CarryState = true,
                Shuffle = false,                             // one batch per epoch: the streams' order does not matter
                Seed = settings.Seed,
                WorkerCount = settings.Threads,
                ClipGradientValue = settings.Clip > 0 ? settings.Clip : null,
                Loss = SequenceLoss.SoftmaxCrossEntropy,
            });
            _trainer.EpochCompleted += OnEpochCompleted;

            // Samples come from a copy of the model, so that generating never touches the one being trained.
            _sampleModel = TModel.Create();
            _sampler = new TokenGenerator<TModel, float>(_sampleModel, new SamplingOptions
            {
                Temperature = settings.SampleTemperature, TopK = vocabulary.SampledIds(0), Seed = settings.Seed,
            });
            _prime = vocabulary.Encode(vocabulary.DefaultPrime, out _);
            _view = TrainingView.Create(settings.Plain);
        }

        public int Execute()
        {
            using var stop = new CancellationTokenSource();
            string? interruptedBy = null;
            int exitCode = 0;
            // Ctrl+C (SIGINT) and SIGTERM (timeout, docker stop, a service manager) stop the run cleanly: the checkpoint is
            // saved and the summary printed, and the exit code is the shell's for that signal, 128 + its number. A second
            // signal ends the process at once (the checkpoint on disk is then the last one written, never half a file).
            void Stop(PosixSignalContext context)
            {
                if (stop.IsCancellationRequested) return;
                context.Cancel = true;
                (interruptedBy, exitCode) = context.Signal == PosixSignal.SIGTERM ? ("SIGTERM", 143) : ("Ctrl+C", 130);
                stop.Cancel();
            }
            using var onCtrlC = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            string ending;
            try
            {
                _clock.Start();
                _sinceSave.Start();
                if (_budget < TimeSpan.FromMilliseconds(int.MaxValue)) // beyond ~49.7 days: no time limit (the timer's range)
                    stop.CancelAfter(_budget);
                _view.Run(() => _trainer.Train(_training, _validation, new Reporter(this), stop.Token));
                ending = $"all {_trainer.Options.Epochs:N0} epochs done";
            }
            catch (OperationCanceledException)
            {
                ending = interruptedBy is not null ? $"stopped by {interruptedBy}" : $"the time budget of {_settings.Minutes:0.##} min is up";
            }
            catch (NonFiniteStepException e)
            {
                return Diverged($"at epoch {_epochOffset + e.Epoch}, window {e.Window}: the loss or the gradients became NaN or infinite");
            }
            catch (InvalidOperationException) when (!Finite(_model.Parameters))
            {
                // the trainer's "the update made parameters NaN or infinite": the step itself was finite, its result is not
                return Diverged($"at epoch {_epochOffset + _epochsDone + 1}: an update made the parameters NaN or infinite");
            }
            finally
            {
                _clock.Stop();
            }

            // The last parameters, measured on the whole validation text; then the model takes the best ones, which are saved.
            var last = _trainer.Evaluate(_validation);
            bool lastIsBest = Consider(last.Loss, _epochOffset + _epochsDone);
            if (_hasBest)
            {
                _best.Parameters.CopyTo(_model.Parameters);
                _model.ParametersChanged();
            }
            else if (File.Exists(_checkpointPath))
            {
                Checkpoint.LoadModel(_model, _checkpointPath);     // resumed, and nothing beat the checkpoint: it stays as it was
            }
            if (!_bestSaved) SaveBest();
            PrintSummary(ending, last, lastIsBest);
            // a loss that exploded without becoming NaN: even the best parameters predict worse than a uniform guess
            double uniformBits = Math.Log2(_vocabulary.Count), bestBits = _bestLoss / Math.Log(2);
            if (exitCode == 0 && _epochsDone > 0 && bestBits > uniformBits + 1)
                return Diverged($": the best validation score, {bestBits:F3} bits per character, is worse than a uniform guess over the " +
                                $"{_vocabulary.Count} characters ({uniformBits:F3} bits)");
            return exitCode;
        }

        /// <summary>
        /// Training diverged (<paramref name="what"/>, which follows "diverged": "at epoch …" or ": …"): the best parameters so far are saved if they were not yet, and the
        /// error says where they are and what to change. The exit code is 1.
        /// </summary>
        private int Diverged(string what)
        {
            if (!_bestSaved) SaveBest();
            string kept = _hasBest
                ? $"The best checkpoint so far is kept in {_checkpointPath} (validation {_bestLoss / Math.Log(2):F3} bits per character after epoch {_bestEpochs})."
                : _resumed ? $"The checkpoint {_checkpointPath} is kept as it was."
                : "No checkpoint was saved: the run diverged before its first validation.";
            string clip = _settings.Clip > 0 ? $"a smaller --clip (now {_settings.Clip})" : "--clip 5 (now 0: no clamp)";
            Console.Error.WriteLine($"error: training diverged{(what.StartsWith(':') ? "" : " ")}{what}. {kept} " +
                $"Train again with a lower --lr (now {_optimizer.LearningRate:G3}) or {clip}.");
            return 1;
        }

        private static bool Finite(ReadOnlySpan<float> values)
        {
            foreach (float value in values)
            {
                if (!float.IsFinite(value)) return false;
            }
            return true;
        }

        private void OnEpochCompleted(EpochSummary epoch)
        {
            _epochsDone = epoch.Epoch;
            int number = _epochOffset + epoch.Epoch;
            double loss = epoch.Validation!.Value.Loss;
            // char-rnn: after each epoch from `learning_rate_decay_after` on, lr ← lr × decay. Before the snapshot, so that a
            // checkpoint holds the rate of the next step, as the end of a run saves it
            if (number >= _settings.LearningRateDecayAfter) _optimizer.LearningRate *= _settings.LearningRateDecay;
            bool best = Consider(loss, number);

            if (!_sinceEpochLine.IsRunning || _sinceEpochLine.Elapsed >= EpochLineInterval)
            {
                _sinceEpochLine.Restart();
                _view.Line($"epoch {number,3} · {Minutes(_secondsOffset + _clock.Elapsed.TotalSeconds),5:F2} min · train {epoch.Training.Loss:F3} · " +
                           $"validation {loss:F3} nats = {loss / Math.Log(2):F3} bpc{(best ? " (best)" : "")}");
            }
            if (!_bestSaved && _sinceSave.Elapsed >= SaveInterval) SaveBest();
        }

        /// <summary>Takes a snapshot of the model and the optimizer if <paramref name="loss"/> is the best validation loss so far.</summary>
        private bool Consider(double loss, int epochs)
        {
            if (!(loss < _bestLoss)) return false;
            _model.Parameters.CopyTo(_best.Parameters);
            _optimizer.State.CopyTo(_bestOptimizer.State);
            (_bestOptimizer.StepCount, _bestOptimizer.LearningRate) = (_optimizer.StepCount, _optimizer.LearningRate);
            (_bestLoss, _bestEpochs, _bestSteps) = (loss, epochs, _stepOffset + _steps);
            (_bestLearningRate, _bestSeconds) = (_optimizer.LearningRate, _secondsOffset + _clock.Elapsed.TotalSeconds);
            _hasBest = true;
            _bestSaved = false;
            return true;
        }

        private void SaveBest()
        {
            // a fresh run keeps the checkpoint an earlier run left at its path, once, before it first replaces it (a run
            // stopped at once would otherwise replace hours of training with its first evaluation)
            if (!_earlierKept && !_resumed && Checkpoint.KeepEarlier(_checkpointPath) is string note) _view.Line(note);
            _earlierKept = true;
            Checkpoint.Save(_best, _bestOptimizer, new CheckpointInfo(_checkpointPath, _modelName, _vocabulary,
                _bestEpochs, _bestSteps, _bestLearningRate, _bestSeconds, _bestLoss, _validationFingerprint, _corpusPath));
            _bestSaved = true;
            _sinceSave.Restart();
        }

        private void OnProgress(TrainingProgress progress)
        {
            _steps = progress.Step;
            _epochPosition = progress.Epoch - 1 + (double)progress.Window / progress.WindowsInEpoch;
            _charactersPerSecond = progress.TokensPerSecond;
            if (double.IsFinite(progress.Loss))
                _smoothedLoss = double.IsNaN(_smoothedLoss) ? progress.Loss : 0.95 * _smoothedLoss + 0.05 * progress.Loss;

            double byTime = _clock.Elapsed / _budget;
            double fraction = Math.Max(byTime, _settings.Epochs is null ? 0 : progress.Fraction);
            TimeSpan remaining = _budget - _clock.Elapsed;
            if (_settings.Epochs is not null && progress.Remaining < remaining) remaining = progress.Remaining;
            _view.Update(new TrainingStatus(_stepOffset + _steps, _epochOffset + progress.Epoch, _smoothedLoss, _charactersPerSecond,
                fraction, remaining < TimeSpan.Zero ? TimeSpan.Zero : remaining));

            if (_settings.SampleEvery > 0 && _steps % _settings.SampleEvery == 0 && _steps != _lastSampleStep)
            {
                _lastSampleStep = _steps;
                _view.Sample($"sample at step {_stepOffset + _steps:N0} (temperature {_settings.SampleTemperature})", Generate(_settings.SampleLength));
            }
        }

        /// <summary>Generates text from the model's current parameters, always from the same start and seed, so samples compare.</summary>
        private string Generate(int length)
        {
            _model.Parameters.CopyTo(_sampleModel.Parameters);
            _sampleModel.ParametersChanged();
            _sampler.Reset();
            _sampler.Prime(_prime);
            var text = new System.Text.StringBuilder();
            foreach (int token in _sampler.Generate(length))
                text.Append(_vocabulary.Decode(token));
            return text.ToString();
        }

        private void PrintSummary(string ending, EvaluationMetrics last, bool lastIsBest)
        {
            var console = AnsiConsole.Console;
            double ln2 = Math.Log(2);
            bool overfitting = false;
            double characters = _epochPosition * _layout.CharactersPerEpoch;
            console.WriteLine();
            _view.Sample($"sample from the checkpoint (temperature {_settings.SampleTemperature})", Generate(_settings.SampleLength));
            console.MarkupLine($"[bold]Done[/]: {Markup.Escape(ending)}.");
            console.WriteLine($"Trained {_steps:N0} steps in {_clock.Elapsed.TotalMinutes:F2} min: {characters:N0} characters ({_epochPosition:F1} passes over the training text), " +
                              $"{_charactersPerSecond:N0} characters/s while training (up to {_settings.Threads} thread(s)).");
            string checkpointScore = $"[bold]{_bestLoss / ln2:F3} bits per character[/] ({_bestLoss:F3} nats)";
            if (lastIsBest)
            {
                console.MarkupLine($"Validation (the last 5 %, {last.Counted:N0} characters predicted): {checkpointScore} at the end.");
            }
            else if (!_hasBest)
            {
                console.MarkupLine($"Validation (the last 5 %, {last.Counted:N0} characters predicted): {checkpointScore} for the checkpoint this run resumed from, " +
                                   $"which stays: the last parameters score {last.Loss / ln2:F3}.");
            }
            else
            {
                console.MarkupLine($"Validation (the last 5 %, {last.Counted:N0} characters predicted): {checkpointScore}, the best, after epoch {_bestEpochs} (step {_bestSteps:N0}); " +
                                   $"the last parameters score {last.Loss / ln2:F3}.");
                overfitting = _smoothedLoss < _bestLoss - 0.1;
                if (overfitting)
                    console.WriteLine($"The model has started to overfit this corpus (training loss {_smoothedLoss:F3} nats, validation {last.Loss:F3}): more text does better than more time.");
            }
            console.WriteLine($"For comparison: {UnigramBits():F3} bits for a model that knows only how often each character occurs, " +
                              $"{Math.Log2(_vocabulary.Count):F3} for a uniform guess.");
            string checkpointOption = _settings.CheckpointPath is null ? (_modelName == "small" ? "" : $" --model {_modelName}") : $" --checkpoint {CommandLine.Quote(_checkpointPath)}";
            // resuming an overfitting run replays the epochs after the best one from the best checkpoint: no use suggesting it
            console.WriteLine($"Checkpoint: {_checkpointPath} (the best parameters, the vocabulary and the corpus's path in its metadata); " +
                              (overfitting ? "generate from it:" : $"continue with `-- --resume{checkpointOption}` (on the same corpus; give the options you changed again), or generate:"));
            console.WriteLine($"  dotnet run -c Release --project samples/CharRnn -- generate{checkpointOption} --length 1000 --temperature 0.8");
        }

        /// <summary>Cross-entropy on the validation text of character frequencies counted on the training text (add-one smoothed).</summary>
        private double UnigramBits()
        {
            var counts = new double[_vocabulary.Count];
            foreach (var sequence in _training)
                foreach (int token in sequence.Tokens.Span) counts[token]++;
            double total = counts.Sum() + counts.Length;
            double bits = 0;
            long n = 0;
            foreach (var sequence in _validation)
            {
                foreach (int token in sequence.Tokens.Span)
                {
                    bits -= Math.Log2((counts[token] + 1) / total);
                    n++;
                }
            }
            return bits / n;
        }

        private static double Minutes(double seconds) => seconds / 60;

        /// <summary>Receives the trainer's progress on the training thread (no synchronisation context, no allocation).</summary>
        private sealed class Reporter(TrainingRun<TModel> run) : IProgress<TrainingProgress>
        {
            public void Report(TrainingProgress value) => run.OnProgress(value);
        }
    }
}

/// <summary>
/// How the training text is cut for truncated BPTT: <see cref="Streams"/> contiguous pieces side by side (the batch),
/// read <see cref="Window"/> characters at a time. A corpus too small for the asked batch gets fewer streams, so that
/// every stream still spans a few windows.
/// </summary>
public sealed record StreamLayout(int Streams, int Window, int TrainingLength, string Note)
{
    /// <summary>The layout for <paramref name="trainingLength"/> characters.</summary>
    public static StreamLayout For(int trainingLength, int batch, int window)
    {
        const int WindowsPerStream = 4;
        int steps = trainingLength - 1;                         // the last character is only a target
        int streams = Math.Clamp(steps / (window * WindowsPerStream), 1, batch);
        if (streams == batch) return new StreamLayout(batch, window, trainingLength, "");
        int fittedWindow = Math.Clamp(steps / (streams * WindowsPerStream), 1, window);
        return new StreamLayout(streams, fittedWindow, trainingLength,
            $" — the corpus is small, so {streams} stream(s) of {fittedWindow} instead of {batch} × {window}");
    }

    /// <summary>Characters trained on in one pass over the training text (each stream's share; a few at the end are left over).</summary>
    public int CharactersPerEpoch => (TrainingLength - 1) / Streams * Streams;

    /// <summary>Optimizer steps in one pass over the training text.</summary>
    public int StepsPerEpoch => ((TrainingLength - 1) / Streams + Window - 1) / Window;
}
