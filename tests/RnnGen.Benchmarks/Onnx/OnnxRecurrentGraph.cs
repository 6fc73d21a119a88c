using Google.Protobuf;
using Onnx;

namespace RnnGen.Benchmarks.Onnx;

/// <summary>
/// A minimal ONNX model for one streaming step of an RnnGen LSTM or GRU stack: one ONNX <c>LSTM</c> / <c>GRU</c>
/// operator per layer (sequence length 1, batch 1), the weights as initializers, every layer's state in and out.
/// Layer k &gt; 0 reads layer k−1's <c>Y_h</c> ([1, 1, H], which for one step is exactly an input [seq 1, batch 1, H]).
/// <para>Graph inputs: <c>x</c> [1, 1, In], <c>h0_l{k}</c> (and <c>c0_l{k}</c>) [1, 1, H]; outputs: <c>h_l{k}</c>
/// (and <c>c_l{k}</c>) [1, 1, H]. The step's output is the top layer's <c>h</c>.</para>
/// <para>ONNX orders gates differently from PyTorch: LSTM i, o, f, c (PyTorch i, f, g, o); GRU z, r, h (PyTorch r, z, n),
/// and PyTorch's GRU is ONNX's <c>linear_before_reset = 1</c>. Rows are reordered here.</para>
/// </summary>
internal static class OnnxRecurrentGraph
{
    private const int FloatType = (int)TensorProto.Types.DataType.Float;

    // For each ONNX gate block, the PyTorch gate block it takes.
    private static readonly int[] LstmGateOrder = [0, 3, 1, 2]; // i, o, f, c  <-  i, f, g, o
    private static readonly int[] GruGateOrder = [1, 0, 2];     // z, r, h     <-  r, z, n

    public static string HiddenIn(int layer) => $"h0_l{layer}";
    public static string CellIn(int layer) => $"c0_l{layer}";
    public static string HiddenOut(int layer) => $"h_l{layer}";
    public static string CellOut(int layer) => $"c_l{layer}";
    public const string Input = "x";

    /// <summary>The serialized model (opset 17) for <paramref name="info"/> with <paramref name="parameters"/> (RnnGen layout).</summary>
    public static byte[] Build(ModelInfo info, ReadOnlySpan<float> parameters)
    {
        if (info.Cell is not (CellKind.Lstm or CellKind.Gru) || info.OutputSize != 0 || info.Tokens)
            throw new NotSupportedException($"The ONNX step graph covers dense LSTM and GRU stacks without a head, not {info}.");
        bool lstm = info.Cell == CellKind.Lstm;
        int[] order = lstm ? LstmGateOrder : GruGateOrder;
        int hidden = info.HiddenSize;
        var graph = new GraphProto { Name = "rnngen_step" };
        graph.Input.Add(Value(Input, info.InputSize));
        for (int k = 0; k < info.LayerCount; k++)
        {
            int input = k == 0 ? info.InputSize : hidden;
            float[] w = Reorder(Layer(info, parameters, "weight_ih", k), order, hidden, input);
            float[] r = Reorder(Layer(info, parameters, "weight_hh", k), order, hidden, hidden);
            float[] b = [.. Reorder(Layer(info, parameters, "bias_ih", k), order, hidden, 1), .. Reorder(Layer(info, parameters, "bias_hh", k), order, hidden, 1)];
            graph.Initializer.Add(Initializer($"W_l{k}", w, 1, order.Length * hidden, input));
            graph.Initializer.Add(Initializer($"R_l{k}", r, 1, order.Length * hidden, hidden));
            graph.Initializer.Add(Initializer($"B_l{k}", b, 1, 2 * order.Length * hidden));

            graph.Input.Add(Value(HiddenIn(k), hidden));
            graph.Output.Add(Value(HiddenOut(k), hidden));
            var node = new NodeProto { Name = $"layer{k}", OpType = lstm ? "LSTM" : "GRU" };
            node.Input.Add([k == 0 ? Input : HiddenOut(k - 1), $"W_l{k}", $"R_l{k}", $"B_l{k}", "", HiddenIn(k)]);
            node.Output.Add(["", HiddenOut(k)]);
            if (lstm)
            {
                graph.Input.Add(Value(CellIn(k), hidden));
                graph.Output.Add(Value(CellOut(k), hidden));
                node.Input.Add(CellIn(k));
                node.Output.Add(CellOut(k));
            }
            else
            {
                node.Attribute.Add(new AttributeProto { Name = "linear_before_reset", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
            }
            node.Attribute.Add(new AttributeProto { Name = "hidden_size", Type = AttributeProto.Types.AttributeType.Int, I = hidden });
            graph.Node.Add(node);
        }
        var model = new ModelProto { IrVersion = 8, ProducerName = "RnnGen.Benchmarks", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return model.ToByteArray();
    }

    private static ReadOnlySpan<float> Layer(ModelInfo info, ReadOnlySpan<float> parameters, string name, int layer) =>
        info.Find($"{name}_l{layer}")!.Slice(parameters);

    /// <summary>Gate blocks of <paramref name="hidden"/> rows × <paramref name="columns"/>, reordered to <paramref name="order"/>.</summary>
    private static float[] Reorder(ReadOnlySpan<float> source, int[] order, int hidden, int columns)
    {
        int block = hidden * columns;
        var result = new float[order.Length * block];
        for (int g = 0; g < order.Length; g++)
            source.Slice(order[g] * block, block).CopyTo(result.AsSpan(g * block, block));
        return result;
    }

    private static TensorProto Initializer(string name, float[] values, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = FloatType };
        t.Dims.Add(dims);
        t.FloatData.Add(values);
        return t;
    }

    /// <summary>A float tensor [1, 1, width] (sequence or direction 1, batch 1).</summary>
    private static ValueInfoProto Value(string name, int width)
    {
        var shape = new TensorShapeProto();
        foreach (long d in new long[] { 1, 1, width })
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = FloatType, Shape = shape } },
        };
    }
}
