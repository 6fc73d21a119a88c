using LongRangeMemory;

namespace RnnGen.Tests.Samples;

/// <summary>LongRangeMemory's command line: messages that name the options, and an --out folder checked before the experiment.</summary>
public sealed class LongRangeMemoryCliTests
{
    // "MaxSteps is 0; it must be ≥ 1. (Parameter 'MaxSteps')": the message named the property, not the option
    [Theory]
    [InlineData(new[] { "--max-steps", "0" }, "--max-steps is 0; it must be ≥ 1.")]
    [InlineData(new[] { "--lags", "20,10" }, "--lags must be ascending without repeats; 10 follows 20.")]
    [InlineData(new[] { "--validation", "0" }, "--validation is 0; it must be ≥ 1.")]
    [InlineData(new[] { "--workers", "0" }, "--workers is 0; it must be ≥ 1.")]
    [InlineData(new[] { "--memory-gate-bias", "NaN" }, "--memory-gate-bias is NaN; it must be finite.")]
    public void BadValues_AreReportedByTheirOption(string[] args, string message)
    {
        var (code, output, error) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains(message, error);
        Assert.DoesNotContain("(Parameter", error);
        Assert.Equal("", output);
    }

    // a bad --out crashed with a stack trace after the whole experiment; now it is refused before it starts
    [Fact]
    public void AnOutFolderBelowAFile_OrUnwritable_IsRefusedBeforeTheExperiment()
    {
        string file = Path.GetTempFileName();
        try
        {
            foreach (string folder in new[] { file, Path.Combine(file, "sub"), "/proc/long-range" })
            {
                var (code, output, error) = Run(["--quick", "--out", folder]);
                Assert.True(code == 2, $"--out {folder}: exit code {code}, {error}");
                Assert.StartsWith($"error: --out '{folder}'", error);
                Assert.Equal("", output);
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void AWritableOutFolder_IsAccepted_AndTheCheckLeavesOnlyTheFolder()
    {
        string folder = Path.Combine(Path.GetTempPath(), "long-range-out-" + Guid.NewGuid().ToString("N"), "plots");
        try
        {
            Assert.Null(Cli.CheckFolder(folder));
            Assert.Empty(Directory.GetFileSystemEntries(folder));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(folder)!, recursive: true);
        }
    }

    private static (int Code, string Output, string Error) Run(string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Cli.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
