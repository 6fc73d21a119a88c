using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace RnnGen.Generator.Tests;

/// <summary>
/// A seeded fuzz test of the generator: many small programs that use the three attributes in odd ways (values out of range,
/// of the wrong type or not constant, arguments misspelled or repeated, several attributes, structs, records, interfaces,
/// static, abstract, generic, file-local and nested declarations, partial parts in several files, odd namespaces, members and
/// types named like the generated ones, broken syntax, language versions and compilation options). For each: the generator
/// throws nothing, reports only RNNG diagnostics, and the compilation with its files has no error (nor warning) located in a
/// generated file — the user's own errors are the user's. Deterministic: case i of seed s is always the same program.
/// RNNGEN_FUZZ_CASES and RNNGEN_FUZZ_SEED scale it up for a long local run (e.g. RNNGEN_FUZZ_CASES=20000); RNNGEN_FUZZ_FIRST=i
/// with RNNGEN_FUZZ_CASES=1 runs case i alone.
/// </summary>
public class FuzzTests
{
    private const int DefaultCases = 100;
    private const int DefaultSeed = 20261201;

    [Fact]
    public void OddDeclarations_NeverThrow_AndTheGeneratedFilesCompile()
    {
        int cases = Environment.GetEnvironmentVariable("RNNGEN_FUZZ_CASES") is { } n ? int.Parse(n, CultureInfo.InvariantCulture) : DefaultCases;
        int seed = Environment.GetEnvironmentVariable("RNNGEN_FUZZ_SEED") is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : DefaultSeed;
        int first = Environment.GetEnvironmentVariable("RNNGEN_FUZZ_FIRST") is { } f ? int.Parse(f, CultureInfo.InvariantCulture) : 0;
        var failures = new List<string>();
        int generated = 0, refused = 0;
        for (int i = first; i < first + cases && failures.Count < 3; i++)
        {
            var program = FuzzProgram.Generate(new Random(unchecked(seed * 31 + i)));
            string? failure = Check(program, ref generated, ref refused);
            if (failure is not null)
                failures.Add($"case {i} of seed {seed}: {failure}\n{program}");
        }
        Assert.True(failures.Count == 0, string.Join("\n\n==========\n\n", failures));
        // the programs are not all refused: most cases reach the emitter
        Assert.True(generated > cases / 4, $"only {generated} of {cases} programs generated a model ({refused} refused)");
    }

    /// <summary>Runs the generator on the program; null if all is well, else what went wrong.</summary>
    internal static string? Check(FuzzProgram program, ref int generated, ref int refused)
    {
        var trees = program.Files.Select((text, i) => CSharpSyntaxTree.ParseText(text, program.ParseOptions, path: $"Fuzz{i}.cs")).ToList();
        var compilation = CSharpCompilation.Create("Consumer", trees, GeneratorHarness.References, program.CompilationOptions);
        var driver = CSharpGeneratorDriver.Create([new RnnGenerator().AsSourceGenerator()], parseOptions: program.ParseOptions)
            .RunGeneratorsAndUpdateCompilation(compilation, out var output, out var driverDiagnostics);
        var run = driver.GetRunResult();
        var problems = new StringBuilder();
        foreach (var result in run.Results)
            if (result.Exception is not null)
                problems.AppendLine($"the generator threw {result.Exception}");
        foreach (var d in driverDiagnostics.Concat(run.Diagnostics))
            if (!d.Id.StartsWith("RNNG", StringComparison.Ordinal))
                problems.AppendLine($"the generator reported {d} (only RNNG diagnostics are its own)");
        if (run.Results.Sum(r => r.GeneratedSources.Length) > 0) generated++;
        if (run.Diagnostics.Any(d => d.Id.StartsWith("RNNG", StringComparison.Ordinal))) refused++;

        var userTrees = new HashSet<SyntaxTree>(trees);
        ImmutableArray<Diagnostic>? before = null;
        int reported = 0;
        // what the compiler reports, and then what it reports only as it writes the assembly (a missing member of a type it
        // uses for the generated code, CS0656), when nothing stops it before
        var diagnostics = output.GetDiagnostics();
        bool emitted = !diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);
        if (emitted)
            diagnostics = Emit(output);
        foreach (var d in diagnostics)
        {
            if (reported == 3) { problems.AppendLine("…"); break; }
            if (d.Severity < DiagnosticSeverity.Warning) continue;
            var tree = d.Location.SourceTree;
            if (tree is not null && userTrees.Contains(tree)) continue; // the user's code: the user's errors
            if (tree is null)
            {
                // no location (e.g. no Main): fine if the program without the generated files has it too
                before ??= emitted ? Emit(compilation) : compilation.GetDiagnostics();
                if (before.Value.Any(b => b.Id == d.Id)) continue;
            }
            if (d.Severity == DiagnosticSeverity.Warning && d.Id is "CS8785" or "CS8784") { problems.AppendLine($"generator failure {d}"); continue; }
            problems.AppendLine($"{d.Severity} in a generated file: {d}" + (tree is null ? "" : "\n    at: " + LineOf(tree, d.Location)));
            reported++;
        }
        return problems.Length == 0 ? null : problems.ToString();
    }

    private static ImmutableArray<Diagnostic> Emit(Compilation compilation)
    {
        using var stream = new MemoryStream();
        return compilation.Emit(stream).Diagnostics;
    }

    private static string LineOf(SyntaxTree tree, Location location)
    {
        var line = tree.GetText().Lines[location.GetLineSpan().StartLinePosition.Line];
        return line.ToString().Trim();
    }
}

/// <summary>One fuzzed program: its files and the options it is parsed and compiled with.</summary>
internal sealed class FuzzProgram
{
    public List<string> Files { get; } = new();
    public CSharpParseOptions ParseOptions { get; private set; } = GeneratorHarness.ParseOptions;
    public CSharpCompilationOptions CompilationOptions { get; private set; } = new(OutputKind.DynamicallyLinkedLibrary);
    private string _options = "";

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.AppendLine("options: " + _options);
        for (int i = 0; i < Files.Count; i++)
            sb.AppendLine($"---- Fuzz{i}.cs").AppendLine(Files[i]);
        return sb.ToString();
    }

    public static FuzzProgram Generate(Random random) => new Builder(random).Build();

    private sealed class Builder
    {
        private readonly Random _r;
        private readonly FuzzProgram _program = new();
        private StringBuilder[] _usings = [];
        private List<(string? Namespace, string Text)>[] _chunks = [];
        private int _names;

        public Builder(Random random) => _r = random;

        private bool Chance(double p) => _r.NextDouble() < p;
        private T Pick<T>(params T[] items) => items[_r.Next(items.Length)];
        private string Fresh(string stem) => stem + (_names++).ToString(CultureInfo.InvariantCulture);

        public FuzzProgram Build()
        {
            Options();
            int files = 1 + _r.Next(3);
            _usings = Enumerable.Range(0, files).Select(_ => new StringBuilder()).ToArray();
            _chunks = Enumerable.Range(0, files).Select(_ => new List<(string?, string)>()).ToList().ToArray();
            foreach (var u in _usings)
            {
                if (Chance(0.15)) u.AppendLine(Pick("#nullable disable", "#nullable enable", "#nullable restore", "#nullable disable annotations"));
                if (Chance(0.15)) u.AppendLine(Pick("#pragma warning disable", "#pragma warning disable CS0436, CS0108", "#pragma warning disable CS8981", "#pragma warning restore"));
                if (Chance(0.6)) u.AppendLine("using RnnGen;");
                if (Chance(0.1)) u.AppendLine(Pick("using static RnnGen.Precision;", "using static RnnGen.RnnActivation;", "using System;", "using System.Numerics;"));
                if (Chance(0.15)) u.AppendLine(Pick("using L = RnnGen.LstmModelAttribute;", "using G = RnnGen.GruModelAttribute;", "using R = RnnGen.RnnModelAttribute;"));
            }
            if (Chance(0.25)) // a default consumer project's implicit usings, and other global ones
                _usings[0].Insert(0, "global using global::System;\nglobal using global::System.Collections.Generic;\nglobal using global::System.IO;\nglobal using global::System.Linq;\nglobal using global::System.Net.Http;\nglobal using global::System.Threading;\nglobal using global::System.Threading.Tasks;\n");
            if (Chance(0.08))
                _usings[0].Insert(0, Pick("global using State = System.String;\n", "global using static System.Math;\n", "global using M = System.Int32;\n",
                    "global using Span = System.Int32;\n", "global using static System.MathF;\n", "global using RnnGen.Kernels;\n", "global using System.Runtime.Intrinsics;\n",
                    "global using Vec = System.Numerics.Vector3;\n", "global using static System.Numerics.Tensors.TensorPrimitives;\n"));

            Constants();
            int models = 1 + _r.Next(3);
            for (int m = 0; m < models; m++) Model();
            int extras = _r.Next(3);
            for (int e = 0; e < extras; e++) Extra();

            for (int f = 0; f < files; f++)
                _program.Files.Add(Render(f));
            if (Chance(0.04)) Damage();
            return _program;
        }

        private void Options()
        {
            var lang = Pick(LanguageVersion.Latest, LanguageVersion.Latest, LanguageVersion.Preview, LanguageVersion.CSharp12, LanguageVersion.CSharp13,
                LanguageVersion.Default, LanguageVersion.LatestMajor, Chance(0.3) ? LanguageVersion.CSharp11 : LanguageVersion.Latest);
            var nullable = Pick(NullableContextOptions.Enable, NullableContextOptions.Enable, NullableContextOptions.Disable, NullableContextOptions.Warnings, NullableContextOptions.Annotations);
            var docs = Chance(0.2) ? DocumentationMode.Diagnose : DocumentationMode.Parse;
            bool warningsAsErrors = Chance(0.3), unsafeCode = Chance(0.2), checkedMath = Chance(0.2);
            int warningLevel = Pick(4, 9999, 9999);
            var kind = Chance(0.05) ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary;
            string[] symbols = Chance(0.2) ? ["DEBUG", "TRACE"] : [];
            _program.ParseOptions = new CSharpParseOptions(lang, docs, preprocessorSymbols: symbols);
            _program.CompilationOptions = new CSharpCompilationOptions(kind, nullableContextOptions: nullable, allowUnsafe: unsafeCode, checkOverflow: checkedMath,
                warningLevel: warningLevel, generalDiagnosticOption: warningsAsErrors ? ReportDiagnostic.Error : ReportDiagnostic.Default,
                optimizationLevel: Chance(0.5) ? OptimizationLevel.Release : OptimizationLevel.Debug);
            _program._options = $"LangVersion {lang}, Nullable {nullable}, DocumentationMode {docs}, TreatWarningsAsErrors {warningsAsErrors}, "
                + $"AllowUnsafe {unsafeCode}, CheckOverflow {checkedMath}, WarningLevel {warningLevel}, {kind}, symbols [{string.Join(",", symbols)}]";
        }

        // Constants the attribute arguments may name (constant and not).
        private void Constants() => Add(_r.Next(_chunks.Length), null,
            "static class Consts { public const int N = 8; public const int Neg = -4; public const int Big = 1 << 21; public const bool Flag = true;"
            + " public static readonly int Field = 3; public static int Prop => 2; public const RnnGen.Precision D = RnnGen.Precision.Double;"
            + " public const long Long = 5; public const double Half = 0.5; public const string Text = \"x\"; }");

        private void Add(int file, string? ns, string text) => _chunks[file].Add((ns, text));

        private string Render(int file)
        {
            var sb = new StringBuilder();
            sb.Append(_usings[file]);
            var chunks = _chunks[file];
            // a file-scoped namespace when every chunk of the file is in the same one
            if (chunks.Count > 0 && chunks.All(c => c.Namespace is not null && c.Namespace == chunks[0].Namespace) && Chance(0.5))
            {
                sb.AppendLine($"namespace {chunks[0].Namespace};");
                foreach (var c in chunks) sb.AppendLine(c.Text);
                return sb.ToString();
            }
            foreach (var c in chunks)
            {
                if (c.Namespace is null) sb.AppendLine(c.Text);
                else sb.AppendLine($"namespace {c.Namespace}\n{{\n{c.Text}\n}}");
            }
            return sb.ToString();
        }

        // ------------------------------------------------------------------ models

        private static readonly string[] Namespaces =
        {
            "App", "App", "Demo.Models", "A.B.C.D.E.F", "@class.@event", "System", "System.Numerics", "RnnGen", "RnnGen.Kernels", "App.System",
            "App.RnnGen", "Microsoft.CodeAnalysis", "M", "State", "Kernels", "_", "@record", "var", "async", "Ünïcödé", "@\\u0063lass", "App.Global",
            "value.field.scoped", "App.Span", "App.Vector512", "Tape", "nameof", "System.Runtime.CompilerServices", "System.CodeDom.Compiler",
        };

        private static readonly string[] ClassNames =
        {
            "M", "M", "Model", "CharModel", "@class", "record", "var", "_", "Step", "State", "Parameters", "RnnGen", "System", "Span", "Vector512",
            "Kernels", "Gemm", "IRecurrentModel", "CoreTeam", "Precision", "LstmModel", "LstmModelAttribute", "Info", "ModelInfo", "Lanes", "Exception",
            "Object", "String", "Ünïcödé", "M\\u0041", "Int32", "Single", "Double", "Math", "Unsafe", "Vector", "MemoryMarshal", "TensorPrimitives",
            "value", "field", "scoped", "extension", "nameof", "dynamic", "await", "T", "L", "Tape", "Forward", "Hidden", "Values", "Records", "Lstm",
            "LSTM", "ReadOnlySpan", "Action", "Func", "ArgumentException", "TeamPart", "RecurrentState", "GradientFlow", "AlignedArray", "Create",
        };

        private static readonly string[] ContainerKinds =
        {
            "partial class", "partial class", "public partial class", "internal static partial class", "class", "partial struct", "readonly partial struct",
            "ref partial struct", "partial record", "partial record struct", "partial interface", "static partial class", "abstract partial class",
            "sealed partial class", "file partial class", "unsafe partial class", "partial class {0}<T>", "partial class {0}(int x)", "public partial struct",
        };

        private string ModelKind(bool nested)
        {
            if (Chance(0.55)) return Pick("partial class", "public partial class", "internal partial class", "sealed partial class", "public sealed partial class");
            var kinds = new List<string>
            {
                "class", "partial struct", "partial record", "partial record class", "partial record struct", "partial interface", "static partial class",
                "abstract partial class", "partial class {0}<T>", "partial class {0}<T> where T : struct", "file partial class", "unsafe partial class",
                "partial class {0}(int x)", "partial class {0}(int x = 1)", "partial class {0}()", "readonly partial struct", "ref partial struct", "private partial class",
                "protected partial class", "partial class {0} : {base}", "partial class {0} : {base}", "partial class {0} : System.IDisposable",
                "partial class {0} : RnnGen.IRecurrentModel<{0}, float>", "partial class {0} : RnnGen.IRecurrentModel<{0}, double>", "partial class {0} : System.Exception",
                "partial class {0} : System.Collections.Generic.List<int>", "partial class {0} : System.Attribute", "partial class {0} : {0}", "partial class {0} : Undefined",
                "partial class {0} : string", "partial class {0} : System.IO.Stream", "partial class {0} : System.IEquatable<{0}>", "public partial class {0} : RnnGen.ILearningRateSchedule",
                "partial class {0} : System.Collections.IEnumerable", "partial class {0} : System.ValueType", "partial enum", "partial class {0} : System.Runtime.ConstrainedExecution.CriticalFinalizerObject",
            };
            if (nested) kinds.AddRange(["private partial class", "protected internal partial class", "private protected partial class", "new partial class", "protected partial class"]);
            return Pick(kinds.ToArray());
        }

        private void Model()
        {
            string? ns = Chance(0.2) ? null : Pick(Namespaces);
            var containers = new List<string>();
            int depth = Chance(0.7) ? 0 : 1 + _r.Next(2);
            for (int i = 0; i < depth; i++)
            {
                string name = Chance(0.6) ? Fresh("Outer") : Pick("System", "RnnGen", "State", "@class", "Vec", "Kernels", "Step", "M", "Outer", "Span");
                containers.Add(Declaration(Pick(ContainerKinds), name));
            }
            string className = Chance(0.5) ? Fresh("Model") : Pick(ClassNames);
            string kind = ModelKind(depth > 0);
            string baseName = Fresh("Base");
            string baseType = BaseClass(baseName);
            string declaration = Declaration(kind.Replace("{base}", baseName), className);

            var attributes = new StringBuilder();
            int count = Chance(0.85) ? 1 : 2 + _r.Next(2);
            for (int a = 0; a < count; a++)
                attributes.Append(Attribute()).Append(Chance(0.8) ? "\n" : " ");
            if (Chance(0.15)) attributes.Append(Pick("[System.Serializable]\n", "[System.Obsolete]\n", "[System.CodeDom.Compiler.GeneratedCode(\"x\", \"1\")]\n",
                "[method: System.Obsolete]\n", "[return: RnnGen.LstmModel(4)]\n", "[System.Diagnostics.DebuggerDisplay(\"m\")]\n"));

            string members = string.Join("\n", Enumerable.Range(0, Chance(0.5) ? 0 : 1 + _r.Next(3)).Select(_ => Member(TypeNameOf(className))));
            int file = _r.Next(_chunks.Length);
            Add(file, ns, Wrap(containers, $"{attributes}{declaration}\n{{\n{members}\n}}") + (baseType.Length > 0 ? "\n" + baseType : ""));

            // another partial part, in another file or the same one, with other modifiers and members
            if (Chance(0.25))
            {
                string otherKind = Chance(0.6) ? Pick("partial class", "public partial class", "internal partial class", "partial class {0} : System.IDisposable")
                    : ModelKind(depth > 0).Replace("{base}", baseName);
                string other = Declaration(otherKind, className);
                string more = string.Join("\n", Enumerable.Range(0, _r.Next(3)).Select(_ => Member(TypeNameOf(className))));
                string attribute = Chance(0.2) ? Attribute() + "\n" : "";
                Add(_r.Next(_chunks.Length), ns, Wrap(containers, $"{attribute}{other}\n{{\n{more}\n}}"));
            }
        }

        private static string TypeNameOf(string className) => className.Replace("\\u0041", "A");

        private static string Declaration(string kind, string name)
        {
            if (kind.Contains("{0}", StringComparison.Ordinal)) return string.Format(CultureInfo.InvariantCulture, kind, name);
            return kind + " " + name;
        }

        private static string Wrap(List<string> containers, string body)
        {
            string text = body;
            for (int i = containers.Count - 1; i >= 0; i--)
                text = $"{containers[i]}\n{{\n{text}\n}}";
            return text;
        }

        private string BaseClass(string name) => Pick(
            $"public class {name} {{ }}",
            $"public class {name} {{ public int Parameters; }}",
            $"public class {name} {{ protected void Step(string s) {{ }} public static int HiddenSize = 1; }}",
            $"public abstract class {name} {{ public abstract void Forward(); }}",
            $"public class {name} {{ public {name}(int x) {{ }} }}",
            $"public class {name} {{ private {name}() {{ }} }}",
            $"public class {name} {{ protected {name}() {{ }} public virtual void ParametersChanged() {{ }} }}",
            $"public sealed class {name} {{ }}",
            $"public class {name} {{ public void Reset() {{ }} public int Clone; public object State; }}",
            $"public class {name} {{ public class State {{ }} public class Tape {{ }} }}",
            $"public class {name} {{ public static void CheckLength(int a, long b, string c) {{ }} }}",
            $"public class {name} {{ protected static void Cell<T>(T a) {{ }} public int Team {{ get; set; }} }}",
            $"[RnnGen.GruModel(4)] public partial class {name} {{ }}",
            $"public class {name}<T> {{ public T Value = default!; }}",
            $"public class {name} {{ public required int Size {{ get; init; }} }}",
            $"public class {name} {{ public int Info() => 0; public int Layout; }}",
            $"public class {name} : System.IDisposable {{ public void Dispose() {{ }} }}",
            $"public class {name} {{ [System.Obsolete(\"no\", true)] public {name}() {{ }} }}",
            $"public class {name} {{ public event System.Action? Step; }}",
            $"public class {name} {{ public int this[int i] => i; public static {name} operator +({name} a, {name} b) => a; }}",
            $"public class {name} {{ public virtual void Dispose() {{ }} public new string ToString() => \"\"; }}");

        private string Member(string self) => Pick(
            "public int Step;", "public void Step() { }", "public int State;", "class State { }", "struct Tape { }", "public float[] Parameters = new float[1];",
            "public System.Span<float> Gradients => default;", "const int InputSize = 3;", "static int HiddenSize => 1;", "void Forward<T>() { }",
            "public event System.Action? Reset;", "public int this[int i] => i;", $"public static {self} operator +({self} a, {self} b) => a;",
            $"public static implicit operator int({self} m) => 0;", $"~{self}() {{ }}", $"static {self}() {{ }}", $"public {self}() {{ }}", $"{self}(int x) {{ }}",
            $"public {self}(params int[] xs) {{ }}", $"[System.Obsolete] public {self}() {{ }}", "public required int R { get; init; }", "public void Info() { }",
            "private static void CheckLength() { }", "private static void CheckLength(int a, long b, string c) { }", "int _parameters;", "int _team;",
            "public void Dispose() { }", "public override string ToString() => \"\";", "public new int GetHashCode() => 0;", "public static void Main() { }",
            "public int Clone() => 0;", "public void Backward() { }", $"public static {self} Create() => new {self}();", "public delegate void Step();", "enum Tape { }",
            "interface State { }", "public int InputSize { get; set; }", "public static int LayerCount;", "partial void OnX();", "public int Team;",
            "public int Gradients() => 0;", "public void ParametersChanged(int x) { }", "public void InitializeParameters(long seed) { }",
            "public void InitializeParameters(int seed, float scale = 1) { }", "public void Step(string text) { }", "public void Forward(params object[] a) { }",
            "public void Backward(Tape t, System.ReadOnlySpan<float> g) { }", "public void Step(System.ReadOnlySpan<float> x, ref State s, System.Span<float> o, int extra = 0) { }",
            "public void Step<T>(System.ReadOnlySpan<float> x, ref State s, System.Span<float> o) { }", "public void Forward(int[] tokens) { }",
            "class Span { }", "class Vector512 { }", "class RnnGen { }", "class System { }", "class Kernels { }", "class Lanes { }", "class Gemm { }",
            "class ReadOnlySpan<T> { }", "class Span<T> { }", "class Math { }", "class MathF { }", "class ArgumentException { }", "class ArgumentNullException { }",
            "class Exception { }", "class Single { }", "class Int32 { }", "class String { }", "class Object { }", "class NotSupportedException { }",
            "class InvalidOperationException { }", "class GateSums<T> { }", "class RecurrentState<T> { }", "class TeamPart { }", "class CoreTeam { }",
            "class ModelInfo { }", "class ParameterTensor { }", "class ILanes<A, B> { }", "class IReadOnlyList<T> { }", "class GradientFlow { }",
            "int global = 1;", "int _ = 1;", "static object nameof(object o) => o;", "class var { }", "class L { }", "class T { }", "int value;", "int field;",
            "int b; int t; int l; int s; int p;", "static int Lanes;", "object Records;", "public int Hidden;", "int Values;", "void StepLayers() { }",
            "void StoreState(string s) { }", "int RecordSize = 3;", "const int GateRows = 2;", "static int WeightIh0;", "private int StepRecordSize => 1;",
            "static void LoadState(object a, object b) { }", "public void Step(int token, ref State s, System.Span<float> o) { }",
            "public void Step(System.ReadOnlySpan<float> x, ref State s, System.Span<float> o) { }", "unsafe void U(int* p) { }", "public int M;",
            "public string Layout = \"\";", "void ChunkOutputs() { }", "int _placementChosen;", $"public static {self} Default = new();",
            "public partial int P { get; }\npublic partial int P { get => 1; }", "public static explicit operator string(" + self + " m) => \"\";",
            "static void Cell<T>(T pre, out T h) { h = pre; }", "public RnnGen.RecurrentState<float>? Hidden() => null;", "public int Team { get; set; }",
            "static void DenseNotSupported() { }", "void AsState() { }", "int Dh;", "int _dh;", "object _gx;", "int _stepInput;", "int _teamCall;", "class TeamCall { }",
            "class TeamStep { }", "int Cell;", "public object Equals(int x) => x;", "public new bool Equals(object? o) => false;");

        // ------------------------------------------------------------------ attributes

        private string Attribute()
        {
            int kind = _r.Next(3);
            string k = kind switch { 0 => "Lstm", 1 => "Gru", _ => "Rnn" };
            string name = Pick($"RnnGen.{k}Model", $"RnnGen.{k}Model", $"RnnGen.{k}ModelAttribute", $"global::RnnGen.{k}Model", $"{k}Model", $"{k}ModelAttribute",
                k[0].ToString(), $"RnnGen.{k}Model");
            string target = Chance(0.05) ? Pick("type: ", "return: ", "assembly: ", "method: ") : "";
            var args = new List<string>();
            var sizes = Sizes(kind);
            if (sizes is { } fixedSizes)
            {
                args.Add(fixedSizes.Hidden);
                if (fixedSizes.Layers is not null) args.Add(fixedSizes.Layers);
                foreach (var named in fixedSizes.Named) args.Add(named);
            }
            else
            {
                bool colon = Chance(0.2);
                if (Chance(0.95)) args.Add((colon ? Pick("hidden: ", "hidden: ", "Hidden: ", "hiden: ") : "") + Int(small: true));
                if (Chance(0.35)) args.Add((colon || Chance(0.1) ? Pick("layers: ", "layers: ", "Layers: ") : "") + Layers());
                if (colon && Chance(0.2)) args.Reverse();
                int named = _r.Next(5);
                for (int i = 0; i < named; i++)
                    args.Add(Named(kind));
            }
            if (Chance(0.1)) args.Insert(_r.Next(args.Count + 1), Pick("Input = 3", "Output = 2", "Tokens = true", "Precision = RnnGen.Precision.Double", "Input = 3"));
            string list = args.Count == 0 && Chance(0.5) ? "" : "(" + string.Join(", ", args) + ")";
            string text = $"[{target}{name}{list}]";
            if (Chance(0.04)) text = Pick(text.TrimEnd(']'), text.Replace(")]", ",)]"), text + "]", "[," + text.TrimStart('['), text.Replace("(", "(,"),
                text.Replace(")", ""), text.Replace("[", "[[").Replace("]", "]]"), text.Replace("=", "=="), text.Replace(",", ";"));
            return text;
        }

        // Sizes at the limits: the parameter limit, exactly or one beyond; the in-place Step's 32,768 gate weights; the team's block sizes.
        private (string Hidden, string? Layers, List<string> Named)? Sizes(int kind)
        {
            long g = kind switch { 0 => 4, 1 => 3, _ => 1 };
            if (Chance(0.06))
            {
                long hidden = Pick(1L, 7L, 64L, 1000L, 4096L), layers = Pick(1L, 2L, 16L), output = Pick(0L, 1L, 1048576L, 65L);
                long rest = output * (hidden + 1) + (layers - 1) * g * hidden * (2 * hidden + 2);
                long input = (Parsing.Diagnostics.MaxParameters - rest) / (g * hidden) - hidden - 2 + (Chance(0.5) ? 1 : 0);
                if (input < 1 || input > Parsing.Diagnostics.MaxInput) input = Pick(1L, 1048576L);
                return (N(hidden), N(layers), [$"Input = {N(input)}", $"Output = {N(output)}", .. Chance(0.5) ? new[] { "Tokens = true" } : [],
                    .. Chance(0.3) ? new[] { "Precision = RnnGen.Precision.Double" } : []]);
            }
            if (Chance(0.06))
            {
                long hidden = Pick(8L, 16L, 32L, 64L);
                long input = 32768 / (g * hidden) - hidden + Pick(0L, 1L, -1L);
                if (input < 1) input = 1;
                return (N(hidden), null, [$"Input = {N(input)}", .. Chance(0.5) ? new[] { "Tokens = true" } : [], .. Chance(0.5) ? new[] { "Output = 3" } : [],
                    .. Chance(0.3) ? new[] { "Precision = RnnGen.Precision.Double" } : []]);
            }
            if (Chance(0.05))
            {
                long hidden = Pick(16L, 32L, 48L, 160L, 256L, 8L, 24L);
                return (N(hidden), Pick("1", "2", "3"), [$"Input = {N(Pick(1, 3, 64, 256, 1000))}", .. Chance(0.5) ? new[] { "Tokens = true" } : [],
                    .. Chance(0.5) ? new[] { "Output = 10" } : [], .. Chance(0.5) ? new[] { "Precision = RnnGen.Precision.Double" } : []]);
            }
            return null;
        }

        private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);

        private string Layers() => Chance(0.7) ? Pick("1", "2", "3", "16", "17", "0", "-1") : Int(small: true);

        private string Int(bool small)
        {
            if (small && Chance(0.6)) return Pick("1", "2", "3", "4", "5", "8", "16");
            if (Chance(0.4)) return Pick("0", "-1", "4096", "4097", "32", "64", "65", "128", "1048576", "1048577", "int.MaxValue", "int.MinValue", "256", "17", "33");
            return Pick("1 << 4", "sizeof(int)", "(int)3.9", "'A'", "(short)7", "0x20", "checked(2 * 3)", "unchecked((int)4294967297)", "Consts.N", "Consts.Neg",
                "Consts.Big", "Consts.Field", "Consts.Prop", "new int()", "int.Parse(\"3\")", "default", "default(int)", "null", "3.5", "3L", "4u", "\"4\"", "true",
                "RnnGen.Precision.Double", "(int)RnnGen.Precision.Double", "nameof(System)", "hidden", "", "Consts.Long", "(int)Consts.Long", "(int)Consts.Half",
                "-0", "+3", "~-5", "(byte)255", "(sbyte)-3", "2_0", "0b11", "(int)(object)3", "Consts.Text.Length", "sizeof(decimal)", "(int)'\\n'", "(int)1e3");
        }

        private string Named(int kind)
        {
            switch (_r.Next(9))
            {
                case 0: case 1: return "Input = " + Int(small: false);
                case 2: return "Output = " + Int(small: false);
                case 3: return "Tokens = " + Pick("true", "false", "!false", "1 == 1", "1", "null", "\"true\"", "Consts.Flag", "default");
                case 4: return "Precision = " + Pick("RnnGen.Precision.Single", "RnnGen.Precision.Double", "(RnnGen.Precision)2", "(RnnGen.Precision)(-1)", "(RnnGen.Precision)1",
                    "1", "0", "default", "RnnGen.RnnActivation.Relu", "Precision.Double", "(RnnGen.Precision)int.MaxValue", "null", "Double", "Consts.D", "(RnnGen.Precision)'a'");
                case 5: return "Activation = " + Pick("RnnGen.RnnActivation.Tanh", "RnnGen.RnnActivation.Relu", "(RnnGen.RnnActivation)2", "(RnnGen.RnnActivation)(-7)", "0", "1",
                    "RnnGen.Precision.Double", "RnnActivation.Relu", "Relu", "default", "(RnnGen.RnnActivation)int.MinValue", kind == 2 ? "RnnGen.RnnActivation.Relu" : "RnnGen.RnnActivation.Tanh");
                case 6: return Pick("Inputs", "input", "Outputs", "Token", "tokens", "precision", "Activations", "Hidden", "Layers", "TypeId", "Nope") + " = " + Int(small: true);
                case 7: return Pick("Input = 3, Input = 4", "Output = 2, Output = 0", "Tokens = true, Tokens = false", "Input = ", "Output", "= 3", "Input: 3", "Input = 3 = 4");
                default: return Pick("Input = 3", "Output = 2", "Tokens = true", "Input = 65, Tokens = true");
            }
        }

        // ------------------------------------------------------------------ other declarations

        private void Extra()
        {
            int file = _r.Next(_chunks.Length);
            string? ns = Chance(0.5) ? null : Pick(Namespaces);
            Add(file, ns, Pick(
                "class State { }", "class Tape { }", "class Span { }", "class Span<T> { }", "struct Vector512 { }", "class Vector512<T> { }", "class ReadOnlySpan<T> { }",
                "class System { }", "class RnnGen { }", "namespace RnnGen { class Kernels { } }", "class Kernels { }", "class Lanes { }", "class Gemm { }",
                "class Math { }", "class MathF { }", "class Exception { }", "class ArgumentException { }", "class Single { }", "class Int32 { }", "class String { }",
                "class Unsafe { }", "class MemoryMarshal { }", "class TensorPrimitives { }", "class IRecurrentModel<A, B> { }", "class CoreTeam { }", "class ModelInfo { }",
                "class ParameterTensor { }", "class RecurrentState<T> { }", "class RecurrentTape { }", "class GradientFlow { }", "class GateSums<T> { }", "class ILanes<A, B> { }",
                "class Precision { }", "class CompilerServices { }", "class Runtime { }", "class Numerics { }", "class Collections { }", "class CodeDom { }", "class Diagnostics { }",
                "class global { }", "class var { }", "class _ { }", "class dynamic { }", "static class Ext { public static void CopyTo(this System.Span<float> a, System.Span<float> b) { } public static int Length(this System.Span<float> s) => 0; }",
                "static class Ext { public static System.Span<float> AsSpan(this float[] a) => default; public static void Clear(this System.Span<float> s) { } }",
                "class M { }", "partial class M { }", "class Model0 { }", "class Outer0 { }", "enum State { A }", "delegate void Tape();", "interface IRecurrentModel { }",
                "class LstmModelAttribute : System.Attribute { public LstmModelAttribute(int h) { } }", "class Attribute { }", "class AttributeUsage { }",
                "class NullableAttribute : System.Attribute { }", "class NullableContextAttribute : System.Attribute { public NullableContextAttribute(byte b) { } }",
                "class MethodImplAttribute { }", "class GeneratedCodeAttribute : System.Attribute { }", "static class IsExternalInit { }",
                "[RnnGen.LstmModel(4)] partial class Twin { } [RnnGen.LstmModel(4)] partial class twin { }",
                "partial class Holder { [RnnGen.GruModel(4)] partial class Inner { } }", "[RnnGen.RnnModel(3)] partial class Twin { }",
                "namespace Inner { [RnnGen.LstmModel(2)] partial class M { } }", "class Base { }"));
        }

        // Damage one file: cut it, or insert a stray token.
        private void Damage()
        {
            int f = _r.Next(_program.Files.Count);
            string text = _program.Files[f];
            int at = _r.Next(text.Length + 1);
            _program.Files[f] = Chance(0.5) ? text.Substring(0, at) : text.Insert(at, Pick("{", "}", "(", ")", "[", "]", ";", ",", "partial ", "class ", "\"", "/*", "#if X\n", "#endif\n", "@", "<", ">"));
        }
    }
}
