using System.Numerics;
using static RnnGen.Tests.Optimizers.OptimizerCases;

namespace RnnGen.Tests.Optimizers;

/// <summary>Argument checks (before anything is modified), hyper-parameter validation and zero allocation per step.</summary>
public class OptimizerContractTests
{
    public static TheoryData<string> Names => new(OptimizerCases.Names);

    [Theory]
    [MemberData(nameof(Names))]
    public void Wrong_lengths_throw_naming_the_argument_and_modify_nothing(string name)
    {
        const int n = 19;
        var optimizer = Create<float>(name, n);
        float[] parameters = InitialParameters<float>(n);
        optimizer.Step(parameters, Gradient<float>(n, 1)); // non-trivial state
        float[] parametersBefore = (float[])parameters.Clone();
        float[] stateBefore = optimizer.State.ToArray();

        var e1 = Assert.Throws<ArgumentException>(() => optimizer.Step(parameters.AsSpan(0, n - 1), Gradient<float>(n, 2)));
        Assert.Equal("parameters", e1.ParamName);
        Assert.Contains($"expected {n}", e1.Message);

        var e2 = Assert.Throws<ArgumentException>(() => optimizer.Step(parameters, Gradient<float>(n + 1, 2)));
        Assert.Equal("gradients", e2.ParamName);
        Assert.Contains($"expected {n}", e2.Message);

        Assert.Equal(parametersBefore, parameters);
        Assert.Equal(stateBefore, optimizer.State.ToArray());
        Assert.Equal(1, optimizer.StepCount);
    }

    [Fact]
    public void Invalid_hyper_parameters_are_rejected_with_the_parameter_name()
    {
        AssertRejects("parameterCount", () => new Adam<float>(0));
        AssertRejects("learningRate", () => new Sgd<float>(3, learningRate: -0.1));
        AssertRejects("learningRate", () => new Sgd<float>(3, learningRate: double.NaN));
        AssertRejects("momentum", () => new Sgd<float>(3, momentum: -0.5));
        AssertRejects("nesterov", () => new Sgd<float>(3, momentum: 0, nesterov: true));
        AssertRejects("nesterov", () => new Sgd<float>(3, momentum: 0.9, dampening: 0.1, nesterov: true));
        AssertRejects("epsilon", () => new Adagrad<float>(3, epsilon: -1));
        AssertRejects("learningRateDecay", () => new Adagrad<float>(3, learningRateDecay: double.PositiveInfinity));
        AssertRejects("alpha", () => new RmsProp<float>(3, alpha: -0.1));
        AssertRejects("beta1", () => new Adam<float>(3, beta1: 1.0));
        AssertRejects("beta2", () => new AdamW<float>(3, beta2: -0.1));
        AssertRejects("weightDecay", () => new AdamW<float>(3, weightDecay: -1e-2));

        var adam = new Adam<double>(3);
        AssertRejects("LearningRate", () => adam.LearningRate = double.PositiveInfinity);
        AssertRejects("StepCount", () => adam.StepCount = -1);
        AssertRejects("StepCount", () => adam.StepCount = long.MaxValue); // the next step's count would overflow (and a checkpoint of it is refused)
        adam.StepCount = long.MaxValue - 1;
        Assert.Equal(long.MaxValue - 1, adam.StepCount);
        adam.StepCount = 0;
        Assert.Equal(1e-3, adam.LearningRate);
    }

    /// <summary>A step that would make StepCount long.MaxValue (after which it overflows, and which a checkpoint may not hold) throws, modifying nothing.</summary>
    [Fact]
    public void A_step_that_would_make_the_count_overflow_throws_and_modifies_nothing()
    {
        var adam = new Adam<float>(3);
        float[] p = [1, 2, 3], g = [0.5f, -0.5f, 0.25f];
        adam.Step(p, g);
        float[] parameters = (float[])p.Clone(), state = adam.State.ToArray();
        adam.StepCount = long.MaxValue - 2;
        adam.Step(p, g); // the last step allowed
        Assert.Equal(long.MaxValue - 1, adam.StepCount);
        parameters = (float[])p.Clone();
        state = adam.State.ToArray();
        var e = Assert.Throws<InvalidOperationException>(() => adam.Step(p, g));
        Assert.Contains("long.MaxValue", e.Message);
        Assert.Throws<InvalidOperationException>(() => adam.Step(p, g, clipValue: 1f));
        Assert.Equal(long.MaxValue - 1, adam.StepCount);
        Assert.Equal(parameters, p);
        Assert.Equal(state, adam.State.ToArray());
    }

    [Fact]
    public void Element_types_other_than_float_and_double_are_rejected()
    {
        var e = Assert.Throws<NotSupportedException>(() => new Adam<Half>(3));
        Assert.Contains("float and double", e.Message);
    }

    private static void AssertRejects(string parameter, Action action)
    {
        var e = Assert.ThrowsAny<ArgumentException>(action);
        Assert.Equal(parameter, e.ParamName);
    }

    [Theory]
    [InlineData("sgd-nesterov-weight-decay")]
    [InlineData("adagrad-weight-decay-accumulator-eps")]
    [InlineData("rmsprop-centered-momentum-weight-decay")]
    [InlineData("adam-amsgrad")]
    [InlineData("adam-weight-decay")]
    [InlineData("adamw-amsgrad")]
    public void Step_allocates_nothing(string name)
    {
        StepAllocatesNothing<float>(name);
        StepAllocatesNothing<double>(name);
    }

    private static void StepAllocatesNothing<T>(string name) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int n = 1003; // full vectors and a remainder
        var optimizer = Create<T>(name, n);
        T[] parameters = InitialParameters<T>(n), gradient = Gradient<T>(n, 1);
        int i = 0;
        long allocated = SteadyAllocation.Fewest(() =>
        {
            optimizer.LearningRate = 0.01 / (++i);
            optimizer.Step(parameters, gradient);
        }, calls: 20);
        Assert.True(allocated == 0, $"{name} ({typeof(T).Name}) allocated {allocated} bytes in 20 steps.");
    }
}
