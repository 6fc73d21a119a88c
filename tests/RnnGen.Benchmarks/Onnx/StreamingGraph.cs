using Onnx;

namespace RnnGen.Benchmarks.Onnx;

/// <summary>
/// The leanest ONNX graph of a model for one step per run, made from RnnGen's export (its operators, initializers and
/// attributes, unchanged): every layer's state is an input and an output of its own, [1, batch, H] (no Split of a stacked
/// h0 and no Concat into hn, which copy the state in every run), and layer k + 1 reads layer k's Y_h, which at one step is
/// the [seq = 1, batch, H] input it needs (no Squeeze of Y); the top layer's Y_h feeds the head, or, without a head, is
/// the output itself (the engine reads the top layer's state output).
/// What a user streaming through ONNX Runtime would export, so that ORT is measured at its best.
/// </summary>
internal static class StreamingGraph
{
    public static string HiddenIn(int layer) => $"h0_l{layer}";
    public static string HiddenOut(int layer) => $"hn_l{layer}";
    public static string CellIn(int layer) => $"c0_l{layer}";
    public static string CellOut(int layer) => $"cn_l{layer}";

    public static byte[] Build(byte[] exported, ModelInfo info, int batch = 1)
    {
        ModelProto model = ModelProto.Parser.ParseFrom(exported);
        GraphProto source = model.Graph;
        var graph = new GraphProto { Name = source.Name + "_streaming" };
        graph.Initializer.AddRange(source.Initializer);
        int elementType = (int)TensorProto.Types.DataType.Float;
        graph.Input.Add(source.Input.Single(i => i.Name == OnnxFile.InputName));

        string x = OnnxFile.InputName;
        if (source.Node.SingleOrDefault(n => n.OpType == "OneHot") is { } oneHot)
        {
            graph.Node.Add(oneHot);
            x = oneHot.Output[0];
        }
        NodeProto[] layers = [.. source.Node.Where(n => n.OpType is "LSTM" or "GRU" or "RNN")];
        for (int k = 0; k < layers.Length; k++)
        {
            var layer = new NodeProto { OpType = layers[k].OpType, Name = layers[k].Name };
            layer.Attribute.AddRange(layers[k].Attribute);
            layer.Input.AddRange([x, layers[k].Input[1], layers[k].Input[2], layers[k].Input[3], "", HiddenIn(k)]);
            layer.Output.AddRange(["", HiddenOut(k)]); // no Y: at one step it is Y_h
            graph.Input.Add(State(HiddenIn(k), elementType, batch, info.HiddenSize));
            graph.Output.Add(State(HiddenOut(k), elementType, batch, info.HiddenSize));
            if (info.HasCellState)
            {
                layer.Input.Add(CellIn(k));
                layer.Output.Add(CellOut(k));
                graph.Input.Add(State(CellIn(k), elementType, batch, info.HiddenSize));
                graph.Output.Add(State(CellOut(k), elementType, batch, info.HiddenSize));
            }
            graph.Node.Add(layer);
            x = HiddenOut(k);
        }
        if (info.OutputSize > 0)
        {
            graph.Node.Add(source.Node.Single(n => n.OpType == "Transpose"));
            NodeProto product = source.Node.Single(n => n.OpType == "MatMul");
            var head = new NodeProto { OpType = "MatMul", Name = product.Name };
            head.Input.AddRange([x, product.Input[1]]);
            head.Output.Add(product.Output[0]);
            graph.Node.Add(head);
            graph.Node.Add(source.Node.Single(n => n.OpType == "Add"));
        }
        // without a head the output is the top layer's h, which is already an output (its state): nothing more to run
        if (info.OutputSize > 0)
            graph.Output.Add(State(OnnxFile.OutputName, elementType, batch, info.OutputWidth));
        model.Graph = graph;
        using var stream = new MemoryStream();
        using (var output = new Google.Protobuf.CodedOutputStream(stream, leaveOpen: true))
            model.WriteTo(output);
        return stream.ToArray();
    }

    // [1, batch, width]: one step (num_directions or seq, batch, features)
    private static ValueInfoProto State(string name, int elementType, int batch, int width)
    {
        var shape = new TensorShapeProto();
        foreach (long d in new long[] { 1, batch, width })
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elementType, Shape = shape } },
        };
    }
}
