using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using RnnGen.Kernels;

namespace RnnGen;

/// <summary>
/// Cores that run one model's <c>Step</c> (and <c>Forward</c>) together: every layer's rows are split between them, so each
/// core streams its share of the weights from its own cache, and the cores meet once per layer and step.
/// </summary>
/// <remarks>
/// <para>Give a team to a model through its <c>Team</c> property. The calling thread is part 0; the team owns
/// <see cref="Cores"/> − 1 helper threads, which spin between calls for <see cref="SpinTime"/> (so that a stream of
/// steps does not pay for waking them) and then sleep until the next call. Spinning keeps those cores busy: give a team
/// only to a model whose latency matters more than the other work of the machine.</para>
/// <para>A team runs one call at a time. Results are the same bits as on one core: every output is summed in the same
/// order, whichever core computes it.</para>
/// <para>Measured on a 2-core Zen 5 (docs/benchmarks.md): an LSTM 64→128×2 step from 5.8 to about 3.3 µs. Cores meet
/// through shared cache lines; a meeting costs a few hundred nanoseconds on a virtual machine, so small models (whose
/// whole step takes less) gain nothing, and their <c>Step</c> ignores the team.</para>
/// </remarks>
public sealed class CoreTeam : IDisposable
{
    private const int Line = 16; // longs per cache line and a half: counters of different cores never share a line

    private readonly Thread[] _helpers;
    private readonly long[] _arrived;   // part k's barrier count at k·Line
    private readonly long[] _signal = new long[2 * Line]; // [0]: the job number; [Line]: 1 while some helper sleeps
    private readonly object _sleep = new();
    private ITeamWork? _work;
    private long _job;
    private int _busy;
    private volatile bool _stopping;
    private volatile bool _failed; // a part threw: barriers no longer wait, and the counts no longer agree
    private Exception? _error;

    /// <summary>A team of <paramref name="cores"/> cores: the calling thread and <paramref name="cores"/> − 1 helper threads.</summary>
    /// <param name="cores">At least 2.</param>
    /// <param name="spinTime">How long helpers spin for the next call before they sleep; default 1 ms.</param>
    public CoreTeam(int cores = 2, TimeSpan? spinTime = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cores, 2);
        SpinTime = spinTime ?? TimeSpan.FromMilliseconds(1);
        ArgumentOutOfRangeException.ThrowIfLessThan(SpinTime, TimeSpan.Zero, nameof(spinTime));
        _arrived = new long[cores * Line];
        _helpers = new Thread[cores - 1];
        for (int i = 0; i < _helpers.Length; i++)
        {
            int part = i + 1;
            _helpers[i] = new Thread(() => HelperLoop(part)) { IsBackground = true, Name = $"RnnGen core team {part}" };
            _helpers[i].Start();
        }
    }

    /// <summary>Cores of the team, the calling thread's included.</summary>
    public int Cores => _helpers.Length + 1;

    /// <summary>How long helper threads spin for the next call before they sleep.</summary>
    public TimeSpan SpinTime { get; }

    /// <summary>
    /// Runs <paramref name="work"/> on every core (<see cref="ITeamWork.Run"/> with parts 0 … Cores − 1; part 0 on the
    /// calling thread) and returns when part 0 has returned. Parts meet through <see cref="TeamPart.Sync"/>; a part that
    /// must be complete before this returns ends with one.
    /// </summary>
    /// <exception cref="InvalidOperationException">The team is running another call, or it is disposed.</exception>
    public void Run(ITeamWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
            throw new InvalidOperationException("This CoreTeam is running another call: a team serves one call at a time (give each thread its own team, or none).");
        try
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            if (_failed)
                throw new InvalidOperationException("This CoreTeam is unusable: a part of an earlier call threw (see that exception). Dispose it and create another.");
            _work = work;
            long syncs = _arrived[0];
            long job = ++_job;
            Interlocked.Exchange(ref _signal[0], job); // a full fence: the work is visible before the job number
            if (Volatile.Read(ref _signal[Line]) != 0)
                lock (_sleep) Monitor.PulseAll(_sleep);
            try
            {
                work.Run(new TeamPart(this, 0));
            }
            catch (Exception e)
            {
                Fail(e);
            }
            // every part syncs at least once, so no helper can still be starting this job when the next is published
            if (_arrived[0] == syncs)
                Sync(0);
            Exception? error = Interlocked.Exchange(ref _error, null);
            if (error is not null)
                ExceptionDispatchInfo.Throw(error);
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Part <paramref name="part"/> waits until every part has called this as often as it has.</summary>
    internal void Sync(int part)
    {
        long n = _arrived[part * Line] + 1;
        Volatile.Write(ref _arrived[part * Line], n);
        for (int k = 0; k < _helpers.Length + 1; k++)
        {
            while (Volatile.Read(ref _arrived[k * Line]) < n && !_failed)
                Thread.SpinWait(1);
        }
    }

    private void HelperLoop(int part)
    {
        long seen = 0;
        while (true)
        {
            long job = WaitForJob(seen);
            if (_stopping) return;
            seen = job;
            try
            {
                _work!.Run(new TeamPart(this, part));
            }
            catch (Exception e)
            {
                Fail(e);
            }
        }
    }

    // Spins for SpinTime, then sleeps; the caller wakes sleepers after publishing a job.
    private long WaitForJob(long seen)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        long spinTicks = (long)(SpinTime.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        for (int i = 0; ; i++)
        {
            long job = Volatile.Read(ref _signal[0]);
            if (job != seen || _stopping) return job;
            Thread.SpinWait(1);
            if ((i & 255) == 255 && System.Diagnostics.Stopwatch.GetTimestamp() - start > spinTicks)
                break;
        }
        lock (_sleep)
        {
            Interlocked.Exchange(ref _signal[Line], 1); // a full fence: announced before the job number is read again
            long job;
            while ((job = Volatile.Read(ref _signal[0])) == seen && !_stopping)
                Monitor.Wait(_sleep);
            Volatile.Write(ref _signal[Line], 0);
            return job;
        }
    }

    // A part failed: record the first error and release the others from every barrier still to come.
    private void Fail(Exception e)
    {
        Interlocked.CompareExchange(ref _error, e, null);
        _failed = true;
    }

    /// <summary>Stops and joins the helper threads. A disposed team refuses further calls.</summary>
    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        lock (_sleep) Monitor.PulseAll(_sleep);
        foreach (var t in _helpers)
            t.Join();
    }
}
