using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace RnnGen.Generator.Tests;

/// <summary>One test per diagnostic descriptor, plus malformed attributes: a diagnostic or nothing, never an exception.</summary>
public class DiagnosticTests
{
    private static Diagnostic Single(string source, string id)
    {
        var (result, _) = GeneratorHarness.Run(source);
        Assert.Null(result.Exception);
        Assert.Empty(result.GeneratedSources);
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal(id, d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.NotEqual(Location.None, d.Location);
        return d;
    }

    [Fact]
    public void RNNG001_NotPartial()
    {
        var d = Single("[RnnGen.LstmModel(4)] public class M { }", "RNNG001");
        Assert.Contains("'M' must be declared partial", d.GetMessage());
    }

    [Fact]
    public void RNNG001_ContainingTypeNotPartial()
    {
        var d = Single("public class Outer { [RnnGen.LstmModel(4)] public partial class M { } }", "RNNG001");
        Assert.Contains("'Outer' must be declared partial", d.GetMessage());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    [InlineData("4097")]
    public void RNNG002_Hidden(string hidden) =>
        Assert.Contains($"hidden is {hidden}; it must be between 1 and 4096", Single($"[RnnGen.LstmModel({hidden})] partial class M {{ }}", "RNNG002").GetMessage());

    [Theory]
    [InlineData("0")]
    [InlineData("17")]
    public void RNNG003_Layers(string layers) =>
        Assert.Contains($"layers is {layers}; it must be between 1 and 16", Single($"[RnnGen.GruModel(8, {layers})] partial class M {{ }}", "RNNG003").GetMessage());

    [Fact]
    public void RNNG004_Input() =>
        Assert.Contains("Input is -1", Single("[RnnGen.RnnModel(8, Input = -1)] partial class M { }", "RNNG004").GetMessage());

    [Fact]
    public void RNNG005_Output() =>
        Assert.Contains("Output is -2", Single("[RnnGen.LstmModel(8, Output = -2)] partial class M { }", "RNNG005").GetMessage());

    [Fact]
    public void RNNG006_TooLarge()
    {
        // 16 layers of 4096 LSTM units: 16 · 4 · 4096 · (4096 + 4096 + 2) ≈ 2.1e9 parameters
        var d = Single("[RnnGen.LstmModel(4096, 16)] partial class M { }", "RNNG006");
        Assert.Contains("at most 268435456", d.GetMessage());
    }

    [Theory]
    [InlineData("[RnnGen.LstmModel(4)] partial record M { }", "only classes")]
    [InlineData("[RnnGen.LstmModel(4)] static partial class M { }", "remove 'static'")]
    [InlineData("[RnnGen.LstmModel(4)] partial class M<T> { }", "generic model classes")]
    [InlineData("partial class G<T> { [RnnGen.LstmModel(4)] partial class M { } }", "nested in the generic type 'G'")]
    [InlineData("[RnnGen.LstmModel(4)] file partial class M { }", "file-local")]
    [InlineData("file partial class Outer { [RnnGen.LstmModel(4)] public partial class M { } }", "nested in the file-local type 'Outer'")]
    [InlineData("[RnnGen.LstmModel(4)] abstract partial class M { }", "remove 'abstract'")]
    [InlineData("[RnnGen.LstmModel(4)] partial class M(int seed) { }", "remove the primary constructor's parameters")]
    [InlineData("[RnnGen.LstmModel(4)] partial class M { M(int seed) { } }", "add a constructor without parameters, or give every parameter a default value")]
    [InlineData("[RnnGen.LstmModel(4)] partial class State { }", "declares a member named 'State'")]
    [InlineData("[RnnGen.GruModel(4)] partial class Tape { }", "declares a member named 'Tape'")]
    [InlineData("[RnnGen.LstmModel(4)] partial class Step { }", "declares a member named 'Step'")]
    [InlineData("[RnnGen.LstmModel(4)] partial class CheckLength { }", "declares a member named 'CheckLength'")]
    [InlineData("class B { public int Parameters; } [RnnGen.LstmModel(4)] partial class M : B { }", "member 'Parameters', which the generated 'Parameters' would hide")]
    [InlineData("class B { protected void Cell() { } public int Step; } [RnnGen.LstmModel(4)] partial class M : B { }", "member 'Step', which the generated 'Step' would hide")]
    [InlineData("[RnnGen.LstmModel(4)] partial class M { public int Parameters => 0; }", "it declares 'Parameters', which the generated code declares too")]
    [InlineData("[RnnGen.LstmModel(4)] partial class M { public const int HiddenSize = 3; }", "it declares 'HiddenSize'")]
    [InlineData("[RnnGen.LstmModel(4)] partial class M { private float[] _parameters = new float[1]; }", "it declares '_parameters'")]
    [InlineData("[RnnGen.LstmModel(4)] partial class M { static void CheckLength(int a, int b, string c) { } }", "it declares a method 'CheckLength', and the generated code has a method of that name for its own use")]
    [InlineData("[RnnGen.RnnModel(4)] partial class M { public int Step => 1; }", "it declares 'Step'")]
    [InlineData("[RnnGen.GruModel(4)] partial class M { class Tape { } }", "it declares 'Tape'")]
    [InlineData("[RnnGen.LstmModel(4)] partial class M { public void InitializeParameters(int seed) { } }", "it declares a method 'InitializeParameters' with the same parameters")]
    [InlineData("[RnnGen.LstmModel(4, Tokens = true, Input = 5)] partial class M { static void CheckToken(int a, string b) { } }", "it declares a method 'CheckToken'")]
    [InlineData("class B { public void ParametersChanged() { } } [RnnGen.LstmModel(4)] partial class M : B { }", "member 'ParametersChanged', which the generated 'ParametersChanged' would hide")]
    [InlineData("abstract class B { public abstract void InitializeParameters(int seed); } [RnnGen.LstmModel(4)] partial class M : B { }", "member 'InitializeParameters'")]
    [InlineData("partial class M { partial class X { [RnnGen.LstmModel(4)] partial class M { public int Parameters; } } }", "it declares 'Parameters'")]
    // a method named like one of the generated code's own helpers, whatever its parameters: the generated calls could bind
    // to it (these two are better matches than the helpers for the team step's calls, and would be taken)
    [InlineData("[RnnGen.LstmModel(hidden: 128, layers: 2, Input = 65, Output = 65, Tokens = true)] partial class M { public void StoreState(State s, System.Span<float> d) { } }",
        "it declares a method 'StoreState', and the generated code has a method of that name for its own use")]
    [InlineData("[RnnGen.LstmModel(hidden: 128, layers: 2, Input = 65, Output = 65, Tokens = true)] partial class M { void LoadState(System.ReadOnlySpan<float> s, State d) { } }",
        "it declares a method 'LoadState', and the generated code has a method of that name")]
    [InlineData("[RnnGen.LstmModel(4)] partial class M { static void CheckLength(string s, string t, string u) { } }", "it declares a method 'CheckLength', and the generated code has a method of that name")]
    [InlineData("class Net { public int Model; } [RnnGen.LstmModel(8)] partial class Model : Net { }", "its base class 'Net' has a member named 'Model' like the class")]
    // the same parameters but for how one is passed by reference (C# cannot tell those overloads apart), or with the
    // model's own State named through the class
    [InlineData("[RnnGen.LstmModel(4, Input = 2)] partial class M { public void Step(System.ReadOnlySpan<float> x, in State s, System.Span<float> o) { } }", "it declares a method 'Step' with the same parameters")]
    [InlineData("[RnnGen.LstmModel(4, Input = 2)] partial class M { public void Step(System.ReadOnlySpan<float> x, ref M.State s, System.Span<float> o) { } }", "it declares a method 'Step' with the same parameters")]
    // what `new M()` needs: one best constructor, and no required member left unset
    [InlineData("[RnnGen.LstmModel(4)] partial class M { M(int a = 0) { } M(string s = \"\") { } }", "several constructors whose parameters are all optional")]
    [InlineData("[RnnGen.LstmModel(4)] partial class M { public required string Name { get; init; } }", "its member 'Name' is required")]
    [InlineData("class B { public required int Size; } [RnnGen.GruModel(4)] partial class M : B { }", "its member 'Size' is required")]
    // a primary constructor's parameter named like a generated member would take its place in the initializers
    [InlineData("[RnnGen.LstmModel(8)] partial class M(int HiddenSize = 8) { }", "its primary constructor's parameter 'HiddenSize'")]
    // a parameterless constructor whose call would be a diagnostic in the generated file (a warning the user cannot
    // silence there, an error under TreatWarningsAsErrors or by itself)
    [InlineData("[RnnGen.LstmModel(8)] partial class M { [System.Obsolete(\"old\")] public M() { } }", "its constructor 'M()' is marked [Obsolete]")]
    [InlineData("[RnnGen.LstmModel(8)] partial class M { [System.Obsolete(\"no\", true)] public M() { } }", "is marked [Obsolete]")]
    [InlineData("[RnnGen.GruModel(8)] partial class M { [System.Diagnostics.CodeAnalysis.Experimental(\"RNNX1\")] public M() { } }", "is marked [Experimental]")]
    [InlineData("[RnnGen.RnnModel(8)] partial class M { [System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode(\"x\")] public M() { } }", "is marked [RequiresUnreferencedCode]")]
    [InlineData("[RnnGen.RnnModel(8)] partial class M { [System.Diagnostics.CodeAnalysis.RequiresDynamicCode(\"x\")] M(int a = 1) { } }", "its constructor 'M()' is marked [RequiresDynamicCode]")]
    // a generic method named like a generic helper with its arity and parameters, whatever its type parameters are called
    // (the generated Cell<L>(…) calls could take it), here or in a base class
    [InlineData("[RnnGen.RnnModel(8)] partial class M { private static void Cell<T>(T pre, out T h) { h = pre; } }", "it declares a method 'Cell', and the generated code has a method of that name for its own use")]
    [InlineData("public class B { protected static void Cell<T>(T pre, out T h) { h = pre; } } [RnnGen.RnnModel(8)] partial class M : B { }", "its base class 'B' has a member 'Cell', which the generated 'Cell' would hide")]
    // a generic method whose type arguments a plain helper call infers
    [InlineData("[RnnGen.LstmModel(4)] partial class M { static void CheckLength<T>(T a, int b, string c) { } }", "it declares a method 'CheckLength'")]
    // the user's own implementation of a member the generated code implements
    [InlineData("[RnnGen.LstmModel(8)] partial class M { static M RnnGen.IRecurrentModel<M, float>.Create() => new M(); }", "it implements 'IRecurrentModel.Create' itself")]
    // a type in the global namespace named like a namespace the generated code names from global::
    [InlineData("class System { } [RnnGen.LstmModel(8)] partial class M { }", "a type named 'System' in the global namespace hides the System namespace")]
    // found by FuzzTests: a type of the project with the full name of a namespace or type the generated code names from
    // global::, or uses without naming it (errors in the generated file)
    [InlineData("namespace System { class Collections { } } [RnnGen.LstmModel(8)] partial class M { }", "a type named 'Collections' in the namespace 'System' hides the System.Collections namespace")]
    [InlineData("namespace RnnGen { class Kernels { } } [RnnGen.LstmModel(8)] partial class M { }", "a type named 'Kernels' in the namespace 'RnnGen' hides the RnnGen.Kernels namespace")]
    [InlineData("namespace System { class Span<T> { } } [RnnGen.GruModel(8)] partial class M { }", "the type 'System.Span' declared in this project takes the place of 'global::System.Span'")]
    [InlineData("namespace System { class Attribute { } } [RnnGen.LstmModel(8)] partial class M { }", "the type 'System.Attribute' declared in this project")]
    [InlineData("namespace System { class Exception { } } [RnnGen.RnnModel(8)] partial class M { }", "the type 'System.Exception' declared in this project")]
    // the class of an attribute the generated code writes without the suffix ([global::…MethodImpl(…)]): not an attribute
    // class (CS0616) or one (CS0436)
    [InlineData("namespace System.Runtime.CompilerServices { class MethodImplAttribute { } } [RnnGen.LstmModel(8)] partial class M { }",
        "the type 'System.Runtime.CompilerServices.MethodImplAttribute' declared in this project takes the place of 'global::System.Runtime.CompilerServices.MethodImplAttribute'")]
    [InlineData("namespace System.CodeDom.Compiler { sealed class GeneratedCodeAttribute : System.Attribute { public GeneratedCodeAttribute(string t, string v) { } } } [RnnGen.GruModel(8)] partial class M { }",
        "the type 'System.CodeDom.Compiler.GeneratedCodeAttribute' declared in this project")]
    // an attribute the compiler applies for the generated code's nullable annotations, without the constructors it calls
    // (CS0656 in the generated file as the assembly is written)
    [InlineData("namespace System.Runtime.CompilerServices { class NullableAttribute : System.Attribute { public NullableAttribute(byte b) { } } } [RnnGen.LstmModel(8)] partial class M { }",
        "the type 'System.Runtime.CompilerServices.NullableAttribute' declared in this project is the one the compiler uses for the generated code's nullable annotations, and it has no constructor NullableAttribute(byte[]) that the compiler can call; give it NullableAttribute(byte) and NullableAttribute(byte[]) (public or internal), or remove it")]
    [InlineData("namespace System.Runtime.CompilerServices { class NullableContextAttribute { } } [RnnGen.RnnModel(8)] partial class M { }",
        "it has no constructor NullableContextAttribute(byte) that the compiler can call")]
    // a global using alias named like the class, in the global namespace: CS0576 in every file that names the class
    [InlineData("global using M = System.Int32; [RnnGen.LstmModel(8)] partial class M { }", "the global using alias 'M' is named like the class, which is in the global namespace")]
    // found by FuzzTests: duplicates the compiler reports, where the generated code's mentions of the class found the other
    // one, and a class in a namespace declared private
    [InlineData("namespace App { [RnnGen.GruModel(3)] partial class M { } enum M { A } }", "another type, member or namespace named 'M' is declared beside it")]
    [InlineData("partial class Outer { int M; [RnnGen.LstmModel(4)] partial class M { } }", "another type, member or namespace named 'M' is declared beside it")]
    [InlineData("namespace App { [RnnGen.LstmModel(4)] partial class M { } } namespace App.M { }", "another type, member or namespace named 'M' is declared beside it")]
    [InlineData("namespace App { [RnnGen.LstmModel(3)] partial class M { class M { } } }", "it declares a member named 'M' like itself")]
    [InlineData("namespace App { [RnnGen.LstmModel(4)] private partial class M { } }", "a class in a namespace can only be public or internal")]
    // an explicit layout (in any part): the generated fields have no [FieldOffset] (CS0625 in the generated file before RNNG007 said so)
    [InlineData("[System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Explicit)] partial class M { } [RnnGen.LstmModel(4)] partial class M { }", "it is marked [StructLayout(LayoutKind.Explicit)]")]
    [InlineData("[System.Runtime.InteropServices.StructLayout((short)2)] [RnnGen.GruModel(4)] partial class M { }", "it is marked [StructLayout(LayoutKind.Explicit)]")]
    public void RNNG007_Unsupported(string source, string expected) =>
        Assert.Contains(expected, Single(source, "RNNG007").GetMessage());

    // A user's overloads of the generated public methods are fine; so are members of other names.
    [Fact]
    public void OverloadsOfGeneratedMethods_AndOtherMembers_AreAccepted()
    {
        var (result, compilation) = GeneratorHarness.Run(
            "[RnnGen.LstmModel(4, Input = 2)] partial class M { public void Step(string text) { } public void InitializeParameters() => InitializeParameters(1); static void Check(string s) { } int _mine = 2; public int Size => HiddenSize + _mine; }");
        Assert.Null(result.Exception);
        Assert.Empty(result.Diagnostics);
        Assert.Empty(GeneratorHarness.CompilerProblems(compilation));
    }

    // The model's names are those of the model class, not of an enclosing class of the same name; a base method of another
    // parameter list is an overload.
    [Fact]
    public void AnEnclosingClassOfTheModelsName_AndBaseOverloads_AreAccepted()
    {
        var (result, compilation) = GeneratorHarness.Run(
            "partial class M { partial class X { [RnnGen.LstmModel(4, Input = 2)] partial class M { public int X = 1; } } }",
            "class B { public void Step(string text) { } } [RnnGen.GruModel(4, Input = 2)] partial class N : B { }");
        Assert.Null(result.Exception);
        Assert.Empty(result.Diagnostics);
        Assert.Empty(GeneratorHarness.CompilerProblems(compilation));
    }

    [Fact]
    public void RNNG004_InputZeroWritten() =>
        Assert.Contains("Input is 0", Single("[RnnGen.LstmModel(4, Input = 0)] partial class M { }", "RNNG004").GetMessage());

    [Fact]
    public void RNNG008_ActivationOnLstm() =>
        Assert.Contains("[LstmModel]", Single("[RnnGen.LstmModel(4, Activation = RnnGen.RnnActivation.Relu)] partial class M { }", "RNNG008").GetMessage());

    [Fact]
    public void RNNG008_ActivationOnGru_EvenWhenTanh() =>
        Single("[RnnGen.GruModel(4, Activation = RnnGen.RnnActivation.Tanh)] partial class M { }", "RNNG008");

    // Two models of one full name (a class nested in class A.B, another in namespace A.B; the compiler calls that a duplicate
    // definition): the generator does not throw (a file name added twice would), each model gets a file of its own.
    [Fact]
    public void TwoModelsOfOneFullName_GetAFileEach()
    {
        var (result, _) = GeneratorHarness.Run(
            "namespace A { partial class B { [RnnGen.LstmModel(4)] partial class C { } } }",
            "namespace A.B { [RnnGen.GruModel(4)] partial class C { } }");
        Assert.Null(result.Exception);
        Assert.Empty(result.Diagnostics);
        Assert.Equal(2, result.GeneratedSources.Select(s => s.HintName).Distinct().Count());
        Assert.All(result.GeneratedSources, s => Assert.Matches(@"^A\.B\.C-[0-9a-f]{8}\.g\.cs$", s.HintName));
    }

    // A model deriving from another model: RNNG007 for it, the base model generated as usual.
    [Fact]
    public void RNNG007_DerivedFromAModel()
    {
        var (result, _) = GeneratorHarness.Run("[RnnGen.LstmModel(4)] partial class A { } [RnnGen.LstmModel(4)] partial class M : A { }");
        Assert.Null(result.Exception);
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal("RNNG007", d.Id);
        Assert.Contains("'M' cannot hold a generated model: it derives from the model 'A'", d.GetMessage());
        Assert.Equal("A.g.cs", Assert.Single(result.GeneratedSources).HintName);
    }

    // The same attribute on two partial declarations: one RNNG009, not one per declaration.
    [Fact]
    public void RNNG009_ReportedOnce()
    {
        var (result, _) = GeneratorHarness.Run("[RnnGen.LstmModel(4)] partial class M { } [RnnGen.LstmModel(4)] partial class M { }");
        Assert.Null(result.Exception);
        Assert.Single(result.Diagnostics, d => d.Id == "RNNG009");
    }

    // Below C# 12 the generated code cannot compile: one diagnostic that says what to set, and no code (not 100+ errors).
    [Theory]
    [InlineData(LanguageVersion.CSharp11, "11.0")]
    [InlineData(LanguageVersion.CSharp10, "10.0")]
    [InlineData(LanguageVersion.CSharp7_3, "7.3")]
    public void RNNG011_LanguageVersion(LanguageVersion version, string shown)
    {
        var compilation = GeneratorHarness.Compile().AddSyntaxTrees(
            CSharpSyntaxTree.ParseText("[RnnGen.LstmModel(4)] partial class M { }", new CSharpParseOptions(version), path: "Old.cs"));
        var driver = CSharpGeneratorDriver.Create([new RnnGenerator().AsSourceGenerator()], parseOptions: new CSharpParseOptions(version))
            .RunGenerators(compilation);
        var result = driver.GetRunResult().Results.Single();
        Assert.Null(result.Exception);
        Assert.Empty(result.GeneratedSources);
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal("RNNG011", d.Id);
        Assert.Contains($"this project compiles C# {shown}: set <LangVersion> to 12 or later", d.GetMessage());
    }

    [Fact]
    public void RNNG009_SeveralModels() =>
        Assert.Contains("more than one", Single("[RnnGen.LstmModel(4)][RnnGen.GruModel(4)] partial class M { }", "RNNG009").GetMessage());

    [Theory]
    [InlineData("Precision = (RnnGen.Precision)7", "Precision is 7")]
    [InlineData("Activation = (RnnGen.RnnActivation)5", "Activation is 5")]
    public void RNNG010_InvalidEnum(string named, string expected) =>
        Assert.Contains(expected, Single($"[RnnGen.RnnModel(4, {named})] partial class M {{ }}", "RNNG010").GetMessage());

    // Malformed declarations: never an exception; our diagnostics where the model is invalid (and no code), nothing of
    // ours where the compiler already refuses the attribute's arguments (and no code); code only where the model itself
    // is valid and the compiler's error lies elsewhere (an unknown named argument, a broken member).
    [Theory]
    [InlineData("[RnnGen.LstmModel] partial class M { }", "", false)]                        // missing argument
    [InlineData("[RnnGen.LstmModel(\"wide\")] partial class M { }", "", false)]               // wrong type
    [InlineData("[RnnGen.LstmModel(hidden: )] partial class M { }", "", false)]               // broken syntax
    [InlineData("[RnnGen.LstmModel(4, Tokens = 3)] partial class M { }", "", false)]          // wrong named type
    [InlineData("[RnnGen.LstmModel(4, Nope = 1)] partial class M { }", "", true)]             // unknown named argument
    [InlineData("[RnnGen.LstmModel(4)] partial class M { void F( }", "", true)]               // broken class
    [InlineData("[RnnGen.LstmModel(int.MaxValue, int.MaxValue, Input = int.MaxValue)] partial class M { }", "RNNG002,RNNG003,RNNG004", false)]
    [InlineData("[RnnGen.LstmModel(4)] partial struct M { }", "RNNG007", false)]              // invalid target (compiler error)
    [InlineData("[RnnGen.LstmModel(4)] partial interface M { }", "RNNG007", false)]
    public void Malformed_NoException(string source, string diagnostics, bool generates)
    {
        var (result, _) = GeneratorHarness.Run(source);
        Assert.Null(result.Exception);
        Assert.Equal(diagnostics, string.Join(",", result.Diagnostics.Select(d => d.Id).Order()));
        Assert.Equal(generates ? 1 : 0, result.GeneratedSources.Length);
    }

    // Found by FuzzTests: the generator is given every attribute of the class's name written in the node's file, so a part
    // whose own attribute of that name is another type's got the model's attribute from the other part, and the model was
    // emitted twice under one file name (an ArgumentException from AddSource).
    [Fact]
    public void APartWithAnotherAttributeOfTheNameInTheSameFile_EmitsTheModelOnce()
    {
        var (result, output) = GeneratorHarness.Run(
            "namespace Mine { class LstmModelAttribute : System.Attribute { } } namespace App { [RnnGen.LstmModel(4)] partial class M { } [Mine.LstmModel] partial class M { } }");
        Assert.Null(result.Exception);
        Assert.Empty(result.Diagnostics);
        Assert.Equal("App.M.g.cs", Assert.Single(result.GeneratedSources).HintName);
        Assert.Empty(GeneratorHarness.CompilerProblems(output));
    }

    // A token model that leaves Input unset gets a vocabulary of hidden tokens, as documented, and a warning that names that
    // size (the model is generated); Input set, even to hidden, or a dense model: no warning.
    [Fact]
    public void RNNG012_TokensWithoutInput()
    {
        var (result, output) = GeneratorHarness.Run("[RnnGen.LstmModel(hidden: 8, Tokens = true)] partial class M { }");
        Assert.Null(result.Exception);
        Assert.Single(result.GeneratedSources);
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal("RNNG012", d.Id);
        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
        Assert.NotEqual(Location.None, d.Location);
        Assert.Contains("'M' reads token ids (Tokens = true) but does not set Input, so its vocabulary is the hidden size, 8 tokens", d.GetMessage());
        Assert.Empty(GeneratorHarness.CompilerProblems(output));
    }

    [Theory]
    [InlineData("[RnnGen.LstmModel(hidden: 8, Input = 8, Tokens = true)] partial class M { }")]
    [InlineData("[RnnGen.GruModel(8, Input = 65, Tokens = true)] partial class M { }")]
    [InlineData("[RnnGen.RnnModel(8)] partial class M { }")]
    [InlineData("[RnnGen.RnnModel(8, Tokens = false)] partial class M { }")]
    public void RNNG012_NotForAnInputGivenOrADenseModel(string source)
    {
        var (result, _) = GeneratorHarness.Run(source);
        Assert.Empty(result.Diagnostics);
        Assert.Single(result.GeneratedSources);
    }

    [Fact]
    public void EveryDescriptorIsTrackedInAnalyzerReleases()
    {
        string dir = Path.GetDirectoryName(GeneratorHarness.SnapshotDirectory())!;
        string unshipped = File.ReadAllText(Path.Combine(dir, "../../generator/RnnGen.Generator/AnalyzerReleases.Unshipped.md"));
        for (int i = 1; i <= 12; i++)
        {
            string id = $"RNNG{i:000}";
            Assert.NotNull(Parsing.Diagnostics.Find(id));
            Assert.Contains(id, unshipped);
        }
        Assert.Null(Parsing.Diagnostics.Find("RNNG013"));
    }
}
