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
    public void TheTemporaryFilesOfKilledSavesAreDeletedByTheNextSave()
    {
        // kill -9 during a save leaves its hidden temporary file (the target stays whole); before this, every such kill left
        // one more copy of the checkpoint beside it, for ever (the crash probe of 2026-12-01 counted 255 after 268 kills)
        using var folder = new TempFolder();
        string path = folder.File("model.safetensors");
        var model = new ProbeModel();
        model.InitializeParameters(1);
        SafeTensors.Save(model, path);
        DateTime old = DateTime.UtcNow - AtomicFile.OrphanAge - TimeSpan.FromMinutes(1);
        string Leftover(string name, DateTime written)
        {
            string file = folder.File(name);
            File.WriteAllBytes(file, new byte[1000]);
            File.SetLastWriteTimeUtc(file, written);
            return file;
        }
        Leftover(".model.safetensors.k3j2x1qa.0bz.tmp", old);                   // a killed save's: deleted
        Leftover(".model.safetensors.q9w8e7r6.t5y.tmp", old);                   // another one: deleted
        Leftover(".model.safetensors.a1b2c3d4.e5f.tmp", DateTime.UtcNow);       // just created: perhaps not yet locked, kept
        string held = Leftover(".model.safetensors.h0ld1ng0.byw.tmp", old);     // held open by a writer that lives: kept
        Leftover(".other.safetensors.k3j2x1qa.0bz.tmp", old);                   // another target's: kept
        Leftover(".model.safetensors.mine.tmp", old);                           // not a temporary name of AtomicFile: kept
        using (new FileStream(held, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
            SafeTensors.Save(model, path);

        Assert.Equal(new[]
        {
            ".model.safetensors.a1b2c3d4.e5f.tmp", ".model.safetensors.h0ld1ng0.byw.tmp", ".model.safetensors.mine.tmp",
            ".other.safetensors.k3j2x1qa.0bz.tmp", "model.safetensors",
        }, folder.Entries());
        Assert.Equal(Bits(model.Parameters), Bits(SafeTensors.Load<ProbeModel, float>(path).Parameters));
    }

    [Fact]
    public void AFullDiskIsReportedForTheTargetNotForTheTemporaryFile()
    {
        // as the system reports ENOSPC while the temporary file is written (the CharRnn probe on a full tmpfs printed
        // "error: No space left on device : '…/.a.safetensors.xpi2oh01.oc5.tmp'", a file the user never asked for)
        using var folder = new TempFolder();
        string path = folder.File("data.bin");
        File.WriteAllBytes(path, [1, 2, 3]);

        var e = Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
            throw new IOException($"No space left on device : '{((FileStream)stream).Name}'")));

        Assert.Equal($"Cannot save '{path}': No space left on device (in '{folder.Path}'); the earlier file there is left as it was.", e.Message);
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
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

    // A replaced file keeps its Unix permissions (a private checkpoint stays private).
    [Fact]
    public void AReplacedFileKeepsItsPermissions()
    {
        if (OperatingSystem.IsWindows()) return;
        using var folder = new TempFolder();
        string path = folder.File("private.bin");
        File.WriteAllBytes(path, [1]);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        AtomicFile.Write(path, stream =>
        {
            // while it is written, the new content is as private as the old: the temporary file was created so
            string temporary = Directory.GetFiles(folder.Path, "*.tmp").Single();
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(temporary));
            stream.Write(new byte[] { 2 });
        });
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(new byte[] { 2 }, File.ReadAllBytes(path));
    }

    // A file readable by the group keeps exactly that mode, whatever the process's umask allowed at creation.
    [Fact]
    public void AReplacedSharedFileKeepsItsPermissions()
    {
        if (OperatingSystem.IsWindows()) return;
        using var folder = new TempFolder();
        string path = folder.File("shared.bin");
        File.WriteAllBytes(path, [1]);
        var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
        File.SetUnixFileMode(path, mode);
        AtomicFile.Write(path, stream => stream.Write(new byte[] { 3 }));
        Assert.Equal(mode, File.GetUnixFileMode(path));
    }

    // Saving through a symbolic link replaces the file it points at and leaves the link a link.
    [Fact]
    public void ALinkIsWrittenThrough()
    {
        using var folder = new TempFolder();
        string real = folder.File("real.bin"), link = folder.File("link.bin");
        File.WriteAllBytes(real, [1]);
        File.CreateSymbolicLink(link, real);
        AtomicFile.Write(link, stream => stream.Write(new byte[] { 7 }));
        Assert.NotNull(new FileInfo(link).LinkTarget);
        Assert.Equal(new byte[] { 7 }, File.ReadAllBytes(real));
        Assert.Equal(new[] { "link.bin", "real.bin" }, folder.Entries());
    }

    // A file name near the file system's limit still saves (the temporary name is shortened, not the target's).
    [Fact]
    public void AVeryLongFileNameSaves()
    {
        using var folder = new TempFolder();
        string path = folder.File(new string('m', 250) + ".bin");
        AtomicFile.Write(path, stream => stream.Write(new byte[] { 3 }));
        Assert.Equal(new byte[] { 3 }, File.ReadAllBytes(path));
        Assert.Single(folder.Entries());
    }

    // Loading from a folder says so, for both formats.
    [Fact]
    public void LoadingAFolderSaysItIsAFolder()
    {
        using var folder = new TempFolder();
        var e = Assert.Throws<IOException>(() => SafeTensors.Load(new IoTinyF(), folder.Path));
        Assert.Contains("it is a folder, not a file", e.Message);
        e = Assert.Throws<IOException>(() => OnnxFile.Import(new ProbeModel(), folder.Path));
        Assert.Contains("it is a folder, not a file", e.Message);
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

    // A pipe (or a device: run as root, a save to /dev/null replaced it with a regular file) is refused by name and left as
    // it was; a regular file and a missing one are not special.
    [Fact]
    public void TargetThatIsAPipeIsRefusedAndLeftAlone()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var folder = new TempFolder();
        string path = folder.File("model.safetensors");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [path])) mkfifo.WaitForExit();
        Assert.Equal("pipe (FIFO)", AtomicFile.SpecialFileKind(path));

        var e = Assert.Throws<IOException>(() => SafeTensors.Save(new IoTinyF(), path));
        Assert.Contains("it is a pipe (FIFO), not a regular file", e.Message);
        Assert.Equal("pipe (FIFO)", AtomicFile.SpecialFileKind(path));
        Assert.Equal(new[] { "model.safetensors" }, folder.Entries());

        Assert.Equal("device", AtomicFile.SpecialFileKind("/dev/null"));
        Assert.Null(AtomicFile.SpecialFileKind(folder.File("missing")));
        File.WriteAllBytes(folder.File("plain"), [1]);
        Assert.Null(AtomicFile.SpecialFileKind(folder.File("plain")));
    }
}
