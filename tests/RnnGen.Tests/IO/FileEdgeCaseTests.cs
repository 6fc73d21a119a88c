using System.Diagnostics;

namespace RnnGen.Tests.IO;

/// <summary>
/// Model files at the edges that an adversarial probe found mishandled (session 17): a save that would write a header no
/// load accepts, metadata UTF-8 cannot hold, a parent that is a file, a model read from a pipe or a device, and an ONNX
/// stream that never ends. Each is refused clearly (or, for the pipe, read), and nothing is lost.
/// </summary>
public sealed class FileEdgeCaseTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("rnngen-edges-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static IoTinyF Model(int seed)
    {
        var model = new IoTinyF();
        model.InitializeParameters(seed);
        return model;
    }

    // The header's limit holds on both sides: a save whose metadata would pass it is refused, and the file there stays.
    [Fact]
    public void MetadataPastTheHeaderLimit_IsRefusedAtSave_AndThePreviousFileStays()
    {
        string path = Path.Combine(_folder, "m.safetensors");
        SafeTensors.Save(Model(1), path);
        byte[] before = File.ReadAllBytes(path);
        var metadata = new Dictionary<string, string> { ["app.blob"] = new string('x', (int)SafeTensors.MaxHeaderLength) };

        var e = Assert.Throws<ArgumentException>(() => SafeTensors.Save(Model(2), path, metadata));
        Assert.Contains($"more than the {SafeTensors.MaxHeaderLength} that loading accepts", e.Message);
        Assert.Throws<ArgumentException>(() => TrainingCheckpoint.Save(Model(2), new Adam<float>(IoTinyF.ParameterCount), path, metadata));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_folder));
    }

    // "a\uD800b" would read back as "a\uFFFDb": refused before anything is written, naming the key.
    [Fact]
    public void ALoneSurrogateInMetadata_IsRefused_NothingWritten()
    {
        string path = Path.Combine(_folder, "m.safetensors");
        var e = Assert.Throws<ArgumentException>(() => SafeTensors.Save(Model(1), path, new Dictionary<string, string> { ["app.name"] = "a\uD800b" }));
        Assert.Contains("value of 'app.name' holds a lone UTF-16 surrogate", e.Message);
        Assert.Contains("lone UTF-16 surrogate", Assert.Throws<ArgumentException>(
            () => SafeTensors.Save(Model(1), path, new Dictionary<string, string> { ["app.\uDC00"] = "b" })).Message);
        Assert.Empty(Directory.GetFiles(_folder));

        // a pair is one character, and round-trips
        SafeTensors.Save(Model(1), path, new Dictionary<string, string> { ["app.name"] = "a\uD83D\uDE00b" });
        Assert.Equal("a\uD83D\uDE00b", SafeTensors.ReadHeader(path).Metadata["app.name"]);
    }

    [Fact]
    public void AParentThatIsAFile_IsCalledAFile()
    {
        string file = Path.Combine(_folder, "plain");
        File.WriteAllText(file, "x");
        var e = Assert.Throws<DirectoryNotFoundException>(() => SafeTensors.Save(Model(1), Path.Combine(file, "m.safetensors")));
        Assert.Contains($"'{file}' is a file, not a folder", e.Message);
    }

    // `--model <(zcat m.safetensors.gz)`: a path that is a pipe is read as a stream is (it used to throw NotSupportedException).
    [Fact]
    public async Task APathThatIsAPipe_Loads()
    {
        Assert.True(OperatingSystem.IsLinux(), "this test makes a FIFO with mkfifo: Linux only");
        var source = Model(3);
        string file = Path.Combine(_folder, "m.safetensors"), fifo = Path.Combine(_folder, "pipe");
        SafeTensors.Save(source, file);
        using (var mkfifo = Process.Start("mkfifo", [fifo])!)
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }
        byte[] bytes = File.ReadAllBytes(file);
        var writer = Task.Run(() => File.WriteAllBytes(fifo, bytes)); // opens when the reader does
        var loaded = new IoTinyF();
        SafeTensors.Load(loaded, fifo);
        await writer.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(source.Parameters.ToArray(), loaded.Parameters.ToArray());
    }

    // A device has no length: /dev/zero is a header of length 0, refused as such (it said "only -8 bytes follow it").
    [Fact]
    public void ADevice_IsRefusedWithASaneMessage()
    {
        Assert.True(OperatingSystem.IsLinux(), "/dev/zero: Linux only");
        var model = Model(1);
        float[] before = model.Parameters.ToArray();
        var e = Assert.Throws<ModelFileException>(() => SafeTensors.Load(model, "/dev/zero"));
        Assert.DoesNotContain("-8", e.Message);
        Assert.Equal(before, model.Parameters.ToArray());
    }

    // An ONNX stream whose first field declares about 2 GB and that never ends: refused at the most a graph of the model
    // can hold (its parameters in doubles twice over, and 16 MB for the graph), not read and buffered whole.
    [Fact]
    public void AnEndlessOnnxStream_IsRefusedAtTheGraphsLimit()
    {
        byte[] prefix = [0xA2, 0x06, 0xF0, 0xFF, 0xFF, 0xFF, 0x07]; // field 100, length-delimited, 0x7FFFFFF0 bytes
        var stream = new EndlessStream(prefix, limit: 256L << 20);
        var model = Model(1);
        float[] before = model.Parameters.ToArray();
        var e = Assert.Throws<ModelFileException>(() => OnnxFile.Import(model, stream));
        Assert.Contains("more than an ONNX graph of IoTinyF can hold", e.Message);
        long limit = 2L * IoTinyF.ParameterCount * sizeof(double) + (16L << 20);
        Assert.True(stream.Handed <= limit + (1 << 20), $"read {stream.Handed} bytes, the limit is {limit}");
        Assert.Equal(before, model.Parameters.ToArray());
    }

    /// <summary>A prefix, then zeros without end (up to a limit past which reading fails the test).</summary>
    private sealed class EndlessStream(byte[] prefix, long limit) : ReadOnlyForwardStream
    {
        public long Handed;

        public override int Read(Span<byte> buffer)
        {
            if (Handed >= limit) throw new InvalidOperationException($"the reader went on past {limit} bytes of an endless stream");
            int n = (int)Math.Min(buffer.Length, limit - Handed);
            buffer[..n].Clear();
            for (long i = Handed; i < prefix.Length && i < Handed + n; i++) buffer[(int)(i - Handed)] = prefix[i];
            Handed += n;
            return n;
        }
    }
}
