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
/// hidden size is a multiple of 16 and at least 32; in double a multiple of 8 and at least 16). The step is split only
/// when the hidden size holds two of this machine's packed blocks (four of its widest vectors: 128, 192… floats with
/// AVX-512, 64, 96… with AVX2); otherwise it runs alone on the calling thread. The
/// calling thread is part 0; the team owns <see cref="Cores"/> − 1 helper threads, which spin between calls for
/// <see cref="SpinTime"/> (so that a stream of steps does not pay for waking them) and then sleep until the next call.
/// Spinning keeps those cores busy: give a team only to a model whose latency matters more than the other work of the
/// machine, and no more cores than the machine has.</para>
/// <para>A team runs one call at a time. Results are the same bits as on one core: every output is summed in the same
/// order, whichever core computes it. Dispose the team to stop its threads (a team dropped without it, with its model, stops them
/// when the garbage collector finalizes it).</para>
/// <para>Measured on a 2-core Zen 5 (docs/design.md, "Step on several cores"): an LSTM 64→128×2 step 1.4–1.5× faster
/// on two cores than on one (docs/benchmarks.md). Cores meet
/// through shared cache lines, and a line takes about 300 ns from one core of that virtual machine to the other, so the
/// small models (whose whole step takes less) have no <c>Team</c>.</para>
/// </remarks>
public sealed class CoreTeam : IDisposable
{
    // The team's state and threads. The helper threads hold the crew, never this object, so a team dropped without Dispose
    // (with the model it was given to) is collected, and its finalizer stops the helpers.
    private readonly Crew _crew;

    // Adaptive probing: every ProbeInterval calls of a work, 2·Probes probe calls (see Run); while alone keeps winning, up to
    // 2^MaxBackoff intervals apart, but never more than MaxProbeSpacing of calls run alone.
    internal const int ProbeInterval = 4096, Probes = 16, MaxBackoff = 4;
    internal static readonly TimeSpan MaxProbeSpacing = TimeSpan.FromMilliseconds(250);

    /// <summary>A team of <paramref name="cores"/> cores: the calling thread and <paramref name="cores"/> − 1 helper threads.</summary>
    /// <param name="cores">At least 2.</param>
    /// <param name="spinTime">How long helpers spin for the next call before they sleep; default 1 ms.</param>
    /// <param name="adaptive">Whether the team times itself now and then and runs the work alone on the calling thread
    /// (<see cref="TeamPart.Alone"/>) while that is faster (see <see cref="Run"/>); default true.</param>
    public CoreTeam(int cores = 2, TimeSpan? spinTime = null, bool adaptive = true) => _crew = new Crew(cores, spinTime, adaptive);

    /// <summary>Stops the helper threads of a team dropped without <see cref="Dispose"/>.</summary>
    ~CoreTeam() => _crew?.Abandon();

    /// <summary>Cores of the team, the calling thread's included.</summary>
    public int Cores => _crew.Cores;

    /// <summary>How long helper threads spin for the next call before they sleep.</summary>
    public TimeSpan SpinTime => _crew.SpinTime;

    /// <summary>Whether the team chooses, by timing itself, between running a work together and alone.</summary>
    public bool Adaptive => _crew.Adaptive;

    /// <summary>Whether an adaptive team currently runs the work it ran last alone on the calling thread (its last probes
    /// found that faster; each work sharing the team has a choice of its own).</summary>
    public bool RunsAlone => _crew.RunsAlone;

    /// <summary>The median probe of each way in the last probes of the work run last, in microseconds (diagnostics).</summary>
    internal (double Together, double Alone) MedianProbes => _crew.MedianProbes;

    /// <summary>Calls of the work run last before its next probes start (diagnostics, tests).</summary>
    internal long CallsBeforeNextProbes => _crew.CallsBeforeNextProbes;

    /// <summary>Whether the team holds a work (only during a call; tests).</summary>
    internal bool HoldsWork => _crew.HoldsWork;

    /// <summary>Whether every helper thread has ended (after <see cref="Dispose"/>; tests).</summary>
    internal bool HelpersEnded => _crew.HelpersEnded;

    /// <summary>Tests only: the calls whose parts the helpers have started (summed over the helpers).</summary>
    internal long HelperJobs => _crew.HelperJobs;

    /// <summary>The probes' clock (timestamp ticks); tests replace it to make the choice deterministic.</summary>
    internal Func<long> ProbeClock { get => _crew.ProbeClock; set => _crew.ProbeClock = value; }

    /// <summary>The team's state, which the helper threads hold (tests: whether they ended after the team was dropped).</summary>
    internal Crew Members => _crew;

    /// <summary>
    /// Continues <paramref name="earlier"/>'s choices (a team that served the same works before, now disposed or idle): each
    /// of its works keeps its place in its probe interval and its current way, instead of probing again from the start. The
    /// trainer makes a team per call and passes on what the last one learned, so a call per epoch does not spend its first
    /// windows probing.
    /// </summary>
    internal void ContinueFrom(CoreTeam? earlier) => _crew.ContinueFrom(earlier?._crew);

    /// <summary>
    /// Runs <paramref name="work"/> on every core (<see cref="ITeamWork.Run"/> with parts 0 … Cores − 1; part 0 on the
    /// calling thread) and returns when part 0 has returned. Parts meet through <see cref="TeamPart.Sync"/>; what a helper
    /// part writes after its last sync may still be in progress when this returns.
    /// </summary>
    /// <exception cref="InvalidOperationException">The team is running another call; or a part of an earlier call threw
    /// (the team is then unusable; that exception is the inner one); or the parts did not sync equally often.</exception>
    /// <exception cref="ObjectDisposedException">The team is disposed.</exception>
    /// <remarks>
    /// <para>An exception thrown by any part is rethrown here, after every part has stopped.</para>
    /// <para>An <see cref="Adaptive"/> team probes every 4,096 calls of each work: the first 32 calls of such an interval
    /// alternate between running the work together and alone (<c>work.Run(TeamPart.Alone)</c>, the whole work on the
    /// calling thread), timed, and the rest of the interval runs the faster way — together only if its median probe beat
    /// the median alone by 10 %, since a team also keeps the other cores busy (medians, not the fastest probes: a busy
    /// machine that pre-empts a helper now and then makes the together way slow in most calls, not in all). On a virtual machine the cost of a meeting
    /// between cores can change by several times from one minute to the next; the probes follow it. While alone keeps
    /// winning, each interval is twice the last, up to 16 × 4,096 calls, but never longer than a quarter of a second of
    /// calls run alone (and never shorter than 4,096): on a loaded machine the together-probes can take far longer than
    /// the work they time, and this bounds what they cost a work that runs alone. Each work (each
    /// model's step) is timed and chooses for itself. A work given to an adaptive team must therefore do the whole of its
    /// work when run alone; the results must not depend on the way.</para>
    /// </remarks>
    public void Run(ITeamWork work)
    {
        _crew.Run(work);
        GC.KeepAlive(this); // no finalizer may stop the helpers during a call
    }

    /// <summary>
    /// Waits for a running call to end, then stops and joins the helper threads. A disposed team refuses further calls
    /// (<see cref="ObjectDisposedException"/>). Called from inside a call of the team (by a part), it throws
    /// <see cref="InvalidOperationException"/> instead of waiting for itself.
    /// </summary>
    public void Dispose()
    {
        _crew.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>What a <see cref="CoreTeam"/> is made of: its helper threads, its meetings and its adaptive choices.</summary>
    internal sealed class Crew
    {
        private const int Line = 16; // 16 longs = 128 bytes, two cache lines: the counters of different cores never share one
        private const int Started = 1; // beside each part's meeting count in _arrived: the job it has started
        private const int Jobs = 2;    // and the calls a helper has started its part of (for tests)

        private const int Free = 0, Running = 1, Disposed = 2; // the call state
        private const int Slot = 32; // the padded slot of a small array of ints: 128 bytes on each side

        internal long HelperJobs
        {
            get
            {
                long jobs = 0;
                for (int k = 1; k < Cores; k++) jobs += Volatile.Read(ref _arrived[k * Line + Jobs]);
                return jobs;
            }
        }

        private readonly Thread[] _helpers;
        private readonly long[] _arrived;   // part k's barrier count at k·Line
        private readonly long[] _finished;  // the last job part k has returned from, at k·Line
        private readonly long[] _signal = new long[2 * Line]; // [0]: the job number; [Line]: how many helpers sleep
        // Padded, so that no line the helpers poll is written by part 0 on every call, nor the other way round: the call state
        // (part 0's compare-exchange; a line the helpers read would cost it a transfer between the cores, ~300 ns here) and
        // the flags the helpers poll (stop, failed), which change only when the team stops or a part fails.
        private readonly int[] _state = new int[2 * Slot];
        private readonly int[] _flags = new int[2 * Slot + 1]; // [Slot]: stopping; [Slot + 1]: failed
        private readonly object _sleep = new(), _disposing = new();
        private ITeamWork? _work;      // the work of the running call (cleared after it: the team keeps no model alive)
        private long _job;
        private long _startCount;      // part 0's meetings before the running call: every helper must start it with as many
        private int _caller;           // the managed thread id of the running call's caller
        private Exception? _error;     // the first exception a part threw
        private bool _reported;        // whether _error has been thrown to a caller

        // Adaptive: for each work, every ProbeInterval of its calls, the first 2·Probes alternate alone and together, timed;
        // the faster way (together only if clearly faster) serves the rest of that work's interval. Kept per work, weakly (no
        // model is kept alive by the table), so that works sharing a team (two models stepping in turn) are each timed both
        // ways and choose for themselves.
        internal const int ProbeInterval = CoreTeam.ProbeInterval, Probes = CoreTeam.Probes;
        private readonly ConditionalWeakTable<ITeamWork, Choice> _choices = new();
        private Choice? _lastChoice; // the choice of the last work run (diagnostics)

        private sealed class Choice
        {
            public long Calls;
            public long ProbesAt;  // the call at which the next probes start
            public int Backoff;    // probe rounds in a row that chose alone (each doubles the next interval, up to MaxBackoff)
            // the probes of each way in the current interval, in timestamp ticks: their medians decide, so that a way that is
            // fast only when no other process takes a core (the helper pre-empted in a busy phase) is judged by its usual time
            public readonly long[] Together = new long[Probes], AloneTicks = new long[Probes];
            public bool Alone; // the current choice

            public Choice CopyOf()
            {
                // the probes too: a hand-over in the middle of the probes goes on with those already timed
                var copy = new Choice { Calls = Calls, ProbesAt = ProbesAt, Backoff = Backoff, Alone = Alone };
                Together.CopyTo(copy.Together, 0);
                AloneTicks.CopyTo(copy.AloneTicks, 0);
                return copy;
            }

            public static long Median(long[] ticks)
            {
                Array.Sort(ticks);
                return (ticks[Probes / 2 - 1] + ticks[Probes / 2]) / 2;
            }
        }

        internal void ContinueFrom(Crew? earlier)
        {
            if (earlier is null || !Adaptive) return;
            foreach (var (work, choice) in earlier._choices)
                _choices.AddOrUpdate(work, choice.CopyOf());
        }

        internal Func<long> ProbeClock { get; set; } = System.Diagnostics.Stopwatch.GetTimestamp;

        public Crew(int cores, TimeSpan? spinTime, bool adaptive)
        {
            Adaptive = adaptive;
            ArgumentOutOfRangeException.ThrowIfLessThan(cores, 2);
            SpinTime = spinTime ?? TimeSpan.FromMilliseconds(1);
            ArgumentOutOfRangeException.ThrowIfLessThan(SpinTime, TimeSpan.Zero, nameof(spinTime));
            _arrived = new long[cores * Line];
            _finished = new long[cores * Line];
            _helpers = new Thread[cores - 1];
            try
            {
                for (int i = 0; i < _helpers.Length; i++)
                {
                    int part = i + 1;
                    _helpers[i] = new Thread(() => HelperLoop(part)) { IsBackground = true, Name = $"RnnGen core team {part}" };
                    _helpers[i].Start();
                }
            }
            catch
            {
                Stop(); // the helpers already started
                throw;
            }
        }

        public int Cores => _helpers.Length + 1;

        public TimeSpan SpinTime { get; }

        public bool Adaptive { get; }

        public bool RunsAlone => Adaptive && _lastChoice is { Alone: true };

        internal (double Together, double Alone) MedianProbes => _lastChoice is { } c
            ? (Choice.Median(c.Together) * 1e6 / System.Diagnostics.Stopwatch.Frequency, Choice.Median(c.AloneTicks) * 1e6 / System.Diagnostics.Stopwatch.Frequency)
            : (double.NaN, double.NaN);

        internal bool HoldsWork => Volatile.Read(ref _work) is not null;

        internal bool HelpersEnded => _helpers.All(t => t is null || !t.IsAlive);

        private bool Stopping => Volatile.Read(ref _flags[Slot]) != 0;

        private bool Failed => Volatile.Read(ref _flags[Slot + 1]) != 0;

        public void Run(ITeamWork work)
        {
            ArgumentNullException.ThrowIfNull(work);
            int state = Interlocked.CompareExchange(ref _state[Slot], Running, Free);
            if (state != Free)
            {
                if (state == Disposed) throw new ObjectDisposedException(nameof(CoreTeam));
                throw new InvalidOperationException("This CoreTeam is running another call: a team serves one call at a time (give each thread its own team, or none).");
            }
            _caller = Environment.CurrentManagedThreadId;
            try
            {
                if (Failed)
                {
                    _reported = true;
                    throw new InvalidOperationException("This CoreTeam is unusable: a part of an earlier call threw (the inner exception). Dispose it and create another.", _error);
                }
                if (Adaptive)
                {
                    Choice choice = _choices.GetValue(work, static _ => new Choice());
                    _lastChoice = choice;
                    long phase = choice.Calls++ - choice.ProbesAt; // negative until the next probes
                    if (phase >= 0 && phase < 2 * Probes)
                    {
                        Probe(work, choice, phase);
                        return;
                    }
                    if (choice.Alone)
                    {
                        work.Run(TeamPart.Alone);
                        return;
                    }
                }
                Together(work);
            }
            finally
            {
                _caller = 0;
                Volatile.Write(ref _state[Slot], Free);
            }
        }

        // One probe call: even ones together, odd ones alone, each timed; the last one makes the choice.
        private void Probe(ITeamWork work, Choice choice, long phase)
        {
            long start = ProbeClock();
            bool alone = (phase & 1) == 1;
            if (alone)
                work.Run(TeamPart.Alone);
            else
                Together(work);
            long ticks = ProbeClock() - start;
            (alone ? choice.AloneTicks : choice.Together)[phase / 2] = ticks;
            if (phase == 2 * Probes - 1)
            {
                long aloneMedian = Choice.Median(choice.AloneTicks);
                choice.Alone = Choice.Median(choice.Together) > 0.9 * aloneMedian;
                choice.Backoff = choice.Alone ? Math.Min(choice.Backoff + 1, CoreTeam.MaxBackoff) : 0;
                // the next probes: an interval that doubles while alone keeps winning, within the calls that run alone
                // in MaxProbeSpacing (the clock's ticks are Stopwatch ticks), and never fewer than ProbeInterval
                long spacing = (long)(CoreTeam.MaxProbeSpacing.TotalSeconds * System.Diagnostics.Stopwatch.Frequency) / Math.Max(1, aloneMedian);
                choice.ProbesAt += Math.Max(ProbeInterval, Math.Min((long)ProbeInterval << choice.Backoff, spacing));
            }
        }

        /// <summary>Calls of the work run last before its next probes start (diagnostics, tests).</summary>
        internal long CallsBeforeNextProbes => _lastChoice is { } c ? Math.Max(0, c.ProbesAt - c.Calls) : 0;

        // The work on every core; rethrows a part's exception once every part has stopped.
        private void Together(ITeamWork work)
        {
            _work = work;
            long syncs = _arrived[0];
            _startCount = syncs;
            long job = ++_job;
            Volatile.Write(ref _arrived[Started], job);
            Interlocked.Exchange(ref _signal[0], job); // a full fence: the work is visible before the job number
            try
            {
                WakeSleepers(); // after the fence: a helper going to sleep has counted itself
                work.Run(new TeamPart(this, 0, job));
                // every part syncs at least once (the helpers add one as part 0 does), so no helper can still be starting
                // this job when the next is published
                if (_arrived[0] == syncs)
                    Sync(0, job);
            }
            catch (Exception e)
            {
                Fail(e);
            }
            Volatile.Write(ref _finished[0], job);
            if (Failed)
            {
                // let every helper stop before the caller sees the exception (and perhaps touches what they write); wake any
                // that still sleeps (if waking them is what failed)
                for (int k = 1; k < Cores; k++)
                    while (Volatile.Read(ref _finished[k * Line]) < job)
                    {
                        WakeSleepers();
                        Thread.Yield();
                    }
            }
            _work = null; // every helper has read it: it met part 0 at least once, or has finished
            if (Failed && !_reported)
            {
                _reported = true;
                ExceptionDispatchInfo.Throw(_error!);
            }
        }

        private void WakeSleepers()
        {
            if (Volatile.Read(ref _signal[Line]) != 0)
                lock (_sleep) Monitor.PulseAll(_sleep);
        }

        /// <summary>
        /// Part <paramref name="part"/> of job <paramref name="job"/> waits until every part has started this job and called this
        /// as often as it has. (A part's count alone is not enough: a helper that met once more than part 0 in the last call
        /// would let part 0 through this call's first meeting before it has started it, with last call's rows.)
        /// </summary>
        internal void Sync(int part, long job)
        {
            long n = _arrived[part * Line] + 1;
            Volatile.Write(ref _arrived[part * Line], n);
            for (int k = 0; k < _helpers.Length + 1; k++)
            {
                // a meeting takes well under a microsecond; a wait of thousands of spins means that more threads than cores
                // compete (or a part is descheduled, or will not come): then give the processor away between looks. The job a
                // part has started sits on the line of its count, so reading both costs one transfer between the cores.
                for (int spins = 0; (Volatile.Read(ref _arrived[k * Line]) < n || Volatile.Read(ref _arrived[k * Line + Started]) < job) && !Failed; spins++)
                {
                    if (spins < 4096)
                    {
                        Thread.SpinWait(1);
                        continue;
                    }
                    if (Volatile.Read(ref _finished[k * Line]) >= job && Volatile.Read(ref _arrived[k * Line]) < n)
                        Fail(new InvalidOperationException(
                            $"Part {k} of a CoreTeam call returned while part {part} waited for it at a meeting: every part of an " +
                            "ITeamWork must call TeamPart.Sync the same number of times."));
                    Thread.Yield();
                }
            }
        }

        private void HelperLoop(int part)
        {
            long seen = 0;
            while (true)
            {
                long job = WaitForJob(seen);
                if (Stopping) return;
                long previous = seen;
                seen = job;
                long syncs = _arrived[part * Line];
                try
                {
                    // a part that met more often than part 0 in an earlier call answers the next call's meetings with that
                    // call's, and may miss a call altogether: refuse (this call, or the next one, fails) rather than run out of step
                    if (syncs != Volatile.Read(ref _startCount) || job != previous + 1)
                        throw new InvalidOperationException(
                            $"Part {part} of a CoreTeam call met the other parts more often than part 0 in an earlier call: every part " +
                            "of an ITeamWork must call TeamPart.Sync the same number of times.");
                    Volatile.Write(ref _arrived[part * Line + Started], job);
                    _arrived[part * Line + Jobs]++; // on its own line, before its first meeting: part 0 cannot return before this counts
                    RunPart(part, job);
                    if (_arrived[part * Line] == syncs)
                        Sync(part, job); // as part 0 does after a work without syncs
                }
                catch (Exception e)
                {
                    Fail(e);
                }
                Volatile.Write(ref _finished[part * Line], job);
            }
        }

        // A helper's part of the running call. A method of its own, so that no frame of the helper's loop (which lives as
        // long as the team; unoptimised code reports its temporaries live until the method returns) keeps the work, and
        // through it a model and the team, reachable.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private void RunPart(int part, long job) => _work!.Run(new TeamPart(this, part, job));

        // Spins for SpinTime, then sleeps; the caller wakes sleepers after publishing a job.
        private long WaitForJob(long seen)
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            long spinTicks = (long)(SpinTime.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
            for (int i = 0; ; i++)
            {
                long job = Volatile.Read(ref _signal[0]);
                if (job != seen || Stopping) return job;
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
                while ((job = Volatile.Read(ref _signal[0])) == seen && !Stopping)
                    Monitor.Wait(_sleep);
                Interlocked.Decrement(ref _signal[Line]);
                return job;
            }
        }

        // A part failed: record the first error and release the others from every barrier still to come.
        private void Fail(Exception e)
        {
            Interlocked.CompareExchange(ref _error, e, null);
            Volatile.Write(ref _flags[Slot + 1], 1);
        }

        public void Dispose()
        {
            int self = Environment.CurrentManagedThreadId;
            if ((Volatile.Read(ref _state[Slot]) == Running && Volatile.Read(ref _caller) == self)
                || _helpers.Any(t => t?.ManagedThreadId == self))
                throw new InvalidOperationException("A CoreTeam cannot be disposed from inside one of its calls: dispose it after Run has returned.");
            lock (_disposing) // a second Dispose returns once the first has joined the helpers
            {
                // take the team as a call would, and keep it: no call can start or be running while the helpers stop
                SpinWait wait = default;
                int state;
                while ((state = Interlocked.CompareExchange(ref _state[Slot], Disposed, Free)) != Free)
                {
                    if (state == Disposed) return; // disposed already
                    wait.SpinOnce();
                }
                Stop();
            }
        }

        // Tells the helpers to stop, wakes them, and joins them.
        private void Stop()
        {
            Abandon();
            foreach (var t in _helpers)
                if (t is { IsAlive: true }) t.Join();
        }

        /// <summary>The team was dropped without <see cref="Dispose"/> (its finalizer): tells the helpers to stop and wakes them,
        /// without waiting for them. No call can be running: a caller keeps the team alive through its call.</summary>
        public void Abandon()
        {
            Volatile.Write(ref _flags[Slot], 1);
            lock (_sleep) Monitor.PulseAll(_sleep);
        }
    }
}
