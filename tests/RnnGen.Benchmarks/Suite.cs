using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.EventProcessors;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using BenchmarkDotNet.Validators;
using Perfolizer.Horology;
using RnnGen.Benchmarks.Streaming;
using RnnGen.Benchmarks.Training;

namespace RnnGen.Benchmarks;

/// <summary>The benchmark classes, in report order, and the one job they run with.</summary>
internal static class Suite
{
    public static readonly Type[] Types =
    [
        typeof(LstmStreaming64x128x2),
        typeof(LstmStreaming64x64x1),
        typeof(GruStreaming64x64x1),
        typeof(LstmStreaming1x32x1),
        typeof(LstmStreaming1x16x1),
        typeof(LstmStreaming512x512x1),
        typeof(ManyStreams),
        typeof(CharRnnTraining),
    ];

    public const int WarmupCount = 3, IterationCount = 7, IterationMilliseconds = 120;

    /// <summary>
    /// A short job, run inside this process (no generated project to build; TorchSharp's patched native library is
    /// the one next to this assembly): 3 warm-up and 7 measured iterations of about 120 ms each, medians reported,
    /// allocations measured (MemoryDiagnoser); <paramref name="run"/> samples the machine's load between benchmarks.
    /// </summary>
    public static IConfig Config(SuiteRun run)
    {
        Job job = new Job("Short")
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(WarmupCount)
            .WithIterationCount(IterationCount)
            .WithIterationTime(TimeInterval.FromMilliseconds(IterationMilliseconds));
        return ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddColumn(StatisticColumn.Median)
            .AddLogger(ConsoleLogger.Default)
            .AddExporter(MarkdownExporter.GitHub)
            .AddValidator(JitOptimizationsValidator.FailOnError, BaselineValidator.FailOnError)
            .WithOrderer(new RnnGenFirstOrderer())
            .AddEventProcessor(run)
            .WithArtifactsPath(Path.Combine(AppContext.BaseDirectory, "BenchmarkDotNet.Artifacts"));
    }
}

/// <summary>
/// Wall-clock time and machine load around the run (the machine may be shared): the load averages at the start and the
/// end, and the range of the 1-minute load average sampled after every benchmark (between benchmarks, so that the
/// sampling never runs, nor allocates, while one is measured).
/// </summary>
internal sealed class SuiteRun : EventProcessor
{
    private double _lowest = double.PositiveInfinity, _highest = double.NegativeInfinity;

    public DateTime StartedUtc { get; private init; }
    public TimeSpan Elapsed { get; private set; }
    public string LoadAtStart { get; private init; } = "";
    public string LoadAtEnd { get; private set; } = "";

    /// <summary>Lowest and highest 1-minute load average seen during the run, or null where /proc/loadavg cannot be read.</summary>
    public (double Min, double Max)? LoadRange => _lowest <= _highest ? (_lowest, _highest) : null;

    public static SuiteRun Start()
    {
        var run = new SuiteRun { StartedUtc = DateTime.UtcNow, LoadAtStart = LoadAverage() };
        run.Sample();
        return run;
    }

    public override void OnEndRunBenchmark(BenchmarkCase benchmarkCase, BenchmarkReport report) => Sample();

    public void Stop()
    {
        Sample();
        Elapsed = DateTime.UtcNow - StartedUtc;
        LoadAtEnd = LoadAverage();
    }

    private void Sample()
    {
        if (double.TryParse(LoadAverage().Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double oneMinute))
        {
            _lowest = Math.Min(_lowest, oneMinute);
            _highest = Math.Max(_highest, oneMinute);
        }
    }

    /// <summary>The 1-, 5- and 15-minute load averages (Linux), or "unknown".</summary>
    private static string LoadAverage()
    {
        try
        {
            return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "unknown";
        }
    }
}

/// <summary>Finds the repository (the folder holding RnnGen.sln) from the working directory or this assembly.</summary>
internal static class Repository
{
    public static string Root()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (DirectoryInfo? d = new(start); d is not null; d = d.Parent)
            {
                if (File.Exists(Path.Combine(d.FullName, "RnnGen.sln")))
                    return d.FullName;
            }
        }
        throw new InvalidOperationException("RnnGen.sln not found above the working directory or the benchmark assembly: pass --out FILE.");
    }
}
