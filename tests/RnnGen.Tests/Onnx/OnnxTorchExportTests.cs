using System.Globalization;
using RnnGen.Tests.Generated;

namespace RnnGen.Tests.Onnx;

/// <summary>
/// Import of ONNX files written by PyTorch's own exporter (torch 1.13, opset 14; Fixtures/make_fixtures.py): LSTM, GRU and
/// ReLU RNN layers with a Linear head, weights as Constant-folded initializers, head as MatMul by a pre-transposed weight
/// plus Add. The import must give exactly PyTorch's parameters, and the imported model PyTorch's outputs.
/// </summary>
public class OnnxTorchExportTests
{
    [Fact]
    public void ImportsPyTorchLstm() => AssertImportsTorchExport<TorchLstm>("lstm");

    [Fact]
    public void ImportsPyTorchGru() => AssertImportsTorchExport<TorchGru>("gru");

    [Fact]
    public void ImportsPyTorchReluRnn() => AssertImportsTorchExport<TorchRnnRelu>("rnn_relu");

    [Fact]
    public void RefusesPyTorchLstmForAGruModel()
    {
        var model = new TorchGru();
        var e = Assert.Throws<ModelFileException>(() => OnnxFile.Import(model, Fixture("torch_lstm.onnx")));
        Assert.Contains("the model's layers are GRU", e.Message);
        Assert.All(model.Parameters.ToArray(), value => Assert.Equal(0f, value));
    }

    private static void AssertImportsTorchExport<TModel>(string kind) where TModel : class, IRecurrentModel<TModel, float>
    {
        Dictionary<string, float[]> data = ReadValues(Fixture($"torch_{kind}.txt"));
        TModel model = TModel.Create();
        model.Parameters.Fill(float.NaN);
        OnnxFile.Import(model, Fixture($"torch_{kind}.onnx"));
        Assert.Equal(data["parameters"], model.Parameters.ToArray()); // exactly PyTorch's named_parameters()

        ModelInfo info = TModel.Info;
        RecurrentState<float> state = model.CreateState();
        for (int l = 0; l < info.LayerCount; l++)
        {
            data["h0"].AsSpan(l * info.HiddenSize, info.HiddenSize).CopyTo(state.Hidden(l));
            if (state.HasCell) data["c0"].AsSpan(l * info.HiddenSize, info.HiddenSize).CopyTo(state.Cell(l));
        }
        float[] x = data["x"], expected = data["output"];
        var outputs = new float[expected.Length];
        model.Forward(x, state, model.CreateTape(x.Length / info.InputSize), outputs);
        double error = Harness.RelativeError(Harness.ToDouble<float>(outputs), Harness.ToDouble<float>(expected));
        Assert.True(error < 1e-5, $"{kind}: output differs from PyTorch's by {error:0.00e+00} (relative)");
    }

    /// <summary>The fixture file's labelled lines ("name: v v v"); '#' lines are comments.</summary>
    private static Dictionary<string, float[]> ReadValues(string path) =>
        File.ReadLines(path)
            .Where(line => !line.StartsWith('#'))
            .Select(line => line.Split(": ", 2))
            .ToDictionary(parts => parts[0], parts => parts[1].Split(' ').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray());

    /// <summary>A file of tests/RnnGen.Tests/Onnx/Fixtures, found from the test binaries' folder upwards (tests run from the repository).</summary>
    private static string Fixture(string name)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "tests", "RnnGen.Tests", "Onnx", "Fixtures", name);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"Fixture {name} not found above {AppContext.BaseDirectory}.", name);
    }
}
