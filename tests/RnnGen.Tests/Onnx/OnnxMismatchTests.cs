using System.Numerics;
using Google.Protobuf;
using Onnx;
using RnnGen.Tests.Generated;
using RnnGen.Tests.Models;

namespace RnnGen.Tests.Onnx;

/// <summary>An ONNX graph that does not fit the model is refused with a message naming the difference; the model is untouched.</summary>
public class OnnxMismatchTests
{
    [Fact]
    public void OtherCellKind() =>
        AssertRefused<LstmF3x5, GruF3x5>("LSTM operator 'lstm_l0'", "the model's layers are GRU");

    [Fact]
    public void OtherLayerCount() =>
        AssertRefused<LstmF3x5, OnnxLstm2x5>("3 LSTM operator(s), one per layer", "the model has 2 layer(s)");

    [Fact]
    public void OtherHiddenSize() =>
        AssertRefused<LstmF3x5, OnnxLstm3x6>("layer 0 (LSTM node 'lstm_l0') has hidden_size 5", "the model's hidden size is 6");

    [Fact]
    public void OtherInputSize() =>
        Assert.Equal("W_l0", AssertRefused<LstmF3x5, OnnxLstm3x5In4>("layer 0 (LSTM node 'lstm_l0') W has shape [1, 20, 3]", "the model needs [1, 20, 4]").TensorName);

    [Fact]
    public void GraphWithoutHead() =>
        AssertRefused<LstmF3x5, OnnxLstm3x5Head>("no linear head", "the model has a head of 2 outputs");

    [Fact]
    public void GraphWithHeadForModelWithout() =>
        AssertRefused<OnnxLstm3x5Head, LstmF3x5>("has a linear head (MatMul node 'head_matmul')", "the model has none (Output = 0)");

    [Fact]
    public void OtherHeadSize() =>
        Assert.Equal("head.weight", AssertRefused<LstmF2x6Head, OnnxLstm2x6Head5>("weight of shape [3, 6]", "the model needs [5, 6]").TensorName);

    [Fact]
    public void OtherRnnActivation() =>
        AssertRefused<RnnReluF2x5, OnnxRnnTanh2x5Head>("uses activations [Relu]", "the model needs [Tanh]");

    [Fact]
    public void DenseGraphForTokenModel() =>
        AssertRefused<OnnxLstmDense11, LstmFTokens>("input 'input' is Float vectors", "the model reads token ids");

    [Fact]
    public void TokenGraphForDenseModel() =>
        AssertRefused<LstmFTokens, OnnxLstmDense11>("input 'input' is Int64 token ids", "the model reads dense vectors");

    [Fact]
    public void GruWithoutLinearBeforeReset() =>
        AssertRefused<GruF3x5, GruF3x5>(graph => Layer(graph, "gru_l1").Attribute.Single(a => a.Name == "linear_before_reset").I = 0,
            "layer 1 (GRU node 'gru_l1') has linear_before_reset = 0", "linear_before_reset must be 1");

    [Fact]
    public void ReverseDirection() =>
        AssertRefused<LstmF3x5, LstmF3x5>(graph => Layer(graph, "lstm_l2").Attribute.Add(
                new AttributeProto { Name = "direction", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("reverse") }),
            "layer 2 (LSTM node 'lstm_l2') runs 'reverse'", "forward only");

    [Fact]
    public void WeightComputedInTheGraph() =>
        AssertRefused<RnnTanhF3x5, RnnTanhF3x5>(graph =>
            {
                TensorProto r = graph.Initializer.Single(t => t.Name == "R_l1");
                r.Name = "R_l1_stored";
                var identity = new NodeProto { OpType = "Identity", Name = "copy_r" };
                identity.Input.Add("R_l1_stored");
                identity.Output.Add("R_l1");
                graph.Node.Insert(0, identity);
            },
            "layer 1 (RNN node 'rnn_l1'): its R input 'R_l1' is computed in the graph", "initializers or Constant nodes");

    [Fact]
    public void HeadBiasComputedInTheGraph() =>
        AssertRefused<LstmF2x6Head, LstmF2x6Head>(graph =>
            {
                NodeProto add = graph.Node.Single(n => n.OpType == "Add");
                var negate = new NodeProto { OpType = "Neg", Name = "negate_bias" };
                negate.Input.Add("head.bias");
                negate.Output.Add("head.bias_negated");
                graph.Node.Insert(0, negate);
                add.Input[1] = "head.bias_negated";
            },
            "the head (MatMul node 'head_matmul')'s Add: its bias input 'head.bias_negated' is computed in the graph");

    [Fact]
    public void WrongWeightElementType() =>
        AssertRefused<GruF3x5, GruF3x5>(graph =>
            {
                TensorProto w = graph.Initializer.Single(t => t.Name == "W_l0");
                w.DataType = (int)TensorProto.Types.DataType.Int32;
            },
            "cannot be read: layer 0 (GRU node 'gru_l0') W ('W_l0') has element type Int32", "FLOAT or DOUBLE");

    [Fact]
    public void TruncatedWeightData() =>
        AssertRefused<GruF3x5, GruF3x5>(graph =>
            {
                TensorProto b = graph.Initializer.Single(t => t.Name == "B_l2");
                b.RawData = ByteString.CopyFrom(b.RawData.Span[..^4]);
            },
            "cannot be read: layer 2 (GRU node 'gru_l2') B ('B_l2') has 116 bytes of raw data", "30 × 4 were expected");

    // A head whose product (or sum) is not what the graph returns — a renamed tensor, a rewired Add — is refused, not read
    // as a head without a bias.
    [Fact]
    public void HeadProductThatGoesNowhere() =>
        AssertRefused<LstmF2x6Head, LstmF2x6Head>(graph => graph.Node.Single(n => n.OpType == "MatMul").Output[0] = "iead_product",
            "the head (MatMul node 'head_matmul'): its result 'iead_product' is not an output of the graph");

    [Fact]
    public void HeadSumThatGoesNowhere() =>
        AssertRefused<LstmF2x6Head, LstmF2x6Head>(graph => graph.Node.Single(n => n.OpType == "Add").Output[0] = "somewhere_else",
            "its result 'somewhere_else' is not an output of the graph");

    [Fact]
    public void HeadWithoutOutputs() =>
        AssertRefused<LstmF2x6Head, LstmF2x6Head>(graph => graph.Node.Single(n => n.OpType == "MatMul").Output.Clear(),
            "the head (MatMul node 'head_matmul') has 0 outputs; it must have one");

    [Theory]
    [InlineData(new long[] { 3, 1 })]
    [InlineData(new long[] { -1, -3 })]
    [InlineData(new long[] { 2, -9223372036854775805 })]
    public void HeadBiasOfAnotherShape(long[] dims) =>
        AssertRefused<LstmF2x6Head, LstmF2x6Head>(graph =>
            {
                TensorProto bias = graph.Initializer.Single(t => t.Name == "head.bias");
                bias.Dims.Clear();
                bias.Dims.AddRange(dims);
            },
            "has a bias of shape", "the model needs [3] or [1, 3] (head.bias)");

    // A state input in the sequence_lens slot (a node whose inputs shifted) or a constant initial state is refused.
    [Fact]
    public void StateInTheSequenceLengthsSlot() =>
        AssertRefused<LstmF3x5, LstmF3x5>(graph =>
            {
                NodeProto layer = Layer(graph, "lstm_l0");
                layer.Input[3] = "";
                layer.Input[4] = layer.Input[5];
            },
            "layer 0 (LSTM node 'lstm_l0'): its sequence_lens input", "is not an integer input of the graph");

    [Fact]
    public void ConstantInitialState() =>
        AssertRefused<GruF3x5, GruF3x5>(graph =>
            {
                graph.Initializer.Add(OnnxTensors.Create<float>("fixed_h", [0, 0, 0.5f, 0, 0], 1, 1, 5));
                Layer(graph, "gru_l1").Input[5] = "fixed_h";
            },
            "layer 1 (GRU node 'gru_l1'): its initial_h input 'fixed_h' is a non-zero constant");

    // Peepholes are checked for shape before anything is allocated from the file's dimensions.
    [Theory]
    [InlineData(new long[] { 1, 400_000_000 })]
    [InlineData(new long[] { 1, 1L << 40 })]
    [InlineData(new long[] { -1, 15 })]
    [InlineData(new long[] { 5 })]
    public void PeepholesOfAnotherShape(long[] dims) =>
        AssertRefused<LstmF3x5, LstmF3x5>(graph =>
            {
                var p = new TensorProto { Name = "P_l0", DataType = (int)TensorProto.Types.DataType.Float };
                p.Dims.AddRange(dims);
                graph.Initializer.Add(p);
                NodeProto layer = Layer(graph, "lstm_l0");
                while (layer.Input.Count < 8) layer.Input.Add("");
                layer.Input[7] = "P_l0";
            },
            "layer 0 (LSTM node 'lstm_l0') P has shape", "the model needs [1, 15] (peephole weights");

    [Fact]
    public void AnAttributeSetTwice() =>
        AssertRefused<LstmF3x5, LstmF3x5>(graph =>
            {
                NodeProto layer = Layer(graph, "lstm_l1");
                foreach (string value in new[] { "forward", "reverse" })
                    layer.Attribute.Add(new AttributeProto { Name = "direction", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) });
            },
            "node 'lstm_l1' (LSTM) sets attribute 'direction' twice");

    // A double weight beyond float's range is refused when read into a float model (as safetensors refuses it), in raw
    // data and in double_data.
    [Theory, InlineData(true), InlineData(false)]
    public void DoubleBeyondFloatRange(bool raw)
    {
        LstmD2x6Head source = Harness.NewModel<LstmD2x6Head, double>(seed: 3);
        source.Parameters[0] = 1e300;
        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxFile.ExportToBytes(source));
        if (!raw)
        {
            TensorProto w = proto.Graph.Initializer.Single(t => t.Name == "W_l0");
            double[] values = new double[w.RawData.Length / 8];
            for (int i = 0; i < values.Length; i++) values[i] = BitConverter.ToDouble(w.RawData.Span.Slice(8 * i, 8));
            w.RawData = ByteString.Empty;
            w.DoubleData.AddRange(values);
        }
        var target = Harness.NewModel<LstmF2x6Head, float>(seed: 2);
        float[] before = target.Parameters.ToArray();
        var e = Assert.Throws<ModelFileException>(() => OnnxFile.Import(target, new MemoryStream(proto.ToByteArray())));
        Assert.Contains("(1E+300) is beyond the range of float", e.Message);
        Assert.Equal(before, target.Parameters.ToArray());
    }

    // Exporting to a path replaces the file only once the whole graph is written: a failure leaves the old file whole.
    [Fact]
    public void AFailedExportLeavesThePreviousFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"rnngen-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            var good = new RnnGen.Tests.IO.ProbeModel();
            good.InitializeParameters(1);
            OnnxFile.Export(good, path);
            byte[] before = File.ReadAllBytes(path);
            var failing = new RnnGen.Tests.IO.ProbeModel { FailOnParameterRead = 1 };
            Assert.Equal("simulated failure while saving", Assert.Throws<IOException>(() => OnnxFile.Export(failing, path)).Message);
            Assert.Equal(before, File.ReadAllBytes(path));
            Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!, "*" + Path.GetFileName(path) + "*"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF })]
    [InlineData(new byte[] { })]
    public void NotAnOnnxModel(byte[] bytes)
    {
        LstmF3x5 target = Harness.NewModel<LstmF3x5, float>(seed: 2);
        float[] before = target.Parameters.ToArray();
        var e = Assert.Throws<ModelFileException>(() => OnnxFile.Import(target, new MemoryStream(bytes)));
        Assert.True(e.Message.StartsWith("ONNX stream: the data is not an ONNX model") || e.Message == "ONNX stream: the ONNX model has no graph.", e.Message);
        Assert.Equal(before, target.Parameters.ToArray());
    }

    [Fact]
    public void AFileMismatchNamesTheFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"rnngen-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            OnnxFile.Export(Harness.NewModel<LstmF3x5, float>(seed: 1), path);
            var target = Harness.NewModel<GruF3x5, float>(seed: 2);
            float[] before = target.Parameters.ToArray();
            var e = Assert.Throws<ModelFileException>(() => OnnxFile.Import(target, path));
            Assert.Equal(path, e.FilePath);
            Assert.StartsWith($"ONNX file '{path}': the ONNX graph does not match {GruF3x5.Info}: ", e.Message);
            Assert.Equal(before, target.Parameters.ToArray());
            Assert.Throws<ModelFileException>(() => OnnxFile.Import<GruF3x5, float>(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void NullArgumentsAreRefused()
    {
        var model = new LstmF3x5();
        Assert.Throws<ArgumentNullException>(() => OnnxFile.Export(model, (Stream)null!));
        Assert.Throws<ArgumentNullException>(() => OnnxFile.Import(model, (Stream)null!));
        Assert.Throws<ArgumentException>(() => OnnxFile.Export(model, ""));
        Assert.Throws<ArgumentNullException>(() => OnnxFile.ExportToBytes<LstmF3x5, float>(null!));
    }

    private static NodeProto Layer(GraphProto graph, string name) => graph.Node.Single(n => n.Name == name);

    private static ModelFileException AssertRefused<TSource, TTarget>(params string[] fragments)
        where TSource : class, IRecurrentModel<TSource, float>
        where TTarget : class, IRecurrentModel<TTarget, float> =>
        AssertRefused<TSource, TTarget>(_ => { }, fragments);

    /// <summary>
    /// Exports <typeparamref name="TSource"/>, lets <paramref name="edit"/> change the graph, imports into a
    /// <typeparamref name="TTarget"/>: must throw an <see cref="ModelFileException"/> whose message contains every fragment
    /// (a mismatch also describes the target model), leaving the target's parameters as they were.
    /// </summary>
    private static ModelFileException AssertRefused<TSource, TTarget>(Action<GraphProto> edit, params string[] fragments)
        where TSource : class, IRecurrentModel<TSource, float>
        where TTarget : class, IRecurrentModel<TTarget, float>
    {
        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxFile.ExportToBytes(Harness.NewModel<TSource, float>(seed: 1)));
        edit(proto.Graph);
        TTarget target = Harness.NewModel<TTarget, float>(seed: 2);
        float[] before = target.Parameters.ToArray();

        var e = Assert.Throws<ModelFileException>(() => OnnxFile.Import(target, new MemoryStream(proto.ToByteArray())));
        if (!e.Message.StartsWith("ONNX stream: the weights cannot be read: ", StringComparison.Ordinal))
            Assert.StartsWith($"ONNX stream: the ONNX graph does not match {TTarget.Info}: ", e.Message);
        Assert.Null(e.FilePath);
        foreach (string fragment in fragments)
            Assert.True(e.Message.Contains(fragment, StringComparison.Ordinal), $"'{fragment}' is not in: {e.Message}");
        Assert.Equal(before, target.Parameters.ToArray());
        return e;
    }
}
