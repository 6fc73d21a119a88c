namespace RnnGen.Tests.Training;

/// <summary>Same seed → same bits; and the group-ordered gradient sum (fixed lockstep groups) makes the worker count irrelevant.</summary>
public class TrainerDeterminismTests
{
    private sealed record Outcome(List<(double Loss, double Norm)> History, float[] Parameters, TrainingResult Result);

    private static Outcome Train(int workers, long seed)
    {
        // 29 sequences of 13 steps (23 for training) in batches of 6 (the last has 5), windows of 4 (the last has 1 step).
        var data = TaskData.Echo<float>(29, 13, vocabulary: 6, delay: 2, seed: 4);
        var (training, validation) = data.Split(0.2, seed: 2);
        var model = new SmallRnn();
        model.InitializeParameters(11);
        var history = new List<(double, double)>();
        var trainer = SequenceTrainer.Create(model, new Adam<float>(SmallRnn.ParameterCount, learningRate: 0.01), new TrainerOptions
        {
            Epochs = 3, BatchSize = 6, WindowLength = 4, WorkerCount = workers, Seed = seed,
            ClipGradientNorm = 0.5, LearningRateSchedule = new StepDecaySchedule(0.01, 5, 0.9),
        });
        var result = trainer.Train(training, validation, new SyncProgress<TrainingProgress>(p => history.Add((p.Loss, p.GradientNorm))));
        return new Outcome(history, model.Parameters.ToArray(), result);
    }

    private static void AssertIdentical(Outcome a, Outcome b)
    {
        Assert.Equal(a.History.Count, b.History.Count);
        for (int i = 0; i < a.History.Count; i++)
        {
            Assert.Equal(BitConverter.DoubleToInt64Bits(a.History[i].Loss), BitConverter.DoubleToInt64Bits(b.History[i].Loss));
            Assert.Equal(BitConverter.DoubleToInt64Bits(a.History[i].Norm), BitConverter.DoubleToInt64Bits(b.History[i].Norm));
        }
        Assert.Equal(a.Parameters, b.Parameters);
        for (int e = 0; e < a.Result.Epochs.Count; e++)
        {
            Assert.Equal(a.Result.Epochs[e].Training, b.Result.Epochs[e].Training);
            Assert.Equal(a.Result.Epochs[e].Validation, b.Result.Epochs[e].Validation);
        }
    }

    [Fact]
    public void SameSeedAndWorkers_IdenticalLossHistoryAndParameters()
    {
        var a = Train(workers: 2, seed: 7);
        var b = Train(workers: 2, seed: 7);
        // 23 training sequences → batches of 6, 6, 6, 5, each of ⌈13 / 4⌉ = 4 windows; 3 epochs.
        Assert.Equal(3 * 4 * 4, a.History.Count);
        AssertIdentical(a, b);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(6)]
    public void AnyWorkerCount_GivesTheSameBitsAsOneWorker(int workers)
    {
        AssertIdentical(Train(workers: 1, seed: 7), Train(workers, seed: 7));
    }

    [Fact]
    public void AnotherSeed_ShufflesDifferently()
    {
        var a = Train(workers: 1, seed: 7);
        var b = Train(workers: 1, seed: 8);
        Assert.False(a.History[0].Loss == b.History[0].Loss && a.History[1].Loss == b.History[1].Loss);
        Assert.NotEqual(a.Parameters, b.Parameters);
    }

    // Resuming in a new process: the parameters, the optimizer's state and step count, and the trainer's ShuffleState give
    // the bits of one uninterrupted run; without the shuffle state the new trainer repeats epoch 1's order.
    [Fact]
    public void ResumingInANewTrainer_WithItsShuffleState_GivesTheBitsOfOneRun()
    {
        var data = TaskData.Echo<float>(29, 13, vocabulary: 6, delay: 2, seed: 4);
        TrainerOptions Options(int epochs) => new() { Epochs = epochs, BatchSize = 6, WindowLength = 4, WorkerCount = 2, Seed = 7 };
        Adam<float> Optimizer() => new(SmallRnn.ParameterCount, learningRate: 0.01);

        var straight = new SmallRnn();
        straight.InitializeParameters(11);
        SequenceTrainer.Create(straight, Optimizer(), Options(3)).Train(data);

        var first = new SmallRnn();
        first.InitializeParameters(11);
        var firstOptimizer = Optimizer();
        var firstTrainer = SequenceTrainer.Create(first, firstOptimizer, Options(1));
        firstTrainer.Train(data);

        float[] Resume(ulong[]? shuffle)
        {
            var model = new SmallRnn();
            first.Parameters.CopyTo(model.Parameters);
            model.ParametersChanged();
            var optimizer = Optimizer();
            firstOptimizer.State.CopyTo(optimizer.State);
            optimizer.StepCount = firstOptimizer.StepCount;
            var trainer = SequenceTrainer.Create(model, optimizer, Options(2));
            if (shuffle is not null) trainer.ShuffleState = shuffle;
            trainer.Train(data);
            return model.Parameters.ToArray();
        }

        Assert.Equal(straight.Parameters.ToArray(), Resume(firstTrainer.ShuffleState));
        Assert.NotEqual(straight.Parameters.ToArray(), Resume(null));
    }

    [Fact]
    public void ShuffleState_RefusesWhatIsNotAState()
    {
        var trainer = SequenceTrainer.Create(new SmallRnn(), new Adam<float>(SmallRnn.ParameterCount));
        Assert.Throws<ArgumentException>(() => trainer.ShuffleState = [1, 2, 3]);
        Assert.Equal("value", Assert.Throws<ArgumentException>(() => trainer.ShuffleState = [0, 0, 0, 0]).ParamName);
        ulong[] state = trainer.ShuffleState;
        trainer.ShuffleState = state;
        Assert.Equal(state, trainer.ShuffleState);
    }

    /// <summary>Lanes of different lengths, lanes without a target in a window, lanes that end early: still the same bits.</summary>
    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void MixedLengthsAndManyToOne_AnyWorkerCount_SameBitsAsOneWorker(int workers)
    {
        static float[] Run(int workers)
        {
            var rng = new SeededRandom(21);
            var items = new List<TrainingSequence<float>>();
            for (int i = 0; i < 40; i++)
            {
                var tokens = TaskData.RandomTokens(3 + rng.NextInt(13), 6, seed: 100 + i);
                int[] labels = i % 2 == 0
                    ? tokens.Select((_, t) => t == 0 ? -1 : tokens[t - 1]).ToArray()   // many-to-many
                    : [tokens[0]];                                                      // many-to-one
                items.Add(TrainingSequence<float>.FromTokens(tokens, labels));
            }
            var model = new SmallRnn();
            model.InitializeParameters(3);
            SequenceTrainer.Create(model, new RmsProp<float>(SmallRnn.ParameterCount, learningRate: 0.01),
                new TrainerOptions { Epochs = 2, BatchSize = 7, WindowLength = 4, WorkerCount = workers, Seed = 5 })
                .Train(new SequenceDataset<float>(items));
            return model.Parameters.ToArray();
        }

        Assert.Equal(Run(1), Run(workers));
    }
}

/// <summary>
/// The group-ordered gradient sum along each of its paths, forced by delaying chosen groups just before they hand their
/// gradient over: every group arriving in its turn (each added at once), or the later groups first (deposited, a worker
/// waiting for its deposit to be taken, then drained by the first group's worker). Each gives the bits of one worker.
/// </summary>
public class GradientHandOverTests
{
    private static (float[] Parameters, int Deposits, int Waits) Train(int workers, Func<BatchRunner<SmallRnn, float>, int, bool>? waitBeforeHandOver)
    {
        // 36 sequences in one batch: 4 lockstep groups of 9 lanes per window, 3 windows, 2 epochs
        var data = TaskData.Echo<float>(36, 12, vocabulary: 6, delay: 2, seed: 4);
        var model = new SmallRnn();
        model.InitializeParameters(11);
        var trainer = SequenceTrainer.Create(model, new RmsProp<float>(SmallRnn.ParameterCount, learningRate: 0.01), new TrainerOptions
        {
            Epochs = 2, BatchSize = 36, WindowLength = 4, WorkerCount = workers, Seed = 3,
        });
        // a group about to hand its gradient over waits (at most 30 s: a failed order fails the assertions, never hangs)
        // until the condition on the runner holds
        if (waitBeforeHandOver is not null)
            trainer.BeforeHandOver = g => SpinWait.SpinUntil(() => waitBeforeHandOver(trainer.LastRunner!, g), TimeSpan.FromSeconds(30));
        trainer.Train(data);
        return (model.Parameters.ToArray(), trainer.LastRunner!.Deposits, trainer.LastRunner!.Waits);
    }

    [Fact]
    public void GroupsArrivingInTheirTurn_AreAddedAtOnce_SameBitsAsOneWorker()
    {
        var one = Train(1, null);
        var inTurn = Train(2, (runner, g) => runner.Turn >= g); // group g hands over once every group before it has
        Assert.Equal(0, inTurn.Deposits);
        Assert.Equal(one.Parameters, inTurn.Parameters);
    }

    [Fact]
    public void LaterGroupsFirst_AreDepositedAndDrainedInOrder_SameBitsAsOneWorker()
    {
        var one = Train(1, null);
        // the first group hands over only once a later one is deposited and its worker waits for that deposit to be taken
        var reversed = Train(2, (runner, g) => g != 0 || Volatile.Read(ref runner.Waits) > 0);
        Assert.True(reversed.Deposits > 0, "no gradient was deposited");
        Assert.True(reversed.Waits > 0, "no worker waited for its deposit to be taken");
        Assert.Equal(one.Parameters, reversed.Parameters);
    }
}

/// <summary>The lockstep groups the trainer forms (docs/training.md: "50 lanes: 13 + 13 + 12 + 12").</summary>
public class LaneGroupTests
{
    [Theory]
    [InlineData(1, new[] { 1 })]
    [InlineData(2, new[] { 1, 1 })]
    [InlineData(3, new[] { 2, 1 })]
    [InlineData(16, new[] { 8, 8 })]
    [InlineData(32, new[] { 16, 16 })]
    [InlineData(33, new[] { 9, 8, 8, 8 })]
    [InlineData(50, new[] { 13, 13, 12, 12 })]
    [InlineData(65, new[] { 11, 11, 11, 11, 11, 10 })]
    public void Groups_AreEvenInNumber_AtMost16_NearEqual(int lanes, int[] expected)
    {
        int groups = LaneGroups.Count(lanes);
        int[] sizes = [.. Enumerable.Range(0, groups).Select(g => LaneGroups.Size(lanes, groups, g))];
        Assert.Equal(expected, sizes);
    }
}
