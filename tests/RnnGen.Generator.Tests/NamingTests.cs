using Microsoft.CodeAnalysis;

namespace RnnGen.Generator.Tests;

/// <summary>
/// Names the generated code must survive: keywords escaped with @ (in the namespace, the class, an enclosing class), two
/// models whose names differ only in case (the compiler's file names do not tell them apart), and user types, members and
/// global aliases named like the kernels the generated code calls. Each compiles with no warning and no generator exception.
/// </summary>
public class NamingTests
{
    private static GeneratorRunResult CompilesClean(params string[] sources)
    {
        var (result, output) = GeneratorHarness.Run(sources);
        Assert.Null(result.Exception);
        Assert.Empty(result.Diagnostics);
        Assert.Empty(GeneratorHarness.CompilerProblems(output));
        Assert.NotEmpty(result.GeneratedSources);
        return result;
    }

    [Theory]
    [InlineData("namespace @event.Models; [RnnGen.LstmModel(4)] partial class M { }")]
    [InlineData("namespace App; [RnnGen.GruModel(4, Output = 2)] partial class @class { }")]
    [InlineData("namespace App; partial class @checked { [RnnGen.RnnModel(4, Tokens = true, Input = 5)] partial class @int { } }")]
    public void KeywordNames(string source) => CompilesClean(source);

    [Fact]
    public void NamesThatDifferOnlyInCase_GetDistinctFiles()
    {
        var result = CompilesClean(
            "namespace App { [RnnGen.LstmModel(4)] partial class Lstm { } [RnnGen.GruModel(4)] partial class LSTM { } }",
            "namespace app { [RnnGen.RnnModel(4)] partial class Lstm { } }");
        Assert.Equal(3, result.GeneratedSources.Select(s => s.HintName.ToUpperInvariant()).Distinct().Count());
        Assert.All(result.GeneratedSources, s => Assert.Matches(@"^(App|app)\.(Lstm|LSTM)-[0-9a-f]{8}\.g\.cs$", s.HintName));
    }

    [Fact]
    public void UniqueNames_KeepPlainFileNames() =>
        Assert.Equal("Demo.Outer.M.g.cs", Assert.Single(CompilesClean("namespace Demo; partial class Outer { [RnnGen.LstmModel(4)] partial class M { } }").GeneratedSources).HintName);

    [Theory]
    [InlineData("namespace App { class Vec { } class Gemm { } class Lanes { } class Matrix { } [RnnGen.LstmModel(4, Tokens = true, Input = 3, Output = 2)] partial class M { } }")]
    [InlineData("namespace App { [RnnGen.LstmModel(4, Tokens = true, Input = 3)] partial class M { int Matrix = 1; void Vec() { } int Gemm => Matrix; } }")]
    [InlineData("global using Vec = System.Numerics.Vector3; namespace App { [RnnGen.GruModel(4)] partial class M { } }")]
    [InlineData("namespace App { partial class Vec { [RnnGen.LstmModel(4)] partial class M { } } }")]
    public void UserNamesLikeTheKernels_DoNotShadowThem(string source) => CompilesClean(source);

    // Declarations RNNG007 must not refuse: a constructor with only optional parameters; a base class whose methods merely
    // share a name with generated methods (overloads), or whose same-named members are private. (A base method named like
    // a generated property, e.g. Info(string), is refused: the property would hide it, a warning in the generated file.)
    [Theory]
    [InlineData("namespace App; [RnnGen.LstmModel(4)] partial class M { M(int x = 0) { } }")]
    [InlineData("namespace App; class Base { protected void Step(string s) { } public void Forward() { } } [RnnGen.LstmModel(4)] partial class M : Base { }")]
    [InlineData("namespace App; class Base { private int Parameters = 1; public int P => Parameters; } [RnnGen.GruModel(4)] partial class M : Base { }")]
    // the user's own [GeneratedCode] on the class (the generated part does not add a second)
    [InlineData("namespace App; [System.CodeDom.Compiler.GeneratedCode(\"mine\", \"1\")] [RnnGen.GruModel(4)] partial class M { }")]
    // a method named like a generated helper that no generated call could take: another parameter count, or generic
    // (a type parameter no argument mentions cannot be inferred for the generated call without type arguments)
    [InlineData("namespace App; [RnnGen.LstmModel(hidden: 128, layers: 2, Input = 65, Output = 65, Tokens = true)] partial class M { public void LoadState(string path) { } void StoreState<TMine>(State s, System.Span<float> d) { } }")]
    // a generic method of a generated method's name and parameters (another overload to C#)
    [InlineData("namespace App; [RnnGen.LstmModel(4, Input = 2)] partial class M { public void Step<TMine>(System.ReadOnlySpan<float> x, ref State s, System.Span<float> o) { } }")]
    // a parameterless constructor beside optional ones; required members set by it ([SetsRequiredMembers]); a primary
    // constructor's optional parameter of another name
    [InlineData("namespace App; [RnnGen.LstmModel(4)] partial class M { M() { } M(int a = 0) { } M(string s = \"\") { } }")]
    [InlineData("namespace App; [RnnGen.LstmModel(4)] partial class M { [System.Diagnostics.CodeAnalysis.SetsRequiredMembers] public M() { Name = \"m\"; } public required string Name { get; init; } }")]
    [InlineData("namespace App; [RnnGen.LstmModel(4)] partial class M(int seed = 1) { public int Seed => seed; }")]
    // a class named like a member of State's base class (RecurrentState): State's constructor does not name the class
    [InlineData("namespace App; [RnnGen.LstmModel(8)] partial class Hidden { }")]
    [InlineData("namespace App; [RnnGen.GruModel(8, Output = 2)] partial class Values { }")]
    // an explicit implementation of another RnnGen interface (only IRecurrentModel's members are the generated code's), and
    // a generic type named System in the global namespace (it does not hide global::System)
    [InlineData("namespace App; [RnnGen.LstmModel(4)] partial class M : RnnGen.ILearningRateSchedule { double RnnGen.ILearningRateSchedule.LearningRate(long step) => 0.1; }")]
    [InlineData("class System<T> { } namespace App { [RnnGen.LstmModel(4)] partial class M { } }")]
    // a sequential or automatic layout (only an explicit one needs offsets on the generated fields)
    [InlineData("namespace App; [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential, Pack = 1)] [RnnGen.LstmModel(hidden: 64, Input = 3, Output = 2)] partial class M { }")]
    [InlineData("namespace App; [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Auto)] [RnnGen.GruModel(4)] partial class M { }")]
    public void LegitimateDeclarations_AreAccepted(string source) => CompilesClean(source);

    // User declarations that could take over what the generated code writes without a type: a member or type named '_'
    // (discards are typed: out L _), a type named 'var' (every local is typed), a method named 'nameof' (argument names
    // are string literals); a class named like a contextual keyword (record would start a record declaration); lowercase
    // names, whose CS8981 the user silences in their file and the generated one must not raise again.
    [Theory]
    [InlineData("namespace App; [RnnGen.LstmModel(4)] partial class M { public int _ = 1; }")]
    [InlineData("namespace App; [RnnGen.GruModel(4, Output = 2)] partial class M { public static int _ => 1; }")]
    [InlineData("#pragma warning disable CS8981\nnamespace App { class var { } class _ { } [RnnGen.LstmModel(4, Tokens = true, Input = 3, Output = 2)] partial class M { } }")]
    [InlineData("namespace App; [RnnGen.RnnModel(4)] partial class M { public static object nameof(object o) => o; }")]
    [InlineData("#pragma warning disable CS8860\nnamespace App; [RnnGen.LstmModel(4)] partial class record { }")]
    [InlineData("#pragma warning disable CS8981\nnamespace App; [RnnGen.GruModel(4)] partial class async { } [RnnGen.RnnModel(4)] partial class value { }")]
    [InlineData("#pragma warning disable CS8981\nnamespace app { partial class outer { [RnnGen.RnnModel(8)] partial class m { } } }")]
    public void NamesTheGeneratedCodeCouldFind_DoNotBreakIt(string source)
    {
        var compilation = GeneratorHarness.Compile(source);
        compilation = compilation.WithOptions(compilation.Options.WithWarningLevel(9999)); // CS8981 is a warning wave
        GeneratorHarness.Driver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        Assert.Empty(generatorDiagnostics);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
        Assert.True(output.SyntaxTrees.Count() > compilation.SyntaxTrees.Count());
    }

    // A class still being typed (no name yet): the compiler reports the missing name; the generator writes nothing and
    // reports nothing (it wrote a file of ~20 errors, and RNNG009 for two such classes).
    [Theory]
    [InlineData("namespace App { [RnnGen.LstmModel(8)] partial class { } }")]
    [InlineData("namespace App { [RnnGen.LstmModel(8)] partial class { } [RnnGen.GruModel(8)] partial class { } }")]
    [InlineData("namespace App { partial class { [RnnGen.RnnModel(8)] partial class M { } } }")]
    public void AClassWithoutAName_GetsNothing(string source)
    {
        var (result, _) = GeneratorHarness.Run(source);
        Assert.Null(result.Exception);
        Assert.Empty(result.Diagnostics);
        Assert.Empty(result.GeneratedSources);
    }

    // Found by FuzzTests: a class with the full name of a referenced type, whose every mention in the generated file raised
    // CS0436 (an error under TreatWarningsAsErrors).
    [Theory]
    [InlineData("namespace System { [RnnGen.LstmModel(4, Output = 2)] partial class String { } }")]
    [InlineData("namespace System { [RnnGen.GruModel(4, Tokens = true, Input = 3)] public partial class Int32 { } }")]
    public void AClassNamedLikeAReferencedType_CompilesWithoutCS0436(string source) => CompilesClean(source);

    // Found by FuzzTests: with documentation diagnostics on (GenerateDocumentationFile), a user's overload of a generated
    // method, or a method named like a helper that no generated call can take, made the generated crefs ambiguous (CS0419).
    [Fact]
    public void DocumentationCrefs_StayUnambiguousBesideTheUsersOverloads()
    {
        var options = GeneratorHarness.ParseOptions.WithDocumentationMode(DocumentationMode.Diagnose);
        var compilation = GeneratorHarness.Compile().AddSyntaxTrees(Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(
            "namespace App; [RnnGen.LstmModel(hidden: 128, Input = 3)] public partial class M { public void ParametersChanged(int x) { } public void InitializeParameters(long seed) { } void ChunkOutputs() { } void ForwardChunk() { } }",
            options, path: "M.cs"));
        var driver = Microsoft.CodeAnalysis.CSharp.CSharpGeneratorDriver.Create([new RnnGenerator().AsSourceGenerator()], parseOptions: options)
            .RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        Assert.Empty(driver.GetRunResult().Diagnostics);
        var generated = Assert.Single(driver.GetRunResult().GeneratedTrees);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Location.SourceTree == generated && d.Severity >= DiagnosticSeverity.Warning));
    }

    // C# 12 (the default of the .NET 10 SDK) is enough.
    [Fact]
    public void CSharp12_Compiles()
    {
        var options = new Microsoft.CodeAnalysis.CSharp.CSharpParseOptions(Microsoft.CodeAnalysis.CSharp.LanguageVersion.CSharp12);
        var compilation = GeneratorHarness.Compile().AddSyntaxTrees(Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(
            "namespace App; [RnnGen.LstmModel(4, Tokens = true, Input = 3, Output = 2)] partial class M { }", options, path: "M.cs"));
        var driver = Microsoft.CodeAnalysis.CSharp.CSharpGeneratorDriver.Create([new RnnGenerator().AsSourceGenerator()], parseOptions: options)
            .RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        Assert.Empty(driver.GetRunResult().Diagnostics);
        Assert.Empty(GeneratorHarness.CompilerProblems(output));
    }
}
