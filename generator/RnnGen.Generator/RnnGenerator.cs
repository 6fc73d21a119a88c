using System;
using System.Collections.Generic;
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
        models.Select(static (m, _) => Key(m)).Collect().Select(static (keys, _) => new EquatableArray<string>(keys));

    // A model's file name stem and, after a line break, where it is declared exactly (its namespace, enclosing classes and
    // name): two models can share the first (a class nested in class A.B and one in namespace A.B), never the second.
    private static string Key(ModelSpec model) =>
        model.HintName + "\n" + (model.Namespace ?? "") + "|" + string.Join("/", model.ContainingTypes) + "|" + model.TypeName;

    /// <summary>
    /// <c>Namespace.Outer.Model.g.cs</c>; when another model's name is the same but for case, or the same exactly (a class
    /// nested in class A.B and one in namespace A.B, which the compiler reports as a duplicate definition), a hash of where
    /// the class is declared — its namespace, enclosing classes and name, exactly — follows a '-' (FNV-1a, 8 hex digits:
    /// deterministic across runs and machines), and, should two such hashes be equal, the model's rank among those models
    /// by where they are declared (ordinal). A '-' is in no C# name, so such a file name is never another model's plain one:
    /// every model gets a file of its own, and the compiler never sees two sources of one name.
    /// </summary>
    internal static string FileName(ModelSpec model, EquatableArray<string> all)
    {
        string name = model.HintName, key = Key(model), declared = key.Substring(key.IndexOf('\n') + 1);
        var same = new List<string>();   // where the models of this name (but for case) are declared
        foreach (string other in all)
        {
            int split = other.IndexOf('\n');
            if (string.Equals(other.Substring(0, split), name, StringComparison.OrdinalIgnoreCase))
                same.Add(other.Substring(split + 1));
        }
        if (same.Count <= 1) return name + ".g.cs";
        uint hash = Hash(declared);
        var colliding = same.Where(d => Hash(d) == hash).Distinct().OrderBy(d => d, StringComparer.Ordinal).ToList();
        string suffix = hash.ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
        if (colliding.Count > 1)
            suffix += "-" + colliding.IndexOf(declared).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return name + "-" + suffix + ".g.cs";
    }

    // FNV-1a over the characters of where a model is declared.
    private static uint Hash(string declared)
    {
        uint hash = 2166136261;
        foreach (char c in declared)
            hash = (hash ^ c) * 16777619;
        return hash;
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
