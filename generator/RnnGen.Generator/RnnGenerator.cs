using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;
using RnnGen.Generator.Emitting;
using RnnGen.Generator.Model;
using RnnGen.Generator.Parsing;

namespace RnnGen.Generator;

/// <summary>
/// The RnnGen incremental generator: the pipeline only. <see cref="ModelParser"/> turns each
/// <c>[LstmModel]</c>, <c>[GruModel]</c> or <c>[RnnModel]</c> class into an equatable
/// <see cref="ModelSpec"/>; <see cref="ModelEmitter"/> writes one file per model.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class RnnGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline steps (used by the incrementality tests).</summary>
    public static class Steps
    {
        public const string Lstm = "LstmModels";
        public const string Gru = "GruModels";
        public const string Rnn = "RnnModels";
        public const string Models = "Models";
        public const string Diagnostics = "Diagnostics";
    }

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        Register(context, ModelParser.LstmAttribute, CellKind.Lstm, Steps.Lstm);
        Register(context, ModelParser.GruAttribute, CellKind.Gru, Steps.Gru);
        Register(context, ModelParser.RnnAttribute, CellKind.Rnn, Steps.Rnn);
    }

    private static void Register(IncrementalGeneratorInitializationContext context, string attribute, CellKind cell, string stepName)
    {
        var results = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                attribute,
                predicate: static (node, _) => node is TypeDeclarationSyntax,
                transform: (ctx, ct) => ModelParser.Parse(ctx, cell, ct))
            .WithTrackingName(stepName);

        var models = results
            .Where(static r => r.Model is not null)
            .Select(static (r, _) => r.Model!)
            .WithTrackingName(Steps.Models);
        context.RegisterSourceOutput(models, static (spc, model) =>
        {
            spc.CancellationToken.ThrowIfCancellationRequested();
            spc.AddSource(model.HintName + ".g.cs", SourceText.From(ModelEmitter.Emit(model), System.Text.Encoding.UTF8));
        });

        var diagnostics = results
            .Where(static r => r.Diagnostics.Count > 0)
            .Select(static (r, _) => r.Diagnostics)
            .WithTrackingName(Steps.Diagnostics);
        context.RegisterSourceOutput(diagnostics, static (spc, list) =>
        {
            foreach (var d in list)
            {
                var descriptor = Diagnostics.Find(d.Id);
                if (descriptor is null) continue;
                var location = d.Location is { } l
                    ? Location.Create(l.FilePath, new TextSpan(l.Start, l.Length),
                        new LinePositionSpan(new LinePosition(l.StartLine, l.StartCharacter), new LinePosition(l.EndLine, l.EndCharacter)))
                    : Location.None;
                spc.ReportDiagnostic(Diagnostic.Create(descriptor, location, ImmutableArrayOf(d.Arguments)));
            }
        });
    }

    private static object[] ImmutableArrayOf(EquatableArray<string> args)
    {
        var result = new object[args.Count];
        for (int i = 0; i < result.Length; i++) result[i] = args[i];
        return result;
    }
}
