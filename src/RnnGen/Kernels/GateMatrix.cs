using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RnnGen.Kernels;

/// <summary>The four pre-activation sums of one block of units, one per slot, as <see cref="GateMatrix{T}.Sums(ReadOnlySpan{T}, ReadOnlySpan{T})"/> leaves them (read back with <see cref="GateSums.Load{L, T}"/>).</summary>
/// <typeparam name="L">The lane type (<see cref="Lanes{T}.Wide"/> or <see cref="Lanes{T}.Portable"/>).</typeparam>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)] // called by generated code; not an API to program against
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
/// Reads the <see cref="GateSums{L}"/> of a layer's blocks from the buffer <see cref="GateMatrix{T}.Sums(ReadOnlySpan{T}, ReadOnlySpan{T})"/>
/// returns: the sums of units j … j + Count − 1 are the four vectors from 4·j on (4 × H rounded up to whole blocks values,
/// <see cref="GateMatrix{T}.SumsLength"/>).
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)] // called by generated code; not an API to program against
public static class GateSums
{
    /// <summary>The sums of the block that starts at <paramref name="unit"/> (a multiple of L.Count), from a buffer laid out as <see cref="GateMatrix{T}.Sums(ReadOnlySpan{T}, ReadOnlySpan{T})"/> returns it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static GateSums<L> Load<L, T>(ReadOnlySpan<T> buffer, int unit)
        where L : struct, ILanes<L, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = L.Count;
        if (unit < 0 || 4L * ((long)unit + n) > buffer.Length) ThrowTooShort(buffer.Length, unit, n);
        ref T b = ref Unsafe.Add(ref MemoryMarshal.GetReference(buffer), 4 * unit);
        return new GateSums<L>(L.LoadUnsafe(ref b, 0), L.LoadUnsafe(ref b, n), L.LoadUnsafe(ref b, 2 * n), L.LoadUnsafe(ref b, 3 * n));
    }

    private static void ThrowTooShort(int length, int unit, int count) =>
        throw new ArgumentException($"The buffer has {length} values; the block at unit {unit} needs {4 * (unit + count)}.", "buffer");
}

/// <summary>
/// One layer's gate weights, packed for a batch-1 step: <c>z = b_ih + b_hh + W_ih·x + W_hh·h</c> for every gate of every
/// unit, in one pass over the weights that keeps the sums in registers, left in a small buffer as one vector per slot and
/// block of <see cref="Lanes{T}.Count"/> units, from which the cell reads them (<see cref="GateSums.Load{L, T}"/>).
/// </summary>
/// <remarks>
/// <para>Layout: per block of <c>Count</c> units, the biases (<see cref="Slots"/> vectors), then every input column, then
/// every hidden column, each as <see cref="Gates"/> vectors (one per gate; lane l = unit j + l, zero past the last unit). A
/// column costs one broadcast and one fused multiply–add per gate, in two interleaved sets of accumulators (even and odd
/// columns) so that the adds' latency overlaps. With 512-bit lanes (32 vector registers) and four slots, two blocks are
/// interleaved column by column — the biases of both, then each column's vectors for both — and summed in one pass:
/// sixteen independent accumulators keep both multiply–add units busy, where one block's eight leave half the time to
/// latency. (LSTM 1→32 on Zen 5: 72 → 64 ns per step. A layer of an odd number of blocks ends with one block alone.)</para>
/// <para>Slots (the sums per unit): an LSTM's four gates (<c>gates: 4</c>); a GRU's three gates with the last one split
/// (<c>gates: 3, splitLastGate: true</c>): r, z, W_in·x + b_in and W_hn·h + b_hn, because the reset gate multiplies only
/// the hidden part of n; a vanilla RNN's one gate (<c>gates: 1</c>). A token model's input part is one column, looked up
/// (its one-hot input is never multiplied).</para>
/// <para>Like <see cref="PackedMatrix{T}"/>, a private copy in a pinned array that starts on a 64-byte boundary:
/// generated models <see cref="Pack"/> it from the PyTorch-layout parameters in <c>ParametersChanged()</c>.</para>
/// </remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)] // called by generated code; not an API to program against
public sealed class GateMatrix<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _weights;      // pinned; the packed blocks start at _start, on a 64-byte boundary
    private readonly int _start;
    private readonly int _blockLength;  // values per block: (Slots + columns · Gates) · Width
    private readonly bool _paired;      // blocks 2p and 2p + 1 interleaved (four slots, 512-bit lanes)
    private readonly T[] _sums;         // pinned; the sums start at _sumsStart, on a 64-byte boundary
    private readonly int _sumsStart;

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
        _paired = Slots == 4 && Lanes<T>.IsWide;
        _blocks = (units + Width - 1) / Width;
        SumsLength = Slots * _blocks * Width;
        _blockLength = checked((Slots + (inputs + units) * gates) * Width);
        _weights = Simd.AllocateAligned<T>(checked(_blocks * _blockLength), out _start);
        // aligned too: the cell reads each vector right after the kernel stored it, and a store that straddles two cache
        // lines is not forwarded to that load (the step then waits for it to reach the cache)
        _sums = Simd.AllocateAligned<T>(SumsLength, out _sumsStart);
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

    /// <summary>Length of the sums <see cref="Sums(ReadOnlySpan{T}, ReadOnlySpan{T})"/> returns: <see cref="Slots"/> × <see cref="Units"/> rounded up to whole blocks.</summary>
    public int SumsLength { get; }

    private readonly int _blocks;   // Units rounded up to whole blocks of Width (a field: the step reads it, no division)

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
        Span<T> packed = _weights.AsSpan(_start);
        int last = Gates - 1;
        for (int unit = 0; unit < Units; unit++)
        {
            int block = unit / Width, lane = unit % Width;
            for (int gate = 0; gate < Gates; gate++)
            {
                int row = gate * Units + unit;
                // the biases first: one vector per slot (the split gate's two parts in slots Gates − 1 and Gates)
                if (SplitLastGate && gate == last)
                {
                    packed[Bias(block, gate) + lane] = biasIh[row];
                    packed[Bias(block, gate + 1) + lane] = biasHh[row];
                }
                else
                {
                    packed[Bias(block, gate) + lane] = biasIh[row] + biasHh[row];
                }
                // then the input columns and the hidden columns, one vector per gate
                for (int k = 0; k < Inputs; k++)
                    packed[Column(block, k, gate) + lane] = weightIh[row * Inputs + k];
                for (int k = 0; k < Units; k++)
                    packed[Column(block, Inputs + k, gate) + lane] = weightHh[row * Units + k];
            }
        }
    }

    /// <summary>Whether <paramref name="block"/> is half of an interleaved pair (else it stands alone).</summary>
    private bool InPair(int block) => _paired && (block | 1) < _blocks;

    /// <summary>Offset of the bias vector of <paramref name="slot"/> for <paramref name="block"/>.</summary>
    private int Bias(int block, int slot) => InPair(block)
        ? (block & ~1) * _blockLength + ((block & 1) * Slots + slot) * Width
        : block * _blockLength + slot * Width;

    /// <summary>Offset of <paramref name="gate"/>'s vector of input-then-hidden column <paramref name="k"/> for <paramref name="block"/>.</summary>
    private int Column(int block, int k, int gate) => InPair(block)
        ? (block & ~1) * _blockLength + (2 * Slots + (2 * k + (block & 1)) * Gates + gate) * Width
        : block * _blockLength + (Slots + k * Gates + gate) * Width;

    /// <summary>
    /// Every block's pre-activation sums, bias + W_ih·<paramref name="x"/> + W_hh·<paramref name="h"/>, in this matrix's
    /// own buffer, returned (<see cref="SumsLength"/> values, valid until the next call; the sums of units j … j + Count − 1
    /// from <see cref="Slots"/>·j on, one vector per slot: read them with <see cref="GateSums.Load{L, T}"/>). For an LSTM
    /// the slots are the gates i, f, g, o; for a GRU r, z, the input part of n and its hidden part; for an RNN its one
    /// gate. The blocks are <see cref="Width"/> units wide, those of the lanes generated code runs on this machine.
    /// <paramref name="h"/> is only read, so the sums may be taken before the layer's new state overwrites it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<T> Sums(ReadOnlySpan<T> x, ReadOnlySpan<T> h)
    {
        if (x.Length != Inputs || h.Length != Units) ThrowLengths(x.Length, h.Length);
        AllSums(x, -1, h);
        return new ReadOnlySpan<T>(_sums, _sumsStart, SumsLength);
    }

    /// <summary>As <see cref="Sums(ReadOnlySpan{T}, ReadOnlySpan{T})"/> for a token layer: the input part is column <paramref name="token"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<T> Sums(int token, ReadOnlySpan<T> h)
    {
        if ((uint)token >= (uint)Inputs) ThrowToken(token);
        if (h.Length != Units) ThrowLengths(Inputs, h.Length);
        AllSums(default, token, h);
        return new ReadOnlySpan<T>(_sums, _sumsStart, SumsLength);
    }

    [DoesNotReturn]
    private void ThrowToken(int token) =>
        throw new ArgumentOutOfRangeException(nameof(token), token, $"The token must be in [0, {Inputs}).");

    [DoesNotReturn]
    private void ThrowLengths(int x, int h)
    {
        if (x != Inputs) throw new ArgumentException($"x has length {x}; this matrix reads {Inputs} input columns.", nameof(x));
        throw new ArgumentException($"h has length {h}; this matrix has {Units} hidden columns.", nameof(h));
    }

    /// <summary>The kernels at the width of <see cref="Lanes{T}.Count"/>, on the raw vector type (JIT-time constants pick one).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AllSums(ReadOnlySpan<T> x, int token, ReadOnlySpan<T> h)
    {
        if (Vector512.IsHardwareAccelerated) AllSums<Width512<T>, Vector512<T>>(x, token, h); // Lanes<T>.IsWide, folded before inlining
        else if (Vector<T>.Count == Vector256<T>.Count) AllSums<Width256<T>, Vector256<T>>(x, token, h);
        else AllSums<Width128<T>, Vector128<T>>(x, token, h);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AllSums<TW, TV>(ReadOnlySpan<T> x, int token, ReadOnlySpan<T> h) where TW : struct, ISimdWidth<T, TV> where TV : struct
    {
        ref T s = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_sums), _sumsStart);
        // one compiled method per kind of cell, with its kernels inlined (the accumulators stay in registers only while
        // the JIT's inlining budget covers the kernels: one kind per method)
        if (Slots == 1) OneSlotSums<TW, TV>(x, token, h, ref s);
        else if (SplitLastGate) SplitSums<TW, TV>(x, token, h, ref s);
        else FourSums<TW, TV>(x, token, h, ref s);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void FourSums<TW, TV>(ReadOnlySpan<T> x, int token, ReadOnlySpan<T> h, ref T s) where TW : struct, ISimdWidth<T, TV> where TV : struct =>
        BlockSums<TW, TV>(x, token, h, ref s, split: false);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void SplitSums<TW, TV>(ReadOnlySpan<T> x, int token, ReadOnlySpan<T> h, ref T s) where TW : struct, ISimdWidth<T, TV> where TV : struct =>
        BlockSums<TW, TV>(x, token, h, ref s, split: true);

    /// <summary>Every block's four slots: interleaved pairs first (512-bit lanes), then any block alone.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void BlockSums<TW, TV>(ReadOnlySpan<T> x, int token, ReadOnlySpan<T> h, ref T s, bool split) where TW : struct, ISimdWidth<T, TV> where TV : struct
    {
        ref T w = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_weights), _start);
        int n = Width, block = 0;
        if (_paired)
        {
            for (; block + 1 < _blocks; block += 2)
                FourPair<TW, TV>(ref Unsafe.Add(ref w, (nint)block * _blockLength), x, token, h, ref Unsafe.Add(ref s, (nint)block * 4 * n), split);
        }
        for (; block < _blocks; block++)
            Four<TW, TV>(ref Unsafe.Add(ref w, (nint)block * _blockLength), x, token, h, ref Unsafe.Add(ref s, (nint)block * 4 * n), split);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void OneSlotSums<TW, TV>(ReadOnlySpan<T> x, int token, ReadOnlySpan<T> h, ref T s) where TW : struct, ISimdWidth<T, TV> where TV : struct
    {
        ref T w = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_weights), _start);
        for (int block = 0; block < _blocks; block++)
            TW.Store(One<TW, TV>(ref Unsafe.Add(ref w, (nint)block * _blockLength), x, token, h), ref s, (nint)block * Width);
    }

    /// <summary>One block's four slots (LSTM gates, or a GRU's three gates with the last split) into <paramref name="into"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Four<TW, TV>(ref T w, ReadOnlySpan<T> x, int token, ReadOnlySpan<T> h, ref T into, bool split) where TW : struct, ISimdWidth<T, TV> where TV : struct
    {
        int n = TW.Count, gates = split ? 3 : 4;
        TV a0 = TW.Load(ref w, 0), a1 = TW.Load(ref w, n), a2 = TW.Load(ref w, 2 * n), a3 = TW.Load(ref w, 3 * n);
        TV b0 = default, b1 = default, b2 = default, b3 = default;
        w = ref Unsafe.Add(ref w, 4 * n);
        // a GRU's last gate: the input part goes to slot 2, the hidden part to slot 3 (the accumulators passed swapped)
        if (x.IsEmpty)
            Token<TW, TV>(ref w, token, gates, ref a0, ref a1, ref a2, ref a3);
        else
            Columns<TW, TV>(ref w, x, gates, ref a0, ref a1, ref a2, ref a3, ref b0, ref b1, ref b2, ref b3);
        w = ref Unsafe.Add(ref w, (nint)Inputs * gates * n);
        if (split)
            Columns<TW, TV>(ref w, h, 3, ref a0, ref a1, ref a3, ref a2, ref b0, ref b1, ref b3, ref b2);
        else
            Columns<TW, TV>(ref w, h, 4, ref a0, ref a1, ref a2, ref a3, ref b0, ref b1, ref b2, ref b3);
        TW.Store(TW.Add(a0, b0), ref into, 0);
        TW.Store(TW.Add(a1, b1), ref into, n);
        TW.Store(TW.Add(a2, b2), ref into, 2 * n);
        TW.Store(TW.Add(a3, b3), ref into, 3 * n);
    }

    /// <summary>
    /// Two interleaved blocks' four slots each, into <paramref name="into"/> (eight vectors): sixteen accumulators, even
    /// columns into a, odd into b. Each column holds the first block's gate vectors (into a0…a3 / b0…b3), then the second's
    /// (a4…a7 / b4…b7).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void FourPair<TW, TV>(ref T w, ReadOnlySpan<T> x, int token, ReadOnlySpan<T> h, ref T into, bool split) where TW : struct, ISimdWidth<T, TV> where TV : struct
    {
        int n = TW.Count, gates = split ? 3 : 4, half = gates * n, column = 2 * half;
        TV a0 = TW.Load(ref w, 0), a1 = TW.Load(ref w, n), a2 = TW.Load(ref w, 2 * n), a3 = TW.Load(ref w, 3 * n);
        TV a4 = TW.Load(ref w, 4 * n), a5 = TW.Load(ref w, 5 * n), a6 = TW.Load(ref w, 6 * n), a7 = TW.Load(ref w, 7 * n);
        TV b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default;
        w = ref Unsafe.Add(ref w, 8 * n);
        // the input part: every gate's vector into its own slot (a GRU's n into slot 2)
        if (x.IsEmpty)
        {
            // column `token` of the pair: the first block's vectors, then the second's
            ref T c = ref Unsafe.Add(ref w, (nint)token * column);
            Token<TW, TV>(ref c, 0, gates, ref a0, ref a1, ref a2, ref a3);
            Token<TW, TV>(ref Unsafe.Add(ref c, half), 0, gates, ref a4, ref a5, ref a6, ref a7);
        }
        else
        {
            // even columns into b, odd into a: with the hidden part below, sixteen chains of multiply-adds
            PairColumns<TW, TV>(ref w, x, gates, ref b0, ref b1, ref b2, ref b3, ref b4, ref b5, ref b6, ref b7,
                ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7);
        }
        w = ref Unsafe.Add(ref w, (nint)Inputs * column);
        // the hidden part, even columns into a, odd into b (a GRU's n into slot 3: its hidden part stays apart; the
        // accumulators passed swapped)
        if (split)
            PairColumns<TW, TV>(ref w, h, 3, ref a0, ref a1, ref a3, ref a2, ref a4, ref a5, ref a7, ref a6,
                ref b0, ref b1, ref b3, ref b2, ref b4, ref b5, ref b7, ref b6);
        else
            PairColumns<TW, TV>(ref w, h, 4, ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7,
                ref b0, ref b1, ref b2, ref b3, ref b4, ref b5, ref b6, ref b7);
        TW.Store(TW.Add(a0, b0), ref into, 0);
        TW.Store(TW.Add(a1, b1), ref into, n);
        TW.Store(TW.Add(a2, b2), ref into, 2 * n);
        TW.Store(TW.Add(a3, b3), ref into, 3 * n);
        TW.Store(TW.Add(a4, b4), ref into, 4 * n);
        TW.Store(TW.Add(a5, b5), ref into, 5 * n);
        TW.Store(TW.Add(a6, b6), ref into, 6 * n);
        TW.Store(TW.Add(a7, b7), ref into, 7 * n);
    }

    /// <summary>
    /// s += W[:, k]·v[k] over the columns of <paramref name="v"/> for an interleaved pair, two columns at a time: even
    /// columns into s0…s7, odd ones into t0…t7 (a last lone column into s).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PairColumns<TW, TV>(ref T w, ReadOnlySpan<T> v, int gates,
        ref TV s0, ref TV s1, ref TV s2, ref TV s3, ref TV s4, ref TV s5, ref TV s6, ref TV s7,
        ref TV t0, ref TV t1, ref TV t2, ref TV t3, ref TV t4, ref TV t5, ref TV t6, ref TV t7)
        where TW : struct, ISimdWidth<T, TV> where TV : struct
    {
        int column = 2 * gates * TW.Count, k = 0;
        ref T vr = ref MemoryMarshal.GetReference(v);
        for (; k + 2 <= v.Length; k += 2)
        {
            ref T c = ref Unsafe.Add(ref w, (nint)k * column);
            PairColumn<TW, TV>(ref c, TW.Broadcast(Unsafe.Add(ref vr, k)), gates, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
            PairColumn<TW, TV>(ref Unsafe.Add(ref c, column), TW.Broadcast(Unsafe.Add(ref vr, k + 1)), gates, ref t0, ref t1, ref t2, ref t3, ref t4, ref t5, ref t6, ref t7);
        }
        if (k < v.Length)
            PairColumn<TW, TV>(ref Unsafe.Add(ref w, (nint)k * column), TW.Broadcast(Unsafe.Add(ref vr, k)), gates, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
    }

    /// <summary>
    /// s += column·v for one column of an interleaved pair: its <paramref name="gates"/> vectors of the first block into
    /// s0…s3, then as many of the second block into s4…s7 (with three gates, s3 and s7 are left alone).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PairColumn<TW, TV>(ref T c, TV v, int gates, ref TV s0, ref TV s1, ref TV s2, ref TV s3, ref TV s4, ref TV s5, ref TV s6, ref TV s7)
        where TW : struct, ISimdWidth<T, TV> where TV : struct
    {
        GateColumn<TW, TV>(ref c, v, gates, ref s0, ref s1, ref s2, ref s3);
        GateColumn<TW, TV>(ref Unsafe.Add(ref c, gates * TW.Count), v, gates, ref s4, ref s5, ref s6, ref s7);
    }

    /// <summary>s += column·v for one block's column: its <paramref name="gates"/> vectors into s0…s3 (with three, s3 is left alone).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GateColumn<TW, TV>(ref T c, TV v, int gates, ref TV s0, ref TV s1, ref TV s2, ref TV s3)
        where TW : struct, ISimdWidth<T, TV> where TV : struct
    {
        int n = TW.Count;
        s0 = TW.MultiplyAdd(TW.Load(ref c, 0), v, s0);
        s1 = TW.MultiplyAdd(TW.Load(ref c, n), v, s1);
        s2 = TW.MultiplyAdd(TW.Load(ref c, 2 * n), v, s2);
        if (gates == 4) s3 = TW.MultiplyAdd(TW.Load(ref c, 3 * n), v, s3);
    }

    /// <summary>a += column <paramref name="token"/>: its first <paramref name="gates"/> vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Token<TW, TV>(ref T w, int token, int gates, ref TV a0, ref TV a1, ref TV a2, ref TV a3) where TW : struct, ISimdWidth<T, TV> where TV : struct
    {
        int n = TW.Count;
        ref T c = ref Unsafe.Add(ref w, (nint)token * gates * n);
        a0 = TW.Add(a0, TW.Load(ref c, 0));
        a1 = TW.Add(a1, TW.Load(ref c, n));
        a2 = TW.Add(a2, TW.Load(ref c, 2 * n));
        if (gates == 4) a3 = TW.Add(a3, TW.Load(ref c, 3 * n));
    }

    /// <summary>
    /// a += W[:, k]·v[k] over the columns of <paramref name="v"/> (<paramref name="gates"/> = 3 or 4 vectors each, into the
    /// first that many accumulators), even columns into a, odd into b.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns<TW, TV>(ref T w, ReadOnlySpan<T> v, int gates, ref TV a0, ref TV a1, ref TV a2, ref TV a3, ref TV b0, ref TV b1, ref TV b2, ref TV b3)
        where TW : struct, ISimdWidth<T, TV> where TV : struct
    {
        int column = gates * TW.Count;
        ref T vk = ref MemoryMarshal.GetReference(v);
        ref T pairsEnd = ref Unsafe.Add(ref vk, v.Length & ~1);
        ref T c = ref w;
        if (Unsafe.IsAddressLessThan(ref vk, ref pairsEnd))
        {
            // pointers that step (no index arithmetic in the loop), tested at the bottom
            do
            {
                GateColumn<TW, TV>(ref c, TW.Broadcast(vk), gates, ref a0, ref a1, ref a2, ref a3);
                GateColumn<TW, TV>(ref Unsafe.Add(ref c, column), TW.Broadcast(Unsafe.Add(ref vk, 1)), gates, ref b0, ref b1, ref b2, ref b3);
                c = ref Unsafe.Add(ref c, 2 * column);
                vk = ref Unsafe.Add(ref vk, 2);
            }
            while (Unsafe.IsAddressLessThan(ref vk, ref pairsEnd));
        }
        if ((v.Length & 1) != 0)
            GateColumn<TW, TV>(ref c, TW.Broadcast(vk), gates, ref a0, ref a1, ref a2, ref a3);
    }

    /// <summary>One block's one slot (vanilla RNN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private TV One<TW, TV>(ref T w, ReadOnlySpan<T> x, int token, ReadOnlySpan<T> h) where TW : struct, ISimdWidth<T, TV> where TV : struct
    {
        int n = TW.Count;
        TV a0 = TW.Load(ref w, 0), a1 = default, a2 = default, a3 = default;
        w = ref Unsafe.Add(ref w, n);
        if (x.IsEmpty)
            a0 = TW.Add(a0, TW.Load(ref w, (nint)token * n));
        else
            Columns<TW, TV>(ref w, x, ref a0, ref a1, ref a2, ref a3);
        w = ref Unsafe.Add(ref w, (nint)Inputs * n);
        Columns<TW, TV>(ref w, h, ref a0, ref a1, ref a2, ref a3);
        return TW.Add(TW.Add(a0, a1), TW.Add(a2, a3));
    }

    /// <summary>One gate: a += W[:, k]·v[k], columns taken four at a time into four accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns<TW, TV>(ref T w, ReadOnlySpan<T> v, ref TV a0, ref TV a1, ref TV a2, ref TV a3) where TW : struct, ISimdWidth<T, TV> where TV : struct
    {
        int n = TW.Count, k = 0;
        ref T vr = ref MemoryMarshal.GetReference(v);
        for (; k + 4 <= v.Length; k += 4)
        {
            ref T c = ref Unsafe.Add(ref w, (nint)k * n);
            a0 = TW.MultiplyAdd(TW.Load(ref c, 0), TW.Broadcast(Unsafe.Add(ref vr, k)), a0);
            a1 = TW.MultiplyAdd(TW.Load(ref c, n), TW.Broadcast(Unsafe.Add(ref vr, k + 1)), a1);
            a2 = TW.MultiplyAdd(TW.Load(ref c, 2 * n), TW.Broadcast(Unsafe.Add(ref vr, k + 2)), a2);
            a3 = TW.MultiplyAdd(TW.Load(ref c, 3 * n), TW.Broadcast(Unsafe.Add(ref vr, k + 3)), a3);
        }
        for (; k < v.Length; k++)
            a0 = TW.MultiplyAdd(TW.Load(ref w, (nint)k * n), TW.Broadcast(Unsafe.Add(ref vr, k)), a0);
    }

    private static void Check(int actual, int expected, string name)
    {
        if (actual != expected)
            throw new ArgumentException($"{name} has length {actual}; expected {expected}.", name);
    }
}
