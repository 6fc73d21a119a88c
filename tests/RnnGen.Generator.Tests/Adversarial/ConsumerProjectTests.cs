using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace RnnGen.Generator.Tests.Adversarial;

/// <summary>
/// Settings of demanding consumer projects (review "generated code in demanding consumer projects", session 18): each test
/// failed when it was written; the comment above it names the cause as it was then.
/// </summary>
public class ConsumerProjectTests
{
    private const string Models = """
        namespace App
        {
            [RnnGen.LstmModel(hidden: 128, layers: 2, Input = 65, Output = 65, Tokens = true)] public partial class CharModel { }
            [RnnGen.GruModel(hidden: 12, Input = 6, Output = 3, Precision = RnnGen.Precision.Double)] public partial class Gru { }
            [RnnGen.RnnModel(hidden: 8, Input = 1 << 20)] public partial class WideInput { }
            public partial class Outer { [RnnGen.LstmModel(hidden: 64, Input = 8, Output = 2)] public partial class Teamed { } }
        }
        """;

    // ---- 1. [assembly: CLSCompliant(true)] (common in libraries; TreatWarningsAsErrors makes the warnings errors): the
    // runtime assembly declared no CLS compliance, so every generated model's public surface — State and Tape (their bases
    // RecurrentState and RecurrentTape), Info, Layout, Team, Tape.EnableGradientFlow() — raised CS3009, CS3003 and CS3002 in
    // the generated file. The runtime is now [assembly: CLSCompliant(true)], its two ulong members marked CLSCompliant(false).
    [Fact]
    public void ACLSCompliantAssembly_CompilesTheGeneratedModelsClean()
    {
        var o = ProbeHarness.Run("[assembly: System.CLSCompliant(true)]", Models);
        Assert.Null(o.Exception);
        Assert.Empty(o.GeneratorDiagnostics);
        Assert.Equal(4, o.Sources.Length);
        Assert.True(o.GeneratedFileProblems.IsEmpty, o.ToString());
    }

    // ---- 2. <CheckForOverflowUnderflow>true</CheckForOverflowUnderflow> applies to the generated code too, and two of its
    // checks relied on wrapping: CheckToken's `(uint)token >= InputSize` threw OverflowException for a negative token
    // (Step, Forward) instead of the documented ArgumentOutOfRangeException; and the Tape constructor multiplied
    // maxSteps × maxLanes (up to 2⁶²) by the record size in long, which overflows — OverflowException in a checked project,
    // and in an unchecked one a wrapped size that passed the check before an OverflowException from the allocation. The
    // token check now compares both ends, and the tape checks its row count alone first.
    private const string Probes = """
        using System;
        using App;
        public static class Probes
        {
            private static string Outcome(Action action)
            {
                try { action(); return "none"; }
                catch (Exception e) { return e.GetType().Name + (e is ArgumentException a ? ":" + a.ParamName : ""); }
            }
            public static string StepNegativeToken() => Outcome(() => { var m = new CharModel(); var s = new CharModel.State(); m.Step(-1, ref s, new float[CharModel.OutputWidth]); });
            public static string ForwardNegativeToken() => Outcome(() => { var m = new CharModel(); var s = new CharModel.State(); m.Forward(new[] { 3, int.MinValue }, ref s, new CharModel.Tape(2), new float[2 * CharModel.OutputWidth]); });
            public static string HugeTokenTape() => Outcome(() => _ = new CharModel.Tape(int.MaxValue, int.MaxValue));
            public static string HugeDenseTape() => Outcome(() => _ = new WideInput.Tape(1 << 30, 1 << 14));
            public static string HugeGruTape() => Outcome(() => _ = new Gru.Tape(int.MaxValue, int.MaxValue));
            public static string Outputs()
            {
                var m = new Outer.Teamed();
                m.InitializeParameters(seed: 3);
                var s = new Outer.Teamed.State();
                var x = new float[Outer.Teamed.InputSize * 4];
                for (int i = 0; i < x.Length; i++) x[i] = MathF.Sin(i);
                var y = new float[Outer.Teamed.OutputWidth * 4];
                var tape = new Outer.Teamed.Tape(4);
                m.Forward(x, ref s, tape, y);
                m.Backward(tape, y);
                var c = new CharModel();
                c.InitializeParameters(seed: 4);
                var cs = new CharModel.State();
                var o = new float[CharModel.OutputWidth];
                c.Step(64, ref cs, o);
                return string.Join(",", y) + "|" + string.Join(",", m.Gradients.ToArray()) + "|" + string.Join(",", o);
            }
        }
        """;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void CheckedArithmetic_TheGeneratedChecksThrowWhatTheyDocument(bool checkOverflow)
    {
        var probes = Load(checkOverflow);
        Assert.Equal("ArgumentOutOfRangeException:token", probes("StepNegativeToken"));
        Assert.Equal("ArgumentOutOfRangeException:tokens", probes("ForwardNegativeToken"));
        Assert.Equal("ArgumentOutOfRangeException:maxSteps", probes("HugeTokenTape"));
        Assert.Equal("ArgumentOutOfRangeException:maxSteps", probes("HugeDenseTape"));
        Assert.Equal("ArgumentOutOfRangeException:maxSteps", probes("HugeGruTape"));
    }

    // and otherwise the same numbers, checked or not
    [Fact]
    public void CheckedArithmetic_ComputesTheSameBits() =>
        Assert.Equal(Load(checkOverflow: false)("Outputs"), Load(checkOverflow: true)("Outputs"));

    // ---- 3. Static initializers across the parts of the class: Info was a static property initializer in the generated
    // file, and the user's part runs its static field initializers first when its file comes first (C# leaves the order of
    // partial declarations open; Roslyn follows the files). A user field such as `static readonly int Tensors = Layout.Count`
    // or a default instance that the runtime reads Info for got a NullReferenceException from Layout (TypeInitializationException).
    // Info now lives in a nested class of its own, created on first use.
    private const string StaticUser = """
        namespace App
        {
            [RnnGen.LstmModel(hidden: 8, Input = 3, Output = 2)]
            public partial class Preset
            {
                public static readonly int Tensors = Layout.Count;
                public static readonly Preset Default = Create();
                private static Preset Create()
                {
                    var model = new Preset();
                    model.InitializeParameters(seed: 1);
                    using var stream = new System.IO.MemoryStream();
                    RnnGen.SafeTensors.Save(model, stream);   // reads Info
                    return model;
                }
            }
        }
        public static class Probes
        {
            public static string Read() => App.Preset.Tensors + " " + App.Preset.Default.Parameters.Length + " " + App.Preset.Info.Layout[0].Name;
        }
        """;

    [Fact]
    public void StaticInitializersOfTheUsersPart_MayReadInfoAndLayout() =>
        Assert.Equal("6 " + (4 * 8 * (3 + 8 + 2) + 2 * 9) + " weight_ih_l0", Load(checkOverflow: false, StaticUser)("Read"));

    /// <summary>Compiles the sources (by default the models and the probes; with or without overflow checks), loads the assembly, and returns a way to call a probe.</summary>
    private static Func<string, string> Load(bool checkOverflow, params string[] sources)
    {
        if (sources.Length == 0) sources = [Models, Probes];
        var options = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, checkOverflow: checkOverflow);
        var compilation = CSharpCompilation.Create("CheckedConsumer" + checkOverflow,
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, GeneratorHarness.ParseOptions, path: $"Source{i}.cs")),
            GeneratorHarness.References, options);
        GeneratorHarness.Driver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        using var stream = new MemoryStream();
        var emit = output.Emit(stream);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        stream.Position = 0;
        // a collectible context of its own; RnnGen resolves to the runtime this test process already loaded
        var assembly = new AssemblyLoadContext("CheckedConsumer" + checkOverflow, isCollectible: true).LoadFromStream(stream);
        var type = assembly.GetType("Probes")!;
        return name => (string)type.GetMethod(name, BindingFlags.Public | BindingFlags.Static)!.Invoke(null, null)!;
    }
}
