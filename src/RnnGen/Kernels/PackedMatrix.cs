using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RnnGen.Kernels;

/// <summary>
/// A private, repacked copy of <c>y = b + W·[x₁; x₂]</c> — one or two row-major weight matrices side by side
/// (e.g. <c>[weight_ih | weight_hh]</c>) and the sum of up to two bias vectors — laid out for streaming
/// matrix–vector products, one lane (batch 1) or several lanes at once.
/// </summary>
/// <remarks>
/// <para>Layout: rows are grouped in blocks of <see cref="BlockRows"/> (four SIMD vectors); inside a block the
/// weights are stored column by column, so the product reads one contiguous stream and each column costs one
/// broadcast of <c>x[k]</c> per lane and four fused multiply–adds per lane. No horizontal sums, one pass over memory
/// per group of lanes. Rows past <see cref="Rows"/> are zero padding. The packed copy starts on a 64-byte boundary
/// (in the pinned object heap), so no vector load straddles two cache lines.</para>
/// <para>The PyTorch-layout parameters stay the truth: generated models <see cref="Pack"/> this copy from them in
/// <c>ParametersChanged()</c>.</para>
/// <para>Every lane's row sums its columns in the same order whatever the number of lanes, so a multi-lane product
/// equals the one-lane products bit for bit. An instance keeps a scratch block for the last, partial block of rows:
/// do not multiply with one instance from two threads at once.</para>
/// </remarks>
public sealed class PackedMatrix<T> where T : unmanaged, INumber<T>
{
    // Lanes whose accumulators share one pass over a block: a tile of four row vectors by up to four lanes is
    // 16 accumulators, which with the four weight vectors and the broadcasts fits the 32 AVX-512 registers and keeps
    // the tile bound by the multiply-adds, not by loads. (Measured on Zen 5: tiles of up to six lanes were no faster
    // at 1–16 lanes; eight row vectors by two lanes, or half blocks by four to six lanes, were slower.)
    private const int MaxTileLanes = 4;

    private readonly T[] _packed;    // [padding to 64 bytes | bias (blocks · block) | weights (blocks · block · columns)]
    private readonly int _bias;      // offset of the bias in _packed (64-byte aligned)
    private readonly int _weights;   // offset of the weights in _packed (64-byte aligned)
    private readonly int _block;
    private readonly T[] _tail;      // a tile of outputs (MaxTileLanes blocks), for the last partial block

    /// <summary>Creates a zero matrix of <paramref name="rows"/> × (<paramref name="leftColumns"/> + <paramref name="rightColumns"/>).</summary>
    public PackedMatrix(int rows, int leftColumns, int rightColumns = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(leftColumns);
        ArgumentOutOfRangeException.ThrowIfNegative(rightColumns);
        Rows = rows;
        LeftColumns = leftColumns;
        RightColumns = rightColumns;
        _block = 4 * Simd.Width<T>();
        int padded = checked((rows + _block - 1) / _block * _block);
        _packed = Simd.AllocateAligned<T>(checked(padded + padded * (leftColumns + rightColumns)), out _bias);
        _weights = _bias + padded;
        _tail = new T[MaxTileLanes * _block];
    }

    /// <summary>Output rows.</summary>
    public int Rows { get; }

    /// <summary>Columns of the first matrix (length of <c>x₁</c>).</summary>
    public int LeftColumns { get; }

    /// <summary>Columns of the second matrix (length of <c>x₂</c>; 0 when there is one matrix).</summary>
    public int RightColumns { get; }

    /// <summary>Rows per block: four vectors of this machine's widest accelerated SIMD width.</summary>
    public int BlockRows => _block;

    /// <summary>
    /// Copies row-major <paramref name="left"/> (Rows × LeftColumns) and <paramref name="right"/> (Rows × RightColumns)
    /// into the packed layout, and <paramref name="bias1"/> + <paramref name="bias2"/> (either may be empty) into the bias.
    /// </summary>
    public void Pack(ReadOnlySpan<T> left, ReadOnlySpan<T> right, ReadOnlySpan<T> bias1, ReadOnlySpan<T> bias2)
    {
        Check(left.Length, Rows * LeftColumns, nameof(left));
        Check(right.Length, Rows * RightColumns, nameof(right));
        if (!bias1.IsEmpty) Check(bias1.Length, Rows, nameof(bias1));
        if (!bias2.IsEmpty) Check(bias2.Length, Rows, nameof(bias2));
        int columns = LeftColumns + RightColumns;
        Span<T> weights = _packed.AsSpan(_weights);
        // write the packed copy in order, block by block and column by column (the reads stay within one block of rows)
        for (int row0 = 0; row0 < Rows; row0 += _block)
        {
            int n = Math.Min(_block, Rows - row0);
            Span<T> block = weights.Slice(row0 * columns, _block * columns);
            for (int k = 0; k < columns; k++)
            {
                Span<T> column = block.Slice(k * _block, n);
                if (k < LeftColumns)
                    for (int i = 0; i < n; i++) column[i] = left[(row0 + i) * LeftColumns + k];
                else
                    for (int i = 0; i < n; i++) column[i] = right[(row0 + i) * RightColumns + (k - LeftColumns)];
            }
        }
        Span<T> bias = _packed.AsSpan(_bias, Rows);
        for (int r = 0; r < Rows; r++)
            bias[r] = (bias1.IsEmpty ? T.Zero : bias1[r]) + (bias2.IsEmpty ? T.Zero : bias2[r]);
    }

    /// <summary>
    /// <c>y = b + W·[x₁; x₂]</c>, overwriting <paramref name="y"/> (Rows long): the one-lane case of
    /// <see cref="Multiply(int, ReadOnlySpan{T}, int, ReadOnlySpan{T}, int, Span{T}, int)"/>.
    /// <paramref name="y"/> must not overlap <paramref name="x1"/> or <paramref name="x2"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A span has the wrong length, or <paramref name="y"/> overlaps an input.</exception>
    public void Multiply(ReadOnlySpan<T> x1, ReadOnlySpan<T> x2, Span<T> y)
    {
        Check(x1.Length, LeftColumns, nameof(x1));
        Check(x2.Length, RightColumns, nameof(x2));
        Check(y.Length, Rows, nameof(y));
        if (y.Overlaps(x1)) ThrowOverlap(nameof(x1));
        if (y.Overlaps(x2)) ThrowOverlap(nameof(x2));
        Dispatch(1, x1, LeftColumns, x2, RightColumns, y, Rows);
    }

    /// <summary>
    /// The product for several lanes (independent sequences) at once: for every lane <c>b</c> in
    /// [0, <paramref name="lanes"/>), <c>y[b·yStride ..][..Rows] = bias + W·[x₁[b·x1Stride ..][..LeftColumns]; x₂[b·x2Stride ..][..RightColumns]]</c>.
    /// Each weight vector loaded feeds a tile of up to four lanes, so the weights are streamed about once per four
    /// lanes instead of once per lane.
    /// </summary>
    /// <param name="lanes">Number of lanes; 0 does nothing.</param>
    /// <param name="x1">The lanes' left inputs, lane <c>b</c> at <c>b·x1Stride</c>; ignored (may be empty) when <see cref="LeftColumns"/> is 0.</param>
    /// <param name="x1Stride">Distance between two lanes of <paramref name="x1"/>, at least <see cref="LeftColumns"/>.</param>
    /// <param name="x2">The lanes' right inputs, lane <c>b</c> at <c>b·x2Stride</c>; ignored (may be empty) when <see cref="RightColumns"/> is 0.</param>
    /// <param name="x2Stride">Distance between two lanes of <paramref name="x2"/>, at least <see cref="RightColumns"/>.</param>
    /// <param name="y">The outputs, lane <c>b</c> at <c>b·yStride</c>. Only each lane's <see cref="Rows"/> values are
    /// written (whatever lies between them is left alone); they must not overlap any lane's input values.</param>
    /// <param name="yStride">Distance between two lanes of <paramref name="y"/>, at least <see cref="Rows"/>.</param>
    /// <exception cref="ArgumentException">A stride is shorter than its row, a span is too short for its lanes, or an
    /// output value overlaps an input value; thrown before anything is written.</exception>
    public void Multiply(int lanes, ReadOnlySpan<T> x1, int x1Stride, ReadOnlySpan<T> x2, int x2Stride, Span<T> y, int yStride)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lanes);
        // an input of no columns is not read: its span and stride are ignored
        if (LeftColumns == 0) x1Stride = 0; else CheckLanes(x1.Length, lanes, x1Stride, LeftColumns, nameof(x1));
        if (RightColumns == 0) x2Stride = 0; else CheckLanes(x2.Length, lanes, x2Stride, RightColumns, nameof(x2));
        CheckLanes(y.Length, lanes, yStride, Rows, nameof(y));
        if (lanes == 0) return;
        CheckNoOverlap(lanes, x1, x1Stride, LeftColumns, y, yStride, nameof(x1));
        CheckNoOverlap(lanes, x2, x2Stride, RightColumns, y, yStride, nameof(x2));
        Dispatch(lanes, x1, x1Stride, x2, x2Stride, y, yStride);
    }

    private void Dispatch(int lanes, ReadOnlySpan<T> x1, int x1Stride, ReadOnlySpan<T> x2, int x2Stride, Span<T> y, int yStride)
    {
        if (Vector512.IsHardwareAccelerated)
            Run<Vector512<T>, Width512<T>>(lanes, x1, x1Stride, x2, x2Stride, y, yStride);
        else if (Vector256.IsHardwareAccelerated)
            Run<Vector256<T>, Width256<T>>(lanes, x1, x1Stride, x2, x2Stride, y, yStride);
        else
            Run<Vector128<T>, Width128<T>>(lanes, x1, x1Stride, x2, x2Stride, y, yStride);
    }

    // Block by block; inside a block, the lanes in groups of up to MaxTileLanes (as even as possible: 5 = 3 + 2),
    // so that a block's weights, read once from memory, serve the later groups from the cache.
    private void Run<TV, TW>(int lanes, ReadOnlySpan<T> x1, int x1Stride, ReadOnlySpan<T> x2, int x2Stride, Span<T> y, int yStride)
        where TV : struct
        where TW : struct, ISimdWidth<T, TV>
    {
        // the first `larger` groups take one lane more
        int groups = (lanes + MaxTileLanes - 1) / MaxTileLanes;
        var lanesArgs = groups == 1 ? new LaneGroups(lanes, lanes, 0) : new LaneGroups(lanes, lanes / groups, lanes % groups);
        var args = new TileArgs(x1Stride, x2Stride, yStride);
        nint blockWeights = (nint)_block * (LeftColumns + RightColumns);
        ref T w = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_packed), _weights);
        ref T b = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_packed), _bias);
        ref T x1r = ref MemoryMarshal.GetReference(x1);
        ref T x2r = ref MemoryMarshal.GetReference(x2);
        ref T yr = ref MemoryMarshal.GetReference(y);
        int row = 0;
        for (; row + _block <= Rows; row += _block)
        {
            Block<TV, TW>(ref w, ref b, ref x1r, ref x2r, ref Unsafe.Add(ref yr, row), args, lanesArgs);
            w = ref Unsafe.Add(ref w, blockWeights);
            b = ref Unsafe.Add(ref b, _block);
        }
        if (row < Rows)
            LastBlock<TV, TW>(ref w, ref b, ref x1r, ref x2r, y.Slice(row), args, lanesArgs, Rows - row);
    }

    private readonly record struct LaneGroups(int Lanes, int Small, int Larger);

    // Every lane of one whole block, straight into y.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Block<TV, TW>(ref T w, ref T b, ref T x1, ref T x2, ref T y, TileArgs args, LaneGroups lanes)
        where TV : struct
        where TW : struct, ISimdWidth<T, TV>
    {
        for (int lane = 0, group = 0; lane < lanes.Lanes; group++)
        {
            int n = group < lanes.Larger ? lanes.Small + 1 : lanes.Small;
            Tile<TV, TW>(n, ref w, ref b, ref Unsafe.Add(ref x1, lane * args.X1Stride), ref Unsafe.Add(ref x2, lane * args.X2Stride),
                ref Unsafe.Add(ref y, lane * args.YStride), args);
            lane += n;
        }
    }

    // The last, partial block: each group of lanes through the scratch, so that nothing past Rows is written.
    private void LastBlock<TV, TW>(ref T w, ref T b, ref T x1, ref T x2, Span<T> y, TileArgs args, LaneGroups lanes, int rows)
        where TV : struct
        where TW : struct, ISimdWidth<T, TV>
    {
        var scratch = args with { YStride = _block };
        for (int lane = 0, group = 0; lane < lanes.Lanes; group++)
        {
            int n = group < lanes.Larger ? lanes.Small + 1 : lanes.Small;
            Tile<TV, TW>(n, ref w, ref b, ref Unsafe.Add(ref x1, lane * args.X1Stride), ref Unsafe.Add(ref x2, lane * args.X2Stride),
                ref MemoryMarshal.GetArrayDataReference(_tail), scratch);
            for (int i = 0; i < n; i++)
                _tail.AsSpan(i * _block, rows).CopyTo(y.Slice((int)((lane + i) * args.YStride), rows));
            lane += n;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Tile<TV, TW>(int lanes, ref T w, ref T b, ref T x1, ref T x2, ref T y, TileArgs args)
        where TV : struct
        where TW : struct, ISimdWidth<T, TV>
    {
        switch (lanes)
        {
            case 1: Tile<TV, TW, One>(ref w, ref b, ref x1, ref x2, ref y, args); break;
            case 2: Tile<TV, TW, Two>(ref w, ref b, ref x1, ref x2, ref y, args); break;
            case 3: Tile<TV, TW, Three>(ref w, ref b, ref x1, ref x2, ref y, args); break;
            default: Tile<TV, TW, Four>(ref w, ref b, ref x1, ref x2, ref y, args); break;
        }
    }

    private readonly record struct TileArgs(nint X1Stride, nint X2Stride, nint YStride);

    // One block of rows (four vectors) by TL.Count lanes: y_l = b + W·[x1_l; x2_l]. The left columns, then the right
    // ones (the weight stream continues); each column's four weight vectors are loaded once for all the lanes of the
    // tile. Every lane sums its columns in the same order whatever the tile size, so results do not depend on batching.
    private void Tile<TV, TW, TL>(ref T w, ref T bias, ref T x1, ref T x2, ref T y, TileArgs args)
        where TV : struct
        where TW : struct, ISimdWidth<T, TV>
        where TL : struct, ICount
    {
        nint block = _block;
        Quad<TV> a0 = Quad<TV>.Load<TW>(ref bias), a1 = a0, a2 = a0, a3 = a0;
        ref T x = ref x1;
        nint stride = args.X1Stride;
        int count = LeftColumns;
        for (int part = 0; part < 2; part++)
        {
            // two columns per iteration: measurably faster than one at batch 1 (the loop, not the sum, is unrolled)
            int k = 0;
            for (; k + 2 <= count; k += 2)
            {
                Column<TV, TW, TL>(ref a0, ref a1, ref a2, ref a3, ref w, ref Unsafe.Add(ref x, k), stride);
                Column<TV, TW, TL>(ref a0, ref a1, ref a2, ref a3, ref Unsafe.Add(ref w, block), ref Unsafe.Add(ref x, k + 1), stride);
                w = ref Unsafe.Add(ref w, 2 * block);
            }
            if (k < count)
            {
                Column<TV, TW, TL>(ref a0, ref a1, ref a2, ref a3, ref w, ref Unsafe.Add(ref x, k), stride);
                w = ref Unsafe.Add(ref w, block);
            }
            x = ref x2;
            stride = args.X2Stride;
            count = RightColumns;
        }
        a0.Store<TW>(ref y);
        if (TL.Count > 1) a1.Store<TW>(ref Unsafe.Add(ref y, args.YStride));
        if (TL.Count > 2) a2.Store<TW>(ref Unsafe.Add(ref y, 2 * args.YStride));
        if (TL.Count > 3) a3.Store<TW>(ref Unsafe.Add(ref y, 3 * args.YStride));
    }

    // a_l += w · x_l[0] for the tile's lanes, x_l at l·stride. One lane takes the weights as memory operands of its
    // fused multiply-adds; several lanes load them into registers once.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Column<TV, TW, TL>(ref Quad<TV> a0, ref Quad<TV> a1, ref Quad<TV> a2, ref Quad<TV> a3, ref T w, ref T x, nint stride)
        where TV : struct
        where TW : struct, ISimdWidth<T, TV>
        where TL : struct, ICount
    {
        if (TL.Count == 1)
        {
            a0.MultiplyAdd<TW>(ref w, TW.Broadcast(x));
            return;
        }
        Quad<TV> wk = Quad<TV>.Load<TW>(ref w);
        a0.MultiplyAdd<TW>(wk, TW.Broadcast(x));
        a1.MultiplyAdd<TW>(wk, TW.Broadcast(Unsafe.Add(ref x, stride)));
        if (TL.Count > 2) a2.MultiplyAdd<TW>(wk, TW.Broadcast(Unsafe.Add(ref x, 2 * stride)));
        if (TL.Count > 3) a3.MultiplyAdd<TW>(wk, TW.Broadcast(Unsafe.Add(ref x, 3 * stride)));
    }

    // Four consecutive SIMD vectors: one lane's share of a block of rows.
    private struct Quad<TV> where TV : struct
    {
        private TV _v0, _v1, _v2, _v3;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Quad<TV> Load<TW>(ref T source) where TW : struct, ISimdWidth<T, TV>
        {
            int p = TW.Count;
            Quad<TV> q;
            q._v0 = TW.Load(ref source, 0);
            q._v1 = TW.Load(ref source, p);
            q._v2 = TW.Load(ref source, 2 * p);
            q._v3 = TW.Load(ref source, 3 * p);
            return q;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Store<TW>(ref T destination) where TW : struct, ISimdWidth<T, TV>
        {
            int p = TW.Count;
            TW.Store(_v0, ref destination, 0);
            TW.Store(_v1, ref destination, p);
            TW.Store(_v2, ref destination, 2 * p);
            TW.Store(_v3, ref destination, 3 * p);
        }

        /// <summary>this += w · x, w read from memory.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void MultiplyAdd<TW>(ref T w, TV x) where TW : struct, ISimdWidth<T, TV>
        {
            int p = TW.Count;
            _v0 = TW.MultiplyAdd(TW.Load(ref w, 0), x, _v0);
            _v1 = TW.MultiplyAdd(TW.Load(ref w, p), x, _v1);
            _v2 = TW.MultiplyAdd(TW.Load(ref w, 2 * p), x, _v2);
            _v3 = TW.MultiplyAdd(TW.Load(ref w, 3 * p), x, _v3);
        }

        /// <summary>this += w · x.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void MultiplyAdd<TW>(in Quad<TV> w, TV x) where TW : struct, ISimdWidth<T, TV>
        {
            _v0 = TW.MultiplyAdd(w._v0, x, _v0);
            _v1 = TW.MultiplyAdd(w._v1, x, _v1);
            _v2 = TW.MultiplyAdd(w._v2, x, _v2);
            _v3 = TW.MultiplyAdd(w._v3, x, _v3);
        }
    }

    private static void Check(int actual, int expected, string name)
    {
        if (actual != expected)
            throw new ArgumentException($"{name} has length {actual}; expected {expected}.", name);
    }

    private static void CheckLanes(int length, int lanes, int stride, int width, string name)
    {
        if (stride < width)
            throw new ArgumentException($"{name}: stride {stride} must be at least the row width {width}.", name);
        if (lanes > 0 && length < (long)(lanes - 1) * stride + width)
            throw new ArgumentException($"{name} has length {length}; {lanes} lanes of {width} at stride {stride} need {(long)(lanes - 1) * stride + width}.", name);
    }

    // Whether some output value y[b·yStride + r] (r < Rows) is also an input value x[c·xStride + k] (k < width), for
    // lanes b, c: first the spans' extents, then, only for interleaved layouts in one buffer, lane by lane.
    private void CheckNoOverlap(int lanes, ReadOnlySpan<T> x, int xStride, int width, Span<T> y, int yStride, string name)
    {
        if (width == 0) return;
        long size = Unsafe.SizeOf<T>();
        long offset = Unsafe.ByteOffset(ref MemoryMarshal.GetReference(y), ref MemoryMarshal.GetReference(x)); // x − y, bytes
        long yEnd = ((long)(lanes - 1) * yStride + Rows) * size, xEnd = offset + ((long)(lanes - 1) * xStride + width) * size;
        if (xEnd > 0 && offset < yEnd && LanesOverlap(lanes, offset, xStride, width, yStride))
            ThrowOverlap(name);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool LanesOverlap(int lanes, long offset, int xStride, int width, int yStride)
    {
        long size = Unsafe.SizeOf<T>();
        if (offset % size != 0) return true; // a misaligned alias of the same memory
        long d = offset / size;
        for (int b = 0; b < lanes; b++)
        {
            // the x lanes c with d + c·xStride < b·yStride + Rows and d + c·xStride + width > b·yStride (xStride ≥ width > 0)
            long start = (long)b * yStride;
            long cLast = FloorDivide(start + Rows - 1 - d, xStride);
            long cFirst = -FloorDivide(d + width - 1 - start, xStride); // ⌈(start − width + 1 − d) / xStride⌉
            if (Math.Max(cFirst, 0) <= Math.Min(cLast, lanes - 1)) return true;
        }
        return false;
    }

    [DoesNotReturn]
    private static void ThrowOverlap(string name) =>
        throw new ArgumentException($"y overlaps {name}: the outputs must not share memory with the inputs.", "y");

    private static long FloorDivide(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);
}

/// <summary>
/// The columns of a row-major matrix (Rows × Columns) stored as contiguous rows, each with up to two bias vectors
/// folded in: the input projection of a token model, where "W times a one-hot vector plus the bias" becomes one
/// vector add. Refreshed from the parameters by <see cref="Pack"/>.
/// </summary>
public sealed class TransposedMatrix<T> where T : unmanaged, INumber<T>
{
    private readonly T[] _values;

    /// <summary>Creates a zero copy of a Rows × Columns matrix.</summary>
    public TransposedMatrix(int rows, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        Rows = rows;
        Columns = columns;
        _values = new T[checked(rows * columns)];
    }

    /// <summary>Rows of the original matrix.</summary>
    public int Rows { get; }

    /// <summary>Columns of the original matrix.</summary>
    public int Columns { get; }

    /// <summary>Stores column c of row-major <paramref name="matrix"/> plus <paramref name="bias1"/> + <paramref name="bias2"/> (either may be empty) as row c.</summary>
    public void Pack(ReadOnlySpan<T> matrix, ReadOnlySpan<T> bias1, ReadOnlySpan<T> bias2)
    {
        if (matrix.Length != _values.Length)
            throw new ArgumentException($"matrix has length {matrix.Length}; expected {_values.Length}.", nameof(matrix));
        if (!bias1.IsEmpty && bias1.Length != Rows) throw new ArgumentException($"bias1 has length {bias1.Length}; expected {Rows}.", nameof(bias1));
        if (!bias2.IsEmpty && bias2.Length != Rows) throw new ArgumentException($"bias2 has length {bias2.Length}; expected {Rows}.", nameof(bias2));
        for (int c = 0; c < Columns; c++)
        {
            Span<T> row = _values.AsSpan(c * Rows, Rows);
            for (int r = 0; r < Rows; r++)
                row[r] = matrix[r * Columns + c] + (bias1.IsEmpty ? T.Zero : bias1[r]) + (bias2.IsEmpty ? T.Zero : bias2[r]);
        }
    }

    /// <summary><c>y += W[:, column] + bias</c>.</summary>
    public void AddColumn(int column, Span<T> y)
    {
        if ((uint)column >= (uint)Columns) throw new ArgumentOutOfRangeException(nameof(column));
        System.Numerics.Tensors.TensorPrimitives.Add(y, new ReadOnlySpan<T>(_values, column * Rows, Rows), y);
    }

    /// <summary><c>y = W[:, column] + bias</c>.</summary>
    public void CopyColumn(int column, Span<T> y)
    {
        if ((uint)column >= (uint)Columns) throw new ArgumentOutOfRangeException(nameof(column));
        new ReadOnlySpan<T>(_values, column * Rows, Rows).CopyTo(y);
    }
}
