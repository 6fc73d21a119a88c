using static RnnGen.Tests.IO.IoTestUtil;

namespace RnnGen.Tests.IO;

/// <summary>A save that fails half-way leaves the previous file as it was and no temporary file behind.</summary>
public class SafeTensorsAtomicSaveTests
{
    [Fact]
    public void ModelFailingHalfWayLeavesTheOldFileAndNoTemporaryFile()
    {
        using var folder = new TempFolder();
        string path = folder.File("model.safetensors");
        var good = new ProbeModel();
        good.InitializeParameters(1);
        SafeTensors.Save(good, path);
        byte[] old = File.ReadAllBytes(path);

        // Read 1 of Parameters validates; read 2 comes after the header has been written to the temporary file.
        var failing = new ProbeModel { FailOnParameterRead = 2 };
        failing.InitializeParameters(2);
        var e = Assert.Throws<IOException>(() => SafeTensors.Save(failing, path));

        Assert.Equal("simulated failure while saving", e.Message);
        Assert.Equal(old, File.ReadAllBytes(path));
        Assert.Equal(new[] { "model.safetensors" }, folder.Entries());
        var reloaded = SafeTensors.Load<ProbeModel, float>(path);
        Assert.Equal(Bits(good.Parameters), Bits(reloaded.Parameters));
    }

    [Fact]
    public void WriterFailingAfterPartialContentLeavesTheOldFile()
    {
        using var folder = new TempFolder();
        string path = folder.File("data.bin");
        File.WriteAllBytes(path, [1, 2, 3]);
        string? temporary = null;

        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[100_000]);
            stream.Flush();
            temporary = ((FileStream)stream).Name;
            Assert.True(File.Exists(temporary));
            Assert.Equal(folder.Path, Path.GetDirectoryName(temporary)); // same folder: the rename cannot cross file systems
            throw new InvalidOperationException("crash");
        }));

        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
        Assert.False(File.Exists(temporary));
        Assert.Equal(new[] { "data.bin" }, folder.Entries());
    }

    [Fact]
    public void TheTargetIsReplacedOnlyAfterTheWriterFinished()
    {
        using var folder = new TempFolder();
        string path = folder.File("data.bin");
        File.WriteAllBytes(path, [1, 2, 3]);

        AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[] { 9, 9 });
            Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path)); // still the old content mid-write
            stream.Write(new byte[] { 8 });
        });

        Assert.Equal(new byte[] { 9, 9, 8 }, File.ReadAllBytes(path));
        Assert.Equal(new[] { "data.bin" }, folder.Entries());
    }

    [Fact]
    public void MissingFolderIsRefusedWithoutCreatingAnything()
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "absent", "model.safetensors");
        Assert.Throws<DirectoryNotFoundException>(() => SafeTensors.Save(new IoTinyF(), path));
        Assert.Empty(folder.Entries());
    }

    [Fact]
    public void TargetThatIsAFolderIsRefusedAndLeftAlone()
    {
        using var folder = new TempFolder();
        string path = folder.File("model.safetensors");
        Directory.CreateDirectory(path);
        Assert.Throws<IOException>(() => SafeTensors.Save(new IoTinyF(), path));
        Assert.True(Directory.Exists(path));
        Assert.Equal(new[] { "model.safetensors" }, folder.Entries());
    }
}
