using Onnx;
using Xunit.Abstractions;

namespace RnnGen.Oracle.Tests.Onnx;

/// <summary>
/// RnnGen's ONNX export run by ONNX Runtime (Microsoft.ML.OnnxRuntime, CPU) against RnnGen itself: same weights, inputs and
/// non-zero initial states; ORT over the whole sequence must match <c>Forward</c>, and ORT one step per run (final states fed
/// back as initial states) must match <c>Step</c>, within the float forward tolerance (1e-5, norm-wise relative, per tensor).
/// A model imported from the exported file must equal the exporting one bit for bit.
/// </summary>
public class OnnxRuntimeTests(ITestOutputHelper output)
{
    /// <summary>(steps, batch): a single step, and a longer sequence for three independent sequences at once.</summary>
    private static readonly (int Steps, int Batch)[] Cases = [(1, 1), (1, 3), (37, 1), (37, 3)];

    public static TheoryData<string> Kinds => new() { "LSTM", "GRU", "RNN-tanh", "RNN-relu" };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void OnnxRuntimeMatchesRnnGen(string kind)
    {
        var models = OnnxOracleModels.All.Where(m => m.Kind == kind).ToList();
        Assert.NotEmpty(models);
        output.WriteLine($"{kind}: ONNX Runtime against RnnGen, tolerance {OracleComparison.Tolerances(Precision.Single).Forward:0e+00} (‖ort−rnnGen‖/‖rnnGen‖ per tensor)");
        output.WriteLine($"{"model",-26} {"steps",5} {"batch",5}  {"worst, whole sequence",-28} worst, step by step");

        var failures = new List<string>();
        var worstSequence = (Deviation: new Deviation("none", false, 0, 0), Case: "");
        var worstSteps = worstSequence;
        int seed = 100;
        foreach (OnnxOracleModel model in models)
        {
            foreach (var (steps, batch) in Cases)
            {
                OnnxOracleResult result = model.Run(seed, steps, batch);
                string label = $"{model.Name}, steps {steps}, batch {batch}, seed {seed}";
                Deviation sequence = Worst(result.Deviations.Where(d => d.Quantity.StartsWith("sequence", StringComparison.Ordinal)));
                Deviation stepwise = Worst(result.Deviations.Where(d => d.Quantity.StartsWith("step", StringComparison.Ordinal)));
                output.WriteLine($"{model.Name,-26} {steps,5} {batch,5}  {Describe(sequence),-28} {Describe(stepwise)}");
                if (Magnitude(sequence) > Magnitude(worstSequence.Deviation)) worstSequence = (sequence, label);
                if (Magnitude(stepwise) > Magnitude(worstSteps.Deviation)) worstSteps = (stepwise, label);
                failures.AddRange(result.Deviations.Where(d => !d.Passed).Select(d => $"{label}: {d}"));
                if (result.ImportMismatch is not null) failures.Add($"{label}: import: {result.ImportMismatch}");
                seed++;
            }
        }
        output.WriteLine($"worst {kind} whole sequence: {Describe(worstSequence.Deviation)} ({worstSequence.Case})");
        output.WriteLine($"worst {kind} step by step:   {Describe(worstSteps.Deviation)} ({worstSteps.Case})");
        Assert.True(failures.Count == 0, $"{failures.Count} failures:\n" + string.Join("\n", failures));
    }

    private static Deviation Worst(IEnumerable<Deviation> deviations) => deviations.MaxBy(Magnitude);

    private static double Magnitude(Deviation d) => double.IsNaN(d.Error) ? double.PositiveInfinity : d.Error;

    private static string Describe(Deviation d) => $"{d.Quantity} {d.Error:0.00e+00}";

    /// <summary>
    /// The comparison is not vacuous: graphs with the mistakes an exporter could make must fail it. "gates in PyTorch order":
    /// W, R, B of layer 0 left in PyTorch's gate order; "linear_before_reset = 0": the other GRU variant;
    /// "tanh for relu": the RNN's activation attribute wrong; "head bias dropped": the head's Add removed.
    /// </summary>
    [Theory]
    [InlineData(nameof(Lstm_H13_L2_In5_Out3), "gates in PyTorch order")]
    [InlineData(nameof(Gru_H13_L2_In5_Out3), "gates in PyTorch order")]
    [InlineData(nameof(Gru_H13_L2_In5_Out3), "linear_before_reset = 0")]
    [InlineData(nameof(RnnRelu_H13_L2_In5_Out3), "tanh for relu")]
    [InlineData(nameof(RnnTanh_H13_L2_In5_Out3), "head bias dropped")]
    public void DetectsWrongGraphs(string modelName, string mistake)
    {
        OnnxOracleModel model = OnnxOracleModels.Named(modelName);
        OnnxOracleResult result = model.Run(seed: 7, steps: 20, batch: 2, graph => Break(model.Info, graph.Graph, mistake));
        output.WriteLine(string.Join("\n", result.Deviations));
        Assert.Contains(result.Deviations, d => d.Quantity == "sequence output" && !d.Passed);
    }

    private static void Break(ModelInfo info, GraphProto graph, string mistake)
    {
        NodeProto layer0 = graph.Node.First(n => n.OpType is "LSTM" or "GRU" or "RNN");
        switch (mistake)
        {
            case "gates in PyTorch order":
                Reorder(graph, layer0.Input[1], info.GateCount);
                Reorder(graph, layer0.Input[2], info.GateCount);
                Reorder(graph, layer0.Input[3], info.GateCount, twoHalves: true);
                break;
            case "linear_before_reset = 0":
                layer0.Attribute.Single(a => a.Name == "linear_before_reset").I = 0;
                break;
            case "tanh for relu":
                AttributeProto activations = layer0.Attribute.Single(a => a.Name == "activations");
                activations.Strings[0] = Google.Protobuf.ByteString.CopyFromUtf8("Tanh");
                break;
            case "head bias dropped":
                NodeProto add = graph.Node.Single(n => n.OpType == "Add");
                graph.Node.Remove(add);
                graph.Node.Single(n => n.OpType == "MatMul").Output[0] = OnnxFile.OutputName;
                break;
            default:
                throw new ArgumentException(mistake, nameof(mistake));
        }
    }

    /// <summary>
    /// Puts the gate blocks of an exported (ONNX-order) tensor back into PyTorch's order — what an exporter that forgot the
    /// reordering would have written. LSTM: ONNX i, o, f, c → PyTorch i, f, g(=c), o; GRU: ONNX z, r, h → PyTorch r, z, n(=h).
    /// </summary>
    private static void Reorder(GraphProto graph, string name, int gateCount, bool twoHalves = false)
    {
        TensorProto tensor = graph.Initializer.Single(t => t.Name == name);
        float[] values = new float[tensor.RawData.Length / sizeof(float)];
        Buffer.BlockCopy(tensor.RawData.ToByteArray(), 0, values, 0, tensor.RawData.Length);
        int parts = twoHalves ? 2 : 1, partLength = values.Length / parts;
        int[] torchBlockOfOnnxBlock = gateCount == 4 ? [0, 3, 1, 2] : [1, 0, 2];
        var reordered = new float[values.Length];
        for (int p = 0; p < parts; p++)
        {
            int block = partLength / gateCount;
            for (int j = 0; j < gateCount; j++) // ONNX block j holds PyTorch block torchBlockOfOnnxBlock[j]; write it there
                Array.Copy(values, p * partLength + j * block, reordered, p * partLength + torchBlockOfOnnxBlock[j] * block, block);
        }
        var bytes = new byte[reordered.Length * sizeof(float)];
        Buffer.BlockCopy(reordered, 0, bytes, 0, bytes.Length);
        tensor.RawData = Google.Protobuf.ByteString.CopyFrom(bytes);
    }

    [Fact]
    public void ExportedGraphHasTheDocumentedSignature()
    {
        Assert.Equal("input, h0, c0 → output, hn, cn", Signature<Lstm_H13_L2_In5_Out3>());
        Assert.Equal("input, h0 → output, hn", Signature<Gru_H13_L2_In5_Out3>());
    }

    private static string Signature<TModel>() where TModel : class, IRecurrentModel<TModel, float>
    {
        using var ort = new OrtRunner<float>(OnnxFile.ExportToBytes(TModel.Create()), TModel.Info);
        return ort.Signature;
    }
}
