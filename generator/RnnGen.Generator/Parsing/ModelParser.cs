using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using RnnGen.Generator.Model;

namespace RnnGen.Generator.Parsing;

/// <summary>
/// Turns one model attribute on a class into a <see cref="ModelSpec"/> and diagnostics. Every user
/// mistake becomes a diagnostic here, so the emitter can assume a valid spec. Never throws on bad
/// input: a malformed attribute (which the compiler already reports) yields nothing.
/// </summary>
internal static class ModelParser
{
    public const string LstmAttribute = "RnnGen.LstmModelAttribute";
    public const string GruAttribute = "RnnGen.GruModelAttribute";
    public const string RnnAttribute = "RnnGen.RnnModelAttribute";

    private static readonly string[] ModelAttributes = { LstmAttribute, GruAttribute, RnnAttribute };

    private static readonly ParseResult Nothing = new(null, EquatableArray<DiagnosticInfo>.Empty);

    public static ParseResult Parse(GeneratorAttributeSyntaxContext context, CellKind cell, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (context.TargetSymbol is not INamedTypeSymbol type || context.Attributes.Length == 0)
            return Nothing;
        // a class still being typed (no name yet, or in a type or namespace without one): the compiler reports it; wait
        for (ISymbol? s = type; s is not null and not INamespaceSymbol { IsGlobalNamespace: true }; s = s.ContainingSymbol)
        {
            if (string.IsNullOrEmpty(s.Name))
                return Nothing;
        }
        // The attributes given are the class's of this name written anywhere in the node's file: on a class declared in parts in
        // one file, a part whose own attribute of that name is another type's (or unresolved) gets the other part's. That one is
        // parsed from its own part; parsing it here too would emit the model twice under one file name.
        var attribute = context.Attributes.FirstOrDefault(a => AppliedOn(a, context.TargetNode));
        if (attribute is null)
            return Nothing;
        var diagnostics = new List<DiagnosticInfo>();
        var typeLocation = LocationOf(context.TargetNode is TypeDeclarationSyntax decl ? decl.Identifier.GetLocation() : context.TargetNode.GetLocation());
        var attributeLocation = LocationOf(attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken).GetLocation());

        // Several model attributes: the first one in declaration order reports, the others stay silent.
        var modelAttributes = type.GetAttributes()
            .Where(a => a.AttributeClass is { } c && ModelAttributes.Contains(c.ToDisplayString()))
            .ToList();
        if (modelAttributes.Count > 1)
        {
            // one report per class: from the first attribute's pipeline (each attribute kind has its own), on the
            // declaration it is written on (the same attribute on two partial declarations runs this twice)
            if (!SymbolEqualityComparer.Default.Equals(modelAttributes[0].AttributeClass, attribute.AttributeClass)
                || !AppliedOn(modelAttributes[0], context.TargetNode))
                return Nothing;
            return Fail(Diagnostics.SeveralModels, typeLocation, type.Name);
        }

        // The generated code is C# 12 (static abstract interface members, generic math, `in` arguments to ref readonly
        // parameters such as new ReadOnlySpan<T>(in value)).
        if (context.TargetNode.SyntaxTree.Options is CSharpParseOptions { LanguageVersion: < LanguageVersion.CSharp12 } options)
            return Fail(Diagnostics.LanguageVersion, attributeLocation, options.LanguageVersion.ToDisplayString());

        // Malformed attribute arguments are compiler errors already; generate nothing.
        if (attribute.AttributeConstructor is null || attribute.ConstructorArguments.Any(a => a.Kind == TypedConstantKind.Error)
            || attribute.NamedArguments.Any(a => a.Value.Kind == TypedConstantKind.Error))
            return Nothing;

        // Declaration shape.
        string? unsupported = Unsupported(type, context.TargetNode);
        if (unsupported is not null)
            return Fail(Diagnostics.Unsupported, typeLocation, type.Name, unsupported);
        for (var t = type; t is not null; t = t.ContainingType)
        {
            if (!IsPartial(t, cancellationToken))
                return Fail(Diagnostics.NotPartial, typeLocation, t.Name);
        }

        // Arguments.
        int hidden = IntArgument(attribute, 0, 1);
        int layers = IntArgument(attribute, 1, 1);
        int input = 0, output = 0, precision = 0, activation = 0;
        bool tokens = false, activationSet = false;
        foreach (var named in attribute.NamedArguments)
        {
            switch (named.Key)
            {
                case "Input": input = named.Value.Value is int i ? i : 0; break;
                case "Output": output = named.Value.Value is int o ? o : 0; break;
                case "Tokens": tokens = named.Value.Value is true; break;
                case "Precision": precision = named.Value.Value is int p ? p : 0; break;
                case "Activation": activation = named.Value.Value is int a ? a : 0; activationSet = true; break;
            }
        }
        bool inputSet = attribute.NamedArguments.Any(a => a.Key == "Input"); // unset means "the same as hidden"; an explicit 0 is out of range
        if (!inputSet) input = hidden;

        if (hidden < 1 || hidden > Diagnostics.MaxHidden)
            diagnostics.Add(Info(Diagnostics.HiddenOutOfRange, attributeLocation, hidden.ToString(CultureInfo.InvariantCulture)));
        if (layers < 1 || layers > Diagnostics.MaxLayers)
            diagnostics.Add(Info(Diagnostics.LayersOutOfRange, attributeLocation, layers.ToString(CultureInfo.InvariantCulture)));
        if (inputSet && (input < 1 || input > Diagnostics.MaxInput))
            diagnostics.Add(Info(Diagnostics.InputOutOfRange, attributeLocation, input.ToString(CultureInfo.InvariantCulture)));
        if (output < 0 || output > Diagnostics.MaxOutput)
            diagnostics.Add(Info(Diagnostics.OutputOutOfRange, attributeLocation, output.ToString(CultureInfo.InvariantCulture)));
        if (precision is not (0 or 1))
            diagnostics.Add(Info(Diagnostics.InvalidEnumValue, attributeLocation, "Precision", precision.ToString(CultureInfo.InvariantCulture), "Precision.Single or Precision.Double"));
        if (activationSet && cell != CellKind.Rnn)
            diagnostics.Add(Info(Diagnostics.ActivationNotRnn, attributeLocation, cell == CellKind.Lstm ? "LstmModel" : "GruModel"));
        else if (activation is not (0 or 1))
            diagnostics.Add(Info(Diagnostics.InvalidEnumValue, attributeLocation, "Activation", activation.ToString(CultureInfo.InvariantCulture), "RnnActivation.Tanh or RnnActivation.Relu"));
        if (diagnostics.Count > 0)
            return new ParseResult(null, new EquatableArray<DiagnosticInfo>(diagnostics));

        long parameters = ParameterCount(cell, input, hidden, layers, output);
        if (parameters > Diagnostics.MaxParameters)
            return Fail(Diagnostics.ModelTooLarge, attributeLocation, parameters.ToString(CultureInfo.InvariantCulture));

        cancellationToken.ThrowIfCancellationRequested();
        var containing = new List<string>();
        var plain = NamespaceParts(type.ContainingNamespace); // the names without @, for the file name
        string? ns = plain.Count > 0 ? string.Join(".", plain.Select(Identifier)) : null;
        int outer = plain.Count;
        for (var t = type.ContainingType; t is not null; t = t.ContainingType)
        {
            containing.Insert(0, "partial " + Keyword(t) + " " + Identifier(t.Name));
            plain.Insert(outer, t.Name);
        }
        plain.Add(type.Name);
        string hint = string.Join(".", plain);
        string attributeText = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken).ToString() ?? "";

        var model = new ModelSpec(ns, Identifier(type.Name), new EquatableArray<string>(containing), hint,
            System.Text.RegularExpressions.Regex.Replace(attributeText, @"\s+", " "),
            cell, input, hidden, layers, output, tokens, precision == 1, (Activation)activation)
        {
            NamedLikeAReferencedType = NamedLikeAReferencedType(type, context.SemanticModel.Compilation),
        };

        // Names the user declared that the generated code declares too (read from the code this model generates).
        string? clash = NameClashes.Find(type, model, context.SemanticModel.Compilation, (CSharpParseOptions)context.TargetNode.SyntaxTree.Options, cancellationToken);
        if (clash is not null)
            return Fail(Diagnostics.Unsupported, typeLocation, type.Name, clash);
        return new ParseResult(model, tokens && !inputSet
            ? new EquatableArray<DiagnosticInfo>(new[] { Info(Diagnostics.TokensWithoutInput, attributeLocation, type.Name, hidden.ToString(CultureInfo.InvariantCulture)) })
            : EquatableArray<DiagnosticInfo>.Empty);
    }

    /// <summary>PyTorch's parameter count: per layer G·H·(in + H) + 2·G·H, plus the head.</summary>
    public static long ParameterCount(CellKind cell, long input, long hidden, long layers, long output)
    {
        long g = cell switch { CellKind.Lstm => 4, CellKind.Gru => 3, _ => 1 };
        long total = 0;
        for (long l = 0; l < layers; l++)
            total += g * hidden * ((l == 0 ? input : hidden) + hidden + 2);
        return total + output * (hidden + 1);
    }

    private static string? Unsupported(INamedTypeSymbol type, SyntaxNode node)
    {
        if (type.TypeKind != TypeKind.Class || type.IsRecord)
            return "only classes are supported (not records, structs or interfaces); declare it as 'partial class'";
        if (type.IsStatic)
            return "a model is an object with parameters; remove 'static'";
        if (type.TypeParameters.Length > 0)
            return "generic model classes are not supported; sizes and precision are fixed by the attribute, so remove the type parameters";
        if (type.IsFileLocal)
            return "file-local types cannot be extended from a generated file; remove the 'file' modifier";
        // a class in a namespace declared private or protected (the compiler reports the modifier): the generated code could
        // not name it
        if (type.ContainingType is null && type.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Internal))
            return "a class in a namespace can only be public or internal; remove the other modifier";
        if (type.IsAbstract)
            return "the generated code creates instances of it (Create(), model files, the trainer's replicas); remove 'abstract'";
        // an explicit layout wants a [FieldOffset] on every instance field, which the generated fields have not (CS0625 there)
        if (type.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == "System.Runtime.InteropServices.StructLayoutAttribute"
                && a.ConstructorArguments.Length == 1 && a.ConstructorArguments[0].Value is { } kind
                && System.Convert.ToInt64(kind, System.Globalization.CultureInfo.InvariantCulture) == 2 /* LayoutKind.Explicit */))
            return "it is marked [StructLayout(LayoutKind.Explicit)], which needs a [FieldOffset] on every field, and the generated fields have none; remove the attribute or use LayoutKind.Sequential";
        // (an __arglist constructor lists no parameters, yet 'new M()' cannot call it)
        var callable = type.InstanceConstructors.Where(c => !c.IsVararg && c.Parameters.All(p => p.IsOptional || p.IsParams)).ToList();
        if (callable.Count == 0)
            return "it has no parameterless constructor, which the generated code needs to create instances (Create(), model files, the trainer's replicas); "
                + (HasPrimaryConstructor(type) ? "remove the primary constructor's parameters, or add a constructor without parameters that calls it"
                                               : "add a constructor without parameters, or give every parameter a default value");
        // `new M()` must pick one of them: a constructor without parameters beats the ones with optional parameters, which
        // beat one applicable only with an empty params array; two of a kind tie
        IMethodSymbol? parameterless = callable.FirstOrDefault(c => c.Parameters.Length == 0);
        var normal = callable.Where(c => !c.Parameters.Any(p => p.IsParams)).ToList();
        if (parameterless is null && (normal.Count > 1 || normal.Count == 0 && callable.Count > 1))
            return "it has several constructors whose parameters are all optional, so the generated code's 'new " + type.Name + "()' would be ambiguous; "
                + "add a constructor without parameters";
        IMethodSymbol constructor = parameterless ?? (normal.Count == 1 ? normal[0] : callable[0]);
        // the generated code calls it, where these attributes would warn (or fail the build) in a file the user cannot edit
        var marked = constructor.GetAttributes().Select(a => a.AttributeClass?.ToDisplayString()).FirstOrDefault(n => n is not null && CallSiteAttributes.Contains(n));
        if (marked is not null)
            return $"its constructor '{type.Name}()' is marked [{marked.Substring(marked.LastIndexOf('.') + 1).Replace("Attribute", "")}], and the generated code calls it "
                + "(Create(), model files, the trainer's replicas), where that would be a warning or an error; remove the attribute from that constructor";
        // and it must set every required member, which the generated code cannot
        if (!constructor.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == "System.Diagnostics.CodeAnalysis.SetsRequiredMembersAttribute"))
        {
            for (var t = type; t is not null; t = t.BaseType)
            {
                var required = t.GetMembers().FirstOrDefault(m => m is IPropertySymbol { IsRequired: true } or IFieldSymbol { IsRequired: true });
                if (required is not null)
                    return $"its member '{required.Name}' is required, and the generated code creates instances with 'new {type.Name}()' (Create(), model files, "
                        + "the trainer's replicas), which sets no members; remove 'required', or mark the parameterless constructor [SetsRequiredMembers]";
            }
        }
        for (var b = type.BaseType; b is not null && b.SpecialType != SpecialType.System_Object; b = b.BaseType)
        {
            if (b.GetAttributes().Any(a => a.AttributeClass is { } c && ModelAttributes.Contains(c.ToDisplayString())))
                return $"it derives from the model '{b.Name}'; a model cannot derive from another model (hold one in a field instead)";
        }
        // another type of its name and arity beside it (a class and an enum, a class and a struct, which the compiler keeps apart
        // and reports as a duplicate), or a member of its name in the enclosing class: the generated code's mentions of the class
        // could find that one
        if (type.ContainingSymbol is INamespaceOrTypeSymbol container
            && container.GetMembers(type.Name).Any(m => !SymbolEqualityComparer.Default.Equals(m, type)
                && !(m is INamedTypeSymbol other && other.Arity != type.Arity) && !m.IsImplicitlyDeclared))
            return $"another type, member or namespace named '{type.Name}' is declared beside it (the compiler reports the duplicate); rename one of them";
        if (type.GetMembers(type.Name).Any(m => !m.IsImplicitlyDeclared))
            return $"it declares a member named '{type.Name}' like itself (the compiler reports it), which the generated code's mentions of the class would find; rename that member";
        for (var t = type.ContainingType; t is not null; t = t.ContainingType)
        {
            if (t.IsFileLocal)
                return $"it is nested in the file-local type '{t.Name}', which a generated file cannot extend; remove the 'file' modifier";
            if (t.TypeParameters.Length > 0)
                return $"it is nested in the generic type '{t.Name}'; move it out of the generic type";
            if (t.TypeKind == TypeKind.Interface)
                return $"it is nested in the interface '{t.Name}'; move it out";
            if (t.IsRecord)
                return $"it is nested in the record '{t.Name}'; move it into a class or namespace";
        }
        return null;
    }

    // A class in a namespace where a referenced assembly declares a type of its name and arity (System.String).
    private static bool NamedLikeAReferencedType(INamedTypeSymbol type, Compilation compilation) =>
        type.ContainingType is null
        && compilation.GetCompilationNamespace(type.ContainingNamespace) is { } ns
        && ns.GetTypeMembers(type.Name, type.Arity).Any(t => !SymbolEqualityComparer.Default.Equals(t.ContainingAssembly, compilation.Assembly));

    // Attributes that make a call to the constructor a diagnostic at the call site.
    private static readonly string[] CallSiteAttributes =
    {
        "System.ObsoleteAttribute",
        "System.Diagnostics.CodeAnalysis.ExperimentalAttribute",
        "System.Diagnostics.CodeAnalysis.RequiresUnreferencedCodeAttribute",
        "System.Diagnostics.CodeAnalysis.RequiresDynamicCodeAttribute",
        "System.Diagnostics.CodeAnalysis.RequiresAssemblyFilesAttribute",
    };

    private static bool HasPrimaryConstructor(INamedTypeSymbol type) =>
        type.DeclaringSyntaxReferences.Any(r => r.GetSyntax() is ClassDeclarationSyntax { ParameterList: not null });

    // A name as a C# identifier: a keyword is escaped with @ (a class named @class), a contextual one too (a class named
    // record would start a record declaration in a member's return type; @ is allowed before any identifier).
    private static string Identifier(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None || SyntaxFacts.GetContextualKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

    // The namespace's names, outermost first (none for the global namespace).
    private static List<string> NamespaceParts(INamespaceSymbol? ns)
    {
        var parts = new List<string>();
        for (var n = ns; n is { IsGlobalNamespace: false }; n = n.ContainingNamespace)
            parts.Insert(0, n.Name);
        return parts;
    }

    // Whether the attribute is written on this declaration (of a class declared in several partial parts).
    private static bool AppliedOn(AttributeData attribute, SyntaxNode declaration) =>
        attribute.ApplicationSyntaxReference is { } r && r.SyntaxTree == declaration.SyntaxTree && declaration.Span.Contains(r.Span);

    private static bool IsPartial(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(cancellationToken) is TypeDeclarationSyntax d && d.Modifiers.Any(SyntaxKind.PartialKeyword))
                return true;
        }
        return false;
    }

    private static string Keyword(INamedTypeSymbol type) => type.TypeKind switch
    {
        TypeKind.Struct => "struct",
        _ => "class",
    };

    private static int IntArgument(AttributeData attribute, int index, int fallback) =>
        index < attribute.ConstructorArguments.Length && attribute.ConstructorArguments[index].Value is int v ? v : fallback;

    private static ParseResult Fail(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] args) =>
        new(null, new EquatableArray<DiagnosticInfo>(new[] { Info(descriptor, location, args) }));

    private static DiagnosticInfo Info(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] args) =>
        new(descriptor.Id, location, new EquatableArray<string>(args));

    private static LocationInfo? LocationOf(Location? location)
    {
        if (location is null || location.SourceTree is null) return null;
        var span = location.GetLineSpan();
        return new LocationInfo(location.SourceTree.FilePath, location.SourceSpan.Start, location.SourceSpan.Length,
            span.StartLinePosition.Line, span.StartLinePosition.Character, span.EndLinePosition.Line, span.EndLinePosition.Character);
    }
}
