using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace RnnGen.Kernels;

/// <summary>
/// Element-wise activations and their derivatives, SIMD over <see cref="Vector{T}"/> or
/// <see cref="TensorPrimitives"/>. Derivatives are written in terms of the activation's output
/// <c>y</c>, which the tape records: σ'(x) = y(1−y), tanh'(x) = 1−y², relu'(x) = [y &gt; 0].
/// </summary>
public static class Activations
{
    /// <summary><c>y = σ(x) = 1 / (1 + e^−x)</c>.</summary>
    public static void Sigmoid<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
        => TensorPrimitives.Sigmoid(x, y);

    /// <summary><c>y = tanh(x)</c>.</summary>
    public static void Tanh<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
        => TensorPrimitives.Tanh(x, y);

    /// <summary><c>y = max(x, 0)</c>.</summary>
    public static void Relu<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
        => TensorPrimitives.Max(x, T.Zero, y);

    /// <summary><c>dx = dy ⊙ y ⊙ (1 − y)</c>, the sigmoid's backward pass from its output <c>y</c>.</summary>
    public static void SigmoidBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = CheckLengths(y, dy, dx);
        ref T yr = ref MemoryMarshal.GetReference(y);
        ref T dyr = ref MemoryMarshal.GetReference(dy);
        ref T dxr = ref MemoryMarshal.GetReference(dx);
        var one = Vector<T>.One;
        int i = 0;
        for (; i + Vector<T>.Count <= n; i += Vector<T>.Count)
        {
            var v = Vector.LoadUnsafe(ref yr, (nuint)i);
            (Vector.LoadUnsafe(ref dyr, (nuint)i) * v * (one - v)).StoreUnsafe(ref dxr, (nuint)i);
        }
        for (; i < n; i++)
            dx[i] = dy[i] * y[i] * (T.One - y[i]);
    }

    /// <summary><c>dx = dy ⊙ (1 − y²)</c>, tanh's backward pass from its output <c>y</c>.</summary>
    public static void TanhBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = CheckLengths(y, dy, dx);
        ref T yr = ref MemoryMarshal.GetReference(y);
        ref T dyr = ref MemoryMarshal.GetReference(dy);
        ref T dxr = ref MemoryMarshal.GetReference(dx);
        var one = Vector<T>.One;
        int i = 0;
        for (; i + Vector<T>.Count <= n; i += Vector<T>.Count)
        {
            var v = Vector.LoadUnsafe(ref yr, (nuint)i);
            (Vector.LoadUnsafe(ref dyr, (nuint)i) * (one - v * v)).StoreUnsafe(ref dxr, (nuint)i);
        }
        for (; i < n; i++)
            dx[i] = dy[i] * (T.One - y[i] * y[i]);
    }

    /// <summary><c>dx = dy ⊙ [y &gt; 0]</c>, ReLU's backward pass from its output <c>y</c>.</summary>
    public static void ReluBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = CheckLengths(y, dy, dx);
        ref T yr = ref MemoryMarshal.GetReference(y);
        ref T dyr = ref MemoryMarshal.GetReference(dy);
        ref T dxr = ref MemoryMarshal.GetReference(dx);
        int i = 0;
        for (; i + Vector<T>.Count <= n; i += Vector<T>.Count)
        {
            var mask = Vector.GreaterThan(Vector.LoadUnsafe(ref yr, (nuint)i), Vector<T>.Zero);
            Vector.ConditionalSelect(mask, Vector.LoadUnsafe(ref dyr, (nuint)i), Vector<T>.Zero).StoreUnsafe(ref dxr, (nuint)i);
        }
        for (; i < n; i++)
            dx[i] = y[i] > T.Zero ? dy[i] : T.Zero;
    }

    private static int CheckLengths<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx)
    {
        if (dy.Length != y.Length) throw new ArgumentException($"dy has {dy.Length} elements; y has {y.Length}.", nameof(dy));
        if (dx.Length != y.Length) throw new ArgumentException($"dx has {dx.Length} elements; y has {y.Length}.", nameof(dx));
        return y.Length;
    }
}
