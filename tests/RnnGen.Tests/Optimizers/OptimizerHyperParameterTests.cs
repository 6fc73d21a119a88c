namespace RnnGen.Tests.Optimizers;

/// <summary>Every optimizer refuses hyper-parameters outside their range, naming the parameter, and accepts the ends of it.</summary>
public class OptimizerHyperParameterTests
{
    public static TheoryData<string, Func<object>> Refused => new()
    {
        { "learningRate", () => new Sgd<float>(3, learningRate: -1e-3) },
        { "learningRate", () => new Adam<float>(3, learningRate: double.NaN) },
        { "learningRate", () => new RmsProp<float>(3, learningRate: double.PositiveInfinity) },
        { "momentum", () => new Sgd<float>(3, momentum: -0.5) },
        { "dampening", () => new Sgd<float>(3, dampening: double.NaN) },
        { "weightDecay", () => new Sgd<float>(3, weightDecay: -1) },
        { "beta1", () => new Adam<float>(3, beta1: 1) },
        { "beta2", () => new Adam<float>(3, beta2: -0.1) },
        { "epsilon", () => new Adam<float>(3, epsilon: -1e-8) },
        { "alpha", () => new RmsProp<float>(3, alpha: 1.5) },
        { "alpha", () => new RmsProp<float>(3, alpha: -0.1) },
        { "alpha", () => new RmsProp<float>(3, alpha: double.NaN) },
        { "momentum", () => new RmsProp<float>(3, momentum: -1) },
        { "learningRateDecay", () => new Adagrad<float>(3, learningRateDecay: -1) },
        { "initialAccumulatorValue", () => new Adagrad<float>(3, initialAccumulatorValue: double.NegativeInfinity) },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void OutOfRange_IsRefused_NamingTheParameter(string parameter, Func<object> create)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(create);
        Assert.Equal(parameter, e.ParamName);
    }

    [Fact]
    public void TheEndsOfEachRange_AreAccepted()
    {
        _ = new RmsProp<float>(3, alpha: 0);
        _ = new RmsProp<float>(3, alpha: 1);
        _ = new Adam<float>(3, beta1: 0, beta2: 0, epsilon: 0);
        _ = new Sgd<float>(3, learningRate: 0, momentum: 0);
        _ = new Adagrad<float>(3, epsilon: 0);
    }

    // The reviewer's case: α = 1.5 used to be accepted and made every parameter NaN at the first update.
    [Fact]
    public void RmsPropAtAlphaOne_StaysFinite()
    {
        var optimizer = new RmsProp<float>(2, learningRate: 0.1, alpha: 1, epsilon: 1e-3);
        float[] p = [1, -1];
        optimizer.Step(p, [0.5f, -0.5f]);
        Assert.All(p, v => Assert.True(float.IsFinite(v)));
    }
}
