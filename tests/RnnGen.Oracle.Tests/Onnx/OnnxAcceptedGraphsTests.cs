using Google.Protobuf;
using Onnx;
using Xunit.Abstractions;

namespace RnnGen.Oracle.Tests.Onnx;

/// <summary>
/// What OnnxFile.Import accepts it must be right to accept: graphs that differ from RnnGen's export only by moves the
/// importer follows (a size-1 axis moved, a Reshape that keeps [seq, batch, H], a round trip through double, a state picked
/// by Gather + Unsqueeze, an older opset's attribute forms) import the exporter's parameters, and ONNX Runtime running them
/// computes what RnnGen computes. The same kind of edits that change what the graph computes are refused (in-memory tests:
/// RnnGen.Tests OnnxComputesTheSameTests).
/// </summary>
public class OnnxAcceptedGraphsTests(ITestOutputHelper output)
{
    private const int Hidden = 13; // Lstm_H13_L2_In5_Out3

    public static TheoryData<string> Edits => new()
    {
        "size-1 axis moved by Transpose", "Reshape [0, -1, H] for Squeeze", "Cast to double and back", "state picked by Gather + Unsqueeze",
        "opset 11 attribute forms", "head on seq × batch rows (out.view(-1, H))",
    };

    [Theory]
    [MemberData(nameof(Edits))]
    public void AcceptedGraphsComputeWhatRnnGenComputes(string edit)
    {
        OnnxOracleModel model = OnnxOracleModels.Named(nameof(Lstm_H13_L2_In5_Out3));
        OnnxOracleResult result = model.Run(seed: 31, steps: 6, batch: 3, proto => Edit(proto, edit));
        output.WriteLine(string.Join("\n", result.Deviations));
        Assert.All(result.Deviations, d => Assert.True(d.Passed, d.ToString()));

        var source = Make<Lstm_H13_L2_In5_Out3>();
        source.InitializeParameters(31);
        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxFile.ExportToBytes(source));
        Edit(proto, edit);
        var imported = Make<Lstm_H13_L2_In5_Out3>();
        imported.Parameters.Fill(float.NaN);
        OnnxFile.Import(imported, new MemoryStream(proto.ToByteArray()));
        Assert.Equal(source.Parameters.ToArray(), imported.Parameters.ToArray());
    }

    private static void Edit(ModelProto proto, string edit)
    {
        GraphProto graph = proto.Graph;
        NodeProto Node(string name) => graph.Node.Single(n => n.Name == name);
        switch (edit)
        {
            case "size-1 axis moved by Transpose": // Y [seq, 1, batch, H] → [seq, batch, 1, H], squeezed on axis 2
                Before(graph, "squeeze_l0", MakeNode("Transpose", "move_dir", ["y_l0"], ["y_moved"], Ints("perm", 0, 2, 1, 3)));
                graph.Initializer.Add(Int64s("axis_2", [1], 2));
                Node("squeeze_l0").Input[0] = "y_moved";
                Node("squeeze_l0").Input[1] = "axis_2";
                break;
            case "Reshape [0, -1, H] for Squeeze":
                graph.Initializer.Add(Int64s("keep_shape", [3], 0, -1, Hidden));
                NodeProto squeeze = Node("squeeze_l1");
                squeeze.OpType = "Reshape";
                squeeze.Input[1] = "keep_shape";
                break;
            case "Cast to double and back":
                Before(graph, "lstm_l1",
                    MakeNode("Cast", "wide", ["h_l0"], ["h_wide"], Int("to", (long)TensorProto.Types.DataType.Double)),
                    MakeNode("Cast", "back", ["h_wide"], ["h_back"], Int("to", (long)TensorProto.Types.DataType.Float)));
                Node("lstm_l1").Input[0] = "h_back";
                break;
            case "state picked by Gather + Unsqueeze":
                graph.Initializer.Add(Int64s("one", [], 1));
                graph.Initializer.Add(Int64s("axis0", [1], 0));
                Before(graph, "lstm_l1",
                    MakeNode("Gather", "pick_c1", ["c0", "one"], ["c1_picked"], Int("axis", 0)),
                    MakeNode("Unsqueeze", "unsqueeze_c1", ["c1_picked", "axis0"], ["c1_state"]));
                Node("lstm_l1").Input[6] = "c1_state";
                break;
            case "head on seq × batch rows (out.view(-1, H))": // the head maps [seq·batch, H] rows: ORT's output is [seq·batch, Out]
                graph.Initializer.Add(Int64s("rows_shape", [2], -1, Hidden));
                Before(graph, "head_matmul", MakeNode("Reshape", "rows", ["h_l1", "rows_shape"], ["h_rows"]));
                Node("head_matmul").Input[0] = "h_rows";
                break;
            case "opset 11 attribute forms":
                proto.OpsetImport.Single().Version = 11;
                foreach (NodeProto s in graph.Node.Where(n => n.OpType == "Squeeze"))
                {
                    s.Input.RemoveAt(1);
                    s.Attribute.Add(Ints("axes", 1));
                }
                foreach (NodeProto split in graph.Node.Where(n => n.OpType == "Split"))
                    split.Attribute.Add(Ints("split", 1, 1));
                break;
            default:
                throw new ArgumentException(edit, nameof(edit));
        }
    }

    private static TModel Make<TModel>() where TModel : class, IRecurrentModel<TModel, float> => TModel.Create();

    private static TensorProto Int64s(string name, long[] dims, params long[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.AddRange(dims);
        tensor.Int64Data.AddRange(values);
        return tensor;
    }

    private static void Before(GraphProto graph, string consumer, params NodeProto[] nodes)
    {
        int at = graph.Node.IndexOf(graph.Node.Single(n => n.Name == consumer));
        foreach (NodeProto node in nodes) graph.Node.Insert(at++, node);
    }

    private static NodeProto MakeNode(string op, string name, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        return node;
    }

    private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }
}
