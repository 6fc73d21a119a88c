using System.Text;
using static RnnGen.Tests.IO.HandMadeFile;

namespace RnnGen.Tests.IO;

/// <summary>
/// A hostile header cannot make the reader allocate what it claims: allocations stay within a small multiple
/// of the bytes really present (measured with <see cref="GC.GetAllocatedBytesForCurrentThread"/>).
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
    };

    private static byte[] Case(string name) => name switch
    {
        "header length 99 MB" => Hostile(TinyHeader, claimedHeaderLength: 99_000_000),
        "tensor of 4 TB" => Hostile(Header(Entry("weight_ih_l0", "F32", "[1000000,1000000]", 0, 4_000_000_000_000))),
        // Every model tensor present and well-formed except that the last one claims 4 TB: only the length check stops it.
        "tensor of 4 TB in the model's layout" => Hostile(Header(BiasHh, WeightIh, BiasIh, Entry("weight_hh_l0", "F32", "[1000000,1000000]", 40, 4_000_000_000_040))),
        // two bytes of the file per dimension, eight once read: refused at the 65th
        "shape of 100,000 dimensions" => Hostile(Header(Entry("weight_ih_l0", "F32", "[" + string.Join(",", Enumerable.Repeat(1, 100_000)) + "]", 0, 4))),
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
