using RnnGen.Kernels;
using RnnGen.Tests.Generated;

namespace RnnGen.Tests.Kernels;

/// <summary>
/// <see cref="CoreTeam"/>: every part runs once per call and meets the others at each sync; parts split a product's rows in
/// whole packed blocks, each row once; errors, concurrent calls and disposal are refused clearly; a sleeping helper wakes.
/// And the sliced products that the parts run: exactly the rows of the whole product, nothing else written.
/// </summary>
public class CoreTeamTests
{
    [Theory, InlineData(2), InlineData(3), InlineData(4)]
    public void Parts_MeetAtEverySync(int cores)
    {
        using var team = new CoreTeam(cores, adaptive: false);
        var work = new CountingWork(cores, rounds: 50);
        for (int call = 0; call < 20; call++)
        {
            work.Reset();
            team.Run(work);
            work.WaitForAll();
            Assert.Null(work.Error);
            Assert.Equal(Enumerable.Range(0, cores), work.Parts.OrderBy(p => p));
        }
    }

    [Theory]
    [InlineData(2, 4, 128)] [InlineData(3, 4, 128)] [InlineData(2, 3, 256)] [InlineData(3, 1, 200)] [InlineData(4, 4, 96)] [InlineData(2, 4, 100)]
    public void Rows_CoverEveryRowOnceInWholeBlocks(int cores, int groups, int groupRows)
    {
        using var team = new CoreTeam(cores, adaptive: false);
        var slices = new RowSlice[cores];
        team.Run(new SliceWork(slices, groups, groupRows));
        int block = new PackedMatrix<float>(1, 1).BlockRows;
        bool splits = groups == 1 || groupRows % block == 0;
        var owner = new int[groupRows];
        Array.Fill(owner, -1);
        for (int p = 0; p < cores; p++)
        {
            Assert.Equal(groups, slices[p].Groups);
            if (!splits && p > 0) Assert.True(slices[p].IsEmpty);
            for (int r = slices[p].From; r < slices[p].To; r++)
            {
                Assert.Equal(-1, owner[r]);
                owner[r] = p;
            }
            if (!slices[p].IsEmpty)
            {
                Assert.Equal(0, slices[p].From % block);
                Assert.True(slices[p].To % block == 0 || slices[p].To == groupRows);
            }
        }
        Assert.DoesNotContain(-1, owner);
        Assert.Equal(new RowSlice(groups, 0, groupRows), TeamPart.Alone.Rows<float>(groups, groupRows));
        // where the blocks allow a split, it is one: each part has blocks·p/cores of them (as evenly as they go), so every
        // part has rows when there are as many blocks as cores
        if (splits)
        {
            int blocks = (groupRows + block - 1) / block;
            for (int p = 0; p < cores; p++)
            {
                int expected = blocks * (p + 1) / cores - blocks * p / cores;
                int actual = (slices[p].To - slices[p].From + block - 1) / block;
                Assert.Equal(expected, actual);
                if (blocks >= cores) Assert.False(slices[p].IsEmpty, $"part {p} has no rows of {blocks} blocks");
            }
        }
    }

    // Whichever part throws, before its first sync or after it: Run rethrows that exception once every part has stopped,
    // and the team refuses later calls with it as the inner exception.
    [Theory]
    [InlineData(1, true)] [InlineData(1, false)] [InlineData(0, true)] [InlineData(0, false)] [InlineData(2, true)]
    public void AFailingPart_IsRethrownAfterEveryPartStopped_AndTheTeamRefusesMore(int failingPart, bool beforeFirstSync)
    {
        using var team = new CoreTeam(3, adaptive: false);
        var work = new FailingWork(failingPart, beforeFirstSync, cores: 3);
        var e = Assert.Throws<InvalidOperationException>(() => team.Run(work));
        Assert.Equal($"part {failingPart} failed", e.Message);
        Assert.All(work.Stopped, stopped => Assert.True(stopped)); // every part had returned when Run threw
        var next = Assert.Throws<InvalidOperationException>(() => team.Run(new FailingWork(-1, false, cores: 3)));
        Assert.Contains("unusable", next.Message);
        Assert.Same(e, next.InnerException);
    }

    // A work without syncs still runs every part once per call (the team adds the meeting), however many calls.
    [Fact]
    public void AWorkWithoutSyncs_RunsEveryPartOncePerCall()
    {
        using var team = new CoreTeam(3, adaptive: false);
        var work = new NoSyncWork();
        for (int call = 1; call <= 200; call++)
        {
            team.Run(work);
            SpinWait.SpinUntil(() => Volatile.Read(ref work.Runs) == 3 * call, TimeSpan.FromSeconds(10));
            Assert.Equal(3 * call, Volatile.Read(ref work.Runs));
        }
    }

    // Helpers that fall asleep between calls (no spinning) always wake for the next call: thousands of calls on three
    // cores, each after a random short pause, so that helpers go to sleep at every moment of a call, finish well within
    // the time limit. (The narrow race of two helpers, one waking and one falling asleep, sharing one "someone sleeps"
    // flag, which the sleeper count replaced, did not show here in three runs: the count's reasoning is in WaitForJob.)
    [Fact]
    public void HelpersFallingAsleepAtAnyMoment_NeverMissACall()
    {
        string? error = "did not finish";
        var caller = new Thread(() =>
        {
            using var team = new CoreTeam(3, spinTime: TimeSpan.Zero, adaptive: false);
            var work = new CountingWork(3, rounds: 2);
            var random = new Random(1);
            for (int call = 0; call < 3000; call++)
            {
                int pause = random.Next(4);
                if (pause == 1) Thread.SpinWait(random.Next(2000));
                else if (pause == 2) Thread.Yield();
                work.Reset();
                team.Run(work);
                work.WaitForAll();
                if (work.Error is not null)
                {
                    error = work.Error;
                    return;
                }
            }
            error = null;
        }) { IsBackground = true };
        caller.Start();
        Assert.True(caller.Join(TimeSpan.FromSeconds(120)), "a call hung: a helper missed its wake-up");
        Assert.Null(error);
    }

    // Dispose waits for a running call, then stops the helpers; later calls are refused, and nothing hangs.
    [Fact]
    public void DisposeDuringCalls_WaitsForTheRunningOne()
    {
        var team = new CoreTeam(2, adaptive: false);
        var work = new CountingWork(2, rounds: 20);
        bool refused = false;
        var caller = new Thread(() =>
        {
            try
            {
                while (true)
                {
                    work.Reset();
                    team.Run(work);
                    work.WaitForAll();
                }
            }
            catch (ObjectDisposedException)
            {
                refused = true;
            }
        }) { IsBackground = true };
        caller.Start();
        Thread.Sleep(50);
        team.Dispose();
        Assert.True(caller.Join(TimeSpan.FromSeconds(30)), "a call hung across Dispose");
        Assert.True(refused);
        Assert.Null(work.Error);
    }

    // Parts that sync a different number of times fail the call with a message that says so, instead of hanging or
    // running on with the meetings out of step: at once when part 0 waits for a part that has returned; when a helper
    // met more often, the next call (the helper notices when it is left waiting, or when its count does not match part
    // 0's at the start of a call; part 0 meets only parts that have started the call, so it never returns that call with
    // the last one's rows).
    [Theory, InlineData(0), InlineData(1)]
    public void UnequalSyncs_FailInsteadOfHanging(int partThatSyncsMore)
    {
        var team = new CoreTeam(2, adaptive: false);
        Exception? thrown = null;
        int failedCall = -1;
        var caller = new Thread(() =>
        {
            for (int call = 0; call < 3 && thrown is null; call++)
            {
                try
                {
                    team.Run(new UnequalWork(call == 0 ? partThatSyncsMore : -1));
                }
                catch (Exception e)
                {
                    thrown = e;
                    failedCall = call;
                }
            }
        }) { IsBackground = true };
        caller.Start();
        Assert.True(caller.Join(TimeSpan.FromSeconds(30)), "a call with unequal syncs hung");
        var e = Assert.IsType<InvalidOperationException>(thrown);
        Exception cause = e.InnerException ?? e;
        Assert.Contains("the same number of times", cause.Message);
        Assert.Equal(partThatSyncsMore == 0 ? 0 : 1, failedCall); // part 0 cannot return without the helper; nor the next call
        team.Dispose();
        Assert.True(team.HelpersEnded);
    }

    // Dispose from inside a call (by part 0's thread or a helper's) is refused instead of waiting for itself; the call
    // completes, and the team disposes normally afterwards.
    [Theory, InlineData(0), InlineData(1)]
    public void DisposeFromInsideACall_IsRefused(int disposingPart)
    {
        var team = new CoreTeam(2, adaptive: false);
        var work = new DisposingWork(team, disposingPart);
        var caller = new Thread(() => team.Run(work)) { IsBackground = true };
        caller.Start();
        Assert.True(caller.Join(TimeSpan.FromSeconds(30)), "Dispose inside a call hung");
        Assert.IsType<InvalidOperationException>(work.Refusal);
        Assert.Contains("inside one of its calls", work.Refusal!.Message);
        team.Dispose();
        Assert.True(team.HelpersEnded);
        Assert.Throws<ObjectDisposedException>(() => team.Run(work));
    }

    // Two threads disposing at once both return only once the helpers have ended.
    [Fact]
    public void ConcurrentDisposes_BothReturnAfterTheHelpersEnded()
    {
        for (int round = 0; round < 20; round++)
        {
            var team = new CoreTeam(3, adaptive: false);
            team.Run(new CountingWork(3, rounds: 1));
            var ended = new bool[2];
            var threads = Enumerable.Range(0, 2).Select(i => new Thread(() =>
            {
                team.Dispose();
                ended[i] = team.HelpersEnded;
            }) { IsBackground = true }).ToArray();
            foreach (var t in threads) t.Start();
            foreach (var t in threads) Assert.True(t.Join(TimeSpan.FromSeconds(30)));
            Assert.All(ended, Assert.True);
        }
    }

    // A team keeps no reference to a work between calls (so a model given a team and then another is not kept alive), and
    // none after a failed call either.
    [Fact]
    public void TheTeamHoldsNoWork_BetweenCalls()
    {
        using var team = new CoreTeam(2, adaptive: false);
        team.Run(new CountingWork(2, rounds: 3));
        Assert.False(team.HoldsWork);
        Assert.Throws<InvalidOperationException>(() => team.Run(new FailingWork(1, false, cores: 2)));
        Assert.False(team.HoldsWork);
        using var adaptive = new CoreTeam(2);
        for (int call = 0; call < 3 * CoreTeam.Probes; call++)
            adaptive.Run(new CountingWork(2, rounds: 1));
        Assert.False(adaptive.HoldsWork);
    }

    [Fact]
    public void ADisposedTeam_RefusesCalls()
    {
        var team = new CoreTeam(2);
        team.Dispose();
        team.Dispose(); // twice is harmless
        Assert.Throws<ObjectDisposedException>(() => team.Run(new FailingWork(-1, false, cores: 2)));
    }

    [Fact]
    public void SleepingHelpers_WakeForTheNextCall()
    {
        using var team = new CoreTeam(3, spinTime: TimeSpan.Zero, adaptive: false);
        var work = new CountingWork(3, rounds: 3);
        for (int call = 0; call < 5; call++)
        {
            Thread.Sleep(20); // the helpers are asleep by now
            work.Reset();
            team.Run(work);
            work.WaitForAll();
            Assert.Null(work.Error);
        }
    }

    // An adaptive team times both ways in its probes and keeps the faster: a work whose together way is slow is run alone,
    // one whose alone way is slow is run together; the choice is made again every interval, and follows a change. The
    // probes read a clock that the work advances (1 tick the fast way, 100 the slow way), so the choice is the same on a
    // busy machine; how the real clock decides is what the benchmarks' two-core rows show.
    [Theory, InlineData(true), InlineData(false)]
    public void AnAdaptiveTeam_RunsTheFasterWay(bool togetherIsSlow)
    {
        using var team = new CoreTeam(2);
        Assert.True(team.Adaptive);
        var work = new TimedWork { TogetherIsSlow = togetherIsSlow };
        team.ProbeClock = () => Volatile.Read(ref work.Clock);
        for (int call = 0; call < 2 * CoreTeam.Probes; call++)
            team.Run(work);
        Assert.Equal(CoreTeam.Probes, work.AloneRuns); // the probes alternate
        Assert.Equal(togetherIsSlow, team.RunsAlone);
        int aloneBefore = work.AloneRuns;
        for (int call = 0; call < 100; call++)
            team.Run(work);
        Assert.Equal(aloneBefore + (team.RunsAlone ? 100 : 0), work.AloneRuns); // between probes, only the chosen way
        work.TogetherIsSlow = !togetherIsSlow;
        RunThroughTheNextProbes(!togetherIsSlow, team, work, calls: 2 * CoreTeam.Probes + 100);
    }

    // A busy machine pre-empts a helper in most together-calls but not all: the together way is then fast in a few probes
    // and slow in the rest. The team judges each way by its median probe, so it runs alone (by the fastest probes it
    // would have run together, slowly, for the rest of the interval).
    [Fact]
    public void AnAdaptiveTeam_JudgesByTheMedianProbe_NotTheFastest()
    {
        using var team = new CoreTeam(2);
        var work = new PreemptedWork();
        team.ProbeClock = () => Volatile.Read(ref work.Clock);
        for (int call = 0; call < 2 * CoreTeam.Probes; call++)
            team.Run(work);
        Assert.True(team.RunsAlone, $"median probes (ticks as µs, together and alone): {team.MedianProbes}");
    }

    // Alone: 10 ticks. Together: 1 tick in every fourth call (both threads ran), 30 in the others (the helper waited).
    private sealed class PreemptedWork : ITeamWork
    {
        public long Clock;
        private int _togetherRuns;

        public void Run(TeamPart part)
        {
            if (part.Count == 1)
            {
                Interlocked.Add(ref Clock, 10);
                return;
            }
            if (part.Index == 0)
                Interlocked.Add(ref Clock, _togetherRuns++ % 4 == 0 ? 1 : 30);
            part.Sync();
        }
    }

    // Two works stepping in turn on one adaptive team (two models sharing it) are each timed both ways and each keep their
    // own choice: one whose together way is slow runs alone, the other together. (With one choice for the team, the probes'
    // alternation gave one work only together-probes and the other only alone-probes, so both followed a mixed verdict.)
    [Fact]
    public void WorksSharingAnAdaptiveTeam_EachChooseForThemselves()
    {
        using var team = new CoreTeam(2);
        var clock = new long[1];
        var slowTogether = new TimedWork { TogetherIsSlow = true, SharedClock = clock };
        var slowAlone = new TimedWork { TogetherIsSlow = false, SharedClock = clock };
        team.ProbeClock = () => Volatile.Read(ref clock[0]);
        for (int call = 0; call < 2 * CoreTeam.Probes; call++)
        {
            team.Run(slowTogether);
            team.Run(slowAlone);
        }
        Assert.Equal(CoreTeam.Probes, slowTogether.AloneRuns); // each work's own probes alternate
        Assert.Equal(CoreTeam.Probes, slowAlone.AloneRuns);
        for (int call = 0; call < 100; call++)
        {
            team.Run(slowTogether);
            Assert.True(team.RunsAlone);
            team.Run(slowAlone);
            Assert.False(team.RunsAlone);
        }
        Assert.Equal(CoreTeam.Probes + 100, slowTogether.AloneRuns);
        Assert.Equal(CoreTeam.Probes, slowAlone.AloneRuns);
    }

    // A team that continues an earlier one's choices (the trainer makes a team per call) does not probe again from the
    // start: a work keeps its way and its place in the probe interval, and its next probes come when the interval ends.
    [Fact]
    public void ATeamContinuingAnEarlierOne_KeepsItsChoiceAndItsPlaceInTheInterval()
    {
        var work = new TimedWork { TogetherIsSlow = true };
        var first = new CoreTeam(2);
        first.ProbeClock = () => Volatile.Read(ref work.Clock);
        for (int call = 0; call < 2 * CoreTeam.Probes + 10; call++)
            first.Run(work);
        Assert.True(first.RunsAlone);
        first.Dispose();

        using var next = new CoreTeam(2);
        next.ContinueFrom(first);
        next.ProbeClock = () => Volatile.Read(ref work.Clock);
        work.TogetherIsSlow = false; // the machine changed: only the next probes can see it
        int aloneBefore = work.AloneRuns;
        for (int call = 0; call < 100; call++)
            next.Run(work);
        Assert.Equal(aloneBefore + 100, work.AloneRuns); // still alone, no probe together
        RunThroughTheNextProbes(false, next, work, calls: 2 * CoreTeam.Probes + 10 + 100);

        using var fresh = new CoreTeam(2);
        fresh.ContinueFrom(null); // nothing to continue: probes from the start
        fresh.ProbeClock = () => Volatile.Read(ref work.Clock);
        aloneBefore = work.AloneRuns;
        for (int call = 0; call < 2 * CoreTeam.Probes; call++)
            fresh.Run(work);
        Assert.Equal(aloneBefore + CoreTeam.Probes, work.AloneRuns);
    }

    // A hand-over in the middle of the probes (a trainer's next call) goes on with the probes already timed: the choice
    // at their end rests on all 32, not on 12 and 20 zeros (which made both medians 0 and the team run together).
    [Fact]
    public void ATeamContinuingInTheMiddleOfTheProbes_KeepsTheProbesTimedBefore()
    {
        var work = new TimedWork { TogetherIsSlow = true };
        var first = new CoreTeam(2);
        first.ProbeClock = () => Volatile.Read(ref work.Clock);
        for (int call = 0; call < 20; call++)
            first.Run(work);
        first.Dispose();

        using var next = new CoreTeam(2);
        next.ContinueFrom(first);
        next.ProbeClock = () => Volatile.Read(ref work.Clock);
        for (int call = 20; call < 2 * CoreTeam.Probes; call++)
            next.Run(work);
        Assert.True(next.RunsAlone, $"median probes (ticks as µs, together and alone): {next.MedianProbes}");
    }

    // Runs to the end of the next probes (`calls` calls since the first probes started, which chose once: the next ones come
    // two intervals after them if they chose alone, one if together) and checks the choice.
    private static void RunThroughTheNextProbes(bool alone, CoreTeam team, ITeamWork work, int calls)
    {
        int gap = (team.RunsAlone ? 2 : 1) * CoreTeam.ProbeInterval;
        Assert.Equal(gap - calls, team.CallsBeforeNextProbes);
        for (int call = calls; call < gap + 2 * CoreTeam.Probes; call++)
            team.Run(work);
        Assert.True(team.RunsAlone == alone, $"alone: {team.RunsAlone}, expected {alone}; median probes (µs, together and alone): {team.MedianProbes}");
    }

    // While alone keeps winning, the probes come less and less often — 1, 2, 4, 8, 16 intervals apart, then every 16 — since
    // on a loaded machine the together-probes cost far more than the work they time; once together wins, every interval
    // again. The probes' clock is the work's (1 tick alone, 100 together: no cap from the quarter of a second).
    [Fact]
    public void AnAdaptiveTeamThatKeepsRunningAlone_ProbesLessOften()
    {
        using var team = new CoreTeam(2);
        var work = new TimedWork { TogetherIsSlow = true };
        team.ProbeClock = () => Volatile.Read(ref work.Clock);
        int interval = CoreTeam.ProbeInterval, probes = 2 * CoreTeam.Probes;
        long[] expectedGaps = [2 * interval, 4 * interval, 8 * interval, 16 * interval, 16 * interval];
        long calls = 0;
        for (int c = 0; c < probes; c++, calls++)
            team.Run(work);
        foreach (long gap in expectedGaps)
        {
            Assert.True(team.RunsAlone);
            Assert.Equal(gap - probes, team.CallsBeforeNextProbes);
            int aloneBefore = work.AloneRuns;
            for (long c = 0; c < gap; c++, calls++)
                team.Run(work);
            Assert.Equal(aloneBefore + gap - CoreTeam.Probes, work.AloneRuns); // half the probes ran together, the rest alone
        }
        work.TogetherIsSlow = false; // the machine changed: the next probes see it, and probe every interval again
        for (long c = team.CallsBeforeNextProbes + probes; c > 0; c--)
            team.Run(work);
        Assert.False(team.RunsAlone);
        Assert.Equal(interval - probes, team.CallsBeforeNextProbes);
    }

    // The interval grows only within a quarter of a second of calls run alone: a work that takes 20 µs alone (by the
    // probes' clock, in Stopwatch ticks) probes every 12,500 calls at most, and a slower one every 4,096 calls still.
    [Theory, InlineData(20, 12_500), InlineData(100, 4096)]
    public void TheProbesOfAWorkRunAlone_AreAtMostAQuarterOfASecondApart(int aloneMicroseconds, long longestGap)
    {
        using var team = new CoreTeam(2);
        long aloneTicks = System.Diagnostics.Stopwatch.Frequency * aloneMicroseconds / 1_000_000;
        var work = new TickWork { AloneTicks = aloneTicks, TogetherTicks = 3 * aloneTicks };
        team.ProbeClock = () => Volatile.Read(ref work.Clock);
        int probes = 2 * CoreTeam.Probes;
        for (int c = 0; c < probes; c++)
            team.Run(work);
        var gaps = new List<long>();
        for (int round = 0; round < 5; round++)
        {
            Assert.True(team.RunsAlone);
            long gap = team.CallsBeforeNextProbes + probes;
            gaps.Add(gap);
            for (long c = 0; c < gap; c++)
                team.Run(work);
        }
        Assert.Equal(Math.Min(2 * CoreTeam.ProbeInterval, longestGap), gaps[0]);
        Assert.Equal(longestGap, gaps[^1]);
    }

    // Alone: AloneTicks on the probes' clock; together: TogetherTicks.
    private sealed class TickWork : ITeamWork
    {
        public long Clock, AloneTicks, TogetherTicks;

        public void Run(TeamPart part)
        {
            if (part.Count == 1)
            {
                Interlocked.Add(ref Clock, AloneTicks);
                return;
            }
            if (part.Index == 0)
                Interlocked.Add(ref Clock, TogetherTicks);
            part.Sync();
        }
    }

    // Alone: one part does everything. The probes' clock advances 1 tick for the fast way, 100 for the slow one.
    private sealed class TimedWork : ITeamWork
    {
        public volatile bool TogetherIsSlow;
        public long Clock;
        public long[]? SharedClock; // advanced instead of Clock when set
        public int AloneRuns;

        public void Run(TeamPart part)
        {
            ref long clock = ref SharedClock is null ? ref Clock : ref SharedClock[0];
            if (part.Count == 1)
            {
                AloneRuns++;
                Interlocked.Add(ref clock, TogetherIsSlow ? 1 : 100);
                return;
            }
            if (part.Index == 0)
                Interlocked.Add(ref clock, TogetherIsSlow ? 100 : 1);
            part.Sync();
        }
    }

    [Fact]
    public void BadArguments_AreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new CoreTeam(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CoreTeam(2, TimeSpan.FromTicks(-1)));
        using var team = new CoreTeam(2);
        Assert.Throws<ArgumentNullException>(() => team.Run(null!));
    }

    [Theory]
    [InlineData(512, 4, 1)] [InlineData(512, 4, 3)] [InlineData(384, 3, 2)] [InlineData(65, 1, 5)] [InlineData(200, 1, 4)]
    public void SlicedProduct_WritesExactlyItsRowsOfTheWholeProduct(int rows, int groups, int lanes)
    {
        int left = 9, right = 17;
        var m = new PackedMatrix<float>(rows, left, right);
        m.Pack(Harness.Random<float>(rows * left, 1), Harness.Random<float>(rows * right, 2), Harness.Random<float>(rows, 3), default);
        var x1 = Harness.Random<float>(lanes * left, 4);
        var x2 = Harness.Random<float>(lanes * right, 5);
        var whole = new float[lanes * rows];
        m.Multiply(lanes, x1, left, x2, right, whole, rows);
        int groupRows = rows / groups, block = m.BlockRows;
        // every block-aligned range of a group, and the last range ending at the group's end
        for (int from = 0; from < groupRows; from += block)
            foreach (int to in new[] { Math.Min(groupRows, from + block), groupRows })
            {
                if (groups > 1 && (groupRows % block != 0)) continue;
                var y = new float[lanes * rows];
                Array.Fill(y, float.NaN);
                m.Multiply(lanes, x1, left, x2, right, y, rows, new RowSlice(groups, from, to));
                for (int b = 0; b < lanes; b++)
                    for (int r = 0; r < rows; r++)
                    {
                        int inGroup = r % groupRows;
                        float expected = inGroup >= from && inGroup < to ? whole[b * rows + r] : float.NaN;
                        Assert.Equal(expected, y[b * rows + r]); // bit for bit, NaN where nothing may be written
                    }
            }
    }

    [Fact]
    public void SlicedProduct_RefusesAMisalignedSlice_BeforeWriting()
    {
        var m = new PackedMatrix<float>(256, 8);
        m.Pack(Harness.Random<float>(256 * 8, 1), default, default, default);
        var y = new float[256];
        Array.Fill(y, 7f);
        var x = new float[8];
        Assert.Throws<ArgumentException>(() => m.Multiply(1, x, 8, default, 0, y, 256, new RowSlice(4, 1, 64)));
        Assert.Throws<ArgumentException>(() => m.Multiply(1, x, 8, default, 0, y, 256, new RowSlice(3, 0, 64)));
        Assert.Throws<ArgumentException>(() => m.Multiply(1, x, 8, default, 0, y, 256, new RowSlice(4, 0, 65)));
        Assert.Throws<ArgumentException>(() => m.Multiply(1, x, 8, default, 0, y, 256, new RowSlice(1, 0, 40))); // ends inside a block
        Assert.Throws<ArgumentException>(() => m.Multiply(1, x, 8, default, 0, y, 256, new RowSlice(4, 32, 16))); // From > To
        Assert.All(y, v => Assert.Equal(7f, v));
    }

    [Fact]
    public void SlicedColumns_TouchOnlyTheirRows()
    {
        var w = Harness.Random<float>(12 * 5, 1);
        var t = new TransposedMatrix<float>(12, 5);
        t.Pack(w, default, default);
        var y = new float[12];
        Array.Fill(y, 1f);
        t.AddColumn(2, y, new RowSlice(3, 1, 3));
        var z = new float[12];
        Array.Fill(z, -5f);
        t.CopyColumn(4, z, new RowSlice(3, 1, 3));
        for (int r = 0; r < 12; r++)
        {
            bool inside = r % 4 is 1 or 2;
            Assert.Equal(inside ? 1f + (w[r * 5 + 2] + 0f) : 1f, y[r]);
            Assert.Equal(inside ? w[r * 5 + 4] + 0f : -5f, z[r]);
        }
        Assert.Throws<ArgumentException>(() => t.AddColumn(0, y, new RowSlice(5, 0, 1)));
    }

    // Every part records itself and meets the others `rounds` times; a part that sees another part more than one round
    // behind or ahead of it records an error.
    private sealed class CountingWork(int cores, int rounds) : ITeamWork
    {
        private readonly int[] _round = new int[cores * 16];
        private int _done;
        public readonly System.Collections.Concurrent.ConcurrentBag<int> Parts = [];
        public string? Error;

        public void Reset()
        {
            Array.Clear(_round);
            _done = 0;
            Parts.Clear();
            Error = null;
        }

        public void Run(TeamPart part)
        {
            Parts.Add(part.Index);
            for (int r = 1; r <= rounds; r++)
            {
                Volatile.Write(ref _round[part.Index * 16], r);
                part.Sync();
                for (int k = 0; k < cores; k++)
                {
                    int seen = Volatile.Read(ref _round[k * 16]);
                    if (seen < r || seen > r + 1) Error = $"part {part.Index} in round {r} saw part {k} in round {seen}";
                }
            }
            part.Sync();
            Interlocked.Increment(ref _done);
        }

        public void WaitForAll()
        {
            while (Volatile.Read(ref _done) < cores) Thread.Yield();
        }
    }

    private sealed class SliceWork(RowSlice[] slices, int groups, int groupRows) : ITeamWork
    {
        public void Run(TeamPart part)
        {
            slices[part.Index] = part.Rows<float>(groups, groupRows);
            part.Sync();
        }
    }

    private sealed class FailingWork(int failingPart, bool beforeFirstSync, int cores) : ITeamWork
    {
        public readonly bool[] Stopped = new bool[cores];

        public void Run(TeamPart part)
        {
            try
            {
                if (beforeFirstSync && part.Index == failingPart) throw new InvalidOperationException($"part {part.Index} failed");
                part.Sync();
                Thread.Sleep(part.Index == failingPart ? 0 : 20); // the other parts are still busy when it throws
                if (part.Index == failingPart) throw new InvalidOperationException($"part {part.Index} failed");
                part.Sync();
            }
            finally
            {
                Volatile.Write(ref Stopped[part.Index], true);
            }
        }
    }

    // Part `syncsMore` meets twice, the other part once (-1: both once).
    private sealed class UnequalWork(int syncsMore) : ITeamWork
    {
        public void Run(TeamPart part)
        {
            part.Sync();
            if (part.Index == syncsMore) part.Sync();
        }
    }

    // Part `disposingPart` tries to dispose the team in the middle of the call and keeps what it was told.
    private sealed class DisposingWork(CoreTeam team, int disposingPart) : ITeamWork
    {
        public Exception? Refusal;

        public void Run(TeamPart part)
        {
            part.Sync();
            if (part.Index == disposingPart)
            {
                try { team.Dispose(); }
                catch (Exception e) { Refusal = e; }
            }
            part.Sync();
        }
    }

    private sealed class NoSyncWork : ITeamWork
    {
        public int Runs;
        public void Run(TeamPart part) => Interlocked.Increment(ref Runs);
    }

    private sealed class ReentrantWork(CoreTeam team, Action<InvalidOperationException> report) : ITeamWork
    {
        public void Run(TeamPart part)
        {
            if (part.Index == 0)
            {
                try { team.Run(this); }
                catch (InvalidOperationException e) { report(e); }
            }
            part.Sync();
        }
    }
}
