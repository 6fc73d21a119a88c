using Microsoft.CodeAnalysis;

namespace RnnGen.Generator.Tests.Adversarial;

/// <summary>
/// Adversarial probes of the generator's promise: for every declaration, no exception, and either an RNNG error that
/// refuses it or generated code that compiles without errors or warnings; identical output across two runs.
/// Each test here failed when it was written (session 17); the comment above it names the cause as it was then.
/// </summary>
public class AdversarialDeclarationTests
{
    /// <summary>The promise: no exception, deterministic, and either refused with an RNNG error or compiled clean.</summary>
    private static void AssertRefusedOrClean(params string[] sources)
    {
        var o = ProbeHarness.Run(sources);
        Assert.True(o.Exception is null, "the generator threw:\n" + o);
        Assert.True(o.Deterministic, "two runs differ:\n" + o);
        Assert.DoesNotContain(o.GeneratorDiagnostics, d => d.Id is "CS8785" or "CS8784");
        if (o.GeneratorDiagnostics.Any(d => d.Id.StartsWith("RNNG", StringComparison.Ordinal) && d.Severity == DiagnosticSeverity.Error))
            return;
        Assert.True(o.GeneratedFileProblems.IsEmpty, "accepted, but the generated code does not compile clean:\n" + o);
    }

    // ---- 1. An exception from AddSource (CS8785, every model of the project lost).
    // RnnGenerator.FileName (RnnGenerator.cs:63-77): when two models' names differ only in case, each gets
    // "<name>.<fnv8>.g.cs" — but nothing checks that this new name is free. A model class named like the hash (a valid
    // identifier when the hash starts with a-f) nested in one of them gets "<name>.<fnv8>.g.cs" unhashed: the same hint name.
    // FNV-1a("App|" + "|" + "Gamma|") = d4a5cc0b. Now a hashed name follows a '-', which no class name has, so no model's
    // plain file name can take it.
    [Fact]
    public void HashedFileName_EqualsANestedModelsFileName_GeneratorThrows() =>
        AssertRefusedOrClean(
            "namespace App { [RnnGen.LstmModel(4)] partial class Gamma { [RnnGen.GruModel(4)] partial class d4a5cc0b { } } [RnnGen.LstmModel(4)] partial class GAMMA { } }");

    // ---- 2. Accepted overloads that are duplicates of generated methods (CS0111 + CS0121 in the generated file).
    // NameClashes.Signature(IMethodSymbol)/TypeText (NameClashes.cs:313-334; the params prefix at :316): the generated model's own State/Tape are
    // recognised only as the *top-level* type of a parameter, written unqualified or as an error type.
    // (a) `params` is part of the compared signature, but C# does not tell overloads apart by `params` (C# 13 params spans):
    [Fact]
    public void ParamsSpanOverloadOfStep_IsADuplicate() =>
        AssertRefusedOrClean(
            "namespace App { [RnnGen.LstmModel(4, Input = 2)] partial class M { public void Step(System.ReadOnlySpan<float> input, ref State state, params System.Span<float> output) { } } }");

    [Fact]
    public void ParamsReadOnlySpanOfStateOverloadOfBackward_IsADuplicate() =>
        AssertRefusedOrClean(
            "[RnnGen.LstmModel(4, Input = 2)] partial class M { public void Backward(Tape tape, System.ReadOnlySpan<float> g, System.Span<float> ig, params System.ReadOnlySpan<State> sg) { } }");

    // (b) the model's State as a type argument, named through the class (M.State): TypeText only rewrites the outermost type
    [Fact]
    public void QualifiedStateInATypeArgument_IsADuplicate() =>
        AssertRefusedOrClean(
            "namespace App { [RnnGen.LstmModel(4, Input = 2)] partial class M { public void Backward(Tape tape, System.ReadOnlySpan<float> g, System.Span<float> ig, System.ReadOnlySpan<M.State> sg) { } } }");

    // (c) a nullable annotation on the (not yet generated, so error-typed) State or Tape: `Tape?` of an error type binds as
    // Nullable<Tape>, not "Tape"; after generation it is the class Tape with an annotation, the same signature. Realistic
    // with <Nullable>enable.
    [Fact]
    public void NullableTapeParameter_IsADuplicate() =>
        AssertRefusedOrClean(
            "namespace App { [RnnGen.LstmModel(4, Input = 2)] partial class M { public void Backward(Tape? tape, System.ReadOnlySpan<float> g, System.Span<float> ig) { } } }");

    [Fact]
    public void NullableStateParameter_IsADuplicate() =>
        AssertRefusedOrClean(
            "[RnnGen.LstmModel(4, Input = 2)] partial class M { public void Step(System.ReadOnlySpan<float> input, ref State? state, System.Span<float> output) { } }");

    // (d) a user type State (or Tape) beside the class: during the generator's run the parameter binds to App.State (a
    // different signature, accepted); once State is generated, the nested one wins and the method duplicates Step.
    [Fact]
    public void StateTypeBesideTheClass_RebindsToTheGeneratedState() =>
        AssertRefusedOrClean(
            "namespace App { class State { } [RnnGen.LstmModel(4, Input = 2)] partial class M { public void Step(System.ReadOnlySpan<float> input, ref State state, System.Span<float> output) { } } }");

    [Fact]
    public void TapeTypeBesideTheClass_RebindsToTheGeneratedTape() =>
        AssertRefusedOrClean(
            "namespace App { class Tape { } [RnnGen.LstmModel(4, Input = 2)] partial class M { public void Backward(Tape tape, System.ReadOnlySpan<float> g, System.Span<float> ig) { } } }");

    // ---- 3. A constructor M(__arglist) counts as parameterless (IMethodSymbol.Parameters is empty for a varargs method;
    // ModelParser.Unsupported, ModelParser.cs:178 does not look at IsVararg): the generated `new M()` is CS7036.
    [Fact]
    public void ArglistConstructor_TakenForAParameterlessOne() =>
        AssertRefusedOrClean("[RnnGen.LstmModel(4)] partial class M { public M(__arglist) { } }");

    // ---- 4. A namespace of the class's name beside it (CS0101 in the user's file): ModelParser.Unsupported excludes
    // namespaces from the "another type or member named like it" check (ModelParser.cs:216), and the generated file gets
    // CS1503 (two 'M's) on top of the user's error.
    [Fact]
    public void NamespaceOfTheClassNameBesideIt_ErrorsInTheGeneratedFile() =>
        AssertRefusedOrClean("namespace M { class X { } }\n[RnnGen.LstmModel(4)] partial class M { }");

    // ---- 5. A false refusal: NameClashes.TypeText (NameClashes.cs:330) treats any type named State whose containing type
    // has *any* attribute as the model's own State, so a valid overload taking another class's State is refused (RNNG007).
    [Fact]
    public void AnotherClassesNestedState_WithAnAttribute_IsRefusedFalsely()
    {
        var o = ProbeHarness.Run(
            "namespace App { [System.Serializable] class Other { public struct State { } } [RnnGen.LstmModel(4, Input = 2)] partial class M { public void Step(System.ReadOnlySpan<float> input, ref Other.State state, System.Span<float> output) { } } }");
        Assert.Null(o.Exception);
        Assert.True(o.GeneratorDiagnostics.IsEmpty, "a valid overload was refused:\n" + o);
        Assert.Empty(o.GeneratedFileProblems);
        // the same program without [Serializable] on Other is accepted and compiles clean
        var control = ProbeHarness.Run(
            "namespace App { class Other { public struct State { } } [RnnGen.LstmModel(4, Input = 2)] partial class M { public void Step(System.ReadOnlySpan<float> input, ref Other.State state, System.Span<float> output) { } } }");
        Assert.Empty(control.GeneratorDiagnostics);
        Assert.Empty(control.GeneratedFileProblems);
    }
}
