using System.Globalization;
using BenchmarkDotNet.Running;
using RnnGen.Benchmarks;
using RnnGen.Benchmarks.Report;

// The whole suite, in one short in-process job, then docs/benchmarks.md from the results (see README.md beside this file).
//   (no arguments)            every benchmark; writes <repository>/docs/benchmarks.md
//   --out FILE                write the report to FILE instead
//   any BenchmarkDotNet option, e.g. --filter '*Gru*'   runs that subset; the report is written only with --out
//   --scaling [FILE]          instead: the scaling plot, LSTM H→H×1 for H = 16 … 1024 (docs/images/scaling.png)
//   --spread [N] [FILE]       instead: the streaming, 25× and batch-1/50 training ratios in N fresh processes (default 5;
//                             docs/benchmark-spread.md)
//   --medians FILE            (used by --spread) also write each row's median to FILE, tab-separated

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
if (args is ["--scaling", ..])
{
    // --scaling [FILE]: step time and efficiency of LSTM H→H×1 for H = 16 … 1024, as a PNG (docs/images/scaling.png)
    RnnGen.Benchmarks.Scaling.ScalingPlot.Run(args.Length > 1 ? Path.GetFullPath(args[1]) : Path.Combine(Repository.Root(), "docs", "images", "scaling.png"));
    return 0;
}
if (args is ["--spread", ..])
{
    // --spread [N]: the run-to-run spread of the streaming efficiencies, over N fresh processes (docs/benchmark-spread.md)
    int processes = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
    RnnGen.Benchmarks.Report.SpreadReport.Run(processes,
        args.Length > 2 ? Path.GetFullPath(args[2]) : Path.Combine(Repository.Root(), "docs", "benchmark-spread.md"));
    return 0;
}
string? outPath = null, mediansPath = null;
var benchmarkArgs = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--out")
    {
        if (i + 1 >= args.Length)
            throw new ArgumentException("--out needs a file path.");
        outPath = Path.GetFullPath(args[++i]);
    }
    else if (args[i] == "--medians")
    {
        if (i + 1 >= args.Length)
            throw new ArgumentException("--medians needs a file path.");
        mediansPath = Path.GetFullPath(args[++i]);
    }
    else
    {
        benchmarkArgs.Add(args[i]);
    }
}
bool wholeSuite = benchmarkArgs.Count == 0;
if (wholeSuite)
{
    benchmarkArgs.AddRange(["--filter", "*"]);
    outPath ??= Path.Combine(Repository.Root(), "docs", "benchmarks.md");
}

var run = SuiteRun.Start();
var summaries = BenchmarkSwitcher.FromTypes(Suite.Types).Run([.. benchmarkArgs], Suite.Config(run)).ToList();
run.Stop();

if (outPath is not null)
{
    // the command as given (the report names what made it), an --out path inside the repository relative to its root
    string relative = Path.GetRelativePath(Repository.Root(), outPath);
    string[] shown = [.. args.Select((a, i) => i > 0 && args[i - 1] == "--out" && !relative.StartsWith("..", StringComparison.Ordinal) ? relative : a)];
    string command = "dotnet run -c Release --project tests/RnnGen.Benchmarks" + (shown.Length > 0 ? " -- " + string.Join(" ", shown) : "");
    File.WriteAllText(outPath, MarkdownReport.Write(summaries, run, wholeSuite, command));
    Console.WriteLine($"Wrote {outPath}");
}
if (mediansPath is not null)
    RnnGen.Benchmarks.Report.SpreadReport.WriteMedians(MarkdownReport.Measurements(summaries), mediansPath);
// a failed row is a broken run unless it is a peer found disagreeing (not timed, and the report says so)
return summaries.Count > 0 && summaries.All(s => !s.HasCriticalValidationErrors && s.Reports.All(r => r.Success || RnnGen.Benchmarks.Report.Disagreements.Covers(r.BenchmarkCase))) ? 0 : 1;
