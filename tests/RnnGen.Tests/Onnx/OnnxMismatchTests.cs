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
                var copy = new NodeProto { OpType = "Identity", Name = "copy_bias" };
                copy.Input.Add("head.bias");
                copy.Output.Add("head.bias_copied");
                graph.Node.Insert(0, copy);
                add.Input[1] = "head.bias_copied";
            },
            "the head (MatMul node 'head_matmul')'s Add: its bias input 'head.bias_copied' is computed in the graph");

    // An operation the model does not compute, anywhere in the graph, is refused by name: imported without it, the model
    // would compute something else without a word (PyTorch: an nn.LSTM, a torch.relu, an nn.Linear).
    [Theory]
    [InlineData("Relu", "h_l0")]        // between two layers
    [InlineData("Tanh", "h_l1")]        // between the top layer and the head
    [InlineData("Neg", "head.bias")]    // on a weight
    [InlineData("Sigmoid", "input")]    // on the input
    public void AnOperationTheModelDoesNotCompute(string op, string tensor) =>
        AssertRefused<LstmF2x6Head, LstmF2x6Head>(graph => Insert(graph, op, tensor),
            $"the graph has a {op} node 'extra_{op}', which {LstmF2x6Head.Info} does not compute");

    [Fact]
    public void AnOperatorOfAnotherDomain() =>
        AssertRefused<LstmF3x5, LstmF3x5>(graph =>
            {
                Insert(graph, "Identity", "h_l0");
                graph.Node.Single(n => n.Name == "extra_Identity").Domain = "com.example";
            },
            "node 'extra_Identity' is a Identity of the domain 'com.example'");

    // An Add that is not the head's bias: before the first layer, or in a model without a head.
    [Fact]
    public void AnAddBesidesTheHeadsBias() =>
        AssertRefused<LstmF2x6Head, LstmF2x6Head>(graph =>
            {
                graph.Initializer.Add(OnnxTensors.Create<float>("shift", [1f, 1f, 1f, 1f], 4));
                Insert(graph, "Add", "input", "shift");
            },
            "layer 0 (LSTM node 'lstm_l0'): its input X 'input_extra' is computed by the Add node 'extra_Add', not an input of the graph");

    [Fact]
    public void AnAddInAModelWithoutAHead() =>
        AssertRefused<LstmF3x5, LstmF3x5>(graph =>
            {
                graph.Initializer.Add(OnnxTensors.Create<float>("shift", [1f], 1));
                var add = new NodeProto { OpType = "Add", Name = "stray_add" };
                add.Input.Add("output");
                add.Input.Add("shift");
                add.Output.Add("shifted");
                graph.Node.Add(add);
            },
            "the graph has an Add node 'stray_add' that does not add the head's bias");

    // The layers must be a stack in the graph's order, and the head must read the top one.
    [Fact]
    public void ALayerThatSkipsTheOneBelow() =>
        AssertRefused<LstmF3x5, LstmF3x5>(graph => Layer(graph, "lstm_l2").Input[0] = "h_l0",
            "layer 2 (LSTM node 'lstm_l2'): its input X 'h_l0' is computed by the LSTM node 'lstm_l0', not the output Y of layer 1 (LSTM node 'lstm_l1')");

    [Fact]
    public void TheFirstLayerReadingAnotherLayer() =>
        AssertRefused<LstmF3x5, LstmF3x5>(graph => Layer(graph, "lstm_l0").Input[0] = "h_l2_copy",
            "layer 0 (LSTM node 'lstm_l0'): its input X 'h_l2_copy' is", "not an input of the graph");

    [Fact]
    public void AHeadThatReadsALowerLayer() =>
        AssertRefused<LstmF2x6Head, LstmF2x6Head>(graph => graph.Node.Single(n => n.OpType == "MatMul").Input[0] = "h_l0",
            "the head (MatMul node 'head_matmul') multiplies 'h_l0', which is computed by the LSTM node 'lstm_l0', not the output of the top layer (LSTM node 'lstm_l1')");

    // A head on the last step or the last layer's final state, as PyTorch exports fc(h_n[-1]) or fc(out[-1]) (a Gather, or a
    // Slice and a Squeeze, of the states the graph stacks): the same weights, imported; a pick of another layer's state is
    // refused (RnnGen's head reads the top layer).
    [Theory]
    [InlineData("gather", -1, true)]
    [InlineData("gather", 1, true)]
    [InlineData("gather", 0, false)]
    [InlineData("slice", -1, true)]
    [InlineData("slice", 0, false)]
    public void AHeadOnAPickOfTheStackedFinalStates(string pick, long index, bool accepted)
    {
        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxFile.ExportToBytes(Harness.NewModel<LstmF2x6Head, float>(seed: 1)));
        GraphProto graph = proto.Graph;
        NodeProto product = graph.Node.Single(n => n.OpType == "MatMul");
        graph.Initializer.Add(OnnxTensors.CreateInt64("pick_index", pick == "gather" ? [] : [1], index));
        var node = new NodeProto { OpType = pick == "gather" ? "Gather" : "Slice", Name = "pick_last" };
        node.Input.Add(OnnxFile.FinalHiddenName);
        node.Input.Add("pick_index");
        if (pick == "slice")
        {
            graph.Initializer.Add(OnnxTensors.CreateInt64("pick_end", [1], index == -1 ? long.MaxValue : index + 1));
            graph.Initializer.Add(OnnxTensors.CreateInt64("pick_axes", [1], 0));
            node.Input.Add("pick_end");
            node.Input.Add("pick_axes");
        }
        node.Output.Add(pick == "gather" ? "picked" : "picked_slice");
        graph.Node.Add(node);
        if (pick == "slice")
        {
            graph.Initializer.Add(OnnxTensors.CreateInt64("squeeze_axis", [1], 0));
            var squeeze = new NodeProto { OpType = "Squeeze", Name = "squeeze_pick" };
            squeeze.Input.Add("picked_slice");
            squeeze.Input.Add("squeeze_axis");
            squeeze.Output.Add("picked");
            graph.Node.Add(squeeze);
        }
        product.Input[0] = "picked";
        var target = Harness.NewModel<LstmF2x6Head, float>(seed: 2);
        if (accepted)
        {
            OnnxFile.Import(target, new MemoryStream(proto.ToByteArray()));
            Assert.Equal(Harness.NewModel<LstmF2x6Head, float>(seed: 1).Parameters.ToArray(), target.Parameters.ToArray());
        }
        else
        {
            float[] before = target.Parameters.ToArray();
            var e = Assert.Throws<ModelFileException>(() => OnnxFile.Import(target, new MemoryStream(proto.ToByteArray())));
            Assert.Contains("of other than the last of the states the Concat node", e.Message);
            Assert.Equal(before, target.Parameters.ToArray());
        }
    }

    // PyTorch's F.one_hot(ids, V).float() exports integer values [0, 1]: read as numbers of any type
    [Fact]
    public void AOneHotWithIntegerValues_Imports()
    {
        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxFile.ExportToBytes(Harness.NewModel<LstmFTokens, float>(seed: 1)));
        proto.Graph.Initializer.Remove(proto.Graph.Initializer.Single(t => t.Name == "onehot_values"));
        proto.Graph.Initializer.Add(OnnxTensors.CreateInt64("onehot_values", [2], 0, 1));
        var target = Harness.NewModel<LstmFTokens, float>(seed: 2);
        OnnxFile.Import(target, new MemoryStream(proto.ToByteArray()));
        Assert.Equal(Harness.NewModel<LstmFTokens, float>(seed: 1).Parameters.ToArray(), target.Parameters.ToArray());
    }

    // A token model's first layer reads OneHot(ids, depth = vocabulary, values [0, 1]); an embedding (a Gather of a weight)
    // in its place is a model RnnGen's is not.
    [Fact]
    public void AnEmbeddingInPlaceOfTheOneHot() =>
        AssertRefused<LstmFTokens, LstmFTokens>(graph =>
            {
                NodeProto oneHot = graph.Node.Single(n => n.OpType == "OneHot");
                int vocabulary = LstmFTokens.InputSize;
                var table = new float[vocabulary * vocabulary];
                for (int i = 0; i < vocabulary; i++) table[i * vocabulary + i] = 1;
                graph.Initializer.Add(OnnxTensors.Create<float>("embedding", table, vocabulary, vocabulary));
                var gather = new NodeProto { OpType = "Gather", Name = "embed" };
                gather.Input.Add("embedding");
                gather.Input.Add(oneHot.Input[0]);
                gather.Output.Add(oneHot.Output[0]);
                graph.Node[graph.Node.IndexOf(oneHot)] = gather;
            },
            "its input X 'onehot' is computed by the Gather node 'embed'", "a token model's first layer reads OneHot(ids, depth");

    [Theory]
    [InlineData("depth")]
    [InlineData("values")]
    [InlineData("axis")]
    public void AOneHotOfAnotherKind(string what) =>
        AssertRefused<LstmFTokens, LstmFTokens>(graph =>
            {
                NodeProto oneHot = graph.Node.Single(n => n.OpType == "OneHot");
                if (what == "depth")
                {
                    graph.Initializer.Remove(graph.Initializer.Single(t => t.Name == "onehot_depth"));
                    graph.Initializer.Add(OnnxTensors.CreateInt64("onehot_depth", [1], LstmFTokens.InputSize + 1));
                }
                else if (what == "values")
                {
                    graph.Initializer.Remove(graph.Initializer.Single(t => t.Name == "onehot_values"));
                    graph.Initializer.Add(OnnxTensors.Create<float>("onehot_values", [-1f, 1f], 2));
                }
                else
                    oneHot.Attribute.Single(a => a.Name == "axis").I = 0;
            },
            what switch
            {
                "depth" => $"the OneHot node 'onehot' has depth {LstmFTokens.InputSize + 1}; the model's vocabulary is {LstmFTokens.InputSize}",
                "values" => "the OneHot node 'onehot' has values [-1, 1]",
                _ => "the OneHot node 'onehot' has axis 0",
            });

    [Fact]
    public void ATensorComputedTwice() =>
        AssertRefused<LstmF3x5, LstmF3x5>(graph =>
            {
                var copy = new NodeProto { OpType = "Identity", Name = "second_h_l0" };
                copy.Input.Add("h_l1");
                copy.Output.Add("h_l0");
                graph.Node.Add(copy);
            },
            "the tensor 'h_l0' is the output of two nodes");

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
            "the graph's output 'output' is computed by the Add node 'head_add', not the head's result 'iead_product' (MatMul node 'head_matmul')");

    [Fact]
    public void HeadSumThatGoesNowhere() =>
        AssertRefused<LstmF2x6Head, LstmF2x6Head>(graph => graph.Node.Single(n => n.OpType == "Add").Output[0] = "somewhere_else",
            "the graph's output 'output' is 'output', which no node computes, not the head's result 'somewhere_else' (Add node 'head_add')");

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
            "layer 0 (LSTM node 'lstm_l0'): its sequence_lens input 'h0_l0' is set", "leave sequence_lens empty");

    [Fact]
    public void ConstantInitialState() =>
        AssertRefused<GruF3x5, GruF3x5>(graph =>
            {
                graph.Initializer.Add(OnnxTensors.Create<float>("fixed_h", [0, 0, 0.5f, 0, 0], 1, 1, 5));
                Layer(graph, "gru_l1").Input[5] = "fixed_h";
            },
            "layer 1 (GRU node 'gru_l1'): its initial_h input 'fixed_h' is a non-zero constant");

    // A learned initial state (PyTorch: an nn.Parameter expanded over the batch) is made in the graph from a constant: refused
    // wherever the constant is; a zero state built in the graph (ConstantOfShape of 0) is the one RnnGen starts from.
    [Fact]
    public void ALearnedInitialStateExpandedInTheGraph() =>
        AssertRefused<GruF3x5, GruF3x5>(graph =>
            {
                graph.Initializer.Add(OnnxTensors.Create<float>("learned_h", [0, 0, 0.5f, 0, 0], 1, 1, 5));
                graph.Initializer.Add(OnnxTensors.CreateInt64("state_shape", [3], 1, 1, 5));
                var expand = new NodeProto { OpType = "Expand", Name = "expand_h" };
                expand.Input.Add("learned_h");
                expand.Input.Add("state_shape");
                expand.Output.Add("expanded_h");
                graph.Node.Insert(0, expand);
                Layer(graph, "gru_l1").Input[5] = "expanded_h";
            },
            "layer 1 (GRU node 'gru_l1'): its initial_h input 'expanded_h' is made from 'learned_h', a non-zero constant");

    [Theory, InlineData(0f), InlineData(0.25f)]
    public void AnInitialStateOfConstantOfShape(float value)
    {
        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxFile.ExportToBytes(Harness.NewModel<LstmF3x5, float>(seed: 1)));
        GraphProto graph = proto.Graph;
        graph.Initializer.Add(OnnxTensors.CreateInt64("state_shape", [3], 1, 1, 5));
        var fill = new NodeProto { OpType = "ConstantOfShape", Name = "zero_state" };
        fill.Input.Add("state_shape");
        fill.Output.Add("filled");
        fill.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = OnnxTensors.Create<float>("v", [value], 1) });
        graph.Node.Insert(0, fill);
        // zeros for every layer (an exporter's default state; one layer's zeros beside the others' slices of h0 is refused:
        // RnnGen feeds every layer from the caller's state), a non-zero fill for layer 1 alone
        foreach (string layer in value == 0 ? new[] { "lstm_l0", "lstm_l1", "lstm_l2" } : ["lstm_l1"])
            foreach (int slot in new[] { 5, 6 })
                Layer(graph, layer).Input[slot] = "filled";
        var target = Harness.NewModel<LstmF3x5, float>(seed: 2);
        if (value == 0)
        {
            OnnxFile.Import(target, new MemoryStream(proto.ToByteArray()));
            Assert.Equal(Harness.NewModel<LstmF3x5, float>(seed: 1).Parameters.ToArray(), target.Parameters.ToArray());
        }
        else
        {
            float[] before = target.Parameters.ToArray();
            var e = Assert.Throws<ModelFileException>(() => OnnxFile.Import(target, new MemoryStream(proto.ToByteArray())));
            Assert.Contains("layer 1 (LSTM node 'lstm_l1'): its initial_h input 'filled' is a non-zero constant (ConstantOfShape node 'zero_state')", e.Message);
            Assert.Equal(before, target.Parameters.ToArray());
        }
    }

    [Fact]
    public void AnInitialStateComputedFromTheInput() =>
        AssertRefused<GruF3x5, GruF3x5>(graph =>
            {
                var relu = new NodeProto { OpType = "Slice", Name = "slice_x" };
                relu.Input.Add("h_l0");
                relu.Output.Add("from_x");
                graph.Node.Add(relu);
                var mean = new NodeProto { OpType = "ReduceMean", Name = "mean_x" };
                mean.Input.Add("from_x");
                mean.Output.Add("state_from_x");
                graph.Node.Add(mean);
                Layer(graph, "gru_l1").Input[5] = "state_from_x";
            },
            "the graph has a ReduceMean node 'mean_x'");

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

    // A node `extra_{op}` on the tensor: every reader of the tensor reads its result instead (`{tensor}_extra`).
    private static void Insert(GraphProto graph, string op, string tensor, string? secondInput = null)
    {
        string result = tensor + "_extra";
        foreach (NodeProto reader in graph.Node)
            for (int i = 0; i < reader.Input.Count; i++)
                if (reader.Input[i] == tensor) reader.Input[i] = result;
        var node = new NodeProto { OpType = op, Name = "extra_" + op };
        node.Input.Add(tensor);
        if (secondInput is not null) node.Input.Add(secondInput);
        node.Output.Add(result);
        graph.Node.Add(node);
    }

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
