using System.Collections.Immutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace RnnGen.Generator.Tests.Adversarial;

/// <summary>Runs the generator on sources (twice, fresh drivers) and reports what breaks the generator's promise.</summary>
internal static class ProbeHarness
{
    internal sealed record Outcome(
        Exception? Exception,
        ImmutableArray<Diagnostic> GeneratorDiagnostics,
        ImmutableArray<(string HintName, string Text)> Sources,
        ImmutableArray<Diagnostic> GeneratedFileProblems, // warnings/errors located in generated files (or without location, new)
        ImmutableArray<Diagnostic> UserProblems,
        bool Deterministic)
    {
        public override string ToString()
        {
            var sb = new StringBuilder();
            sb.AppendLine($"exception: {Exception?.GetType().Name}: {Exception?.Message}");
            sb.AppendLine("generator diagnostics: " + string.Join(" | ", GeneratorDiagnostics.Select(d => d.Id + " " + d.GetMessage())));
            sb.AppendLine("sources: " + string.Join(", ", Sources.Select(s => s.HintName)));
            sb.AppendLine("generated-file problems: " + string.Join("\n   ", GeneratedFileProblems.Take(5).Select(d => d.ToString())));
            sb.AppendLine("user problems: " + string.Join("\n   ", UserProblems.Take(5).Select(d => d.ToString())));
            sb.AppendLine("deterministic: " + Deterministic);
            return sb.ToString();
        }
    }

    public static Outcome Run(CSharpParseOptions? parse, CSharpCompilationOptions? options, params string[] sources)
    {
        parse ??= GeneratorHarness.ParseOptions;
        options ??= new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable);
        var trees = sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, parse, path: $"Probe{i}.cs")).ToList();
        var compilation = CSharpCompilation.Create("Consumer", trees, GeneratorHarness.References, options);

        (GeneratorRunResult, Compilation) Once()
        {
            var driver = CSharpGeneratorDriver.Create([new RnnGenerator().AsSourceGenerator()], parseOptions: parse)
                .RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
            return (driver.GetRunResult().Results.Single(), output);
        }

        var (first, output) = Once();
        var (second, _) = Once();
        bool same = first.GeneratedSources.Length == second.GeneratedSources.Length
            && first.GeneratedSources.Zip(second.GeneratedSources).All(p => p.First.HintName == p.Second.HintName && p.First.SourceText.ToString() == p.Second.SourceText.ToString())
            && first.Diagnostics.Select(d => d.ToString()).SequenceEqual(second.Diagnostics.Select(d => d.ToString()));

        var userTrees = new HashSet<SyntaxTree>(trees);
        var diagnostics = output.GetDiagnostics();
        if (!diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error))
        {
            using var stream = new MemoryStream();
            diagnostics = diagnostics.AddRange(output.Emit(stream).Diagnostics);
        }
        var before = compilation.GetDiagnostics().Select(d => d.Id).ToHashSet();
        var generated = diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning
            && (d.Location.SourceTree is { } t ? !userTrees.Contains(t) : !before.Contains(d.Id))).Distinct().ToImmutableArray();
        var user = diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Location.SourceTree is { } t && userTrees.Contains(t)).ToImmutableArray();
        return new Outcome(first.Exception, first.Diagnostics,
            first.GeneratedSources.Select(s => (s.HintName, s.SourceText.ToString())).ToImmutableArray(), generated, user, same);
    }

    public static Outcome Run(params string[] sources) => Run(null, null, sources);
}
