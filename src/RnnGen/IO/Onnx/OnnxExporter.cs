using System.Numerics;
using Onnx;

namespace RnnGen;

/// <summary>Builds the ONNX graph of a model (see <see cref="OnnxFile"/> for the graph's shape and names).</summary>
internal static class OnnxExporter
{
    private const string Seq = "seq", Batch = "batch";

    public static ModelProto Build<T>(ModelInfo info, ReadOnlySpan<T> parameters)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (parameters.Length != info.ParameterCount)
            throw new ArgumentException($"The model has {parameters.Length} parameters; its layout says {info.ParameterCount}.", nameof(parameters));

        int hidden = info.HiddenSize, layers = info.LayerCount, gates = info.GateCount;
        int elementType = OnnxTensors.ElementType<T>();
        string opType = OnnxFile.OperatorType(info.Cell);
        var graph = new GraphProto
        {
            Name = "rnngen_" + opType.ToLowerInvariant(),
            DocString = $"{info}. Exported by RnnGen: one ONNX {opType} operator per layer (gate blocks {OnnxGateOrder.OnnxGateNames(info.Cell)}" +
                        (info.Cell == CellKind.Gru ? ", linear_before_reset = 1" : "") + "), inputs [seq, batch, ...], states [layers, batch, hidden].",
        };

        // ---- graph inputs: the sequence and the initial state of every layer, stacked as PyTorch's h0 / c0.
        graph.Input.Add(info.Tokens
            ? Value(OnnxFile.InputName, (int)TensorProto.Types.DataType.Int64, Seq, Batch)
            : Value(OnnxFile.InputName, elementType, Seq, Batch, info.InputSize));
        graph.Input.Add(Value(OnnxFile.InitialHiddenName, elementType, layers, Batch, hidden));
        if (info.HasCellState)
            graph.Input.Add(Value(OnnxFile.InitialCellName, elementType, layers, Batch, hidden));

        // ---- token ids → one-hot vectors, so that layer 0 is the ordinary operator with W = weight_ih_l0 (see OnnxFile).
        string x = OnnxFile.InputName;
        if (info.Tokens)
        {
            graph.Initializer.Add(OnnxTensors.CreateInt64("onehot_depth", [1], info.InputSize));
            graph.Initializer.Add(OnnxTensors.Create<T>("onehot_values", [T.Zero, T.One], 2));
            graph.Node.Add(Node("OneHot", "onehot", [x, "onehot_depth", "onehot_values"], ["onehot"], Int("axis", -1)));
            x = "onehot";
        }

        // ---- per-layer initial states: h0[k] (and c0[k]) as [1, batch, hidden] = [num_directions, batch, hidden].
        string[] h0 = SplitLayers(graph, OnnxFile.InitialHiddenName, layers);
        string[]? c0 = info.HasCellState ? SplitLayers(graph, OnnxFile.InitialCellName, layers) : null;

        // ---- one recurrent operator per layer; Y [seq, 1, batch, hidden] squeezed to [seq, batch, hidden] feeds the next.
        graph.Initializer.Add(OnnxTensors.CreateInt64("num_directions_axis", [1], 1));
        string[] hn = new string[layers], cn = new string[layers];
        for (int k = 0; k < layers; k++)
        {
            int inputWidth = k == 0 ? info.InputSize : hidden;
            ReadOnlySpan<T> wih = Tensor(info, parameters, $"weight_ih_l{k}"), whh = Tensor(info, parameters, $"weight_hh_l{k}");
            ReadOnlySpan<T> bih = Tensor(info, parameters, $"bias_ih_l{k}"), bhh = Tensor(info, parameters, $"bias_hh_l{k}");

            var w = new T[wih.Length];
            var r = new T[whh.Length];
            var b = new T[bih.Length + bhh.Length]; // [Wb; Rb]
            OnnxGateOrder.TorchToOnnx(info.Cell, wih, w);
            OnnxGateOrder.TorchToOnnx(info.Cell, whh, r);
            OnnxGateOrder.TorchToOnnx(info.Cell, bih, b.AsSpan(0, bih.Length));
            OnnxGateOrder.TorchToOnnx(info.Cell, bhh, b.AsSpan(bih.Length));
            graph.Initializer.Add(OnnxTensors.Create<T>(OnnxFile.WeightName(k), w, 1, gates * hidden, inputWidth));
            graph.Initializer.Add(OnnxTensors.Create<T>(OnnxFile.RecurrenceName(k), r, 1, gates * hidden, hidden));
            graph.Initializer.Add(OnnxTensors.Create<T>(OnnxFile.BiasName(k), b, 1, 2 * gates * hidden));

            hn[k] = layers == 1 ? OnnxFile.FinalHiddenName : $"hn_l{k}";
            cn[k] = layers == 1 ? OnnxFile.FinalCellName : $"cn_l{k}";
            var inputs = new List<string> { x, OnnxFile.WeightName(k), OnnxFile.RecurrenceName(k), OnnxFile.BiasName(k), "", h0[k] };
            var outputs = new List<string> { $"y_l{k}", hn[k] };
            if (c0 is not null)
            {
                inputs.Add(c0[k]);
                outputs.Add(cn[k]);
            }
            var op = Node(opType, $"{opType.ToLowerInvariant()}_l{k}", inputs, outputs, Int("hidden_size", hidden));
            if (info.Cell == CellKind.Gru)
                op.Attribute.Add(Int("linear_before_reset", 1));
            if (info.Cell == CellKind.Rnn)
                op.Attribute.Add(Strings("activations", info.Activation == RnnActivation.Relu ? "Relu" : "Tanh"));
            graph.Node.Add(op);

            x = k == layers - 1 && info.OutputSize == 0 ? OnnxFile.OutputName : $"h_l{k}";
            graph.Node.Add(Node("Squeeze", $"squeeze_l{k}", [$"y_l{k}", "num_directions_axis"], [x]));
        }

        // ---- the head: output = h_top · head.weightᵀ + head.bias (head.weight kept in PyTorch's [Output, Hidden] layout).
        if (info.OutputSize > 0)
        {
            graph.Initializer.Add(OnnxTensors.Create<T>("head.weight", Tensor(info, parameters, "head.weight"), info.OutputSize, hidden));
            graph.Initializer.Add(OnnxTensors.Create<T>("head.bias", Tensor(info, parameters, "head.bias"), info.OutputSize));
            graph.Node.Add(Node("Transpose", "head_transpose", ["head.weight"], ["head.weight_t"], Ints("perm", 1, 0)));
            graph.Node.Add(Node("MatMul", "head_matmul", [x, "head.weight_t"], ["head_product"]));
            graph.Node.Add(Node("Add", "head_add", ["head_product", "head.bias"], [OnnxFile.OutputName]));
        }

        // ---- final states stacked as [layers, batch, hidden] (PyTorch's h_n / c_n).
        ConcatLayers(graph, hn, OnnxFile.FinalHiddenName);
        if (info.HasCellState)
            ConcatLayers(graph, cn, OnnxFile.FinalCellName);

        graph.Output.Add(Value(OnnxFile.OutputName, elementType, Seq, Batch, info.OutputWidth));
        graph.Output.Add(Value(OnnxFile.FinalHiddenName, elementType, layers, Batch, hidden));
        if (info.HasCellState)
            graph.Output.Add(Value(OnnxFile.FinalCellName, elementType, layers, Batch, hidden));

        var model = new ModelProto
        {
            IrVersion = OnnxFile.IrVersion,
            ProducerName = "RnnGen",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "",
            DocString = info.ToString(),
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OnnxFile.OpsetVersion });
        return model;
    }

    private static ReadOnlySpan<T> Tensor<T>(ModelInfo info, ReadOnlySpan<T> parameters, string name) =>
        (info.Find(name) ?? throw new InvalidOperationException($"The layout of {info} has no tensor '{name}'.")).Slice(parameters);

    /// <summary>Names of [1, batch, hidden] slices of a [layers, batch, hidden] input (the input itself for one layer).</summary>
    private static string[] SplitLayers(GraphProto graph, string stacked, int layers)
    {
        if (layers == 1) return [stacked];
        string[] names = Enumerable.Range(0, layers).Select(k => $"{stacked}_l{k}").ToArray();
        graph.Node.Add(Node("Split", $"split_{stacked}", [stacked], names, Int("axis", 0)));
        return names;
    }

    private static void ConcatLayers(GraphProto graph, string[] perLayer, string stacked)
    {
        if (perLayer.Length > 1)
            graph.Node.Add(Node("Concat", $"concat_{stacked}", perLayer, [stacked], Int("axis", 0)));
    }

    private static NodeProto Node(string opType, string name, IEnumerable<string> inputs, IEnumerable<string> outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        return node;
    }

    private static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    private static AttributeProto Strings(string name, params string[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Strings };
        attribute.Strings.AddRange(values.Select(Google.Protobuf.ByteString.CopyFromUtf8));
        return attribute;
    }

    /// <summary>A tensor value description; each dimension is a size (int) or a symbolic name (string).</summary>
    private static ValueInfoProto Value(string name, int elementType, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (object d in dims)
            shape.Dim.Add(d is string symbol
                ? new TensorShapeProto.Types.Dimension { DimParam = symbol }
                : new TensorShapeProto.Types.Dimension { DimValue = (int)d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elementType, Shape = shape } },
        };
    }
}
