using Onnx;

namespace RnnGen.Tests.Shared;

/// <summary>
/// Edits of a graph RnnGen exports (a model with a head, two or more layers: nodes lstm_l0 …, squeeze_l…, head_matmul,
/// head_add, split_h0 …), shared by the in-memory import tests (RnnGen.Tests) and the ONNX Runtime ones (RnnGen.Oracle.Tests),
/// so that what ONNX Runtime is asked about is the graph the importer is tested on.
/// </summary>
internal static class OnnxGraphEdits
{
    // ------------------------------------------------------------------ moves after the head
    /// <summary>Moves after the head that keep every output at its (step, lane, feature): imported, ONNX Runtime agreeing.
    /// Those ending in <see cref="BeforeTheBias"/> move the head's product before its bias Add.</summary>
    public static readonly string[] KeepingMovesAfterTheHead =
    [
        "rows, then view(seq, batch, -1) by Shape", "rows, then view(S, B, -1) of the declared sizes", "Unsqueeze and Transpose of a size-1 axis",
        "Unsqueeze of a size-1 axis after the outputs", "rows, then view(seq, batch, -1) by Shape" + BeforeTheBias,
        "Unsqueeze and Transpose of a size-1 axis" + BeforeTheBias,
    ];

    /// <summary>Picks of the last step after the head (PyTorch's fc(out)[-1], what fc(out[-1]) computes): imported, the graph
    /// outputs the last step's outputs only, ONNX Runtime agreeing with RnnGen's last step.</summary>
    public static readonly string[] LastStepPicksAfterTheHead =
    [
        "Gather of the last step (fc(out)[-1])", "Slice of the last step (fc(out)[-1:])", "Gather of the last step (fc(out)[-1])" + BeforeTheBias,
    ];

    /// <summary>The suffix of an edit that moves the head's product into its bias Add instead of its result into the graph's output.</summary>
    public const string BeforeTheBias = ", before the bias Add";

    /// <summary>The head on rows (PyTorch's fc(out.view(-1, H))) where the edit says so, and a move of its result into the graph's
    /// output (or of its product into the bias Add: <see cref="BeforeTheBias"/>), as <paramref name="edit"/> says;
    /// <paramref name="steps"/> and <paramref name="batch"/> are the sizes declared when the edit needs numbers.</summary>
    public static void MoveAfterTheHead(ModelProto m, string edit, int steps = 0, int batch = 0)
    {
        GraphProto g = m.Graph;
        long hidden = g.Initializer.Single(t => t.Name == "head.weight").Dims[1];
        OutputShapeNotDeclared(m);
        NodeProto add = Node(m, "head_add");
        string top = Node(m, "head_matmul").Input[0];
        bool beforeTheBias = edit.EndsWith(BeforeTheBias, StringComparison.Ordinal);
        string from, into;
        if (beforeTheBias)
        {
            (from, into) = ("head_product", "product_moved");
            add.Input[add.Input.IndexOf(from)] = into;
            edit = edit[..^BeforeTheBias.Length];
        }
        else
        {
            (from, into) = ("head_result", OnnxFile.OutputName);
            add.Output[0] = from;
        }
        void Moves(params NodeProto[] nodes)
        {
            if (beforeTheBias) Before(m, "head_add", nodes);
            else g.Node.AddRange(nodes);
        }
        switch (edit)
        {
            case "rows, then view(seq, batch, -1) by Shape": // torch.onnx.export with dynamic axes: the sizes read from out.shape
            case "rows, then view(seq, batch, -1) by Shape, swapped": // … read as view(batch, seq, -1): refused
            {
                bool swapped = edit.EndsWith("swapped", StringComparison.Ordinal);
                OnRows(m, top, hidden);
                g.Initializer.Add(Int64s("index_seq", [1], swapped ? 1 : 0));
                g.Initializer.Add(Int64s("index_batch", [1], swapped ? 0 : 1));
                g.Initializer.Add(Int64s("minus_one", [1], -1));
                Moves(MakeNode("Shape", "out_shape", [top], ["out_shape"]),
                    MakeNode("Gather", "out_seq", ["out_shape", "index_seq"], ["out_seq"], Int("axis", 0)),
                    MakeNode("Gather", "out_batch", ["out_shape", "index_batch"], ["out_batch"], Int("axis", 0)),
                    MakeNode("Concat", "view_shape", ["out_seq", "out_batch", "minus_one"], ["view_shape"], Int("axis", 0)),
                    MakeNode("Reshape", "view", [from, "view_shape"], [into]));
                break;
            }
            case "rows, then view(S, B, -1) of the declared sizes": // torch.onnx.export without dynamic axes: numbers, the input's sizes
            case "rows, then view(S, B, -1) of sizes not declared":
            {
                OnRows(m, top, hidden);
                if (edit.Contains("declared sizes", StringComparison.Ordinal))
                {
                    TensorShapeProto shape = g.Input.Single(i => i.Name == OnnxFile.InputName).Type.TensorType.Shape;
                    shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimValue = steps };
                    shape.Dim[1] = new TensorShapeProto.Types.Dimension { DimValue = batch };
                }
                g.Initializer.Add(Int64s("view_shape", [3], steps, batch, -1));
                Moves(MakeNode("Reshape", "view", [from, "view_shape"], [into]));
                break;
            }
            case "Unsqueeze and Transpose of a size-1 axis": // [seq, batch, out] → [seq, batch, 1, out] → [seq, 1, batch, out]
                g.Initializer.Add(Int64s("axis_2", [1], 2));
                Moves(MakeNode("Unsqueeze", "unsqueeze_out", [from, "axis_2"], ["head_4d"]),
                    MakeNode("Transpose", "move_one", ["head_4d"], [into], Ints("perm", 0, 2, 1, 3)));
                break;
            case "Unsqueeze of a size-1 axis after the outputs": // [seq, batch, out, 1]: before the bias Add, refused (it would broadcast)
                g.Initializer.Add(Int64s("axis_last", [1], -1));
                Moves(MakeNode("Unsqueeze", "unsqueeze_last", [from, "axis_last"], [into]));
                break;
            case "Transpose of seq and batch": // [seq, batch, out] → [batch, seq, out]: refused
                Moves(MakeNode("Transpose", "swap", [from], [into], Ints("perm", 1, 0, 2)));
                break;
            case "Gather of the last step (fc(out)[-1])": // [batch, out]
            case "Gather of the first step (fc(out)[0])": // refused
                g.Initializer.Add(Int64s("step_index", [], edit.Contains("last", StringComparison.Ordinal) ? -1 : 0));
                Moves(MakeNode("Gather", "pick_step", [from, "step_index"], [into], Int("axis", 0)));
                break;
            case "Slice of the last step (fc(out)[-1:])": // [1, batch, out]
                g.Initializer.Add(Int64s("slice_start", [1], -1));
                g.Initializer.Add(Int64s("slice_end", [1], long.MaxValue));
                g.Initializer.Add(Int64s("slice_axis", [1], 0));
                Moves(MakeNode("Slice", "slice_step", [from, "slice_start", "slice_end", "slice_axis"], [into]));
                break;
            default:
                throw new ArgumentException(edit, nameof(edit));
        }
    }

    /// <summary>The head on the last step, PyTorch's fc(out[-1]): a Gather of the top layer's last step (the graph outputs
    /// [batch, Out]).</summary>
    public static void HeadOnTheLastStep(ModelProto m)
    {
        OutputShapeNotDeclared(m);
        m.Graph.Initializer.Add(Int64s("last", [], -1));
        NodeProto product = Node(m, "head_matmul");
        Before(m, "head_matmul", MakeNode("Gather", "last_step", [product.Input[0], "last"], ["h_last"], Int("axis", 0)));
        product.Input[0] = "h_last";
    }

    // the edits change the output's shape: it is left undeclared (ONNX Runtime would warn that [seq, batch, Out] does not hold)
    private static void OutputShapeNotDeclared(ModelProto m) =>
        m.Graph.Output.Single(o => o.Name == OnnxFile.OutputName).Type.TensorType.Shape = null;

    // the head multiplies the top layer's h as rows [seq × batch, H]
    private static void OnRows(ModelProto m, string top, long hidden)
    {
        m.Graph.Initializer.Add(Int64s("rows_shape", [2], -1, hidden));
        Before(m, "head_matmul", MakeNode("Reshape", "rows", [top, "rows_shape"], ["h_rows"]));
        Node(m, "head_matmul").Input[0] = "h_rows";
    }

    // ------------------------------------------------------------------ the top layer's final state as the output or the head's input
    /// <summary>Reads of the top layer's final hidden state Y_h, the last step's h (PyTorch's <c>_, (h_n, c_n) = lstm(x)</c>):
    /// imported where they are the top layer's alone, as the graph's output (no head) or the head's input, the graph outputting
    /// the last step only, ONNX Runtime agreeing with RnnGen's last step.</summary>
    public static readonly string[] FinalStateReads =
    [
        "h_n[-1] (Gather)", "h_n[-1:] (Slice), squeezed", "the top layer's Y_h, squeezed", "the top layer's Y_h as it is ([1, batch, H])",
    ];

    /// <summary>The graph's output (a model without a head) or the head's input made the top layer's final hidden state as
    /// <paramref name="edit"/> (one of <see cref="FinalStateReads"/>, or a refused read: "h_n", "h_n[0]", "c_n[-1]", "Y_h of
    /// layer 0") says. h_n is the graph's output 'hn': the Concat of the layers' Y_h, or the one layer's Y_h. The top layer's Y
    /// is no longer read.</summary>
    public static void ReadTheFinalState(ModelProto m, string edit)
    {
        GraphProto g = m.Graph;
        OutputShapeNotDeclared(m);
        NodeProto top = g.Node.Last(n => n.OpType is "LSTM" or "GRU" or "RNN");
        NodeProto? product = g.Node.SingleOrDefault(n => n.Name == "head_matmul");
        g.Node.Remove(g.Node.Single(n => n.OpType == "Squeeze" && n.Input[0] == top.Output[0]));
        string into = product is null ? OnnxFile.OutputName : "h_final";
        NodeProto Pick(string from, long index) => MakeNode("Gather", "pick_state", [from, $"state_{index}"], [into], Int("axis", 0));
        g.Initializer.Add(Int64s("state_-1", [], -1));
        g.Initializer.Add(Int64s("state_0", [], 0));
        g.Initializer.Add(Int64s("axis_0", [1], 0));
        NodeProto[] nodes = edit switch
        {
            "h_n[-1] (Gather)" => [Pick(OnnxFile.FinalHiddenName, -1)],
            "h_n[0] (Gather)" => [Pick(OnnxFile.FinalHiddenName, 0)],
            "c_n[-1] (Gather)" => [Pick(OnnxFile.FinalCellName, -1)],
            "h_n[-1:] (Slice), squeezed" =>
            [
                MakeNode("Slice", "slice_state", [OnnxFile.FinalHiddenName, "slice_start", "slice_end", "axis_0"], ["h_sliced"]),
                MakeNode("Squeeze", "squeeze_state", ["h_sliced", "axis_0"], [into]),
            ],
            "the top layer's Y_h, squeezed" => [MakeNode("Squeeze", "squeeze_state", [top.Output[1], "axis_0"], [into])],
            "the top layer's Y_h as it is ([1, batch, H])" => [MakeNode("Identity", "copy_state", [top.Output[1]], [into])],
            "Y_h of layer 0, squeezed" => [MakeNode("Squeeze", "squeeze_state", [g.Node.First(n => n.OpType == top.OpType).Output[1], "axis_0"], [into])],
            "h_n" => [MakeNode("Identity", "copy_state", [OnnxFile.FinalHiddenName], [into])],
            _ => throw new ArgumentException(edit, nameof(edit)),
        };
        g.Initializer.Add(Int64s("slice_start", [1], -1));
        g.Initializer.Add(Int64s("slice_end", [1], long.MaxValue));
        g.Node.AddRange(nodes);
        if (product is null) return;
        product.Input[0] = into;
        foreach (string name in new[] { "head_transpose", "head_matmul", "head_add" }) // after the states they read, in topological order
        {
            NodeProto node = Node(m, name);
            g.Node.Remove(node);
            g.Node.Add(node);
        }
    }

    // ------------------------------------------------------------------ a Gemm head without C, and its bias Add
    /// <summary>Heads as a Gemm without C (transB = 1) and an Add of the bias (a form some exporters and optimisers write):
    /// imported, ONNX Runtime agreeing. Those on the last step output [batch, Out].</summary>
    public static readonly string[] GemmsWithoutCThenTheBias =
    [
        "Gemm without C on the last step, then Add(product, bias)", "Gemm without C on the last step, then Add(bias, product)",
        "Gemm without C on seq × batch rows, then Add(product, bias)",
        "Gemm without C, with beta 0.5 (which scales no C), on the last step, then Add(product, bias)",
    ];

    /// <summary>The MatMul + Add head replaced by Gemm(h, head.weight[, head.bias], transB = 1) + Add(head.bias), as
    /// <paramref name="edit"/> says: "Gemm with C" or "Gemm without C"; "on the last step" (a Gather of h), "on seq × batch rows"
    /// (a Reshape of h to [-1, H]) or "on [seq, batch, H]" (h itself, which Gemm does not multiply); "Add(product, bias)" or
    /// "Add(bias, product)"; "with beta 0.5" sets the Gemm's beta.</summary>
    public static void GemmThenTheBias(ModelProto m, string edit)
    {
        GraphProto g = m.Graph;
        OutputShapeNotDeclared(m);
        string h = Node(m, "head_matmul").Input[0];
        long hidden = g.Initializer.Single(t => t.Name == "head.weight").Dims[1];
        foreach (string name in new[] { "head_transpose", "head_matmul", "head_add" }) g.Node.Remove(Node(m, name));
        string a = h;
        if (edit.Contains("on the last step", StringComparison.Ordinal))
        {
            g.Initializer.Add(Int64s("last", [], -1));
            g.Node.Add(MakeNode("Gather", "last_step", [h, "last"], [a = "h_last"], Int("axis", 0)));
        }
        else if (edit.Contains("on seq × batch rows", StringComparison.Ordinal))
        {
            g.Initializer.Add(Int64s("rows_shape", [2], -1, hidden));
            g.Node.Add(MakeNode("Reshape", "rows", [h, "rows_shape"], [a = "h_rows"]));
        }
        else if (!edit.Contains("on [seq, batch, H]", StringComparison.Ordinal))
            throw new ArgumentException(edit, nameof(edit));
        string[] inputs = edit.StartsWith("Gemm with C", StringComparison.Ordinal) ? [a, "head.weight", "head.bias"] : [a, "head.weight"];
        NodeProto gemm = MakeNode("Gemm", "head_gemm", inputs, ["gemm_product"], Int("transB", 1));
        if (edit.Contains("with beta 0.5", StringComparison.Ordinal))
            gemm.Attribute.Add(new AttributeProto { Name = "beta", Type = AttributeProto.Types.AttributeType.Float, F = 0.5f });
        g.Node.Add(gemm);
        g.Node.Add(MakeNode("Add", "bias_add",
            edit.EndsWith("Add(bias, product)", StringComparison.Ordinal) ? ["head.bias", "gemm_product"] : ["gemm_product", "head.bias"],
            [OnnxFile.OutputName]));
    }

    // ------------------------------------------------------------------ a name defined twice
    /// <summary>A second initializer 'head.bias', every value 100: ONNX Runtime (1.31) loads the graph and adds the second
    /// (onnx.checker refuses it: "initializer name is not unique"); the importer refuses it, which one a model means being not
    /// knowable.</summary>
    public static void SecondHeadBias(ModelProto m)
    {
        TensorProto first = m.Graph.Initializer.Single(t => t.Name == "head.bias");
        var second = new TensorProto { Name = first.Name, DataType = (int)TensorProto.Types.DataType.Float };
        second.Dims.AddRange(first.Dims);
        second.FloatData.AddRange(Enumerable.Repeat(100f, (int)first.Dims.Aggregate(1L, (p, d) => p * d)));
        m.Graph.Initializer.Add(second);
    }

    // ------------------------------------------------------------------ weights that are also graph inputs
    /// <summary>Every weight initializer also listed as a graph input, as torch.onnx.export(keep_initializers_as_inputs=True)
    /// writes it: a default the caller may feed, which ONNX Runtime uses when the caller does not.</summary>
    public static void WeightsAsGraphInputs(ModelProto m)
    {
        foreach (TensorProto weight in m.Graph.Initializer.Where(t => t.DataType == (int)TensorProto.Types.DataType.Float))
        {
            var shape = new TensorShapeProto();
            foreach (long d in weight.Dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
            m.Graph.Input.Add(new ValueInfoProto
            {
                Name = weight.Name,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = weight.DataType, Shape = shape } },
            });
        }
    }

    // ------------------------------------------------------------------ a weight as a Constant's value_floats
    /// <summary>The head's bias given by a Constant node's value_floats (not a tensor value): ONNX Runtime runs it as the
    /// initializer it replaces.</summary>
    public static void HeadBiasAsConstantFloats(ModelProto m)
    {
        TensorProto bias = m.Graph.Initializer.Single(t => t.Name == "head.bias");
        m.Graph.Initializer.Remove(bias);
        var values = new AttributeProto { Name = "value_floats", Type = AttributeProto.Types.AttributeType.Floats };
        values.Floats.AddRange(bias.FloatData.Count > 0 ? bias.FloatData : System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bias.RawData.Span).ToArray());
        m.Graph.Node.Insert(0, MakeNode("Constant", "bias_constant", [], ["head.bias"], values));
    }

    // ------------------------------------------------------------------ graphs not valid for their opset
    /// <summary>Graphs that are not valid ONNX (ONNX Runtime refuses to load them, or fails running them: an integer input of
    /// another rank), with the importer's message for each. Those of <see cref="OfATokenModel"/> edit a token model's graph.</summary>
    public static readonly (string Edit, string Message)[] Invalid =
    [
        ("Squeeze axes input at opset 11", "node 'squeeze_l0' (Squeeze) has its axes as input 1 ('num_directions_axis'); before opset 13, Squeeze takes them as an attribute: the graph is not valid ONNX for its opset 11"),
        ("Squeeze axes attribute at opset 13", "node 'squeeze_l0' (Squeeze) has an attribute 'axes'; from opset 13 on, Squeeze takes its axes as input 1: the graph is not valid ONNX for its opset 13"),
        ("Split without num_outputs at opset 18", "node 'split_h0' (Split) has neither a split input nor a num_outputs attribute; from opset 18 on, Split takes exactly one of them"),
        ("Split num_outputs at opset 17", "node 'split_h0' (Split) has an attribute 'num_outputs', which Split has from opset 18 on"),
        ("op type relu", "node 'wrong_case' has op type 'relu', which is not an ONNX operator: op types are case-sensitive (ONNX's is 'Relu')"),
        ("op type identity", "node 'wrong_case' has op type 'identity', which is not an ONNX operator: op types are case-sensitive (ONNX's is 'Identity')"),
        ("op type lstm", "node 'lstm_l1' has op type 'lstm', which is not an ONNX operator: op types are case-sensitive (ONNX's is 'LSTM')"),
        ("Identity of domain com.example", "node 'foreign' is a Identity of the domain 'com.example'; RnnGen reads operators of the default ONNX domain"),
        ("graph input h0 declared twice", "two inputs of the graph are named 'h0'; each input of an ONNX graph is declared once, and ONNX Runtime refuses the graph (rename or remove one)"),
        ("tensor output computed by two nodes", "the tensor 'output' is the output of two nodes; an ONNX graph computes each tensor once"),
        ("Gemm without C at opset 10", "node 'head_gemm' (Gemm) has no input C, which Gemm requires before opset 11 (optional from opset 11 on): the graph is not valid ONNX for its opset 10"),
        ("Gemm on [seq, batch, H]", "; Gemm multiplies matrices (ONNX Runtime refuses the graph): give it the last step"),
        // integer inputs of another rank (ONNX Runtime fails running the graph) or element type (it refuses to load it)
        ("Slice starts a scalar", "node 'slice_moved' (Slice): its starts 'slice_starts' is a scalar; Slice takes its starts as a 1-D list, and ONNX Runtime fails running the graph: make it a list of shape [1]"),
        ("Slice ends a scalar", "node 'slice_moved' (Slice): its ends 'slice_ends' is a scalar; Slice takes its ends as a 1-D list"),
        ("Slice axes a scalar", "node 'slice_moved' (Slice): its axes 'slice_axes' is a scalar; Slice takes its axes as a 1-D list"),
        ("Slice steps a scalar", "node 'slice_moved' (Slice): its steps 'slice_steps' is a scalar; Slice takes its steps as a 1-D list"),
        ("Slice starts of rank 2", "node 'slice_moved' (Slice): its starts 'slice_starts' is of rank 2; Slice takes its starts as a 1-D list"),
        ("Slice starts INT32, the rest INT64", "node 'slice_moved' (Slice) has starts Int32, ends Int64, axes Int64; a Slice's starts, ends, axes and steps are of one type, and ONNX Runtime refuses to load the graph"),
        ("Slice starts and ends of different lengths", "node 'slice_moved' (Slice) has 2 starts, 1 ends, 1 axes; a Slice takes one of each per axis it slices, and ONNX Runtime refuses to load the graph"),
        ("Squeeze axes a scalar", "node 'squeeze_l0' (Squeeze): its axes 'num_directions_axis' is a scalar; Squeeze takes its axes as a 1-D list, and ONNX Runtime fails running the graph"),
        ("Squeeze axes INT32", "node 'squeeze_l0' (Squeeze): its axes 'num_directions_axis' is Int32; Squeeze takes its axes as INT64, and ONNX Runtime refuses to load the graph: make it INT64"),
        ("Unsqueeze axes of rank 2", "node 'unsqueeze_moved' (Unsqueeze): its axes 'unsqueeze_axes' is of rank 2; Unsqueeze takes its axes as a 1-D list (or a scalar)"),
        ("Unsqueeze axes INT32", "node 'unsqueeze_moved' (Unsqueeze): its axes 'unsqueeze_axes' is Int32; Unsqueeze takes its axes as INT64"),
        ("Reshape shape of rank 2", "node 'reshape_moved' (Reshape): its shape 'keep_shape' is of rank 2; Reshape takes its shape as a 1-D list, and ONNX Runtime fails running the graph: make it a list of shape [3]"),
        ("Reshape shape INT32", "node 'reshape_moved' (Reshape): its shape 'keep_shape' is Int32; Reshape takes its shape as INT64"),
        ("Reshape shape computed, cast to INT32", "node 'reshape_moved' (Reshape): its shape 'view_shape_32' is Int32; Reshape takes its shape as INT64"),
        ("Reshape shape a Concat of scalar sizes", "node 'view_shape' (Concat): its input 'size_0' is a scalar; Concat joins lists, and ONNX Runtime refuses to load the graph: make it a list of one (Unsqueeze it on axis 0)"),
        ("Split sizes of rank 2", "node 'split_h0' (Split): its split 'split_sizes' is of rank 2; Split takes its split as a 1-D list"),
        ("Split sizes INT32", "node 'split_h0' (Split): its split 'split_sizes' is Int32; Split takes its split as INT64"),
        ("Gather indices FLOAT", "node 'pick_c1' (Gather): its indices 'pick_index' is Float; Gather takes its indices as INT64 or INT32"),
        ("ConstantOfShape value of two numbers", "node 'zero_state' (ConstantOfShape) has a value of shape [2]; ConstantOfShape's value is a 1-D tensor of one element"),
        ("ConstantOfShape input a scalar", "node 'zero_state' (ConstantOfShape): its input 'zero_shape' is a scalar; ConstantOfShape takes its input as a 1-D list"),
        ("ConstantOfShape input INT32", "node 'zero_state' (ConstantOfShape): its input 'zero_shape' is Int32; ConstantOfShape takes its input as INT64"),
        ("ConstantOfShape without its input", "node 'zero_state' (ConstantOfShape) has no input (the shape), which ConstantOfShape requires: the graph is not valid ONNX"),
        ("ConstantOfShape of hidden H + 1", "(ConstantOfShape node 'zero_state'); an initial state is of shape [1, batch, "),
        ("zero initializer of hidden H + 1", "its initial_h input 'h_zeros' is a zero constant of shape [1, 1, "),
        ("input declared with one feature too many", "the graph's input 'input' is declared with "),
        ("input declared of rank 2", "the graph's input 'input' is declared of rank 2; the first layer reads it as [seq, batch, "),
        ("h0 declared with one unit too many", "the graph input 'h0' (the layers' initial_h) is declared [2, batch, "),
        ("c0 declared with one layer too many", "the graph input 'c0' (the layers' initial_c) is declared [3, batch, "),
        ("h0 declared of rank 2", "(the layers' initial_h) is declared of rank 2"),
        ("Split of h0 without its input", "node 'split_h0' (Split) has no input 0, which Split requires: the graph is not valid ONNX"),
        ("Expand shape INT32", "node 'expand_state' (Expand): its shape 'expand_shape' is Int32; Expand takes its shape as INT64"),
        ("Transpose perm an INT", "node 'transpose_moved' (Transpose) has attribute 'perm' of type Int; ONNX defines it as INTS"),
        ("Concat axis INTS", "node 'concat_hn' (Concat) has attribute 'axis' of type Ints; ONNX defines it as an INT"),
        (OfATokenModel + "OneHot depth of shape [1, 1]", "the OneHot node 'onehot' has a depth 'onehot_depth' of shape [1, 1]; OneHot's depth is a scalar or a list of one, and ONNX Runtime refuses to load the graph"),
        (OfATokenModel + "OneHot values of shape [2, 1]", "the OneHot node 'onehot' has values 'onehot_values' of shape [2, 1]; OneHot's values are a list [off, on], and ONNX Runtime refuses to load the graph"),
    ];

    /// <summary>The prefix of an <see cref="Invalid"/> edit of a token model's graph (its OneHot).</summary>
    public const string OfATokenModel = "token model: ";

    /// <summary>The exported graph made invalid as <paramref name="edit"/> (one of <see cref="Invalid"/>) says.</summary>
    public static void MakeInvalid(ModelProto m, string edit)
    {
        switch (edit)
        {
            case "Squeeze axes input at opset 11":
                m.OpsetImport.Single().Version = 11;
                foreach (NodeProto split in m.Graph.Node.Where(n => n.OpType == "Split"))
                    split.Attribute.Add(Ints("split", Enumerable.Repeat(1L, split.Output.Count).ToArray()));
                break;
            case "Squeeze axes attribute at opset 13":
                m.OpsetImport.Single().Version = 13;
                foreach (NodeProto squeeze in m.Graph.Node.Where(n => n.OpType == "Squeeze"))
                    squeeze.Attribute.Add(Ints("axes", 1));
                break;
            case "Split without num_outputs at opset 18":
                m.OpsetImport.Single().Version = 18;
                break;
            case "Split num_outputs at opset 17":
                m.OpsetImport.Single().Version = 17;
                foreach (NodeProto split in m.Graph.Node.Where(n => n.OpType == "Split"))
                    split.Attribute.Add(Int("num_outputs", split.Output.Count));
                break;
            case "op type lstm":
                Node(m, "lstm_l1").OpType = "lstm";
                break;
            case "op type relu" or "op type identity":
            {
                NodeProto squeeze = Node(m, "squeeze_l0");
                Before(m, "lstm_l1", MakeNode(edit["op type ".Length..], "wrong_case", [squeeze.Output[0]], ["moved_l0"]));
                Node(m, "lstm_l1").Input[0] = "moved_l0";
                break;
            }
            case "graph input h0 declared twice":
                m.Graph.Input.Add(m.Graph.Input.Single(i => i.Name == OnnxFile.InitialHiddenName).Clone());
                break;
            case "tensor output computed by two nodes":
                m.Graph.Node.Add(MakeNode("Identity", "again", ["head_product"], [OnnxFile.OutputName]));
                break;
            case "Gemm without C at opset 10":
                InOpset(m, 10);
                GemmThenTheBias(m, "Gemm without C on the last step, then Add(product, bias)");
                break;
            case "Gemm on [seq, batch, H]":
                GemmThenTheBias(m, "Gemm without C on [seq, batch, H], then Add(product, bias)");
                break;
            case var slice when slice.StartsWith("Slice ", StringComparison.Ordinal):
            {
                // all of the features of layer 0's output, Slice(h, [0], [H], [2]), with one of its lists changed as the edit says (not
                // ends [max]: ONNX Runtime's optimiser removes such a Slice before its kernel would check it)
                bool int32 = slice.Contains("INT32", StringComparison.Ordinal);
                long hidden = m.Graph.Initializer.Single(t => t.Name == "head.weight").Dims[1];
                m.Graph.Initializer.Add(slice.Contains("starts a scalar", StringComparison.Ordinal) ? Int64s("slice_starts", [], 0)
                    : slice.Contains("starts of rank 2", StringComparison.Ordinal) ? Int64s("slice_starts", [1, 1], 0)
                    : slice.Contains("different lengths", StringComparison.Ordinal) ? Int64s("slice_starts", [2], 0, 0)
                    : int32 ? Int32s("slice_starts", [1], 0) : Int64s("slice_starts", [1], 0));
                m.Graph.Initializer.Add(Int64s("slice_ends", slice.Contains("ends a scalar", StringComparison.Ordinal) ? [] : [1], hidden));
                m.Graph.Initializer.Add(Int64s("slice_axes", slice.Contains("axes a scalar", StringComparison.Ordinal) ? [] : [1], 2));
                m.Graph.Initializer.Add(Int64s("slice_steps", slice.Contains("steps a scalar", StringComparison.Ordinal) ? [] : [1], 1));
                string[] inputs = slice.Contains("steps", StringComparison.Ordinal)
                    ? ["h_l0", "slice_starts", "slice_ends", "slice_axes", "slice_steps"] : ["h_l0", "slice_starts", "slice_ends", "slice_axes"];
                BetweenTheLayers(m, MakeNode("Slice", "slice_moved", inputs, ["h_moved"]));
                break;
            }
            case "Squeeze axes a scalar" or "Squeeze axes INT32":
            {
                TensorProto axes = m.Graph.Initializer.Single(t => t.Name == "num_directions_axis");
                m.Graph.Initializer.Remove(axes);
                m.Graph.Initializer.Add(edit.EndsWith("INT32", StringComparison.Ordinal) ? Int32s(axes.Name, [1], 1) : Int64s(axes.Name, [], 1));
                break;
            }
            case "Unsqueeze axes of rank 2" or "Unsqueeze axes INT32": // [seq, batch, H] → [seq, batch, 1, H] → squeezed back
                m.Graph.Initializer.Add(edit.EndsWith("INT32", StringComparison.Ordinal) ? Int32s("unsqueeze_axes", [1], 2) : Int64s("unsqueeze_axes", [1, 1], 2));
                m.Graph.Initializer.Add(Int64s("axis_2", [1], 2));
                BetweenTheLayers(m, MakeNode("Unsqueeze", "unsqueeze_moved", ["h_l0", "unsqueeze_axes"], ["h_4d"]),
                    MakeNode("Squeeze", "squeeze_moved", ["h_4d", "axis_2"], ["h_moved"]));
                break;
            case "Reshape shape of rank 2" or "Reshape shape INT32": // Reshape(h, [0, 0, -1]): h as it is
                m.Graph.Initializer.Add(edit.EndsWith("INT32", StringComparison.Ordinal) ? Int32s("keep_shape", [3], 0, 0, -1) : Int64s("keep_shape", [1, 3], 0, 0, -1));
                BetweenTheLayers(m, MakeNode("Reshape", "reshape_moved", ["h_l0", "keep_shape"], ["h_moved"]));
                break;
            case "Reshape shape computed, cast to INT32" or "Reshape shape a Concat of scalar sizes": // view(seq, batch, -1) by Shape
            {
                bool scalars = edit.EndsWith("scalar sizes", StringComparison.Ordinal);
                m.Graph.Initializer.Add(Int64s("index_0", scalars ? [] : [1], 0));
                m.Graph.Initializer.Add(Int64s("index_1", scalars ? [] : [1], 1));
                m.Graph.Initializer.Add(Int64s("minus_one", [1], -1));
                BetweenTheLayers(m, MakeNode("Shape", "shape_of_h", ["h_l0"], ["h_shape"]),
                    MakeNode("Gather", "size_0", ["h_shape", "index_0"], ["size_0"], Int("axis", 0)),
                    MakeNode("Gather", "size_1", ["h_shape", "index_1"], ["size_1"], Int("axis", 0)),
                    MakeNode("Concat", "view_shape", ["size_0", "size_1", "minus_one"], ["view_shape"], Int("axis", 0)),
                    MakeNode("Cast", "view_shape_32", ["view_shape"], ["view_shape_32"], Int("to", (long)TensorProto.Types.DataType.Int32)),
                    MakeNode("Reshape", "reshape_moved", ["h_l0", scalars ? "view_shape" : "view_shape_32"], ["h_moved"]));
                break;
            }
            case "Split sizes of rank 2" or "Split sizes INT32":
            {
                NodeProto split = Node(m, "split_h0");
                long[] ones = [.. Enumerable.Repeat(1L, split.Output.Count)];
                m.Graph.Initializer.Add(edit.EndsWith("INT32", StringComparison.Ordinal) ? Int32s("split_sizes", [ones.Length], ones) : Int64s("split_sizes", [1, ones.Length], ones));
                split.Input.Add("split_sizes");
                break;
            }
            case "Gather indices FLOAT": // layer 1's c0 picked by Gather + Unsqueeze, its index a float
            {
                var index = new TensorProto { Name = "pick_index", DataType = (int)TensorProto.Types.DataType.Float };
                index.FloatData.Add(1f);
                m.Graph.Initializer.Add(index);
                m.Graph.Initializer.Add(Int64s("axis_0", [1], 0));
                Before(m, "lstm_l1", MakeNode("Gather", "pick_c1", ["c0", "pick_index"], ["c1_picked"], Int("axis", 0)),
                    MakeNode("Unsqueeze", "unsqueeze_c1", ["c1_picked", "axis_0"], ["c1_state"]));
                Node(m, "lstm_l1").Input[6] = "c1_state";
                break;
            }
            case var zeros when zeros.StartsWith("ConstantOfShape", StringComparison.Ordinal) || zeros == "Expand shape INT32":
            {
                // every layer's initial_h zeros, ConstantOfShape([1, 1, H]) (expanded to the same shape)
                long hidden = m.Graph.Initializer.Single(t => t.Name == "head.weight").Dims[1];
                var value = new TensorProto { Name = "zero", DataType = (int)TensorProto.Types.DataType.Float };
                long[] values = zeros.Contains("two numbers", StringComparison.Ordinal) ? [0, 0] : [0];
                value.Dims.Add(values.Length);
                value.FloatData.AddRange(values.Select(v => (float)v));
                m.Graph.Initializer.Add(zeros.EndsWith("input INT32", StringComparison.Ordinal) ? Int32s("zero_shape", [3], 1, 1, hidden)
                    : zeros.EndsWith("a scalar", StringComparison.Ordinal) ? Int64s("zero_shape", [], hidden)
                    : Int64s("zero_shape", [3], 1, 1, zeros.EndsWith("H + 1", StringComparison.Ordinal) ? hidden + 1 : hidden));
                var nodes = new List<NodeProto> { MakeNode("ConstantOfShape", "zero_state", zeros.EndsWith("without its input", StringComparison.Ordinal) ? [] : ["zero_shape"], ["h_zeros"]) };
                nodes[0].Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = value });
                if (zeros.StartsWith("Expand", StringComparison.Ordinal))
                {
                    m.Graph.Initializer.Add(Int32s("expand_shape", [3], 1, 1, hidden));
                    nodes.Add(MakeNode("Expand", "expand_state", ["h_zeros", "expand_shape"], ["h_zeros_expanded"]));
                }
                Before(m, "lstm_l0", [.. nodes]);
                foreach (NodeProto layer in m.Graph.Node.Where(n => n.OpType == "LSTM")) layer.Input[5] = nodes[^1].Output[0];
                break;
            }
            case "zero initializer of hidden H + 1": // every layer's initial_h zeros of one unit too many
            {
                long hidden = m.Graph.Initializer.Single(t => t.Name == "head.weight").Dims[1];
                var zeros = new TensorProto { Name = "h_zeros", DataType = (int)TensorProto.Types.DataType.Float };
                zeros.Dims.AddRange([1, 1, hidden + 1]);
                zeros.FloatData.AddRange(new float[hidden + 1]);
                m.Graph.Initializer.Add(zeros);
                foreach (NodeProto layer in m.Graph.Node.Where(n => n.OpType == "LSTM")) layer.Input[5] = "h_zeros";
                break;
            }
            case "input declared with one feature too many" or "input declared of rank 2":
            {
                TensorShapeProto shape = m.Graph.Input.Single(i => i.Name == OnnxFile.InputName).Type.TensorType.Shape;
                if (edit.EndsWith("rank 2", StringComparison.Ordinal))
                    shape.Dim.RemoveAt(2);
                else
                    shape.Dim[2] = new TensorShapeProto.Types.Dimension { DimValue = shape.Dim[2].DimValue + 1 };
                break;
            }
            case "h0 declared with one unit too many" or "c0 declared with one layer too many" or "h0 declared of rank 2":
            {
                string name = edit.StartsWith("h0", StringComparison.Ordinal) ? OnnxFile.InitialHiddenName : OnnxFile.InitialCellName;
                TensorShapeProto shape = m.Graph.Input.Single(i => i.Name == name).Type.TensorType.Shape;
                if (edit.EndsWith("rank 2", StringComparison.Ordinal))
                    shape.Dim.RemoveAt(1);
                else if (edit.Contains("unit", StringComparison.Ordinal))
                    shape.Dim[2] = new TensorShapeProto.Types.Dimension { DimValue = shape.Dim[2].DimValue + 1 };
                else
                    shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimValue = shape.Dim[0].DimValue + 1 };
                break;
            }
            case "Split of h0 without its input":
                Node(m, "split_h0").Input[0] = "";
                break;
            case "Transpose perm an INT":
                BetweenTheLayers(m, MakeNode("Transpose", "transpose_moved", ["h_l0"], ["h_moved"], Int("perm", 0)));
                break;
            case "Concat axis INTS":
            {
                NodeProto concat = Node(m, "concat_hn");
                concat.Attribute.Clear();
                concat.Attribute.Add(Ints("axis", 0));
                break;
            }
            case OfATokenModel + "OneHot depth of shape [1, 1]":
            {
                TensorProto depth = m.Graph.Initializer.Single(t => t.Name == "onehot_depth");
                depth.Dims.Clear();
                depth.Dims.AddRange([1, 1]);
                break;
            }
            case OfATokenModel + "OneHot values of shape [2, 1]":
            {
                TensorProto values = m.Graph.Initializer.Single(t => t.Name == "onehot_values");
                values.Dims.Clear();
                values.Dims.AddRange([2, 1]);
                break;
            }
            case "Identity of domain com.example":
            {
                NodeProto squeeze = Node(m, "squeeze_l0");
                NodeProto foreign = MakeNode("Identity", "foreign", [squeeze.Output[0]], ["moved_l0"]);
                foreign.Domain = "com.example";
                m.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.example", Version = 1 });
                Before(m, "lstm_l1", foreign);
                Node(m, "lstm_l1").Input[0] = "moved_l0";
                break;
            }
            default:
                throw new ArgumentException(edit, nameof(edit));
        }
    }

    /// <summary>Every recurrent node's activations in lower case ('relu'; an LSTM's or a GRU's, whose export leaves them to
    /// ONNX's defaults, set as 'sigmoid', 'tanh'…).</summary>
    public static void LowerCaseActivations(ModelProto m)
    {
        foreach (NodeProto node in m.Graph.Node.Where(n => n.OpType is "LSTM" or "GRU" or "RNN"))
        {
            string[] names = node.OpType switch { "LSTM" => ["Sigmoid", "Tanh", "Tanh"], "GRU" => ["Sigmoid", "Tanh"], _ => [] };
            AttributeProto activations = node.Attribute.SingleOrDefault(a => a.Name == "activations")
                ?? new AttributeProto { Name = "activations", Type = AttributeProto.Types.AttributeType.Strings };
            if (activations.Strings.Count == 0)
            {
                activations.Strings.AddRange(names.Select(Google.Protobuf.ByteString.CopyFromUtf8));
                node.Attribute.Add(activations);
            }
            for (int i = 0; i < activations.Strings.Count; i++)
                activations.Strings[i] = Google.Protobuf.ByteString.CopyFromUtf8(activations.Strings[i].ToStringUtf8().ToLowerInvariant());
        }
    }

    /// <summary>The exported graph (opset 14) rewritten in the form of opset <paramref name="version"/>: before 13 Squeeze's axes
    /// and Split's sizes are attributes; from 18 Split says how many parts it makes.</summary>
    public static void InOpset(ModelProto m, long version)
    {
        m.OpsetImport.Single(o => o.Domain is "" or "ai.onnx").Version = version;
        if (version < 13)
        {
            foreach (NodeProto squeeze in m.Graph.Node.Where(n => n.OpType == "Squeeze"))
            {
                squeeze.Attribute.Add(Ints("axes", ReadAxes(m, squeeze.Input[1])));
                squeeze.Input.RemoveAt(1);
            }
            foreach (NodeProto split in m.Graph.Node.Where(n => n.OpType == "Split"))
                split.Attribute.Add(Ints("split", Enumerable.Repeat(1L, split.Output.Count).ToArray()));
        }
        if (version >= 18)
            foreach (NodeProto split in m.Graph.Node.Where(n => n.OpType == "Split"))
                split.Attribute.Add(Int("num_outputs", split.Output.Count));
    }

    private static long[] ReadAxes(ModelProto m, string name) => [.. m.Graph.Initializer.Single(t => t.Name == name).Int64Data];

    // ------------------------------------------------------------------ helpers
    /// <summary>Inserts <paramref name="nodes"/> between the layers: the first reads layer 0's output h_l0, layer 1 reads the
    /// last one's output.</summary>
    public static void BetweenTheLayers(ModelProto m, params NodeProto[] nodes)
    {
        Before(m, "lstm_l1", nodes);
        Node(m, "lstm_l1").Input[0] = nodes[^1].Output[0];
    }

    public static NodeProto Node(ModelProto m, string name) => m.Graph.Node.Single(n => n.Name == name);

    /// <summary>Inserts <paramref name="nodes"/> before the node <paramref name="consumer"/>.</summary>
    public static void Before(ModelProto m, string consumer, params NodeProto[] nodes)
    {
        int at = m.Graph.Node.IndexOf(Node(m, consumer));
        foreach (NodeProto node in nodes) m.Graph.Node.Insert(at++, node);
    }

    public static NodeProto MakeNode(string op, string name, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        return node;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static TensorProto Int32s(string name, long[] dims, params long[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int32 };
        tensor.Dims.AddRange(dims);
        tensor.Int32Data.AddRange(values.Select(v => checked((int)v)));
        return tensor;
    }

    public static TensorProto Int64s(string name, long[] dims, params long[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.AddRange(dims);
        tensor.Int64Data.AddRange(values);
        return tensor;
    }
}
