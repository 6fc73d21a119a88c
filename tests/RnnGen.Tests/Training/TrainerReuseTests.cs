namespace RnnGen.Tests.Training;

/// <summary>
/// A trainer keeps its replicas, tapes and buffers from one <c>Train</c>/<c>Evaluate</c> call to the next (only its
/// worker threads live for one call): a later call must behave as on a fresh trainer, whatever happened to the model in
/// between, and whatever other shape the calls in between had.
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
