using System.Text.RegularExpressions;
using Xunit.Sdk;

namespace RnnGen.IntegrationTests;

/// <summary>Checks on NativeAOT publishes.</summary>
public static partial class NativeAot
{
    /// <summary>Fails, listing them, if the publish printed any trimming (IL2xxx) or AOT (IL3xxx) warning.</summary>
    public static void AssertNoTrimOrAotWarnings(ProcessResult publish)
    {
        var warnings = TrimOrAotWarning().Matches(publish.StandardOutput + "\n" + publish.StandardError)
            .Select(m => m.Value.Trim()).Distinct().ToList();
        if (warnings.Count > 0)
            throw new XunitException($"{warnings.Count} trimming/AOT warning(s):\n{string.Join("\n", warnings)}\n\n{publish.Describe()}");
        // The check above relies on the compiler having run: an up-to-date publish prints no warnings at all.
        Assert.Contains("Generating native code", publish.StandardOutput);
    }

    /// <summary>"1,968,144 bytes (1.88 MiB)".</summary>
    public static string Size(string file)
    {
        long bytes = new FileInfo(file).Length;
        return $"{bytes:N0} bytes ({bytes / 1048576.0:F2} MiB)";
    }

    [GeneratedRegex(@"^.*\b(warning|error) IL[23]\d{3}\b.*$", RegexOptions.Multiline)]
    private static partial Regex TrimOrAotWarning();
}
