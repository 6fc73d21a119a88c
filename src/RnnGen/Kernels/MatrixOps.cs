using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RnnGen.Kernels;

/// <summary>
/// The per-step matrix kernels of backpropagation (the forward pass streams <see cref="PackedMatrix{T}"/> copies;
/// window-wide products are in <see cref="Gemm"/>). Matrices are row-major (PyTorch layout): element (r, c) of a
/// matrix with <c>cols</c> columns is at <c>r * cols + c</c>.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)] // called by generated code; not an API to program against
public static class MatrixOps
{
    /// <summary>
    /// <c>y += Wᵀ·v</c>, where W has <c>v.Length</c> rows and <c>y.Length</c> columns. W is read once, row after row,
    /// while up to eight vectors of <c>y</c> stay in registers.
    /// </summary>
    public static void TransposeMultiplyAdd<T>(ReadOnlySpan<T> w, ReadOnlySpan<T> v, Span<T> y)
        where T : unmanaged, INumber<T>
    {
        int rows = v.Length, cols = y.Length;
        if (w.Length != (long)rows * cols)
            throw new ArgumentException($"w has {w.Length} elements; a [{rows}, {cols}] matrix needs {(long)rows * cols}.", nameof(w));
        if (Vector512.IsHardwareAccelerated) TransposeMultiplyAdd<Vector512<T>, Width512<T>, T>(w, v, y);
        else if (Vector256.IsHardwareAccelerated) TransposeMultiplyAdd<Vector256<T>, Width256<T>, T>(w, v, y);
        else TransposeMultiplyAdd<Vector128<T>, Width128<T>, T>(w, v, y);
    }

    // y[0 .. TQ vectors) += Σ_r w[r, 0 .. TQ vectors) · v[r]: TQ accumulator chains, w's rows cols apart.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ColumnVectors<TV, TW, T, TQ>(ref T w, ref T v, ref T y, int rows, int cols)
        where TV : struct where TW : struct, ISimdWidth<T, TV> where T : unmanaged, INumber<T> where TQ : struct, ICount
    {
        var a = VectorQuad<TV, TW, T, TQ>.Load(ref y);
        for (int r = 0; r < rows; r++)
            a.MultiplyAdd(ref Unsafe.Add(ref w, (nint)r * cols), TW.Broadcast(Unsafe.Add(ref v, r)));
        a.Store(ref y);
    }

    private static void TransposeMultiplyAdd<TV, TW, T>(ReadOnlySpan<T> w, ReadOnlySpan<T> v, Span<T> y)
        where TV : struct where TW : struct, ISimdWidth<T, TV> where T : unmanaged, INumber<T>
    {
        int rows = v.Length, cols = y.Length, p = TW.Count;
        ref T wr = ref MemoryMarshal.GetReference(w);
        ref T vr = ref MemoryMarshal.GetReference(v);
        ref T yr = ref MemoryMarshal.GetReference(y);
        int c0 = 0;
        // tiles of eight vectors: eight independent accumulator chains hide the FMA latency
        for (; c0 + 8 * p <= cols; c0 += 8 * p)
        {
            ref T yt = ref Unsafe.Add(ref yr, c0);
            TV a0 = TW.Load(ref yt, 0), a1 = TW.Load(ref yt, p), a2 = TW.Load(ref yt, 2 * p), a3 = TW.Load(ref yt, 3 * p);
            TV a4 = TW.Load(ref yt, 4 * p), a5 = TW.Load(ref yt, 5 * p), a6 = TW.Load(ref yt, 6 * p), a7 = TW.Load(ref yt, 7 * p);
            for (int r = 0; r < rows; r++)
            {
                ref T row = ref Unsafe.Add(ref wr, (nint)r * cols + c0);
                TV b = TW.Broadcast(Unsafe.Add(ref vr, r));
                a0 = TW.MultiplyAdd(TW.Load(ref row, 0), b, a0); a1 = TW.MultiplyAdd(TW.Load(ref row, p), b, a1);
                a2 = TW.MultiplyAdd(TW.Load(ref row, 2 * p), b, a2); a3 = TW.MultiplyAdd(TW.Load(ref row, 3 * p), b, a3);
                a4 = TW.MultiplyAdd(TW.Load(ref row, 4 * p), b, a4); a5 = TW.MultiplyAdd(TW.Load(ref row, 5 * p), b, a5);
                a6 = TW.MultiplyAdd(TW.Load(ref row, 6 * p), b, a6); a7 = TW.MultiplyAdd(TW.Load(ref row, 7 * p), b, a7);
            }
            TW.Store(a0, ref yt, 0); TW.Store(a1, ref yt, p); TW.Store(a2, ref yt, 2 * p); TW.Store(a3, ref yt, 3 * p);
            TW.Store(a4, ref yt, 4 * p); TW.Store(a5, ref yt, 5 * p); TW.Store(a6, ref yt, 6 * p); TW.Store(a7, ref yt, 7 * p);
        }
        // The columns that do not fill a vector, when there is a whole vector: the last vector of columns, overlapping
        // the ones before it, summed first from y as it was and stored last, one chain instead of one scalar chain per
        // column. Its lanes add rounded products as the scalar loop below does (a multiply–add onto −0 is the rounded
        // product, signed zeros included), and are stored after the tiles: where they overlap those, the tiles' sums
        // (the same terms in the same order, fused) are the ones kept.
        int tail = cols % p;
        TV last = default;
        if (tail != 0 && cols >= p)
        {
            nint at = cols - p;
            TV negativeZero = TW.Broadcast(-T.Zero);
            last = TW.Load(ref yr, at);
            for (int r = 0; r < rows; r++)
                last = TW.Add(last, TW.MultiplyAdd(TW.Load(ref wr, (nint)r * cols + at), TW.Broadcast(Unsafe.Add(ref vr, r)), negativeZero));
        }
        // remaining whole vectors: four, then two chains at once (a lone chain waits on each multiply–add's latency)
        for (; c0 + 4 * p <= cols; c0 += 4 * p)
            ColumnVectors<TV, TW, T, Four>(ref Unsafe.Add(ref wr, c0), ref vr, ref Unsafe.Add(ref yr, c0), rows, cols);
        for (; c0 + 2 * p <= cols; c0 += 2 * p)
            ColumnVectors<TV, TW, T, Two>(ref Unsafe.Add(ref wr, c0), ref vr, ref Unsafe.Add(ref yr, c0), rows, cols);
        for (; c0 + p <= cols; c0 += p)
            ColumnVectors<TV, TW, T, One>(ref Unsafe.Add(ref wr, c0), ref vr, ref Unsafe.Add(ref yr, c0), rows, cols);
        if (tail != 0 && cols >= p)
        {
            // the tail's own lanes only: the overlapped ones hold the tiles' fused sums
            Span<T> lanes = stackalloc T[p];
            TW.Store(last, ref MemoryMarshal.GetReference(lanes), 0);
            lanes.Slice(p - tail).CopyTo(y.Slice(cols - tail));
            return;
        }
        // columns that do not fill a vector, in a matrix narrower than one
        for (; c0 < cols; c0++)
        {
            T s = y[c0];
            for (int r = 0; r < rows; r++)
                s += Unsafe.Add(ref wr, (nint)r * cols + c0) * Unsafe.Add(ref vr, r);
            y[c0] = s;
        }
    }

    /// <summary>
    /// <c>W[r, columns[i]] += v[i·rows + r]</c> for every row i of <paramref name="v"/>, one per step and lane of a window
    /// (<c>i = t·lanes + b</c>; rows = W's rows): the weight gradient of one-hot inputs. The rows are added in the order of
    /// a backward pass — steps from the last to the first, the lanes of a step in order — so every element gets the sums
    /// (and the bits) of adding each step's values to its column in turn; but W is walked in blocks of rows that stay in L1
    /// while every step's values are added, where a column per step touches a cache line per row of W (about 0.27 µs per
    /// step for the character model's 512 × 65).
    /// </summary>
    /// <exception cref="ArgumentException">A shape does not fit, or a column is out of range; nothing is written.</exception>
    public static void AddToColumns<T>(Span<T> w, int cols, ReadOnlySpan<int> columns, ReadOnlySpan<T> v, int lanes)
        where T : unmanaged, INumber<T>
    {
        if (cols <= 0 || w.Length % cols != 0)
            throw new ArgumentException($"w has {w.Length} elements, which is not a whole number of rows of {cols} columns.", nameof(w));
        ArgumentOutOfRangeException.ThrowIfLessThan(lanes, 1);
        if (columns.Length % lanes != 0)
            throw new ArgumentException($"columns has {columns.Length} entries, which is not a whole number of steps of {lanes} lanes.", nameof(columns));
        int rows = w.Length / cols;
        if (v.Length < (long)columns.Length * rows)
            throw new ArgumentException($"v has {v.Length} values; {columns.Length} rows of {rows} need {(long)columns.Length * rows}.", nameof(v));
        foreach (int c in columns)
            if ((uint)c >= (uint)cols) throw new ArgumentOutOfRangeException(nameof(columns), c, $"a column of a matrix with {cols} columns.");
        const int Block = 16;
        ref T wr = ref MemoryMarshal.GetReference(w);
        ref T vr = ref MemoryMarshal.GetReference(v);
        int steps = columns.Length / lanes;
        for (int r0 = 0; r0 < rows; r0 += Block)
        {
            int r1 = Math.Min(rows, r0 + Block);
            for (int t = steps - 1; t >= 0; t--)
                for (int i = t * lanes; i < (t + 1) * lanes; i++)
                {
                    ref T source = ref Unsafe.Add(ref vr, (nint)i * rows);
                    ref T column = ref Unsafe.Add(ref wr, columns[i]);
                    for (int r = r0; r < r1; r++)
                        Unsafe.Add(ref column, (nint)r * cols) += Unsafe.Add(ref source, r);
                }
        }
    }
}
