using System.Text.RegularExpressions;

namespace RnnGen.IntegrationTests;

/// <summary>
/// The kernels pick their vector width when they run: 512 bits here, 256 bits on a machine with AVX2 but not AVX-512, 128
/// bits without AVX2 (and on other processors). The suite's kernel and model tests — every kernel against its reference,
/// every generated model against naive references and finite differences, chunks, lanes and teams — run again here with
/// the wider instruction sets turned off for the .NET runtime (.NET 10's DOTNET_EnableAVX512 and DOTNET_EnableAVX2; the older
/// DOTNET_EnableAVX512F no longer turns Vector512 off), so that the
/// narrower paths users on other machines get are tested too; the run checks that it ran at the width it meant to.
/// </summary>
public class NarrowerVectorsTests
{
    [Theory]
    [InlineData("256-bit vectors (AVX2 without AVX-512)", 8, "DOTNET_EnableAVX512")]
    [InlineData("128-bit vectors (no AVX2, hence no AVX-512)", 4, "DOTNET_EnableAVX2")]
    public void TheKernelAndModelTests_PassAtNarrowerWidths(string what, int floats, params string[] disabled)
    {
        string tests = Path.Combine(TestEnvironment.RepoRoot, "tests", "RnnGen.Tests", "bin", Configuration, "net10.0", "RnnGen.Tests.dll");
        Assert.True(File.Exists(tests), $"{tests} is not built: build the solution first (dotnet test RnnGen.sln builds it).");
        var variables = disabled.ToDictionary(name => name, _ => "0");
        variables["RNNGEN_EXPECT_FLOATS"] = floats.ToString(System.Globalization.CultureInfo.InvariantCulture);
        ProcessResult run = ProcessRunner.DotNet(TestEnvironment.RepoRoot, variables, "test", tests,
            "--filter", "FullyQualifiedName~RnnGen.Tests.Kernels|FullyQualifiedName~RnnGen.Tests.Generated");
        Assert.True(run.ExitCode == 0, $"The kernel and model tests failed at {what}.\n" + run.Describe());
        Match passed = Regex.Match(run.StandardOutput, @"Passed:\s+(\d+)");
        Assert.True(passed.Success && int.Parse(passed.Groups[1].Value) > 400, $"Too few tests ran at {what}.\n" + run.Describe());
    }

    private const string Configuration =
#if DEBUG
        "Debug";
#else
        "Release";
#endif
}
