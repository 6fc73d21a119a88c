using System.Numerics;
namespace RnnGen.Tests.Training;

/// <summary>Cancellation, non-finite steps, early stopping, checkpoints, progress and allocations.</summary>
public class TrainerControlTests
{
    private static SmallRnn NewModel()
    {
        var model = new SmallRnn();
        model.InitializeParameters(5);
        return model;
    }

    private static SequenceDataset<float> Echo(int count = 20) => TaskData.Echo<float>(count, 12, vocabulary: 6, delay: 1, seed: 3);

    [Fact]
    public void Cancellation_StopsBeforeTheNextWindow_KeepingTheLastUpdate()
    {
        var model = NewModel();
        var optimizer = new Adam<float>(SmallRnn.ParameterCount, learningRate: 0.01);
        var trainer = SequenceTrainer.Create(model, optimizer, new TrainerOptions { Epochs = 5, BatchSize = 4, WindowLength = 4, WorkerCount = 2 });
        using var cts = new CancellationTokenSource();
        int reports = 0;
        float[]? afterThird = null;
        var progress = new SyncProgress<TrainingProgress>(p =>
        {
            if (++reports == 3)
            {
                afterThird = model.Parameters.ToArray();
                cts.Cancel();
            }
        });

        Assert.ThrowsAny<OperationCanceledException>(() => trainer.Train(Echo(), progress: progress, cancellationToken: cts.Token));

        Assert.Equal(3, reports);
        Assert.Equal(3, optimizer.StepCount);
        Assert.Equal(afterThird, model.Parameters.ToArray());
    }

    [Fact]
    public void Cancellation_AlreadyCancelled_ChangesNothing()
    {
        var model = NewModel();
        var before = model.Parameters.ToArray();
        var optimizer = new Adam<float>(SmallRnn.ParameterCount);
        var trainer = SequenceTrainer.Create(model, optimizer);

        Assert.ThrowsAny<OperationCanceledException>(() => trainer.Train(Echo(), cancellationToken: new CancellationToken(canceled: true)));

        Assert.Equal(before, model.Parameters.ToArray());
        Assert.Equal(0, optimizer.StepCount);
    }

    // Cancelled from EpochCompleted (between epochs), the next epoch's shuffle is not drawn: a later Train continues in the
    // order of the uninterrupted run, as after RequestStop (the cancelled call used to consume a permutation it never trained).
    [Fact]
    public void Cancellation_BetweenEpochs_ThenTrainingOn_EqualsTheUninterruptedRun()
    {
        var options = new TrainerOptions { Epochs = 3, BatchSize = 4, WindowLength = 4, WorkerCount = 2 };
        var whole = SequenceTrainer.Create(NewModel(), new Adam<float>(SmallRnn.ParameterCount, learningRate: 0.01), options);
        whole.Train(Echo());

        var model = NewModel();
        var optimizer = new Adam<float>(SmallRnn.ParameterCount, learningRate: 0.01);
        var cancelled = SequenceTrainer.Create(model, optimizer, options);
        using var cts = new CancellationTokenSource();
        cancelled.EpochCompleted += e => { if (e.Epoch == 2) cts.Cancel(); };
        Assert.ThrowsAny<OperationCanceledException>(() => cancelled.Train(Echo(), cancellationToken: cts.Token));
        Assert.Equal(2 * 5 * 3, optimizer.StepCount);   // 2 epochs of 5 batches × 3 windows

        var rest = SequenceTrainer.Create(model, optimizer, options with { Epochs = 1 });
        rest.ShuffleState = cancelled.ShuffleState;
        rest.Train(Echo());
        Assert.Equal(whole.Model.Parameters.ToArray(), model.Parameters.ToArray());
    }

    [Fact]
    public void Cancellation_DuringValidation_StopsPromptly()
    {
        var trainer = SequenceTrainer.Create(NewModel(), new Adam<float>(SmallRnn.ParameterCount), new TrainerOptions { Epochs = 50, BatchSize = 4 });
        using var cts = new CancellationTokenSource();
        trainer.EpochCompleted += _ => Assert.Fail("the epoch must not complete");
        int reports = 0;
        var progress = new SyncProgress<TrainingProgress>(p => { if (p.Window == p.WindowsInEpoch) cts.Cancel(); reports++; });

        Assert.ThrowsAny<OperationCanceledException>(() => trainer.Train(Echo(), Echo(8), progress, cts.Token));
        Assert.Equal(5, reports);   // 20 sequences / 4 lanes = 5 windows of 12 steps, then the validation pass is cancelled
    }

    /// <summary>A sequence whose target is 1e300: its squared error overflows to +∞ in double, a realistic way to blow up.</summary>
    private static SequenceDataset<double> DataWithOneExplodingTarget() => new(
    [
        TrainingSequence<double>.FromVectors(new[] { 0.5, -1, 0.25, 0.75 }, new[] { 1.0, 0 }),
        TrainingSequence<double>.FromVectors(new[] { 0.1, 0.2, 0.3, 0.4 }, new[] { 1e300, 0 }),
        TrainingSequence<double>.FromVectors(new[] { -0.5, 1, 0.5, 0.5 }, new[] { 0.0, 1 }),
    ]);

    [Fact]
    public void NonFinite_Throw_RefusesTheStep_ParametersAndOptimizerUntouched()
    {
        var model = new TinyDenseGru();
        model.InitializeParameters(1);
        var optimizer = new Adam<double>(TinyDenseGru.ParameterCount, learningRate: 0.1);
        var trainer = SequenceTrainer.Create(model, optimizer,
            new TrainerOptions { Epochs = 2, BatchSize = 1, Shuffle = false, Loss = SequenceLoss.MeanSquaredError });
        double[]? parameters = null, optimizerState = null;
        var progress = new SyncProgress<TrainingProgress>(_ => { parameters = model.Parameters.ToArray(); optimizerState = optimizer.State.ToArray(); });

        var e = Assert.Throws<NonFiniteStepException>(() => trainer.Train(DataWithOneExplodingTarget(), progress: progress));

        Assert.Equal((1, 2), (e.Epoch, e.Window));
        Assert.True(double.IsPositiveInfinity(e.Loss));
        Assert.Contains("parameters were left unchanged", e.Message);
        Assert.Equal(1, optimizer.StepCount);                     // only the first window was applied
        Assert.Equal(parameters, model.Parameters.ToArray());     // as after the first window, bit for bit
        Assert.Equal(optimizerState, optimizer.State.ToArray());
    }

    [Fact]
    public void NonFinite_Skip_SkipsOnlyThatStep()
    {
        var model = new TinyDenseGru();
        model.InitializeParameters(1);
        var optimizer = new Adam<double>(TinyDenseGru.ParameterCount, learningRate: 0.1);
        var trainer = SequenceTrainer.Create(model, optimizer, new TrainerOptions
        {
            Epochs = 2, BatchSize = 1, Shuffle = false, Loss = SequenceLoss.MeanSquaredError, NonFinite = NonFiniteHandling.Skip,
        });
        var snapshots = new List<(double[] Parameters, TrainingProgress Progress)>();
        var progress = new SyncProgress<TrainingProgress>(p => snapshots.Add((model.Parameters.ToArray(), p)));

        var result = trainer.Train(DataWithOneExplodingTarget(), progress: progress);

        Assert.Equal(2, result.SkippedSteps);
        Assert.Equal(4, result.Steps);
        Assert.Equal(4, optimizer.StepCount);
        Assert.All(result.Epochs, e => Assert.Equal(1, e.SkippedSteps));
        Assert.All(result.Epochs, e => Assert.True(double.IsFinite(e.Training.Loss)));   // the skipped step is not averaged in
        for (int i = 0; i < snapshots.Count; i++)
        {
            bool skipped = i % 3 == 1;
            Assert.Equal(skipped, double.IsNaN(snapshots[i].Progress.GradientNorm));
            if (skipped) Assert.Equal(snapshots[i - 1].Parameters, snapshots[i].Parameters);
            else if (i > 0) Assert.NotEqual(snapshots[i - 1].Parameters, snapshots[i].Parameters);
        }
        Assert.Equal(2, snapshots[^1].Progress.SkippedSteps);
    }

    /// <summary>
    /// With Skip, a lane whose state overflowed in the skipped window restarts from zeros; otherwise its infinite state
    /// would make every later window of the sequence non-finite too.
    /// </summary>
    [Fact]
    public void NonFinite_Skip_ResetsALaneWhoseStateOverflowed()
    {
        // h_t = relu(2·h_(t−1) + x_t), output = 0.001·(h1 + h2): with x = 1e306 the state passes double.MaxValue at step 8.
        var model = new ReluRnn();
        var info = ReluRnn.Info;
        info.Find("weight_ih_l0")!.Slice(model.Parameters).Fill(1);
        var whh = info.Find("weight_hh_l0")!.Slice(model.Parameters);
        whh[0] = 2; whh[3] = 2;
        info.Find("head.weight")!.Slice(model.Parameters).Fill(0.001);
        model.ParametersChanged();
        var huge = Enumerable.Repeat(1e306, 8).Concat(Enumerable.Repeat(1.0, 8)).ToArray();
        var calm = Enumerable.Repeat(0.5, 16).ToArray();
        var data = new SequenceDataset<double>(
        [
            TrainingSequence<double>.FromVectors(huge, new double[16]),
            TrainingSequence<double>.FromVectors(calm, new double[16]),
        ]);
        var reports = new List<TrainingProgress>();
        var result = SequenceTrainer.Create(model, new Sgd<double>(ReluRnn.ParameterCount, learningRate: 1e-6), new TrainerOptions
        {
            Epochs = 1, BatchSize = 2, WindowLength = 8, Loss = SequenceLoss.MeanSquaredError, NonFinite = NonFiniteHandling.Skip,
        }).Train(data, progress: new SyncProgress<TrainingProgress>(reports.Add));

        Assert.Equal(2, reports.Count);
        Assert.False(double.IsFinite(reports[0].Loss));
        Assert.True(double.IsFinite(reports[1].Loss), $"second window loss {reports[1].Loss}");
        Assert.Equal((1L, 1L), (result.Steps, result.SkippedSteps));
    }

    // The same on the layer pipeline (two layers, one lane): the stream's state overflows in its first window, whose step
    // is skipped; the next window starts from zeros instead of the overflowed state, so its loss is finite and it steps.
    [Theory, InlineData(1), InlineData(2)]
    public void NonFinite_Skip_ResetsTheStateOfAPipelinedWindow(int workers)
    {
        var model = new ReluRnn2();
        var info = ReluRnn2.Info;
        info.Find("weight_ih_l0")!.Slice(model.Parameters).Fill(1);
        var whh = info.Find("weight_hh_l0")!.Slice(model.Parameters);
        whh[0] = 2; whh[3] = 2;
        info.Find("weight_ih_l1")!.Slice(model.Parameters).Fill(0.5);
        info.Find("head.weight")!.Slice(model.Parameters).Fill(0.001);
        model.ParametersChanged();
        var inputs = Enumerable.Repeat(1e306, 8).Concat(Enumerable.Repeat(1.0, 8)).ToArray();
        var data = new SequenceDataset<double>([TrainingSequence<double>.FromVectors(inputs, new double[16])]);
        var reports = new List<TrainingProgress>();
        var trainer = SequenceTrainer.Create(model, new Sgd<double>(ReluRnn2.ParameterCount, learningRate: 1e-6), new TrainerOptions
        {
            Epochs = 1, BatchSize = 1, WindowLength = 8, WorkerCount = workers, Loss = SequenceLoss.MeanSquaredError,
            NonFinite = NonFiniteHandling.Skip,
        });
        var result = trainer.Train(data, progress: new SyncProgress<TrainingProgress>(reports.Add));

        Assert.True(trainer.LastRunner!.Pipelined);
        Assert.Equal(2, reports.Count);
        Assert.False(double.IsFinite(reports[0].Loss));
        Assert.True(double.IsFinite(reports[1].Loss), $"second window loss {reports[1].Loss}");
        Assert.Equal((1L, 1L), (result.Steps, result.SkippedSteps));
    }

    // MinImprovement decides which epoch is best: the monitored (validation) loss must fall below the best by more than it.
    // A model whose head is all 0 outputs 0, so its MSE on a validation target t is t²; the test sets t after every
    // epoch (the learning rate is 0, so nothing else moves): losses 1.00, 0.96 (0.04 better: not enough), 0.85 (0.15
    // better than the best: best), 0.80 (0.05 better: not enough). Ignored, or with the wrong sign, every epoch would be best.
    [Fact]
    public void MinImprovement_DecidesWhichEpochIsBest()
    {
        var model = new ReluRnn();
        ReluRnn.Info.Find("weight_ih_l0")!.Slice(model.Parameters).Fill(1); // a live state; the head's weights and bias stay 0
        model.ParametersChanged();
        double[] squares = [1.00, 0.96, 0.85, 0.80];
        var target = new double[1];
        target[0] = Math.Sqrt(squares[0]);
        var validation = new SequenceDataset<double>([TrainingSequence<double>.FromVectors(new double[] { 0.5, -0.5 }, target)]);
        var training = new SequenceDataset<double>([TrainingSequence<double>.FromVectors(new double[] { 0.5, -0.5 }, new double[] { 0.3 })]);
        var trainer = SequenceTrainer.Create(model, new Sgd<double>(ReluRnn.ParameterCount, learningRate: 0), new TrainerOptions
        {
            Epochs = 4, BatchSize = 1, Loss = SequenceLoss.MeanSquaredError, MinImprovement = 0.1,
        });
        trainer.EpochCompleted += e => { if (e.Epoch < squares.Length) target[0] = Math.Sqrt(squares[e.Epoch]); };
        var result = trainer.Train(training, validation);

        Assert.Equal(squares, result.Epochs.Select(e => e.MonitoredLoss), new ToleranceComparer(1e-12));
        Assert.Equal([true, false, true, false], result.Epochs.Select(e => e.IsBest));
        Assert.Equal((3, 0.85), (result.BestEpoch, Math.Round(result.BestLoss, 12)));
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= tolerance;
        public int GetHashCode(double value) => 0;
    }

    /// <summary>An exception in a worker (here: a token the model rejects) ends the run with that exception, no hang.</summary>
    [Fact]
    public void WorkerException_Propagates_AndTheTrainerStaysUsable()
    {
        var data = new PoisonableDataset(Echo(8));
        var trainer = SequenceTrainer.Create(NewModel(), new Adam<float>(SmallRnn.ParameterCount),
            new TrainerOptions { Epochs = 1, BatchSize = 4, WorkerCount = 2, Shuffle = false });
        // The data was checked when training started; it turns bad after the first batch.
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            trainer.Train(data, progress: new SyncProgress<TrainingProgress>(_ => data.Poisoned = true)));
        Assert.Contains("Token ids must be in [0, 5]", e.Message);

        data.Poisoned = false;
        Assert.Single(trainer.Train(data).Epochs);
    }

    private sealed class PoisonableDataset(SequenceDataset<float> inner) : ISequenceDataset<float>
    {
        public bool Poisoned { get; set; }
        public int Count => inner.Count;
        public TrainingSequence<float> this[int index] => Poisoned && index == 6
            ? TrainingSequence<float>.FromTokens(Enumerable.Repeat(99, 12).ToArray(), inner[index].Labels)
            : inner[index];
    }

    // every width (the four-accumulator loop needs 4 vectors: 64 floats with AVX-512), float and double
    [Fact]
    public void FiniteCheck_FindsNaNAndInfinityAnywhere()
    {
        FindsEverywhere<float>();
        FindsEverywhere<double>();
        Assert.True(Finite.All<double>([double.MaxValue, double.MinValue, double.Epsilon]));
    }

    private static void FindsEverywhere<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        var checks = new Func<T[], bool>[]
        {
            v => Finite.All<T>(v),
            v => Elementwise.AllFinite<T, Elementwise.Wide<T>>(v),
            v => Elementwise.AllFinite<T, Elementwise.Portable<T>>(v),
        };
        foreach (int length in new[] { 1, 7, 16, 37, 64, 65, 203 })
        {
            var values = new T[length];
            for (int i = 0; i < length; i++) values[i] = T.CreateTruncating(i * 1e36 - 3e38 * (i % 2)); // huge but finite in float
            foreach (var all in checks)
            {
                Assert.True(all(values), $"{typeof(T).Name}, {length} finite values");
                for (int at = 0; at < length; at++)
                {
                    foreach (T bad in new[] { T.NaN, T.PositiveInfinity, T.NegativeInfinity })
                    {
                        T kept = values[at];
                        values[at] = bad;
                        Assert.False(all(values), $"{typeof(T).Name}, length {length}: {bad} at {at}");
                        values[at] = kept;
                    }
                }
            }
        }
    }

    [Fact]
    public void EarlyStopping_StopsAfterPatienceEpochsWithoutImprovement()
    {
        // Learning rate 0: the validation loss never improves after the first epoch.
        var trainer = SequenceTrainer.Create(NewModel(), new Sgd<float>(SmallRnn.ParameterCount, learningRate: 0),
            new TrainerOptions { Epochs = 10, BatchSize = 5, Patience = 2 });
        var completed = new List<int>();
        var best = new List<int>();
        trainer.EpochCompleted += e => completed.Add(e.Epoch);
        trainer.BestModelFound += e => best.Add(e.Epoch);

        var result = trainer.Train(Echo(), Echo(6));

        Assert.True(result.StoppedEarly);
        Assert.Equal([1, 2, 3], completed);
        Assert.Equal([1], best);
        Assert.Equal(1, result.BestEpoch);
        Assert.Equal(result.Epochs[0].Validation!.Value.Loss, result.BestLoss);
        Assert.Equal([true, false, false], result.Epochs.Select(e => e.IsBest));
    }

    // A graceful stop, as a time budget would ask for it: the epoch in progress ends as any other and Train returns its result.
    [Fact]
    public void RequestStop_FromEpochCompleted_EndsTheCallAfterThatEpoch_AndReturnsItsResult()
    {
        var model = NewModel();
        var trainer = SequenceTrainer.Create(model, new Adam<float>(SmallRnn.ParameterCount, learningRate: 0.02),
            new TrainerOptions { Epochs = 10, BatchSize = 5 });
        float[]? afterEpoch3 = null;
        trainer.EpochCompleted += e =>
        {
            if (e.Epoch != 3) return;
            afterEpoch3 = model.Parameters.ToArray();
            trainer.RequestStop();
        };

        var result = trainer.Train(Echo(), Echo(6));

        Assert.True(result.StopRequested);
        Assert.False(result.StoppedEarly);
        Assert.Equal([1, 2, 3], result.Epochs.Select(e => e.Epoch));
        Assert.Equal(afterEpoch3, model.Parameters.ToArray()); // nothing trained after the request
        Assert.Equal(result.Epochs.Sum(e => e.Steps), result.Steps);
        Assert.Matches(@"^3 epochs, best [123] \(loss [0-9.]+\), [0-9,]+ steps \(0 skipped\) in \d\d:\d\d:\d\d\.\d, stopped on request$", result.ToString());

        // the next call starts afresh: the request belonged to the call it was made in
        var next = SequenceTrainer.Create(model, new Adam<float>(SmallRnn.ParameterCount), new TrainerOptions { Epochs = 2, BatchSize = 5 });
        next.RequestStop(); // while no Train runs: dropped when the next one starts
        var again = next.Train(Echo());
        Assert.False(again.StopRequested);
        Assert.Equal(2, again.Epochs.Count);
    }

    [Fact]
    public void RequestStop_FromAnotherThread_DuringAnEpoch_FinishesThatEpoch()
    {
        var trainer = SequenceTrainer.Create(NewModel(), new Sgd<float>(SmallRnn.ParameterCount, learningRate: 0.01),
            new TrainerOptions { Epochs = 50, BatchSize = 2, WindowLength = 3 });
        int windowsInEpoch = 0, windowsSeen = 0, stoppedIn = 0;
        // a progress report is raised on the training thread; the request comes from another thread in the middle of epoch 2
        var progress = new SyncProgress<TrainingProgress>(p =>
        {
            windowsInEpoch = p.WindowsInEpoch;
            windowsSeen++;
            if (p.Epoch == 2 && p.Window == 1)
            {
                stoppedIn = p.Epoch;
                Task.Run(trainer.RequestStop).Wait();
            }
        });

        var result = trainer.Train(Echo(), progress: progress);

        Assert.True(result.StopRequested);
        Assert.Equal(2, stoppedIn);
        Assert.Equal(2, result.Epochs.Count);              // epoch 2 finished, no epoch 3
        Assert.Equal(2 * windowsInEpoch, windowsSeen);      // every window of both epochs
    }

    [Fact]
    public void RequestStop_InTheLastEpoch_IsNotAStopBeforeTheEnd_AndRestoreBestAppliesAsUsual()
    {
        var model = NewModel();
        var trainer = SequenceTrainer.Create(model, new Sgd<float>(SmallRnn.ParameterCount, learningRate: 0),
            new TrainerOptions { Epochs = 3, BatchSize = 5, RestoreBestParameters = true });
        trainer.EpochCompleted += e => { if (e.Epoch == 3) trainer.RequestStop(); };

        var result = trainer.Train(Echo(), Echo(6));

        Assert.False(result.StopRequested);
        Assert.Equal(3, result.Epochs.Count);
        Assert.Equal(1, result.BestEpoch); // learning rate 0: no later epoch improves
        Assert.True(result.RestoredBest);
    }

    [Fact]
    public void BestCheckpoint_CallbackSeesTheBestParameters_AndRestoreBestPutsThemBack()
    {
        // Validation asks for the opposite of training (label + 1), so it gets worse as training succeeds.
        var training = Echo(24);
        var validation = new SequenceDataset<float>(training.Take(6).Select(s =>
            TrainingSequence<float>.FromTokens(s.Tokens, s.Labels.ToArray().Select(l => l < 0 ? l : (l + 1) % 6).ToArray())));
        var model = NewModel();
        var trainer = SequenceTrainer.Create(model, new Adam<float>(SmallRnn.ParameterCount, learningRate: 0.02),
            new TrainerOptions { Epochs = 6, BatchSize = 6, RestoreBestParameters = true });
        float[]? saved = null;
        int savedEpoch = 0;
        trainer.BestModelFound += e => { saved = model.Parameters.ToArray(); savedEpoch = e.Epoch; };
        float[]? last = null;
        trainer.EpochCompleted += _ => last = model.Parameters.ToArray();

        var result = trainer.Train(training, validation);

        Assert.Equal(savedEpoch, result.BestEpoch);
        Assert.True(result.BestEpoch < 6, $"best epoch {result.BestEpoch}");
        Assert.True(result.RestoredBest);
        Assert.Equal(saved, model.Parameters.ToArray());
        Assert.NotEqual(last, model.Parameters.ToArray());
        Assert.Equal(result.Epochs.Min(e => e.Validation!.Value.Loss), result.BestLoss);
    }

    [Fact]
    public void Progress_ReportsEveryWindowWithConsistentCounters()
    {
        var reports = new List<TrainingProgress>();
        var trainer = SequenceTrainer.Create(NewModel(), new Adam<float>(SmallRnn.ParameterCount),
            new TrainerOptions { Epochs = 2, BatchSize = 8, WindowLength = 5, LearningRateSchedule = new StepDecaySchedule(0.01, 4, 0.5) });

        var result = trainer.Train(Echo(20), progress: new SyncProgress<TrainingProgress>(reports.Add));

        // 20 sequences → batches of 8, 8, 4; 12 steps → 3 windows each: 9 windows per epoch.
        Assert.Equal(18, reports.Count);
        Assert.Equal(Enumerable.Range(1, 9).Concat(Enumerable.Range(1, 9)), reports.Select(p => p.Window));
        Assert.All(reports, p => Assert.Equal(9, p.WindowsInEpoch));
        Assert.Equal(Enumerable.Repeat(1, 9).Concat(Enumerable.Repeat(2, 9)), reports.Select(p => p.Epoch));
        Assert.Equal(Enumerable.Range(1, 18).Select(i => (long)i), reports.Select(p => p.Step));
        // every update's rate is the schedule's at the optimizer's step count before it (0, 1, …): checked at every step,
        // so an off-by-one shows where the step decays (4, 8, …), which one step alone could miss
        var schedule = new StepDecaySchedule(0.01, 4, 0.5);
        Assert.Equal(reports.Select(p => schedule.LearningRate(p.Step - 1)), reports.Select(p => p.LearningRate));
        Assert.Equal(1.0, reports[^1].Fraction);
        Assert.Equal(TimeSpan.Zero, reports[^1].Remaining);
        Assert.All(reports, p => Assert.True(p.TokensPerSecond > 0 && p.Loss > 0 && p.GradientNorm > 0));
        Assert.True(reports.Zip(reports.Skip(1)).All(x => x.First.Fraction < x.Second.Fraction && x.First.Elapsed <= x.Second.Elapsed));
        Assert.Equal(result.Epochs[^1].Training.Loss, reports[^1].EpochLoss, 12);
    }

    /// <summary>Windows without any target (the early windows of many-to-one sequences) advance the state but take no step.</summary>
    [Fact]
    public void ManyToOne_WithShortWindows_OnlyTheLastWindowUpdates()
    {
        var data = new SequenceDataset<float>(Enumerable.Range(0, 6).Select(i =>
            TrainingSequence<float>.FromTokens(new[] { i % 6, 1, 2, 3, 4, 5 }, new[] { i % 2 })));
        var optimizer = new Adam<float>(SmallRnn.ParameterCount);
        var reports = new List<TrainingProgress>();
        var result = SequenceTrainer.Create(NewModel(), optimizer, new TrainerOptions { Epochs = 1, BatchSize = 3, WindowLength = 2 })
            .Train(data, progress: new SyncProgress<TrainingProgress>(reports.Add));

        Assert.Equal(2, result.Steps);                 // one update per batch
        Assert.Equal(6, reports.Count);                // three windows per batch are still run
        Assert.Equal([false, false, true, false, false, true], reports.Select(p => double.IsFinite(p.Loss)));
    }

    [Fact]
    public void SteadyState_AllocatesNothingPerWindow_OneWorker()
    {
        var data = TaskData.Echo<float>(8, 400, vocabulary: 6, delay: 1, seed: 1);
        var trainer = SequenceTrainer.Create(NewModel(), new Adam<float>(SmallRnn.ParameterCount), new TrainerOptions
        {
            Epochs = 1, BatchSize = 8, WindowLength = 10, WorkerCount = 1, ClipGradientNorm = 1, ClipGradientValue = 1,
            LearningRateSchedule = new CosineWithWarmupSchedule(0.01, 5, 40),
        });
        // the bytes of three stretches of ten windows each, after the first ten: the fewest is 0 unless every stretch
        // allocates (a one-off allocation of the runtime lands in one stretch at most)
        var at = new long[5];
        var progress = new SyncProgress<TrainingProgress>(p =>
        {
            if (p.Window % 10 == 0 && p.Window / 10 - 1 is var k && k is >= 0 and < 4) at[k] = GC.GetAllocatedBytesForCurrentThread();
        });

        trainer.Train(data, progress: progress);

        Assert.All(at.Take(4), v => Assert.True(v > 0, "a stretch was not reached"));
        Assert.Equal(0, Enumerable.Range(0, 3).Min(k => at[k + 1] - at[k]));
    }

    // the result's epochs are a read-only list: a caller cannot cast it back to the List inside and change the record
    [Fact]
    public void Result_Epochs_CannotBeChangedThroughACast()
    {
        var model = new SmallRnn();
        model.InitializeParameters(1);
        var trainer = SequenceTrainer.Create(model, new Adam<float>(SmallRnn.ParameterCount),
            new TrainerOptions { Epochs = 2, WorkerCount = 1, BatchSize = 2 });
        var result = trainer.Train(SequenceDataset<float>.FromTokenStream(Enumerable.Range(0, 21).Select(i => i % 6).ToArray(), 2));

        Assert.Equal(2, result.Epochs.Count);
        Assert.False(result.Epochs is List<EpochSummary>);
        Assert.True(((ICollection<EpochSummary>)result.Epochs).IsReadOnly);
        Assert.Throws<NotSupportedException>(() => ((IList<EpochSummary>)result.Epochs).Clear());
        Assert.Equal([1, 2], result.Epochs.Select(e => e.Epoch));
    }
}
