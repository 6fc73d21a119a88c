using System;
using System.Collections.Immutable;
using System.Linq;
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
        var lstm = Register(context, ModelParser.LstmAttribute, CellKind.Lstm, Steps.Lstm);
        var gru = Register(context, ModelParser.GruAttribute, CellKind.Gru, Steps.Gru);
        var rnn = Register(context, ModelParser.RnnAttribute, CellKind.Rnn, Steps.Rnn);

        // Every model's file name, so that two models whose names differ only in case (which the compiler's file names do
        // not tell apart) each get a distinct one. Equal by value: edits that keep the names leave every output cached.
        var names = Names(lstm).Combine(Names(gru)).Combine(Names(rnn))
            .Select(static (all, _) => new EquatableArray<string>(all.Left.Left.Concat(all.Left.Right).Concat(all.Right)));
        foreach (var models in new[] { lstm, gru, rnn })
        {
            // each model with its own file name, so that a model's output is emitted again only when it or its name changes
            var named = models.Combine(names).Select(static (pair, _) => (Model: pair.Left, File: FileName(pair.Left, pair.Right)));
            context.RegisterSourceOutput(named, static (spc, pair) =>
            {
                spc.CancellationToken.ThrowIfCancellationRequested();
                spc.AddSource(pair.File, SourceText.From(ModelEmitter.Emit(pair.Model), System.Text.Encoding.UTF8));
            });
        }
    }

    private static IncrementalValueProvider<EquatableArray<string>> Names(IncrementalValuesProvider<ModelSpec> models) =>
        models.Select(static (m, _) => m.HintName).Collect().Select(static (names, _) => new EquatableArray<string>(names));

    /// <summary>
    /// <c>Namespace.Outer.Model.g.cs</c>; when another model's name is the same but for case, or the same exactly (a class
    /// nested in class A.B and one in namespace A.B, which the compiler reports as a duplicate definition), a hash of where
    /// the class is declared — its namespace, enclosing classes and name, exactly — goes before <c>.g.cs</c> (FNV-1a, 8 hex
    /// digits: deterministic across runs and machines), so that every model gets a file of its own.
    /// </summary>
    internal static string FileName(ModelSpec model, EquatableArray<string> all)
    {
        string name = model.HintName;
        int same = 0;
        foreach (string other in all)
            if (string.Equals(other, name, StringComparison.OrdinalIgnoreCase)) same++;
        if (same <= 1) return name + ".g.cs";
        uint hash = 2166136261;
        foreach (string part in new[] { model.Namespace ?? "", string.Join("/", model.ContainingTypes), model.TypeName })
        {
            foreach (char c in part)
                hash = (hash ^ c) * 16777619;
            hash = (hash ^ '|') * 16777619;
        }
        return name + "." + hash.ToString("x8", System.Globalization.CultureInfo.InvariantCulture) + ".g.cs";
    }

    private static IncrementalValuesProvider<ModelSpec> Register(IncrementalGeneratorInitializationContext context, string attribute, CellKind cell, string stepName)
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
        return models;
    }

    private static object[] ImmutableArrayOf(EquatableArray<string> args)
    {
        var result = new object[args.Count];
        for (int i = 0; i < result.Length; i++) result[i] = args[i];
        return result;
    }
}
