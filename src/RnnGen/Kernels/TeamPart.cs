using System.Runtime.CompilerServices;

namespace RnnGen.Kernels;

/// <summary>A piece of work that the parts of a <see cref="CoreTeam"/> run together.</summary>
public interface ITeamWork
{
    /// <summary>
    /// Runs part <see cref="TeamPart.Index"/> of <see cref="TeamPart.Count"/>. Every part calls <see cref="TeamPart.Sync"/>
    /// the same number of times (a work without any is given one meeting at its end; a part left waiting for one that has
    /// returned fails the call with an <see cref="InvalidOperationException"/>); whatever a part writes after its
    /// last sync may still be in progress when <see cref="CoreTeam.Run"/> returns. An exception stops the call: the
    /// other parts' syncs stop waiting, and <see cref="CoreTeam.Run"/> rethrows it once every part has returned.
    /// </summary>
    void Run(TeamPart part);
}

/// <summary>
/// One core's part of a <see cref="CoreTeam"/> call: which rows of each product it computes, and the barrier where the
/// parts meet. <see cref="Alone"/> is the whole of the work on one thread.
/// </summary>
public readonly struct TeamPart
{
    private readonly CoreTeam.Crew? _team;
    private readonly int _count;
    private readonly long _job; // the call this part belongs to

    internal TeamPart(CoreTeam.Crew team, int index, long job)
    {
        _team = team;
        Index = index;
        _count = team.Cores;
        _job = job;
    }

    /// <summary>The whole of the work, on the calling thread: every row, and <see cref="Sync"/> does nothing.</summary>
    public static TeamPart Alone => default;

    /// <summary>This part's number, 0 … Count − 1 (0: the calling thread).</summary>
    public int Index { get; }

    /// <summary>Parts of the call (1 when alone).</summary>
    public int Count => _team is null ? 1 : _count;

    /// <summary>Waits until every part of the call has reached the same number of syncs (nothing when alone).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Sync() => _team?.Sync(Index, _job);

    /// <summary>
    /// Whether a layer of <paramref name="units"/> hidden units can be split between cores by units: every gate's rows of a
    /// part must start on a block of the packed layout of <typeparamref name="T"/>, and there must be two blocks at least.
    /// </summary>
    public static bool CanSplit<T>(int units) where T : unmanaged, System.Numerics.INumber<T> =>
        units % PackedMatrix<T>.BlockRowsOf == 0 && units >= 2 * PackedMatrix<T>.BlockRowsOf;

    /// <summary>
    /// This part's rows of a product whose <paramref name="groups"/> groups of <paramref name="groupRows"/> rows each (a
    /// layer's gates) are split alike: the same units of every group, in whole blocks of the packed layout of
    /// <typeparamref name="T"/> (<see cref="PackedMatrix{T}.BlockRows"/>), as evenly as the blocks allow. With more than
    /// one group a split needs <paramref name="groupRows"/> to be a multiple of a block; otherwise part 0 takes every row.
    /// </summary>
    public RowSlice Rows<T>(int groups, int groupRows) where T : unmanaged, System.Numerics.INumber<T>
    {
        int count = Count;
        if (count == 1) return new RowSlice(groups, 0, groupRows);
        int block = PackedMatrix<T>.BlockRowsOf;
        if (groups > 1 && groupRows % block != 0)
            return Index == 0 ? new RowSlice(groups, 0, groupRows) : new RowSlice(groups, 0, 0);
        int blocks = (groupRows + block - 1) / block;
        int from = Math.Min(groupRows, (int)((long)blocks * Index / count) * block);
        int to = Math.Min(groupRows, (int)((long)blocks * (Index + 1) / count) * block);
        return new RowSlice(groups, from, to);
    }
}

/// <summary>
/// Rows of a product computed by one part of a team: of <see cref="Groups"/> equal groups of rows (the gates of a layer),
/// rows <see cref="From"/> … <see cref="To"/> − 1 of each group.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)] // called by generated code; not an API to program against
public readonly record struct RowSlice(int Groups, int From, int To)
{
    /// <summary>Every row of a product of <paramref name="rows"/> rows.</summary>
    public static RowSlice All(int rows) => new(1, 0, rows);

    /// <summary>Whether the slice has no rows.</summary>
    public bool IsEmpty => To <= From;
}

/// <summary>
/// A fixed-length buffer whose first element starts on a 64-byte boundary (pinned, so the alignment stays true): the parts of
/// a <see cref="CoreTeam"/> write neighbouring units of its rows, and rows that start on a cache line keep them from sharing
/// lines (measured: 0.1–0.3 µs of a 3.5 µs two-core step of an LSTM 64→128×2).
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)] // called by generated code; not an API to program against
public sealed class AlignedArray<T> where T : unmanaged
{
    private readonly T[] _array;
    private readonly int _offset;

    /// <summary>A zero buffer of <paramref name="length"/> elements.</summary>
    public AlignedArray(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _array = Simd.AllocateAligned<T>(length, out _offset);
        Length = length;
    }

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    /// <summary>The elements.</summary>
    public Span<T> Span => new(_array, _offset, Length);
}
