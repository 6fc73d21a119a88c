namespace RnnGen.IntegrationTests;

/// <summary>
/// <c>-p:PublishAot=true</c> on the command line (the usual way to ask for NativeAOT) is a global property, which
/// MSBuild passes on to every referenced project, the netstandard2.0 generator included. The generator keeps its own
/// <c>PublishAot=false</c>, so a restore or publish of a project that references it from source does not fail with
/// NETSDK1207. Restore is where it failed; a restore alone keeps the test to seconds.
/// </summary>
public sealed class PublishAotOnCommandLineTests(ITestOutputHelper output)
{
    [Fact]
    public void StreamingAot_RestoresForNativeAot_WithPublishAotOnTheCommandLine()
    {
        string artifacts = TestEnvironment.CreateTempFolder("publishaot-cli");
        try
        {
            string project = Path.Combine(TestEnvironment.RepoRoot, "samples", "StreamingAot", "StreamingAot.csproj");
            var restore = ProcessRunner.DotNet(TestEnvironment.RepoRoot,
                "restore", project, "-r", "linux-x64", "-p:PublishAot=true", "--artifacts-path", artifacts, "--tl:off");
            output.WriteLine(restore.Describe());
            Assert.DoesNotContain("NETSDK1207", restore.StandardOutput + restore.StandardError);
            restore.EnsureSuccess();
        }
        finally
        {
            TestEnvironment.DeleteTempFolder(artifacts);
        }
    }
}
