using Onnx;
using RnnGen.Tests.Generated;
using RnnGen.Tests.Models;

namespace RnnGen.Tests.Onnx;

/// <summary>The exported graph: operators, attributes, inputs, outputs, initializer names, shapes and gate order.</summary>
public class OnnxGraphTests
{
    private const int Float = (int)TensorProto.Types.DataType.Float;
    private const int Double = (int)TensorProto.Types.DataType.Double;
    private const int Int64 = (int)TensorProto.Types.DataType.Int64;

    [Fact]
    public void LstmWithHeadAndTwoLayers()
    {
        // LstmF2x6Head: hidden 6, 2 layers, input 4, head 3 → G·H = 24.
        GraphProto graph = Export(new LstmF2x6Head(), out ModelProto model);
        Assert.Equal(OnnxFile.OpsetVersion, model.OpsetImport.Single(o => o.Domain == "").Version);
        Assert.Equal(14, OnnxFile.OpsetVersion);
        Assert.Equal(["Split", "Split", "LSTM", "Squeeze", "LSTM", "Squeeze", "Transpose", "MatMul", "Add", "Concat", "Concat"],
            graph.Node.Select(n => n.OpType));

        Assert.Equal(["input: 1 [seq, batch, 4]", "h0: 1 [2, batch, 6]", "c0: 1 [2, batch, 6]"], graph.Input.Select(Describe));
        Assert.Equal(["output: 1 [seq, batch, 3]", "hn: 1 [2, batch, 6]", "cn: 1 [2, batch, 6]"], graph.Output.Select(Describe));
        Assert.Equal(
            ["num_directions_axis [1]", "W_l0 [1, 24, 4]", "R_l0 [1, 24, 6]", "B_l0 [1, 48]", "W_l1 [1, 24, 6]", "R_l1 [1, 24, 6]", "B_l1 [1, 48]",
             "head.weight [3, 6]", "head.bias [3]"],
            graph.Initializer.Select(t => $"{t.Name} [{string.Join(", ", t.Dims)}]"));
        Assert.All(graph.Initializer.Where(t => t.Name != "num_directions_axis"), t => Assert.Equal(Float, t.DataType));

        NodeProto lstm0 = graph.Node.Single(n => n.Name == "lstm_l0");
        Assert.Equal(["input", "W_l0", "R_l0", "B_l0", "", "h0_l0", "c0_l0"], lstm0.Input);
        Assert.Equal(["y_l0", "hn_l0", "cn_l0"], lstm0.Output);
        Assert.Equal(6, lstm0.Attribute.Single(a => a.Name == "hidden_size").I);
        Assert.Equal(["h_l1", "head.weight_t"], graph.Node.Single(n => n.OpType == "MatMul").Input);
        Assert.Equal(["hn_l0", "hn_l1"], graph.Node.Single(n => n.Name == "concat_hn").Input);
    }

    [Fact]
    public void GruHasLinearBeforeResetAndNoCellState()
    {
        GraphProto graph = Export(new GruF3x5(), out _); // hidden 5, 3 layers, input 3, no head
        Assert.Equal(["Split", "GRU", "Squeeze", "GRU", "Squeeze", "GRU", "Squeeze", "Concat"], graph.Node.Select(n => n.OpType));
        Assert.Equal(["input", "h0"], graph.Input.Select(i => i.Name));
        Assert.Equal(["output: 1 [seq, batch, 5]", "hn: 1 [3, batch, 5]"], graph.Output.Select(Describe));
        Assert.Equal("output", graph.Node.Single(n => n.Name == "squeeze_l2").Output.Single()); // no head: the top h is the output
        foreach (NodeProto gru in graph.Node.Where(n => n.OpType == "GRU"))
        {
            Assert.Equal(1, gru.Attribute.Single(a => a.Name == "linear_before_reset").I);
            Assert.Equal(2, gru.Output.Count);
        }
        Assert.Equal([1, 15, 3], graph.Initializer.Single(t => t.Name == "W_l0").Dims);
        Assert.Equal([1, 30], graph.Initializer.Single(t => t.Name == "B_l2").Dims);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RnnNamesItsActivation(bool relu)
    {
        GraphProto graph = relu ? Export(new RnnReluF2x5(), out _) : Export(new RnnTanhF3x5(), out _);
        foreach (NodeProto rnn in graph.Node.Where(n => n.OpType == "RNN"))
            Assert.Equal([relu ? "Relu" : "Tanh"], rnn.Attribute.Single(a => a.Name == "activations").Strings.Select(s => s.ToStringUtf8()));
    }

    [Fact]
    public void TokenModelTakesInt64IdsThroughOneHot()
    {
        GraphProto graph = Export(new LstmFTokens(), out _); // hidden 7, 2 layers, vocabulary 11, head 11
        Assert.Equal("input: 7 [seq, batch]", Describe(graph.Input[0]));
        NodeProto oneHot = graph.Node[0];
        Assert.Equal("OneHot", oneHot.OpType);
        Assert.Equal(["input", "onehot_depth", "onehot_values"], oneHot.Input);
        Assert.Equal(-1, oneHot.Attribute.Single(a => a.Name == "axis").I);
        TensorProto depth = graph.Initializer.Single(t => t.Name == "onehot_depth");
        Assert.Equal(Int64, depth.DataType);
        Assert.Equal([11L], depth.Int64Data);
        Assert.Equal([0f, 1f], Floats(graph.Initializer.Single(t => t.Name == "onehot_values")));
        Assert.Equal("onehot", graph.Node.Single(n => n.Name == "lstm_l0").Input[0]);
        Assert.Equal([1, 28, 11], graph.Initializer.Single(t => t.Name == "W_l0").Dims); // weight_ih_l0 as it is: [G·H, vocabulary]
    }

    [Fact]
    public void DoubleModelExportsDoubleTensors()
    {
        GraphProto graph = Export(new LstmD2x6Head(), out _);
        Assert.All(graph.Input.Concat(graph.Output), v => Assert.Equal(Double, v.Type.TensorType.ElemType));
        Assert.All(graph.Initializer.Where(t => t.Name != "num_directions_axis"), t => Assert.Equal(Double, t.DataType));
    }

    /// <summary>
    /// Each parameter is set to its own index, so every initializer value says where it came from. The expected ONNX gate
    /// order is written here from the operator specs: LSTM W[iofc] = PyTorch blocks (i, f, g, o) taken as 0, 3, 1, 2;
    /// GRU W[zrh] = PyTorch blocks (r, z, n) taken as 1, 0, 2; B = [Wb; Rb].
    /// </summary>
    [Theory]
    [InlineData("LSTM")]
    [InlineData("GRU")]
    public void GateBlocksAreInOnnxOrder(string kind)
    {
        (ModelInfo info, GraphProto graph, int[] onnxTakesTorchBlock) = kind == "LSTM"
            ? (LstmF2x6Head.Info, Export(Numbered(new LstmF2x6Head()), out _), new[] { 0, 3, 1, 2 })
            : (GruF3x5.Info, Export(Numbered(new GruF3x5()), out _), new[] { 1, 0, 2 });
        int hidden = info.HiddenSize;
        for (int k = 0; k < info.LayerCount; k++)
        {
            int width = k == 0 ? info.InputSize : hidden;
            float[] w = Floats(graph.Initializer.Single(t => t.Name == $"W_l{k}"));
            float[] r = Floats(graph.Initializer.Single(t => t.Name == $"R_l{k}"));
            float[] b = Floats(graph.Initializer.Single(t => t.Name == $"B_l{k}"));
            int wOffset = info.Find($"weight_ih_l{k}")!.Offset, rOffset = info.Find($"weight_hh_l{k}")!.Offset;
            int biOffset = info.Find($"bias_ih_l{k}")!.Offset, bhOffset = info.Find($"bias_hh_l{k}")!.Offset;
            for (int j = 0; j < onnxTakesTorchBlock.Length; j++)
                for (int row = 0; row < hidden; row++)
                {
                    int onnxRow = j * hidden + row, torchRow = onnxTakesTorchBlock[j] * hidden + row;
                    for (int col = 0; col < width; col++)
                        Assert.Equal(wOffset + torchRow * width + col, w[onnxRow * width + col]);
                    for (int col = 0; col < hidden; col++)
                        Assert.Equal(rOffset + torchRow * hidden + col, r[onnxRow * hidden + col]);
                    Assert.Equal(biOffset + torchRow, b[onnxRow]);
                    Assert.Equal(bhOffset + torchRow, b[onnxTakesTorchBlock.Length * hidden + onnxRow]);
                }
        }
        if (info.OutputSize > 0)
        {
            ParameterTensor head = info.Find("head.weight")!;
            Assert.Equal(Enumerable.Range(head.Offset, head.Length).Select(i => (float)i), Floats(graph.Initializer.Single(t => t.Name == "head.weight")));
        }
    }

    private static TModel Numbered<TModel>(TModel model) where TModel : class, IRecurrentModel<TModel, float>
    {
        for (int i = 0; i < model.Parameters.Length; i++) model.Parameters[i] = i;
        model.ParametersChanged();
        return model;
    }

    private static GraphProto Export<TModel>(IRecurrentModel<TModel, float> model, out ModelProto proto)
        where TModel : class, IRecurrentModel<TModel, float>
    {
        proto = ModelProto.Parser.ParseFrom(OnnxFile.ExportToBytes(model));
        return proto.Graph;
    }

    private static GraphProto Export<TModel>(IRecurrentModel<TModel, double> model, out ModelProto proto)
        where TModel : class, IRecurrentModel<TModel, double>
    {
        proto = ModelProto.Parser.ParseFrom(OnnxFile.ExportToBytes(model));
        return proto.Graph;
    }

    /// <summary>"name: elemType [dims]" with symbolic dimensions by name.</summary>
    private static string Describe(ValueInfoProto value) =>
        $"{value.Name}: {value.Type.TensorType.ElemType} [" +
        string.Join(", ", value.Type.TensorType.Shape.Dim.Select(d => d.DimParam.Length > 0 ? d.DimParam : d.DimValue.ToString())) + "]";

    private static float[] Floats(TensorProto tensor)
    {
        Assert.Equal(Float, tensor.DataType);
        byte[] raw = tensor.RawData.ToByteArray();
        var values = new float[raw.Length / 4];
        for (int i = 0; i < values.Length; i++) values[i] = BitConverter.ToSingle(raw, i * 4);
        return values;
    }
}
