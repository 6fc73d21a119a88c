using Google.Protobuf;
using Onnx;
using RnnGen.Tests.Generated;
using RnnGen.Tests.Models;
using RnnGen.Tests.Shared;

namespace RnnGen.Tests.Onnx;

/// <summary>
/// A corrupt or hostile ONNX file is refused with a <see cref="ModelFileException"/>, never a crash: thousands of seeded
/// damages to exported graphs (bytes flipped or cut, inputs rewired or dropped, attributes of other types and extreme values,
/// shapes and element types changed, operators swapped; also of a graph whose output's shape is computed by Shape, Gather and
/// Concat) either import or are refused with one, and the model is then unchanged. A tensor that declares more values than its
/// data holds is refused before anything is allocated from its shape.
/// </summary>
public class OnnxMalformedFileTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void DamagedBytesAreRefusedOrImported(int seed)
    {
        byte[] exported = OnnxFile.ExportToBytes(Harness.NewModel<LstmF2x6Head, float>(seed: 1));
        var random = new Random(seed);
        for (int trial = 0; trial < 400; trial++)
        {
            byte[] bytes = (byte[])exported.Clone();
            int flips = random.Next(1, 8);
            for (int f = 0; f < flips; f++)
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            if (random.Next(4) == 0) bytes = bytes.AsSpan(0, random.Next(bytes.Length)).ToArray();
            AssertRefusedOrImported<LstmF2x6Head>(bytes, $"seed {seed}, trial {trial}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void DamagedGraphsAreRefusedOrImported(int seed)
    {
        var random = new Random(seed);
        for (int trial = 0; trial < 500; trial++)
        {
            int which = random.Next(4);
            byte[] exported = which switch
            {
                0 or 3 => OnnxFile.ExportToBytes(Harness.NewModel<LstmF2x6Head, float>(seed: 1)),
                1 => OnnxFile.ExportToBytes(Harness.NewModel<GruF3x5, float>(seed: 1)),
                _ => OnnxFile.ExportToBytes(Harness.NewModel<LstmFTokens, float>(seed: 1)),
            };
            ModelProto proto = ModelProto.Parser.ParseFrom(exported);
            if (which == 3) OnnxGraphEdits.MoveAfterTheHead(proto, "rows, then view(seq, batch, -1) by Shape"); // the shapes computed
            int damages = random.Next(1, 4);
            var done = new List<string>();
            for (int d = 0; d < damages; d++) done.Add(Damage(proto, random));
            byte[] bytes = proto.ToByteArray();
            string context = $"seed {seed}, trial {trial}: {string.Join("; ", done)}";
            switch (which)
            {
                case 0 or 3: AssertRefusedOrImported<LstmF2x6Head>(bytes, context); break;
                case 1: AssertRefusedOrImported<GruF3x5>(bytes, context); break;
                default: AssertRefusedOrImported<LstmFTokens>(bytes, context); break;
            }
        }
    }

    // A zero initial state whose shape declares far more values than its data holds (16M: 128 MB read as doubles), as an
    // initializer or as ConstantOfShape's value, is refused before anything is allocated from that shape (ConstantOfShape's by
    // its shape: its value is one number).
    [Theory, InlineData("initializer"), InlineData("ConstantOfShape")]
    public void AZeroStateThatDeclaresMoreValuesThanItHoldsIsRefusedCheaply(string kind)
    {
        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxFile.ExportToBytes(Harness.NewModel<LstmF2x6Head, float>(seed: 1)));
        GraphProto graph = proto.Graph;
        var zeros = new TensorProto { Name = "zeros", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(new byte[4]) };
        zeros.Dims.AddRange([1, 4096, 4096]);
        if (kind == "initializer")
            graph.Initializer.Add(zeros);
        else
        {
            graph.Initializer.Add(OnnxTensors.CreateInt64("state_shape", [3], 1, 1, 6));
            graph.Node.Insert(0, OnnxGraphEdits.MakeNode("ConstantOfShape", "zero_state", ["state_shape"], ["zeros"]));
            graph.Node[0].Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = zeros });
        }
        graph.Node.Single(n => n.Name == "lstm_l0").Input[5] = "zeros"; // initial_h
        byte[] bytes = proto.ToByteArray();
        var target = Harness.NewModel<LstmF2x6Head, float>(seed: 2);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ModelFileException>(() => OnnxFile.Import(target, new MemoryStream(bytes)));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains(kind == "initializer"
            ? "('zeros') has 4 bytes of raw data; 16777216 × 4 were expected"
            : "node 'zero_state' (ConstantOfShape) has a value of shape [1, 4096, 4096]; ConstantOfShape's value is a 1-D tensor of one element", e.Message);
        Assert.True(allocated < 4 << 20, $"{allocated:N0} bytes allocated");
    }

    // Hostile graphs whose walk was quadratic or allocated without bound: thousands of outputs over one long Identity chain
    // (each unwrapped along all of it), a value given 1,000,000 axes then moved 100,000 times (each move shifting them all), a
    // Reshape's shape joined from thousands of 1,024-value parts, a zero state joined from 60,000 constants in a graph of
    // 60,000 inputs (each looked up among them all). Each is refused by name, allocating in proportion to the file (its parsed
    // objects). The walk's budget and the 32-axis limit bound the work, and their messages are asserted here; the lookup of
    // graph inputs by name (a scan of the list for each took the last case 8 s) has no clock in this test: unit tests time
    // nothing.
    [Theory]
    [InlineData("outputs over one long chain", "the graph's data path is followed more than")]
    [InlineData("a value of many axes moved many times", "passes through the Unsqueeze node 'wide', which gives its value 1000003 axes; RnnGen follows values of at most 32")]
    [InlineData("a shape joined from many parts", "passes through a Reshape whose shape 'joined_shape' joins more than 32 sizes (Concat node 'many_parts')")]
    [InlineData("a zero state of many constants among many inputs", "layer 0's initial_h is zeros or absent while layer 1's is a slice of the graph input 'h0'")]
    public void HostileGraphs_AreRefusedByName_InMemoryProportionalToTheFile(string hostile, string message)
    {
        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxFile.ExportToBytes(Harness.NewModel<LstmF2x6Head, float>(seed: 1)));
        GraphProto graph = proto.Graph;
        NodeProto layer1 = graph.Node.Single(n => n.Name == "lstm_l1");
        int at = graph.Node.IndexOf(layer1);
        NodeProto Node(string op, string name, string[] inputs, string output, params AttributeProto[] attributes) =>
            OnnxGraphEdits.MakeNode(op, name, inputs, [output], attributes);
        switch (hostile)
        {
            case "outputs over one long chain":
            {
                const int length = 30_000;
                for (int i = 0; i < length; i++)
                    graph.Node.Add(Node("Identity", $"chain_{i}", [i == 0 ? OnnxFile.FinalHiddenName : $"chain_{i - 1}"], $"chain_{i}"));
                for (int i = 0; i < length; i++)
                    graph.Output.Add(new ValueInfoProto { Name = $"chain_{length - 1}" });
                break;
            }
            case "a value of many axes moved many times": // opset 11: Unsqueeze's axes as an attribute, of any length
            {
                OnnxGraphEdits.InOpset(proto, 11);
                graph.Node.Insert(at++, Node("Unsqueeze", "wide", ["h_l0"], "moved_0",
                    OnnxGraphEdits.Ints("axes", [.. Enumerable.Range(0, 1_000_000).Select(a => (long)a)])));
                for (int i = 1; i <= 100_000; i++)
                    graph.Node.Insert(at++, Node("Unsqueeze", $"front_{i}", [$"moved_{i - 1}"], $"moved_{i}", OnnxGraphEdits.Ints("axes", 0)));
                layer1.Input[0] = "moved_100000";
                break;
            }
            case "a shape joined from many parts":
            {
                graph.Initializer.Add(OnnxTensors.CreateInt64("ones", [1024], [.. Enumerable.Repeat(1L, 1024)]));
                graph.Node.Insert(at++, Node("Concat", "many_parts", [.. Enumerable.Repeat("ones", 4000)], "joined_shape", OnnxGraphEdits.Int("axis", 0)));
                graph.Node.Insert(at++, Node("Reshape", "reshape", ["h_l0", "joined_shape"], "reshaped"));
                layer1.Input[0] = "reshaped";
                break;
            }
            default:
            {
                const int count = 60_000;
                for (int i = 0; i < count; i++)
                {
                    graph.Initializer.Add(OnnxTensors.Create<float>($"zero_{i}", [0f], 1, 1, 1));
                    graph.Input.Add(new ValueInfoProto { Name = $"input_{i}" });
                }
                graph.Node.Insert(0, Node("Concat", "zeros", [.. Enumerable.Range(0, count).Select(i => $"zero_{i}")], "zero_state",
                    OnnxGraphEdits.Int("axis", 0)));
                graph.Node.Single(n => n.Name == "lstm_l0").Input[5] = "zero_state";
                break;
            }
        }
        byte[] bytes = proto.ToByteArray();
        var target = Harness.NewModel<LstmF2x6Head, float>(seed: 2);
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ModelFileException>(() => OnnxFile.Import(target, new MemoryStream(bytes)));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        Assert.Contains(message, e.Message[..Math.Min(e.Message.Length, 2000)]);
        Assert.True(allocated < 64L * bytes.Length + (16 << 20), $"{hostile}: {allocated:N0} bytes allocated for a file of {bytes.Length:N0}");
    }

    private static readonly string[] OpTypes =
    [
        "Identity", "Cast", "Squeeze", "Unsqueeze", "Reshape", "Flatten", "Transpose", "Slice", "Split", "Concat", "Gather", "Shape",
        "ConstantOfShape", "Expand", "Constant", "MatMul", "Gemm", "Add", "OneHot", "LSTM", "GRU", "RNN",
    ];

    private static readonly string[] AttributeNames =
    [
        "axis", "axes", "perm", "to", "split", "num_outputs", "hidden_size", "layout", "direction", "activations", "transA", "transB",
        "alpha", "beta", "allowzero", "value", "linear_before_reset", "start", "end", "clip", "input_forget",
    ];

    private static readonly long[] Extremes = [long.MinValue, long.MaxValue, int.MinValue, int.MaxValue, -4, -3, -2, -1, 0, 1, 2, 3, 5, 1 << 20];

    private static long Extreme(Random random) => random.Next(3) == 0 ? random.Next(-8, 9) : Extremes[random.Next(Extremes.Length)];

    // One random damage; returns what it did (for the failure message).
    private static string Damage(ModelProto proto, Random random)
    {
        GraphProto graph = proto.Graph;
        var names = graph.Initializer.Select(t => t.Name).Concat(graph.Node.SelectMany(n => n.Output)).Concat(graph.Input.Select(i => i.Name))
            .Append("").ToList();
        NodeProto node = graph.Node[random.Next(graph.Node.Count)];
        TensorProto tensor = graph.Initializer[random.Next(graph.Initializer.Count)];
        switch (random.Next(14))
        {
            case 0 when node.Input.Count > 0:
            {
                int i = random.Next(node.Input.Count);
                string name = names[random.Next(names.Count)];
                node.Input[i] = name;
                return $"{node.Name} input {i} = '{name}'";
            }
            case 1 when node.Input.Count > 0:
                node.Input.RemoveAt(random.Next(node.Input.Count));
                return $"{node.Name} lost an input";
            case 2:
            {
                string name = names[random.Next(names.Count)];
                node.Input.Add(name);
                return $"{node.Name} got input '{name}'";
            }
            case 3:
            {
                string name = AttributeNames[random.Next(AttributeNames.Length)];
                var attribute = new AttributeProto { Name = name, Type = (AttributeProto.Types.AttributeType)random.Next(0, 15) };
                switch (random.Next(5))
                {
                    case 0: attribute.I = Extreme(random); break;
                    case 1: attribute.Ints.AddRange(Enumerable.Range(0, random.Next(0, 5)).Select(_ => Extreme(random))); break;
                    case 2: attribute.F = (float)Extreme(random); break;
                    case 3: attribute.S = ByteString.CopyFromUtf8(new[] { "forward", "reverse", "Tanh", "" }[random.Next(4)]); break;
                    default: attribute.T = tensor.Clone(); break;
                }
                foreach (AttributeProto old in node.Attribute.Where(a => a.Name == name).ToList())
                    if (random.Next(2) == 0) node.Attribute.Remove(old);
                node.Attribute.Add(attribute);
                return $"{node.Name} attribute {attribute}";
            }
            case 4 when node.Attribute.Count > 0:
                node.Attribute.RemoveAt(random.Next(node.Attribute.Count));
                return $"{node.Name} lost an attribute";
            case 5:
            {
                string op = OpTypes[random.Next(OpTypes.Length)];
                node.OpType = op;
                return $"{node.Name} is now {op}";
            }
            case 6:
            {
                if (tensor.Dims.Count > 0 && random.Next(2) == 0) tensor.Dims[random.Next(tensor.Dims.Count)] = Extreme(random);
                else if (random.Next(2) == 0) tensor.Dims.Add(Extreme(random));
                else tensor.Dims.Clear();
                return $"{tensor.Name} dims {OnnxTensors.Format(tensor.Dims)}";
            }
            case 7:
                tensor.DataType = random.Next(0, 17);
                return $"{tensor.Name} type {tensor.DataType}";
            case 8 when !tensor.RawData.IsEmpty:
                tensor.RawData = ByteString.CopyFrom(tensor.RawData.Span[..random.Next(tensor.RawData.Length)]);
                return $"{tensor.Name} raw data cut";
            case 9:
                tensor.Int64Data.Clear();
                tensor.Int64Data.AddRange(Enumerable.Range(0, random.Next(0, 4)).Select(_ => Extreme(random)));
                if (random.Next(2) == 0) tensor.DataType = (int)TensorProto.Types.DataType.Int64;
                return $"{tensor.Name} int64 data {string.Join(",", tensor.Int64Data)}";
            case 10:
                proto.OpsetImport.Single(o => o.Domain is "" or "ai.onnx").Version = random.Next(5, 25);
                return $"opset {proto.OpsetImport[0].Version}";
            case 11 when node.Output.Count > 0:
            {
                int i = random.Next(node.Output.Count);
                string name = names[random.Next(names.Count)];
                node.Output[i] = name;
                return $"{node.Name} output {i} = '{name}'";
            }
            case 12:
            {
                int from = random.Next(graph.Node.Count), to = random.Next(graph.Node.Count);
                NodeProto moved = graph.Node[from];
                graph.Node.RemoveAt(from);
                graph.Node.Insert(to, moved);
                NodeProto copy = moved.Clone();
                if (random.Next(2) == 0)
                {
                    copy.Name += "_copy";
                    for (int i = 0; i < copy.Output.Count; i++) copy.Output[i] += "_copy";
                    graph.Node.Add(copy);
                }
                return $"{moved.Name} moved (and copied)";
            }
            default:
            {
                if (graph.Output.Count > 0 && random.Next(2) == 0)
                {
                    ValueInfoProto output = graph.Output[random.Next(graph.Output.Count)];
                    output.Name = names[random.Next(names.Count)];
                    return $"an output renamed '{output.Name}'";
                }
                if (graph.Input.Count > 0)
                {
                    ValueInfoProto input = graph.Input[random.Next(graph.Input.Count)];
                    if (random.Next(2) == 0) input.Type = null;
                    else input.Name = names[random.Next(names.Count)];
                    return $"an input changed ('{input.Name}')";
                }
                return "nothing";
            }
        }
    }

    private static void AssertRefusedOrImported<TModel>(byte[] bytes, string context) where TModel : class, IRecurrentModel<TModel, float>
    {
        TModel target = Harness.NewModel<TModel, float>(seed: 2);
        float[] before = target.Parameters.ToArray();
        try
        {
            OnnxFile.Import(target, new MemoryStream(bytes));
        }
        catch (ModelFileException e)
        {
            Assert.True(e.Message.StartsWith("ONNX stream: ", StringComparison.Ordinal), $"{context}: {e.Message}");
            Assert.True(before.AsSpan().SequenceEqual(target.Parameters), $"{context}: refused, and the parameters changed");
        }
        catch (Exception e)
        {
            Assert.Fail($"{context}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
        }
    }
}
