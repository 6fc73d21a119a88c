using System.Numerics;
using System.Runtime.CompilerServices;

namespace RnnGen;

/// <summary>
/// Adam, optionally AMSGrad — <c>torch.optim.Adam</c>, same hyper-parameter names and defaults. Weight decay is an
/// L2 penalty added to the gradient (coupled) unless <c>decoupledWeightDecay</c> is set, which makes it AdamW
/// (see <see cref="AdamW{T}"/>, whose default weight decay is 1e-2).
/// </summary>
/// <remarks>
/// <para>Step t (1-based) with learning rate γ, β₁, β₂, ε, weight decay λ, for every element:</para>
/// <code>
/// g ← ∇θ
/// if λ ≠ 0:  decoupled ? θ ← θ·(1 − γλ) : g ← g + λ·θ
/// m ← β₁·m + (1 − β₁)·g
/// v ← β₂·v + (1 − β₂)·g²
/// if amsgrad:  v_max ← max(v_max, v) ;  u ← v_max  else  u ← v
/// θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√u / √(1 − β₂ᵗ) + ε)
/// </code>
/// <para>
/// which is θ − γ·m̂ / (√v̂ + ε) with the bias-corrected m̂ = m / (1 − β₁ᵗ), v̂ = u / (1 − β₂ᵗ), arranged as PyTorch computes
/// it (the bias corrections, γ/(1 − β₁ᵗ), √(1 − β₂ᵗ) and 1 − γλ are computed in double). As in PyTorch's implementation,
/// AMSGrad keeps the maximum of the uncorrected v.
/// </para>
/// <para>State (in this order in <see cref="Optimizer{T}.State"/>): m, v, and v_max when amsgrad. All start at zero.</para>
/// </remarks>
public class Adam<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates an Adam optimizer for <paramref name="parameterCount"/> parameters.</summary>
    /// <param name="parameterCount">Length of the parameter and gradient spans.</param>
    /// <param name="learningRate">γ (PyTorch default 1e-3).</param>
    /// <param name="beta1">β₁ in [0, 1), decay of the first moment (default 0.9).</param>
    /// <param name="beta2">β₂ in [0, 1), decay of the second moment (default 0.999).</param>
    /// <param name="epsilon">ε ≥ 0 added to the denominator (default 1e-8).</param>
    /// <param name="weightDecay">λ ≥ 0 (default 0).</param>
    /// <param name="amsgrad">Use the AMSGrad variant (default false).</param>
    /// <param name="decoupledWeightDecay">Decay the weights directly (AdamW) instead of adding λθ to the gradient (default false).</param>
    public Adam(int parameterCount, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double epsilon = 1e-8, double weightDecay = 0, bool amsgrad = false, bool decoupledWeightDecay = false)
        : base(parameterCount, learningRate, amsgrad ? 3 : 2)
    {
        HyperParameter.CheckUnitInterval(beta1, nameof(beta1));
        HyperParameter.CheckUnitInterval(beta2, nameof(beta2));
        HyperParameter.CheckNonNegative<T>(epsilon, nameof(epsilon));
        HyperParameter.CheckNonNegative<T>(weightDecay, nameof(weightDecay));
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
        AmsGrad = amsgrad;
        DecoupledWeightDecay = decoupledWeightDecay;
    }

    /// <summary>β₁, decay rate of the first-moment estimate m.</summary>
    public double Beta1 { get; }

    /// <summary>β₂, decay rate of the second-moment estimate v.</summary>
    public double Beta2 { get; }

    /// <summary>ε added to the denominator.</summary>
    public double Epsilon { get; }

    /// <summary>Weight decay λ: an L2 penalty added to the gradient, or a direct decay when <see cref="DecoupledWeightDecay"/>.</summary>
    public double WeightDecay { get; }

    /// <summary>Whether the AMSGrad variant is used.</summary>
    public bool AmsGrad { get; }

    /// <summary>Whether weight decay is decoupled from the gradient (AdamW): θ ← θ·(1 − γλ) before the Adam update.</summary>
    public bool DecoupledWeightDecay { get; }

    /// <inheritdoc/>
    protected override void Update(Span<T> parameters, ReadOnlySpan<T> gradients, long step)
        => Fused(parameters, gradients, default, step, GradientTransform<T>.None, start: 0, checkFinite: false);

    private protected override bool Fused(Span<T> parameters, ReadOnlySpan<T> gradients, Span<T> transformed, long step, in GradientTransform<T> transform, int start, bool checkFinite)
    {
        double biasCorrection1 = 1 - Math.Pow(Beta1, step);
        double biasCorrection2 = 1 - Math.Pow(Beta2, step);
        bool hasWeightDecay = WeightDecay != 0;
        var rule = new Rule
        {
            StepSize = Elementwise.Round<T>(LearningRate / biasCorrection1),
            BiasCorrection2Sqrt = Elementwise.Round<T>(Math.Sqrt(biasCorrection2)),
            Beta2 = Elementwise.Round<T>(Beta2),
            OneMinusBeta1 = Elementwise.Round<T>(1 - Beta1),
            OneMinusBeta2 = Elementwise.Round<T>(1 - Beta2),
            Epsilon = Elementwise.Round<T>(Epsilon),
            WeightDecay = Elementwise.Round<T>(WeightDecay),
            DecayFactor = Elementwise.Round<T>(1 - LearningRate * WeightDecay),
            CoupledDecay = hasWeightDecay && !DecoupledWeightDecay,
            DecoupledDecay = hasWeightDecay && DecoupledWeightDecay,
            AmsGrad = AmsGrad,
        };
        return Elementwise.Run(rule, transform, parameters, gradients, transformed, StateBuffer(0).Slice(start, parameters.Length), StateBuffer(1).Slice(start, parameters.Length), AmsGrad ? StateBuffer(2).Slice(start, parameters.Length) : default, checkFinite);
    }

    // m, v, and v_max with amsgrad
    private protected override StateBufferMeaning? Describe(int index) => index switch
    {
        0 => new("first moment m", NonNegative: false),
        1 => new("second moment v", NonNegative: true),
        _ => new("maximum second moment v_max", NonNegative: true),
    };

    private struct Rule : IUpdateRule<T>
    {
        public T StepSize, BiasCorrection2Sqrt, Beta2, OneMinusBeta1, OneMinusBeta2, Epsilon, WeightDecay, DecayFactor;
        public bool CoupledDecay, DecoupledDecay, AmsGrad;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Apply<V>(ref V p, V g, ref V m, ref V v, ref V vMax) where V : struct, IVector<V, T>
        {
            if (CoupledDecay) g += V.Create(WeightDecay) * p;
            if (DecoupledDecay) p *= V.Create(DecayFactor);
            m += V.Create(OneMinusBeta1) * (g - m);           // PyTorch: exp_avg.lerp_(grad, 1 − β₁)
            v = V.Create(Beta2) * v + V.Create(OneMinusBeta2) * g * g;
            V u = v;
            if (AmsGrad)
            {
                vMax = V.Max(vMax, v);
                u = vMax;
            }
            p -= V.Create(StepSize) * m / (V.Sqrt(u) / V.Create(BiasCorrection2Sqrt) + V.Create(Epsilon));
        }
    }
}
