using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnGen.Oracle.Tests;

/// <summary>
/// Every optimizer and its options against TorchSharp's <c>torch.optim</c> (its port of PyTorch's update rules, on libtorch's
/// tensors), in double, step by step: the same starting parameters, a gradient that depends on the parameters (so a
/// difference in one step changes every later one), optionally clipped by global norm on both sides, and after each of 30
/// steps the parameters must agree to 1e-12. tests/RnnGen.Tests checks the same rules against plain loops written from the
/// documentation; this checks the documentation was read as libtorch's engine runs it.
/// </summary>
public class OptimizerOracleTests
{
    private const int Count = 37, Steps = 30;

    public static TheoryData<string> Cases() =>
    [
        "sgd", "sgd-weight-decay", "sgd-momentum", "sgd-momentum-dampening", "sgd-nesterov-weight-decay",
        "adagrad", "adagrad-lr-decay", "adagrad-weight-decay-accumulator-eps",
        "rmsprop", "rmsprop-centered", "rmsprop-momentum", "rmsprop-centered-momentum-weight-decay",
        "rmsprop-centered-alpha-0.3",
        "adam", "adam-weight-decay", "adam-amsgrad", "adam-betas-eps",
        "adamw", "adamw-amsgrad",
        "rmsprop-clip-norm", "adam-clip-norm",
    ];

    [Theory, MemberData(nameof(Cases))]
    public void Parameters_MatchTorchOptim_StepByStep(string name)
    {
        TorchRuntime.EnsureReady();
        double[] theta = [.. Enumerable.Range(0, Count).Select(i => 0.8 * Math.Cos(0.37 * i))];
        using var parameter = new Parameter(tensor(theta));
        using var torchOptimizer = TorchOptimizer(name, parameter);
        Optimizer<double> optimizer = RnnGenOptimizer(name);
        double? maxNorm = name.EndsWith("-clip-norm", StringComparison.Ordinal) ? 0.5 : null;

        var gradient = new double[Count];
        for (int step = 1; step <= Steps; step++)
        {
            Gradient(theta, step, gradient);
            torchOptimizer.zero_grad();
            using (no_grad())
                parameter.grad = tensor(gradient);
            if (maxNorm is { } limit)
            {
                nn.utils.clip_grad_norm_([parameter], limit);
                GradientClipping.ClipByGlobalNorm<double>(gradient, limit);
            }
            torchOptimizer.step();
            optimizer.Step(theta, gradient);

            double[] expected = parameter.data<double>().ToArray();
            for (int i = 0; i < Count; i++)
                Assert.True(Math.Abs(theta[i] - expected[i]) <= 1e-12 * Math.Max(1, Math.Abs(expected[i])),
                    $"{name}, step {step}, parameter {i}: torch.optim {expected[i]:R}, RnnGen {theta[i]:R}");
        }
    }

    /// <summary>g_i = sin(1.3 i + 0.7 k) · (1 + θ_i) + 0.2 θ_i: smooth, of both signs, and tied to the parameters.</summary>
    private static void Gradient(double[] theta, int step, double[] gradient)
    {
        for (int i = 0; i < theta.Length; i++)
            gradient[i] = Math.Sin(1.3 * i + 0.7 * step) * (1 + theta[i]) + 0.2 * theta[i];
    }

    private static optim.Optimizer TorchOptimizer(string name, Parameter p)
    {
        Parameter[] ps = [p];
        return name switch
        {
            "sgd" => optim.SGD(ps, 0.1),
            "sgd-weight-decay" => optim.SGD(ps, 0.1, 0, 0, 0.3),
            "sgd-momentum" => optim.SGD(ps, 0.05, 0.9),
            "sgd-momentum-dampening" => optim.SGD(ps, 0.05, 0.9, 0.3),
            "sgd-nesterov-weight-decay" => optim.SGD(ps, 0.05, 0.9, 0, 0.1, true),
            "adagrad" => optim.Adagrad(ps, 0.1),
            "adagrad-lr-decay" => optim.Adagrad(ps, 0.1, 0.5),
            "adagrad-weight-decay-accumulator-eps" => optim.Adagrad(ps, 0.1, 0, 0.2, 0.3, 1e-3),
            "rmsprop" or "rmsprop-clip-norm" => optim.RMSProp(ps, 2e-3, 0.95),
            "rmsprop-centered" => optim.RMSProp(ps, 1e-2, 0.99, 1e-8, 0, 0, true),
            // α < ½: PyTorch's lerp counts from the end. (Not α = 0: there v − a² is the rounding error of g², which libtorch's
            // fused addcmul keeps, NaN where it is negative; RnnGen's centered step is finite there, tests/RnnGen.Tests.)
            "rmsprop-centered-alpha-0.3" => optim.RMSProp(ps, 1e-2, 0.3, 1e-3, 0, 0, true),
            "rmsprop-momentum" => optim.RMSProp(ps, 1e-2, 0.99, 1e-8, 0, 0.8),
            "rmsprop-centered-momentum-weight-decay" => optim.RMSProp(ps, 0.01, 0.9, 1e-6, 0.1, 0.5, true),
            "adam" or "adam-clip-norm" => optim.Adam(ps, 0.01),
            "adam-weight-decay" => optim.Adam(ps, 0.01, 0.9, 0.999, 1e-8, 0.1),
            "adam-amsgrad" => optim.Adam(ps, 0.01, 0.9, 0.9, 1e-8, 0, true),
            "adam-betas-eps" => optim.Adam(ps, 0.02, 0.5, 0.8, 1e-3),
            "adamw" => optim.AdamW(ps, 0.05, 0.9, 0.999, 1e-8, 0.5),
            "adamw-amsgrad" => optim.AdamW(ps, 0.05, 0.9, 0.9, 1e-8, 0.5, true),
            _ => throw new ArgumentException($"unknown case {name}", nameof(name)),
        };
    }

    private static Optimizer<double> RnnGenOptimizer(string name) => name switch
    {
        "sgd" => new Sgd<double>(Count, learningRate: 0.1),
        "sgd-weight-decay" => new Sgd<double>(Count, learningRate: 0.1, weightDecay: 0.3),
        "sgd-momentum" => new Sgd<double>(Count, learningRate: 0.05, momentum: 0.9),
        "sgd-momentum-dampening" => new Sgd<double>(Count, learningRate: 0.05, momentum: 0.9, dampening: 0.3),
        "sgd-nesterov-weight-decay" => new Sgd<double>(Count, learningRate: 0.05, momentum: 0.9, weightDecay: 0.1, nesterov: true),
        "adagrad" => new Adagrad<double>(Count, learningRate: 0.1),
        "adagrad-lr-decay" => new Adagrad<double>(Count, learningRate: 0.1, learningRateDecay: 0.5),
        "adagrad-weight-decay-accumulator-eps" => new Adagrad<double>(Count, learningRate: 0.1, weightDecay: 0.2, initialAccumulatorValue: 0.3, epsilon: 1e-3),
        "rmsprop" or "rmsprop-clip-norm" => new RmsProp<double>(Count, learningRate: 2e-3, alpha: 0.95),
        "rmsprop-centered" => new RmsProp<double>(Count, learningRate: 1e-2, centered: true),
        "rmsprop-centered-alpha-0.3" => new RmsProp<double>(Count, learningRate: 1e-2, alpha: 0.3, epsilon: 1e-3, centered: true),
        "rmsprop-momentum" => new RmsProp<double>(Count, learningRate: 1e-2, momentum: 0.8),
        "rmsprop-centered-momentum-weight-decay" => new RmsProp<double>(Count, learningRate: 0.01, alpha: 0.9, epsilon: 1e-6, weightDecay: 0.1, momentum: 0.5, centered: true),
        "adam" or "adam-clip-norm" => new Adam<double>(Count, learningRate: 0.01),
        "adam-weight-decay" => new Adam<double>(Count, learningRate: 0.01, weightDecay: 0.1),
        "adam-amsgrad" => new Adam<double>(Count, learningRate: 0.01, beta2: 0.9, amsgrad: true),
        "adam-betas-eps" => new Adam<double>(Count, learningRate: 0.02, beta1: 0.5, beta2: 0.8, epsilon: 1e-3),
        "adamw" => new AdamW<double>(Count, learningRate: 0.05, weightDecay: 0.5),
        "adamw-amsgrad" => new AdamW<double>(Count, learningRate: 0.05, beta2: 0.9, weightDecay: 0.5, amsgrad: true),
        _ => throw new ArgumentException($"unknown case {name}", nameof(name)),
    };
}
