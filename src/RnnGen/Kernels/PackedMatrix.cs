using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RnnGen.Kernels;

/// <summary>
/// A private, repacked copy of <c>y = b + W·[x₁; x₂]</c> — one or two row-major weight matrices side by side
/// (e.g. <c>[weight_ih | weight_hh]</c>) and the sum of up to two bias vectors — laid out for streaming
/// matrix–vector products at batch 1.
/// </summary>
/// <remarks>
/// <para>Layout: rows are grouped in blocks of <see cref="BlockRows"/> (four SIMD vectors); inside a block the
/// weights are stored column by column, so the product reads one contiguous stream and each column costs one
/// broadcast of <c>x[k]</c> and four fused multiply–adds. No horizontal sums, one pass over memory. Rows past
/// <see cref="Rows"/> are zero padding.</para>
/// <para>The PyTorch-layout parameters stay the truth: generated models <see cref="Pack"/> this copy from them in
/// <c>ParametersChanged()</c>.</para>
/// </remarks>
public sealed class PackedMatrix<T> where T : unmanaged, INumber<T>
{
    private readonly T[] _weights;
    private readonly T[] _bias;
    private readonly int _block;
    private readonly T[] _x;     // [x₁; x₂]
    private readonly T[] _tail;  // one block of outputs, for the last partial block

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
        int blocks = (rows + _block - 1) / _block;
        _weights = new T[checked(blocks * _block * (leftColumns + rightColumns))];
        _bias = new T[blocks * _block];
        _x = new T[leftColumns + rightColumns];
        _tail = new T[_block];
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
        // write the packed copy in order, block by block and column by column (the reads stay within one block of rows)
        for (int row0 = 0; row0 < Rows; row0 += _block)
        {
            int n = Math.Min(_block, Rows - row0);
            Span<T> block = _weights.AsSpan(row0 * columns, _block * columns);
            for (int k = 0; k < columns; k++)
            {
                Span<T> column = block.Slice(k * _block, n);
                if (k < LeftColumns)
                    for (int i = 0; i < n; i++) column[i] = left[(row0 + i) * LeftColumns + k];
                else
                    for (int i = 0; i < n; i++) column[i] = right[(row0 + i) * RightColumns + (k - LeftColumns)];
            }
        }
        for (int r = 0; r < Rows; r++)
            _bias[r] = (bias1.IsEmpty ? T.Zero : bias1[r]) + (bias2.IsEmpty ? T.Zero : bias2[r]);
    }

    /// <summary><c>y = b + W·[x₁; x₂]</c>, overwriting <paramref name="y"/> (Rows long).</summary>
    public void Multiply(ReadOnlySpan<T> x1, ReadOnlySpan<T> x2, Span<T> y)
    {
        Check(x1.Length, LeftColumns, nameof(x1));
        Check(x2.Length, RightColumns, nameof(x2));
        Check(y.Length, Rows, nameof(y));
        if (Vector512.IsHardwareAccelerated)
            Run<Vector512<T>, Width512<T>>(x1, x2, y);
        else if (Vector256.IsHardwareAccelerated)
            Run<Vector256<T>, Width256<T>>(x1, x2, y);
        else
            Run<Vector128<T>, Width128<T>>(x1, x2, y);
    }

    /// <summary>
    /// For every lane b in [0, <paramref name="lanes"/>): <c>y_b = b + W·[x₁_b; x₂_b]</c>, where row b of each operand starts at b times its stride.
    /// </summary>
    public void Multiply(int lanes, ReadOnlySpan<T> x1, int x1Stride, ReadOnlySpan<T> x2, int x2Stride, Span<T> y, int yStride)
    {
        // TEMPORARY (lane loop over the single-lane product); replaced by the register-blocked kernel
        for (int b = 0; b < lanes; b++)
            Multiply(x1.Slice(b * x1Stride, LeftColumns), x2.IsEmpty ? default : x2.Slice(b * x2Stride, RightColumns), y.Slice(b * yStride, Rows));
    }

    private void Run<TV, TW>(ReadOnlySpan<T> x1, ReadOnlySpan<T> x2, Span<T> y)
        where TV : struct
        where TW : struct, ISimdWidth<T, TV>
    {
        // [x₁; x₂] side by side, so that one loop walks every column
        x1.CopyTo(_x);
        x2.CopyTo(_x.AsSpan(LeftColumns));
        int p = TW.Count, block = 4 * p, columns = _x.Length;
        ref T w = ref MemoryMarshal.GetArrayDataReference(_weights);
        ref T b = ref MemoryMarshal.GetArrayDataReference(_bias);
        ref T xr = ref MemoryMarshal.GetArrayDataReference(_x);
        ref T yr = ref MemoryMarshal.GetReference(y);
        for (int row = 0; row < Rows; row += block)
        {
            ref T wb = ref Unsafe.Add(ref w, (nint)row * columns);
            // two sets of accumulators (even and odd columns) hide the latency of the fused multiply-adds
            TV a0 = TW.Load(ref b, row), a1 = TW.Load(ref b, row + p), a2 = TW.Load(ref b, row + 2 * p), a3 = TW.Load(ref b, row + 3 * p);
            TV c0 = default, c1 = default, c2 = default, c3 = default;
            int k = 0;
            for (; k + 2 <= columns; k += 2)
            {
                TV xa = TW.Broadcast(Unsafe.Add(ref xr, k)), xb = TW.Broadcast(Unsafe.Add(ref xr, k + 1));
                ref T col = ref Unsafe.Add(ref wb, (nint)k * block);
                a0 = TW.MultiplyAdd(TW.Load(ref col, 0), xa, a0);
                a1 = TW.MultiplyAdd(TW.Load(ref col, p), xa, a1);
                a2 = TW.MultiplyAdd(TW.Load(ref col, 2 * p), xa, a2);
                a3 = TW.MultiplyAdd(TW.Load(ref col, 3 * p), xa, a3);
                c0 = TW.MultiplyAdd(TW.Load(ref col, block), xb, c0);
                c1 = TW.MultiplyAdd(TW.Load(ref col, block + p), xb, c1);
                c2 = TW.MultiplyAdd(TW.Load(ref col, block + 2 * p), xb, c2);
                c3 = TW.MultiplyAdd(TW.Load(ref col, block + 3 * p), xb, c3);
            }
            if (k < columns)
            {
                TV xa = TW.Broadcast(Unsafe.Add(ref xr, k));
                ref T col = ref Unsafe.Add(ref wb, (nint)k * block);
                a0 = TW.MultiplyAdd(TW.Load(ref col, 0), xa, a0);
                a1 = TW.MultiplyAdd(TW.Load(ref col, p), xa, a1);
                a2 = TW.MultiplyAdd(TW.Load(ref col, 2 * p), xa, a2);
                a3 = TW.MultiplyAdd(TW.Load(ref col, 3 * p), xa, a3);
            }
            a0 = TW.Add(a0, c0); a1 = TW.Add(a1, c1); a2 = TW.Add(a2, c2); a3 = TW.Add(a3, c3);
            if (row + block <= Rows)
            {
                TW.Store(a0, ref yr, row); TW.Store(a1, ref yr, row + p); TW.Store(a2, ref yr, row + 2 * p); TW.Store(a3, ref yr, row + 3 * p);
            }
            else
            {
                // the last, partial block: through the padded scratch
                ref T t = ref MemoryMarshal.GetArrayDataReference(_tail);
                TW.Store(a0, ref t, 0); TW.Store(a1, ref t, p); TW.Store(a2, ref t, 2 * p); TW.Store(a3, ref t, 3 * p);
                _tail.AsSpan(0, Rows - row).CopyTo(y.Slice(row));
            }
        }
    }

    private static void Check(int actual, int expected, string name)
    {
        if (actual != expected)
            throw new ArgumentException($"{name} has length {actual}; expected {expected}.", name);
    }
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
