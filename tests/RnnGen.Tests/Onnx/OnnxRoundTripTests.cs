using System.Numerics;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using RnnGen.Tests.Generated;
using RnnGen.Tests.Models;

namespace RnnGen.Tests.Onnx;

/// <summary>Export → import gives back exactly the parameters; alternative head forms and precisions import too.</summary>
public class OnnxRoundTripTests
{
    private static readonly Dictionary<string, Action> RoundTrips = new()
    {
        [nameof(LstmF3x5)] = RoundTrip<LstmF3x5, float>,
        [nameof(LstmF2x6Head)] = RoundTrip<LstmF2x6Head, float>,
        [nameof(LstmFTokens)] = RoundTrip<LstmFTokens, float>,
        [nameof(GruF3x5)] = RoundTrip<GruF3x5, float>,
        [nameof(GruFTokens)] = RoundTrip<GruFTokens, float>,
        [nameof(OnnxGru1x4Head)] = RoundTrip<OnnxGru1x4Head, float>,
        [nameof(RnnTanhF3x5)] = RoundTrip<RnnTanhF3x5, float>,
        [nameof(RnnReluF2x5)] = RoundTrip<RnnReluF2x5, float>,
        [nameof(OnnxRnnTokens)] = RoundTrip<OnnxRnnTokens, float>,
        [nameof(LstmD2x6Head)] = RoundTrip<LstmD2x6Head, double>,
        [nameof(GruDTokens)] = RoundTrip<GruDTokens, double>,
        [nameof(RnnReluD2x5)] = RoundTrip<RnnReluD2x5, double>,
    };

    public static TheoryData<string> ModelNames => new(RoundTrips.Keys);

    [Theory]
    [MemberData(nameof(ModelNames))]
    public void ExportThenImportGivesBitIdenticalParameters(string model) => RoundTrips[model]();

    private static void RoundTrip<TModel, T>()
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TModel source = Harness.NewModel<TModel, T>(seed: 11, scale: 3);
        byte[] onnx = OnnxFile.ExportToBytes(source);

        TModel copy = TModel.Create();
        copy.Parameters.Fill(T.NaN); // every parameter must be written by the import
        OnnxFile.Import(copy, new MemoryStream(onnx));

        Assert.True(Bits(source.Parameters).SequenceEqual(Bits(copy.Parameters)), "parameters differ after export → import");
        Assert.Equal(onnx, OnnxFile.ExportToBytes(copy)); // deterministic, and import is the exact inverse of export
    }

    [Fact]
    public void ExportAndImportThroughAFile()
    {
        LstmF2x6Head source = Harness.NewModel<LstmF2x6Head, float>(seed: 3);
        string path = Path.Combine(Path.GetTempPath(), $"rnngen-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            OnnxFile.Export(source, path);
            Assert.Equal(OnnxFile.ExportToBytes(source), File.ReadAllBytes(path));
            var copy = new LstmF2x6Head();
            OnnxFile.Import(copy, path);
            Assert.True(Bits(source.Parameters).SequenceEqual(Bits(copy.Parameters)));
            LstmF2x6Head created = OnnxFile.Import<LstmF2x6Head, float>(path);
            Assert.True(Bits(source.Parameters).SequenceEqual(Bits(created.Parameters)));
            created = OnnxFile.Import<LstmF2x6Head, float>(new MemoryStream(File.ReadAllBytes(path)));
            Assert.True(Bits(source.Parameters).SequenceEqual(Bits(created.Parameters)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void FloatWeightsImportIntoADoubleModelExactly()
    {
        LstmF2x6Head source = Harness.NewModel<LstmF2x6Head, float>(seed: 5);
        var target = new LstmD2x6Head();
        OnnxFile.Import(target, new MemoryStream(OnnxFile.ExportToBytes(source)));
        Assert.Equal(Harness.ToDouble<float>(source.Parameters), target.Parameters.ToArray());
    }

    [Fact]
    public void DoubleWeightsImportIntoAFloatModelRounded()
    {
        LstmD2x6Head source = Harness.NewModel<LstmD2x6Head, double>(seed: 5);
        source.Parameters[0] = 0.1; // not a float: must come out as the nearest float
        var target = new LstmF2x6Head();
        OnnxFile.Import(target, new MemoryStream(OnnxFile.ExportToBytes(source)));
        Assert.Equal(source.Parameters.ToArray().Select(v => (float)v), target.Parameters.ToArray());
        Assert.Equal(0.1f, target.Parameters[0]);
    }

    /// <summary>A head stored as MatMul by a [Hidden, Output] initializer (PyTorch's exporter writes Linear that way) imports the same.</summary>
    [Fact]
    public void ImportsAMatMulHeadWithAPreTransposedWeight()
    {
        LstmF2x6Head source = Harness.NewModel<LstmF2x6Head, float>(seed: 8);
        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxFile.ExportToBytes(source));
        GraphProto graph = proto.Graph;
        float[] v = source.Parameters.Slice(LstmF2x6Head.Info.Find("head.weight")!.Offset, 3 * 6).ToArray();
        var vt = new float[6 * 3]; // [Hidden, Output]
        for (int o = 0; o < 3; o++)
            for (int j = 0; j < 6; j++) vt[j * 3 + o] = v[o * 6 + j];

        graph.Node.Remove(graph.Node.Single(n => n.OpType == "Transpose"));
        graph.Initializer.Remove(graph.Initializer.Single(t => t.Name == "head.weight"));
        graph.Initializer.Add(FloatTensor("head.weight_t", vt, 6, 3)); // the MatMul already reads head.weight_t

        AssertImportsSameParameters(source, proto);
    }

    /// <summary>A head as one Gemm (transB = 1, C = bias) on a 2-D activation (the last step, [batch, H]) imports the same.</summary>
    [Fact]
    public void ImportsAGemmHead()
    {
        LstmF2x6Head source = Harness.NewModel<LstmF2x6Head, float>(seed: 9);
        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxFile.ExportToBytes(source));
        GraphProto graph = proto.Graph;
        foreach (string op in new[] { "Transpose", "MatMul", "Add" })
            graph.Node.Remove(graph.Node.Single(n => n.OpType == op));
        graph.Initializer.Add(OnnxTensors.CreateInt64("last", [], -1));
        var last = new NodeProto { OpType = "Gather", Name = "last_step" };
        last.Input.AddRange(["h_l1", "last"]);
        last.Output.Add("h_last");
        graph.Node.Add(last);
        var gemm = new NodeProto { OpType = "Gemm", Name = "head_gemm" };
        gemm.Input.AddRange(["h_last", "head.weight", "head.bias"]);
        gemm.Output.Add(OnnxFile.OutputName);
        gemm.Attribute.Add(new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        graph.Node.Add(gemm);

        AssertImportsSameParameters(source, proto);
    }

    /// <summary>ONNX's B input is optional (zero when absent): a layer without it imports with zero biases.</summary>
    [Fact]
    public void AMissingBiasInputImportsAsZeros()
    {
        GruF3x5 source = Harness.NewModel<GruF3x5, float>(seed: 4);
        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxFile.ExportToBytes(source));
        NodeProto layer1 = proto.Graph.Node.Single(n => n.Name == "gru_l1");
        layer1.Input[3] = "";

        var target = new GruF3x5();
        target.Parameters.Fill(float.NaN);
        OnnxFile.Import(target, new MemoryStream(proto.ToByteArray()));
        foreach (ParameterTensor tensor in GruF3x5.Info.Layout)
        {
            float[] actual = tensor.Slice<float>(target.Parameters).ToArray();
            if (tensor.Name is "bias_ih_l1" or "bias_hh_l1")
                Assert.All(actual, value => Assert.Equal(0f, value));
            else
                Assert.Equal(tensor.Slice<float>(source.Parameters).ToArray(), actual);
        }
    }

    /// <summary>A constant zero initial state (an exporter may fold the default state into the graph) imports as usual.</summary>
    [Fact]
    public void AConstantZeroInitialStateImports()
    {
        LstmF2x6Head source = Harness.NewModel<LstmF2x6Head, float>(seed: 8);
        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxFile.ExportToBytes(source));
        proto.Graph.Initializer.Add(OnnxTensors.Create<float>("zero_state", new float[6], 1, 1, 6));
        foreach (NodeProto layer in proto.Graph.Node.Where(n => n.OpType == "LSTM"))
        {
            layer.Input[5] = "zero_state";
            layer.Input[6] = "zero_state";
        }
        AssertImportsSameParameters(source, proto);
    }

    private static void AssertImportsSameParameters(LstmF2x6Head source, ModelProto proto)
    {
        var target = new LstmF2x6Head();
        target.Parameters.Fill(float.NaN);
        OnnxFile.Import(target, new MemoryStream(proto.ToByteArray()));
        Assert.Equal(source.Parameters.ToArray(), target.Parameters.ToArray());
    }

    internal static TensorProto FloatTensor(string name, float[] values, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        tensor.FloatData.AddRange(values);
        return tensor;
    }

    private static byte[] Bits<T>(Span<T> values) where T : unmanaged => MemoryMarshal.AsBytes(values).ToArray();

    // Export flushes what it wrote, as SafeTensors.Save does: a buffered stream holds the whole model afterwards
    [Fact]
    public void Export_FlushesTheStream()
    {
        var model = new OnnxGru1x4Head();
        model.InitializeParameters(1);
        var inner = new MemoryStream();
        using var buffered = new BufferedStream(inner, bufferSize: 1 << 20);
        OnnxFile.Export(model, buffered);
        Assert.Equal(OnnxFile.ExportToBytes(model), inner.ToArray());
    }

    // a stream that cannot be written or read is the caller's argument, refused before anything is written or changed, as
    // SafeTensors refuses it (not a NotSupportedException from inside protobuf, or a misleading "no graph")
    [Fact]
    public void Streams_ThatCannotBeWrittenOrRead_AreArgumentErrors()
    {
        var model = new OnnxGru1x4Head();
        model.InitializeParameters(1);
        float[] before = model.Parameters.ToArray();
        byte[] bytes = OnnxFile.ExportToBytes(model);

        Assert.Equal("destination",
            Assert.Throws<ArgumentException>(() => OnnxFile.Export(model, new MemoryStream(new byte[16], writable: false))).ParamName);
        Assert.Equal("source", Assert.Throws<ArgumentException>(() => OnnxFile.Import(model, new WriteOnlyStream(bytes))).ParamName);
        Assert.Equal("source", Assert.Throws<ArgumentException>(() => OnnxFile.Import<OnnxGru1x4Head, float>(new WriteOnlyStream(bytes))).ParamName);
        Assert.Equal(before, model.Parameters.ToArray());

        // SafeTensors' stream overloads answer the same
        Assert.Equal("stream", Assert.Throws<ArgumentException>(() => SafeTensors.Save(model, new MemoryStream(new byte[16], writable: false))).ParamName);
        Assert.Equal("stream", Assert.Throws<ArgumentException>(() => SafeTensors.Load(model, new WriteOnlyStream([]))).ParamName);
    }

    /// <summary>A stream that holds data but cannot be read (CanRead false), as a file opened for writing only.</summary>
    private sealed class WriteOnlyStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanRead => false;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Stream does not support reading.");

        public override int Read(Span<byte> buffer) => throw new NotSupportedException("Stream does not support reading.");
    }
}
