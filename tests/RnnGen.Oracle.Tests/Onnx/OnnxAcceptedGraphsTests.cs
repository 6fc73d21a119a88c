using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using RnnGen.Tests.Shared;
using static RnnGen.Tests.Shared.OnnxGraphEdits;
using Xunit.Abstractions;

namespace RnnGen.Oracle.Tests.Onnx;

/// <summary>
/// What OnnxFile.Import accepts it must be right to accept: graphs that differ from RnnGen's export only by moves the
/// importer follows (a size-1 axis moved, a Reshape that keeps [seq, batch, H], a round trip through double, a state picked
/// by Gather + Unsqueeze, an older opset's attribute forms, moves after the head or between its product and its bias Add that
/// keep each output at its step and lane, the head on the last step or the last step of its result, weights that are also graph
/// inputs) import the exporter's parameters, and ONNX Runtime running them computes what RnnGen computes (on the last step:
/// RnnGen's last step). The same kind of edits that change what the graph computes are refused (in-memory tests: RnnGen.Tests
/// OnnxComputesTheSameTests), and so are graphs that are not valid ONNX, which ONNX Runtime refuses to load.
/// </summary>
public class OnnxAcceptedGraphsTests(ITestOutputHelper output)
{
    private const int Hidden = 13; // Lstm_H13_L2_In5_Out3

    public static TheoryData<string> Edits =>
    [
        "size-1 axis moved by Transpose", "Reshape [0, -1, H] for Squeeze", "Cast to double and back", "state picked by Gather + Unsqueeze",
        "opset 11 attribute forms", "head on seq × batch rows (out.view(-1, H))", "opset 18 Split with num_outputs",
        "weights also graph inputs (keep_initializers_as_inputs), not fed", ConstantAttributesEdit, "Slice by INT32 lists", "head bias as a Constant's value_floats", .. OnnxGraphEdits.KeepingMovesAfterTheHead, .. LastStepEdits,
        .. OnnxGraphEdits.GemmsWithoutCThenTheBias.Except(LastStepEdits),
    ];

    // edits whose graph outputs the last step only: [batch, Out]
    private static readonly string[] LastStepEdits =
    [
        HeadOnTheLastStepEdit, .. OnnxGraphEdits.LastStepPicksAfterTheHead,
        .. OnnxGraphEdits.GemmsWithoutCThenTheBias.Where(e => e.Contains("on the last step", StringComparison.Ordinal)),
    ];

    private const string HeadOnTheLastStepEdit = "head on the last step (fc(out[-1]))";

    // ONNX Runtime runs a Constant's value_ints and value_int (in every opset the importer reads), and an Unsqueeze by a scalar axis
    private const string ConstantAttributesEdit = "Squeeze axes as Constant value_ints, Unsqueeze by a scalar Constant value_int";

    private const int Steps = 6, Batch = 3;

    [Theory]
    [MemberData(nameof(Edits))]
    public void AcceptedGraphsComputeWhatRnnGenComputes(string edit)
    {
        OnnxOracleModel model = OnnxOracleModels.Named(nameof(Lstm_H13_L2_In5_Out3));
        // a graph whose input declares its sizes runs on them only: not one step per run
        bool declaresSizes = edit.Contains("declared sizes", StringComparison.Ordinal);
        OnnxOracleResult result = model.Run(seed: 31, steps: Steps, batch: Batch, proto => Edit(proto, edit), stepByStep: !declaresSizes,
            lastStep: LastStepEdits.Contains(edit));
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
                Before(proto, "squeeze_l0", MakeNode("Transpose", "move_dir", ["y_l0"], ["y_moved"], Ints("perm", 0, 2, 1, 3)));
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
                Before(proto, "lstm_l1",
                    MakeNode("Cast", "wide", ["h_l0"], ["h_wide"], Int("to", (long)TensorProto.Types.DataType.Double)),
                    MakeNode("Cast", "back", ["h_wide"], ["h_back"], Int("to", (long)TensorProto.Types.DataType.Float)));
                Node("lstm_l1").Input[0] = "h_back";
                break;
            case "state picked by Gather + Unsqueeze":
                graph.Initializer.Add(Int64s("one", [], 1));
                graph.Initializer.Add(Int64s("axis0", [1], 0));
                Before(proto, "lstm_l1",
                    MakeNode("Gather", "pick_c1", ["c0", "one"], ["c1_picked"], Int("axis", 0)),
                    MakeNode("Unsqueeze", "unsqueeze_c1", ["c1_picked", "axis0"], ["c1_state"]));
                Node("lstm_l1").Input[6] = "c1_state";
                break;
            case "head on seq × batch rows (out.view(-1, H))": // the head maps [seq·batch, H] rows: ORT's output is [seq·batch, Out]
                graph.Initializer.Add(Int64s("rows_shape", [2], -1, Hidden));
                Before(proto, "head_matmul", MakeNode("Reshape", "rows", ["h_l1", "rows_shape"], ["h_rows"]));
                Node("head_matmul").Input[0] = "h_rows";
                break;
            case ConstantAttributesEdit: // [seq, batch, H] → [seq, batch, 1, H] → squeezed back
                graph.Initializer.Remove(graph.Initializer.Single(t => t.Name == "num_directions_axis"));
                graph.Node.Insert(0, MakeNode("Constant", "axes_constant", [], ["num_directions_axis"], Ints("value_ints", 1)));
                graph.Node.Insert(0, MakeNode("Constant", "axis_constant", [], ["axis_2"], Int("value_int", 2)));
                graph.Initializer.Add(Int64s("axes_2", [1], 2));
                BetweenTheLayers(proto, MakeNode("Unsqueeze", "unsqueeze_h", ["h_l0", "axis_2"], ["h_4d"]), MakeNode("Squeeze", "squeeze_h", ["h_4d", "axes_2"], ["h_moved"]));
                break;
            case "Slice by INT32 lists": // all of the features
                graph.Initializer.Add(Int32s("slice_starts", [1], 0));
                graph.Initializer.Add(Int32s("slice_ends", [1], Hidden));
                graph.Initializer.Add(Int32s("slice_axes", [1], 2));
                BetweenTheLayers(proto, MakeNode("Slice", "slice_h", ["h_l0", "slice_starts", "slice_ends", "slice_axes"], ["h_moved"]));
                break;
            case "head bias as a Constant's value_floats":
                OnnxGraphEdits.HeadBiasAsConstantFloats(proto);
                break;
            case "opset 11 attribute forms":
                OnnxGraphEdits.InOpset(proto, 11);
                break;
            case "opset 18 Split with num_outputs":
                OnnxGraphEdits.InOpset(proto, 18);
                break;
            case "weights also graph inputs (keep_initializers_as_inputs), not fed": // ORT uses the initializers, and so does import
                OnnxGraphEdits.WeightsAsGraphInputs(proto);
                break;
            case HeadOnTheLastStepEdit:
                OnnxGraphEdits.HeadOnTheLastStep(proto);
                break;
            case var gemm when OnnxGraphEdits.GemmsWithoutCThenTheBias.Contains(gemm):
                OnnxGraphEdits.GemmThenTheBias(proto, gemm);
                break;
            default:
                OnnxGraphEdits.MoveAfterTheHead(proto, edit, Steps, Batch);
                break;
        }
    }

    // The top layer's final hidden state Y_h (PyTorch's h_n[-1], a Gather or Slice of the Concat of the layers' Y_h; or, of one
    // layer, Y_h itself, squeezed or not) as a model's output or its head's input: the graph outputs the last step only, which
    // ONNX Runtime computes as RnnGen's last step, for every cell kind, one layer or stacked, with and without a head; the file
    // imports the exporter's parameters.
    public static TheoryData<string, string> FinalStateReads()
    {
        var data = new TheoryData<string, string>();
        foreach (string model in new[]
                 {
                     nameof(Lstm_H7_L1_In3), nameof(Lstm_H13_L2_In5_Out3), nameof(Gru_H9_L3_In11), nameof(Gru_H13_L2_In5_Out3),
                     nameof(RnnTanh_H9_L3_In11), nameof(RnnTanh_H65_L1_In37_Out5), nameof(RnnRelu_H7_L1_In3), nameof(RnnRelu_H10_L1_Tokens17),
                 })
            foreach (string edit in OnnxGraphEdits.FinalStateReads)
                data.Add(model, edit);
        return data;
    }

    [Theory]
    [MemberData(nameof(FinalStateReads))]
    public void TheTopLayersFinalStateComputesWhatRnnGenComputes(string model, string edit)
    {
        OnnxOracleResult result = OnnxOracleModels.Named(model).Run(seed: 31, steps: Steps, batch: Batch, proto => OnnxGraphEdits.ReadTheFinalState(proto, edit),
            lastStep: true, import: true);
        output.WriteLine(string.Join("\n", result.Deviations));
        Assert.All(result.Deviations, d => Assert.True(d.Passed, d.ToString()));
        Assert.Null(result.ImportMismatch);
    }

    // Two initializers of a name: ONNX Runtime (1.31) loads the graph and uses the last (onnx.checker refuses it, "initializer
    // name is not unique"); which one the file means is not knowable, and the importer refuses it.
    [Fact]
    public void TwoInitializersOfANameAreRefusedThoughOnnxRuntimeUsesTheLast()
    {
        var source = Make<Lstm_H13_L2_In5_Out3>();
        source.InitializeParameters(31);
        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxFile.ExportToBytes(source));
        OnnxGraphEdits.SecondHeadBias(proto);
        byte[] bytes = proto.ToByteArray();

        ModelInfo info = Lstm_H13_L2_In5_Out3.Info;
        float[] zeros = new float[info.LayerCount * info.HiddenSize];
        using (var ort = new OrtRunner<float>(bytes, info))
        {
            // zero input and state: the outputs are the bias plus products of |h| < 1, far from the second bias's 100
            var (y, _, _) = ort.Run(1, 1, new float[info.InputSize], [], zeros, zeros);
            output.WriteLine($"ONNX Runtime: [{string.Join(", ", y)}]");
            Assert.All(y, v => Assert.InRange(v, 90f, 110f));
        }
        var e = Assert.Throws<ModelFileException>(() => OnnxFile.Import(Make<Lstm_H13_L2_In5_Out3>(), new MemoryStream(bytes)));
        output.WriteLine($"RnnGen: {e.Message}");
        Assert.Contains("two initializers are named 'head.bias'; each tensor of an ONNX graph is defined once", e.Message, StringComparison.Ordinal);
    }

    // Graphs that are not valid ONNX (a node in another opset's form, an op type in the wrong case, an operator of another domain,
    // a graph input declared twice, a tensor two nodes compute, a Gemm without C before opset 11 or of a 3-D input, an integer
    // input of another element type or rank): ONNX Runtime refuses to load each or fails running it (a Slice's starts, a Squeeze's
    // axes, a Reshape's shape or a Split's sizes not a list, a ConstantOfShape's shape a scalar), a node on a state's way
    // without an input it requires (a Split of h0, a ConstantOfShape), zeros of another hidden size as a layer's initial_h, the
    // input or a state declared in another shape than the layers read), and the importer refuses each, saying what is wrong.
    public static TheoryData<string> InvalidEdits()
    {
        var data = new TheoryData<string>();
        foreach (var (edit, _) in OnnxGraphEdits.Invalid) data.Add(edit);
        return data;
    }

    [Theory]
    [MemberData(nameof(InvalidEdits))]
    public void InvalidGraphsAreRefusedByOnnxRuntimeToo(string edit)
    {
        bool tokens = edit.StartsWith(OnnxGraphEdits.OfATokenModel, StringComparison.Ordinal);
        ModelInfo info = tokens ? Lstm_H10_L2_Tokens17.Info : Lstm_H13_L2_In5_Out3.Info;
        ModelProto proto = ModelProto.Parser.ParseFrom(tokens
            ? OnnxFile.ExportToBytes(Initialized<Lstm_H10_L2_Tokens17>()) : OnnxFile.ExportToBytes(Initialized<Lstm_H13_L2_In5_Out3>()));
        OnnxGraphEdits.MakeInvalid(proto, edit);
        byte[] bytes = proto.ToByteArray();

        // refused when it loads, or when it runs (an integer input of another rank: "Starts must be a 1-D array")
        var ort = Assert.ThrowsAny<OnnxRuntimeException>(() =>
        {
            using var runner = new OrtRunner<float>(bytes, info);
            int state = info.LayerCount * info.HiddenSize;
            runner.Run(steps: 2, batch: 1, new float[2 * info.InputSize], [0, 1], new float[state], new float[state]);
        });
        output.WriteLine($"ONNX Runtime: {ort.Message}");
        var e = Assert.Throws<ModelFileException>(() =>
        {
            if (tokens) OnnxFile.Import(Make<Lstm_H10_L2_Tokens17>(), new MemoryStream(bytes));
            else OnnxFile.Import(Make<Lstm_H13_L2_In5_Out3>(), new MemoryStream(bytes));
        });
        output.WriteLine($"RnnGen: {e.Message}");
        Assert.Contains(OnnxGraphEdits.Invalid.Single(i => i.Edit == edit).Message, e.Message, StringComparison.Ordinal);
    }

    // An RNN's activation names are case-sensitive, as ONNX Runtime reads them: 'relu' is refused by both. An LSTM's and a GRU's
    // are read in any case by both ('sigmoid', 'tanh'), ONNX Runtime computing what RnnGen computes.
    [Fact]
    public void AnRnnsActivationNameInTheWrongCaseIsRefusedByOnnxRuntimeToo()
    {
        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxFile.ExportToBytes(Initialized<RnnRelu_H13_L2_In5_Out3>()));
        OnnxGraphEdits.LowerCaseActivations(proto);
        byte[] bytes = proto.ToByteArray();
        var ort = Assert.ThrowsAny<OnnxRuntimeException>(() =>
        {
            using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
            using var session = new InferenceSession(bytes, options);
        });
        output.WriteLine($"ONNX Runtime: {ort.Message}");
        var e = Assert.Throws<ModelFileException>(() => OnnxFile.Import(Make<RnnRelu_H13_L2_In5_Out3>(), new MemoryStream(bytes)));
        output.WriteLine($"RnnGen: {e.Message}");
        Assert.Contains("uses activations [relu]: an RNN's activation names are case-sensitive (ONNX's are [Relu])", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(nameof(Lstm_H13_L2_In5_Out3))]
    [InlineData(nameof(Gru_H13_L2_In5_Out3))]
    public void AnLstmsOrGrusActivationNamesInLowerCaseComputeWhatRnnGenComputes(string name)
    {
        OnnxOracleResult result = OnnxOracleModels.Named(name).Run(seed: 31, steps: Steps, batch: Batch, OnnxGraphEdits.LowerCaseActivations);
        output.WriteLine(string.Join("\n", result.Deviations));
        Assert.All(result.Deviations, d => Assert.True(d.Passed, d.ToString()));
        if (name == nameof(Lstm_H13_L2_In5_Out3)) AssertImportsLowerCase<Lstm_H13_L2_In5_Out3>();
        else AssertImportsLowerCase<Gru_H13_L2_In5_Out3>();
    }

    private static void AssertImportsLowerCase<TModel>() where TModel : class, IRecurrentModel<TModel, float>
    {
        TModel source = Initialized<TModel>();
        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxFile.ExportToBytes(source));
        OnnxGraphEdits.LowerCaseActivations(proto);
        TModel imported = Make<TModel>();
        OnnxFile.Import(imported, new MemoryStream(proto.ToByteArray()));
        Assert.Equal(source.Parameters.ToArray(), imported.Parameters.ToArray());
    }

    private static TModel Initialized<TModel>() where TModel : class, IRecurrentModel<TModel, float>
    {
        TModel model = TModel.Create();
        model.InitializeParameters(31);
        return model;
    }

    private static TModel Make<TModel>() where TModel : class, IRecurrentModel<TModel, float> => TModel.Create();
}
