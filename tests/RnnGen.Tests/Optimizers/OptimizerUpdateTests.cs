using System.Numerics;
using static RnnGen.Tests.Optimizers.OptimizerCases;

namespace RnnGen.Tests.Optimizers;

/// <summary>Each optimizer against its independent double reference (ReferenceOptimizers.cs), step by step.</summary>
public class OptimizerUpdateTests
{
    private const int Steps = 6;

    // 3: shorter than one vector (only the padded remainder path); 37: several full vectors plus a remainder for both
    // float (8 or 16 lanes) and double (4 or 8 lanes).
    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (string name in Names)
            foreach (int n in new[] { 3, 37 })
                data.Add(name, n);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float_matches_reference_every_step(string name, int n) => MatchesReference<float>(name, n);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Double_matches_reference_every_step(string name, int n) => MatchesReference<double>(name, n);

    private static void MatchesReference<T>(string name, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var optimizer = Create<T>(name, n);
        var reference = Reference(name, n);
        T[] parameters = InitialParameters<T>(n);
        double[] expected = ToDouble(parameters);
        for (int t = 1; t <= Steps; t++)
        {
            T[] gradient = Gradient<T>(n, t);
            T[] gradientCopy = (T[])gradient.Clone();
            optimizer.Step(parameters, gradient);
            reference.Step(expected, ToDouble(gradient));
            Assert.Equal(t, optimizer.StepCount);
            Assert.Equal(gradientCopy, gradient); // gradients are read-only
            AssertClose(expected, parameters, $"{name}, {typeof(T).Name}, step {t}");
        }
        // The steps really moved the parameters (far beyond the tolerance), so the comparison above means something.
        double moved = ToDouble(InitialParameters<T>(n)).Zip(expected, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(moved > 100 * Tolerance<T>(), $"{name}: parameters moved only {moved:E2}.");
    }

    [Theory]
    [InlineData("adam-amsgrad")]
    [InlineData("adamw-amsgrad")]
    public void Test_data_makes_amsgrad_differ_from_adam(string name)
    {
        // Guard for the data: with these shrinking gradients the running maximum of v is used, so the AMSGrad
        // cases above check it (not just plain Adam).
        const int n = 37;
        var amsgrad = Reference(name, n);
        var plain = name.StartsWith("adamw")
            ? new ReferenceAdam(n, lr: 0.05, beta2: 0.9, weightDecay: 0.5, decoupled: true)
            : new ReferenceAdam(n, lr: 0.01, beta2: 0.9);
        double[] a = ToDouble(InitialParameters<double>(n)), b = (double[])a.Clone();
        for (int t = 1; t <= Steps; t++)
        {
            amsgrad.Step(a, ToDouble(Gradient<double>(n, t)));
            plain.Step(b, ToDouble(Gradient<double>(n, t)));
        }
        Assert.True(a.Zip(b, (x, y) => Math.Abs(x - y)).Max() > 1e-3);
    }

    [Fact]
    public void Sgd_with_momentum_by_hand()
    {
        // θ = 1, g = 0.5 twice, γ = 0.1, μ = 0.9:
        // t=1: b = g = 0.5;              θ = 1 − 0.1·0.5 = 0.95
        // t=2: b = 0.9·0.5 + 0.5 = 0.95; θ = 0.95 − 0.1·0.95 = 0.855
        var sgd = new Sgd<double>(1, learningRate: 0.1, momentum: 0.9);
        double[] theta = [1.0];
        sgd.Step(theta, [0.5]);
        Assert.Equal(0.95, theta[0], tolerance: 1e-15);
        sgd.Step(theta, [0.5]);
        Assert.Equal(0.855, theta[0], tolerance: 1e-15);
        Assert.Equal(0.95, sgd.State[0], tolerance: 1e-15);
    }

    [Fact]
    public void Sgd_nesterov_by_hand()
    {
        // θ = 1, g = 0.5, γ = 0.1, μ = 0.9, Nesterov: t=1: b = 0.5; g' = 0.5 + 0.9·0.5 = 0.95; θ = 1 − 0.095 = 0.905
        var sgd = new Sgd<double>(1, learningRate: 0.1, momentum: 0.9, nesterov: true);
        double[] theta = [1.0];
        sgd.Step(theta, [0.5]);
        Assert.Equal(0.905, theta[0], tolerance: 1e-15);
    }

    [Fact]
    public void Adam_first_step_moves_each_parameter_by_the_learning_rate_against_the_gradient_sign()
    {
        // t=1: m̂ = g, v̂ = g², so the step is γ·g / (|g| + ε) ≈ γ·sign(g); the bias correction is what makes it so.
        var adam = new Adam<double>(3, learningRate: 0.01, epsilon: 0);
        double[] theta = [1, 1, 1];
        adam.Step(theta, [1e-4, -3, 250]);
        Assert.Equal(0.99, theta[0], tolerance: 1e-14);
        Assert.Equal(1.01, theta[1], tolerance: 1e-14);
        Assert.Equal(0.99, theta[2], tolerance: 1e-14);
    }

    [Fact]
    public void AdamW_decays_weights_without_touching_the_moments_while_Adam_adds_the_decay_to_the_gradient()
    {
        // A zero gradient: AdamW only shrinks θ by (1 − γλ) (m = v = 0, so the Adam part is 0 / (0 + ε) = 0);
        // coupled Adam sees g = λθ and takes a full Adam step.
        var adamW = new AdamW<double>(1, learningRate: 0.1, weightDecay: 0.5);
        double[] w = [2.0];
        adamW.Step(w, [0.0]);
        Assert.Equal(2.0 * (1 - 0.1 * 0.5), w[0], tolerance: 1e-15);
        Assert.Equal(0.0, adamW.State[0]); // m
        Assert.Equal(0.0, adamW.State[1]); // v

        var adam = new Adam<double>(1, learningRate: 0.1, weightDecay: 0.5, epsilon: 0);
        double[] a = [2.0];
        adam.Step(a, [0.0]);
        Assert.Equal(2.0 - 0.1, a[0], tolerance: 1e-15); // g = 0.5·2 = 1: first step is γ·sign(g)
    }

    [Fact]
    public void Adagrad_learning_rate_decay_by_hand()
    {
        // γ = 1, η = 1, g = 3 every step, s₀ = 0, ε = 0:
        // t=1: s = 9,  θ −= 1/(1+0)·3/3 = 1
        // t=2: s = 18, θ −= 1/(1+1)·3/√18 = 0.5/√2
        var adagrad = new Adagrad<double>(1, learningRate: 1, learningRateDecay: 1, epsilon: 0);
        double[] theta = [0.0];
        adagrad.Step(theta, [3]);
        Assert.Equal(-1.0, theta[0], tolerance: 1e-15);
        adagrad.Step(theta, [3]);
        Assert.Equal(-1.0 - 0.5 / Math.Sqrt(2), theta[0], tolerance: 1e-15);
    }

    [Fact]
    public void Centered_RmsProp_first_step_by_hand()
    {
        // α = 0.5, g = 2: v = 0.5·4 = 2, a = 0.5·2 = 1, d = √(2 − 1) = 1 (ε = 0), θ −= γ·2/1.
        var rms = new RmsProp<double>(1, learningRate: 0.1, alpha: 0.5, epsilon: 0, centered: true);
        double[] theta = [1.0];
        rms.Step(theta, [2]);
        Assert.Equal(0.8, theta[0], tolerance: 1e-15);
    }

    // With α = 0, v = g² and a = g: v − a² is 0 exactly, but rounding (a fused multiply-subtract) left it a hair below 0
    // for some g, and √ of it made the parameter NaN from finite gradients.
    [Fact]
    public void Centered_RmsProp_with_alpha_zero_stays_finite() => Assert.All(new[] { CenteredAlphaZero<float>(), CenteredAlphaZero<double>() }, Assert.True);

    private static bool CenteredAlphaZero<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int n = 1000;
        var rms = new RmsProp<T>(n, learningRate: 0.5, alpha: 0, epsilon: 0.5, centered: true);
        T[] theta = new T[n];
        for (int t = 1; t <= 3; t++)
            rms.Step(theta, Generated.Harness.Random<T>(n, t));
        return theta.All(T.IsFinite);
    }

    // PyTorch's grad_avg.lerp_(grad, 1 − α) counts from the end for 1 − α ≥ ½ (g − (g − a)·α): at α = 0 the average is the
    // gradient itself, v − a² is exactly 0 and d is ε, bit for bit; a + (1 − α)·(g − a) left a a rounding away from g from the
    // second step on, and d a square root of that rounding above ε
    [Fact]
    public void Centered_RmsProp_with_alpha_zero_divides_by_epsilon_exactly_as_PyTorchs_lerp_makes_it() =>
        Assert.All(new[] { CenteredAlphaZeroExact<float>(), CenteredAlphaZeroExact<double>() }, Assert.True);

    private static bool CenteredAlphaZeroExact<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int n = 1000;
        var rms = new RmsProp<T>(n, learningRate: 0.5, alpha: 0, epsilon: 0.5, centered: true);
        T[] theta = new T[n], expected = new T[n];
        T lr = T.CreateTruncating(0.5), epsilon = T.CreateTruncating(0.5);
        for (int t = 1; t <= 4; t++)
        {
            T[] g = Generated.Harness.Random<T>(n, t);
            for (int i = 0; i < n; i++) expected[i] -= lr * g[i] / epsilon;
            rms.Step(theta, g);
        }
        return theta.AsSpan().SequenceEqual(expected);
    }

    [Fact]
    public void Learning_rate_set_between_steps_is_used_by_the_next_step()
    {
        // A schedule drives the optimizer; the reference gets the same rates, computed here by hand.
        const int n = 37;
        var schedule = new StepDecaySchedule(0.2, stepSize: 2, gamma: 0.5);
        double[] rates = [0.2, 0.2, 0.1, 0.1, 0.05, 0.05];
        var optimizer = new Sgd<double>(n, momentum: 0.9);
        var reference = new ReferenceSgd(n, lr: 0, momentum: 0.9);
        double[] parameters = InitialParameters<double>(n), expected = (double[])parameters.Clone();
        for (int t = 1; t <= Steps; t++)
        {
            optimizer.LearningRate = schedule.LearningRate(optimizer.StepCount);
            reference.Lr = rates[t - 1];
            double[] gradient = Gradient<double>(n, t);
            optimizer.Step(parameters, gradient);
            reference.Step(expected, gradient);
        }
        AssertClose(expected, parameters.AsSpan(), "scheduled SGD");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Reset_starts_over_as_a_new_optimizer(string name, int n)
    {
        var used = Create<double>(name, n);
        double[] scratch = InitialParameters<double>(n);
        for (int t = 1; t <= 3; t++) used.Step(scratch, Gradient<double>(n, t + 5));
        double rate = used.LearningRate;
        used.Reset();
        Assert.Equal(0, used.StepCount);
        Assert.Equal(rate, used.LearningRate);

        var fresh = Create<double>(name, n);
        double[] a = InitialParameters<double>(n), b = InitialParameters<double>(n);
        for (int t = 1; t <= 3; t++)
        {
            used.Step(a, Gradient<double>(n, t));
            fresh.Step(b, Gradient<double>(n, t));
        }
        Assert.Equal(b, a);
        Assert.Equal(fresh.State.ToArray(), used.State.ToArray());
    }

    [Fact]
    public void Restoring_State_and_StepCount_resumes_exactly()
    {
        const int n = 37;
        var original = new Adam<float>(n, learningRate: 0.01, amsgrad: true);
        float[] p = InitialParameters<float>(n);
        for (int t = 1; t <= 3; t++) original.Step(p, Gradient<float>(n, t));

        var resumed = new Adam<float>(n, learningRate: 0.01, amsgrad: true);
        original.State.CopyTo(resumed.State);
        resumed.StepCount = original.StepCount;
        float[] q = (float[])p.Clone();
        for (int t = 4; t <= Steps; t++)
        {
            original.Step(p, Gradient<float>(n, t));
            resumed.Step(q, Gradient<float>(n, t));
        }
        Assert.Equal(p, q);
    }

    [Fact]
    public void State_sizes_follow_the_algorithm()
    {
        const int n = 10;
        Assert.Equal(0, new Sgd<float>(n).State.Length);
        Assert.Equal(n, new Sgd<float>(n, momentum: 0.9).State.Length);
        Assert.Equal(n, new Adagrad<float>(n).State.Length);
        Assert.Equal(n, new RmsProp<float>(n).State.Length);
        Assert.Equal(3 * n, new RmsProp<float>(n, momentum: 0.5, centered: true).State.Length);
        Assert.Equal(2 * n, new Adam<float>(n).State.Length);
        Assert.Equal(3 * n, new AdamW<float>(n, amsgrad: true).State.Length);
        Assert.All(new Adagrad<double>(n, initialAccumulatorValue: 0.25).State.ToArray(), s => Assert.Equal(0.25, s));
    }

    [Fact]
    public void Defaults_are_PyTorchs()
    {
        var sgd = new Sgd<float>(1);
        Assert.Equal((1e-3, 0.0, 0.0, 0.0, false), (sgd.LearningRate, sgd.Momentum, sgd.Dampening, sgd.WeightDecay, sgd.Nesterov));
        var adagrad = new Adagrad<float>(1);
        Assert.Equal((1e-2, 0.0, 0.0, 0.0, 1e-10), (adagrad.LearningRate, adagrad.LearningRateDecay, adagrad.WeightDecay, adagrad.InitialAccumulatorValue, adagrad.Epsilon));
        var rms = new RmsProp<float>(1);
        Assert.Equal((1e-2, 0.99, 1e-8, 0.0, 0.0, false), (rms.LearningRate, rms.Alpha, rms.Epsilon, rms.WeightDecay, rms.Momentum, rms.Centered));
        var adam = new Adam<float>(1);
        Assert.Equal((1e-3, 0.9, 0.999, 1e-8, 0.0, false, false), (adam.LearningRate, adam.Beta1, adam.Beta2, adam.Epsilon, adam.WeightDecay, adam.AmsGrad, adam.DecoupledWeightDecay));
        var adamW = new AdamW<float>(1);
        Assert.Equal((1e-3, 0.9, 0.999, 1e-8, 1e-2, false, true), (adamW.LearningRate, adamW.Beta1, adamW.Beta2, adamW.Epsilon, adamW.WeightDecay, adamW.AmsGrad, adamW.DecoupledWeightDecay));
    }
}
