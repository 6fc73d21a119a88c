using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Numerics;

namespace RnnGen.Kernels;

/// <summary>Where a packed weight matrix keeps its values: a pinned array and the byte offset of its 64-byte-aligned start.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly record struct WeightStorage(Array Array, int ByteOffset);

/// <summary>Weights a model's <c>Step</c> streams once per call, whose storage <see cref="Placement"/> may replace before they are packed.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IStreamedWeights
{
    /// <summary>Bytes from the storage's start that a step reads.</summary>
    int StreamedBytes { get; }

    /// <summary>The storage in use.</summary>
    WeightStorage Storage { get; }

    /// <summary>A new zero storage of the same size (not in use).</summary>
    WeightStorage Allocate();

    /// <summary>Uses <paramref name="storage"/> (from <see cref="Allocate"/>) from now on; its values are not copied.</summary>
    void Use(WeightStorage storage);
}

/// <summary>
/// For generated code: picks where in memory a model's streamed weights live. A model whose weights fill most of a core's
/// L2 cache (the LSTM 64→128×2's 904 KB in the 1 MB of this machine's L2) streams them at L2 speed only if the pages they
/// landed on spread evenly over the cache's sets; which pages the operating system (or a hypervisor) gives an allocation
/// is beyond the program's control, and on the development VM one placement streamed up to 30 % slower than another in
/// the same process, and stayed so (the step's time follows its weights' read time). So before the weights are first
/// packed, up to 24 candidate placements (<see cref="CandidatesFor"/>) are allocated, written (a page never written is the
/// shared zero page) and each timed streaming all of the weights, as a step does, in three interleaved rounds (each
/// candidate's fastest pass); the fastest is kept and the others are left to the garbage collector. About 10 ms and, for
/// that moment, up to 24 MB of copies (24 of the LSTM 64→128×2's; 8 copies above 3 MB: 32 MB at 4 MB), once per model;
/// the values are packed afterwards, so no result depends on the choice. The timing runs on the thread that first refreshes
/// the model (a trainer's replicas: on its workers) and reads all of the weights on one core, also for a model that steps
/// on a <see cref="CoreTeam"/>, where each core reads its share.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Placement
{
    /// <summary>
    /// Candidate placements timed for weights of <paramref name="bytes"/> bytes (the current one included): as many as fit
    /// in 24 MB, from 8 to 24 — 24 for the LSTM 64→128×2's 904 KB. (Its benchmark step, twelve processes each way,
    /// alternating: a median of 4.95 µs with 24 candidates against 5.25 with 12, 2026-11-30; each candidate is written,
    /// so the memory is taken for a moment, and timed in about 0.3 ms.)
    /// </summary>
    internal static int CandidatesFor(long bytes) => (int)Math.Clamp(24L * 1024 * 1024 / Math.Max(bytes, 1), 8, 24);

    /// <summary>Below this many bytes the weights use little of the cache, and any placement fits.</summary>
    internal const int MinBytes = 256 * 1024;

    /// <summary>Above this many bytes the weights stream from L3 or memory, where placement does not decide.</summary>
    internal const int MaxBytes = 4 * 1024 * 1024;

    private const int Rounds = 3, Passes = 15;

    [ThreadStatic] private static double[]? t_lastTimes;

    /// <summary>Diagnostics: the times of the candidates of this thread's last choice (timestamp ticks), the chosen one the least.</summary>
    internal static double[]? LastTimes { get => t_lastTimes; private set => t_lastTimes = value; }

    // Tests, for their own thread: a timing of one candidate (its index, its storages in the order given) instead of the
    // clock's, and whether to choose at all (false: Choose keeps the placement it finds).
    [ThreadStatic] private static Func<int, WeightStorage[], double>? t_timeOverride;
    [ThreadStatic] private static bool t_disabled;

    internal static Func<int, WeightStorage[], double>? TimeOverride { get => t_timeOverride; set => t_timeOverride = value; }

    internal static bool Enabled { get => !t_disabled; set => t_disabled = !value; }

    private static int s_sink;

    /// <summary>
    /// Times <see cref="CandidatesFor"/> placements of <paramref name="weights"/> (all of them together, in the order given)
    /// and keeps the fastest: each matrix then uses its storage in that placement. Call before packing the values. Does
    /// nothing unless the weights together take between 256 KB and 4 MB.
    /// </summary>
    public static void Choose(params IStreamedWeights[] weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        long total = 0;
        foreach (var w in weights) total += w.StreamedBytes;
        if (!Enabled || total < MinBytes || total > MaxBytes) return;

        int count = CandidatesFor(total);
        var candidates = new WeightStorage[count][];
        candidates[0] = weights.Select(w => w.Storage).ToArray();
        for (int k = 1; k < count; k++)
            candidates[k] = weights.Select(w => w.Allocate()).ToArray();
        // write every page first: memory never written is mapped to the one shared zero page, which any placement reads fast
        foreach (var candidate in candidates)
            for (int i = 0; i < weights.Length; i++)
                Bytes(candidate[i], weights[i].StreamedBytes).Clear();

        var best = new double[count];
        best.AsSpan().Fill(double.PositiveInfinity);
        for (int round = 0; round < Rounds; round++) // rounds interleave the candidates, so a slow moment hits them alike
            for (int k = 0; k < count; k++)
                best[k] = Math.Min(best[k], TimeOverride?.Invoke(k, candidates[k]) ?? Time(weights, candidates[k]));

        int chosen = Array.IndexOf(best, best.Min());
        LastTimes = best;
        for (int i = 0; i < weights.Length; i++)
            weights[i].Use(candidates[chosen][i]);
    }

    /// <summary>
    /// The fastest of <see cref="Passes"/> passes over every storage, after one to bring them into the cache: other threads
    /// (a spinning thread pool of another library, the JIT) only ever add time to a pass, and what is measured is how fast
    /// this placement can be read, so the fastest pass is the estimate that they disturb least.
    /// </summary>
    private static double Time(IStreamedWeights[] weights, WeightStorage[] storages)
    {
        long fastest = long.MaxValue;
        int sink = Pass(weights, storages);
        for (int p = 0; p < Passes; p++)
        {
            long start = Stopwatch.GetTimestamp();
            sink += Pass(weights, storages);
            fastest = Math.Min(fastest, Stopwatch.GetTimestamp() - start);
        }
        s_sink += sink;
        return fastest;
    }

    private static int Pass(IStreamedWeights[] weights, WeightStorage[] storages)
    {
        int sink = 0;
        for (int i = 0; i < weights.Length; i++)
            sink += Read(ref MemoryMarshal.GetReference(Bytes(storages[i], weights[i].StreamedBytes)), weights[i].StreamedBytes);
        return sink;
    }

    private static Span<byte> Bytes(WeightStorage storage, int length) =>
        MemoryMarshal.CreateSpan(ref Unsafe.AddByteOffset(ref MemoryMarshal.GetArrayDataReference(storage.Array), (nint)storage.ByteOffset), length);

    /// <summary>
    /// Reads <paramref name="bytes"/> bytes with <see cref="Vector{T}"/> (256-bit on AVX2 and AVX-512 machines: two such loads
    /// a cycle already take all that L2 delivers), four independent accumulators.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] // optimised at once: it runs once per model, never tiered up
    private static int Read(ref byte start, int bytes)
    {
        int width = Vector<byte>.Count;
        Vector<byte> a = default, b = default, c = default, d = default;
        int i = 0;
        for (; i + 4 * width <= bytes; i += 4 * width)
        {
            a |= Vector.LoadUnsafe(ref start, (nuint)i);
            b |= Vector.LoadUnsafe(ref start, (nuint)(i + width));
            c |= Vector.LoadUnsafe(ref start, (nuint)(i + 2 * width));
            d |= Vector.LoadUnsafe(ref start, (nuint)(i + 3 * width));
        }
        return (a | b | c | d)[0] + i;
    }
}
