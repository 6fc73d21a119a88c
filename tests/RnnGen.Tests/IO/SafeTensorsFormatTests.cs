using System.Text;
using System.Text.Json;
using RnnGen.Tests.Models;
using static RnnGen.Tests.IO.HandMadeFile;
using static RnnGen.Tests.IO.IoTestUtil;

namespace RnnGen.Tests.IO;

/// <summary>The bytes on disk, checked against the format description independently of RnnGen's code.</summary>
public class SafeTensorsFormatTests
{
    [Fact]
    public void HandMadeFileLoadsByDataOffsets()
    {
        using var folder = new TempFolder();
        string path = folder.File("tiny.safetensors");
        File.WriteAllBytes(path, Build(TinyHeader, TinyData));

        var model = SafeTensors.Load<IoTinyF, float>(path);

        Assert.Equal(Bits(TinyParameters), Bits(model.Parameters)); // bitwise: includes the −0
    }

    [Fact]
    public void HandMadeFileWithSpacePaddedHeaderLoads()
    {
        // The reference writer pads the header with spaces to a multiple of 8 bytes.
        string padded = TinyHeader + new string(' ', 8 - TinyHeader.Length % 8);
        var model = SafeTensors.Load<IoTinyF, float>(new MemoryStream(Build(padded, TinyData)));
        Assert.Equal(Bits(TinyParameters), Bits(model.Parameters));
    }

    [Fact]
    public void HandMadeF32FileLoadsIntoDoubleModel()
    {
        var model = SafeTensors.Load<IoTinyD, double>(new MemoryStream(Build(TinyHeader, TinyData)));
        Assert.Equal(TinyParameters.Select(v => (double)v).ToArray(), model.Parameters.ToArray());
    }

    [Fact]
    public void HandMadeF64FileLoadsIntoFloatModelRoundedToNearest()
    {
        string header = Header(
            Entry("weight_ih_l0", "F64", "[2,3]", 0, 48), Entry("weight_hh_l0", "F64", "[2,2]", 48, 80),
            Entry("bias_ih_l0", "F64", "[2]", 80, 96), Entry("bias_hh_l0", "F64", "[2]", 96, 112));
        double third = 1.0 / 3.0;
        double[] values = [third, 0.1, -0.7, 1e-40, 1e-50, 3.4e38, 0, -0.0, 1, 2, 16777217, -16777219, double.NaN, double.NegativeInfinity];
        // Expected by IEEE round-to-nearest-even, written out by hand:
        float[] expected = [0.333333343f, 0.100000001f, -0.699999988f, 1e-40f /* subnormal */, 0f, 3.4e38f, 0f, -0f, 1f, 2f, 16777216f, -16777220f, float.NaN, float.NegativeInfinity];

        var model = SafeTensors.Load<IoTinyF, float>(new MemoryStream(Build(header, F64(values))));

        Assert.Equal(Bits(expected), Bits(model.Parameters));
    }

    [Fact]
    public void SavedFloatModelHasTheDocumentedBytes()
    {
        var model = new IoTinyF();
        TinyParameters.CopyTo(model.Parameters);
        var stream = new MemoryStream();
        SafeTensors.Save(model, stream, new Dictionary<string, string> { ["app.note"] = "héllo \"quoted\"" });
        byte[] file = stream.ToArray();

        var reader = new BinaryReader(new MemoryStream(file));
        ulong n = reader.ReadUInt64();
        Assert.Equal(0UL, n % 8); // data buffer 8-byte aligned, as the reference writer does
        byte[] headerBytes = reader.ReadBytes((int)n);
        string headerText = Encoding.UTF8.GetString(headerBytes);
        Assert.StartsWith("{", headerText);
        string trimmed = headerText.TrimEnd(' ');
        Assert.EndsWith("}", trimmed);
        Assert.InRange(headerText.Length - trimmed.Length, 0, 7); // padding: fewer than 8 spaces after the JSON
        Assert.Equal(8 + (long)n + 14 * 4, file.Length);

        using var json = JsonDocument.Parse(headerBytes);
        var root = json.RootElement;
        var metadata = root.GetProperty("__metadata__").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Equal(new Dictionary<string, string?>
        {
            ["format"] = "pt",
            ["rnngen.format"] = "1",
            ["rnngen.cell"] = "rnn",
            ["rnngen.input"] = "3",
            ["rnngen.hidden"] = "2",
            ["rnngen.layers"] = "1",
            ["rnngen.output"] = "0",
            ["rnngen.tokens"] = "false",
            ["rnngen.activation"] = "tanh",
            ["rnngen.precision"] = "single",
            ["app.note"] = "héllo \"quoted\"",
        }, metadata);

        // Tensors in layout order, contiguous from 0, F32, PyTorch shapes.
        (string Name, int[] Shape)[] expected = [("weight_ih_l0", [2, 3]), ("weight_hh_l0", [2, 2]), ("bias_ih_l0", [2]), ("bias_hh_l0", [2])];
        Assert.Equal(expected.Length + 1, root.EnumerateObject().Count());
        long offset = 0;
        var data = new BinaryReader(new MemoryStream(file, 8 + (int)n, file.Length - 8 - (int)n));
        var decoded = new List<float>();
        foreach (var (name, shape) in expected)
        {
            var entry = root.GetProperty(name);
            Assert.Equal("F32", entry.GetProperty("dtype").GetString());
            Assert.Equal(shape, entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray());
            long count = shape.Aggregate(1, (a, b) => a * b);
            Assert.Equal(new[] { offset, offset + 4 * count }, entry.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray());
            offset += 4 * count;
            for (int i = 0; i < count; i++) decoded.Add(data.ReadSingle());
        }
        Assert.Equal(Bits(TinyParameters), Bits(decoded.ToArray()));
    }

    [Fact]
    public void SavedDoubleModelIsF64()
    {
        var model = new IoTinyD();
        for (int i = 0; i < TinyParameters.Length; i++) model.Parameters[i] = TinyParameters[i] + 1.0 / 3.0;
        var stream = new MemoryStream();
        SafeTensors.Save(model, stream);
        byte[] file = stream.ToArray();

        var reader = new BinaryReader(new MemoryStream(file));
        int n = (int)reader.ReadUInt64();
        using var json = JsonDocument.Parse(reader.ReadBytes(n));
        Assert.Equal("double", json.RootElement.GetProperty("__metadata__").GetProperty("rnngen.precision").GetString());
        foreach (var p in json.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__"))
            Assert.Equal("F64", p.Value.GetProperty("dtype").GetString());
        Assert.Equal(8 + n + 14 * 8, file.Length);
        for (int i = 0; i < 14; i++)
            Assert.Equal(model.Parameters[i], reader.ReadDouble()); // layout order = data order
    }

    [Fact]
    public void RnnReluModelRecordsItsActivationAndHeadSize()
    {
        var header = ReadHeaderOf(new RnnReluD2x5());
        Assert.Equal("relu", header.Metadata["rnngen.activation"]);
        Assert.Equal("4", header.Metadata["rnngen.output"]);
        Assert.Equal(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1", "head.weight", "head.bias"],
            header.Tensors.Select(t => t.Name).ToArray());
        Assert.Equal(new long[] { 4, 5 }, header.Tensors.Single(t => t.Name == "head.weight").Shape);
    }

    [Fact]
    public void LstmAndGruRecordCellAndNoActivation()
    {
        var lstm = ReadHeaderOf(new LstmFTokens());
        Assert.Equal("lstm", lstm.Metadata["rnngen.cell"]);
        Assert.Equal("true", lstm.Metadata["rnngen.tokens"]);
        Assert.False(lstm.Metadata.ContainsKey("rnngen.activation"));
        Assert.Equal(new long[] { 28, 11 }, lstm.Find("weight_ih_l0")!.Shape); // 4 gates × 7 hidden, vocabulary 11
        var gru = ReadHeaderOf(new GruD3x5());
        Assert.Equal("gru", gru.Metadata["rnngen.cell"]);
        Assert.Equal(new long[] { 15, 5 }, gru.Find("weight_hh_l2")!.Shape);
    }

    [Fact]
    public void CallerMayReplaceTheTorchFormatKey()
    {
        var stream = new MemoryStream();
        SafeTensors.Save(new IoTinyF(), stream, new Dictionary<string, string> { ["format"] = "np" });
        stream.Position = 0;
        Assert.Equal("np", SafeTensors.ReadHeader(stream).Metadata["format"]);
    }

    // Load returns the file's metadata (a vocabulary saved beside the model needs no second read of the header)
    [Fact]
    public void LoadReturnsTheMetadata_FromAFileAndFromAStream()
    {
        using var folder = new TempFolder();
        string path = folder.File("tiny.safetensors");
        var saved = new IoTinyF();
        saved.InitializeParameters(2);
        SafeTensors.Save(saved, path, new Dictionary<string, string> { ["app.vocabulary"] = "abc" });
        var metadata = SafeTensors.Load(new IoTinyF(), path);
        Assert.Equal("abc", metadata["app.vocabulary"]);
        Assert.Equal(SafeTensors.ReadHeader(path).Metadata, metadata);
        using var stream = File.OpenRead(path);
        Assert.Equal("abc", SafeTensors.Load(new IoTinyF(), stream)["app.vocabulary"]);
    }

    [Fact]
    public void ElementWiseWriterWritesTheSameBytesAsTheRawCopy()
    {
        // The element-wise path is what big-endian machines use; check it here against the raw copy.
        var f = new LstmF2x6Head();
        f.InitializeParameters(9);
        var d = new LstmD2x6Head();
        d.InitializeParameters(9);
        Assert.Equal(DataBytes(f, true), DataBytes(f, false));
        Assert.Equal(DataBytes(d, true), DataBytes(d, false));

        static byte[] DataBytes<TModel, T>(IRecurrentModel<TModel, T> model, bool raw)
            where TModel : class, IRecurrentModel<TModel, T>
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            var s = new MemoryStream();
            SafeTensors.WriteData(s, model, allowRawCopy: raw);
            return s.ToArray();
        }
    }

    [Fact]
    public void ReadHeaderListsTensorsInDataOrderWithoutAModel()
    {
        using var folder = new TempFolder();
        string path = folder.File("tiny.safetensors");
        File.WriteAllBytes(path, Build(TinyHeader, TinyData));

        var header = SafeTensors.ReadHeader(path);

        Assert.Equal(["bias_hh_l0", "weight_ih_l0", "bias_ih_l0", "weight_hh_l0"], header.Tensors.Select(t => t.Name).ToArray());
        var w = header.Find("weight_ih_l0")!;
        Assert.Equal("F32", w.DType);
        Assert.Equal(new long[] { 2, 3 }, w.Shape);
        Assert.Equal((8L, 32L, 24L, 6L), (w.DataBegin, w.DataEnd, w.ByteLength, w.ElementCount));
        Assert.Equal("hand made", header.Metadata["note"]);
        Assert.Equal(Encoding.UTF8.GetByteCount(TinyHeader), header.HeaderLength);
        Assert.Equal(8 + header.HeaderLength, header.DataStart);
        Assert.Equal(56, header.DataLength);
        Assert.Null(header.Find("nope"));
    }

    // A header's tensors are made when asked for: still one object per tensor, as when they were made with the header (a
    // caller may look one found up in the list, or key a dictionary by them), whichever asks first and from any thread.
    [Fact]
    public void ReadHeaderGivesOneObjectPerTensor()
    {
        byte[] file = Build(TinyHeader, TinyData);

        var header = SafeTensors.ReadHeader(new MemoryStream(file));
        var found = header.Find("weight_ih_l0")!;
        Assert.Same(found, header.Find("weight_ih_l0"));
        Assert.Same(found, header.Tensors[1]);
        Assert.Equal(1, header.Tensors.ToList().IndexOf(found));
        Assert.Same(header.Tensors, header.Tensors);
        Assert.Same(header.Tensors[3], header.Find("weight_hh_l0"));

        for (int attempt = 0; attempt < 200; attempt++)
        {
            var shared = SafeTensors.ReadHeader(new MemoryStream(file));
            using var start = new Barrier(2);
            var lists = new IReadOnlyList<SafeTensorInfo>[2];
            var finds = new SafeTensorInfo[2];
            Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, k =>
            {
                start.SignalAndWait();
                finds[k] = shared.Find("bias_ih_l0")!;
                lists[k] = shared.Tensors;
            });
            Assert.Same(lists[0], lists[1]);
            Assert.Same(finds[0], finds[1]);
            Assert.Same(finds[0], lists[0][2]);
        }
    }

    [Fact]
    public void ReadHeaderAcceptsEveryDtypeAndScalars()
    {
        string header = Header(
            Entry("a", "BF16", "[3]", 0, 6), Entry("b", "I64", "[]", 6, 14), Entry("c", "BOOL", "[2,0]", 14, 14),
            Entry("d", "F4", "[4]", 14, 16), Entry("e", "U8", "[1]", 16, 17));
        var stream = new MemoryStream(Build(header, new byte[17]));

        var result = SafeTensors.ReadHeader(stream);

        Assert.Equal(["a", "b", "c", "d", "e"], result.Tensors.Select(t => t.Name).ToArray());
        Assert.Equal(1, result.Find("b")!.ElementCount);
        Assert.Empty(result.Find("b")!.Shape);
        Assert.Equal(0, result.Find("c")!.ElementCount);
        Assert.Empty(result.Metadata);
        Assert.Equal(8 + result.HeaderLength, stream.Position); // left at the start of the data
    }

    [Fact]
    public void EmptyHeaderIsAValidFileWithoutTensors()
    {
        var header = SafeTensors.ReadHeader(new MemoryStream(Build("{}", [])));
        Assert.Empty(header.Tensors);
        Assert.Equal(0, header.DataLength);
    }

    private static SafeTensorsHeader ReadHeaderOf<TModel, T>(IRecurrentModel<TModel, T> model)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var stream = new MemoryStream();
        SafeTensors.Save(model, stream);
        stream.Position = 0;
        return SafeTensors.ReadHeader(stream);
    }
}

/// <summary>The element-wise decoder (used for conversions and on big-endian machines) against BinaryWriter's bytes.</summary>
public class ScalarCodecTests
{
    [Fact]
    public void DecodesEveryDtypeIntoEveryPrecision()
    {
        float[] f = [1.5f, -0f, float.Epsilon, float.MaxValue, float.NaN];
        double[] d = [1.0 / 3.0, -0.0, double.Epsilon, 1e300, double.NegativeInfinity];

        var ff = new float[5];
        Assert.Equal(-1, ScalarCodec.Decode<float>(HandMadeFile.F32(f), "F32", ff));
        Assert.Equal(IoTestUtil.Bits(f), IoTestUtil.Bits(ff));

        var dd = new double[5];
        Assert.Equal(-1, ScalarCodec.Decode<double>(HandMadeFile.F64(d), "F64", dd));
        Assert.Equal(IoTestUtil.Bits(d), IoTestUtil.Bits(dd));

        var fd = new double[5];
        Assert.Equal(-1, ScalarCodec.Decode<double>(HandMadeFile.F32(f), "F32", fd));
        Assert.Equal(f.Select(v => (double)v).ToArray(), fd);

        var df = new float[5];
        Assert.Equal(3, ScalarCodec.Decode<float>(HandMadeFile.F64(d), "F64", df)); // 1e300 does not fit a float
        Assert.Equal(new[] { 0.333333343f, -0f, 0f }, df[..3]);
    }
}
