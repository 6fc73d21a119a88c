using TorchSharp;
using TorchSharp.PyBridge;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace RnnGen.Oracle.Tests.Interop;

/// <summary>
/// Model files cross between TorchSharp (libtorch) and RnnGen through TorchSharp.PyBridge's safetensors reader and
/// writer: weights written from <c>nn.LSTM</c>/<c>nn.GRU</c>/<c>nn.RNN</c> + <c>nn.Linear</c> load into the generated
/// model bit for bit and give torch's outputs; a file written by <c>SafeTensors.Save</c> loads into the TorchSharp
/// modules bit for bit and gives RnnGen's outputs. See README.md, "Model files from and to TorchSharp".
/// </summary>
public class SafeTensorsInteropTests(ITestOutputHelper output) : IDisposable
{
    private const int Steps = 30;

    private static readonly IReadOnlyList<InteropCase> Cases =
    [
        new InteropCase<Lstm_H13_L2_In5_Out3, float>(),
        new InteropCase<Lstm_H65_L2_In37_Out7, float>(),
        new InteropCase<Lstm_H10_L2_Tokens17, float>(),
        new InteropCase<Gru_H13_L2_In5_Out3, float>(),
        new InteropCase<Gru_H9_L3_In11, float>(),
        new InteropCase<RnnTanh_H13_L2_In5_Out3, float>(),
        new InteropCase<RnnRelu_H13_L2_In5_Out3, float>(),
        new InteropCase<LstmD_H9_L3_In11_Out6, double>(),
        new InteropCase<GruD_H13_L2_In5_Out3, double>(),
        new InteropCase<RnnTanhD_H9_L3_In11_Out6, double>(),
    ];

    private readonly string _folder = Directory.CreateTempSubdirectory("rnngen-interop-").FullName;

    public static TheoryData<string> CaseNames => new(Cases.Select(c => c.Name));

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>
    /// torch → RnnGen: modules initialised by torch itself (its own random init), their state dicts merged with the
    /// head's names prefixed by <c>head.</c> and written with PyBridge's <c>Safetensors.SaveStateDict</c> — what
    /// <c>safetensors.torch.save_file</c> does in Python. <c>SafeTensors.Load</c> must take every value unchanged, and the
    /// loaded model's <c>Forward</c> and <c>Step</c> must reproduce torch's outputs and final state.
    /// </summary>
    [Theory]
    [MemberData(nameof(CaseNames))]
    public void TorchSharpFile_LoadsIntoRnnGen_WithTorchsOutputs(string name)
    {
        InteropCase c = Find(name);
        TorchRuntime.EnsureReady();
        using var scope = NewDisposeScope();
        torch.manual_seed(11);
        using var module = new RnnGenNamedModule(c.Info, c.DType);
        string path = Path.Combine(_folder, $"{name}.torch.safetensors");

        Dictionary<string, Tensor> stateDict = module.MergedStateDict();
        Assert.Equal(c.Info.Layout.Select(t => t.Name), stateDict.Keys);   // the names RnnGen expects, in its order
        TorchSharp.PyBridge.Safetensors.SaveStateDict(path, stateDict);

        Assert.Equal(c.TorchParameters(module), c.LoadParameters(path));   // bit for bit
        CompareForward(c, module, path);
    }

    /// <summary>
    /// RnnGen → torch: a model initialised by RnnGen, saved with <c>SafeTensors.Save</c> (with RnnGen's
    /// <c>__metadata__</c>), loaded with PyBridge's <c>load_safetensors</c> (strict: every name must match, none may be
    /// missing or extra) into modules that held other, torch-initialised weights.
    /// </summary>
    [Theory]
    [MemberData(nameof(CaseNames))]
    public void RnnGenFile_LoadsIntoTorchSharp_WithRnnGensOutputs(string name)
    {
        InteropCase c = Find(name);
        TorchRuntime.EnsureReady();
        using var scope = NewDisposeScope();
        string path = Path.Combine(_folder, $"{name}.rnngen.safetensors");
        double[] saved = c.SaveInitialized(path, seed: 5);

        torch.manual_seed(12);
        using var module = new RnnGenNamedModule(c.Info, c.DType);
        Assert.NotEqual(saved, c.TorchParameters(module));
        module.load_safetensors(path, strict: true);

        Assert.Equal(saved, c.TorchParameters(module));   // bit for bit
        Assert.Equal(c.Info.Layout.Select(t => t.Name),    // the file holds the layout's tensors, nothing else
            TorchSharp.PyBridge.Safetensors.LoadStateDict(path).Keys);
        CompareForward(c, module, path);
    }

    /// <summary>
    /// The names must be the bare ones. A module that keeps its LSTM as a submodule called <c>lstm</c> writes
    /// <c>lstm.weight_ih_l0</c>, …: RnnGen refuses the file with a message naming what is missing, and the model is
    /// left as it was.
    /// </summary>
    [Fact]
    public void PrefixedStateDict_IsRefused_AndTheModelIsUnchanged()
    {
        TorchRuntime.EnsureReady();
        using var scope = NewDisposeScope();
        ModelInfo info = Gru_H9_L3_In11.Info;
        using var wrapped = new Wrapper("gru", nn.GRU(info.InputSize, info.HiddenSize, info.LayerCount));
        string path = Path.Combine(_folder, "prefixed.safetensors");
        wrapped.save_safetensors(path);

        var model = new Gru_H9_L3_In11();
        model.InitializeParameters(3);
        float[] before = model.Parameters.ToArray();
        var error = Assert.Throws<ModelFileException>(() => SafeTensors.Load(model, path));
        output.WriteLine(error.Message);
        Assert.Contains("weight_ih_l0", error.Message);
        Assert.Equal(before, model.Parameters.ToArray());
    }

    /// <summary>torch's run against RnnGen's Forward and Step on the model loaded from <paramref name="path"/>.</summary>
    private void CompareForward(InteropCase c, RnnGenNamedModule module, string path)
    {
        InteropSequence sequence = c.CreateSequence(seed: 7, Steps);
        ForwardResult torchResult = c.RunTorch(module, sequence);
        foreach (var (api, rnnGen) in new[] { ("Forward", c.RunForward(path, sequence)), ("Step", c.RunSteps(path, sequence)) })
        {
            double outputs = OracleComparison.RelativeError(rnnGen.Outputs, torchResult.Outputs);
            double state = OracleComparison.RelativeError(rnnGen.FinalState, torchResult.FinalState);
            output.WriteLine($"{c.Name,-26} {api,-7} outputs {outputs:0.00e+00}  final state {state:0.00e+00}  (tolerance {c.Tolerance:0e+00})");
            Assert.True(outputs <= c.Tolerance, $"{c.Name} {api}: outputs differ from torch's by {outputs:0.00e+00}");
            Assert.True(state <= c.Tolerance, $"{c.Name} {api}: final state differs from torch's by {state:0.00e+00}");
        }
    }

    private static InteropCase Find(string name) => Cases.Single(c => c.Name == name);

    /// <summary>A module holding another as a named submodule, as <c>self.gru = nn.GRU(...)</c> does in PyTorch.</summary>
    private sealed class Wrapper : nn.Module
    {
        public Wrapper(string name, nn.Module inner) : base(nameof(Wrapper)) => register_module(name, inner);
    }
}
