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
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)] // called by generated code; not an API to program against
public static class Gemm
{
    // AddOuterProducts: steps per chunk. A chunk's tile of b (64 steps × four vectors: 16 KB of floats or doubles) is
    // copied to the stack and stays in L1 while every row of C passes over it.
    private const int StepChunk = 64;

    // MultiplyRows: rows of B per panel (64 × a four-vector tile of columns = 16 KB: the panel stays in L1 while every
    // group of four steps passes over it, even when B's row stride maps its rows onto few cache sets).
    private const int PanelRows = 64;

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
        // the widest vectors along the columns, then the columns that do not fill one (hidden 100 in vectors of 16 floats:
        // 96 + 4) transposed, in vectors along the rows of C
        int k = Vector512.IsHardwareAccelerated ? OuterProducts<Vector512<T>, Width512<T>, T>(c, rows, cols, 0, a, aStride, b, bStride, steps)
            : Vector256.IsHardwareAccelerated ? OuterProducts<Vector256<T>, Width256<T>, T>(c, rows, cols, 0, a, aStride, b, bStride, steps)
            : OuterProducts<Vector128<T>, Width128<T>, T>(c, rows, cols, 0, a, aStride, b, bStride, steps);
        if (k < cols) OuterLastColumns(c, rows, cols, k, a, aStride, b, bStride, steps);
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
        if (inner == 0 || steps == 1)
        {
            // a single row as c (+)= Bᵀ·a: B streamed row by row with eight vectors of c in registers
            for (int t = 0; t < steps; t++)
            {
                Span<T> row = c.Slice(t * cStride, cols);
                if (!accumulate) row.Clear();
                if (inner > 0) MatrixOps.TransposeMultiplyAdd(b, a.Slice(t * aStride, inner), row);
            }
            return;
        }
        // the widest vectors, narrower ones for the columns that do not fill one, the last one to three padded to one vector
        var shape = new RowsShape(aStride, cStride, cols, steps);
        int k = 0;
        if (Vector512.IsHardwareAccelerated) k = Rows<Vector512<T>, Width512<T>, T>(c, a, b, inner, shape, k, accumulate);
        if (Vector256.IsHardwareAccelerated) k = Rows<Vector256<T>, Width256<T>, T>(c, a, b, inner, shape, k, accumulate);
        k = Rows<Vector128<T>, Width128<T>, T>(c, a, b, inner, shape, k, accumulate);
        if (k < cols) RowsLastColumns(c, a, b, inner, shape, k, accumulate);
    }

    /// <summary><c>sum[r] += Σ_t a[t·aStride + r]</c> (a bias gradient over a window).</summary>
    public static void AddRowSums<T>(Span<T> sum, ReadOnlySpan<T> a, int aStride, int steps) where T : unmanaged, INumber<T>
    {
        CheckStepMajor(a.Length, steps, aStride, sum.Length, nameof(a));
        for (int t = 0; t < steps; t++)
            System.Numerics.Tensors.TensorPrimitives.Add(sum, a.Slice(t * aStride, sum.Length), sum);
    }

    // Columns from `from` on, as many as fill whole vectors of TV; returns the first column left. Steps in chunks of
    // StepChunk. Each chunk's tile of columns of b is first copied into contiguous scratch on the stack: read in place,
    // rows of b that lie a large stride apart (a tape's step records) map onto a few L1 sets and evict each other, and
    // every group of rows of C would read them from L2 again (the copy made the weight gradients of the character model
    // 1.35× faster). Without packB b is read in place: for the transposed last columns, whose C has at most 15 rows, the
    // copy cost as much as the reads it saves. a is read in place, a few values per step. C is read and written once per
    // chunk; every element sums its steps in order, whatever the blocking.
    private static int OuterProducts<TV, TW, T>(Span<T> c, int rows, int cols, int from, ReadOnlySpan<T> a, int aStride, ReadOnlySpan<T> b, int bStride, int steps, bool packB = true)
        where TV : struct where TW : struct, ISimdWidth<T, TV> where T : unmanaged, INumber<T>
    {
        int p = TW.Count, tile = 4 * p;
        int vectorCols = (cols - from) - (cols - from) % p;
        if (vectorCols == 0) return from;
        int chunk = Math.Min(StepChunk, steps);
        Span<T> bPack = packB ? stackalloc T[chunk * Math.Min(tile, vectorCols)] : default;
        for (int t0 = 0; t0 < steps; t0 += StepChunk)
        {
            int n = Math.Min(StepChunk, steps - t0);
            for (int k0 = from; k0 < from + vectorCols; k0 += tile)
            {
                int width = Math.Min(tile, from + vectorCols - k0), stride = bStride;
                scoped ReadOnlySpan<T> bTile = b.Slice(t0 * bStride + k0);
                if (packB)
                {
                    for (int t = 0; t < n; t++)
                        b.Slice((t0 + t) * bStride + k0, width).CopyTo(bPack.Slice(t * width, width));
                    bTile = bPack;
                    stride = width;
                }
                ref T bt = ref MemoryMarshal.GetReference(bTile);
                ref T ct = ref Unsafe.Add(ref MemoryMarshal.GetReference(c), k0);
                ref T at = ref MemoryMarshal.GetReference(a.Slice(t0 * aStride));
                switch (width / p)
                {
                    case 4: OuterColumns<TV, TW, T, Four>(ref ct, rows, cols, ref at, aStride, ref bt, stride, n); break;
                    case 3: OuterColumns<TV, TW, T, Three>(ref ct, rows, cols, ref at, aStride, ref bt, stride, n); break;
                    case 2: OuterColumns<TV, TW, T, Two>(ref ct, rows, cols, ref at, aStride, ref bt, stride, n); break;
                    default: OuterColumns<TV, TW, T, One>(ref ct, rows, cols, ref at, aStride, ref bt, stride, n); break;
                }
            }
        }
        return from + vectorCols;
    }

    // Rows of C per block of its last columns (OuterLastColumns: at most 15 floats or 7 doubles × 256, 15 KB on the stack)
    // and inner rows and steps per block of the padded last columns (RowsLastColumns: 256 × one 128-bit vector, 4 KB).
    private const int PadBlock = 256;

    // The columns from `from` on that fill no vector of the widest width, transposed: their m columns of C, PadBlock rows
    // at a time, are copied into m contiguous rows, and C^T += Σ_t b_t[last] ⊗ a_t[rows] runs in the vector tiles above —
    // vectors along the rows of C, where a_t is contiguous, and one broadcast of b per column (narrower vectors along
    // the columns, tiles of four rows by one vector, have only four independent sums and wait on their latency: the
    // four columns past 96 cost half as much as the 96). The one to three rows of the block that fill no vector either
    // are padded to one (OuterPaddedRows). Every element still sums its steps in order.
    private static void OuterLastColumns<T>(Span<T> c, int rows, int cols, int from, ReadOnlySpan<T> a, int aStride, ReadOnlySpan<T> b, int bStride, int steps)
        where T : unmanaged, INumber<T>
    {
        int m = cols - from;
        Span<T> transposed = stackalloc T[m * Math.Min(PadBlock, rows)];
        ReadOnlySpan<T> bLast = b.Slice(from);
        for (int r0 = 0; r0 < rows; r0 += PadBlock)
        {
            int rn = Math.Min(PadBlock, rows - r0);
            Span<T> ct = transposed.Slice(0, m * rn);
            for (int j = 0; j < m; j++)
                for (int r = 0; r < rn; r++)
                    ct[j * rn + r] = c[(r0 + r) * cols + from + j];
            ReadOnlySpan<T> aBlock = a.Slice(r0);
            int k = 0;
            if (Vector512.IsHardwareAccelerated) k = OuterProducts<Vector512<T>, Width512<T>, T>(ct, m, rn, k, bLast, bStride, aBlock, aStride, steps, packB: false);
            if (Vector256.IsHardwareAccelerated) k = OuterProducts<Vector256<T>, Width256<T>, T>(ct, m, rn, k, bLast, bStride, aBlock, aStride, steps, packB: false);
            k = OuterProducts<Vector128<T>, Width128<T>, T>(ct, m, rn, k, bLast, bStride, aBlock, aStride, steps, packB: false);
            if (k < rn) OuterPaddedRows(ct, m, rn, k, bLast, bStride, aBlock, aStride, steps);
            for (int j = 0; j < m; j++)
                for (int r = 0; r < rn; r++)
                    c[(r0 + r) * cols + from + j] = ct[j * rn + r];
        }
    }

    // OuterLastColumns' one to three rows (floats; one double) past the last 128-bit vector, zero-padded to one: the
    // same fused multiply-adds as every other row, so that an element's bits do not depend on where a call's range of
    // rows ends (LayerPipeline splits the rows of a weight gradient between the cores). ct is m rows of rn.
    private static void OuterPaddedRows<T>(Span<T> ct, int m, int rn, int from, ReadOnlySpan<T> b, int bStride, ReadOnlySpan<T> a, int aStride, int steps)
        where T : unmanaged, INumber<T>
    {
        int p = Vector128<T>.Count, left = rn - from;
        Span<T> cPad = stackalloc T[m * p];
        Span<T> aPad = stackalloc T[Math.Min(StepChunk, steps) * p];
        cPad.Clear();
        aPad.Clear();
        for (int j = 0; j < m; j++)
            ct.Slice(j * rn + from, left).CopyTo(cPad.Slice(j * p));
        for (int t0 = 0; t0 < steps; t0 += StepChunk)
        {
            int n = Math.Min(StepChunk, steps - t0);
            for (int t = 0; t < n; t++)
                a.Slice((t0 + t) * aStride + from, left).CopyTo(aPad.Slice(t * p));
            OuterProducts<Vector128<T>, Width128<T>, T>(cPad, m, p, 0, b.Slice(t0 * bStride), bStride, aPad, p, n, packB: false);
        }
        for (int j = 0; j < m; j++)
            cPad.Slice(j * p, left).CopyTo(ct.Slice(j * rn + from));
    }

    // C[0 .. rows, 0 .. TC vectors] += Σ_t a_t ⊗ b_t for one tile of columns: rows in groups of four (sixteen accumulators
    // with four vectors), then the last one to three; cr points at the tile's first element, rows of C cols apart.
    private static void OuterColumns<TV, TW, T, TC>(ref T cr, int rows, int cols, ref T ar, int aStride, ref T br, int bStride, int steps)
        where TV : struct where TW : struct, ISimdWidth<T, TV> where T : unmanaged, INumber<T> where TC : struct, ICount
    {
        int r = 0;
        if (!Simd.HasManyRegisters<TV, T>())
        {
            // 16 vector registers: rows in pairs (four rows of four vectors, with the four loaded, spill there; on a Zen 3
            // the character model's Backward of 16 lanes × 50 steps took 15–16 µs per character against 19–25 with fours,
            // with the column tiles of Rows below); every element sums its steps in the same order
            for (; r + 2 <= rows; r += 2)
                OuterTile<TV, TW, T, TC, Two>(ref Unsafe.Add(ref cr, (nint)r * cols), cols, ref Unsafe.Add(ref ar, r), aStride, ref br, bStride, steps);
            if (r < rows)
                OuterTile<TV, TW, T, TC, One>(ref Unsafe.Add(ref cr, (nint)r * cols), cols, ref Unsafe.Add(ref ar, r), aStride, ref br, bStride, steps);
            return;
        }
        for (; r + 4 <= rows; r += 4)
            OuterTile<TV, TW, T, TC, Four>(ref Unsafe.Add(ref cr, (nint)r * cols), cols, ref Unsafe.Add(ref ar, r), aStride, ref br, bStride, steps);
        ref T c = ref Unsafe.Add(ref cr, (nint)r * cols);
        ref T a = ref Unsafe.Add(ref ar, r);
        switch (rows - r)
        {
            case 1: OuterTile<TV, TW, T, TC, One>(ref c, cols, ref a, aStride, ref br, bStride, steps); break;
            case 2: OuterTile<TV, TW, T, TC, Two>(ref c, cols, ref a, aStride, ref br, bStride, steps); break;
            case 3: OuterTile<TV, TW, T, TC, Three>(ref c, cols, ref a, aStride, ref br, bStride, steps); break;
        }
    }

    // TR rows of C (from c0, cols apart) by TC vectors of columns in registers; every step loads b_t's TC vectors once and
    // adds a_t[r]·b_t to each row r. a points at a_0[first row], b at b_0[first column].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OuterTile<TV, TW, T, TC, TR>(ref T c0, int cols, ref T a, int aStride, ref T b, int bStride, int steps)
        where TV : struct where TW : struct, ISimdWidth<T, TV> where T : unmanaged, INumber<T> where TC : struct, ICount where TR : struct, ICount
    {
        ref T c1 = ref Unsafe.Add(ref c0, TR.Count > 1 ? cols : 0);
        ref T c2 = ref Unsafe.Add(ref c0, TR.Count > 2 ? 2 * cols : 0);
        ref T c3 = ref Unsafe.Add(ref c0, TR.Count > 3 ? 3 * cols : 0);
        VectorQuad<TV, TW, T, TC> s0 = VectorQuad<TV, TW, T, TC>.Load(ref c0), s1 = default, s2 = default, s3 = default;
        if (TR.Count > 1) s1 = VectorQuad<TV, TW, T, TC>.Load(ref c1);
        if (TR.Count > 2) s2 = VectorQuad<TV, TW, T, TC>.Load(ref c2);
        if (TR.Count > 3) s3 = VectorQuad<TV, TW, T, TC>.Load(ref c3);
        for (int t = 0; t < steps; t++)
        {
            var w = VectorQuad<TV, TW, T, TC>.Load(ref Unsafe.Add(ref b, (nint)t * bStride));
            ref T at = ref Unsafe.Add(ref a, (nint)t * aStride);
            s0.MultiplyAdd(w, TW.Broadcast(at));
            if (TR.Count > 1) s1.MultiplyAdd(w, TW.Broadcast(Unsafe.Add(ref at, 1)));
            if (TR.Count > 2) s2.MultiplyAdd(w, TW.Broadcast(Unsafe.Add(ref at, 2)));
            if (TR.Count > 3) s3.MultiplyAdd(w, TW.Broadcast(Unsafe.Add(ref at, 3)));
        }
        s0.Store(ref c0);
        if (TR.Count > 1) s1.Store(ref c1);
        if (TR.Count > 2) s2.Store(ref c2);
        if (TR.Count > 3) s3.Store(ref c3);
    }

    // Up to four rows of C (steps) by four vectors of columns in registers: sixteen accumulators, so that for every row r
    // of B four loads and four broadcasts feed sixteen fused multiply–adds (then tiles of two vectors and of one for the
    // columns that do not fill four). B is walked in panels of PanelRows rows by one tile of columns, read from memory
    // once and then from L1 by every group of four steps; C is read and written once per panel. Every element of C sums
    // its terms in the order r = 0, 1, …, inner − 1, whatever the blocking. Columns from `from` on, as many as fill whole
    // vectors of TV; returns the first column left.
    private static int Rows<TV, TW, T>(Span<T> c, ReadOnlySpan<T> a, ReadOnlySpan<T> b, int inner, RowsShape shape, int from, bool accumulate)
        where TV : struct where TW : struct, ISimdWidth<T, TV> where T : unmanaged, INumber<T>
    {
        int p = TW.Count, cols = shape.Cols;
        ref T cr = ref MemoryMarshal.GetReference(c);
        ref T ar = ref MemoryMarshal.GetReference(a);
        ref T br = ref MemoryMarshal.GetReference(b);
        int k = from;
        // four vectors of columns by four steps fit 32 vector registers only; with 16, tiles of two vectors
        if (Simd.HasManyRegisters<TV, T>())
            for (; k + 4 * p <= cols; k += 4 * p)
                ColumnTile<TV, TW, T, Four>(ref ar, ref cr, ref br, inner, k, shape, accumulate);
        for (; k + 2 * p <= cols; k += 2 * p)
            ColumnTile<TV, TW, T, Two>(ref ar, ref cr, ref br, inner, k, shape, accumulate);
        for (; k + p <= cols; k += p)
            ColumnTile<TV, TW, T, One>(ref ar, ref cr, ref br, inner, k, shape, accumulate);
        return k;
    }

    // The columns from `from` on that fill no vector (at most three floats or one double), padded: B's last columns
    // copied into one zero-padded 128-bit vector per row (PadBlock rows at a time), C's into one per step (PadBlock
    // steps at a time), the vector tiles above run on the copies, and C's real columns are copied back. Every element
    // of C still sums its terms in the order r = 0, 1, …, inner − 1.
    private static void RowsLastColumns<T>(Span<T> c, ReadOnlySpan<T> a, ReadOnlySpan<T> b, int inner, RowsShape shape, int from, bool accumulate)
        where T : unmanaged, INumber<T>
    {
        int p = Vector128<T>.Count, m = shape.Cols - from;
        Span<T> bPack = stackalloc T[Math.Min(PadBlock, inner) * p];
        Span<T> cPack = stackalloc T[Math.Min(PadBlock, shape.Steps) * p];
        bPack.Clear();
        cPack.Clear();
        for (int t0 = 0; t0 < shape.Steps; t0 += PadBlock)
        {
            int tn = Math.Min(PadBlock, shape.Steps - t0);
            if (accumulate)
                for (int t = 0; t < tn; t++)
                    c.Slice((t0 + t) * shape.CStride + from, m).CopyTo(cPack.Slice(t * p));
            var packed = new RowsShape(shape.AStride, p, p, tn);
            for (int r0 = 0; r0 < inner; r0 += PadBlock)
            {
                int rn = Math.Min(PadBlock, inner - r0);
                for (int r = 0; r < rn; r++)
                    b.Slice((r0 + r) * shape.Cols + from, m).CopyTo(bPack.Slice(r * p));
                ColumnTile<Vector128<T>, Width128<T>, T, One>(ref MemoryMarshal.GetReference(a.Slice(t0 * shape.AStride + r0)),
                    ref MemoryMarshal.GetReference(cPack), ref MemoryMarshal.GetReference(bPack), rn, 0, packed, accumulate || r0 > 0);
            }
            for (int t = 0; t < tn; t++)
                cPack.Slice(t * p, m).CopyTo(c.Slice((t0 + t) * shape.CStride + from));
        }
    }

    private readonly record struct RowsShape(int AStride, int CStride, int Cols, int Steps);

    // Columns k .. k + TC.Count vectors of every row of C, panel by panel of B.
    private static void ColumnTile<TV, TW, T, TC>(ref T a, ref T c, ref T b, int inner, int k, RowsShape shape, bool accumulate)
        where TV : struct where TW : struct, ISimdWidth<T, TV> where T : unmanaged, INumber<T> where TC : struct, ICount
    {
        int grouped = shape.Steps - shape.Steps % 4;
        for (int r0 = 0; r0 < inner; r0 += PanelRows)
        {
            int rn = Math.Min(PanelRows, inner - r0);
            bool add = accumulate || r0 > 0;       // the first panel overwrites C unless asked to accumulate
            ref T panel = ref Unsafe.Add(ref b, (nint)r0 * shape.Cols + k);
            ref T a0 = ref Unsafe.Add(ref a, r0);
            int t = 0;
            for (; t < grouped; t += 4)
                RowTile<TV, TW, T, TC, Four>(ref Unsafe.Add(ref a0, (nint)t * shape.AStride), shape.AStride, ref Unsafe.Add(ref c, (nint)t * shape.CStride + k), shape.CStride, ref panel, rn, shape.Cols, add);
            ref T at = ref Unsafe.Add(ref a0, (nint)t * shape.AStride);
            ref T ct = ref Unsafe.Add(ref c, (nint)t * shape.CStride + k);
            switch (shape.Steps - t)
            {
                case 1: RowTile<TV, TW, T, TC, One>(ref at, shape.AStride, ref ct, shape.CStride, ref panel, rn, shape.Cols, add); break;
                case 2: RowTile<TV, TW, T, TC, Two>(ref at, shape.AStride, ref ct, shape.CStride, ref panel, rn, shape.Cols, add); break;
                case 3: RowTile<TV, TW, T, TC, Three>(ref at, shape.AStride, ref ct, shape.CStride, ref panel, rn, shape.Cols, add); break;
            }
        }
    }

    // c_i[.. TC vectors] (+)= Σ_r a_i[r] · B[r, ..] for the TR.Count rows i of a and c starting at a0 and c0 (aStride and
    // cStride apart); b points at the panel's first row, at the tile's first column.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowTile<TV, TW, T, TC, TR>(ref T a0, int aStride, ref T c0, int cStride, ref T b, int inner, int cols, bool accumulate)
        where TV : struct where TW : struct, ISimdWidth<T, TV> where T : unmanaged, INumber<T> where TC : struct, ICount where TR : struct, ICount
    {
        ref T a1 = ref Unsafe.Add(ref a0, TR.Count > 1 ? aStride : 0);
        ref T a2 = ref Unsafe.Add(ref a0, TR.Count > 2 ? 2 * aStride : 0);
        ref T a3 = ref Unsafe.Add(ref a0, TR.Count > 3 ? 3 * aStride : 0);
        ref T c1 = ref Unsafe.Add(ref c0, TR.Count > 1 ? cStride : 0);
        ref T c2 = ref Unsafe.Add(ref c0, TR.Count > 2 ? 2 * cStride : 0);
        ref T c3 = ref Unsafe.Add(ref c0, TR.Count > 3 ? 3 * cStride : 0);
        VectorQuad<TV, TW, T, TC> s0 = default, s1 = default, s2 = default, s3 = default;
        if (accumulate)
        {
            s0 = VectorQuad<TV, TW, T, TC>.Load(ref c0);
            if (TR.Count > 1) s1 = VectorQuad<TV, TW, T, TC>.Load(ref c1);
            if (TR.Count > 2) s2 = VectorQuad<TV, TW, T, TC>.Load(ref c2);
            if (TR.Count > 3) s3 = VectorQuad<TV, TW, T, TC>.Load(ref c3);
        }
        for (int r = 0; r < inner; r++)
        {
            var w = VectorQuad<TV, TW, T, TC>.Load(ref Unsafe.Add(ref b, (nint)r * cols));
            s0.MultiplyAdd(w, TW.Broadcast(Unsafe.Add(ref a0, r)));
            if (TR.Count > 1) s1.MultiplyAdd(w, TW.Broadcast(Unsafe.Add(ref a1, r)));
            if (TR.Count > 2) s2.MultiplyAdd(w, TW.Broadcast(Unsafe.Add(ref a2, r)));
            if (TR.Count > 3) s3.MultiplyAdd(w, TW.Broadcast(Unsafe.Add(ref a3, r)));
        }
        s0.Store(ref c0);
        if (TR.Count > 1) s1.Store(ref c1);
        if (TR.Count > 2) s2.Store(ref c2);
        if (TR.Count > 3) s3.Store(ref c3);
    }

    private static void CheckMatrix(int length, int rows, int cols, string name)
    {
        if (rows < 0 || cols < 0 || length != (long)rows * cols)
            throw new ArgumentException($"{name} has length {length}; a [{rows}, {cols}] matrix needs {(long)rows * cols}.", name);
    }

    private static void CheckStepMajor(int length, int steps, int stride, int width, string name)
    {
        if (steps < 0 || width < 0 || stride < width)
            throw new ArgumentException($"{name}: stride {stride} must be at least the row width {width}.", name);
        if (steps > 0 && length < (long)(steps - 1) * stride + width)
            throw new ArgumentException($"{name} has length {length}; {steps} rows of {width} at stride {stride} need {(long)(steps - 1) * stride + width}.", name);
    }
}
