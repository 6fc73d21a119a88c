using System.Text.Json;
using Xunit.Sdk;

namespace RnnGen.IntegrationTests;

/// <summary>The one collection of integration tests: they share one <see cref="IntegrationFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class IntegrationCollection : ICollectionFixture<IntegrationFixture>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "integration";
}

/// <summary>The RnnGen package packed from the repository into a folder feed.</summary>
public sealed record PackedPackage(string Feed, string File, string Version, ProcessResult Pack);

/// <summary>A NativeAOT publish: the publish command's result and the native executable it produced.</summary>
public sealed record NativePublish(ProcessResult Publish, string Executable);

/// <summary>
/// One temporary folder per test run holding every build output (the repository's bin/obj are never touched),
/// a unique package version (so no NuGet cache can serve an older RnnGen), and the expensive steps — pack,
/// the consumer project, the AOT publishes — each done once, on first use, for all tests that need them.
/// </summary>
public sealed class IntegrationFixture : IDisposable
{
    private readonly Lazy<PackedPackage> _package;
    private readonly Lazy<ConsumerProject> _consumer;
    private readonly Lazy<NativePublish> _consumerNative;
    private readonly Lazy<NativePublish> _streamingNative;

    /// <summary>Creates the temporary folder; builds nothing yet.</summary>
    public IntegrationFixture()
    {
        Root = TestEnvironment.CreateTempFolder("integration");
        Version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        _package = new(Pack);
        _consumer = new(() => ConsumerProject.Create(Path.Combine(Root, "consumer"), Package));
        _consumerNative = new(() => PublishNative(Consumer.Folder, ConsumerProject.AssemblyName, Path.Combine(Root, "consumer-aot")));
        _streamingNative = new(() => PublishNative(
            Path.Combine(TestEnvironment.RepoRoot, "samples", "StreamingAot", "StreamingAot.csproj"), "StreamingAot", Path.Combine(Root, "streaming-aot")));
    }

    /// <summary>The temporary folder of this run.</summary>
    public string Root { get; }

    /// <summary>The version the package is packed with, unique to this run.</summary>
    public string Version { get; }

    /// <summary>dotnet's artifacts path for builds of repository projects (bin, obj, package output).</summary>
    public string ArtifactsPath => Path.Combine(Root, "artifacts");

    /// <summary><c>dotnet pack src/RnnGen -c Release</c> into a folder feed (done once).</summary>
    public PackedPackage Package => _package.Value;

    /// <summary>A fresh project outside the repository that references the package (written once, not built).</summary>
    public ConsumerProject Consumer => _consumer.Value;

    /// <summary>The consumer published with NativeAOT (done once).</summary>
    public NativePublish ConsumerNative => _consumerNative.Value;

    /// <summary><c>samples/StreamingAot</c> published with NativeAOT (done once).</summary>
    public NativePublish StreamingNative => _streamingNative.Value;

    private PackedPackage Pack()
    {
        string feed = Path.Combine(Root, "feed");
        var pack = ProcessRunner.DotNet(TestEnvironment.RepoRoot,
            "pack", Path.Combine("src", "RnnGen", "RnnGen.csproj"), "-c", "Release", "-o", feed, "--tl:off",
            "--artifacts-path", ArtifactsPath, $"-p:Version={Version}").EnsureSuccess();
        string file = Path.Combine(feed, $"RnnGen.{Version}.nupkg");
        if (!File.Exists(file))
            throw new XunitException($"dotnet pack succeeded but {file} is missing; the feed holds: {string.Join(", ", Directory.GetFiles(feed).Select(Path.GetFileName))}\n{pack.Describe()}");
        return new PackedPackage(feed, file, Version, pack);
    }

    /// <summary>
    /// Publishes a project whose csproj sets PublishAot (PublishAotOnCommandLineTests covers -p:PublishAot=true).
    /// Repository projects build into <see cref="ArtifactsPath"/> with the package's version, so the runtime and the
    /// generator built by pack are reused.
    /// </summary>
    private NativePublish PublishNative(string project, string assemblyName, string output)
    {
        var publish = ProcessRunner.DotNet(Path.GetDirectoryName(project)!,
            "publish", project, "-c", "Release", "-o", output, "--tl:off",
            "--artifacts-path", ArtifactsPath, $"-p:Version={Version}").EnsureSuccess();
        string executable = Path.Combine(output, assemblyName + (OperatingSystem.IsWindows() ? ".exe" : ""));
        if (!File.Exists(executable))
            throw new XunitException($"The publish produced no native executable {executable}.\n{publish.Describe()}");
        return new NativePublish(publish, executable);
    }

    /// <summary>Deletes the temporary folder and this run's RnnGen from the NuGet package cache the consumer used.</summary>
    public void Dispose()
    {
        if (_consumer.IsValueCreated) RemoveRestoredPackage(_consumer.Value.Folder);
        TestEnvironment.DeleteTempFolder(Root);
    }

    // The package cache folders are those NuGet recorded in the consumer's assets file.
    private void RemoveRestoredPackage(string consumerFolder)
    {
        string assets = Path.Combine(consumerFolder, "obj", "project.assets.json");
        if (!File.Exists(assets)) return;
        using var json = JsonDocument.Parse(File.ReadAllBytes(assets));
        if (!json.RootElement.TryGetProperty("packageFolders", out var folders)) return;
        foreach (var folder in folders.EnumerateObject())
        {
            string id = Path.Combine(folder.Name, "rnngen");
            string restored = Path.Combine(id, Version.ToLowerInvariant());
            if (Directory.Exists(restored)) TestEnvironment.DeleteFolder(restored);
            // The id folder too, when no other RnnGen version is in it (not recursive: another restore may be filling it).
            try { if (Directory.Exists(id) && !Directory.EnumerateFileSystemEntries(id).Any()) Directory.Delete(id); }
            catch (IOException) { }
        }
    }
}
