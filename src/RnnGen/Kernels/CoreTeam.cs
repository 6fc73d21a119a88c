using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using RnnGen.Kernels;

namespace RnnGen;

/// <summary>
/// Cores that run one model's <c>Step</c> together: every layer's rows are split between them, so each core streams its
/// share of the weights from its own cache, and the cores meet once per layer.
/// </summary>
/// <remarks>
/// <para>Give a team to a model through its <c>Team</c> property (generated for models above 32,768 gate weights whose
/// hidden size is a multiple of 16, or of 8 in double precision). The
/// calling thread is part 0; the team owns <see cref="Cores"/> − 1 helper threads, which spin between calls for
/// <see cref="SpinTime"/> (so that a stream of steps does not pay for waking them) and then sleep until the next call.
/// Spinning keeps those cores busy: give a team only to a model whose latency matters more than the other work of the
/// machine, and no more cores than the machine has.</para>
/// <para>A team runs one call at a time. Results are the same bits as on one core: every output is summed in the same
/// order, whichever core computes it. Dispose the team to stop its threads.</para>
/// <para>Measured on a 2-core Zen 5 (docs/design.md): an LSTM 64→128×2 step from 5.2–5.5 to 3.0–3.2 µs. Cores meet
/// through shared cache lines, and a line takes about 300 ns from one core of that virtual machine to the other, so the
/// small models (whose whole step takes less) have no <c>Team</c>.</para>
/// </remarks>
public sealed class CoreTeam : IDisposable
{
    private const int Line = 16; // 16 longs = 128 bytes, two cache lines: the counters of different cores never share one

    private readonly Thread[] _helpers;
    private readonly long[] _arrived;   // part k's barrier count at k·Line
    private readonly long[] _finished;  // the last job helper part k has finished, at k·Line
    private readonly long[] _signal = new long[2 * Line]; // [0]: the job number; [Line]: how many helpers sleep
    private readonly object _sleep = new();
    private ITeamWork? _work;
    private long _job;
    private int _busy;             // 1 while a call runs, and for good once disposed
    private volatile bool _stopping;
    private volatile bool _failed; // a part threw: barriers no longer wait, and the counts no longer agree
    private Exception? _error;     // the first exception a part threw
    private bool _reported;        // whether _error has been thrown to a caller

    // Adaptive: every ProbeInterval calls, the first 2·Probes alternate alone and together, timed; the faster way (together
    // only if clearly faster) serves the rest of the interval.
    internal const int ProbeInterval = 4096, Probes = 16;
    private long _calls;
    private long _bestTogether, _bestAlone; // the fastest probe of each way in the current interval, in timestamp ticks
    private bool _alone;                    // the current choice

    /// <summary>The probes' clock (timestamp ticks); tests replace it to make the choice deterministic.</summary>
    internal Func<long> ProbeClock { get; set; } = System.Diagnostics.Stopwatch.GetTimestamp;

    /// <summary>A team of <paramref name="cores"/> cores: the calling thread and <paramref name="cores"/> − 1 helper threads.</summary>
    /// <param name="cores">At least 2.</param>
    /// <param name="spinTime">How long helpers spin for the next call before they sleep; default 1 ms.</param>
    /// <param name="adaptive">Whether the team times itself now and then and runs the work alone on the calling thread
    /// (<see cref="TeamPart.Alone"/>) while that is faster (see <see cref="Run"/>); default true.</param>
    public CoreTeam(int cores = 2, TimeSpan? spinTime = null, bool adaptive = true)
    {
        Adaptive = adaptive;
        ArgumentOutOfRangeException.ThrowIfLessThan(cores, 2);
        SpinTime = spinTime ?? TimeSpan.FromMilliseconds(1);
        ArgumentOutOfRangeException.ThrowIfLessThan(SpinTime, TimeSpan.Zero, nameof(spinTime));
        _arrived = new long[cores * Line];
        _finished = new long[cores * Line];
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

    /// <summary>Whether the team chooses, by timing itself, between running a work together and alone.</summary>
    public bool Adaptive { get; }

    /// <summary>Whether an adaptive team currently runs works alone on the calling thread (its last probes found that faster).</summary>
    public bool RunsAlone => Adaptive && _alone;

    /// <summary>The fastest probe of each way in the current interval, in microseconds (diagnostics).</summary>
    internal (double Together, double Alone) BestProbes =>
        (_bestTogether * 1e6 / System.Diagnostics.Stopwatch.Frequency, _bestAlone * 1e6 / System.Diagnostics.Stopwatch.Frequency);

    /// <summary>
    /// Runs <paramref name="work"/> on every core (<see cref="ITeamWork.Run"/> with parts 0 … Cores − 1; part 0 on the
    /// calling thread) and returns when part 0 has returned. Parts meet through <see cref="TeamPart.Sync"/>; what a helper
    /// part writes after its last sync may still be in progress when this returns.
    /// </summary>
    /// <exception cref="InvalidOperationException">The team is running another call; or a part of an earlier call threw
    /// (the team is then unusable; that exception is the inner one).</exception>
    /// <exception cref="ObjectDisposedException">The team is disposed.</exception>
    /// <remarks>
    /// <para>An exception thrown by any part is rethrown here, after every part has stopped.</para>
    /// <para>An <see cref="Adaptive"/> team probes every 4,096 calls: the first 32 calls of each such interval alternate
    /// between running the work together and alone (<c>work.Run(TeamPart.Alone)</c>, the whole work on the calling
    /// thread), timed, and the rest of the interval runs the faster way — together only if its fastest probe beat the
    /// fastest alone by 10 %, since a team also keeps the other cores busy. On a virtual machine the cost of a meeting
    /// between cores can change by several times from one minute to the next; the probes follow it. A work given to an
    /// adaptive team must therefore do the whole of its work when run alone; the results must not depend on the way.</para>
    /// </remarks>
    public void Run(ITeamWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            throw new InvalidOperationException("This CoreTeam is running another call: a team serves one call at a time (give each thread its own team, or none).");
        }
        try
        {
            if (_failed)
            {
                _reported = true;
                throw new InvalidOperationException("This CoreTeam is unusable: a part of an earlier call threw (the inner exception). Dispose it and create another.", _error);
            }
            if (Adaptive)
            {
                long phase = _calls++ % ProbeInterval;
                if (phase < 2 * Probes)
                {
                    Probe(work, phase);
                    return;
                }
                if (_alone)
                {
                    work.Run(TeamPart.Alone);
                    return;
                }
            }
            Together(work);
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    // One probe call: even ones together, odd ones alone, each timed; the last one makes the choice.
    private void Probe(ITeamWork work, long phase)
    {
        if (phase == 0)
            _bestTogether = _bestAlone = long.MaxValue;
        long start = ProbeClock();
        bool alone = (phase & 1) == 1;
        if (alone)
            work.Run(TeamPart.Alone);
        else
            Together(work);
        long ticks = ProbeClock() - start;
        if (alone) _bestAlone = Math.Min(_bestAlone, ticks);
        else _bestTogether = Math.Min(_bestTogether, ticks);
        if (phase == 2 * Probes - 1)
            _alone = _bestTogether > 0.9 * _bestAlone;
    }

    // The work on every core; rethrows a part's exception once every part has stopped.
    private void Together(ITeamWork work)
    {
        _work = work;
        long syncs = _arrived[0];
        long job = ++_job;
        Interlocked.Exchange(ref _signal[0], job); // a full fence: the work is visible before the job number
        if (Volatile.Read(ref _signal[Line]) != 0)  // read after the fence: a helper going to sleep has counted itself
            lock (_sleep) Monitor.PulseAll(_sleep);
        try
        {
            work.Run(new TeamPart(this, 0));
        }
        catch (Exception e)
        {
            Fail(e);
        }
        // every part syncs at least once (the helpers add one as part 0 does), so no helper can still be starting
        // this job when the next is published
        if (_arrived[0] == syncs)
            Sync(0);
        if (_failed)
        {
            // let every helper stop before the caller sees the exception (and perhaps touches what they write)
            for (int k = 1; k < Cores; k++)
                while (Volatile.Read(ref _finished[k * Line]) < job)
                    Thread.Yield();
            if (!_reported)
            {
                _reported = true;
                ExceptionDispatchInfo.Throw(_error!);
            }
        }
    }

    /// <summary>Part <paramref name="part"/> waits until every part has called this as often as it has.</summary>
    internal void Sync(int part)
    {
        long n = _arrived[part * Line] + 1;
        Volatile.Write(ref _arrived[part * Line], n);
        for (int k = 0; k < _helpers.Length + 1; k++)
        {
            // a meeting takes well under a microsecond; a wait of thousands of spins means that more threads than cores
            // compete (or a part is descheduled): then give the processor away between looks
            for (int spins = 0; Volatile.Read(ref _arrived[k * Line]) < n && !_failed; spins++)
            {
                if (spins < 4096) Thread.SpinWait(1);
                else Thread.Yield();
            }
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
            long syncs = _arrived[part * Line];
            try
            {
                _work!.Run(new TeamPart(this, part));
                if (_arrived[part * Line] == syncs)
                    Sync(part); // as part 0 does after a work without syncs
            }
            catch (Exception e)
            {
                Fail(e);
            }
            Volatile.Write(ref _finished[part * Line], job);
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
            // counted (a full fence) before the job number is read again: the caller publishes the job, then reads the
            // count, so either this sees the job or the caller sees the sleeper and pulses (under the lock, so after the Wait)
            Interlocked.Increment(ref _signal[Line]);
            long job;
            while ((job = Volatile.Read(ref _signal[0])) == seen && !_stopping)
                Monitor.Wait(_sleep);
            Interlocked.Decrement(ref _signal[Line]);
            return job;
        }
    }

    // A part failed: record the first error and release the others from every barrier still to come.
    private void Fail(Exception e)
    {
        Interlocked.CompareExchange(ref _error, e, null);
        _failed = true;
    }

    /// <summary>
    /// Waits for a running call to end, then stops and joins the helper threads. A disposed team refuses further calls
    /// (<see cref="ObjectDisposedException"/>). Do not call it from inside a call of the team.
    /// </summary>
    public void Dispose()
    {
        // take the team as a call would, and keep it: no call can start or be running while the helpers stop
        SpinWait wait = default;
        while (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            if (_stopping) return; // disposed already
            wait.SpinOnce();
        }
        _stopping = true;
        lock (_sleep) Monitor.PulseAll(_sleep);
        foreach (var t in _helpers)
            t.Join();
    }
}
