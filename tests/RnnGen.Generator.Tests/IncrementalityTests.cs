using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace RnnGen.Generator.Tests;

/// <summary>The pipeline caches: reruns and unrelated edits do no work; attribute edits re-emit; models hold no symbols.</summary>
public class IncrementalityTests
{
    private const string Model = """
        namespace Demo;
        [RnnGen.LstmModel(hidden: 8, layers: 2, Input = 3, Output = 2)]
        public partial class M { }
        [RnnGen.GruModel(hidden: 4)]
        public partial class G { }
        """;

    private static readonly string[] OurSteps = [RnnGenerator.Steps.Lstm, RnnGenerator.Steps.Gru, RnnGenerator.Steps.Models];

    [Fact]
    public void RunningTwice_EveryStepCached()
    {
        var compilation = GeneratorHarness.Compile(Model);
        var driver = GeneratorHarness.Driver().RunGenerators(compilation);
        var result = driver.RunGenerators(compilation.Clone()).GetRunResult().Results.Single();
        AssertAllCachedOrUnchanged(result);
        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    [Fact]
    public void UnrelatedEdit_ModelsUnchanged()
    {
        var compilation = GeneratorHarness.Compile(Model, "namespace Demo; public class Other { }");
        var driver = GeneratorHarness.Driver().RunGenerators(compilation);
        var edited = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.Last(),
            CSharpSyntaxTree.ParseText("namespace Demo; public class Other { public int X; }", GeneratorHarness.ParseOptions, path: "Source1.cs"));
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();
        AssertAllCachedOrUnchanged(result);
    }

    [Fact]
    public void EditInTheModelFile_OutsideTheAttribute_ModelsUnchanged()
    {
        var compilation = GeneratorHarness.Compile(Model);
        var driver = GeneratorHarness.Driver().RunGenerators(compilation);
        var edited = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.Single(),
            CSharpSyntaxTree.ParseText(Model + "\nnamespace Demo { class Extra { } }", GeneratorHarness.ParseOptions, path: "Source0.cs"));
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();
        foreach (var step in result.TrackedSteps[RnnGenerator.Steps.Models])
            Assert.All(step.Outputs, o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"Models: {o.Reason}"));
    }

    [Fact]
    public void ChangingTheAttribute_ReEmits()
    {
        var compilation = GeneratorHarness.Compile(Model);
        var driver = GeneratorHarness.Driver().RunGenerators(compilation);
        var before = driver.GetRunResult().Results.Single().GeneratedSources.Single(s => s.HintName == "Demo.M.g.cs").SourceText.ToString();
        var edited = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.Single(),
            CSharpSyntaxTree.ParseText(Model.Replace("hidden: 8", "hidden: 9"), GeneratorHarness.ParseOptions, path: "Source0.cs"));
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();
        Assert.Contains(result.TrackedSteps[RnnGenerator.Steps.Models].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        var after = result.GeneratedSources.Single(s => s.HintName == "Demo.M.g.cs").SourceText.ToString();
        Assert.NotEqual(before, after);
        Assert.Contains("public const int HiddenSize = 9;", after);
        // the GRU model was not touched
        Assert.Contains(result.TrackedSteps[RnnGenerator.Steps.Gru].SelectMany(s => s.Outputs), o => o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged);
    }

    [Fact]
    public void PipelineModels_HoldNoSymbolsSyntaxOrLocations()
    {
        var compilation = GeneratorHarness.Compile(Model, "[RnnGen.LstmModel(0)] partial class Bad { }");
        var result = GeneratorHarness.Driver().RunGenerators(compilation).GetRunResult().Results.Single();
        int checkedObjects = 0;
        foreach (var name in new[] { RnnGenerator.Steps.Lstm, RnnGenerator.Steps.Models, RnnGenerator.Steps.Diagnostics })
            foreach (var step in result.TrackedSteps[name])
                foreach (var (value, _) in step.Outputs)
                {
                    AssertNoForbiddenMembers(value, new HashSet<object>(ReferenceEqualityComparer.Instance), name);
                    checkedObjects++;
                }
        Assert.True(checkedObjects >= 3);
    }

    private static void AssertNoForbiddenMembers(object? value, HashSet<object> seen, string path)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum) return;
        Assert.False(value is ISymbol or SyntaxNode or Compilation or Location or SemanticModel or SyntaxTree or AttributeData,
            $"{path} holds a {value.GetType().Name}");
        if (!value.GetType().IsValueType && !seen.Add(value)) return;
        if (value is System.Collections.IEnumerable items)
        {
            int i = 0;
            foreach (var item in items) AssertNoForbiddenMembers(item, seen, $"{path}[{i++}]");
        }
        foreach (var field in value.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            AssertNoForbiddenMembers(field.GetValue(value), seen, $"{path}.{field.Name}");
    }

    private static void AssertAllCachedOrUnchanged(GeneratorRunResult result)
    {
        foreach (var name in OurSteps)
        {
            Assert.True(result.TrackedSteps.ContainsKey(name), $"step {name} was not tracked");
            foreach (var step in result.TrackedSteps[name])
                Assert.All(step.Outputs, o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{name}: {o.Reason}"));
        }
    }
}
