using System.Numerics;
using System.Runtime.CompilerServices;

namespace RnnGen;

/// <summary>
/// RMSprop, optionally centered and with momentum — <c>torch.optim.RMSprop</c>, same hyper-parameter names and defaults.
/// </summary>
/// <remarks>
/// <para>Step with learning rate γ, smoothing α, ε, weight decay λ, momentum μ, for every element:</para>
/// <code>
/// g ← ∇θ
/// if λ ≠ 0:  g ← g + λ·θ
/// v ← α·v + (1 − α)·g²
/// if centered:  a ← α·a + (1 − α)·g (rounded as PyTorch's lerp) ;  d ← √max(v − a², 0) + ε (PyTorch: √(v − a²), NaN where
///                rounding leaves it below 0)
/// else:         d ← √v + ε
/// if μ &gt; 0:  b ← μ·b + g / d ;  θ ← θ − γ·b
/// else:       θ ← θ − γ·g / d
/// </code>
/// <para>
/// State (in this order in <see cref="Optimizer{T}.State"/>): the square average v; the gradient average a when
/// centered; the momentum buffer b when μ &gt; 0. All start at zero.
/// </para>
/// </remarks>
public sealed class RmsProp<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates an RMSprop optimizer for <paramref name="parameterCount"/> parameters.</summary>
    /// <param name="parameterCount">Length of the parameter and gradient spans.</param>
    /// <param name="learningRate">γ (PyTorch default 1e-2).</param>
    /// <param name="alpha">Smoothing constant α in [0, 1] (default 0.99; PyTorch checks only α ≥ 0, but above 1 every update is NaN).</param>
    /// <param name="epsilon">ε ≥ 0 added to the denominator (default 1e-8).</param>
    /// <param name="weightDecay">λ ≥ 0, L2 penalty added to the gradient (default 0).</param>
    /// <param name="momentum">μ ≥ 0 (default 0).</param>
    /// <param name="centered">Normalise by an estimate of the gradient's variance instead of its second moment (default false).</param>
    public RmsProp(int parameterCount, double learningRate = 1e-2, double alpha = 0.99, double epsilon = 1e-8,
        double weightDecay = 0, double momentum = 0, bool centered = false)
        : base(parameterCount, learningRate, 1 + (centered ? 1 : 0) + (momentum > 0 ? 1 : 0))
    {
        HyperParameter.CheckClosedUnitInterval(alpha, nameof(alpha)); // above 1 the square average turns negative: √ of it is NaN
        HyperParameter.CheckNonNegative<T>(epsilon, nameof(epsilon));
        HyperParameter.CheckNonNegative<T>(weightDecay, nameof(weightDecay));
        HyperParameter.CheckNonNegative<T>(momentum, nameof(momentum));
        Alpha = alpha;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
        Momentum = momentum;
        Centered = centered;
    }

    /// <summary>Smoothing constant α.</summary>
    public double Alpha { get; }

    /// <summary>ε added to the denominator.</summary>
    public double Epsilon { get; }

    /// <summary>L2 weight decay λ (added to the gradient).</summary>
    public double WeightDecay { get; }

    /// <summary>Momentum factor μ.</summary>
    public double Momentum { get; }

    /// <summary>Whether the centered variant is used.</summary>
    public bool Centered { get; }

    /// <inheritdoc/>
    protected override void Update(Span<T> parameters, ReadOnlySpan<T> gradients, long step)
        => Fused(parameters, gradients, default, step, GradientTransform<T>.None, start: 0, checkFinite: false);

    private protected override bool Fused(Span<T> parameters, ReadOnlySpan<T> gradients, Span<T> transformed, long step, in GradientTransform<T> transform, int start, bool checkFinite)
    {
        T oneMinusAlpha = Elementwise.Round<T>(1 - Alpha); // the lerp's weight, as PyTorch passes it
        var rule = new Rule
        {
            LearningRate = Elementwise.Round<T>(LearningRate),
            Alpha = Elementwise.Round<T>(Alpha),
            OneMinusAlpha = oneMinusAlpha,
            LerpComplement = T.One - oneMinusAlpha,
            LerpFromEnd = T.Abs(oneMinusAlpha) >= T.CreateTruncating(0.5),
            Epsilon = Elementwise.Round<T>(Epsilon),
            WeightDecay = Elementwise.Round<T>(WeightDecay),
            Momentum = Elementwise.Round<T>(Momentum),
            HasWeightDecay = WeightDecay != 0,
            HasMomentum = Momentum > 0,
            Centered = Centered,
        };
        Span<T> gradientAverage = Centered ? StateBuffer(1).Slice(start, parameters.Length) : default;
        Span<T> momentumBuffer = Momentum > 0 ? StateBuffer(StateBufferCount - 1).Slice(start, parameters.Length) : default;
        return Elementwise.Run(rule, transform, parameters, gradients, transformed, StateBuffer(0).Slice(start, parameters.Length), gradientAverage, momentumBuffer, checkFinite);
    }

    // v, a when centered, b with momentum (v − a² may be a rounding below 0: the step takes √max(v − a², 0))
    private protected override StateBufferMeaning? Describe(int index) =>
        index == 0 ? new("square average v", NonNegative: true)
        : Centered && index == 1 ? new("gradient average a", NonNegative: false)
        : new("momentum buffer b", NonNegative: false);

    private struct Rule : IUpdateRule<T>
    {
        public T LearningRate, Alpha, OneMinusAlpha, LerpComplement, Epsilon, WeightDecay, Momentum;
        public bool HasWeightDecay, HasMomentum, Centered, LerpFromEnd;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Apply<V>(ref V p, V g, ref V v, ref V a, ref V b) where V : struct, IVector<V, T>
        {
            V oneMinusAlpha = V.Create(OneMinusAlpha), epsilon = V.Create(Epsilon), learningRate = V.Create(LearningRate);
            if (HasWeightDecay) g += V.Create(WeightDecay) * p;
            v = V.Create(Alpha) * v + oneMinusAlpha * g * g;
            V d;
            if (Centered)
            {
                // PyTorch: grad_avg.lerp_(grad, w = 1 − α), which for w ≥ ½ counts from the end: g − (g − a)·(1 − w), so a = g
                // exactly at α = 0 (and then v − a² = 0, as in PyTorch)
                a = LerpFromEnd ? g - (g - a) * V.Create(LerpComplement) : a + oneMinusAlpha * (g - a);
                // v ≥ a² exactly, but rounding can leave v − a² a hair below 0, where √ would be NaN (PyTorch's step too): 0
                d = V.Sqrt(V.Max(v - a * a, V.Create(T.Zero))) + epsilon;
            }
            else
            {
                d = V.Sqrt(v) + epsilon;
            }
            if (HasMomentum)
            {
                b = V.Create(Momentum) * b + g / d;
                p -= learningRate * b;
            }
            else
            {
                p -= learningRate * g / d;
            }
        }
    }
}
