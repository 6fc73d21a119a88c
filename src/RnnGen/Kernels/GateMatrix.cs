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
/// Parks the <see cref="GateSums{L}"/> of several blocks in a buffer, for a step whose layer spans more than one block:
/// the sums of units j … j + Count − 1 take the four vectors from 4·j on, so the buffer needs 4 × (H rounded up to
/// whole blocks) values.
/// </summary>
public static class GateSums
{
    /// <summary>Stores <paramref name="sums"/> of the block that starts at <paramref name="unit"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<L, T>(GateSums<L> sums, Span<T> buffer, int unit)
        where L : struct, ILanes<L, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = L.Count;
        if ((uint)(4 * (unit + n)) > (uint)buffer.Length) ThrowTooShort(buffer.Length, unit, n);
        ref T b = ref Unsafe.Add(ref MemoryMarshal.GetReference(buffer), 4 * unit);
        L.StoreUnsafe(sums.Z0, ref b, 0);
        L.StoreUnsafe(sums.Z1, ref b, n);
        L.StoreUnsafe(sums.Z2, ref b, 2 * n);
        L.StoreUnsafe(sums.Z3, ref b, 3 * n);
    }

    /// <summary>The sums that <see cref="Store{L, T}"/> put there for the block that starts at <paramref name="unit"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static GateSums<L> Load<L, T>(ReadOnlySpan<T> buffer, int unit)
        where L : struct, ILanes<L, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = L.Count;
        if ((uint)(4 * (unit + n)) > (uint)buffer.Length) ThrowTooShort(buffer.Length, unit, n);
        ref T b = ref Unsafe.Add(ref MemoryMarshal.GetReference(buffer), 4 * unit);
        return new GateSums<L>(L.LoadUnsafe(ref b, 0), L.LoadUnsafe(ref b, n), L.LoadUnsafe(ref b, 2 * n), L.LoadUnsafe(ref b, 3 * n));
    }

    private static void ThrowTooShort(int length, int unit, int count) =>
        throw new ArgumentException($"The buffer has {length} values; the block at unit {unit} needs {4 * (unit + count)}.", "buffer");
}

/// <summary>
/// One layer's gate weights, packed for a batch-1 step that keeps each block of units in registers:
/// <c>z = b_ih + b_hh + W_ih·x + W_hh·h</c> for the <see cref="Lanes{T}.Count"/> units <c>j … j + Count − 1</c> of every
/// gate at once, returned as vectors (<see cref="GateSums{L}"/>) that the cell activates without a trip through memory.
/// </summary>
/// <remarks>
/// <para>Layout: for each block of <c>Count</c> units, the biases (<see cref="Slots"/> vectors), then every input column,
/// then every hidden column, each as <see cref="Gates"/> vectors (one per gate; lane l = unit j + l, zero past the last
/// unit). A block is one contiguous stream; a column costs one broadcast and one fused multiply–add per gate, in two
/// interleaved sets of accumulators (even and odd columns) so that the adds' latency overlaps.</para>
/// <para>Slots (the sums returned): an LSTM's four gates (<c>gates: 4</c>), from <see cref="Multiply{L}(ReadOnlySpan{T}, ReadOnlySpan{T}, int)"/>;
/// a GRU's three gates with the last one split (<c>gates: 3, splitLastGate: true</c>): r, z, W_in·x + b_in and
/// W_hn·h + b_hn, because the reset gate multiplies only the hidden part of n, from <see cref="MultiplySplit{L}(ReadOnlySpan{T}, ReadOnlySpan{T}, int)"/>; a vanilla RNN's
/// one gate (<c>gates: 1</c>), from <see cref="MultiplySingle{L}(ReadOnlySpan{T}, ReadOnlySpan{T}, int)"/>. A token
/// model's input part is one column, looked up (its one-hot input is never multiplied).</para>
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
        ArgumentOutOfRangeException.ThrowIfLessThan(units, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inputs, 1);
        if (!(gates == 4 && !splitLastGate) && !(gates == 3 && splitLastGate) && !(gates == 1 && !splitLastGate))
            throw new ArgumentException($"GateMatrix packs four gates (LSTM), three with the last one split (GRU) or one (RNN); got {gates} gate(s){(splitLastGate ? " with the last one split" : "")}.", nameof(gates));
        Gates = gates;
        Units = units;
        Inputs = inputs;
        SplitLastGate = splitLastGate;
        Slots = gates + (splitLastGate ? 1 : 0);
        Width = Lanes<T>.Count;
        _blockLength = checked((Slots + (inputs + units) * gates) * Width);
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

    /// <summary>Sums per unit: <see cref="Gates"/>, plus one when the last gate is split.</summary>
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
                    // the biases first: one vector per slot (the split gate's two parts in slots Gates − 1 and Gates)
                    if (SplitLastGate && gate == last)
                    {
                        packed[gate * Width + lane] = biasIh[row];
                        packed[(gate + 1) * Width + lane] = biasHh[row];
                    }
                    else
                    {
                        packed[gate * Width + lane] = biasIh[row] + biasHh[row];
                    }
                    // then the input columns and the hidden columns, one vector per gate
                    for (int k = 0; k < Inputs; k++)
                        packed[Column(k) + gate * Width + lane] = weightIh[row * Inputs + k];
                    for (int k = 0; k < Units; k++)
                        packed[Column(Inputs + k) + gate * Width + lane] = weightHh[row * Units + k];
                }
            }
        }
    }

    /// <summary>Offset of input-then-hidden column <paramref name="k"/> within a block.</summary>
    private int Column(int k) => (Slots + k * Gates) * Width;

    /// <summary>
    /// The four gates' sums for units <paramref name="unit"/> … <paramref name="unit"/> + Count − 1 (a multiple of Count):
    /// bias + input part over <paramref name="x"/> (Inputs long) + hidden part over <paramref name="h"/> (Units long).
    /// Requires four gates (LSTM) and <typeparamref name="L"/> of <see cref="Width"/> lanes. Unchecked beyond that: the
    /// generated caller passes spans of the right lengths.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public GateSums<L> Multiply<L>(ReadOnlySpan<T> x, ReadOnlySpan<T> h, int unit) where L : struct, ILanes<L, T> =>
        Four<L>(x, -1, h, unit, split: false);

    /// <summary>As <see cref="Multiply{L}(ReadOnlySpan{T}, ReadOnlySpan{T}, int)"/> with the input part of a token: column <paramref name="token"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public GateSums<L> Multiply<L>(int token, ReadOnlySpan<T> h, int unit) where L : struct, ILanes<L, T> =>
        Four<L>(default, token, h, unit, split: false);

    /// <summary>
    /// The sums of three gates with the last one split (GRU): r, z, the last gate's input part (W_in·x + b_in) and its
    /// hidden part (W_hn·h + b_hn). Otherwise as <see cref="Multiply{L}(ReadOnlySpan{T}, ReadOnlySpan{T}, int)"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public GateSums<L> MultiplySplit<L>(ReadOnlySpan<T> x, ReadOnlySpan<T> h, int unit) where L : struct, ILanes<L, T> =>
        Four<L>(x, -1, h, unit, split: true);

    /// <summary>As <see cref="MultiplySplit{L}(ReadOnlySpan{T}, ReadOnlySpan{T}, int)"/> with the input part of a token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public GateSums<L> MultiplySplit<L>(int token, ReadOnlySpan<T> h, int unit) where L : struct, ILanes<L, T> =>
        Four<L>(default, token, h, unit, split: true);

    /// <summary>The one slot's sum for units <paramref name="unit"/> … <paramref name="unit"/> + Count − 1; requires one gate.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public L MultiplySingle<L>(ReadOnlySpan<T> x, ReadOnlySpan<T> h, int unit) where L : struct, ILanes<L, T> =>
        One<L>(x, -1, h, unit);

    /// <summary>As <see cref="MultiplySingle{L}(ReadOnlySpan{T}, ReadOnlySpan{T}, int)"/> with the input part of a token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public L MultiplySingle<L>(int token, ReadOnlySpan<T> h, int unit) where L : struct, ILanes<L, T> =>
        One<L>(default, token, h, unit);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private GateSums<L> Four<L>(ReadOnlySpan<T> x, int token, ReadOnlySpan<T> h, int unit, bool split) where L : struct, ILanes<L, T>
    {
        // split is a constant at every call site: the JIT compiles one of the two paths below
        int n = L.Count;
        if (Slots != 4 || SplitLastGate != split || n != Width) throw Mismatch(split ? "three gates, the last split" : "four gates", n);
        ref T w = ref MemoryMarshal.GetArrayDataReference(_weights);
        w = ref Unsafe.Add(ref w, (nint)(unit / n) * _blockLength);
        L a0 = L.LoadUnsafe(ref w, 0), a1 = L.LoadUnsafe(ref w, n), a2 = L.LoadUnsafe(ref w, 2 * n), a3 = L.LoadUnsafe(ref w, 3 * n);
        L b0 = default, b1 = default, b2 = default, b3 = default;
        w = ref Unsafe.Add(ref w, 4 * n);
        if (split)
        {
            // GRU: columns of three gates; the input part of the last one goes to slot 2, its hidden part to slot 3
            if (x.IsEmpty)
                Token(ref w, token, 3, ref a0, ref a1, ref a2, ref a3);
            else
                Columns(ref w, x, 3, ref a0, ref a1, ref a2, ref a3, ref b0, ref b1, ref b2, ref b3);
            w = ref Unsafe.Add(ref w, (nint)Inputs * 3 * n);
            Columns(ref w, h, 3, ref a0, ref a1, ref a3, ref a2, ref b0, ref b1, ref b3, ref b2);
        }
        else
        {
            if (x.IsEmpty)
                Token(ref w, token, 4, ref a0, ref a1, ref a2, ref a3);
            else
                Columns(ref w, x, 4, ref a0, ref a1, ref a2, ref a3, ref b0, ref b1, ref b2, ref b3);
            w = ref Unsafe.Add(ref w, (nint)Inputs * 4 * n);
            Columns(ref w, h, 4, ref a0, ref a1, ref a2, ref a3, ref b0, ref b1, ref b2, ref b3);
        }
        return new GateSums<L>(a0 + b0, a1 + b1, a2 + b2, a3 + b3);
    }

    /// <summary>a += column <paramref name="token"/>: its first <paramref name="gates"/> vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Token<L>(ref T w, int token, int gates, ref L a0, ref L a1, ref L a2, ref L a3) where L : struct, ILanes<L, T>
    {
        int n = L.Count;
        ref T c = ref Unsafe.Add(ref w, (nint)token * gates * n);
        a0 += L.LoadUnsafe(ref c, 0);
        a1 += L.LoadUnsafe(ref c, n);
        a2 += L.LoadUnsafe(ref c, 2 * n);
        if (gates == 4) a3 += L.LoadUnsafe(ref c, 3 * n);
    }

    /// <summary>
    /// a += W[:, k]·v[k] over the columns of <paramref name="v"/> (<paramref name="gates"/> = 3 or 4 vectors each, into the
    /// first that many accumulators), even columns into a, odd into b.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns<L>(ref T w, ReadOnlySpan<T> v, int gates, ref L a0, ref L a1, ref L a2, ref L a3, ref L b0, ref L b1, ref L b2, ref L b3)
        where L : struct, ILanes<L, T>
    {
        int n = L.Count, column = gates * n, k = 0;
        ref T vr = ref MemoryMarshal.GetReference(v);
        for (; k + 2 <= v.Length; k += 2)
        {
            L v0 = L.Create(Unsafe.Add(ref vr, k)), v1 = L.Create(Unsafe.Add(ref vr, k + 1));
            ref T c = ref Unsafe.Add(ref w, (nint)k * column);
            a0 = L.MultiplyAdd(L.LoadUnsafe(ref c, 0), v0, a0);
            a1 = L.MultiplyAdd(L.LoadUnsafe(ref c, n), v0, a1);
            a2 = L.MultiplyAdd(L.LoadUnsafe(ref c, 2 * n), v0, a2);
            if (gates == 4) a3 = L.MultiplyAdd(L.LoadUnsafe(ref c, 3 * n), v0, a3);
            b0 = L.MultiplyAdd(L.LoadUnsafe(ref c, column), v1, b0);
            b1 = L.MultiplyAdd(L.LoadUnsafe(ref c, column + n), v1, b1);
            b2 = L.MultiplyAdd(L.LoadUnsafe(ref c, column + 2 * n), v1, b2);
            if (gates == 4) b3 = L.MultiplyAdd(L.LoadUnsafe(ref c, column + 3 * n), v1, b3);
        }
        if (k < v.Length)
        {
            L v0 = L.Create(Unsafe.Add(ref vr, k));
            ref T c = ref Unsafe.Add(ref w, (nint)k * column);
            a0 = L.MultiplyAdd(L.LoadUnsafe(ref c, 0), v0, a0);
            a1 = L.MultiplyAdd(L.LoadUnsafe(ref c, n), v0, a1);
            a2 = L.MultiplyAdd(L.LoadUnsafe(ref c, 2 * n), v0, a2);
            if (gates == 4) a3 = L.MultiplyAdd(L.LoadUnsafe(ref c, 3 * n), v0, a3);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private L One<L>(ReadOnlySpan<T> x, int token, ReadOnlySpan<T> h, int unit) where L : struct, ILanes<L, T>
    {
        int n = L.Count;
        if (Slots != 1 || n != Width) throw Mismatch("one gate", n);
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

    /// <summary>One gate: a += W[:, k]·v[k], columns taken four at a time into four accumulators.</summary>
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

    private InvalidOperationException Mismatch(string gates, int count) => new(
        $"This GateMatrix holds {Gates} gate(s){(SplitLastGate ? ", the last split" : "")} in blocks of {Width} units; the call expects {gates} and {count}-unit lanes.");

    private static void Check(int actual, int expected, string name)
    {
        if (actual != expected)
            throw new ArgumentException($"{name} has length {actual}; expected {expected}.", name);
    }
}
