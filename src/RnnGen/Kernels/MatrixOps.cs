using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RnnGen.Kernels;

/// <summary>
/// The matrix kernels of backpropagation (the forward pass streams <see cref="PackedMatrix{T}"/> copies instead). Matrices are row-major
/// (PyTorch layout): element (r, c) of a matrix with <c>cols</c> columns is at <c>r * cols + c</c>.
/// Every method checks its span lengths once (cheap, and the JIT removes the checks when the sizes are
/// constants) and then runs a SIMD loop over <see cref="Vector{T}"/>.
/// </summary>
public static class MatrixOps
{
    /// <summary><c>y += Wᵀ·v</c>, where W has <c>v.Length</c> rows and <c>y.Length</c> columns.</summary>
    public static void TransposeMultiplyAdd<T>(ReadOnlySpan<T> w, ReadOnlySpan<T> v, Span<T> y)
        where T : unmanaged, INumber<T>
    {
        int rows = v.Length, cols = y.Length;
        if (w.Length != rows * cols) ThrowShape(nameof(w), rows, cols, w.Length);
        ref T wr = ref MemoryMarshal.GetReference(w);
        ref T yr = ref MemoryMarshal.GetReference(y);
        int r = 0;
        for (; r + 4 <= rows; r += 4)
        {
            ref T w0 = ref Unsafe.Add(ref wr, r * cols);
            ref T w1 = ref Unsafe.Add(ref w0, cols);
            ref T w2 = ref Unsafe.Add(ref w1, cols);
            ref T w3 = ref Unsafe.Add(ref w2, cols);
            T v0 = v[r], v1 = v[r + 1], v2 = v[r + 2], v3 = v[r + 3];
            var b0 = new Vector<T>(v0);
            var b1 = new Vector<T>(v1);
            var b2 = new Vector<T>(v2);
            var b3 = new Vector<T>(v3);
            int c = 0;
            for (; c + Vector<T>.Count <= cols; c += Vector<T>.Count)
            {
                var acc = Vector.LoadUnsafe(ref yr, (nuint)c);
                acc += Vector.LoadUnsafe(ref w0, (nuint)c) * b0;
                acc += Vector.LoadUnsafe(ref w1, (nuint)c) * b1;
                acc += Vector.LoadUnsafe(ref w2, (nuint)c) * b2;
                acc += Vector.LoadUnsafe(ref w3, (nuint)c) * b3;
                acc.StoreUnsafe(ref yr, (nuint)c);
            }
            for (; c < cols; c++)
                Unsafe.Add(ref yr, c) += Unsafe.Add(ref w0, c) * v0 + Unsafe.Add(ref w1, c) * v1
                                       + Unsafe.Add(ref w2, c) * v2 + Unsafe.Add(ref w3, c) * v3;
        }
        for (; r < rows; r++)
            Axpy(v[r], ref Unsafe.Add(ref wr, r * cols), ref yr, cols);
    }

    /// <summary><c>W += u ⊗ x</c> (outer product), where W has <c>u.Length</c> rows and <c>x.Length</c> columns.</summary>
    public static void OuterAdd<T>(Span<T> w, ReadOnlySpan<T> u, ReadOnlySpan<T> x)
        where T : unmanaged, INumber<T>
    {
        int rows = u.Length, cols = x.Length;
        if (w.Length != rows * cols) ThrowShape(nameof(w), rows, cols, w.Length);
        ref T wr = ref MemoryMarshal.GetReference(w);
        ref T xr = ref MemoryMarshal.GetReference(x);
        for (int r = 0; r < rows; r++)
            Axpy(u[r], ref xr, ref Unsafe.Add(ref wr, r * cols), cols);
    }

    /// <summary><c>W[r, column] += v[r]</c>: the weight gradient of a one-hot input, as a column scatter.</summary>
    public static void AddToColumn<T>(Span<T> w, int column, ReadOnlySpan<T> v)
        where T : unmanaged, INumber<T>
    {
        int rows = v.Length;
        if (rows == 0 || w.Length % rows != 0) ThrowShape(nameof(w), rows, -1, w.Length);
        int cols = w.Length / rows;
        if ((uint)column >= (uint)cols) throw new ArgumentOutOfRangeException(nameof(column));
        ref T wr = ref Unsafe.Add(ref MemoryMarshal.GetReference(w), column);
        for (int r = 0; r < rows; r++)
            Unsafe.Add(ref wr, r * cols) += v[r];
    }

    // y += alpha * x
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Axpy<T>(T alpha, ref T x, ref T y, int n) where T : unmanaged, INumber<T>
    {
        var a = new Vector<T>(alpha);
        int i = 0;
        for (; i + Vector<T>.Count <= n; i += Vector<T>.Count)
            (Vector.LoadUnsafe(ref y, (nuint)i) + Vector.LoadUnsafe(ref x, (nuint)i) * a).StoreUnsafe(ref y, (nuint)i);
        for (; i < n; i++)
            Unsafe.Add(ref y, i) += alpha * Unsafe.Add(ref x, i);
    }

    private static void ThrowShape(string name, int rows, int cols, int length) =>
        throw new ArgumentException(
            cols >= 0
                ? $"{name} has {length} elements; a [{rows}, {cols}] matrix needs {rows * cols}."
                : $"{name} has {length} elements, which is not a whole number of rows of length {rows}.", name);
}
