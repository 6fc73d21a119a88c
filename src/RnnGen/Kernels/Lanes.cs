using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RnnGen.Kernels;

/// <summary>
/// Element-wise math on <see cref="Vector{T}"/> lanes for the fused cell code that generated models emit: one
/// loop over the hidden units computes every gate, the new state and the tape record in registers. Loads and stores
/// take an H-wide span and an offset; the last, partial vector of a span is zero-padded on load and only its valid
/// lanes are stored, so any hidden size works.
/// </summary>
/// <remarks>
/// σ(x) = 1 / (1 + e^−x) and tanh(x) = 1 − 2 / (e^{2x} + 1), from the vectorised <see cref="Vector.Exp(Vector{float})"/>:
/// absolute error below 2·10⁻⁷ (float) and 4·10⁻¹⁶ (double) against <see cref="MathF.Tanh"/> / <see cref="Math.Tanh"/>
/// (tested); saturates exactly to ±1 and 0/1 for large |x|.
/// </remarks>
public static class Lanes<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Units per vector.</summary>
    public static int Count => Vector<T>.Count;

    /// <summary>The vector of <paramref name="span"/> starting at <paramref name="offset"/> (zero-padded past the end).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Load(ReadOnlySpan<T> span, int offset)
    {
        if (offset + Vector<T>.Count <= span.Length)
            return Vector.LoadUnsafe(ref MemoryMarshal.GetReference(span), (nuint)offset);
        return LoadPartial(span, offset);
    }

    /// <summary>Stores the lanes of <paramref name="value"/> that fall inside <paramref name="span"/>, from <paramref name="offset"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector<T> value, Span<T> span, int offset)
    {
        if (offset + Vector<T>.Count <= span.Length)
            value.StoreUnsafe(ref MemoryMarshal.GetReference(span), (nuint)offset);
        else
            StorePartial(value, span, offset);
    }

    /// <summary>σ(x) = 1 / (1 + e^−x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Sigmoid(Vector<T> x) => Vector<T>.One / (Vector<T>.One + Exp(-x));

    /// <summary>tanh(x) = 1 − 2 / (e^{2x} + 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Tanh(Vector<T> x) => Vector<T>.One - (Vector<T>.One + Vector<T>.One) / (Exp(x + x) + Vector<T>.One);

    /// <summary>max(x, 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Relu(Vector<T> x) => Vector.Max(x, Vector<T>.Zero);

    /// <summary>σ′ from σ's output: y ⊙ (1 − y).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> SigmoidSlope(Vector<T> y) => y * (Vector<T>.One - y);

    /// <summary>tanh′ from tanh's output: 1 − y².</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> TanhSlope(Vector<T> y) => Vector<T>.One - y * y;

    /// <summary>ReLU′ from ReLU's output: 1 where y &gt; 0, else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> ReluSlope(Vector<T> y) => Vector.ConditionalSelect(Vector.GreaterThan(y, Vector<T>.Zero), Vector<T>.One, Vector<T>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> Exp(Vector<T> x)
    {
        if (typeof(T) == typeof(float)) return ExpSingle(x.As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector.Exp(x.As<T, double>()).As<double, T>();
        throw new NotSupportedException($"{typeof(T)} is not supported; use float or double.");
    }

    /// <summary>
    /// e^x in single precision, all in float lanes: x = k·ln 2 + r with |r| ≤ ln 2 / 2, e^r by a degree-6 polynomial
    /// (Taylor, relative error below 2·10⁻⁷ on that range), times 2^k built in the exponent bits. x is clamped to
    /// [−87.3, 88.7], so the result is a normal float: 0 and ∞ are never produced, which σ and tanh do not need.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> ExpSingle(Vector<float> x)
    {
        x = Vector.Min(Vector.Max(x, new Vector<float>(-87.3f)), new Vector<float>(88.7f));
        Vector<float> k = Vector.Round(x * new Vector<float>(1.44269504f));
        Vector<float> r = Vector.MultiplyAddEstimate(k, new Vector<float>(-0.693359375f), x);   // ln 2, split in two
        r = Vector.MultiplyAddEstimate(k, new Vector<float>(2.12194440e-4f), r);
        Vector<float> p = new Vector<float>(1.0f / 720);
        p = Vector.MultiplyAddEstimate(p, r, new Vector<float>(1.0f / 120));
        p = Vector.MultiplyAddEstimate(p, r, new Vector<float>(1.0f / 24));
        p = Vector.MultiplyAddEstimate(p, r, new Vector<float>(1.0f / 6));
        p = Vector.MultiplyAddEstimate(p, r, new Vector<float>(0.5f));
        p = Vector.MultiplyAddEstimate(p, r, Vector<float>.One);
        p = Vector.MultiplyAddEstimate(p, r, Vector<float>.One);
        Vector<int> scale = Vector.ShiftLeft(Vector.ConvertToInt32(k) + new Vector<int>(127), 23);
        return p * scale.As<int, float>();
    }

    private static Vector<T> LoadPartial(ReadOnlySpan<T> span, int offset)
    {
        Span<T> buffer = stackalloc T[Vector<T>.Count];
        buffer.Clear();
        span.Slice(offset).CopyTo(buffer);
        return Vector.LoadUnsafe(ref MemoryMarshal.GetReference(buffer));
    }

    private static void StorePartial(Vector<T> value, Span<T> span, int offset)
    {
        Span<T> buffer = stackalloc T[Vector<T>.Count];
        value.StoreUnsafe(ref MemoryMarshal.GetReference(buffer));
        buffer.Slice(0, span.Length - offset).CopyTo(span.Slice(offset));
    }
}
