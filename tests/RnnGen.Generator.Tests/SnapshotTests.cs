using Microsoft.CodeAnalysis;

namespace RnnGen.Generator.Tests;

/// <summary>
/// The generated source, compared with committed snapshots (Snapshots/*.verified.txt). On a difference the new text is
/// written next to it as *.received.txt and the test fails: review the diff like code, then rename it to accept.
/// Each snapshot must also compile without a warning in a consumer project.
/// </summary>
public class SnapshotTests
{
    [Fact]
    public Task Lstm_Float_Dense_OneLayer() => Verify("""
        namespace Demo;
        [RnnGen.LstmModel(hidden: 8, Input = 3)]
        public partial class Dense { }
        """);

    [Fact]
    public Task Lstm_Float_TwoLayers_Head() => Verify("""
        namespace Demo;
        [RnnGen.LstmModel(hidden: 16, layers: 2, Input = 4, Output = 2)]
        public partial class Stacked { }
        """);

    [Fact]
    public Task Lstm_Tokens_CharModel() => Verify("""
        using RnnGen;
        namespace Demo.Text;
        [LstmModel(hidden: 128, layers: 2, Input = 65, Output = 65, Tokens = true)]
        public partial class CharModel { }
        """);

    [Fact]
    public Task Lstm_Double_Nested() => Verify("""
        using RnnGen;
        namespace Demo;
        public partial class Outer
        {
            [LstmModel(hidden: 5, layers: 3, Input = 3, Output = 1, Precision = Precision.Double)]
            internal partial class Exact { }
        }
        """);

    [Fact]
    public Task Gru_Head() => Verify("""
        using RnnGen;
        namespace Demo;
        [GruModel(hidden: 12, layers: 2, Input = 6, Output = 3)]
        public partial class Gru { }
        """);

    [Fact]
    public Task Gru_Tokens_NoHead() => Verify("""
        using RnnGen;
        namespace Demo;
        [GruModel(hidden: 10, Input = 20, Tokens = true)]
        public partial class GruTokens { }
        """);

    // above the in-place size and without a team (150 units are not whole blocks): Step in place through Forward's packed
    // copies, a GRU's two products per layer, a token's column, the partial last vector, no head
    [Fact]
    public Task Gru_Tokens_Large_NoHead() => Verify("""
        using RnnGen;
        namespace Demo;
        [GruModel(hidden: 150, layers: 2, Input = 30, Tokens = true)]
        public partial class WideGru { }
        """);

    [Fact]
    public Task Rnn_Tanh() => Verify("""
        using RnnGen;
        namespace Demo;
        [RnnModel(hidden: 100, Input = 65, Output = 65, Tokens = true)]
        public partial class MinCharRnn { }
        """);

    [Fact]
    public Task Rnn_Relu_GlobalNamespace() => Verify("""
        using RnnGen;
        [RnnModel(hidden: 6, layers: 2, Input = 2, Activation = RnnActivation.Relu)]
        public partial class ReluRnn { }
        """);

    private static Task Verify(string source, [System.Runtime.CompilerServices.CallerMemberName] string name = "")
    {
        var (result, output) = GeneratorHarness.Run(source);
        Assert.Null(result.Exception);
        Assert.Empty(result.Diagnostics);
        var problems = GeneratorHarness.CompilerProblems(output);
        Assert.True(problems.IsEmpty, "The generated code does not compile cleanly:\n" + string.Join("\n", problems));
        var generated = Assert.Single(result.GeneratedSources);
        string text = generated.SourceText.ToString();

        // deterministic: a second, independent run writes the same text
        Assert.Equal(text, Assert.Single(GeneratorHarness.Run(source).Result.GeneratedSources).SourceText.ToString());

        string dir = GeneratorHarness.SnapshotDirectory();
        string verified = Path.Combine(dir, $"{name}.verified.txt");
        string received = Path.Combine(dir, $"{name}.received.txt");
        string header = $"// snapshot of {generated.HintName}\n";
        if (File.Exists(verified) && File.ReadAllText(verified).ReplaceLineEndings("\n") == header + text)
        {
            if (File.Exists(received)) File.Delete(received);
            return Task.CompletedTask;
        }
        File.WriteAllText(received, header + text);
        Assert.Fail(File.Exists(verified)
            ? $"Generated source differs from {verified}. Review {received}; if it is right, replace the verified file with it."
            : $"No snapshot yet. Review {received}; if it is right, rename it to {Path.GetFileName(verified)}.");
        return Task.CompletedTask;
    }
}
