using System.Numerics;
using System.Runtime.CompilerServices;

namespace RnnGen;

/// <summary>
/// Adagrad — <c>torch.optim.Adagrad</c>, same hyper-parameter names and defaults.
/// </summary>
/// <remarks>
/// <para>Step t (1-based) with learning rate γ, learning-rate decay η, weight decay λ, ε, for every element:</para>
/// <code>
/// γ̃ ← γ / (1 + (t − 1)·η)                  (computed in double)
/// g ← ∇θ
/// if λ ≠ 0:  g ← g + λ·θ
/// s ← s + g²                               (s starts at initial_accumulator_value)
/// θ ← θ − γ̃·g / (√s + ε)
/// </code>
/// <para>State: one buffer, the sum of squares s.</para>
/// </remarks>
public sealed class Adagrad<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates an Adagrad optimizer for <paramref name="parameterCount"/> parameters.</summary>
    /// <param name="parameterCount">Length of the parameter and gradient spans.</param>
    /// <param name="learningRate">γ (PyTorch default 1e-2).</param>
    /// <param name="learningRateDecay">η ≥ 0 (default 0).</param>
    /// <param name="weightDecay">λ ≥ 0, L2 penalty added to the gradient (default 0).</param>
    /// <param name="initialAccumulatorValue">Starting value of s, ≥ 0 (default 0).</param>
    /// <param name="epsilon">ε ≥ 0 added to √s (default 1e-10).</param>
    public Adagrad(int parameterCount, double learningRate = 1e-2, double learningRateDecay = 0, double weightDecay = 0,
        double initialAccumulatorValue = 0, double epsilon = 1e-10)
        : base(parameterCount, learningRate, stateBufferCount: 1)
    {
        HyperParameter.CheckNonNegative<T>(learningRateDecay, nameof(learningRateDecay));
        HyperParameter.CheckNonNegative<T>(weightDecay, nameof(weightDecay));
        HyperParameter.CheckNonNegative<T>(initialAccumulatorValue, nameof(initialAccumulatorValue));
        HyperParameter.CheckNonNegative<T>(epsilon, nameof(epsilon));
        LearningRateDecay = learningRateDecay;
        WeightDecay = weightDecay;
        InitialAccumulatorValue = initialAccumulatorValue;
        Epsilon = epsilon;
        ResetState();
    }

    /// <summary>Learning-rate decay η.</summary>
    public double LearningRateDecay { get; }

    /// <summary>L2 weight decay λ (added to the gradient).</summary>
    public double WeightDecay { get; }

    /// <summary>Starting value of the sum of squares.</summary>
    public double InitialAccumulatorValue { get; }

    /// <summary>ε added to the denominator.</summary>
    public double Epsilon { get; }

    /// <inheritdoc/>
    protected override void Update(Span<T> parameters, ReadOnlySpan<T> gradients, long step)
        => Fused(parameters, gradients, default, step, GradientTransform<T>.None, start: 0, checkFinite: false);

    private protected override bool Fused(Span<T> parameters, ReadOnlySpan<T> gradients, Span<T> transformed, long step, in GradientTransform<T> transform, int start, bool checkFinite)
    {
        var rule = new Rule
        {
            LearningRate = Elementwise.Round<T>(LearningRate / (1 + (step - 1) * LearningRateDecay)),
            WeightDecay = Elementwise.Round<T>(WeightDecay),
            Epsilon = Elementwise.Round<T>(Epsilon),
            HasWeightDecay = WeightDecay != 0,
        };
        return Elementwise.Run(rule, transform, parameters, gradients, transformed, StateBuffer(0).Slice(start, parameters.Length), default, default, checkFinite);
    }

    /// <summary>Sets the sum of squares to <see cref="InitialAccumulatorValue"/>.</summary>
    protected override void ResetState() => StateBuffer(0).Fill(T.CreateTruncating(InitialAccumulatorValue));

    private protected override StateBufferMeaning? Describe(int index) => new("sum of squares s", NonNegative: true);

    private struct Rule : IUpdateRule<T>
    {
        public T LearningRate, WeightDecay, Epsilon;
        public bool HasWeightDecay;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Apply<V>(ref V p, V g, ref V sum, ref V unused1, ref V unused2) where V : struct, IVector<V, T>
        {
            if (HasWeightDecay) g += V.Create(WeightDecay) * p;
            sum += g * g;
            p -= V.Create(LearningRate) * g / (V.Sqrt(sum) + V.Create(Epsilon));
        }
    }
}
