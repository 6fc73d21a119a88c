using System.Numerics;

namespace RnnGen.Tests.Optimizers;

/// <summary>
/// Named optimizer configurations: each builds the runtime optimizer and the independent double reference with the same
/// hyper-parameters, plus the deterministic test data (parameters and a gradient sequence) rounded to T.
/// </summary>
internal static class OptimizerCases
{
    public static readonly string[] Names =
    [
        "sgd", "sgd-weight-decay", "sgd-momentum", "sgd-momentum-dampening", "sgd-nesterov-weight-decay", "sgd-defaults",
        "adagrad", "adagrad-lr-decay", "adagrad-weight-decay-accumulator-eps", "adagrad-defaults",
        "rmsprop-defaults", "rmsprop-centered", "rmsprop-momentum", "rmsprop-centered-momentum-weight-decay",
        "adam", "adam-defaults", "adam-weight-decay", "adam-amsgrad", "adam-betas-eps", "adam-decoupled-weight-decay",
        "adamw-defaults", "adamw", "adamw-amsgrad",
    ];

    public static Optimizer<T> Create<T>(string name, int n) where T : unmanaged, IFloatingPointIeee754<T> => name switch
    {
        "sgd" => new Sgd<T>(n, learningRate: 0.1),
        "sgd-weight-decay" => new Sgd<T>(n, learningRate: 0.1, weightDecay: 0.3),
        "sgd-momentum" => new Sgd<T>(n, learningRate: 0.05, momentum: 0.9),
        "sgd-momentum-dampening" => new Sgd<T>(n, learningRate: 0.05, momentum: 0.9, dampening: 0.3),
        "sgd-nesterov-weight-decay" => new Sgd<T>(n, learningRate: 0.05, momentum: 0.9, weightDecay: 0.1, nesterov: true),
        "sgd-defaults" => new Sgd<T>(n),
        "adagrad" => new Adagrad<T>(n, learningRate: 0.1),
        "adagrad-lr-decay" => new Adagrad<T>(n, learningRate: 0.1, learningRateDecay: 0.5),
        "adagrad-weight-decay-accumulator-eps" => new Adagrad<T>(n, learningRate: 0.1, weightDecay: 0.2, initialAccumulatorValue: 0.3, epsilon: 1e-3),
        "adagrad-defaults" => new Adagrad<T>(n),
        "rmsprop-defaults" => new RmsProp<T>(n),
        "rmsprop-centered" => new RmsProp<T>(n, centered: true),
        "rmsprop-momentum" => new RmsProp<T>(n, momentum: 0.8),
        "rmsprop-centered-momentum-weight-decay" => new RmsProp<T>(n, learningRate: 0.01, alpha: 0.9, epsilon: 1e-6, weightDecay: 0.1, momentum: 0.5, centered: true),
        "adam" => new Adam<T>(n, learningRate: 0.01),
        "adam-defaults" => new Adam<T>(n),
        "adam-weight-decay" => new Adam<T>(n, learningRate: 0.01, weightDecay: 0.1),
        "adam-amsgrad" => new Adam<T>(n, learningRate: 0.01, beta2: 0.9, amsgrad: true),
        "adam-betas-eps" => new Adam<T>(n, learningRate: 0.02, beta1: 0.5, beta2: 0.8, epsilon: 1e-3),
        "adam-decoupled-weight-decay" => new Adam<T>(n, learningRate: 0.01, weightDecay: 0.1, decoupledWeightDecay: true),
        "adamw-defaults" => new AdamW<T>(n),
        "adamw" => new AdamW<T>(n, learningRate: 0.05, weightDecay: 0.5),
        "adamw-amsgrad" => new AdamW<T>(n, learningRate: 0.05, beta2: 0.9, weightDecay: 0.5, amsgrad: true),
        _ => throw new ArgumentException($"unknown case {name}", nameof(name)),
    };

    // PyTorch's defaults are spelled out here on purpose (not taken from the runtime's default arguments).
    public static IReferenceOptimizer Reference(string name, int n) => name switch
    {
        "sgd" => new ReferenceSgd(n, lr: 0.1),
        "sgd-weight-decay" => new ReferenceSgd(n, lr: 0.1, weightDecay: 0.3),
        "sgd-momentum" => new ReferenceSgd(n, lr: 0.05, momentum: 0.9),
        "sgd-momentum-dampening" => new ReferenceSgd(n, lr: 0.05, momentum: 0.9, dampening: 0.3),
        "sgd-nesterov-weight-decay" => new ReferenceSgd(n, lr: 0.05, momentum: 0.9, weightDecay: 0.1, nesterov: true),
        "sgd-defaults" => new ReferenceSgd(n, lr: 1e-3),
        "adagrad" => new ReferenceAdagrad(n, lr: 0.1),
        "adagrad-lr-decay" => new ReferenceAdagrad(n, lr: 0.1, lrDecay: 0.5),
        "adagrad-weight-decay-accumulator-eps" => new ReferenceAdagrad(n, lr: 0.1, weightDecay: 0.2, initialAccumulator: 0.3, eps: 1e-3),
        "adagrad-defaults" => new ReferenceAdagrad(n, lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulator: 0, eps: 1e-10),
        "rmsprop-defaults" => new ReferenceRmsProp(n, lr: 1e-2, alpha: 0.99, eps: 1e-8),
        "rmsprop-centered" => new ReferenceRmsProp(n, lr: 1e-2, centered: true),
        "rmsprop-momentum" => new ReferenceRmsProp(n, lr: 1e-2, momentum: 0.8),
        "rmsprop-centered-momentum-weight-decay" => new ReferenceRmsProp(n, lr: 0.01, alpha: 0.9, eps: 1e-6, weightDecay: 0.1, momentum: 0.5, centered: true),
        "adam" => new ReferenceAdam(n, lr: 0.01),
        "adam-defaults" => new ReferenceAdam(n, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0),
        "adam-weight-decay" => new ReferenceAdam(n, lr: 0.01, weightDecay: 0.1),
        "adam-amsgrad" => new ReferenceAdam(n, lr: 0.01, beta2: 0.9, amsgrad: true),
        "adam-betas-eps" => new ReferenceAdam(n, lr: 0.02, beta1: 0.5, beta2: 0.8, eps: 1e-3),
        "adam-decoupled-weight-decay" => new ReferenceAdam(n, lr: 0.01, weightDecay: 0.1, decoupled: true),
        "adamw-defaults" => new ReferenceAdam(n, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-2, decoupled: true),
        "adamw" => new ReferenceAdam(n, lr: 0.05, weightDecay: 0.5, decoupled: true),
        "adamw-amsgrad" => new ReferenceAdam(n, lr: 0.05, beta2: 0.9, weightDecay: 0.5, amsgrad: true, decoupled: true),
        _ => throw new ArgumentException($"unknown case {name}", nameof(name)),
    };

    /// <summary>Initial parameters θ₀[i] = 0.8·cos(0.37 i), rounded to T.</summary>
    public static T[] InitialParameters<T>(int n) where T : unmanaged, IFloatingPointIeee754<T>
        => Enumerable.Range(0, n).Select(i => T.CreateTruncating(0.8 * Math.Cos(0.37 * i))).ToArray();

    /// <summary>
    /// Gradient of step t (1-based): 3·sin(1.7 i + 0.9 t) / t², rounded to T. Shrinking gradients make AMSGrad's running
    /// maximum differ from v, and the sign changes make momentum matter.
    /// </summary>
    public static T[] Gradient<T>(int n, int t) where T : unmanaged, IFloatingPointIeee754<T>
        => Enumerable.Range(0, n).Select(i => T.CreateTruncating(3 * Math.Sin(1.7 * i + 0.9 * t) / (t * t))).ToArray();

    public static double[] ToDouble<T>(T[] values) where T : unmanaged, IFloatingPointIeee754<T>
        => values.Select(double.CreateTruncating).ToArray();

    /// <summary>
    /// Allowed |actual − expected| per unit of max(1, |expected|): float keeps ~7 significant digits, and a few steps of
    /// roughly ten rounded operations each stay well within 4e-6 (≈ 30 ulp at 1.0); double within 1e-12.
    /// </summary>
    public static double Tolerance<T>() => typeof(T) == typeof(float) ? 4e-6 : 1e-12;

    public static void AssertClose<T>(double[] expected, ReadOnlySpan<T> actual, string what) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Assert.Equal(expected.Length, actual.Length);
        double tolerance = Tolerance<T>();
        for (int i = 0; i < expected.Length; i++)
        {
            double a = double.CreateTruncating(actual[i]);
            double error = Math.Abs(a - expected[i]);
            Assert.True(error <= tolerance * Math.Max(1, Math.Abs(expected[i])),
                $"{what}: element {i} is {a:R}, expected {expected[i]:R} (error {error:E2}, tolerance {tolerance:E0}).");
        }
    }
}
