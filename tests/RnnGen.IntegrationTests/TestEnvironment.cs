using System.Reflection;
using Xunit.Sdk;

namespace RnnGen.IntegrationTests;

/// <summary>Paths of the repository under test and of the temporary folders the tests build in.</summary>
public static class TestEnvironment
{
    /// <summary>The repository root (where RnnGen.sln is), recorded at build time.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>
    /// A new empty folder under the system's temporary folder. Set <c>RNNGEN_KEEP_TEMP=1</c> to keep the test
    /// folders for inspection (their paths are in the test output).
    /// </summary>
    public static string CreateTempFolder(string purpose)
    {
        string unique = Guid.NewGuid().ToString("N")[..8];
        string path = Path.Combine(Path.GetTempPath(), $"rnngen-{purpose}-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{unique}");
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Deletes a folder made by <see cref="CreateTempFolder"/> unless <c>RNNGEN_KEEP_TEMP=1</c>.</summary>
    public static void DeleteTempFolder(string path)
    {
        if (Environment.GetEnvironmentVariable("RNNGEN_KEEP_TEMP") != "1") DeleteFolder(path);
    }

    /// <summary>Deletes a folder and its content if it can; a leftover folder must not fail a test.</summary>
    public static void DeleteFolder(string path)
    {
        try { Directory.Delete(path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static string FindRepoRoot()
    {
        string? root = typeof(TestEnvironment).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "RnnGen.RepoRoot")?.Value;
        if (root is null || !File.Exists(Path.Combine(root, "RnnGen.sln")))
            throw new XunitException($"The repository root recorded at build time ('{root}') has no RnnGen.sln; rebuild the test project.");
        return Path.GetFullPath(root);
    }
}
