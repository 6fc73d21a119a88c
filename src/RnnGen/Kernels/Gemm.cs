using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RnnGen.Kernels;

/// <summary>
/// The two matrix–matrix products of backpropagation through a window of T steps, register-blocked so that each
/// weight-sized matrix is read a few times per window instead of once per step:
/// <list type="bullet">
/// <item><see cref="AddOuterProducts"/>: <c>C += Σ_t a_t ⊗ b_t</c> — the weight gradient of a window, <c>dW += DZᵀ·X</c>.</item>
/// <item><see cref="MultiplyRows"/>: <c>C_t = a_t·B</c> for every step — the gradient passed to the inputs, <c>dX = DZ·W</c>.</item>
/// </list>
/// Row t of a step-major operand starts at <c>t · stride</c>, so tape records can be read in place.
/// </summary>
public static class Gemm
{
    // AddOuterProducts: steps per chunk (64 rows × a 64-column tile of b = 16 KB of floats, within L1 with room to spare).
    private const int StepChunk = 64;

    // MultiplyRows: rows of B per panel (256 × a two-vector tile of columns = 32 KB of floats: the panel stays in L1
    // while every group of four steps passes over it).
    private const int InnerChunk = 256;

    /// <summary>
    /// <c>c[r, k] += Σ_t a[t·aStride + r] · b[t·bStride + k]</c> for a row-major <paramref name="c"/> of
    /// <paramref name="rows"/> × <paramref name="cols"/>, over <paramref name="steps"/> steps.
    /// </summary>
    public static void AddOuterProducts<T>(Span<T> c, int rows, int cols, ReadOnlySpan<T> a, int aStride, ReadOnlySpan<T> b, int bStride, int steps)
        where T : unmanaged, INumber<T>
    {
        CheckMatrix(c.Length, rows, cols, nameof(c));
        CheckStepMajor(a.Length, steps, aStride, rows, nameof(a));
        CheckStepMajor(b.Length, steps, bStride, cols, nameof(b));
        if (steps == 0) return;
        // Steps in chunks, so that the chunk's rows of b under one tile of columns stay in the L1 cache while every row of C
        // passes over them (C is read and written once per chunk).
        for (int t0 = 0; t0 < steps; t0 += StepChunk)
        {
            int n = Math.Min(StepChunk, steps - t0);
            ReadOnlySpan<T> ac = a.Slice(t0 * aStride), bc = b.Slice(t0 * bStride);
            if (Vector512.IsHardwareAccelerated) OuterProducts<Vector512<T>, Width512<T>, T>(c, rows, cols, ac, aStride, bc, bStride, n);
            else if (Vector256.IsHardwareAccelerated) OuterProducts<Vector256<T>, Width256<T>, T>(c, rows, cols, ac, aStride, bc, bStride, n);
            else OuterProducts<Vector128<T>, Width128<T>, T>(c, rows, cols, ac, aStride, bc, bStride, n);
        }
    }

    /// <summary>
    /// <c>c[t·cStride + k] (+)= Σ_r a[t·aStride + r] · b[r·cols + k]</c>: each of <paramref name="steps"/> rows of
    /// <paramref name="a"/> (length <paramref name="inner"/>) times the row-major <paramref name="inner"/> × <paramref name="cols"/>
    /// matrix <paramref name="b"/>. Overwrites <paramref name="c"/>'s rows unless <paramref name="accumulate"/>.
    /// </summary>
    public static void MultiplyRows<T>(Span<T> c, int cStride, ReadOnlySpan<T> a, int aStride, ReadOnlySpan<T> b, int inner, int cols, int steps, bool accumulate = false)
        where T : unmanaged, INumber<T>
    {
        CheckMatrix(b.Length, inner, cols, nameof(b));
        CheckStepMajor(a.Length, steps, aStride, inner, nameof(a));
        CheckStepMajor(c.Length, steps, cStride, cols, nameof(c));
        if (steps == 0) return;
        if (Vector512.IsHardwareAccelerated) Rows<Vector512<T>, Width512<T>, T>(c, cStride, a, aStride, b, inner, cols, steps, accumulate);
        else if (Vector256.IsHardwareAccelerated) Rows<Vector256<T>, Width256<T>, T>(c, cStride, a, aStride, b, inner, cols, steps, accumulate);
        else Rows<Vector128<T>, Width128<T>, T>(c, cStride, a, aStride, b, inner, cols, steps, accumulate);
    }

    /// <summary><c>sum[r] += Σ_t a[t·aStride + r]</c> (a bias gradient over a window).</summary>
    public static void AddRowSums<T>(Span<T> sum, ReadOnlySpan<T> a, int aStride, int steps) where T : unmanaged, INumber<T>
    {
        CheckStepMajor(a.Length, steps, aStride, sum.Length, nameof(a));
        for (int t = 0; t < steps; t++)
            System.Numerics.Tensors.TensorPrimitives.Add(sum, a.Slice(t * aStride, sum.Length), sum);
    }

    // Four rows of C by four vectors of columns in registers (then two rows, then one); every step adds a_t[r]·b_t to them.
    private static void OuterProducts<TV, TW, T>(Span<T> c, int rows, int cols, ReadOnlySpan<T> a, int aStride, ReadOnlySpan<T> b, int bStride, int steps)
        where TV : struct where TW : struct, ISimdWidth<T, TV> where T : unmanaged, INumber<T>
    {
        int p = TW.Count, tile = 4 * p;
        ref T cr = ref MemoryMarshal.GetReference(c);
        ref T ar = ref MemoryMarshal.GetReference(a);
        ref T br = ref MemoryMarshal.GetReference(b);
        int vectorCols = cols - cols % p;
        for (int k0 = 0; k0 < vectorCols; k0 += tile)
        {
            int n = Math.Min(4, (vectorCols - k0) / p);
            int r = 0;
            if (n == 4)
                for (; r + 4 <= rows; r += 4)
                    OuterFourByFour<TV, TW, T>(ref Unsafe.Add(ref cr, (nint)r * cols + k0), cols, ref Unsafe.Add(ref ar, r), aStride, ref Unsafe.Add(ref br, k0), bStride, steps);
            for (; r + 2 <= rows; r += 2)
            {
                ref T c0 = ref Unsafe.Add(ref cr, (nint)r * cols + k0);
                ref T c1 = ref Unsafe.Add(ref c0, cols);
                if (n == 4)
                {
                    TV x0 = TW.Load(ref c0, 0), x1 = TW.Load(ref c0, p), x2 = TW.Load(ref c0, 2 * p), x3 = TW.Load(ref c0, 3 * p);
                    TV y0 = TW.Load(ref c1, 0), y1 = TW.Load(ref c1, p), y2 = TW.Load(ref c1, 2 * p), y3 = TW.Load(ref c1, 3 * p);
                    for (int t = 0; t < steps; t++)
                    {
                        ref T bt = ref Unsafe.Add(ref br, (nint)t * bStride + k0);
                        TV u = TW.Broadcast(Unsafe.Add(ref ar, (nint)t * aStride + r));
                        TV v = TW.Broadcast(Unsafe.Add(ref ar, (nint)t * aStride + r + 1));
                        TV b0 = TW.Load(ref bt, 0), b1 = TW.Load(ref bt, p), b2 = TW.Load(ref bt, 2 * p), b3 = TW.Load(ref bt, 3 * p);
                        x0 = TW.MultiplyAdd(b0, u, x0); x1 = TW.MultiplyAdd(b1, u, x1); x2 = TW.MultiplyAdd(b2, u, x2); x3 = TW.MultiplyAdd(b3, u, x3);
                        y0 = TW.MultiplyAdd(b0, v, y0); y1 = TW.MultiplyAdd(b1, v, y1); y2 = TW.MultiplyAdd(b2, v, y2); y3 = TW.MultiplyAdd(b3, v, y3);
                    }
                    TW.Store(x0, ref c0, 0); TW.Store(x1, ref c0, p); TW.Store(x2, ref c0, 2 * p); TW.Store(x3, ref c0, 3 * p);
                    TW.Store(y0, ref c1, 0); TW.Store(y1, ref c1, p); TW.Store(y2, ref c1, 2 * p); TW.Store(y3, ref c1, 3 * p);
                }
                else
                {
                    OuterRowVectors<TV, TW, T>(ref c0, ref ar, aStride, r, ref br, bStride, k0, n, steps);
                    OuterRowVectors<TV, TW, T>(ref c1, ref ar, aStride, r + 1, ref br, bStride, k0, n, steps);
                }
            }
            for (; r < rows; r++)
                OuterRowVectors<TV, TW, T>(ref Unsafe.Add(ref cr, (nint)r * cols + k0), ref ar, aStride, r, ref br, bStride, k0, n, steps);
        }
        // the columns that do not fill a vector
        for (int r = 0; r < rows; r++)
            for (int k = vectorCols; k < cols; k++)
            {
                T s = c[r * cols + k];
                for (int t = 0; t < steps; t++)
                    s += a[t * aStride + r] * b[t * bStride + k];
                c[r * cols + k] = s;
            }
    }

    // Four rows of C (from c0, cols apart) by four vectors of columns: sixteen accumulators, so that per step four loads of
    // b_t and four broadcasts of a_t[r .. r + 3] feed sixteen multiply–adds. a points at a_0[r], b at b_0[k0].
    private static void OuterFourByFour<TV, TW, T>(ref T c0, int cols, ref T a, int aStride, ref T b, int bStride, int steps)
        where TV : struct where TW : struct, ISimdWidth<T, TV> where T : unmanaged, INumber<T>
    {
        int p = TW.Count;
        ref T c1 = ref Unsafe.Add(ref c0, cols);
        ref T c2 = ref Unsafe.Add(ref c1, cols);
        ref T c3 = ref Unsafe.Add(ref c2, cols);
        TV x0 = TW.Load(ref c0, 0), x1 = TW.Load(ref c0, p), x2 = TW.Load(ref c0, 2 * p), x3 = TW.Load(ref c0, 3 * p);
        TV y0 = TW.Load(ref c1, 0), y1 = TW.Load(ref c1, p), y2 = TW.Load(ref c1, 2 * p), y3 = TW.Load(ref c1, 3 * p);
        TV z0 = TW.Load(ref c2, 0), z1 = TW.Load(ref c2, p), z2 = TW.Load(ref c2, 2 * p), z3 = TW.Load(ref c2, 3 * p);
        TV w0 = TW.Load(ref c3, 0), w1 = TW.Load(ref c3, p), w2 = TW.Load(ref c3, 2 * p), w3 = TW.Load(ref c3, 3 * p);
        for (int t = 0; t < steps; t++)
        {
            ref T bt = ref Unsafe.Add(ref b, (nint)t * bStride);
            ref T at = ref Unsafe.Add(ref a, (nint)t * aStride);
            TV b0 = TW.Load(ref bt, 0), b1 = TW.Load(ref bt, p), b2 = TW.Load(ref bt, 2 * p), b3 = TW.Load(ref bt, 3 * p);
            TV u = TW.Broadcast(at);
            x0 = TW.MultiplyAdd(b0, u, x0); x1 = TW.MultiplyAdd(b1, u, x1); x2 = TW.MultiplyAdd(b2, u, x2); x3 = TW.MultiplyAdd(b3, u, x3);
            u = TW.Broadcast(Unsafe.Add(ref at, 1));
            y0 = TW.MultiplyAdd(b0, u, y0); y1 = TW.MultiplyAdd(b1, u, y1); y2 = TW.MultiplyAdd(b2, u, y2); y3 = TW.MultiplyAdd(b3, u, y3);
            u = TW.Broadcast(Unsafe.Add(ref at, 2));
            z0 = TW.MultiplyAdd(b0, u, z0); z1 = TW.MultiplyAdd(b1, u, z1); z2 = TW.MultiplyAdd(b2, u, z2); z3 = TW.MultiplyAdd(b3, u, z3);
            u = TW.Broadcast(Unsafe.Add(ref at, 3));
            w0 = TW.MultiplyAdd(b0, u, w0); w1 = TW.MultiplyAdd(b1, u, w1); w2 = TW.MultiplyAdd(b2, u, w2); w3 = TW.MultiplyAdd(b3, u, w3);
        }
        TW.Store(x0, ref c0, 0); TW.Store(x1, ref c0, p); TW.Store(x2, ref c0, 2 * p); TW.Store(x3, ref c0, 3 * p);
        TW.Store(y0, ref c1, 0); TW.Store(y1, ref c1, p); TW.Store(y2, ref c1, 2 * p); TW.Store(y3, ref c1, 3 * p);
        TW.Store(z0, ref c2, 0); TW.Store(z1, ref c2, p); TW.Store(z2, ref c2, 2 * p); TW.Store(z3, ref c2, 3 * p);
        TW.Store(w0, ref c3, 0); TW.Store(w1, ref c3, p); TW.Store(w2, ref c3, 2 * p); TW.Store(w3, ref c3, 3 * p);
    }

    // One row of C, n (1..4) vectors of columns.
    private static void OuterRowVectors<TV, TW, T>(ref T c, ref T ar, int aStride, int r, ref T br, int bStride, int k0, int n, int steps)
        where TV : struct where TW : struct, ISimdWidth<T, TV> where T : unmanaged, INumber<T>
    {
        int p = TW.Count;
        for (int v = 0; v < n; v++)
        {
            TV x = TW.Load(ref c, v * p);
            for (int t = 0; t < steps; t++)
                x = TW.MultiplyAdd(TW.Load(ref Unsafe.Add(ref br, (nint)t * bStride + k0), v * p), TW.Broadcast(Unsafe.Add(ref ar, (nint)t * aStride + r)), x);
            TW.Store(x, ref c, v * p);
        }
    }

    // Four steps at a time by two vectors of columns (then one) in registers. B is cut into panels of InnerChunk rows by
    // one tile of columns, each panel read from memory once and then from L1 by every group of four steps (C is read and
    // written once per panel). The columns that do not fill a vector one by one. The rows after the last group of four
    // (all of them when steps < 4) each as c_t (+)= Bᵀ·a_t, B streamed row by row into vectors of c_t.
    private static void Rows<TV, TW, T>(Span<T> c, int cStride, ReadOnlySpan<T> a, int aStride, ReadOnlySpan<T> b, int inner, int cols, int steps, bool accumulate)
        where TV : struct where TW : struct, ISimdWidth<T, TV> where T : unmanaged, INumber<T>
    {
        int p = TW.Count;
        ref T cr = ref MemoryMarshal.GetReference(c);
        ref T ar = ref MemoryMarshal.GetReference(a);
        ref T br = ref MemoryMarshal.GetReference(b);
        int grouped = steps - steps % 4;
        if (inner == 0)
        {
            if (!accumulate)
                for (int t = 0; t < steps; t++) c.Slice(t * cStride, cols).Clear();
            return;
        }
        for (int r0 = 0; r0 < inner; r0 += InnerChunk)
        {
            int rn = Math.Min(InnerChunk, inner - r0);
            bool add = accumulate || r0 > 0;       // the first panel overwrites C unless asked to accumulate
            ref T panel = ref Unsafe.Add(ref br, (nint)r0 * cols);
            int k = 0;
            for (; k + 2 * p <= cols; k += 2 * p)
                for (int t = 0; t < grouped; t += 4)
                    FourRows<TV, TW, T, Two>(ref Unsafe.Add(ref ar, (nint)t * aStride + r0), aStride, ref Unsafe.Add(ref cr, (nint)t * cStride), cStride, ref Unsafe.Add(ref panel, k), rn, cols, k, add);
            for (; k + p <= cols; k += p)
                for (int t = 0; t < grouped; t += 4)
                    FourRows<TV, TW, T, One>(ref Unsafe.Add(ref ar, (nint)t * aStride + r0), aStride, ref Unsafe.Add(ref cr, (nint)t * cStride), cStride, ref Unsafe.Add(ref panel, k), rn, cols, k, add);
            for (; k < cols; k++)
                for (int t = 0; t < grouped; t++)
                    c[t * cStride + k] = RowColumn(a, t * aStride + r0, b.Slice(r0 * cols), rn, cols, k, add ? c[t * cStride + k] : T.Zero);
        }
        for (int t = grouped; t < steps; t++)
        {
            Span<T> row = c.Slice(t * cStride, cols);
            if (!accumulate) row.Clear();
            MatrixOps.TransposeMultiplyAdd(b, a.Slice(t * aStride, inner), row);
        }
    }

    // c_i[k ..][..TC vectors] (+)= Σ_r a_i[r] · B[r, k ..] for the four rows i of a and c starting at a0 and c0;
    // b points at B[0, k].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FourRows<TV, TW, T, TC>(ref T a0, int aStride, ref T c0, int cStride, ref T b, int inner, int cols, int k, bool accumulate)
        where TV : struct where TW : struct, ISimdWidth<T, TV> where T : unmanaged, INumber<T> where TC : struct, ICount
    {
        int p = TW.Count;
        ref T a1 = ref Unsafe.Add(ref a0, aStride);
        ref T a2 = ref Unsafe.Add(ref a1, aStride);
        ref T a3 = ref Unsafe.Add(ref a2, aStride);
        ref T c1 = ref Unsafe.Add(ref c0, cStride);
        ref T c2 = ref Unsafe.Add(ref c1, cStride);
        ref T c3 = ref Unsafe.Add(ref c2, cStride);
        TV s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
        if (accumulate)
        {
            s00 = TW.Load(ref c0, k); s10 = TW.Load(ref c1, k); s20 = TW.Load(ref c2, k); s30 = TW.Load(ref c3, k);
            if (TC.Count > 1) { s01 = TW.Load(ref c0, k + p); s11 = TW.Load(ref c1, k + p); s21 = TW.Load(ref c2, k + p); s31 = TW.Load(ref c3, k + p); }
        }
        for (int r = 0; r < inner; r++)
        {
            ref T brow = ref Unsafe.Add(ref b, (nint)r * cols);
            TV u0 = TW.Broadcast(Unsafe.Add(ref a0, r)), u1 = TW.Broadcast(Unsafe.Add(ref a1, r));
            TV u2 = TW.Broadcast(Unsafe.Add(ref a2, r)), u3 = TW.Broadcast(Unsafe.Add(ref a3, r));
            TV b0 = TW.Load(ref brow, 0);
            s00 = TW.MultiplyAdd(b0, u0, s00); s10 = TW.MultiplyAdd(b0, u1, s10); s20 = TW.MultiplyAdd(b0, u2, s20); s30 = TW.MultiplyAdd(b0, u3, s30);
            if (TC.Count > 1)
            {
                TV b1 = TW.Load(ref brow, p);
                s01 = TW.MultiplyAdd(b1, u0, s01); s11 = TW.MultiplyAdd(b1, u1, s11); s21 = TW.MultiplyAdd(b1, u2, s21); s31 = TW.MultiplyAdd(b1, u3, s31);
            }
        }
        TW.Store(s00, ref c0, k); TW.Store(s10, ref c1, k); TW.Store(s20, ref c2, k); TW.Store(s30, ref c3, k);
        if (TC.Count > 1) { TW.Store(s01, ref c0, k + p); TW.Store(s11, ref c1, k + p); TW.Store(s21, ref c2, k + p); TW.Store(s31, ref c3, k + p); }
    }

    private static T RowColumn<T>(ReadOnlySpan<T> a, int aStart, ReadOnlySpan<T> b, int inner, int cols, int k, T start) where T : unmanaged, INumber<T>
    {
        T s = start;
        for (int r = 0; r < inner; r++)
            s += a[aStart + r] * b[r * cols + k];
        return s;
    }

    private static void CheckMatrix(int length, int rows, int cols, string name)
    {
        if (rows < 0 || cols < 0 || length != rows * cols)
            throw new ArgumentException($"{name} has length {length}; a [{rows}, {cols}] matrix needs {rows * cols}.", name);
    }

    private static void CheckStepMajor(int length, int steps, int stride, int width, string name)
    {
        if (steps < 0 || width < 0 || stride < width)
            throw new ArgumentException($"{name}: stride {stride} must be at least the row width {width}.", name);
        if (steps > 0 && length < (long)(steps - 1) * stride + width)
            throw new ArgumentException($"{name} has length {length}; {steps} rows of {width} at stride {stride} need {(long)(steps - 1) * stride + width}.", name);
    }
}
