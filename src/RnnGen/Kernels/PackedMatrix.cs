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
/// do not multiply with one instance from two threads at once, except in disjoint row slices (the parts of a
/// <see cref="CoreTeam"/>), of which only the one that ends at the last row uses the scratch.</para>
/// </remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)] // called by generated code; not an API to program against
public sealed class PackedMatrix<T> : IStreamedWeights where T : unmanaged, INumber<T>
{
    // Lanes whose accumulators share one pass over a block: a tile of four row vectors by up to four lanes is
    // 16 accumulators, which with the four weight vectors and the broadcasts fits the 32 AVX-512 registers and keeps
    // the tile bound by the multiply-adds, not by loads. (Measured on Zen 5: tiles of up to six lanes were no faster
    // at 1–16 lanes; eight row vectors by two lanes, or half blocks by four to six lanes, were slower.) With x64's 16 vector
    // registers (AVX2, SSE) a tile of four by four spills: there a tile has at most two lanes (8 accumulators and 4
    // weight vectors), which on a Zen 3 ran a lane Forward 15–20 % faster than four (three: about as fast as two).
    private const int MaxTileLanes = 4;

    // Lanes per tile for vectors of TV (a JIT-time constant): MaxTileLanes with 32 vector registers, two with 16.
    private static int TileLanes<TV>() where TV : struct => Simd.HasManyRegisters<TV, T>() ? MaxTileLanes : 2;

    private T[] _packed;             // [padding to 64 bytes | bias (blocks · block) | weights (blocks · block · columns)]
    private int _bias;               // offset of the bias in _packed (64-byte aligned)
    private int _weights;            // offset of the weights in _packed (64-byte aligned)
    private readonly int _length;    // elements from the bias on
    private readonly int _block;
    private readonly int _lastVectors; // vectors of the last block (4 unless Rows ends inside a block: then only as many as it needs)
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
        int partial = rows % _block, width = Simd.Width<T>();
        _lastVectors = partial == 0 ? 4 : (partial + width - 1) / width;
        int padded = checked((rows + _block - 1) / _block * _block);
        _length = checked(padded + padded * (leftColumns + rightColumns));
        _packed = Simd.AllocateAligned<T>(_length, out _bias);
        _weights = _bias + padded;
        _tail = new T[MaxTileLanes * _block];
    }

    /// <summary>Output rows.</summary>
    public int Rows { get; }

    int IStreamedWeights.StreamedBytes => _length * Unsafe.SizeOf<T>();

    WeightStorage IStreamedWeights.Storage => new(_packed, _bias * Unsafe.SizeOf<T>());

    WeightStorage IStreamedWeights.Allocate()
    {
        T[] array = Simd.AllocateAligned<T>(_length, out int start);
        return new(array, start * Unsafe.SizeOf<T>());
    }

    void IStreamedWeights.Use(WeightStorage storage)
    {
        // the kernels read it unchecked: refuse a storage that is not one Allocate could have made for this matrix
        int size = Unsafe.SizeOf<T>();
        if (storage.Array is not T[] array || storage.ByteOffset < 0 || storage.ByteOffset % size != 0
            || (long)array.Length * size - storage.ByteOffset < (long)_length * size)
            throw new ArgumentException($"storage must come from this matrix's Allocate(): a pinned {typeof(T).Name}[] with {_length} elements from its offset on.", nameof(storage));
        // the bias and weights keep their distance from the aligned start; the caller packs after this
        int padded = _weights - _bias;
        _packed = (T[])storage.Array;
        _bias = storage.ByteOffset / Unsafe.SizeOf<T>();
        _weights = _bias + padded;
    }

    /// <summary>Columns of the first matrix (length of <c>x₁</c>).</summary>
    public int LeftColumns { get; }

    /// <summary>Columns of the second matrix (length of <c>x₂</c>; 0 when there is one matrix).</summary>
    public int RightColumns { get; }

    /// <summary>Rows per block: four vectors of this machine's widest accelerated SIMD width.</summary>
    public int BlockRows => _block;

    /// <summary>Rows per block of every packed matrix of <typeparamref name="T"/> on this machine.</summary>
    internal static int BlockRowsOf => 4 * Simd.Width<T>();

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
        // block by block: a block stores its rows' columns one after the other (column k at k·height), which is the
        // transpose of its rows of [left | right]. A last block that Rows ends inside is only as high as the vectors it
        // needs (a head of 65 rows: 64 + 16, not 64 + 64), so its products read no more than a vector of padding per
        // column; its padding rows stay zero.
        for (int row0 = 0; row0 < Rows; row0 += _block)
        {
            int n = Math.Min(_block, Rows - row0);
            int height = n == _block ? _block : _lastVectors * Simd.Width<T>();
            Span<T> block = weights.Slice(row0 * columns, height * columns);
            PackTranspose.Transpose(left.Slice(row0 * LeftColumns, n * LeftColumns), n, LeftColumns, block, height);
            PackTranspose.Transpose(right.Slice(row0 * RightColumns, n * RightColumns), n, RightColumns, block.Slice(LeftColumns * height), height);
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
    public void Multiply(int lanes, ReadOnlySpan<T> x1, int x1Stride, ReadOnlySpan<T> x2, int x2Stride, Span<T> y, int yStride) =>
        Multiply(lanes, x1, x1Stride, x2, x2Stride, y, yStride, RowSlice.All(Rows));

    /// <summary>
    /// The rows <paramref name="rows"/> of the product for several lanes: as
    /// <see cref="Multiply(int, ReadOnlySpan{T}, int, ReadOnlySpan{T}, int, Span{T}, int)"/>, but only the rows of the slice
    /// are computed and written, so that the parts of a <see cref="CoreTeam"/> can share one product. Each row is summed
    /// exactly as in the whole product.
    /// </summary>
    /// <exception cref="ArgumentException">As for the whole product; or the slice's groups do not divide the rows, or one of
    /// its ranges does not start on a block (<see cref="BlockRows"/>) or end on one or at the last row.</exception>
    public void Multiply(int lanes, ReadOnlySpan<T> x1, int x1Stride, ReadOnlySpan<T> x2, int x2Stride, Span<T> y, int yStride, RowSlice rows)
    {
        CheckSlice(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(lanes);
        if (LeftColumns == 0) x1Stride = 0; else CheckLanes(x1.Length, lanes, x1Stride, LeftColumns, nameof(x1));
        if (RightColumns == 0) x2Stride = 0; else CheckLanes(x2.Length, lanes, x2Stride, RightColumns, nameof(x2));
        CheckLanes(y.Length, lanes, yStride, Rows, nameof(y));
        if (lanes == 0 || rows.IsEmpty) return;
        CheckNoOverlap(lanes, x1, x1Stride, LeftColumns, y, yStride, nameof(x1));
        CheckNoOverlap(lanes, x2, x2Stride, RightColumns, y, yStride, nameof(x2));
        int groupRows = Rows / rows.Groups;
        if (rows.From == 0 && rows.To == groupRows)
            Dispatch(lanes, x1, x1Stride, x2, x2Stride, y, yStride); // every row: one pass
        else
            for (int g = 0; g < rows.Groups; g++)
                Dispatch(lanes, x1, x1Stride, x2, x2Stride, y, yStride, g * groupRows + rows.From, g * groupRows + rows.To);
    }

    private void CheckSlice(RowSlice rows)
    {
        if (rows.Groups < 1 || Rows % rows.Groups != 0)
            throw new ArgumentException($"rows: {rows.Groups} groups do not divide the {Rows} rows.", nameof(rows));
        int groupRows = Rows / rows.Groups;
        if (rows.From < 0 || rows.To > groupRows || rows.From > rows.To)
            throw new ArgumentException($"rows: {rows.From} … {rows.To} is not a range within a group of {groupRows} rows (0 ≤ From ≤ To ≤ {groupRows}).", nameof(rows));
        if (rows.IsEmpty || (rows.From == 0 && rows.To == groupRows)) return; // nothing, or every row (one pass)
        for (int g = 0; g < rows.Groups; g++)
        {
            int start = g * groupRows + rows.From, end = g * groupRows + rows.To;
            if (start % _block != 0 || (end % _block != 0 && end != Rows))
                throw new ArgumentException($"rows: the range {start} … {end} must start on a block of {_block} rows and end on one or at the last row ({Rows}).", nameof(rows));
        }
    }

    private void Dispatch(int lanes, ReadOnlySpan<T> x1, int x1Stride, ReadOnlySpan<T> x2, int x2Stride, Span<T> y, int yStride, int rowStart = 0, int rowEnd = -1)
    {
        if (rowEnd < 0) rowEnd = Rows;
        if (Vector512.IsHardwareAccelerated)
            Run<Vector512<T>, Width512<T>>(lanes, x1, x1Stride, x2, x2Stride, y, yStride, rowStart, rowEnd);
        else if (Vector256.IsHardwareAccelerated)
            Run<Vector256<T>, Width256<T>>(lanes, x1, x1Stride, x2, x2Stride, y, yStride, rowStart, rowEnd);
        else
            Run<Vector128<T>, Width128<T>>(lanes, x1, x1Stride, x2, x2Stride, y, yStride, rowStart, rowEnd);
    }

    // Block by block over rows rowStart … rowEnd − 1 (rowStart on a block; rowEnd on one or at Rows); inside a block,
    // the lanes in groups of up to TileLanes (as even as possible: 5 = 3 + 2), so that a block's weights, read once
    // from memory, serve the later groups from the cache. Never inlined: inlined into a large caller (a generated
    // ForwardChunk, itself inlined through dynamic PGO), the JIT was seen to keep the tile's accumulators on the stack,
    // which made the product twice as slow.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Run<TV, TW>(int lanes, ReadOnlySpan<T> x1, int x1Stride, ReadOnlySpan<T> x2, int x2Stride, Span<T> y, int yStride, int rowStart, int rowEnd)
        where TV : struct
        where TW : struct, ISimdWidth<T, TV>
    {
        // the first `larger` groups take one lane more
        int groups = (lanes + TileLanes<TV>() - 1) / TileLanes<TV>();
        var lanesArgs = groups == 1 ? new LaneGroups(lanes, lanes, 0) : new LaneGroups(lanes, lanes / groups, lanes % groups);
        var args = new TileArgs(x1Stride, x2Stride, yStride);
        nint blockWeights = (nint)_block * (LeftColumns + RightColumns);
        ref T w = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_packed), _weights + (nint)(rowStart / _block) * blockWeights);
        ref T b = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_packed), _bias + rowStart);
        ref T x1r = ref MemoryMarshal.GetReference(x1);
        ref T x2r = ref MemoryMarshal.GetReference(x2);
        ref T yr = ref MemoryMarshal.GetReference(y);
        int row = rowStart;
        for (; row + _block <= rowEnd; row += _block)
        {
            Block<TV, TW>(ref w, ref b, ref x1r, ref x2r, ref Unsafe.Add(ref yr, row), args, lanesArgs);
            w = ref Unsafe.Add(ref w, blockWeights);
            b = ref Unsafe.Add(ref b, _block);
        }
        if (row < rowEnd)
            LastBlock<TV, TW>(ref w, ref b, ref x1r, ref x2r, y.Slice(row), args, lanesArgs, rowEnd - row);
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
            Tile<TV, TW, Four>(n, ref w, ref b, ref Unsafe.Add(ref x1, lane * args.X1Stride), ref Unsafe.Add(ref x2, lane * args.X2Stride),
                ref Unsafe.Add(ref y, lane * args.YStride), args);
            lane += n;
        }
    }

    // The last, partial block, _lastVectors high: each group of lanes through the scratch, so that nothing past Rows is
    // written.
    private void LastBlock<TV, TW>(ref T w, ref T b, ref T x1, ref T x2, Span<T> y, TileArgs args, LaneGroups lanes, int rows)
        where TV : struct
        where TW : struct, ISimdWidth<T, TV>
    {
        switch (_lastVectors)
        {
            case 1: LastBlock<TV, TW, One>(ref w, ref b, ref x1, ref x2, y, args, lanes, rows); break;
            case 2: LastBlock<TV, TW, Two>(ref w, ref b, ref x1, ref x2, y, args, lanes, rows); break;
            case 3: LastBlock<TV, TW, Three>(ref w, ref b, ref x1, ref x2, y, args, lanes, rows); break;
            default: LastBlock<TV, TW, Four>(ref w, ref b, ref x1, ref x2, y, args, lanes, rows); break;
        }
    }

    private void LastBlock<TV, TW, TQ>(ref T w, ref T b, ref T x1, ref T x2, Span<T> y, TileArgs args, LaneGroups lanes, int rows)
        where TV : struct
        where TW : struct, ISimdWidth<T, TV>
        where TQ : struct, ICount
    {
        var scratch = args with { YStride = _block };
        for (int lane = 0, group = 0; lane < lanes.Lanes; group++)
        {
            int n = group < lanes.Larger ? lanes.Small + 1 : lanes.Small;
            Tile<TV, TW, TQ>(n, ref w, ref b, ref Unsafe.Add(ref x1, lane * args.X1Stride), ref Unsafe.Add(ref x2, lane * args.X2Stride),
                ref MemoryMarshal.GetArrayDataReference(_tail), scratch);
            for (int i = 0; i < n; i++)
                _tail.AsSpan(i * _block, rows).CopyTo(y.Slice((int)((lane + i) * args.YStride), rows));
            lane += n;
        }
    }

    // A tile of TQ.Count row vectors (four in every whole block) by `lanes` lanes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Tile<TV, TW, TQ>(int lanes, ref T w, ref T b, ref T x1, ref T x2, ref T y, TileArgs args)
        where TV : struct
        where TW : struct, ISimdWidth<T, TV>
        where TQ : struct, ICount
    {
        switch (lanes)
        {
            case 1: Tile<TV, TW, One, TQ>(ref w, ref b, ref x1, ref x2, ref y, args); break;
            case 2: Tile<TV, TW, Two, TQ>(ref w, ref b, ref x1, ref x2, ref y, args); break;
            case 3: Tile<TV, TW, Three, TQ>(ref w, ref b, ref x1, ref x2, ref y, args); break;
            default: Tile<TV, TW, Four, TQ>(ref w, ref b, ref x1, ref x2, ref y, args); break;
        }
    }

    private readonly record struct TileArgs(nint X1Stride, nint X2Stride, nint YStride);

    // One block of rows (TQ.Count vectors: four, or fewer in a last partial block) by TL.Count lanes:
    // y_l = b + W·[x1_l; x2_l]. The left columns, then the right ones (the weight stream continues); each column's weight
    // vectors are loaded once for all the lanes of the tile. Every lane sums its columns in the same order whatever the
    // tile size, so results do not depend on batching.
    // Never inlined: this is the unit the JIT must compile whole, with its accumulators in registers. Inlined into Run
    // (dynamic PGO did so once several tile sizes had run), the inliner's budget ran out inside it: Column became a
    // call, the accumulators lived in memory, and multi-lane products ran at less than half their speed (a 13-lane
    // product of a 512 × 128 matrix: 20 µs instead of 7).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Tile<TV, TW, TL, TQ>(ref T w, ref T bias, ref T x1, ref T x2, ref T y, TileArgs args)
        where TV : struct
        where TW : struct, ISimdWidth<T, TV>
        where TL : struct, ICount
        where TQ : struct, ICount
    {
        nint block = TQ.Count * TW.Count; // the column stride of this block
        VectorQuad<TV, TW, T, TQ> a0 = VectorQuad<TV, TW, T, TQ>.Load(ref bias), a1 = a0, a2 = a0, a3 = a0;
        ref T x = ref x1;
        nint stride = args.X1Stride;
        int count = LeftColumns;
        for (int part = 0; part < 2; part++)
        {
            // two columns per iteration: measurably faster than one at batch 1 (the loop, not the sum, is unrolled)
            int k = 0;
            for (; k + 2 <= count; k += 2)
            {
                Column<TV, TW, TL, TQ>(ref a0, ref a1, ref a2, ref a3, ref w, ref Unsafe.Add(ref x, k), stride);
                Column<TV, TW, TL, TQ>(ref a0, ref a1, ref a2, ref a3, ref Unsafe.Add(ref w, block), ref Unsafe.Add(ref x, k + 1), stride);
                w = ref Unsafe.Add(ref w, 2 * block);
            }
            if (k < count)
            {
                Column<TV, TW, TL, TQ>(ref a0, ref a1, ref a2, ref a3, ref w, ref Unsafe.Add(ref x, k), stride);
                w = ref Unsafe.Add(ref w, block);
            }
            x = ref x2;
            stride = args.X2Stride;
            count = RightColumns;
        }
        a0.Store(ref y);
        if (TL.Count > 1) a1.Store(ref Unsafe.Add(ref y, args.YStride));
        if (TL.Count > 2) a2.Store(ref Unsafe.Add(ref y, 2 * args.YStride));
        if (TL.Count > 3) a3.Store(ref Unsafe.Add(ref y, 3 * args.YStride));
    }

    // a_l += w · x_l[0] for the tile's lanes, x_l at l·stride. One lane takes the weights as memory operands of its
    // fused multiply-adds; several lanes load them into registers once.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Column<TV, TW, TL, TQ>(ref VectorQuad<TV, TW, T, TQ> a0, ref VectorQuad<TV, TW, T, TQ> a1, ref VectorQuad<TV, TW, T, TQ> a2, ref VectorQuad<TV, TW, T, TQ> a3, ref T w, ref T x, nint stride)
        where TV : struct
        where TW : struct, ISimdWidth<T, TV>
        where TL : struct, ICount
        where TQ : struct, ICount
    {
        if (TL.Count == 1)
        {
            a0.MultiplyAdd(ref w, TW.Broadcast(x));
            return;
        }
        var wk = VectorQuad<TV, TW, T, TQ>.Load(ref w);
        a0.MultiplyAdd(wk, TW.Broadcast(x));
        a1.MultiplyAdd(wk, TW.Broadcast(Unsafe.Add(ref x, stride)));
        if (TL.Count > 2) a2.MultiplyAdd(wk, TW.Broadcast(Unsafe.Add(ref x, 2 * stride)));
        if (TL.Count > 3) a3.MultiplyAdd(wk, TW.Broadcast(Unsafe.Add(ref x, 3 * stride)));
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
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)] // called by generated code; not an API to program against
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
        // the transpose, then both biases added to every row in place (in this order: (w + b₁) + b₂, an absent bias being 0)
        PackTranspose.Transpose<T>(matrix, Rows, Columns, _values, Rows);
        for (int c = 0; c < Columns; c++)
            PackTranspose.AddBiases(_values.AsSpan(c * Rows, Rows), bias1, bias2);
    }

    /// <summary><c>y += W[:, column] + bias</c>; <paramref name="y"/> is <see cref="Rows"/> long.</summary>
    public void AddColumn(int column, Span<T> y)
    {
        if ((uint)column >= (uint)Columns) throw new ArgumentOutOfRangeException(nameof(column));
        CheckRows(y);
        System.Numerics.Tensors.TensorPrimitives.Add(y, new ReadOnlySpan<T>(_values, column * Rows, Rows), y);
    }

    /// <summary><c>y = W[:, column] + bias</c>; <paramref name="y"/> is <see cref="Rows"/> long.</summary>
    public void CopyColumn(int column, Span<T> y)
    {
        if ((uint)column >= (uint)Columns) throw new ArgumentOutOfRangeException(nameof(column));
        CheckRows(y);
        new ReadOnlySpan<T>(_values, column * Rows, Rows).CopyTo(y);
    }

    private void CheckRows(Span<T> y)
    {
        if (y.Length != Rows) throw new ArgumentException($"y has length {y.Length}; expected {Rows}.", nameof(y));
    }

    /// <summary><c>y += W[:, column] + bias</c> on the rows of <paramref name="rows"/> only (a part of a <see cref="CoreTeam"/>).</summary>
    public void AddColumn(int column, Span<T> y, RowSlice rows) => Column(column, y, rows, add: true);

    /// <summary><c>y = W[:, column] + bias</c> on the rows of <paramref name="rows"/> only (a part of a <see cref="CoreTeam"/>).</summary>
    public void CopyColumn(int column, Span<T> y, RowSlice rows) => Column(column, y, rows, add: false);

    private void Column(int column, Span<T> y, RowSlice rows, bool add)
    {
        if ((uint)column >= (uint)Columns) throw new ArgumentOutOfRangeException(nameof(column));
        if (rows.Groups < 1 || Rows % rows.Groups != 0)
            throw new ArgumentException($"rows: {rows.Groups} groups do not divide the {Rows} rows.", nameof(rows));
        if (rows.From < 0 || rows.To > Rows / rows.Groups || rows.From > rows.To)
            throw new ArgumentException($"rows: {rows.From} … {rows.To} is not a range within a group of {Rows / rows.Groups} rows (0 ≤ From ≤ To ≤ {Rows / rows.Groups}).", nameof(rows));
        if (y.Length < Rows) throw new ArgumentException($"y has length {y.Length}; expected at least {Rows}.", nameof(y));
        if (rows.IsEmpty) return;
        int groupRows = Rows / rows.Groups, n = rows.To - rows.From;
        if (n == groupRows)
        {
            if (add) AddColumn(column, y.Slice(0, Rows)); else CopyColumn(column, y.Slice(0, Rows)); // every row: one pass
            return;
        }
        for (int g = 0; g < rows.Groups; g++)
        {
            int start = g * groupRows + rows.From;
            var source = new ReadOnlySpan<T>(_values, column * Rows + start, n);
            var target = y.Slice(start, n);
            if (add)
                System.Numerics.Tensors.TensorPrimitives.Add(target, source, target);
            else
                source.CopyTo(target);
        }
    }
}

/// <summary>
/// The transposes behind <see cref="PackedMatrix{T}.Pack"/> and <see cref="TransposedMatrix{T}.Pack"/>: tile by tile, so
/// that both the rows read and the columns written stay in the L1 cache; on x86 with AVX each 8 × 8 tile of floats (4 × 4
/// of doubles) is transposed in registers, elsewhere element by element. A copy: the values are moved, never computed.
/// </summary>
internal static class PackTranspose
{
    /// <summary>
    /// <c>destination[k·stride + i] = source[i·columns + k]</c> for every row i &lt; <paramref name="rows"/> and column
    /// k &lt; <paramref name="columns"/> of the row-major <paramref name="source"/>; nothing else of
    /// <paramref name="destination"/> is written.
    /// </summary>
    public static void Transpose<T>(ReadOnlySpan<T> source, int rows, int columns, Span<T> destination, int stride) where T : unmanaged
    {
        if (rows == 0 || columns == 0) return;
        if (source.Length < rows * columns || stride < rows || destination.Length < (long)(columns - 1) * stride + rows)
            throw new ArgumentException($"A {rows} × {columns} transpose at stride {stride} does not fit spans of {source.Length} and {destination.Length}.");
        ref T src = ref MemoryMarshal.GetReference(source);
        ref T dst = ref MemoryMarshal.GetReference(destination);
        int tile = TileSize<T>();
        int tiledRows = tile == 0 ? 0 : rows - rows % tile, tiledColumns = tile == 0 ? 0 : columns - columns % tile;
        // a band of `tile` columns at a time, down all the rows: the band's source lines are read twice in a row (a
        // line holds two tiles' rows) and its destination rows are written contiguously
        for (int k = 0; k < tiledColumns; k += tile)
        {
            for (int i = 0; i < tiledRows; i += tile)
            {
                ref T from = ref Unsafe.Add(ref src, (nint)i * columns + k);
                ref T to = ref Unsafe.Add(ref dst, (nint)k * stride + i);
                if (typeof(T) == typeof(float))
                    TileFloat(ref Unsafe.As<T, float>(ref from), columns, ref Unsafe.As<T, float>(ref to), stride);
                else
                    TileDouble(ref Unsafe.As<T, double>(ref from), columns, ref Unsafe.As<T, double>(ref to), stride);
            }
        }
        // what the tiles leave: the last columns of the tiled rows, then the last rows (every column)
        Scalar(ref src, 0, tiledRows, tiledColumns, columns, columns, ref dst, stride);
        Scalar(ref src, tiledRows, rows, 0, columns, columns, ref dst, stride);
    }

    /// <summary>
    /// <paramref name="row"/>[i] = (row[i] + <paramref name="bias1"/>[i]) + <paramref name="bias2"/>[i], element by element, an
    /// empty bias being 0 — in one pass over the row instead of two (the character model's token copy packs in 6.35 µs
    /// instead of 6.7).
    /// </summary>
    public static void AddBiases<T>(Span<T> row, ReadOnlySpan<T> bias1, ReadOnlySpan<T> bias2) where T : unmanaged, INumber<T>
    {
        // x + 0 is x except for −0, which becomes +0: added all the same, so that an absent bias gives the bits of a zero one
        int n = row.Length, i = 0;
        if (!bias1.IsEmpty && bias1.Length != n) throw new ArgumentException($"bias1 has length {bias1.Length}; expected {n}.", nameof(bias1));
        if (!bias2.IsEmpty && bias2.Length != n) throw new ArgumentException($"bias2 has length {bias2.Length}; expected {n}.", nameof(bias2));
        ref T r = ref MemoryMarshal.GetReference(row);
        ref T b1 = ref MemoryMarshal.GetReference(bias1);
        ref T b2 = ref MemoryMarshal.GetReference(bias2);
        bool has1 = !bias1.IsEmpty, has2 = !bias2.IsEmpty;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i + Vector<T>.Count <= n; i += Vector<T>.Count)
            {
                var v = Vector.LoadUnsafe(ref r, (nuint)i);
                v += has1 ? Vector.LoadUnsafe(ref b1, (nuint)i) : Vector<T>.Zero;
                v += has2 ? Vector.LoadUnsafe(ref b2, (nuint)i) : Vector<T>.Zero;
                v.StoreUnsafe(ref r, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            T v = Unsafe.Add(ref r, i) + (has1 ? Unsafe.Add(ref b1, i) : T.Zero);
            Unsafe.Add(ref r, i) = v + (has2 ? Unsafe.Add(ref b2, i) : T.Zero);
        }
    }

    /// <summary>The tile edge transposed in registers for <typeparamref name="T"/> on this machine, or 0 (element by element).</summary>
    private static int TileSize<T>() where T : unmanaged
    {
        if (!System.Runtime.Intrinsics.X86.Avx.IsSupported) return 0;
        if (typeof(T) == typeof(float)) return 8;
        if (typeof(T) == typeof(double)) return 4;
        return 0;
    }

    private static void Scalar<T>(ref T src, int rowStart, int rowEnd, int columnStart, int columnEnd, int columns, ref T dst, int stride)
        where T : unmanaged
    {
        for (int k = columnStart; k < columnEnd; k++)
            for (int i = rowStart; i < rowEnd; i++)
                Unsafe.Add(ref dst, (nint)k * stride + i) = Unsafe.Add(ref src, (nint)i * columns + k);
    }

    // 8 rows of 8 floats in, 8 columns of 8 floats out: the classic three rounds of AVX shuffles.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TileFloat(ref float source, int sourceStride, ref float destination, int destinationStride)
    {
        var r0 = Vector256.LoadUnsafe(ref source);
        var r1 = Vector256.LoadUnsafe(ref source, (nuint)sourceStride);
        var r2 = Vector256.LoadUnsafe(ref source, (nuint)(2 * sourceStride));
        var r3 = Vector256.LoadUnsafe(ref source, (nuint)(3 * sourceStride));
        var r4 = Vector256.LoadUnsafe(ref source, (nuint)(4 * sourceStride));
        var r5 = Vector256.LoadUnsafe(ref source, (nuint)(5 * sourceStride));
        var r6 = Vector256.LoadUnsafe(ref source, (nuint)(6 * sourceStride));
        var r7 = Vector256.LoadUnsafe(ref source, (nuint)(7 * sourceStride));
        // pairs of rows interleaved: t0 = [a00 a10 a01 a11 | a04 a14 a05 a15], t1 = [a02 a12 a03 a13 | a06 a16 a07 a17], …
        var t0 = System.Runtime.Intrinsics.X86.Avx.UnpackLow(r0, r1);
        var t1 = System.Runtime.Intrinsics.X86.Avx.UnpackHigh(r0, r1);
        var t2 = System.Runtime.Intrinsics.X86.Avx.UnpackLow(r2, r3);
        var t3 = System.Runtime.Intrinsics.X86.Avx.UnpackHigh(r2, r3);
        var t4 = System.Runtime.Intrinsics.X86.Avx.UnpackLow(r4, r5);
        var t5 = System.Runtime.Intrinsics.X86.Avx.UnpackHigh(r4, r5);
        var t6 = System.Runtime.Intrinsics.X86.Avx.UnpackLow(r6, r7);
        var t7 = System.Runtime.Intrinsics.X86.Avx.UnpackHigh(r6, r7);
        // four rows of one column per 128-bit half: u0 = [a00 a10 a20 a30 | a04 a14 a24 a34], u1 = columns 1 | 5, …
        var u0 = System.Runtime.Intrinsics.X86.Avx.Shuffle(t0, t2, 0x44);
        var u1 = System.Runtime.Intrinsics.X86.Avx.Shuffle(t0, t2, 0xEE);
        var u2 = System.Runtime.Intrinsics.X86.Avx.Shuffle(t1, t3, 0x44);
        var u3 = System.Runtime.Intrinsics.X86.Avx.Shuffle(t1, t3, 0xEE);
        var u4 = System.Runtime.Intrinsics.X86.Avx.Shuffle(t4, t6, 0x44);
        var u5 = System.Runtime.Intrinsics.X86.Avx.Shuffle(t4, t6, 0xEE);
        var u6 = System.Runtime.Intrinsics.X86.Avx.Shuffle(t5, t7, 0x44);
        var u7 = System.Runtime.Intrinsics.X86.Avx.Shuffle(t5, t7, 0xEE);
        // the halves of rows 0–3 and 4–7 joined: column j
        System.Runtime.Intrinsics.X86.Avx.Permute2x128(u0, u4, 0x20).StoreUnsafe(ref destination);
        System.Runtime.Intrinsics.X86.Avx.Permute2x128(u1, u5, 0x20).StoreUnsafe(ref destination, (nuint)destinationStride);
        System.Runtime.Intrinsics.X86.Avx.Permute2x128(u2, u6, 0x20).StoreUnsafe(ref destination, (nuint)(2 * destinationStride));
        System.Runtime.Intrinsics.X86.Avx.Permute2x128(u3, u7, 0x20).StoreUnsafe(ref destination, (nuint)(3 * destinationStride));
        System.Runtime.Intrinsics.X86.Avx.Permute2x128(u0, u4, 0x31).StoreUnsafe(ref destination, (nuint)(4 * destinationStride));
        System.Runtime.Intrinsics.X86.Avx.Permute2x128(u1, u5, 0x31).StoreUnsafe(ref destination, (nuint)(5 * destinationStride));
        System.Runtime.Intrinsics.X86.Avx.Permute2x128(u2, u6, 0x31).StoreUnsafe(ref destination, (nuint)(6 * destinationStride));
        System.Runtime.Intrinsics.X86.Avx.Permute2x128(u3, u7, 0x31).StoreUnsafe(ref destination, (nuint)(7 * destinationStride));
    }

    // 4 rows of 4 doubles in, 4 columns out.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TileDouble(ref double source, int sourceStride, ref double destination, int destinationStride)
    {
        var r0 = Vector256.LoadUnsafe(ref source);
        var r1 = Vector256.LoadUnsafe(ref source, (nuint)sourceStride);
        var r2 = Vector256.LoadUnsafe(ref source, (nuint)(2 * sourceStride));
        var r3 = Vector256.LoadUnsafe(ref source, (nuint)(3 * sourceStride));
        // t0 = [a00 a10 | a02 a12], t1 = [a01 a11 | a03 a13], t2 = [a20 a30 | a22 a32], t3 = [a21 a31 | a23 a33]
        var t0 = System.Runtime.Intrinsics.X86.Avx.UnpackLow(r0, r1);
        var t1 = System.Runtime.Intrinsics.X86.Avx.UnpackHigh(r0, r1);
        var t2 = System.Runtime.Intrinsics.X86.Avx.UnpackLow(r2, r3);
        var t3 = System.Runtime.Intrinsics.X86.Avx.UnpackHigh(r2, r3);
        System.Runtime.Intrinsics.X86.Avx.Permute2x128(t0, t2, 0x20).StoreUnsafe(ref destination);
        System.Runtime.Intrinsics.X86.Avx.Permute2x128(t1, t3, 0x20).StoreUnsafe(ref destination, (nuint)destinationStride);
        System.Runtime.Intrinsics.X86.Avx.Permute2x128(t0, t2, 0x31).StoreUnsafe(ref destination, (nuint)(2 * destinationStride));
        System.Runtime.Intrinsics.X86.Avx.Permute2x128(t1, t3, 0x31).StoreUnsafe(ref destination, (nuint)(3 * destinationStride));
    }
}
