using System.Numerics;
using System.Numerics.Tensors;

namespace RnnGen;

/// <summary>
/// Gradient clipping over one flat gradient buffer (e.g. a model's <c>Gradients</c>), with PyTorch's semantics
/// (<c>torch.nn.utils.clip_grad_norm_</c> and <c>clip_grad_value_</c>). Allocation-free, SIMD, one pass over the gradients
/// (with ordinary stores, so that gradients that fit in the caches stay there for the optimizer step).
/// </summary>
public static class GradientClipping
{
    /// <summary>
    /// Rescales <paramref name="gradients"/> so that their L2 norm is at most about <paramref name="maxNorm"/>, and returns
    /// the norm before clipping. As <c>clip_grad_norm_</c>: with n = ‖g‖₂ and c = maxNorm / (n + 1e-6), the gradients
    /// are multiplied by c when c &lt; 1 and left unchanged otherwise (all arithmetic in <typeparamref name="T"/>).
    /// </summary>
    /// <param name="gradients">The gradients, scaled in place.</param>
    /// <param name="maxNorm">Largest allowed norm, &gt; 0; <c>+∞</c> only measures the norm.</param>
    /// <returns>
    /// The global L2 norm of <paramref name="gradients"/> before clipping. When a NaN or an infinity is among the gradients,
    /// they are left unchanged and the non-finite norm is returned, so that the caller can skip the step (PyTorch would
    /// instead scale by NaN). Finite gradients whose squares overflow <typeparamref name="T"/> are measured again without
    /// overflow (scaled by their largest magnitude, summed in double) and clipped by that norm, where PyTorch's norm
    /// overflows to ∞ and scales them by 0.
    /// </returns>
    public static T ClipByGlobalNorm<T>(Span<T> gradients, T maxNorm) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckMaxNorm(maxNorm, nameof(maxNorm));
        T norm = TensorPrimitives.Norm<T>(gradients);
        T measured = Measured(gradients, norm);
        if (GlobalNormScale(gradients, norm, maxNorm) is T scale)
            GradientTransform<T>.None.ThenScale(scale).Apply(gradients);
        return measured;
    }

    /// <summary>
    /// The norm <see cref="TensorPrimitives.Norm{T}(ReadOnlySpan{T})"/> gave (<paramref name="norm"/>), or, when that
    /// overflowed to +∞ although every gradient is finite, the norm measured without overflow (+∞ only if it is beyond
    /// <typeparamref name="T"/>'s range).
    /// </summary>
    internal static T Measured<T>(ReadOnlySpan<T> gradients, T norm) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!Overflowed(gradients, norm)) return norm;
        var (m, root) = ScaledNorm(gradients);
        return T.CreateTruncating(m * root);
    }

    private static bool Overflowed<T>(ReadOnlySpan<T> gradients, T norm) where T : unmanaged, IFloatingPointIeee754<T> =>
        T.IsPositiveInfinity(norm) && Finite.All(gradients);

    // ‖g‖₂ of finite values whose squares overflow, as m·root: m the largest magnitude, root = sqrt(Σ (g/m)²) in double
    // (kept apart: for double gradients near 1e308 the product itself overflows).
    private static (double M, double Root) ScaledNorm<T>(ReadOnlySpan<T> gradients) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double m = double.CreateTruncating(T.Abs(TensorPrimitives.MaxMagnitude(gradients)));
        double sum = 0;
        foreach (T g in gradients)
        {
            double x = double.CreateTruncating(g) / m;
            sum += x * x;
        }
        return (m, Math.Sqrt(sum));
    }

    /// <summary>
    /// Clamps every gradient to [−<paramref name="limit"/>, <paramref name="limit"/>], as <c>clip_grad_value_</c>
    /// (char-rnn clamps at 5). NaN stays NaN. To clip and take an optimizer step in one pass, use
    /// <see cref="Optimizer{T}.Step(Span{T}, Span{T}, T)"/> (the same bits).
    /// </summary>
    /// <param name="gradients">The gradients, clamped in place.</param>
    /// <param name="limit">The largest allowed magnitude, ≥ 0.</param>
    public static void ClipByValue<T>(Span<T> gradients, T limit) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLimit(limit, nameof(limit));
        GradientTransform<T>.Clamp(limit).Apply(gradients);
    }

    /// <summary>
    /// The factor <see cref="ClipByGlobalNorm{T}"/> multiplies the gradients by, given their norm as
    /// <see cref="TensorPrimitives.Norm{T}(ReadOnlySpan{T})"/> computes it: maxNorm / (norm + 1e-6) when that is below 1;
    /// when the norm overflowed although every gradient is finite, the same from the norm measured without overflow (in
    /// double); <c>null</c> when the gradients are left unchanged (within the norm, or not all finite).
    /// </summary>
    internal static T? GlobalNormScale<T>(ReadOnlySpan<T> gradients, T norm, T maxNorm) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!T.IsFinite(norm))
        {
            if (!Overflowed(gradients, norm))
                return null;
            // maxNorm / norm without forming the norm (the 1e-6 is far below its last bit here); only a shrinking scale
            var (m, root) = ScaledNorm(gradients);
            double s = double.CreateTruncating(maxNorm) / m / root;
            return s < 1 ? T.CreateTruncating(s) : null;
        }
        T scale = maxNorm / (norm + T.CreateTruncating(1e-6));
        return scale < T.One ? scale : null;
    }

    /// <summary>Throws unless <paramref name="limit"/> is a valid clip value (≥ 0, not NaN).</summary>
    internal static void CheckLimit<T>(T limit, string name) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!(limit >= T.Zero))
            throw new ArgumentOutOfRangeException(name, limit, $"{name} must be >= 0.");
    }

    /// <summary>Throws unless <paramref name="maxNorm"/> is a valid maximum norm (&gt; 0, not NaN).</summary>
    internal static void CheckMaxNorm<T>(T maxNorm, string name) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!(maxNorm > T.Zero))
            throw new ArgumentOutOfRangeException(name, maxNorm, $"{name} must be > 0 (use +infinity to only measure the norm).");
    }
}
