using RnnGen.Tests.Models;

namespace RnnGen.Tests.Generated;

/// <summary>
/// The models learn: the quick-start task (echo the token from 3 steps back) is trained to a loss an untrained model
/// cannot reach (chance is ln 8 ≈ 2.08 nats), and the same kind of memory task is learned by GRU and vanilla RNN models.
/// </summary>
public class LearningTests
{
    [Fact]
    public void QuickStartSample_Lstm_LearnsToEcho()
    {
        var untrained = QuickStart.EchoTask.Train(updates: 0, seed: 1);
        float before = QuickStart.EchoTask.Evaluate(untrained, count: 50, seed: 7);
        var trained = QuickStart.EchoTask.Train(updates: 1500, seed: 1);
        float after = QuickStart.EchoTask.Evaluate(trained, count: 50, seed: 7);
        Assert.True(before > 1.9f, $"an untrained model should be near chance (2.08), got {before}");
        Assert.True(after < 0.1f, $"after training the held-out loss should be < 0.1 nats, got {after}");
    }

    [Fact] public void Gru_LearnsToEcho() => Assert.True(TrainEcho<GruEcho>(updates: 600) < 0.15f);
    [Fact] public void RnnTanh_LearnsToEcho() => Assert.True(TrainEcho<RnnEcho>(updates: 800) < 0.15f);

    /// <summary>Echo with a delay of 2 over 6 tokens; returns the held-out loss after training.</summary>
    private static float TrainEcho<TModel>(int updates) where TModel : class, IRecurrentModel<TModel, float>
    {
        const int length = 16, delay = 2;
        var info = TModel.Info;
        var model = TModel.Create();
        model.InitializeParameters(3);
        var adam = new Adam<float>(info.ParameterCount, learningRate: 0.01);
        var state = model.CreateState();
        var tape = model.CreateTape(length);
        var tokens = new int[length];
        var targets = new int[length];
        var logits = new float[length * info.OutputWidth];
        var grad = new float[logits.Length];
        var rng = new SeededRandom(4);

        float Episode(bool learn)
        {
            for (int t = 0; t < length; t++)
            {
                tokens[t] = rng.NextInt(info.InputSize);
                targets[t] = t >= delay ? tokens[t - delay] : -1;
            }
            state.Reset();
            model.Forward(tokens, state, tape, logits);
            float loss = RnnGen.Losses.SoftmaxCrossEntropy<float>(logits, targets, grad);
            if (learn)
            {
                model.Gradients.Clear();
                model.Backward(tape, grad, default, null);
                adam.Step(model);
            }
            return loss;
        }

        float chance = Enumerable.Range(0, 20).Select(_ => Episode(learn: false)).Average();
        Assert.True(chance > 1.6f, $"untrained loss {chance} should be near ln 6 = 1.79");
        for (int i = 0; i < updates; i++) Episode(learn: true);
        return Enumerable.Range(0, 50).Select(_ => Episode(learn: false)).Average();
    }
}
