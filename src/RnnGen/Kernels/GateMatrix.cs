using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RnnGen.Kernels;

/// <summary>The four pre-activation sums of one block of units that <see cref="GateMatrix{T}.Multiply{L}(ReadOnlySpan{T}, ReadOnlySpan{T}, int)"/> returns, one per slot.</summary>
/// <typeparam name="L">The lane type (<see cref="Lanes{T}.Wide"/> or <see cref="Lanes{T}.Portable"/>).</typeparam>
public readonly struct GateSums<L> where L : struct
{
    /// <summary>Slot 0.</summary>
    public readonly L Z0;
    /// <summary>Slot 1.</summary>
    public readonly L Z1;
    /// <summary>Slot 2.</summary>
    public readonly L Z2;
    /// <summary>Slot 3.</summary>
    public readonly L Z3;

    /// <summary>Creates the sums from the four slots.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public GateSums(L z0, L z1, L z2, L z3)
    {
        Z0 = z0;
        Z1 = z1;
        Z2 = z2;
        Z3 = z3;
    }
}

/// <summary>
/// One layer's gate weights, packed for a batch-1 step that keeps each block of units in registers:
/// <c>z = b_ih + b_hh + W_ih·x + W_hh·h</c> for the <see cref="Lanes{T}.Count"/> units <c>j … j + Count − 1</c> of every
/// gate at once, returned as vectors (<see cref="GateSums{L}"/>) that the cell activates without a trip through memory.
/// </summary>
/// <remarks>
/// <para>Layout: for each block of <c>Count</c> units, the bias, then every input column, then every hidden column,
/// each as <see cref="Slots"/> vectors (one per gate, lane l = unit j + l, zero past the last unit). A block is one
/// contiguous stream; a column costs one broadcast and one fused multiply–add per slot, in two interleaved sets of
/// accumulators (even and odd columns) so that the adds' latency overlaps.</para>
/// <para>Slots: an LSTM's four gates (<c>gates: 4</c>); a vanilla RNN's one gate (<c>gates: 1</c>); a GRU's three gates with
/// the last one split (<c>gates: 3, splitLastGate: true</c>): slots r, z, W_in·x + b_in, W_hn·h + b_hn, because the reset
/// gate multiplies only the hidden part of n. A token model's input part is one column, looked up (its one-hot input is
/// never multiplied).</para>
/// <para>Like <see cref="PackedMatrix{T}"/>, a private copy: generated models <see cref="Pack"/> it from the PyTorch-layout
/// parameters in <c>ParametersChanged()</c>.</para>
/// </remarks>
public sealed class GateMatrix<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _weights;
    private readonly int _blockLength;

    /// <summary>
    /// Creates a zero matrix for <paramref name="gates"/> gates of <paramref name="units"/> units each, reading
    /// <paramref name="inputs"/> input columns (the vocabulary size for a token layer) and <paramref name="units"/> hidden columns.
    /// </summary>
    public GateMatrix(int gates, int units, int inputs, bool splitLastGate = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(gates, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(units, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inputs, 1);
        int slots = gates + (splitLastGate ? 1 : 0);
        if (slots != 1 && slots != 4)
            throw new ArgumentException($"GateMatrix holds one or four slots per unit; {gates} gates{(splitLastGate ? " with the last one split" : "")} make {slots}.", nameof(gates));
        Gates = gates;
        Units = units;
        Inputs = inputs;
        SplitLastGate = splitLastGate;
        Slots = slots;
        Width = Lanes<T>.Count;
        _blockLength = checked((1 + inputs + units) * slots * Width);
        _weights = new T[checked(Blocks * _blockLength)];
    }

    /// <summary>Gates per unit.</summary>
    public int Gates { get; }

    /// <summary>Units per gate (the hidden size); also the number of hidden columns.</summary>
    public int Units { get; }

    /// <summary>Input columns.</summary>
    public int Inputs { get; }

    /// <summary>Whether the last gate's input and hidden parts are kept apart (GRU).</summary>
    public bool SplitLastGate { get; }

    /// <summary>Vectors per column: <see cref="Gates"/>, plus one when the last gate is split.</summary>
    public int Slots { get; }

    /// <summary>Units per block: <see cref="Lanes{T}.Count"/> on this machine.</summary>
    public int Width { get; }

    private int Blocks => (Units + Width - 1) / Width;

    /// <summary>
    /// Copies PyTorch-layout <paramref name="weightIh"/> (Gates·Units × Inputs), <paramref name="weightHh"/> (Gates·Units × Units)
    /// and the biases (Gates·Units each) into the packed layout.
    /// </summary>
    public void Pack(ReadOnlySpan<T> weightIh, ReadOnlySpan<T> weightHh, ReadOnlySpan<T> biasIh, ReadOnlySpan<T> biasHh)
    {
        int rows = Gates * Units;
        Check(weightIh.Length, rows * Inputs, nameof(weightIh));
        Check(weightHh.Length, rows * Units, nameof(weightHh));
        Check(biasIh.Length, rows, nameof(biasIh));
        Check(biasHh.Length, rows, nameof(biasHh));
        Array.Clear(_weights);
        int last = Gates - 1;
        for (int block = 0; block < Blocks; block++)
        {
            Span<T> packed = _weights.AsSpan(block * _blockLength, _blockLength);
            for (int lane = 0; lane < Width && block * Width + lane < Units; lane++)
            {
                int unit = block * Width + lane;
                for (int gate = 0; gate < Gates; gate++)
                {
                    int row = gate * Units + unit;
                    bool split = SplitLastGate && gate == last;
                    // the slot of this gate's input part and of its hidden part (the same unless the gate is split)
                    int inputSlot = gate, hiddenSlot = split ? gate + 1 : gate;
                    // column 0 is the bias, then the input columns, then the hidden columns
                    if (split)
                    {
                        packed[Index(0, inputSlot, lane)] = biasIh[row];
                        packed[Index(0, hiddenSlot, lane)] = biasHh[row];
                    }
                    else
                    {
                        packed[Index(0, inputSlot, lane)] = biasIh[row] + biasHh[row];
                    }
                    for (int k = 0; k < Inputs; k++)
                        packed[Index(1 + k, inputSlot, lane)] = weightIh[row * Inputs + k];
                    for (int k = 0; k < Units; k++)
                        packed[Index(1 + Inputs + k, hiddenSlot, lane)] = weightHh[row * Units + k];
                }
            }
        }
    }

    /// <summary>Position of (column, slot, lane) within a block.</summary>
    private int Index(int column, int slot, int lane) => (column * Slots + slot) * Width + lane;

    /// <summary>
    /// The four slots' sums for units <paramref name="unit"/> … <paramref name="unit"/> + Count − 1 (a multiple of Count):
    /// bias + input part over <paramref name="x"/> (Inputs long) + hidden part over <paramref name="h"/> (Units long).
    /// Requires <see cref="Slots"/> = 4 and <typeparamref name="L"/> of <see cref="Width"/> lanes. Unchecked beyond that: the
    /// generated caller passes spans of the right lengths.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public GateSums<L> Multiply<L>(ReadOnlySpan<T> x, ReadOnlySpan<T> h, int unit) where L : struct, ILanes<L, T> =>
        Four<L>(x, -1, h, unit);

    /// <summary>As <see cref="Multiply{L}(ReadOnlySpan{T}, ReadOnlySpan{T}, int)"/> with the input part of a token: column <paramref name="token"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public GateSums<L> Multiply<L>(int token, ReadOnlySpan<T> h, int unit) where L : struct, ILanes<L, T> =>
        Four<L>(default, token, h, unit);

    /// <summary>The one slot's sum for units <paramref name="unit"/> … <paramref name="unit"/> + Count − 1; requires <see cref="Slots"/> = 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public L MultiplySingle<L>(ReadOnlySpan<T> x, ReadOnlySpan<T> h, int unit) where L : struct, ILanes<L, T> =>
        One<L>(x, -1, h, unit);

    /// <summary>As <see cref="MultiplySingle{L}(ReadOnlySpan{T}, ReadOnlySpan{T}, int)"/> with the input part of a token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public L MultiplySingle<L>(int token, ReadOnlySpan<T> h, int unit) where L : struct, ILanes<L, T> =>
        One<L>(default, token, h, unit);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private GateSums<L> Four<L>(ReadOnlySpan<T> x, int token, ReadOnlySpan<T> h, int unit) where L : struct, ILanes<L, T>
    {
        int n = L.Count;
        if (Slots != 4 || n != Width) throw Mismatch(4, n);
        ref T w = ref MemoryMarshal.GetArrayDataReference(_weights);
        w = ref Unsafe.Add(ref w, (nint)(unit / n) * _blockLength);
        int column = 4 * n;   // elements per column
        L a0 = L.LoadUnsafe(ref w, 0), a1 = L.LoadUnsafe(ref w, n), a2 = L.LoadUnsafe(ref w, 2 * n), a3 = L.LoadUnsafe(ref w, 3 * n);
        L b0 = default, b1 = default, b2 = default, b3 = default;
        w = ref Unsafe.Add(ref w, column);
        if (x.IsEmpty)
        {
            // a token: its column, looked up
            ref T c = ref Unsafe.Add(ref w, (nint)token * column);
            a0 += L.LoadUnsafe(ref c, 0); a1 += L.LoadUnsafe(ref c, n); a2 += L.LoadUnsafe(ref c, 2 * n); a3 += L.LoadUnsafe(ref c, 3 * n);
        }
        else
        {
            Columns(ref w, x, ref a0, ref a1, ref a2, ref a3, ref b0, ref b1, ref b2, ref b3);
        }
        w = ref Unsafe.Add(ref w, (nint)Inputs * column);
        Columns(ref w, h, ref a0, ref a1, ref a2, ref a3, ref b0, ref b1, ref b2, ref b3);
        return new GateSums<L>(a0 + b0, a1 + b1, a2 + b2, a3 + b3);
    }

    /// <summary>a += W[:, k]·v[k] over the columns of <paramref name="v"/>, even columns into a, odd into b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns<L>(ref T w, ReadOnlySpan<T> v, ref L a0, ref L a1, ref L a2, ref L a3, ref L b0, ref L b1, ref L b2, ref L b3)
        where L : struct, ILanes<L, T>
    {
        int n = L.Count, column = 4 * n, k = 0;
        ref T vr = ref MemoryMarshal.GetReference(v);
        for (; k + 2 <= v.Length; k += 2)
        {
            L v0 = L.Create(Unsafe.Add(ref vr, k)), v1 = L.Create(Unsafe.Add(ref vr, k + 1));
            ref T c = ref Unsafe.Add(ref w, (nint)k * column);
            a0 = L.MultiplyAdd(L.LoadUnsafe(ref c, 0), v0, a0);
            a1 = L.MultiplyAdd(L.LoadUnsafe(ref c, n), v0, a1);
            a2 = L.MultiplyAdd(L.LoadUnsafe(ref c, 2 * n), v0, a2);
            a3 = L.MultiplyAdd(L.LoadUnsafe(ref c, 3 * n), v0, a3);
            b0 = L.MultiplyAdd(L.LoadUnsafe(ref c, column), v1, b0);
            b1 = L.MultiplyAdd(L.LoadUnsafe(ref c, column + n), v1, b1);
            b2 = L.MultiplyAdd(L.LoadUnsafe(ref c, column + 2 * n), v1, b2);
            b3 = L.MultiplyAdd(L.LoadUnsafe(ref c, column + 3 * n), v1, b3);
        }
        if (k < v.Length)
        {
            L v0 = L.Create(Unsafe.Add(ref vr, k));
            ref T c = ref Unsafe.Add(ref w, (nint)k * column);
            a0 = L.MultiplyAdd(L.LoadUnsafe(ref c, 0), v0, a0);
            a1 = L.MultiplyAdd(L.LoadUnsafe(ref c, n), v0, a1);
            a2 = L.MultiplyAdd(L.LoadUnsafe(ref c, 2 * n), v0, a2);
            a3 = L.MultiplyAdd(L.LoadUnsafe(ref c, 3 * n), v0, a3);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private L One<L>(ReadOnlySpan<T> x, int token, ReadOnlySpan<T> h, int unit) where L : struct, ILanes<L, T>
    {
        int n = L.Count;
        if (Slots != 1 || n != Width) throw Mismatch(1, n);
        ref T w = ref MemoryMarshal.GetArrayDataReference(_weights);
        w = ref Unsafe.Add(ref w, (nint)(unit / n) * _blockLength);
        L a0 = L.LoadUnsafe(ref w, 0), a1 = default, a2 = default, a3 = default;
        w = ref Unsafe.Add(ref w, n);
        if (x.IsEmpty)
            a0 += L.LoadUnsafe(ref w, (nint)token * n);
        else
            Columns(ref w, x, ref a0, ref a1, ref a2, ref a3);
        w = ref Unsafe.Add(ref w, (nint)Inputs * n);
        Columns(ref w, h, ref a0, ref a1, ref a2, ref a3);
        return (a0 + a1) + (a2 + a3);
    }

    /// <summary>One slot: a += W[:, k]·v[k], columns taken four at a time into four accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns<L>(ref T w, ReadOnlySpan<T> v, ref L a0, ref L a1, ref L a2, ref L a3) where L : struct, ILanes<L, T>
    {
        int n = L.Count, k = 0;
        ref T vr = ref MemoryMarshal.GetReference(v);
        for (; k + 4 <= v.Length; k += 4)
        {
            ref T c = ref Unsafe.Add(ref w, (nint)k * n);
            a0 = L.MultiplyAdd(L.LoadUnsafe(ref c, 0), L.Create(Unsafe.Add(ref vr, k)), a0);
            a1 = L.MultiplyAdd(L.LoadUnsafe(ref c, n), L.Create(Unsafe.Add(ref vr, k + 1)), a1);
            a2 = L.MultiplyAdd(L.LoadUnsafe(ref c, 2 * n), L.Create(Unsafe.Add(ref vr, k + 2)), a2);
            a3 = L.MultiplyAdd(L.LoadUnsafe(ref c, 3 * n), L.Create(Unsafe.Add(ref vr, k + 3)), a3);
        }
        for (; k < v.Length; k++)
            a0 = L.MultiplyAdd(L.LoadUnsafe(ref w, (nint)k * n), L.Create(Unsafe.Add(ref vr, k)), a0);
    }

    private InvalidOperationException Mismatch(int slots, int count) => new(
        $"This GateMatrix has {Slots} slot(s) per column and blocks of {Width} units; the call expects {slots} slot(s) and {count}-unit lanes.");

    private static void Check(int actual, int expected, string name)
    {
        if (actual != expected)
            throw new ArgumentException($"{name} has length {actual}; expected {expected}.", name);
    }
}
