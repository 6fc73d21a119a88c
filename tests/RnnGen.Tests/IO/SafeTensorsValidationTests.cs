using System.Text;
using RnnGen.Tests.Models;
using static RnnGen.Tests.IO.HandMadeFile;
using static RnnGen.Tests.IO.IoTestUtil;

namespace RnnGen.Tests.IO;

/// <summary>
/// Every malformed or mismatched file is refused with a <see cref="ModelFileException"/> whose message says
/// what is wrong, and the model's parameters stay bit-identical.
/// </summary>
public class SafeTensorsValidationTests
{
    private const string Meta = "\"__metadata__\":{\"note\":\"hand made\"}";

    /// <summary>Case name → (file bytes, a fragment of the message, the tensor at fault or null).</summary>
    private static readonly Dictionary<string, (byte[] File, string Message, string? Tensor)> s_cases = new()
    {
        ["empty file"] = ([], "the file is 0 bytes long", null),
        ["shorter than the length prefix"] = ([1, 2, 3, 4, 5], "the file is 5 bytes long", null),
        ["header length beyond the file"] = (Build(TinyHeader, TinyData, headerLength: (ulong)(Encoding.UTF8.GetByteCount(TinyHeader) + 57)), "bytes follow it: the file is truncated", null),
        ["header length above the limit"] = (Build(TinyHeader, TinyData, headerLength: 100_000_001), "the header length is 100000001 bytes, more than the limit of 100000000 bytes", null),
        ["header length u64 max"] = (Build(TinyHeader, TinyData, headerLength: ulong.MaxValue), "more than the limit", null),
        ["invalid JSON"] = (Build(TinyHeader[..^1], TinyData), "the header is not valid JSON", null),
        ["JSON but not an object"] = (Build("[1,2]", []), "the header is not a JSON object", null),
        ["content after the JSON object"] = (Build(TinyHeader + "{}", TinyData), "the header is not valid JSON", null),
        ["invalid UTF-8"] = (Build(Concat(Encoding.UTF8.GetBytes("{\"__metadata__\":{\"a\":\""), [0xC3, 0x28], Encoding.UTF8.GetBytes("\"}}")), []), "the header is not valid UTF-8", null),
        ["unknown dtype"] = (Build(Header(Meta, WeightHh.Replace("F32", "F17"), BiasHh, WeightIh, BiasIh), TinyData), "tensor 'weight_hh_l0' has the unknown dtype 'F17'", "weight_hh_l0"),
        ["I16 tensor"] = (Build(Header(Meta, WeightHh, Entry("bias_hh_l0", "I16", "[4]", 0, 8), WeightIh, BiasIh), TinyData), "tensor 'bias_hh_l0' has dtype I16; RnnGen models load F32, F64, F16 or BF16 tensors", "bias_hh_l0"),
        ["integer tensor"] = (Build(Header(Meta, WeightHh, Entry("bias_hh_l0", "I32", "[2]", 0, 8), WeightIh, BiasIh), TinyData), "tensor 'bias_hh_l0' has dtype I32", "bias_hh_l0"),
        ["transposed shape"] = (Build(Header(Meta, WeightHh, BiasHh, Entry("weight_ih_l0", "F32", "[3,2]", 8, 32), BiasIh), TinyData), "tensor 'weight_ih_l0' has shape [3, 2], but IoTinyF (RNN-tanh 3→2×1, float, 14 parameters) expects [2, 3]", "weight_ih_l0"),
        ["flattened shape"] = (Build(Header(Meta, WeightHh, BiasHh, Entry("weight_ih_l0", "F32", "[6]", 8, 32), BiasIh), TinyData), "has shape [6], but", "weight_ih_l0"),
        ["missing tensor"] = (Build(Header(Meta, Entry("weight_hh_l0", "F32", "[2,2]", 32, 48), BiasHh, WeightIh), Concat(TinyBiasHh, TinyWeightIh, TinyWeightHh)),
            "the file has no tensor 'bias_ih_l0', which IoTinyF", "bias_ih_l0"),
        ["renamed tensor"] = (Build(Header(Meta, WeightHh, BiasHh, WeightIh, BiasIh.Replace("bias_ih_l0", "bias_ih_l9")), TinyData), "the file has no tensor 'bias_ih_l0'", "bias_ih_l0"),
        ["extra tensor"] = (Build(Header(Meta, WeightHh, BiasHh, WeightIh, BiasIh, Entry("embedding.weight", "F32", "[2]", 56, 64)), Concat(TinyData, F32(7, 8))),
            "the file holds tensor 'embedding.weight', which IoTinyF", "embedding.weight"),
        // another model's file: its shapes are the problem, not its extra tensors
        ["another model's sizes"] = (Build(Header(Meta, BiasHh, WeightIh, BiasIh, Entry("weight_hh_l0", "F32", "[3,3]", 40, 76), Entry("weight_hh_l1", "F32", "[2,2]", 76, 92)),
            Concat(TinyBiasHh, TinyWeightIh, TinyBiasIh, F32(1, 2, 3, 4, 5, 6, 7, 8, 9), F32(1, 2, 3, 4))), "tensor 'weight_hh_l0' has shape [3, 3], but IoTinyF", "weight_hh_l0"),
        ["bidirectional"] = (Build(Header(Meta, WeightHh, BiasHh, WeightIh, BiasIh, Entry("weight_ih_l0_reverse", "F32", "[2,3]", 56, 80)), Concat(TinyData, F32(1, 2, 3, 4, 5, 6))),
            "it was saved from a bidirectional module (bidirectional=True), and RnnGen's models run one direction", "weight_ih_l0_reverse"),
        ["no biases"] = (Build(Header(Meta, Entry("weight_hh_l0", "F32", "[2,2]", 24, 40), Entry("weight_ih_l0", "F32", "[2,3]", 0, 24)), Concat(TinyWeightIh, TinyWeightHh)),
            "A module built with bias=False has none: save zero tensors of those names and shapes", "bias_ih_l0"),
        ["offsets past the end of the file"] = (Build(TinyHeader, TinyData[..50]), "tensor 'weight_hh_l0' ends at byte 56 of the data buffer, but the file holds only 50 bytes of data: the file is truncated", "weight_hh_l0"),
        ["overlapping tensors"] = (Build(Header(Meta, Entry("weight_hh_l0", "F32", "[2,2]", 36, 52), BiasHh, WeightIh, Entry("bias_ih_l0", "F32", "[2]", 28, 36)), TinyData[..52]),
            "tensors 'weight_ih_l0' (bytes [8, 32)) and 'bias_ih_l0' (bytes [28, 36)) overlap", "bias_ih_l0"),
        ["begin after end"] = (Build(Header(Meta, WeightHh, Entry("bias_hh_l0", "F32", "[2]", 8, 0), WeightIh, BiasIh), TinyData), "tensor 'bias_hh_l0': data_offsets [8, 0] begin after they end", "bias_hh_l0"),
        ["byte length not dtype × shape"] = (Build(Header(Meta, WeightHh, Entry("bias_hh_l0", "F32", "[3]", 0, 8), WeightIh, BiasIh), TinyData),
            "tensor 'bias_hh_l0': dtype F32 and shape [3] need 12 bytes, but data_offsets [0, 8] span 8 bytes", "bias_hh_l0"),
        ["gap between tensors"] = (Build(Header(Meta, Entry("weight_hh_l0", "F32", "[2,2]", 44, 60), BiasHh, WeightIh, BiasIh), Concat(TinyBiasHh, TinyWeightIh, TinyBiasIh, new byte[4], TinyWeightHh)),
            "there is a gap of 4 bytes between tensors 'bias_ih_l0' (ends at 40) and 'weight_hh_l0' (starts at 44)", "weight_hh_l0"),
        ["gap at the start"] = (Build(Header(Meta, Entry("weight_hh_l0", "F32", "[2,2]", 48, 64), Entry("bias_hh_l0", "F32", "[2]", 8, 16), Entry("weight_ih_l0", "F32", "[2,3]", 16, 40), Entry("bias_ih_l0", "F32", "[2]", 40, 48)), Concat(new byte[8], TinyData)),
            "tensor 'bias_hh_l0' starts at byte 8, leaving a gap at the start of the data buffer", "bias_hh_l0"),
        ["duplicate tensor"] = (Build(Header(Meta, WeightHh, BiasHh, WeightIh, BiasIh, BiasHh), TinyData), "the header lists 'bias_hh_l0' twice", "bias_hh_l0"),
        ["metadata value not a string"] = (Build(Header("\"__metadata__\":{\"n\":1}", WeightHh, BiasHh, WeightIh, BiasIh), TinyData), "'__metadata__' must map strings to strings, but the value of 'n' is a number", null),
        ["metadata not an object"] = (Build(Header("\"__metadata__\":[\"a\"]", WeightHh, BiasHh, WeightIh, BiasIh), TinyData), "'__metadata__' must be a JSON object of strings, but it is a JSON array", null),
        ["entry without data_offsets"] = (Build(Header(Meta, WeightHh, "\"bias_hh_l0\":{\"dtype\":\"F32\",\"shape\":[2]}", WeightIh, BiasIh), TinyData), "tensor 'bias_hh_l0' has no 'data_offsets'", "bias_hh_l0"),
        ["entry with an unknown field"] = (Build(Header(Meta, WeightHh, "\"bias_hh_l0\":{\"dtype\":\"F32\",\"shape\":[2],\"offsets\":[0,8],\"data_offsets\":[0,8]}", WeightIh, BiasIh), TinyData),
            "tensor 'bias_hh_l0' has an unknown field 'offsets'", "bias_hh_l0"),
        ["entry not an object"] = (Build(Header(Meta, WeightHh, "\"bias_hh_l0\":[0,8]", WeightIh, BiasIh), TinyData), "the entry of tensor 'bias_hh_l0' must be a JSON object", "bias_hh_l0"),
        ["dtype not a string"] = (Build(Header(Meta, WeightHh, BiasHh.Replace("\"F32\"", "32"), WeightIh, BiasIh), TinyData), "tensor 'bias_hh_l0': dtype must be a string", "bias_hh_l0"),
        ["negative dimension"] = (Build(Header(Meta, WeightHh, Entry("bias_hh_l0", "F32", "[-2]", 0, 8), WeightIh, BiasIh), TinyData), "shape must be an array of non-negative integers, but it holds -2", "bias_hh_l0"),
        ["fractional dimension"] = (Build(Header(Meta, WeightHh, Entry("bias_hh_l0", "F32", "[2.0]", 0, 8), WeightIh, BiasIh), TinyData), "shape must be an array of non-negative integers, but it holds 2.0", "bias_hh_l0"),
        ["negative offset"] = (Build(Header(Meta, WeightHh, Entry("bias_hh_l0", "F32", "[2]", -8, 0), WeightIh, BiasIh), TinyData), "data_offsets must be an array of non-negative integers, but it holds -8", "bias_hh_l0"),
        ["shape of 65 dimensions"] = (Build(Header(Meta, WeightHh, Entry("bias_hh_l0", "F32", "[2" + string.Concat(Enumerable.Repeat(",1", 64)) + "]", 0, 8), WeightIh, BiasIh), TinyData),
            "tensor 'bias_hh_l0': shape has 65 dimensions, more than 64: the file is corrupt", "bias_hh_l0"),
        ["three offsets"] = (Build(Header(Meta, WeightHh, BiasHh.Replace("[0,8]", "[0,8,16]"), WeightIh, BiasIh), TinyData), "data_offsets must be [begin, end], but it has 3 numbers", "bias_hh_l0"),
        ["element count overflows"] = (Build(Header(Meta, WeightHh, Entry("bias_hh_l0", "F32", "[4294967296,4294967296,4]", 0, 8), WeightIh, BiasIh), TinyData), "has too many elements", "bias_hh_l0"),
        ["huge tensor claimed"] = (Build(Header(Entry("weight_ih_l0", "F32", "[1000000,1000000]", 0, 4_000_000_000_000)), TinyData),
            "tensor 'weight_ih_l0' ends at byte 4000000000000 of the data buffer, but the file holds only 56 bytes of data", "weight_ih_l0"),
        ["newer RnnGen format"] = (Build(Header("\"__metadata__\":{\"rnngen.format\":\"2\"}", WeightHh, BiasHh, WeightIh, BiasIh), TinyData), "written in RnnGen file format 2", null),
        ["format version not a number"] = (Build(Header("\"__metadata__\":{\"rnngen.format\":\"one\"}", WeightHh, BiasHh, WeightIh, BiasIh), TinyData), "'rnngen.format' is 'one', which is not a format version", null),
        ["other cell kind"] = (Build(Header("\"__metadata__\":{\"rnngen.cell\":\"gru\"}", WeightHh, BiasHh, WeightIh, BiasIh), TinyData),
            "saved from a model with cell 'gru' ('rnngen.cell'), but IoTinyF (RNN-tanh 3→2×1, float, 14 parameters) has cell 'rnn'", null),
        ["other activation"] = (Build(Header("\"__metadata__\":{\"rnngen.cell\":\"rnn\",\"rnngen.activation\":\"relu\"}", WeightHh, BiasHh, WeightIh, BiasIh), TinyData), "with activation 'relu'", null),
        ["other hidden size"] = (Build(Header("\"__metadata__\":{\"rnngen.hidden\":\"3\"}", WeightHh, BiasHh, WeightIh, BiasIh), TinyData), "with hidden size '3'", null),
        ["F64 value beyond float"] = (Build(Header(Entry("weight_ih_l0", "F64", "[2,3]", 0, 48), Entry("weight_hh_l0", "F64", "[2,2]", 48, 80), Entry("bias_ih_l0", "F64", "[2]", 80, 96), Entry("bias_hh_l0", "F64", "[2]", 96, 112)),
            F64(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1e39, 0, 0)), "tensor 'bias_ih_l0': element 1 (-1E+39) is beyond the range of float", "bias_ih_l0"),
    };

    public static TheoryData<string> Cases => new(s_cases.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadFileIsRefusedFromAPath(string name)
    {
        var (file, message, tensor) = s_cases[name];
        using var folder = new TempFolder();
        string path = folder.File("bad.safetensors");
        File.WriteAllBytes(path, file);
        var model = new IoTinyF();
        model.InitializeParameters(42);
        byte[] before = Bits(model.Parameters);

        var e = Assert.Throws<ModelFileException>(() => SafeTensors.Load(model, path));

        Assert.Contains(message, e.Message);
        Assert.StartsWith($"model file '{path}': ", e.Message);
        Assert.Equal(path, e.FilePath);
        Assert.Equal(tensor, e.TensorName);
        Assert.Equal(before, Bits(model.Parameters));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadFileIsRefusedFromASeekableStream(string name)
    {
        var (file, message, tensor) = s_cases[name];
        var model = new IoTinyF();
        model.InitializeParameters(42);
        byte[] before = Bits(model.Parameters);

        var e = Assert.Throws<ModelFileException>(() => SafeTensors.Load(model, new MemoryStream(file)));

        Assert.Contains(message, e.Message);
        Assert.StartsWith("safetensors stream: ", e.Message);
        Assert.Null(e.FilePath);
        Assert.Equal(tensor, e.TensorName);
        Assert.Equal(before, Bits(model.Parameters));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadFileIsRefusedFromAStreamOfUnknownLength(string name)
    {
        // Length-based messages differ here (the end of the stream is only found by reading); all are refused.
        var model = new IoTinyF();
        model.InitializeParameters(42);
        byte[] before = Bits(model.Parameters);

        Assert.Throws<ModelFileException>(() => SafeTensors.Load(model, new ForwardOnlyStream(s_cases[name].File)));

        Assert.Equal(before, Bits(model.Parameters));
    }

    // a damaged or hostile file's name of a million characters is cited by its start and its length, not in full
    [Fact]
    public void AMegabyteLongName_IsCitedShortened()
    {
        string name = new string('x', 1_000_000);
        byte[] file = Build(Header(Meta, WeightHh, BiasHh, WeightIh, BiasIh, Entry(name, "F32", "[1]", 56, 60)), Concat(TinyData, F32(1)));
        var model = new IoTinyF();
        model.InitializeParameters(42);
        byte[] before = Bits(model.Parameters);

        var e = Assert.Throws<ModelFileException>(() => SafeTensors.Load(model, new MemoryStream(file)));

        Assert.StartsWith($"safetensors stream: the file holds tensor '{name[..80]}… (1000000 characters)', which IoTinyF", e.Message);
        Assert.InRange(e.Message.Length, 0, 1000);
        Assert.Equal(name, e.TensorName);
        Assert.Equal(before, Bits(model.Parameters));
    }

    [Fact]
    public void ModulePrefixedNames_AreRefusedWithAHintToStripThePrefix()
    {
        string header = Header(
            Entry("lstm.bias_hh_l0", "F32", "[2]", 0, 8), Entry("lstm.weight_ih_l0", "F32", "[2,3]", 8, 32),
            Entry("lstm.bias_ih_l0", "F32", "[2]", 32, 40), Entry("lstm.weight_hh_l0", "F32", "[2,2]", 40, 56));
        var model = new IoTinyF();
        model.InitializeParameters(42);
        byte[] before = Bits(model.Parameters);
        var e = Assert.Throws<ModelFileException>(() => SafeTensors.Load(model, new MemoryStream(Build(header, TinyData))));
        Assert.Contains("module prefix 'lstm.'", e.Message);
        Assert.Contains("strip 'lstm.'", e.Message);
        Assert.Equal(before, Bits(model.Parameters));
    }

    [Fact]
    public void AHeadUnderAnotherName_IsRefusedWithAHintToRenameIt()
    {
        // PyTorch's nn.Linear saved as 'proj.weight' / 'proj.bias' (a module named proj, fc, linear…) instead of head.*
        var saved = new IoGruF2x4Head();
        saved.InitializeParameters(7);
        var stream = new MemoryStream();
        SafeTensors.Save(saved, stream);
        byte[] file = Encoding.Latin1.GetBytes(Encoding.Latin1.GetString(stream.ToArray()).Replace("\"head.", "\"proj."));
        var model = new IoGruF2x4Head();
        model.InitializeParameters(42);
        byte[] before = Bits(model.Parameters);

        var e = Assert.Throws<ModelFileException>(() => SafeTensors.Load(model, new MemoryStream(file)));

        Assert.Contains("the file has no tensors 'head.weight', 'head.bias'", e.Message);
        Assert.Contains("'proj.weight' [2, 4] has the shape of the head", e.Message);
        Assert.Contains("save it and 'proj.bias' as 'head.weight' and 'head.bias'", e.Message);
        Assert.Equal(before, Bits(model.Parameters));
    }

    [Fact]
    public void TruncatedHeaderInAStreamOfUnknownLength()
    {
        var e = Assert.Throws<ModelFileException>(() => SafeTensors.Load(new IoTinyF(), new ForwardOnlyStream(Build(TinyHeader, TinyData)[..20])));
        Assert.Contains($"the header length is {Encoding.UTF8.GetByteCount(TinyHeader)} bytes, but the file ends after 12 bytes of header: the file is truncated", e.Message);
    }

    [Fact]
    public void TruncatedDataInAStreamOfUnknownLength()
    {
        var model = new IoTinyF();
        model.InitializeParameters(42);
        byte[] before = Bits(model.Parameters);

        var e = Assert.Throws<ModelFileException>(() => SafeTensors.Load(model, new ForwardOnlyStream(Build(TinyHeader, TinyData[..50]))));

        Assert.Contains("the data ends inside tensor 'weight_hh_l0' (after 10 of its 16 bytes): the file is truncated", e.Message);
        Assert.Equal("weight_hh_l0", e.TensorName);
        Assert.Equal(before, Bits(model.Parameters)); // the first three tensors had arrived; none was applied
    }

    [Fact]
    public void BytesAfterTheLastTensorAreRefusedInAFileButLeftAloneInAStream()
    {
        byte[] file = Build(TinyHeader, Concat(TinyData, [1, 2, 3, 4]));
        using var folder = new TempFolder();
        string path = folder.File("trailing.safetensors");
        File.WriteAllBytes(path, file);

        var e = Assert.Throws<ModelFileException>(() => SafeTensors.Load(new IoTinyF(), path));
        Assert.Contains("the file has 4 bytes after the end of the last tensor (byte 56 of the data buffer)", e.Message);
        Assert.Throws<ModelFileException>(() => SafeTensors.ReadHeader(path));

        var stream = new MemoryStream(file);
        var model = new IoTinyF();
        SafeTensors.Load(model, stream);
        Assert.Equal(Bits(TinyParameters), Bits(model.Parameters));
        Assert.Equal(file.Length - 4, stream.Position); // stops at the end of the last tensor
    }

    [Fact]
    public void ExtraTensorsCanBeSkipped()
    {
        // The extra tensor sits between two of the model's, so it must be skipped in the data, not just in the header.
        byte[] file = Build(
            Header(Entry("bias_hh_l0", "F32", "[2]", 0, 8), Entry("embedding.weight", "F32", "[3]", 8, 20),
                   Entry("weight_ih_l0", "F32", "[2,3]", 20, 44), Entry("bias_ih_l0", "F32", "[2]", 44, 52), Entry("weight_hh_l0", "F32", "[2,2]", 52, 68)),
            Concat(TinyBiasHh, F32(7, 8, 9), TinyWeightIh, TinyBiasIh, TinyWeightHh));
        var options = new SafeTensorsLoadOptions { IgnoreExtraTensors = true };

        var seekable = SafeTensors.Load<IoTinyF, float>(new MemoryStream(file), options);
        var forwardOnly = SafeTensors.Load<IoTinyF, float>(new ForwardOnlyStream(file), options);
        var converted = SafeTensors.Load<IoTinyD, double>(new ForwardOnlyStream(file), options);

        Assert.Equal(Bits(TinyParameters), Bits(seekable.Parameters));
        Assert.Equal(Bits(TinyParameters), Bits(forwardOnly.Parameters));
        Assert.Equal(TinyParameters.Select(v => (double)v).ToArray(), converted.Parameters.ToArray());
        Assert.Throws<ModelFileException>(() => SafeTensors.Load<IoTinyF, float>(new MemoryStream(file)));
    }

    [Fact]
    public void AFileWithMoreLayers_IsRefused_EvenWhenExtraTensorsMayBeSkipped()
    {
        byte[] file = Build(Header(Meta, WeightHh, BiasHh, WeightIh, BiasIh, Entry("weight_ih_l1", "F32", "[2,2]", 56, 72), Entry("weight_hh_l1", "F32", "[2,2]", 72, 88)),
            Concat(TinyData, F32(1, 2, 3, 4), F32(5, 6, 7, 8)));
        var e = Assert.Throws<ModelFileException>(() => SafeTensors.Load<IoTinyF, float>(new MemoryStream(file), new SafeTensorsLoadOptions { IgnoreExtraTensors = true }));
        Assert.Contains("the file holds 'weight_ih_l1': it has 2 layers, and IoTinyF", e.Message);
        Assert.Contains("layers: 2", e.Message);
    }

    [Fact]
    public void ABidirectionalFile_IsRefused_EvenWhenExtraTensorsMayBeSkipped()
    {
        byte[] file = Build(Header(Meta, WeightHh, BiasHh, WeightIh, BiasIh, Entry("weight_ih_l0_reverse", "F32", "[2,3]", 56, 80)), Concat(TinyData, F32(1, 2, 3, 4, 5, 6)));
        var e = Assert.Throws<ModelFileException>(() => SafeTensors.Load<IoTinyF, float>(new MemoryStream(file), new SafeTensorsLoadOptions { IgnoreExtraTensors = true }));
        Assert.Contains("bidirectional", e.Message);
    }

    // under a module prefix it is the same module; an application's own tensor that merely ends in "_reverse" is an extra
    // tensor like any other, skipped when extra tensors may be
    [Theory]
    [InlineData("rnn.bias_hh_l0_reverse", true)]
    [InlineData("app.lookup_reverse", false)]
    [InlineData("weight_ih_lx_reverse", false)]
    [InlineData("weight_ih_l0_reverse\\n", true)] // JSON's \n: the pattern's $ matches before a final newline, as it always has
    public void OnlyAReverseLayerTensorIsTakenForABidirectionalModule(string name, bool refused)
    {
        byte[] file = Build(Header(Meta, WeightHh, BiasHh, WeightIh, BiasIh, Entry(name, "F32", "[2,3]", 56, 80)), Concat(TinyData, F32(1, 2, 3, 4, 5, 6)));
        var options = new SafeTensorsLoadOptions { IgnoreExtraTensors = true };
        if (refused)
            Assert.Contains("bidirectional", Assert.Throws<ModelFileException>(() => SafeTensors.Load<IoTinyF, float>(new MemoryStream(file), options)).Message);
        else
            Assert.Equal(Bits(SafeTensors.Load<IoTinyF, float>(new MemoryStream(Build(TinyHeader, TinyData))).Parameters),
                Bits(SafeTensors.Load<IoTinyF, float>(new MemoryStream(file), options).Parameters));
    }

    [Fact]
    public void PrecisionConversionCanBeTurnedOff()
    {
        var strict = new SafeTensorsLoadOptions { AllowPrecisionConversion = false };
        var model = new IoTinyD();
        model.InitializeParameters(1);
        byte[] before = Bits(model.Parameters);

        var e = Assert.Throws<ModelFileException>(() => SafeTensors.Load(model, new MemoryStream(Build(TinyHeader, TinyData)), strict));

        Assert.Contains("has dtype F32, but IoTinyD (RNN-tanh 3→2×1, double, 14 parameters) is a double (F64) model and AllowPrecisionConversion is false", e.Message);
        Assert.Equal(before, Bits(model.Parameters));
        var same = SafeTensors.Load<IoTinyF, float>(new MemoryStream(Build(TinyHeader, TinyData)), strict);
        Assert.Equal(Bits(TinyParameters), Bits(same.Parameters));
    }

    [Fact]
    public void MetadataCheckCatchesAParameterCompatibleButDifferentModel()
    {
        // A ReLU RNN and a tanh RNN of the same sizes have the same tensors: only the metadata tells them apart.
        var relu = new RnnReluD2x5();
        relu.InitializeParameters(3);
        var stream = new MemoryStream();
        SafeTensors.Save(relu, stream);
        byte[] file = stream.ToArray();
        var tanh = new IoRnnTanhD2x5Head();
        byte[] before = Bits(tanh.Parameters);

        var e = Assert.Throws<ModelFileException>(() => SafeTensors.Load(tanh, new MemoryStream(file)));
        Assert.Contains("saved from a model with activation 'relu' ('rnngen.activation'), but IoRnnTanhD2x5Head", e.Message);
        Assert.Contains("IgnoreModelMetadata", e.Message);
        Assert.Equal(before, Bits(tanh.Parameters));

        SafeTensors.Load(tanh, new MemoryStream(file), new SafeTensorsLoadOptions { IgnoreModelMetadata = true });
        Assert.Equal(Bits(relu.Parameters), Bits(tanh.Parameters));
    }

    // A deeper model's file: every tensor of this model is there with its shape, but its extra layer is refused even with
    // the metadata skipped (and extra tensors allowed), so the message must not suggest skipping the check.
    [Fact]
    public void ADeeperModelsFile_DoesNotSuggestSkippingTheMetadata()
    {
        var deep = new LstmD4Tokens();
        deep.InitializeParameters(4);
        var stream = new MemoryStream();
        SafeTensors.Save(deep, stream);
        byte[] file = stream.ToArray();
        var model = new LstmD3Tokens();
        model.InitializeParameters(5);
        byte[] before = Bits(model.Parameters);

        var e = Assert.Throws<ModelFileException>(() => SafeTensors.Load(model, new MemoryStream(file)));
        Assert.Contains("layer count '4' ('rnngen.layers'), but LstmD3Tokens", e.Message);
        Assert.Contains("its tensors do not fit this model either", e.Message);
        Assert.DoesNotContain("IgnoreModelMetadata", e.Message);
        var skipping = new SafeTensorsLoadOptions { IgnoreModelMetadata = true, IgnoreExtraTensors = true };
        e = Assert.Throws<ModelFileException>(() => SafeTensors.Load(model, new MemoryStream(file), skipping));
        Assert.Contains("it has 4 layers, and LstmD3Tokens", e.Message);
        Assert.Equal(before, Bits(model.Parameters));
    }

    [Fact]
    public void AModelOfOtherSizesIsRefusedByMetadataBeforeShapes()
    {
        var small = new LstmF3x5();
        var stream = new MemoryStream();
        SafeTensors.Save(small, stream);
        stream.Position = 0;

        var e = Assert.Throws<ModelFileException>(() => SafeTensors.Load(new LstmF2x6Head(), stream));
        Assert.Contains("input size '3' ('rnngen.input'), but LstmF2x6Head", e.Message);
        Assert.Contains("its tensors do not fit this model either", e.Message);
        Assert.DoesNotContain("IgnoreModelMetadata", e.Message); // skipping the check would not help

        stream.Position = 0;
        var e2 = Assert.Throws<ModelFileException>(() => SafeTensors.Load(new LstmF2x6Head(), stream, new SafeTensorsLoadOptions { IgnoreModelMetadata = true }));
        Assert.Contains("the file holds 'weight_ih_l2': it has 3 layers, and LstmF2x6Head", e2.Message); // its layers, before shapes and the missing head
    }

    [Fact]
    public void SaveRefusesReservedOrNullMetadataBeforeWriting()
    {
        var model = new IoTinyF();
        var stream = new MemoryStream();
        var e = Assert.Throws<ArgumentException>(() => SafeTensors.Save(model, stream, new Dictionary<string, string> { ["rnngen.cell"] = "gru" }));
        Assert.Contains("'rnngen.cell' is reserved", e.Message);
        Assert.Throws<ArgumentException>(() => SafeTensors.Save(model, stream, new Dictionary<string, string> { ["app.x"] = null! }));
        Assert.Equal(0, stream.Length);

        using var folder = new TempFolder();
        Assert.Throws<ArgumentException>(() => SafeTensors.Save(model, folder.File("m.safetensors"), new Dictionary<string, string> { ["rnngen.x"] = "1" }));
        Assert.Empty(folder.Entries());
    }

    [Fact]
    public void StreamsMustBeReadableOrWritable()
    {
        var model = new IoTinyF();
        var readOnly = new MemoryStream(new byte[16], writable: false);
        Assert.Throws<ArgumentException>(() => SafeTensors.Save(model, readOnly));
        var closed = new MemoryStream();
        closed.Dispose();
        Assert.Throws<ArgumentException>(() => SafeTensors.Load(model, closed));
        Assert.Throws<ArgumentException>(() => SafeTensors.ReadHeader(closed));
    }

    [Fact]
    public void MissingFileIsAFileNotFoundException()
    {
        using var folder = new TempFolder();
        Assert.Throws<FileNotFoundException>(() => SafeTensors.Load(new IoTinyF(), folder.File("absent.safetensors")));
        Assert.Throws<FileNotFoundException>(() => SafeTensors.ReadHeader(folder.File("absent.safetensors")));
    }
}
