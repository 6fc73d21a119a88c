namespace RnnGen.Generator.Tests;

/// <summary>
/// Types of the project named like ones the C# compiler binds by their full names when it compiles the generated code —
/// without the code naming them (System.Attribute of the attributes it applies, the handler of its interpolated strings,
/// the attributes of its nullable annotations), or as the class of an attribute it writes without the suffix
/// ([global::…MethodImpl]) — and like ones it would bind only for syntax the generated code does not use (in parameters,
/// init, tuples, indices and ranges, stackalloc, constant arrays, foreach, using, lock), and global using aliases. Each
/// program holds three models (a large token LSTM with a head and a team, a nested double GRU, an RNN in the global
/// namespace): either the generator refuses the models the declaration breaks (RNNG007, whose messages DiagnosticTests
/// checks) or they compile; the generated files get no error or warning, also none that the compiler reports only as it
/// writes the assembly (CS0656), and the generator throws nothing (FuzzTests.Check).
/// </summary>
public class CompilerTypesTests
{
    private const string Models = """
        namespace Demo.Text { [RnnGen.LstmModel(hidden: 128, layers: 2, Input = 65, Output = 65, Tokens = true)] public partial class CharModel { } }
        namespace Demo { public partial class Outer { [RnnGen.GruModel(hidden: 12, Input = 6, Output = 3, Precision = RnnGen.Precision.Double)] internal partial class Gru { } } }
        [RnnGen.RnnModel(hidden: 6, layers: 2, Input = 2)] public partial class ReluRnn { }
        """;

    private const string Rcs = "namespace System.Runtime.CompilerServices { ";

    [Theory]
    // used without being named: any type of the name breaks the generated file
    [InlineData("namespace System { class Attribute { } }", false)]
    [InlineData("namespace System { class Exception { } }", false)]
    [InlineData(Rcs + "ref struct DefaultInterpolatedStringHandler { } }", false)]
    // the classes of the attributes written [global::…MethodImpl] and [global::…GeneratedCode]: not an attribute (CS0616),
    // or one (CS0436, an error with TreatWarningsAsErrors)
    [InlineData(Rcs + "class MethodImplAttribute { } }", false)]
    [InlineData(Rcs + "sealed class MethodImplAttribute : System.Attribute { public MethodImplAttribute(MethodImplOptions o) { } } }", false)]
    [InlineData("namespace System.CodeDom.Compiler { class GeneratedCodeAttribute { } }", false)]
    // the nullable annotations' attributes without the constructors the compiler calls (CS0656)
    [InlineData(Rcs + "class NullableAttribute : System.Attribute { } }", false)]
    [InlineData(Rcs + "class NullableAttribute : System.Attribute { public NullableAttribute(byte b) { } } }", false)]
    [InlineData(Rcs + "class NullableAttribute : System.Attribute { private NullableAttribute(byte b) { } private NullableAttribute(byte[] b) { } } }", false)]
    [InlineData(Rcs + "static class NullableAttribute { } }", false)]
    [InlineData(Rcs + "class NullableContextAttribute : System.Attribute { } }", false)]
    [InlineData(Rcs + "class NullableContextAttribute : System.Attribute { public NullableContextAttribute(int b) { } } }", false)]
    // the polyfills of older targets, as the compiler would write them: fine
    [InlineData(Rcs + "sealed class NullableAttribute : System.Attribute { public NullableAttribute(byte b) { } public NullableAttribute(byte[] b) { } }\n"
        + "sealed class NullableContextAttribute : System.Attribute { internal NullableContextAttribute(byte b) { } } }", true)]
    [InlineData(Rcs + "sealed class NullablePublicOnlyAttribute : System.Attribute { } }", true)]
    [InlineData(Rcs + "static class IsExternalInit { } }", true)]
    // types for syntax the generated code does not use, or ones the compiler does without (CompilerGenerated on the
    // backing fields is left out when it cannot be used): fine, however they are declared
    [InlineData(Rcs + "class IsReadOnlyAttribute { } }", true)]
    [InlineData(Rcs + "class RequiresLocationAttribute { } }", true)]
    [InlineData(Rcs + "class ScopedRefAttribute { } }", true)]
    [InlineData(Rcs + "class IsUnmanagedAttribute { } }", true)]
    [InlineData(Rcs + "class IsByRefLikeAttribute { } }", true)]
    [InlineData(Rcs + "class RequiredMemberAttribute { } }", true)]
    [InlineData(Rcs + "class CompilerFeatureRequiredAttribute { } }", true)]
    [InlineData(Rcs + "class InlineArrayAttribute { } }", true)]
    [InlineData(Rcs + "class CompilerGeneratedAttribute { } }", true)]
    [InlineData(Rcs + "class ExtensionAttribute { } }", true)]
    [InlineData(Rcs + "class CallerArgumentExpressionAttribute { } }", true)]
    [InlineData(Rcs + "class InterpolatedStringHandlerAttribute { } }", true)]
    [InlineData(Rcs + "class FormattableStringFactory { } }", true)]
    [InlineData(Rcs + "static class RuntimeHelpers { } }", true)]
    [InlineData(Rcs + "static class Unsafe { } }", true)]
    [InlineData(Rcs + "class RuntimeFeature { } }", true)]
    [InlineData("namespace System.Runtime.InteropServices { class InAttribute { } }", true)]
    [InlineData("namespace System.Diagnostics { class DebuggerBrowsableAttribute { } }", true)]
    [InlineData("namespace System.Diagnostics.CodeAnalysis { class NotNullAttribute { } class DoesNotReturnAttribute { } class UnscopedRefAttribute { } }", true)]
    [InlineData("namespace System { struct Index { } struct Range { } struct ValueTuple<T1, T2> { } }", true)]
    [InlineData("namespace System { class Nullable<T> { } static class MemoryExtensions { } class FormattableString { } }", true)]
    [InlineData("namespace System { class IDisposable { } class ObsoleteAttribute { } class AttributeUsageAttribute { } }", true)]
    [InlineData("namespace System.Threading { static class Monitor { } }", true)]
    // a file-local type is not seen in the generated file
    [InlineData("namespace System { file class Math { } file class Attribute { } }", true)]
    // global using aliases: a model's nested types and a class in a namespace win over them in the generated file
    [InlineData("global using State = System.Int32;\nglobal using Tape = System.String;\nglobal using TeamCall = System.String;\nglobal using L = System.String;", true)]
    [InlineData("global using CharModel = System.Int32;\nglobal using Gru = Demo.Text.CharModel;\nglobal using Outer = System.Int32;\nglobal using Demo = System;", true)]
    [InlineData("global using System = Demo;\nglobal using Kernels = System;\nglobal using static System.Math;", true)]
    // an alias in the model's own file applies to that file only
    [InlineData("using ReluRnn = System.Int32;", true)]
    public void ProjectTypesTheCompilerCouldTake_AreRefusedOrHarmless(string declaration, bool generates)
    {
        var program = new FuzzProgram();
        program.Files.Add(declaration);
        program.Files.Add(Models);
        int generated = 0, refused = 0;
        Assert.Null(FuzzTests.Check(program, ref generated, ref refused));
        Assert.Equal(generates ? (1, 0) : (0, 1), (generated, refused));
    }

    // A global using alias named like a class of the global namespace conflicts with it in every file (CS0576): that
    // model is refused, the others are generated (also one nested in a class of the global namespace named like an alias,
    // which the generated code declares but does not name).
    [Fact]
    public void AGlobalAliasNamedLikeAClassOfTheGlobalNamespace_RefusesThatModel()
    {
        var program = new FuzzProgram();
        program.Files.Add("global using ReluRnn = System.Int32;\nglobal using Holder = System.String;");
        program.Files.Add(Models + "\npartial class Holder { [RnnGen.GruModel(4)] partial class Inner { } }");
        int generated = 0, refused = 0;
        Assert.Null(FuzzTests.Check(program, ref generated, ref refused));
        Assert.Equal((1, 1), (generated, refused));
    }
}
