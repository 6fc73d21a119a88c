namespace RnnGen.IntegrationTests;

/// <summary>
/// A fresh project that references only the RnnGen package: the generator runs from the package, the model it
/// writes computes the right numbers under the JIT and as a NativeAOT binary.
/// </summary>
[Collection(IntegrationCollection.Name)]
public sealed class ConsumerTests(IntegrationFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public void Consumer_BuildsFromThePackage_AndPrintsTheReferenceResults()
    {
        var consumer = fixture.Consumer;
        var build = ProcessRunner.DotNet(consumer.Folder, "build", "-c", "Release", "--tl:off").EnsureSuccess();
        output.WriteLine($"restore + build: {build.Elapsed.TotalSeconds:F1} s in {consumer.Folder}");
        output.WriteLine($"generated: {Path.GetRelativePath(consumer.Folder, consumer.GeneratedModelFile())}");

        var run = ProcessRunner.DotNet(consumer.Folder, "run", "--no-build", "-c", "Release").EnsureSuccess();
        output.WriteLine(run.StandardOutput);
        ConsumerProject.CheckOutput(run.StandardOutput);
    }

    [Fact]
    public void Consumer_PublishesWithNativeAot_WithoutWarnings_AndTheBinaryPrintsTheReferenceResults()
    {
        var native = fixture.ConsumerNative;
        output.WriteLine($"publish: {native.Publish.Elapsed.TotalSeconds:F1} s; native binary: {NativeAot.Size(native.Executable)}");
        NativeAot.AssertNoTrimOrAotWarnings(native.Publish);

        var run = ProcessRunner.Program(native.Executable, [], fixture.Root).EnsureSuccess();
        output.WriteLine(run.StandardOutput);
        ConsumerProject.CheckOutput(run.StandardOutput);
    }
}
