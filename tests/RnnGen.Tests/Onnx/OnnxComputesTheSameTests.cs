using Google.Protobuf;
using Onnx;
using RnnGen.Tests.Generated;
using RnnGen.Tests.Models;
using RnnGen.Tests.Shared;
using static RnnGen.Tests.Shared.OnnxGraphEdits;

namespace RnnGen.Tests.Onnx;

/// <summary>
/// Graphs that hold the model's weights but compute something else — a different output, a data path that changes values
/// or mixes axes, states wired to another layer, a name defined twice, lengths, an unknown opset — are refused by name and
/// leave the model untouched; graphs that only move values (size-1 axes, wider floats, the last step, a layer's own state)
/// import the exporter's parameters. (ONNX Runtime agreeing with RnnGen on the accepted ones: the oracle's
/// OnnxAcceptedGraphsTests.)
/// </summary>
public class OnnxComputesTheSameTests
{
    private const TensorProto.Types.DataType Float = TensorProto.Types.DataType.Float;

    // ------------------------------------------------------------------ A. a model without a head outputs its top layer's Y
    [Fact]
    public void NoHeadOutputOfALowerLayer() =>
        AssertRefused<LstmF3x5>(m =>
            {
                Node(m, "squeeze_l2").Output[0] = "h_l2";
                m.Graph.Node.Add(MakeNode("Identity", "out_from_l0", ["h_l0"], ["output"]));
            },
            "the graph's output 'output' is computed by the LSTM node 'lstm_l0', not the output Y of the top layer (LSTM node 'lstm_l2')");

    [Fact]
    public void NoHeadOutputWithPermutedFeatures() =>
        AssertRefused<LstmF3x5>(m =>
            {
                Node(m, "squeeze_l2").Output[0] = "h_l2";
                m.Graph.Initializer.Add(OnnxTensors.CreateInt64("reversed", [5], 4, 3, 2, 1, 0));
                m.Graph.Node.Add(MakeNode("Gather", "feat_gather", ["h_l2", "reversed"], ["output"], Int("axis", 2)));
            },
            "the graph's output 'output' passes through the Gather node 'feat_gather', which picks [5] entries along the features 5 axis");

    [Fact]
    public void NoHeadOutputThroughAnIntegerCast() =>
        AssertRefused<LstmF3x5>(m =>
            {
                Node(m, "squeeze_l2").Output[0] = "h_l2";
                m.Graph.Node.Add(MakeNode("Cast", "to_int", ["h_l2"], ["h_l2_int"], Int("to", (long)TensorProto.Types.DataType.Int32)));
                m.Graph.Node.Add(MakeNode("Cast", "to_float", ["h_l2_int"], ["output"], Int("to", (long)Float)));
            },
            "the graph's output 'output' passes through the Cast node 'to_int', which converts float values to Int32");

    [Fact]
    public void NoHeadOutputExpandedFromOneStep() =>
        AssertRefused<LstmF3x5>(m =>
            {
                Node(m, "squeeze_l2").Output[0] = "h_l2";
                AddInts(m, ("s0", 0), ("s1", 1), ("ax0", 0));
                m.Graph.Node.Add(MakeNode("Slice", "first", ["h_l2", "s0", "s1", "ax0"], ["first_step"]));
                m.Graph.Node.Add(MakeNode("Shape", "shape", ["h_l2"], ["shape_out"]));
                m.Graph.Node.Add(MakeNode("Expand", "expand", ["first_step", "shape_out"], ["output"]));
            },
            "the graph's output 'output' is computed by the Expand node 'expand', not the output Y of the top layer");

    // ------------------------------------------------------------------ B. moves on the data path must keep values and axes
    [Theory]
    [InlineData(TensorProto.Types.DataType.Int32)]
    [InlineData(TensorProto.Types.DataType.Bool)]
    [InlineData(TensorProto.Types.DataType.Float16)]
    public void ACastThatLosesValuesBetweenLayers(TensorProto.Types.DataType type) =>
        AssertRefused<LstmF2x6Head>(m => Through(m, "lstm_l1", "h_l0",
                MakeNode("Cast", "narrow", ["h_l0"], ["narrow_out"], Int("to", (long)type)),
                MakeNode("Cast", "widen", ["narrow_out"], ["widen_out"], Int("to", (long)Float))),
            $"layer 1 (LSTM node 'lstm_l1'): its input X 'widen_out' passes through the Cast node 'narrow', which converts float values to {type}");

    [Fact]
    public void ACastOnTheInputAndOnTheHeadsInput()
    {
        AssertRefused<LstmF2x6Head>(m => Through(m, "lstm_l0", "input",
                MakeNode("Cast", "to_long", ["input"], ["long_out"], Int("to", (long)TensorProto.Types.DataType.Int64)),
                MakeNode("Cast", "back", ["long_out"], ["back_out"], Int("to", (long)Float))),
            "its input X 'back_out' passes through the Cast node 'to_long', which converts float values to Int64");
        AssertRefused<LstmF2x6Head>(m => Through(m, "head_matmul", "h_l1",
                MakeNode("Cast", "to_int", ["h_l1"], ["int_out"], Int("to", (long)TensorProto.Types.DataType.Int32)),
                MakeNode("Cast", "back", ["int_out"], ["back_out"], Int("to", (long)Float))),
            "the head (MatMul node 'head_matmul'): its input 'back_out' passes through the Cast node 'to_int'");
    }

    // float → double → float keeps every float; double → float does not.
    [Fact]
    public void AWideningCastImportsAndANarrowingOneIsRefused()
    {
        AssertImports<LstmF2x6Head>(m => Through(m, "lstm_l1", "h_l0",
            MakeNode("Cast", "wide", ["h_l0"], ["wide_out"], Int("to", (long)TensorProto.Types.DataType.Double)),
            MakeNode("Cast", "back", ["wide_out"], ["back_out"], Int("to", (long)Float))));

        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxFile.ExportToBytes(Harness.NewModel<LstmD2x6Head, double>(seed: 1)));
        Through(proto, "lstm_l1", "h_l0",
            MakeNode("Cast", "narrow", ["h_l0"], ["narrow_out"], Int("to", (long)Float)),
            MakeNode("Cast", "back", ["narrow_out"], ["back_out"], Int("to", (long)TensorProto.Types.DataType.Double)));
        var target = Harness.NewModel<LstmD2x6Head, double>(seed: 2);
        double[] before = target.Parameters.ToArray();
        var e = Assert.Throws<ModelFileException>(() => OnnxFile.Import(target, new MemoryStream(proto.ToByteArray())));
        Assert.Contains("passes through the Cast node 'narrow', which converts double values to Float, which does not keep their values", e.Message);
        Assert.Equal(before, target.Parameters.ToArray());
    }

    [Fact]
    public void ATransposeOfSeqAndBatchBetweenLayers() =>
        AssertRefused<LstmF2x6Head>(m => Through(m, "lstm_l1", "h_l0", MakeNode("Transpose", "swap", ["h_l0"], ["swapped"], Ints("perm", 1, 0, 2))),
            "its input X 'swapped' passes through the Transpose node 'swap', which reorders [seq, batch, features 6] as [batch, seq, features 6]");

    [Fact]
    public void ATransposeOfSeqAndBatchBeforeTheSqueeze() =>
        AssertRefused<LstmF2x6Head>(m => Through(m, "squeeze_l0", "y_l0", MakeNode("Transpose", "swap4", ["y_l0"], ["y_swapped"], Ints("perm", 2, 1, 0, 3))),
            "passes through the Transpose node 'swap4', which reorders [seq, 1, batch, features 6] as [batch, 1, seq, features 6]");

    [Theory]
    [InlineData(new long[] { 2, 2, 6 }, "passes through the Reshape node 'reshape', which reshapes [seq, batch, features 6] to [2, 2, 6]")] // read as [batch, seq, H]
    [InlineData(new long[] { 1, -1, 6 }, "its input X 'reshaped' arrives with axes [1, seq × batch rows, features 6]; a layer reads [seq, batch, features 6]")]
    [InlineData(new long[] { -1, 6 }, "its input X 'reshaped' arrives with axes [seq × batch rows, features 6]; a layer reads [seq, batch, features 6]")]
    public void AReshapeThatMixesSeqAndBatch(long[] shape, string message) =>
        AssertRefused<LstmF2x6Head>(m =>
            {
                m.Graph.Initializer.Add(OnnxTensors.CreateInt64("new_shape", [shape.Length], shape));
                Through(m, "lstm_l1", "h_l0", MakeNode("Reshape", "reshape", ["h_l0", "new_shape"], ["reshaped"]));
            },
            message);

    // A pick of the rows is not the last step (the last row is the last step of the last lane only): refused.
    [Fact]
    public void APickOfRowsIsRefused() =>
        AssertRefused<LstmF2x6Head>(m =>
            {
                m.Graph.Initializer.Add(OnnxTensors.CreateInt64("rows_shape", [2], -1, 6));
                AddInts(m, ("r0", 0), ("r1", 1), ("rax", 0));
                Through(m, "head_matmul", "h_l1",
                    MakeNode("Reshape", "rows", ["h_l1", "rows_shape"], ["h_rows"]),
                    MakeNode("Slice", "first_row", ["h_rows", "r0", "r1", "rax"], ["h_row"]));
            },
            "passes through the Slice node 'first_row', which picks one of the seq × batch rows");

    // The head's result is the output named 'output' when the graph has one (not, say, the product without the bias).
    [Fact]
    public void AGraphOutputNamedOutputThatIsNotTheHeadsResult() =>
        AssertRefused<LstmF2x6Head>(m =>
            {
                Node(m, "head_add").Output[0] = "logits";
                m.Graph.Output.Add(Value("logits", TensorProto.Types.DataType.Float, "seq", "batch", 3));
                m.Graph.Node.Add(MakeNode("Identity", "product_out", ["head_product"], [OnnxFile.OutputName]));
            },
            "the graph's output 'output' is computed by the MatMul node 'head_matmul', not the head's result 'logits' (Add node 'head_add'), " +
            "which is the graph's output 'logits'");

    // Concats of Concats (or thousands of outputs over one chain) would take exponential or quadratic time: the walks have a
    // budget linear in the graph's size, and such a graph is refused within it.
    [Fact]
    public void AGraphThatJoinsItsValuesAgainAndAgainIsRefusedQuickly() =>
        AssertRefused<LstmF2x6Head>(m =>
            {
                m.Graph.Initializer.Add(OnnxTensors.CreateInt64("last_state", [], -1));
                string previous = "hn_l1";
                var nodes = new List<NodeProto>();
                for (int level = 0; level < 7; level++)
                {
                    nodes.Add(MakeNode("Concat", $"join{level}", Enumerable.Repeat(previous, 10).ToArray(), [$"joined{level}"], Int("axis", 0)));
                    nodes.Add(MakeNode("Gather", $"pick{level}", [$"joined{level}", "last_state"], [$"picked{level}"], Int("axis", 0)));
                    nodes.Add(MakeNode("Unsqueeze", $"again{level}", [$"picked{level}", "zero_axis"], [$"state{level}"]));
                    previous = $"state{level}";
                }
                AddInts(m, ("zero_axis", 0));
                nodes.Add(MakeNode("Gather", "last", [previous, "last_state"], ["h_last"], Int("axis", 0)));
                Through(m, "head_matmul", "h_l1", [.. nodes]);
            },
            "is followed more than");

    // PyTorch's fc(out.view(-1, H)) (or a Flatten of [seq, batch] into rows) before the head: every row is mapped alone, so
    // the rows of seq × batch are what the head computes on: imported. (Between layers the same merge is refused above.)
    [Theory, InlineData("Reshape"), InlineData("Flatten")]
    public void AHeadOnSeqAndBatchMergedIntoRowsImports(string op) =>
        AssertImports<LstmF2x6Head>(m =>
        {
            if (op == "Reshape")
            {
                m.Graph.Initializer.Add(OnnxTensors.CreateInt64("rows_shape", [2], -1, 6));
                Through(m, "head_matmul", "h_l1", MakeNode("Reshape", "rows", ["h_l1", "rows_shape"], ["h_rows"]));
            }
            else
            {
                Through(m, "head_matmul", "h_l1", MakeNode("Flatten", "rows", ["h_l1"], ["h_rows"], Int("axis", 2)));
            }
        });

    // Size-1 axes may be added, dropped and moved: Y [seq, 1, batch, H] transposed to [seq, batch, 1, H] and squeezed there,
    // or reshaped to [0, -1, H].
    [Fact]
    public void MovesOfTheSizeOneAxisImport()
    {
        AssertImports<LstmF2x6Head>(m =>
        {
            Through(m, "squeeze_l0", "y_l0", MakeNode("Transpose", "move_dir", ["y_l0"], ["y_moved"], Ints("perm", 0, 2, 1, 3)));
            AddInts(m, ("axis_2", 2));
            Node(m, "squeeze_l0").Input[1] = "axis_2";
        });
        AssertImports<LstmF2x6Head>(m =>
        {
            m.Graph.Initializer.Add(OnnxTensors.CreateInt64("keep_shape", [3], 0, -1, 6));
            NodeProto squeeze = Node(m, "squeeze_l1");
            squeeze.OpType = "Reshape";
            squeeze.Input[1] = "keep_shape";
        });
    }

    [Theory]
    [InlineData("Gather", 2)] // features reversed
    [InlineData("Gather", 1)] // lanes swapped
    [InlineData("Slice", 2)]  // features reversed by steps -1
    public void AHeadOnPickedFeaturesOrLanes(string op, long axis) =>
        AssertRefused<LstmF2x6Head>(m =>
            {
                NodeProto pick;
                if (op == "Gather")
                {
                    m.Graph.Initializer.Add(axis == 2 ? OnnxTensors.CreateInt64("order", [6], 5, 4, 3, 2, 1, 0) : OnnxTensors.CreateInt64("order", [2], 1, 0));
                    pick = MakeNode("Gather", "pick", ["h_l1", "order"], ["picked"], Int("axis", axis));
                }
                else
                {
                    AddInts(m, ("starts", -1), ("ends", long.MinValue), ("axes", axis), ("steps", -1));
                    pick = MakeNode("Slice", "pick", ["h_l1", "starts", "ends", "axes", "steps"], ["picked"]);
                }
                Through(m, "head_matmul", "h_l1", pick);
            },
            $"the head (MatMul node 'head_matmul'): its input 'picked' passes through the {op} node 'pick', which ",
            axis == 2 ? "features 6" : "batch");

    [Fact]
    public void AHeadOnOneLaneOrTheFirstStep()
    {
        AssertRefused<LstmF2x6Head>(m =>
            {
                m.Graph.Initializer.Add(OnnxTensors.CreateInt64("lane", [], 0));
                Through(m, "head_matmul", "h_l1", MakeNode("Gather", "pick", ["h_l1", "lane"], ["picked"], Int("axis", 1)));
            },
            "passes through the Gather node 'pick', which picks one of the batch of [seq, batch, features 6]");
        AssertRefused<LstmF2x6Head>(m =>
            {
                m.Graph.Initializer.Add(OnnxTensors.CreateInt64("first", [], 0));
                Through(m, "head_matmul", "h_l1", MakeNode("Gather", "pick", ["h_l1", "first"], ["picked"], Int("axis", 0)));
            },
            "passes through the Gather node 'pick', which picks entry 0 of the sequence's steps; a head reads every step or the last one");
    }

    // PyTorch's fc(out[-1]) and fc(out[-1:]) read the last step: imported.
    [Theory, InlineData("Gather"), InlineData("Slice")]
    public void AHeadOnTheLastStepImports(string op) =>
        AssertImports<LstmF2x6Head>(m =>
        {
            if (op == "Gather")
            {
                m.Graph.Initializer.Add(OnnxTensors.CreateInt64("last", [], -1));
                Through(m, "head_matmul", "h_l1", MakeNode("Gather", "last_step", ["h_l1", "last"], ["h_last"], Int("axis", 0)));
            }
            else
            {
                AddInts(m, ("starts", -1), ("ends", long.MaxValue), ("axes", 0));
                Through(m, "head_matmul", "h_l1", MakeNode("Slice", "last_step", ["h_l1", "starts", "ends", "axes"], ["h_last"]));
            }
        });

    // ------------------------------------------------------------------ C. a Concat stacks layers on its size-1 axis only
    [Fact]
    public void AHeadOnStatesConcatenatedAlongFeatures() =>
        AssertRefused<LstmF2x6Head>(m =>
            {
                m.Graph.Node.Add(MakeNode("Concat", "cat_features", ["hn_l0", "hn_l1"], ["h_cat"], Int("axis", 2)));
                m.Graph.Initializer.Add(OnnxTensors.CreateInt64("last", [], -1));
                m.Graph.Node.Add(MakeNode("Gather", "pick", ["h_cat", "last"], ["h_sel"], Int("axis", 0)));
                AddInts(m, ("fs", 0), ("fe", 6), ("fa", 1));
                m.Graph.Node.Add(MakeNode("Slice", "first_features", ["h_sel", "fs", "fe", "fa"], ["h_top"]));
                MoveHeadToTheEnd(m);
                Node(m, "head_matmul").Input[0] = "h_top";
            },
            "passes through the Concat node 'cat_features', which joins its inputs along the features 6 axis of [1, batch, features 6]");

    // ------------------------------------------------------------------ D. Gemm's transB: any non-zero transposes (as ONNX Runtime reads it)
    [Theory, InlineData(1L), InlineData(2L), InlineData(-1L)]
    public void AGemmTransBOfAnyNonZeroValueIsTransposed(long transB)
    {
        AssertImports<OnnxSquareLstm>(m => GemmHead(m, Int("transB", transB)));
        AssertImports<LstmF2x6Head>(m => GemmHead(m, Int("transB", transB))); // non-square: the shape check agrees
    }

    // A Gemm without C followed by an Add of the bias is the head (its C moved into an Add): imported, on the last step or on rows,
    // the bias on either side, B as [Output, Hidden] (transB = 1) or [Hidden, Output] (transB = 0). (ONNX Runtime agreeing: the
    // oracle's OnnxAcceptedGraphsTests.)
    public static TheoryData<string> GemmsWithoutCThenTheBias() => [.. OnnxGraphEdits.GemmsWithoutCThenTheBias];

    [Theory]
    [MemberData(nameof(GemmsWithoutCThenTheBias))]
    public void AGemmWithoutCThenTheBiasAddImports(string edit)
    {
        AssertImports<LstmF2x6Head>(m => GemmThenTheBias(m, edit));
        AssertImports<OnnxGru1x4Head>(m => GemmThenTheBias(m, edit));
    }

    [Fact]
    public void AGemmWithoutCOfTheWeightAsStoredForMatMulThenTheBiasAddImports() =>
        AssertImports<LstmF2x6Head>(m =>
        {
            GemmThenTheBias(m, "Gemm without C on the last step, then Add(product, bias)");
            NodeProto gemm = Node(m, "head_gemm");
            gemm.Attribute.Clear(); // transB = 0: B is Vᵀ [Hidden, Output]
            TensorProto v = m.Graph.Initializer.Single(t => t.Name == "head.weight");
            float[] values = OnnxTensors.ReadAll<float>(v, "V", new OnnxSource(null));
            int outputs = (int)v.Dims[0], hidden = (int)v.Dims[1];
            var transposed = new float[values.Length];
            for (int o = 0; o < outputs; o++)
                for (int j = 0; j < hidden; j++)
                    transposed[j * outputs + o] = values[o * hidden + j];
            m.Graph.Initializer.Add(OnnxTensors.Create<float>("head.weight_t", transposed, hidden, outputs));
            gemm.Input[1] = "head.weight_t";
        });

    // Forms that do not compute the head: a second bias (a Gemm with C, and an Add), an Add of other than a constant bias, a
    // scaled product (alpha) or C (beta), a bias that broadcasts as a column.
    [Theory]
    [InlineData("a Gemm with C, then the bias Add", "the head (Gemm node 'head_gemm') adds its bias C 'head.bias', and the Add node 'bias_add' adds to its result again; RnnGen's head adds one bias: give the Gemm no C, or remove the Add")]
    [InlineData("the product added to itself", "the head (Gemm node 'head_gemm')'s Add: its bias input 'gemm_product' is computed in the graph")]
    [InlineData("alpha 2", "the head (Gemm node 'head_gemm') has transA, alpha, or beta with C set; RnnGen reads a plain Gemm h·Vᵀ + c")]
    [InlineData("a Gemm with C and beta 0.5", "the head (Gemm node 'head_gemm') has transA, alpha, or beta with C set; RnnGen reads a plain Gemm h·Vᵀ + c")]
    [InlineData("a bias [Output, 1]", "the head (Gemm node 'head_gemm') has a bias of shape [3, 1]; the model needs [3] or [1, 3] (head.bias)")]
    public void AGemmThenAnAddThatIsNotTheHeadIsRefused(string edit, string message) =>
        AssertRefused<LstmF2x6Head>(m =>
            {
                GemmThenTheBias(m, (edit.StartsWith("a Gemm with C", StringComparison.Ordinal) ? "Gemm with C" : "Gemm without C") +
                                   " on the last step, then Add(product, bias)");
                NodeProto add = Node(m, "bias_add");
                switch (edit)
                {
                    case "the product added to itself":
                        add.Input[1] = "gemm_product";
                        break;
                    case "alpha 2":
                        Node(m, "head_gemm").Attribute.Add(new AttributeProto { Name = "alpha", Type = AttributeProto.Types.AttributeType.Float, F = 2 });
                        break;
                    case "a Gemm with C and beta 0.5":
                        Node(m, "head_gemm").Attribute.Add(new AttributeProto { Name = "beta", Type = AttributeProto.Types.AttributeType.Float, F = 0.5f });
                        break;
                    case "a bias [Output, 1]":
                        TensorProto bias = m.Graph.Initializer.Single(t => t.Name == "head.bias");
                        bias.Dims.Clear();
                        bias.Dims.AddRange([3, 1]);
                        break;
                }
            },
            message);

    // ------------------------------------------------------------------ E. a name is defined once
    // ONNX Runtime refuses a graph with two inputs of a name (the oracle's InvalidGraphsAreRefusedByOnnxRuntimeToo): so does
    // import, however the second is declared, rather than reading the first.
    [Theory]
    [InlineData("input", false)]
    [InlineData("h0", true)]
    [InlineData("c0", false)]
    public void AGraphInputDeclaredTwice(string name, bool otherType) =>
        AssertRefused<LstmF2x6Head>(m =>
            {
                ValueInfoProto second = m.Graph.Input.Single(i => i.Name == name).Clone();
                if (otherType) second.Type.TensorType.ElemType = (int)TensorProto.Types.DataType.Double;
                m.Graph.Input.Insert(0, second);
            },
            $"two inputs of the graph are named '{name}'; each input of an ONNX graph is declared once, and ONNX Runtime refuses the graph (rename or remove one)");

    [Theory]
    [InlineData("initializer")]
    [InlineData("Constant")]
    [InlineData("Identity")]
    public void ANameDefinedTwice(string second) =>
        AssertRefused<LstmF2x6Head>(m =>
            {
                TensorProto w = m.Graph.Initializer.Single(t => t.Name == "W_l0");
                TensorProto copy = w.Clone();
                if (second == "initializer")
                    m.Graph.Initializer.Insert(0, copy);
                else if (second == "Constant")
                    m.Graph.Node.Insert(0, MakeNode("Constant", "const_w", [], ["W_l0"], new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = copy }));
                else
                {
                    copy.Name = "W_other";
                    m.Graph.Initializer.Add(copy);
                    m.Graph.Node.Insert(0, MakeNode("Identity", "copy_w", ["W_other"], ["W_l0"]));
                }
            },
            second == "initializer"
                ? "two initializers are named 'W_l0'; each tensor of an ONNX graph is defined once"
                : $"the tensor 'W_l0' is both an initializer and the output of the {second} node");

    // ------------------------------------------------------------------ F. states: layer k reads h0[k] / c0[k] (or zeros)
    [Fact]
    public void LayersReadingEachOthersInitialState() =>
        AssertRefused<LstmF2x6Head>(m =>
            {
                Node(m, "lstm_l0").Input[5] = "h0_l1";
                Node(m, "lstm_l1").Input[5] = "h0_l0";
            },
            "layer 0 (LSTM node 'lstm_l0'): its initial_h input 'h0_l1' is layer 1's slice of the graph input 'h0'; layer 0 reads its own (h0[0])");

    // One layer's state zeros (or absent) beside the others' slices of h0: RnnGen feeds every layer from the caller's state.
    [Fact]
    public void OneLayerWithoutItsStateBesideOthersWithTheirs() =>
        AssertRefused<LstmF2x6Head>(m =>
            {
                Node(m, "lstm_l1").Input[5] = "";
                Node(m, "lstm_l1").Input[6] = "";
            },
            "layer 1's initial_h is zeros or absent while layer 0's is a slice of the graph input 'h0'");

    // h0 given a zero initializer and still a graph input (IR 4+: a default the caller may override) is the caller's state,
    // not zeros: its slices are checked as any input's (a default zero h0 let swapped slices through).
    [Fact]
    public void AStateInputWithADefaultIsStillTheCallers() =>
        AssertRefused<LstmF2x6Head>(m =>
            {
                m.Graph.Initializer.Add(OnnxTensors.Create<float>("h0", new float[2 * 1 * 6], 2, 1, 6));
                Node(m, "lstm_l0").Input[5] = "h0_l1";
                Node(m, "lstm_l1").Input[5] = "h0_l0";
            },
            "its initial_h input 'h0_l1'");

    [Fact]
    public void ACellStateReadFromH0() =>
        AssertRefused<LstmF2x6Head>(m =>
            {
                Node(m, "lstm_l0").Input[6] = "h0_l0";
                Node(m, "lstm_l1").Input[6] = "h0_l1";
            },
            "layer 0's initial_c is a slice of 'h0', which the layers' initial_h read; an LSTM's h0 and c0 are separate inputs");

    [Fact]
    public void AStateMadeFromTheInputSequence() =>
        AssertRefused<GruF3x5>(m =>
            {
                AddInts(m, ("s0", 0), ("s1", 1), ("ax0", 0));
                m.Graph.Node.Insert(0, MakeNode("Slice", "first_step", ["input", "s0", "s1", "ax0"], ["x_first"]));
                Node(m, "gru_l0").Input[5] = "x_first";
            },
            "layer 0 (GRU node 'gru_l0'): its initial_h input 'x_first' is made from 'input', the graph's input sequence");

    [Fact]
    public void AStateThroughAnIntegerCast() =>
        AssertRefused<LstmF2x6Head>(m => Through(m, "lstm_l0", "h0_l0",
                MakeNode("Cast", "to_int", ["h0_l0"], ["h_int"], Int("to", (long)TensorProto.Types.DataType.Int32)),
                MakeNode("Cast", "back", ["h_int"], ["h_back"], Int("to", (long)Float))),
            "its initial_h input 'h_back' passes through the Cast node 'to_int', which converts float values to Int32");

    [Fact]
    public void AStateWithReversedFeatures() =>
        AssertRefused<LstmF2x6Head>(m =>
            {
                m.Graph.Initializer.Add(OnnxTensors.CreateInt64("reversed", [6], 5, 4, 3, 2, 1, 0));
                Through(m, "lstm_l0", "h0_l0", MakeNode("Gather", "reverse", ["h0_l0", "reversed"], ["h_rev"], Int("axis", 2)));
            },
            "its initial_h input 'h_rev' passes through the Gather node 'reverse', which picks [6] entries along the features 6 axis");

    [Fact]
    public void AStateOfOneLaneExpandedToAll() =>
        AssertRefused<LstmF2x6Head>(m =>
            {
                AddInts(m, ("z", 0), ("o", 1), ("ax1", 1));
                Through(m, "lstm_l0", "h0_l0",
                    MakeNode("Slice", "lane0", ["h0_l0", "z", "o", "ax1"], ["h_lane0"]),
                    MakeNode("Shape", "shape", ["h0_l0"], ["h_shape"]),
                    MakeNode("Expand", "expand", ["h_lane0", "h_shape"], ["h_expanded"]));
            },
            "its initial_h input 'h_expanded' is computed by the Expand node 'expand', not layer 0's slice of a state input of the graph");

    // The stacked state picked by a scalar Gather and unsqueezed back (another exporter's way to take h0[k]) imports.
    [Fact]
    public void AStatePickedByGatherImports() =>
        AssertImports<LstmF2x6Head>(m =>
        {
            m.Graph.Initializer.Add(OnnxTensors.CreateInt64("one", [], 1));
            AddInts(m, ("axis0", 0));
            Through(m, "lstm_l1", "c0_l1",
                MakeNode("Gather", "pick_c1", ["c0", "one"], ["c1_picked"], Int("axis", 0)),
                MakeNode("Unsqueeze", "unsqueeze_c1", ["c1_picked", "axis0"], ["c1_state"]));
        });

    [Theory]
    [InlineData("hn", "swapped")]
    [InlineData("cn", "axis")]
    public void FinalStatesStackedOtherwise(string output, string how) =>
        AssertRefused<LstmF2x6Head>(m =>
            {
                NodeProto concat = Node(m, $"concat_{output}");
                if (how == "swapped") (concat.Input[0], concat.Input[1]) = (concat.Input[1], concat.Input[0]);
                else concat.Attribute.Single(a => a.Name == "axis").I = 2;
            },
            how == "swapped"
                ? "the graph's output 'hn' stacks as layer 0 'hn_l1', which is computed by the LSTM node 'lstm_l1' (its output 1); it must stack the final hidden states (Y_h) of layers 0 to 1, in order"
                : "the graph's output 'cn' is a Concat (node 'concat_cn') on axis 2; it must stack the final cell states (Y_c)");

    // ------------------------------------------------------------------ G. sequence_lens: RnnGen has no per-sequence lengths
    [Fact]
    public void ASequenceLengthsInput() =>
        AssertRefused<GruF3x5>(m =>
            {
                m.Graph.Input.Add(Value("seq_lens", TensorProto.Types.DataType.Int32, "batch"));
                foreach (NodeProto layer in m.Graph.Node.Where(n => n.OpType == "GRU")) layer.Input[4] = "seq_lens";
            },
            "layer 0 (GRU node 'gru_l0'): its sequence_lens input 'seq_lens' is set; RnnGen runs every step of every sequence");

    // J: a lengths input declared first is not taken for the model's input
    [Fact]
    public void ASequenceLengthsInputDeclaredFirst() =>
        AssertRefused<LstmF2x6Head>(m =>
            {
                m.Graph.Input.Insert(0, Value("seq_lens", TensorProto.Types.DataType.Int32, "batch"));
                Node(m, "lstm_l0").Input[4] = "seq_lens";
            },
            "its sequence_lens input 'seq_lens' is set");

    // ------------------------------------------------------------------ H. layout and opset
    [Fact]
    public void ABatchFirstLayout() =>
        AssertRefused<LstmF2x6Head>(m =>
            {
                NodeProto layer = Node(m, "lstm_l1");
                layer.Attribute.Add(Int("layout", 1));
                layer.Input[5] = "";
                layer.Input[6] = "";
            },
            "layer 1 (LSTM node 'lstm_l1') has layout 1 (batch first); RnnGen reads layout 0");

    [Theory]
    [InlineData(-1L)]
    [InlineData(6L)]
    [InlineData(23L)]
    [InlineData(30L)]
    public void AnOpsetOutsideTheReadRange(long version) =>
        AssertRefused<LstmF2x6Head>(m =>
            {
                if (version < 0) m.OpsetImport.Clear();
                else m.OpsetImport.Single().Version = version;
            },
            version < 0 ? "the ONNX model imports no operator set of the default domain (ai.onnx)" : $"the ONNX model uses opset {version} of the default domain; RnnGen reads opsets 7 to 22");

    // The exported graph in the form of each opset: before 13, Squeeze's axes and Split's sizes are attributes; from 18, Split
    // says how many parts it makes.
    [Theory, InlineData(7L), InlineData(11L), InlineData(13L), InlineData(18L), InlineData(22L)]
    public void AnOpsetInTheRangeImports(long version) =>
        AssertImports<LstmF2x6Head>(m => OnnxGraphEdits.InOpset(m, version));

    // A graph that is not valid ONNX — a node in another opset's form (Squeeze's axes as an input before opset 13 or as an
    // attribute from 13, a Split of opset 18 or later that gives neither its sizes nor its number of parts), an op type in the
    // wrong case, an operator of another domain, an integer input of another rank or element type (a Slice's starts a scalar,
    // a Reshape's shape INT32, a Concat of scalar sizes) — is refused, saying what is wrong (ONNX Runtime refuses to load or
    // fails running each: the oracle's OnnxAcceptedGraphsTests.InvalidGraphsAreRefusedByOnnxRuntimeToo).
    public static TheoryData<string, string> InvalidGraphs()
    {
        var data = new TheoryData<string, string>();
        foreach (var (edit, message) in OnnxGraphEdits.Invalid) data.Add(edit, message);
        return data;
    }

    [Theory]
    [MemberData(nameof(InvalidGraphs))]
    public void AGraphThatIsNotValidOnnxIsRefused(string edit, string message)
    {
        if (edit.StartsWith(OnnxGraphEdits.OfATokenModel, StringComparison.Ordinal))
            AssertRefused<LstmFTokens>(m => OnnxGraphEdits.MakeInvalid(m, edit), message);
        else
            AssertRefused<LstmF2x6Head>(m => OnnxGraphEdits.MakeInvalid(m, edit), message);
    }

    // An RNN's activation names are case-sensitive in ONNX Runtime ('relu' refused), an LSTM's and a GRU's are not ('sigmoid'
    // computes Sigmoid): import reads them alike (the oracle checks both against ONNX Runtime).
    [Fact]
    public void ActivationNamesInLowerCase()
    {
        AssertRefused<RnnReluF2x5>(OnnxGraphEdits.LowerCaseActivations,
            "layer 0 (RNN node 'rnn_l0') uses activations [relu]: an RNN's activation names are case-sensitive (ONNX's are [Relu])");
        AssertImports<LstmF2x6Head>(OnnxGraphEdits.LowerCaseActivations);
        AssertImports<GruF3x5>(OnnxGraphEdits.LowerCaseActivations);
    }

    [Fact]
    public void AnOperatorOfALaterOpset() =>
        AssertRefused<LstmFTokens>(m => OnnxGraphEdits.InOpset(m, 8),
            "node 'onehot' (OneHot): OneHot is an operator of opset 9 and later; the graph is not valid ONNX for its opset 8, and ONNX Runtime refuses to load it");

    // ------------------------------------------------------------------ I. long chains are followed without recursion
    [Fact]
    public void ALongChainOfIdentitiesImports() =>
        AssertImports<LstmF2x6Head>(m =>
        {
            foreach (var (consumer, tensor) in new[] { ("lstm_l0", "h0_l0"), ("lstm_l1", "h_l0"), ("head_matmul", "h_l1") })
            {
                string previous = tensor;
                for (int i = 0; i < 20_000; i++) // appended: the importer does not need the nodes in topological order
                {
                    m.Graph.Node.Add(MakeNode("Identity", $"{tensor}_id{i}", [previous], [$"{tensor}_c{i}"]));
                    previous = $"{tensor}_c{i}";
                }
                NodeProto reader = Node(m, consumer);
                reader.Input[reader.Input.IndexOf(tensor)] = previous;
            }
        });

    // ------------------------------------------------------------------ J. messages say what was found
    [Fact]
    public void ATokenGraphWithTheStateDeclaredFirstImports() =>
        AssertImports<LstmFTokens>(m =>
        {
            ValueInfoProto input = m.Graph.Input[0];
            m.Graph.Input.RemoveAt(0);
            m.Graph.Input.Add(input);
        });

    [Fact]
    public void LinearBeforeResetOfAnotherValueIsNamed() =>
        AssertRefused<GruF3x5>(m => Node(m, "gru_l0").Attribute.Single(a => a.Name == "linear_before_reset").I = 2,
            "layer 0 (GRU node 'gru_l0') has linear_before_reset = 2", "linear_before_reset must be 1");

    [Fact]
    public void AnAttributeOfTheWrongType() =>
        AssertRefused<LstmF2x6Head>(m =>
            {
                NodeProto layer = Node(m, "lstm_l0");
                layer.Attribute.Remove(layer.Attribute.Single(a => a.Name == "hidden_size"));
                layer.Attribute.Add(new AttributeProto { Name = "hidden_size", Type = AttributeProto.Types.AttributeType.Float, F = 6 });
            },
            "node 'lstm_l0' (LSTM) has attribute 'hidden_size' of type Float; ONNX defines it as an INT");

    [Theory, InlineData("W"), InlineData("P")]
    public void AWeightFedAsAGraphInput(string which) =>
        AssertRefused<LstmF2x6Head>(m =>
            {
                NodeProto layer = Node(m, "lstm_l0");
                if (which == "W")
                    m.Graph.Initializer.Remove(m.Graph.Initializer.Single(t => t.Name == "W_l0"));
                else
                {
                    while (layer.Input.Count < 8) layer.Input.Add("");
                    layer.Input[7] = "P_l0";
                }
                m.Graph.Input.Add(Value(which + "_l0", Float, 1, 24, 4));
            },
            $"layer 0 (LSTM node 'lstm_l0'): its {which} input '{which}_l0' is an input of the graph (fed by the caller), not an initializer");

    // ------------------------------------------------------------------ K. moves after the head
    // PyTorch's fc(out.view(-1, H)).view(seq, batch, -1) — the sizes read by Shape (dynamic axes) or numbers the input declares
    // (no dynamic axes) — and a size-1 axis added and moved, after the head or between its product and its bias Add: every
    // output stays at its (step, lane, feature), imported (ONNX Runtime agreeing: the oracle's OnnxAcceptedGraphsTests).
    public static TheoryData<string> KeepingMovesAfterTheHead() => [.. OnnxGraphEdits.KeepingMovesAfterTheHead];

    [Theory]
    [MemberData(nameof(KeepingMovesAfterTheHead))]
    public void AMoveAfterTheHeadThatKeepsTheOutputsImports(string edit) =>
        AssertImports<LstmF2x6Head>(m => OnnxGraphEdits.MoveAfterTheHead(m, edit, steps: 4, batch: 3));

    // Moves after the head that put outputs at another step or lane: refused, naming the move.
    [Theory]
    [InlineData("Transpose of seq and batch", "the graph's output 'output' passes through the Transpose node 'swap', which reorders [seq, batch, features 3] as [batch, seq, features 3]")]
    [InlineData("rows, then view(seq, batch, -1) by Shape, swapped", "the graph's output 'output' passes through the Reshape node 'view', which reshapes [seq × batch rows, features 3] to [batch, seq, -1], which may mix the sequence, batch and feature axes")]
    [InlineData("rows, then view(S, B, -1) of sizes not declared", "the graph's output 'output' passes through the Reshape node 'view', which reshapes [seq × batch rows, features 3] to [4, 3, -1], which may mix")]
    [InlineData("Transpose of seq and batch" + OnnxGraphEdits.BeforeTheBias, "the head's Add node 'head_add': its input 'product_moved' passes through the Transpose node 'swap', which reorders [seq, batch, features 3] as [batch, seq, features 3]")]
    // a bias [Output] would be added along the size-1 axis, broadcasting every output to every output's bias
    [InlineData("Unsqueeze of a size-1 axis after the outputs" + OnnxGraphEdits.BeforeTheBias, "the head's Add node 'head_add': its input 'product_moved' arrives with axes [seq, batch, features 3, 1] from the head's product [seq, batch, features 3]; the bias is added to the product moved unchanged (or its last step), its 3 outputs on the last axis")]
    public void AMoveAfterTheHeadThatMixesStepsAndLanesIsRefused(string edit, string message) =>
        AssertRefused<LstmF2x6Head>(m => OnnxGraphEdits.MoveAfterTheHead(m, edit, steps: 4, batch: 3), message);

    // A pick of the last step after the head (fc(out)[-1], fc(out)[-1:], or between the product and the bias Add) computes what
    // the head on the last step does (fc(out[-1])), the head mapping every step alone: imported, as that is (ONNX Runtime agreeing
    // with RnnGen's last step: the oracle's OnnxAcceptedGraphsTests).
    public static TheoryData<string> LastStepPicksAfterTheHead() => [.. OnnxGraphEdits.LastStepPicksAfterTheHead];

    [Theory]
    [MemberData(nameof(LastStepPicksAfterTheHead))]
    public void APickOfTheLastStepAfterTheHeadImports(string edit) =>
        AssertImports<LstmF2x6Head>(m => OnnxGraphEdits.MoveAfterTheHead(m, edit));

    // A pick of another step is not what RnnGen's outputs hold in order: refused, naming the pick.
    [Theory]
    [InlineData("", "the graph's output 'output' passes through the Gather node 'pick_step', which picks entry 0 of the sequence's steps; a head reads every step or the last one")]
    [InlineData(OnnxGraphEdits.BeforeTheBias, "the head's Add node 'head_add': its input 'product_moved' passes through the Gather node 'pick_step', which picks entry 0 of the sequence's steps")]
    public void APickOfTheFirstStepAfterTheHeadIsRefused(string where, string message) =>
        AssertRefused<LstmF2x6Head>(m => OnnxGraphEdits.MoveAfterTheHead(m, "Gather of the first step (fc(out)[0])" + where), message);

    // A model without a head: its output may be the top layer's last step (out[-1]), not another step.
    [Theory, InlineData(-1L, true), InlineData(0L, false)]
    public void NoHeadOutputOfOneStep(long step, bool imports)
    {
        void Edit(ModelProto m)
        {
            Node(m, "squeeze_l2").Output[0] = "h_l2";
            m.Graph.Initializer.Add(OnnxTensors.CreateInt64("step", [], step));
            m.Graph.Node.Add(MakeNode("Gather", "pick_step", ["h_l2", "step"], [OnnxFile.OutputName], Int("axis", 0)));
        }
        if (imports) AssertImports<LstmF3x5>(Edit);
        else AssertRefused<LstmF3x5>(Edit, "the graph's output 'output' passes through the Gather node 'pick_step', which picks entry 0 of the sequence's steps");
    }

    // A Gather of index long.MaxValue (beyond any axis) is named by its index, not by an overflowed range.
    [Theory]
    [InlineData("h_l1", 0L, "picks entry 9223372036854775807 of the sequence's steps")]
    [InlineData("c0", 0L, "picks entry 9223372036854775807 of the 2 layers of [2 layers, batch, features 6]")]
    public void AGatherOfTheLargestIndexIsNamedByIt(string tensor, long axis, string message) =>
        AssertRefused<LstmF2x6Head>(m =>
            {
                m.Graph.Initializer.Add(OnnxTensors.CreateInt64("huge", [], long.MaxValue));
                if (tensor == "c0")
                {
                    AddInts(m, ("axis0", 0));
                    Through(m, "lstm_l1", "c0_l1",
                        MakeNode("Gather", "pick", ["c0", "huge"], ["c_picked"], Int("axis", axis)),
                        MakeNode("Unsqueeze", "again", ["c_picked", "axis0"], ["c_state"]));
                }
                else
                    Through(m, "head_matmul", tensor, MakeNode("Gather", "pick", [tensor, "huge"], ["picked"], Int("axis", axis)));
            },
            message);

    // ------------------------------------------------------------------ L. weights that are also graph inputs
    // Old PyTorch exports (keep_initializers_as_inputs=True) list every weight as a graph input too: the initializer is the value
    // ONNX Runtime uses when the caller does not feed one, and the value imported (ORT agreeing: the oracle's
    // OnnxAcceptedGraphsTests). A weight that is a graph input without an initializer is refused (AWeightFedAsAGraphInput).
    [Fact]
    public void WeightsThatAreAlsoGraphInputsImportTheirInitializers() =>
        AssertImports<LstmF2x6Head>(OnnxGraphEdits.WeightsAsGraphInputs);

    // A Constant node gives its value as a tensor or as value_floats (ONNX Runtime runs either): a bias of either form imports,
    // not "computed in the graph" (the oracle's OnnxAcceptedGraphsTests).
    [Fact]
    public void AHeadBiasAsAConstantsValueFloatsImports() =>
        AssertImports<LstmF2x6Head>(OnnxGraphEdits.HeadBiasAsConstantFloats);

    // ------------------------------------------------------------------ M. the top layer's final state Y_h as the output or the head's input
    // PyTorch's many-to-one models read the top layer's final hidden state — `_, (h_n, c_n) = lstm(x); return fc(h_n[-1])`, or
    // h_n[-1] (h_n of one layer) without a head — which is the last step's h: imported, with and without a head, one layer or
    // stacked, for every cell kind (ONNX Runtime agreeing with RnnGen's last step: the oracle's OnnxAcceptedGraphsTests).
    public static TheoryData<string, string> FinalStateReads()
    {
        var data = new TheoryData<string, string>();
        foreach (string model in new[]
                 {
                     nameof(LstmF3x5), nameof(GruF3x5), nameof(RnnTanhF3x5), nameof(OnnxRnnTokens), nameof(LstmF2x6Head), nameof(GruF40), nameof(RnnReluF2x5),
                 })
            foreach (string edit in OnnxGraphEdits.FinalStateReads)
                data.Add(model, edit);
        return data;
    }

    [Theory]
    [MemberData(nameof(FinalStateReads))]
    public void TheTopLayersFinalStateImports(string model, string edit)
    {
        void Edit(ModelProto m) => ReadTheFinalState(m, edit);
        switch (model)
        {
            case nameof(LstmF3x5): AssertImports<LstmF3x5>(Edit); break;
            case nameof(GruF3x5): AssertImports<GruF3x5>(Edit); break;
            case nameof(RnnTanhF3x5): AssertImports<RnnTanhF3x5>(Edit); break;
            case nameof(OnnxRnnTokens): AssertImports<OnnxRnnTokens>(Edit); break;
            case nameof(LstmF2x6Head): AssertImports<LstmF2x6Head>(Edit); break;
            case nameof(GruF40): AssertImports<GruF40>(Edit); break;
            case nameof(RnnReluF2x5): AssertImports<RnnReluF2x5>(Edit); break;
            default: throw new ArgumentException(model, nameof(model));
        }
    }

    // `return h_n[-1]` exported with output_names=["hn"]: the model's only output is named as RnnGen names the stacked final
    // states, yet it is the top layer's h, checked as the model's output (it was refused as not stacking every layer's state).
    [Theory, InlineData("h_n[-1] (Gather)"), InlineData("the top layer's Y_h, squeezed")]
    public void NoHeadOutputOfTheTopFinalStateNamedHn(string edit) =>
        AssertImports<LstmF3x5>(m =>
        {
            ReadTheFinalState(m, edit);
            GraphProto g = m.Graph;
            // h_n and c_n internal, as PyTorch leaves them when only h_n[-1] is returned
            foreach (NodeProto node in g.Node)
                for (int i = 0; i < node.Input.Count; i++)
                    if (node.Input[i] == OnnxFile.FinalHiddenName) node.Input[i] = "h_n_all";
            Node(m, "concat_hn").Output[0] = "h_n_all";
            foreach (string name in new[] { OnnxFile.FinalHiddenName, OnnxFile.FinalCellName })
                g.Output.Remove(g.Output.Single(o => o.Name == name));
            g.Node.Single(n => n.Output.Contains(OnnxFile.OutputName)).Output[0] = OnnxFile.FinalHiddenName;
            g.Output.Single(o => o.Name == OnnxFile.OutputName).Name = OnnxFile.FinalHiddenName;
        });

    // Every layer's final state (all of h_n), a lower layer's, or the cell state is not the top layer's h that RnnGen outputs and
    // its head reads: refused, naming what was read.
    [Theory]
    [InlineData("h_n", "the graph's output 'output' stacks 3 final states (the Concat node 'concat_hn': PyTorch's h_n, every layer's), not the top layer's alone; a model without a head outputs its top layer's h")]
    [InlineData("h_n[0] (Gather)", "the graph's output 'output' passes through the Gather node 'pick_state', which is a pick of other than the last of the states the Concat node 'concat_hn' stacks (RnnGen's head and output read the top layer's h: h_n[-1])")]
    [InlineData("c_n[-1] (Gather)", "the graph's output 'output' is computed by the LSTM node 'lstm_l2' (its final cell state Y_c, PyTorch's c_n: not an h), not the output Y of the top layer (LSTM node 'lstm_l2') or its final hidden state Y_h")]
    [InlineData("Y_h of layer 0, squeezed", "the graph's output 'output' is computed by the LSTM node 'lstm_l0' (its final hidden state Y_h), not the output Y of the top layer (LSTM node 'lstm_l2') or its final hidden state Y_h")]
    public void NoHeadOutputOfAnotherFinalState(string edit, string message) =>
        AssertRefused<LstmF3x5>(m => ReadTheFinalState(m, edit), message);

    [Theory]
    [InlineData("h_n", "the head (MatMul node 'head_matmul'): its input 'h_final' stacks 2 final states (the Concat node 'concat_hn': PyTorch's h_n, every layer's), not the top layer's alone; RnnGen's head reads the top layer's h only: fc(h_n[-1])")]
    [InlineData("h_n[0] (Gather)", "the head (MatMul node 'head_matmul'): its input 'h_final' passes through the Gather node 'pick_state', which is a pick of other than the last of the states the Concat node 'concat_hn' stacks")]
    [InlineData("c_n[-1] (Gather)", "the head (MatMul node 'head_matmul') multiplies 'h_final', which is computed by the LSTM node 'lstm_l1' (its final cell state Y_c, PyTorch's c_n: not an h), not the output of the top layer (LSTM node 'lstm_l1')")]
    [InlineData("Y_h of layer 0, squeezed", "the head (MatMul node 'head_matmul') multiplies 'h_final', which is computed by the LSTM node 'lstm_l0' (its final hidden state Y_h), not the output of the top layer (LSTM node 'lstm_l1')")]
    public void AHeadOnAnotherFinalState(string edit, string message) =>
        AssertRefused<LstmF2x6Head>(m => ReadTheFinalState(m, edit), message);

    // ONNX's Y is optional: a top layer that outputs only its Y_h, read as the model's output, imports; one that outputs neither
    // has no h to output.
    [Theory, InlineData(true), InlineData(false)]
    public void NoHeadTopLayerWithoutY(bool withFinalState)
    {
        void Edit(ModelProto m)
        {
            ReadTheFinalState(m, "the top layer's Y_h, squeezed");
            NodeProto top = Node(m, "rnn_l0");
            top.Output[0] = "";
            if (!withFinalState) top.Output[1] = "";
        }
        if (withFinalState) AssertImports<OnnxRnnTokens>(Edit);
        else AssertRefused<OnnxRnnTokens>(Edit, "the top layer (RNN node 'rnn_l0') has neither an output Y nor Y_h; a model without a head outputs its top layer's h");
    }

    // Without an output named 'output', the model's output is the first that comes from the top layer's Y, else from its Y_h: the
    // stacked final states h_n listed first (a Concat of every layer's Y_h) are not taken for it.
    [Fact]
    public void NoHeadOutputOfTheStepsListedAfterTheFinalStatesImports() =>
        AssertImports<LstmF3x5>(m =>
        {
            ValueInfoProto output = m.Graph.Output.Single(o => o.Name == OnnxFile.OutputName);
            m.Graph.Output.Remove(output);
            m.Graph.Output.Add(output);
            output.Name = "steps";
            Node(m, "squeeze_l2").Output[0] = "steps";
        });

    // ------------------------------------------------------------------ helpers
    private static NodeProto Node(ModelProto m, string name) => m.Graph.Node.Single(n => n.Name == name);

    internal static ValueInfoProto Value(string name, TensorProto.Types.DataType type, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (object d in dims)
            shape.Dim.Add(d is string s ? new TensorShapeProto.Types.Dimension { DimParam = s } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d) });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }

    private static void AddInts(ModelProto m, params (string Name, long Value)[] values)
    {
        foreach (var (name, value) in values)
            m.Graph.Initializer.Add(OnnxTensors.CreateInt64(name, [1], value));
    }

    /// <summary>Rewires <paramref name="consumer"/>'s input <paramref name="tensor"/> through <paramref name="nodes"/> (inserted before it).</summary>
    internal static void Through(ModelProto m, string consumer, string tensor, params NodeProto[] nodes)
    {
        NodeProto c = m.Graph.Node.Single(n => n.Name == consumer);
        int at = m.Graph.Node.IndexOf(c);
        foreach (NodeProto node in nodes) m.Graph.Node.Insert(at++, node);
        for (int i = 0; i < c.Input.Count; i++)
            if (c.Input[i] == tensor) c.Input[i] = nodes[^1].Output[0];
    }

    private static void MoveHeadToTheEnd(ModelProto m)
    {
        foreach (string name in new[] { "head_transpose", "head_matmul", "head_add" })
        {
            NodeProto node = Node(m, name);
            m.Graph.Node.Remove(node);
            m.Graph.Node.Add(node);
        }
    }

    /// <summary>The MatMul + Add head replaced by Gemm(h_top[-1], head.weight, head.bias).</summary>
    internal static void GemmHead(ModelProto m, params AttributeProto[] attributes)
    {
        GraphProto g = m.Graph;
        foreach (string name in new[] { "head_transpose", "head_matmul", "head_add" }) g.Node.Remove(g.Node.Single(n => n.Name == name));
        g.Initializer.Add(OnnxTensors.CreateInt64("last", [], -1));
        g.Node.Add(MakeNode("Gather", "last_step", ["h_l1", "last"], ["h_last"], Int("axis", 0)));
        g.Node.Add(MakeNode("Gemm", "head_gemm", ["h_last", "head.weight", "head.bias"], [OnnxFile.OutputName], attributes));
    }

    /// <summary>Exports <typeparamref name="TModel"/>, lets <paramref name="edit"/> change it, and imports it into a new
    /// model: it must import the exporter's parameters exactly.</summary>
    private static void AssertImports<TModel>(Action<ModelProto> edit) where TModel : class, IRecurrentModel<TModel, float>
    {
        TModel source = Harness.NewModel<TModel, float>(seed: 1);
        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxFile.ExportToBytes(source));
        edit(proto);
        TModel target = Harness.NewModel<TModel, float>(seed: 2);
        OnnxFile.Import(target, new MemoryStream(proto.ToByteArray()));
        Assert.Equal(source.Parameters.ToArray(), target.Parameters.ToArray());
    }

    /// <summary>Exports <typeparamref name="TModel"/>, lets <paramref name="edit"/> change it, and imports it: refused with a
    /// message holding every fragment, the target's parameters untouched.</summary>
    private static void AssertRefused<TModel>(Action<ModelProto> edit, params string[] fragments) where TModel : class, IRecurrentModel<TModel, float>
    {
        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxFile.ExportToBytes(Harness.NewModel<TModel, float>(seed: 1)));
        edit(proto);
        TModel target = Harness.NewModel<TModel, float>(seed: 2);
        float[] before = target.Parameters.ToArray();
        var e = Assert.Throws<ModelFileException>(() => OnnxFile.Import(target, new MemoryStream(proto.ToByteArray())));
        Assert.StartsWith("ONNX stream: ", e.Message);
        foreach (string fragment in fragments)
            Assert.True(e.Message.Contains(fragment, StringComparison.Ordinal), $"'{fragment}' is not in: {e.Message}");
        Assert.Equal(before, target.Parameters.ToArray());
    }
}
