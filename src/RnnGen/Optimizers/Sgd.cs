using System.Numerics;
using System.Runtime.CompilerServices;

namespace RnnGen;

/// <summary>
/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and (L2) weight decay —
/// <c>torch.optim.SGD</c>, same hyper-parameter names and defaults.
/// </summary>
/// <remarks>
/// <para>Step t (1-based) with learning rate γ, momentum μ, dampening τ, weight decay λ, for every element:</para>
/// <code>
/// g ← ∇θ                                   (the gradient)
/// if λ ≠ 0:  g ← g + λ·θ
/// if μ ≠ 0:  b ← (t = 1) ? g : μ·b + (1 − τ)·g      (PyTorch's first-step buffer is the gradient itself)
///            g ← nesterov ? g + μ·b : b
/// θ ← θ − γ·g
/// </code>
/// <para>State: one buffer b (the momentum buffer) when μ ≠ 0, none otherwise.</para>
/// </remarks>
public sealed class Sgd<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates an SGD optimizer for <paramref name="parameterCount"/> parameters.</summary>
    /// <param name="parameterCount">Length of the parameter and gradient spans.</param>
    /// <param name="learningRate">γ (PyTorch default 1e-3).</param>
    /// <param name="momentum">μ ≥ 0 (default 0: plain SGD).</param>
    /// <param name="dampening">τ ≥ 0, scales the gradient's contribution to the momentum buffer by 1 − τ (default 0).</param>
    /// <param name="weightDecay">λ ≥ 0, L2 penalty added to the gradient (default 0).</param>
    /// <param name="nesterov">Nesterov momentum; requires μ &gt; 0 and τ = 0 (as in PyTorch).</param>
    public Sgd(int parameterCount, double learningRate = 1e-3, double momentum = 0, double dampening = 0,
        double weightDecay = 0, bool nesterov = false)
        : base(parameterCount, learningRate, momentum != 0 ? 1 : 0)
    {
        HyperParameter.CheckNonNegative<T>(momentum, nameof(momentum));
        HyperParameter.CheckNonNegative<T>(dampening, nameof(dampening));
        HyperParameter.CheckNonNegative<T>(weightDecay, nameof(weightDecay));
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException("Nesterov momentum requires momentum > 0 and dampening = 0.", nameof(nesterov));
        Momentum = momentum;
        Dampening = dampening;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
    }

    /// <summary>Momentum factor μ.</summary>
    public double Momentum { get; }

    /// <summary>Dampening τ of the momentum buffer.</summary>
    public double Dampening { get; }

    /// <summary>L2 weight decay λ (added to the gradient).</summary>
    public double WeightDecay { get; }

    /// <summary>Whether Nesterov momentum is used.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc/>
    protected override void Update(Span<T> parameters, ReadOnlySpan<T> gradients, long step)
        => Fused(parameters, gradients, default, step, GradientTransform<T>.None, start: 0, checkFinite: false);

    private protected override bool Fused(Span<T> parameters, ReadOnlySpan<T> gradients, Span<T> transformed, long step, in GradientTransform<T> transform, int start, bool checkFinite)
    {
        var rule = new Rule
        {
            LearningRate = Elementwise.Round<T>(LearningRate),
            WeightDecay = Elementwise.Round<T>(WeightDecay),
            Momentum = Elementwise.Round<T>(Momentum),
            GradientScale = Elementwise.Round<T>(1 - Dampening),
            HasWeightDecay = WeightDecay != 0,
            HasMomentum = Momentum != 0,
            FirstStep = step == 1,
            Nesterov = Nesterov,
        };
        Span<T> buffer = Momentum != 0 ? StateBuffer(0).Slice(start, parameters.Length) : default;
        return Elementwise.Run(rule, transform, parameters, gradients, transformed, buffer, default, default, checkFinite);
    }

    private protected override StateBufferMeaning? Describe(int index) => new("momentum buffer b", NonNegative: false);

    private struct Rule : IUpdateRule<T>
    {
        public T LearningRate, WeightDecay, Momentum, GradientScale;
        public bool HasWeightDecay, HasMomentum, FirstStep, Nesterov;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Apply<V>(ref V p, V g, ref V b, ref V unused1, ref V unused2) where V : struct, IVector<V, T>
        {
            if (HasWeightDecay) g += V.Create(WeightDecay) * p;
            if (HasMomentum)
            {
                V momentum = V.Create(Momentum);
                b = FirstStep ? g : momentum * b + V.Create(GradientScale) * g;
                g = Nesterov ? g + momentum * b : b;
            }
            p -= V.Create(LearningRate) * g;
        }
    }
}
