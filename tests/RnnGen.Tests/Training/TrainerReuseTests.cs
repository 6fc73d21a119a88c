namespace RnnGen.Tests.Training;

/// <summary>
/// A trainer keeps its replicas, tapes and buffers from one <c>Train</c>/<c>Evaluate</c> call to the next (only its
/// worker threads live for one call): a later call must behave as on a fresh trainer, whatever happened to the model in
/// between, and whatever other shape the calls in between had — except that its shuffle continues, so that calls of one
/// epoch each train as one call of several. A window of one lockstep group skips the replicas and runs
/// on the model itself: it must still give the bits of the loop written out.
/// </summary>
public class TrainerReuseTests
{
    private static SequenceDataset<float> Echo(int count) => TaskData.Echo<float>(count, 12, vocabulary: 6, delay: 1, seed: 3);

    private static TrainerOptions Options => new() { Epochs = 2, BatchSize = 6, WindowLength = 5, WorkerCount = 2, Shuffle = false };

    [Fact]
    public void SecondCall_SeesParametersWrittenBetweenCalls()
    {
        // plain SGD keeps no state, so the same starting parameters must give the same bits again: the replicas from the
        // first call, which the validation pass at its end brought up to date, must not be reused with those parameters
        var model = new SmallRnn();
        model.InitializeParameters(5);
        float[] start = model.Parameters.ToArray();
        var trainer = SequenceTrainer.Create(model, new Sgd<float>(SmallRnn.ParameterCount, learningRate: 0.1), Options);

        trainer.Train(Echo(20), validation: Echo(20));
        float[] first = model.Parameters.ToArray();
        Assert.NotEqual(start, first);
        start.CopyTo(model.Parameters);
        model.ParametersChanged();
        trainer.Train(Echo(20), validation: Echo(20));

        Assert.Equal(first, model.Parameters.ToArray());
    }

    [Fact]
    public void CallsOfOtherShapes_InBetween_ChangeNothing()
    {
        var reused = NewTrainer();
        reused.Train(Echo(20));
        reused.Evaluate(Echo(3));                 // fewer lanes: another runner
        reused.Train(Echo(20));
        var metrics = reused.Evaluate(Echo(20));

        var fresh = NewTrainer();
        fresh.Train(Echo(20));
        fresh.Train(Echo(20));

        Assert.Equal(fresh.Model.Parameters.ToArray(), reused.Model.Parameters.ToArray());
        Assert.Equal(NewTrainer(fresh.Model).Evaluate(Echo(20)).Loss, metrics.Loss);
    }

    [Fact]
    public void OneGroupWindows_RunOnTheModelItself_AsAHandWrittenLoop()
    {
        // batch 1: every window is one lockstep group and runs on the model itself (its packed weights refreshed before
        // each window); against Forward, loss, Backward and the optimizer's step written out, window after window, with the
        // state carried — bit for bit (a window run on stale packed weights would differ)
        var data = Echo(1);
        TrainingSequence<float> sequence = data[0];
        var options = new TrainerOptions { Epochs = 2, BatchSize = 1, WindowLength = 4, WorkerCount = 2, Shuffle = false };

        var model = new SmallRnn();
        model.InitializeParameters(5);
        var trainer = SequenceTrainer.Create(model, new RmsProp<float>(SmallRnn.ParameterCount, learningRate: 0.01, alpha: 0.95), options);
        trainer.Train(data);

        var expected = new SmallRnn();
        expected.InitializeParameters(5);
        var optimizer = new RmsProp<float>(SmallRnn.ParameterCount, learningRate: 0.01, alpha: 0.95);
        var tape = new SmallRnn.Tape(4);
        int steps = sequence.Tokens.Length, width = SmallRnn.OutputWidth;
        for (int epoch = 0; epoch < 2; epoch++)
        {
            var state = new SmallRnn.State();
            for (int start = 0; start < steps; start += 4)
            {
                int n = Math.Min(4, steps - start);
                var outputs = new float[n * width];
                var gradients = new float[n * width];
                expected.Forward(sequence.Tokens.Span.Slice(start, n), ref state, tape, outputs);
                ReadOnlySpan<int> labels = sequence.Labels.Span.Slice(start, n);
                if (labels.Count(Losses.IgnoreTarget) == n) continue; // nothing counted: the trainer only advances the state
                Losses.SoftmaxCrossEntropy<float>(outputs, labels, gradients);
                expected.Gradients.Clear();
                expected.Backward(tape, gradients);
                optimizer.Step(expected.Parameters, expected.Gradients); // refreshes expected's packed weights too
            }
        }

        Assert.Equal(expected.Parameters.ToArray(), model.Parameters.ToArray());
    }

    // Train(Epochs = 1) three times is Train(Epochs = 3): the shuffle continues instead of repeating the first order.
    [Fact]
    public void CallsOfOneEpoch_ShuffleAsOneCallOfSeveral()
    {
        TrainerOptions Shuffled(int epochs) => new() { Epochs = epochs, BatchSize = 6, WindowLength = 5, WorkerCount = 2, Shuffle = true, Seed = 11 };
        var single = new SmallRnn();
        single.InitializeParameters(5);
        var one = SequenceTrainer.Create(single, new Adam<float>(SmallRnn.ParameterCount, learningRate: 0.01), Shuffled(1));
        for (int call = 0; call < 3; call++)
            one.Train(Echo(20));

        var whole = new SmallRnn();
        whole.InitializeParameters(5);
        SequenceTrainer.Create(whole, new Adam<float>(SmallRnn.ParameterCount, learningRate: 0.01), Shuffled(3)).Train(Echo(20));

        var repeated = new SmallRnn(); // what the old behaviour gave: the first epoch's order three times
        repeated.InitializeParameters(5);
        var adam = new Adam<float>(SmallRnn.ParameterCount, learningRate: 0.01);
        for (int call = 0; call < 3; call++)
            SequenceTrainer.Create(repeated, adam, Shuffled(1)).Train(Echo(20));

        Assert.Equal(whole.Parameters.ToArray(), single.Parameters.ToArray());
        Assert.NotEqual(repeated.Parameters.ToArray(), single.Parameters.ToArray());
    }

    // Early stopping belongs to one call: the next call starts it afresh (its first epoch is the best of that call, whatever
    // an earlier call reached), and RestoreBestParameters puts back the best of that call only. (Only a checkpoint's load
    // carries a run's early stopping into the next call: TrainingCheckpointTests.)
    [Fact]
    public void EachCallStartsEarlyStoppingAfresh()
    {
        TrainerOptions Stopping(int epochs) => new()
        {
            Epochs = epochs, BatchSize = 6, WindowLength = 5, WorkerCount = 2, Seed = 11, Patience = 3, RestoreBestParameters = true,
        };
        SequenceDataset<float> validation = TaskData.Echo<float>(9, 12, vocabulary: 6, delay: 1, seed: 8);
        var model = new SmallRnn();
        model.InitializeParameters(5);
        var trainer = SequenceTrainer.Create(model, new Adam<float>(SmallRnn.ParameterCount, learningRate: 0.08), Stopping(20));
        TrainingResult first = trainer.Train(Echo(20), validation);
        Assert.True(first.StoppedEarly && first.RestoredBest);

        var bestEpochs = new List<int>();
        trainer.BestModelFound += e => bestEpochs.Add(e.Epoch);
        TrainingResult second = trainer.Train(Echo(20), validation);
        Assert.True(second.Epochs[0].MonitoredLoss > first.BestLoss);  // the case: no better than the first call's best
        Assert.Equal(1, bestEpochs[0]);                                  // and still this call's best: a fresh start
        Assert.True(second.Epochs[0].IsBest);
        Assert.Equal(second.Epochs[second.BestEpoch - 1].MonitoredLoss, second.BestLoss);
    }

    // Parameters written by an epoch handler (with ParametersChanged) reach every lockstep group of the next window, with
    // validation data as without: the validation pass had brought the replicas up to date, and nothing marked them stale.
    [Fact]
    public void ParametersWrittenInAnEpochHandler_ReachEveryGroup()
    {
        float[] Run(bool validate)
        {
            var model = new SmallRnn();
            model.InitializeParameters(5);
            float[] start = model.Parameters.ToArray();
            var options = new TrainerOptions { Epochs = 3, BatchSize = 6, WindowLength = 5, WorkerCount = 1, Shuffle = false };
            var trainer = SequenceTrainer.Create(model, new Sgd<float>(SmallRnn.ParameterCount, learningRate: 0.1), options);
            trainer.EpochCompleted += summary =>
            {
                if (summary.Epoch == 3) return;
                start.CopyTo(model.Parameters); // back to the start after every epoch
                model.ParametersChanged();
            };
            trainer.Train(Echo(20), validation: validate ? Echo(20) : null);
            return model.Parameters.ToArray();
        }

        float[] withoutValidation = Run(validate: false), withValidation = Run(validate: true);
        Assert.Equal(withoutValidation, withValidation);
    }

    // A window longer than every sequence is the longest sequence's length (not a tape of that many steps: int.MaxValue
    // used to overflow while allocating it).
    [Fact]
    public void AWindowLongerThanTheData_IsTheLongestSequence()
    {
        float[] Run(int? window)
        {
            var model = new SmallRnn();
            model.InitializeParameters(5);
            var options = new TrainerOptions { Epochs = 2, BatchSize = 6, WindowLength = window, WorkerCount = 2, Shuffle = false };
            var trainer = SequenceTrainer.Create(model, new Sgd<float>(SmallRnn.ParameterCount, learningRate: 0.1), options);
            trainer.Train(Echo(20));
            Assert.Equal(trainer.Evaluate(Echo(20)).Loss, SequenceTrainer.Create(model, new Sgd<float>(SmallRnn.ParameterCount), options).Evaluate(Echo(20)).Loss);
            return model.Parameters.ToArray();
        }

        float[] longest = Run(null);
        Assert.Equal(longest, Run(1 << 20));
        Assert.Equal(longest, Run(int.MaxValue));
    }

    private static SequenceTrainer<SmallRnn, float> NewTrainer(SmallRnn? model = null)
    {
        if (model is null)
        {
            model = new SmallRnn();
            model.InitializeParameters(5);
        }
        return SequenceTrainer.Create(model, new Adam<float>(SmallRnn.ParameterCount, learningRate: 0.01), Options);
    }
}
