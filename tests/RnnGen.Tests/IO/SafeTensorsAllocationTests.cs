using System.Text;
using static RnnGen.Tests.IO.HandMadeFile;

namespace RnnGen.Tests.IO;

/// <summary>
/// A hostile header cannot make the reader allocate what it claims: allocations stay within a small multiple
/// of the bytes really present (measured with <see cref="GC.GetAllocatedBytesForCurrentThread"/>), and a header of many
/// tiny tensors costs a load at most three times its size.
/// </summary>
public class SafeTensorsAllocationTests
{
    // Exception objects, stack traces, messages and small bookkeeping: a fixed allowance on top of 4 × the file.
    private const long FixedAllowance = 16 * 1024;

    /// <summary>A 2 KB file (header padded with spaces) whose header length or shapes lie.</summary>
    private static byte[] Hostile(string header, ulong? claimedHeaderLength = null, int dataBytes = 56) =>
        Build(header.PadRight(2000), new byte[dataBytes], claimedHeaderLength);

    public static TheoryData<string> Cases => new()
    {
        "header length 99 MB", "tensor of 4 TB", "tensor of 4 TB in the model's layout", "shape of 100,000 dimensions",
        "200,000 names of no entry",
    };

    private static byte[] Case(string name) => name switch
    {
        "header length 99 MB" => Hostile(TinyHeader, claimedHeaderLength: 99_000_000),
        "tensor of 4 TB" => Hostile(Header(Entry("weight_ih_l0", "F32", "[1000000,1000000]", 0, 4_000_000_000_000))),
        // Every model tensor present and well-formed except that the last one claims 4 TB: only the length check stops it.
        "tensor of 4 TB in the model's layout" => Hostile(Header(BiasHh, WeightIh, BiasIh, Entry("weight_hh_l0", "F32", "[1000000,1000000]", 40, 4_000_000_000_040))),
        // two bytes of the file per dimension, eight once read: refused at the 65th
        "shape of 100,000 dimensions" => Hostile(Header(Entry("weight_ih_l0", "F32", "[" + string.Join(",", Enumerable.Repeat(1, 100_000)) + "]", 0, 4))),
        // five bytes of the file per name ("":0,), refused at the first: not 40 bytes of entry and 8 of table for each
        "200,000 names of no entry" => Hostile(Header([.. Enumerable.Repeat("\"\":0", 200_000)])),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void FromAPath(string name)
    {
        byte[] file = Case(name);
        using var folder = new TempFolder();
        string path = folder.File("hostile.safetensors");
        File.WriteAllBytes(path, file);

        AssertBounded(file.Length, () => SafeTensors.Load(new IoTinyF(), path));
        AssertBounded(file.Length, () => SafeTensors.ReadHeader(path));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FromASeekableStream(string name)
    {
        byte[] file = Case(name);
        AssertBounded(file.Length, () => SafeTensors.Load(new IoTinyF(), new MemoryStream(file)));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FromAStreamOfUnknownLength(string name)
    {
        byte[] file = Case(name);
        AssertBounded(file.Length, () => SafeTensors.Load(new IoTinyF(), new ForwardOnlyStream(file)));
    }

    [Fact]
    public void AGoodLoadAllocatesAboutTheModelOnce()
    {
        // LstmF33: 7,038 floats (28 KB). Budget: the temporary copy of the parameters + the file's header + the allowance.
        var source = new Models.LstmF33();
        source.InitializeParameters(4);
        var stream = new MemoryStream();
        SafeTensors.Save(source, stream);
        byte[] file = stream.ToArray();
        var target = new Models.LstmF33();

        void Load() => SafeTensors.Load(target, new MemoryStream(file));
        Load();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Load();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.InRange(allocated, 4L * Models.LstmF33.ParameterCount, 4L * Models.LstmF33.ParameterCount + 4L * (file.Length - 4L * Models.LstmF33.ParameterCount) + FixedAllowance);
    }

    /// <summary>
    /// The model's four tensors and 20,000 tiny extra ones (one F32 each, 56 to 70 bytes of header apiece): what a load keeps
    /// of an entry it does not need is its place in the header, not a SafeTensorInfo, a name string and a shape (eight times
    /// the header, before). With <paramref name="escaped"/>, every extra name is written with a JSON escape.
    /// </summary>
    private static (byte[] File, long HeaderLength) ManyTinyTensors(bool escaped)
    {
        const int extras = 20_000;
        string[] entries = [BiasHh, WeightIh, BiasIh, WeightHh, .. Enumerable.Range(0, extras)
            .Select(i => Entry((escaped ? "\\u0074" : "t") + i, "F32", "[1]", 56 + 4L * i, 60 + 4L * i))];
        byte[] header = Encoding.UTF8.GetBytes(Header(entries));
        return (Build(header, Concat(TinyData, new byte[4 * extras])), header.Length);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AHeaderOfManyTinyTensors_CostsAtMostThreeTimesItsSize(bool escaped)
    {
        var (file, header) = ManyTinyTensors(escaped);
        using var folder = new TempFolder();
        string path = folder.File("tiny.safetensors");
        File.WriteAllBytes(path, file);
        var skip = new SafeTensorsLoadOptions { IgnoreExtraTensors = true };

        // refused (the extra tensors are named, the first twelve), and loaded when they may be skipped
        var refused = Assert.Throws<ModelFileException>(() => SafeTensors.Load(new IoTinyF(), path));
        Assert.Contains("tensors 't0', 't1', ", refused.Message); // unescaped: \u0074 is t
        Assert.Contains("and 19988 more", refused.Message);
        var model = new IoTinyF();
        SafeTensors.Load(model, path, skip);
        Assert.Equal(TinyParameters, model.Parameters.ToArray());

        AssertAllocation(3 * header, () => Assert.Throws<ModelFileException>(() => SafeTensors.Load(new IoTinyF(), path)));
        AssertAllocation(3 * header, () => Assert.Throws<ModelFileException>(() => SafeTensors.Load(new IoTinyF(), new MemoryStream(file))));
        AssertAllocation(3 * header, () => SafeTensors.Load(new IoTinyF(), path, skip));
        AssertAllocation(3 * header, () => SafeTensors.Load(new IoTinyF(), new MemoryStream(file), skip));
        AssertAllocation(3 * header, () => SafeTensors.ReadHeader(path).Find("weight_hh_l0"));
        // of unknown length, the header's buffer grows as its bytes arrive: up to twice its size
        AssertAllocation(4 * header, () => SafeTensors.Load(new IoTinyF(), new ForwardOnlyStream(file), skip));
    }

    private static void AssertAllocation(long budget, Action load)
    {
        load(); // warm up (JIT, static tables)
        long before = GC.GetAllocatedBytesForCurrentThread();
        load();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.InRange(allocated, 0, budget + FixedAllowance);
    }

    private static void AssertBounded(int fileLength, Action load)
    {
        void Attempt() => Assert.Throws<ModelFileException>(() => load());
        Attempt(); // warm up (JIT, static tables)
        long before = GC.GetAllocatedBytesForCurrentThread();
        Attempt();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.InRange(allocated, 0, 4L * fileLength + FixedAllowance);
    }
}
