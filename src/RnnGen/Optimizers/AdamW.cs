using System.Numerics;

namespace RnnGen;

/// <summary>
/// AdamW: Adam with decoupled weight decay — <c>torch.optim.AdamW</c>, same hyper-parameter names and defaults
/// (weight decay 1e-2).
/// </summary>
/// <remarks>
/// <para>Step t (1-based) with learning rate γ, β₁, β₂, ε, weight decay λ, for every element:</para>
/// <code>
/// θ ← θ·(1 − γλ)                           (decoupled: the gradient is not changed)
/// m ← β₁·m + (1 − β₁)·g
/// v ← β₂·v + (1 − β₂)·g²
/// if amsgrad:  v_max ← max(v_max, v) ;  u ← v_max  else  u ← v
/// θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√u / √(1 − β₂ᵗ) + ε)
/// </code>
/// <para>This is <see cref="Adam{T}"/> with <c>decoupledWeightDecay: true</c>, as in PyTorch; state as in <see cref="Adam{T}"/>.</para>
/// </remarks>
public sealed class AdamW<T> : Adam<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates an AdamW optimizer for <paramref name="parameterCount"/> parameters.</summary>
    /// <param name="parameterCount">Length of the parameter and gradient spans.</param>
    /// <param name="learningRate">γ (PyTorch default 1e-3).</param>
    /// <param name="beta1">β₁ in [0, 1) (default 0.9).</param>
    /// <param name="beta2">β₂ in [0, 1) (default 0.999).</param>
    /// <param name="epsilon">ε ≥ 0 added to the denominator (default 1e-8).</param>
    /// <param name="weightDecay">Decoupled weight decay λ ≥ 0 (PyTorch default 1e-2).</param>
    /// <param name="amsgrad">Use the AMSGrad variant (default false).</param>
    public AdamW(int parameterCount, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double epsilon = 1e-8, double weightDecay = 1e-2, bool amsgrad = false)
        : base(parameterCount, learningRate, beta1, beta2, epsilon, weightDecay, amsgrad, decoupledWeightDecay: true)
    {
    }
}
