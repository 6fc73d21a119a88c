using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using RnnGen.Generator.Emitting;
using RnnGen.Generator.Model;

namespace RnnGen.Generator.Parsing;

/// <summary>
/// The user's declarations that would clash with the generated ones: the class's own name, its own members and its base
/// classes' members against every name the generated code declares in the class. Those names are read from the emitted
/// source itself, so this check follows the emitter by construction; they depend only on the model's shape, so each shape
/// is emitted and parsed once per process (the check runs again on every edit in an IDE).
/// </summary>
internal static class NameClashes
{
    /// <summary>Why <paramref name="type"/> cannot hold the generated <paramref name="model"/>, or null when nothing clashes.</summary>
    public static string? Find(INamedTypeSymbol type, ModelSpec model, Compilation compilation, CSharpParseOptions options, CancellationToken cancellationToken)
    {
        Declared declared = DeclaredBy(model, options, cancellationToken);

        if (Hidden(compilation, declared) is { } hiding)
            return hiding;

        // A global using alias applies to the generated file too; named like a class of the global namespace, it conflicts
        // with the class wherever the class is named (CS0576). Elsewhere the namespace's own type wins over the alias.
        if (type.ContainingType is null && type.ContainingNamespace.IsGlobalNamespace)
            foreach (var tree in compilation.SyntaxTrees)
                foreach (var directive in tree.GetCompilationUnitRoot(cancellationToken).Usings)
                    if (!directive.GlobalKeyword.IsKind(SyntaxKind.None) && directive.Alias?.Name.Identifier.ValueText == type.Name)
                        return $"the global using alias '{type.Name}' is named like the class, which is in the global namespace, and every file sees that alias, "
                            + "the generated one too, where the compiler reports the conflict (CS0576); rename the alias, or move the class into a namespace";

        if (declared.Names.Contains(type.Name))
            return $"the generated model declares a member named '{type.Name}', and a class cannot contain a member named like itself; rename the class";

        // A primary constructor's parameter is in scope in the class's initializers, where it would win over a generated
        // member of its name (the generated fields' sizes would read the argument).
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(cancellationToken) is ClassDeclarationSyntax { ParameterList: { } parameters })
                foreach (var parameter in parameters.Parameters)
                    if (declared.Names.Contains(parameter.Identifier.ValueText))
                        return $"its primary constructor's parameter '{parameter.Identifier.ValueText}' is named like a member the generated code declares, and would take its place in the class's initializers; rename the parameter";
        }

        // The class's own members: a method beside public generated ones of its name is an overload, fine unless it has the
        // same parameters as one of them; anything else of a generated name clashes — also a method named like one of the
        // generated code's own helpers that its calls could bind to, one with as many parameters (a user's
        // StoreState(State, Span<float>) is a better match for the generated Step's call than the helper itself).
        foreach (var member in type.GetMembers())
        {
            cancellationToken.ThrowIfCancellationRequested();
            // an explicit implementation of one of RnnGen's interfaces, which the generated code implements
            if (ExplicitlyImplemented(member) is { ContainingType: { Name: "IRecurrentModel", Arity: 2 } recurrent } implemented
                && recurrent.ContainingNamespace.ToDisplayString() == "RnnGen")
                return $"it implements '{implemented.ContainingType.Name}.{implemented.Name}' itself, which the generated code implements; remove yours";
            if (member.IsImplicitlyDeclared || !declared.Names.Contains(member.Name) || IsAccessor(member))
                continue;
            if (member is IMethodSymbol method && declared.IsOverloadable(method, type) && !declared.CouldTakeAHelpersCall(method))
                continue;
            return member is IMethodSymbol && declared.Helpers.ContainsKey(member.Name)
                ? $"it declares a method '{member.Name}', and the generated code has a method of that name for its own use, whose calls yours could take; rename yours"
                : member is IMethodSymbol && declared.Methods.ContainsKey(member.Name)
                ? $"it declares a method '{member.Name}' with the same parameters as the generated '{member.Name}'; rename yours or change its parameters"
                : $"it declares '{member.Name}', which the generated code declares too; rename yours";
        }

        // Base classes: a visible member that a generated one would hide (a method only by one with its parameters), or one
        // named like the class, which the generated code's mentions of the class would find instead.
        for (var b = type.BaseType; b is not null && b.SpecialType != SpecialType.System_Object; b = b.BaseType)
        {
            var named = b.GetMembers(type.Name).FirstOrDefault(m => m.DeclaredAccessibility != Accessibility.Private && !m.IsImplicitlyDeclared);
            if (named is not null)
                return $"its base class '{b.Name}' has a member named '{type.Name}' like the class, which the generated code's mentions of the class would find instead; rename that member or the class";
            var hidden = b.GetMembers().FirstOrDefault(m => m.DeclaredAccessibility != Accessibility.Private && !m.IsImplicitlyDeclared
                && declared.Names.Contains(m.Name) && !IsAccessor(m) && !(m is IMethodSymbol method && declared.IsOverloadable(method, type)));
            if (hidden is not null)
                return $"its base class '{b.Name}' has a member '{hidden.Name}', which the generated '{hidden.Name}' would hide; rename that member or derive from another class";
        }
        return null;
    }

    /// <summary>
    /// A type declared in the project whose full name is one the generated code names from <c>global::</c>: a namespace it
    /// goes through (a type <c>System</c> in the global namespace, <c>System.Collections</c>, <c>RnnGen.Kernels</c>), which the
    /// compiler then finds instead of the namespace, or a type it names (<c>System.Span&lt;T&gt;</c>, the attribute class
    /// <c>MethodImplAttribute</c> of <c>[global::…MethodImpl]</c>), which takes that type's place; also
    /// <c>System.Attribute</c>, <c>System.Exception</c> and <c>DefaultInterpolatedStringHandler</c>, which the generated code
    /// uses without naming them. And a type the compiler itself takes by its full name for the generated code
    /// (<see cref="CompilerTypes"/>) without what the compiler needs of it.
    /// </summary>
    private static string? Hidden(Compilation compilation, Declared declared)
    {
        var source = compilation.Assembly.GlobalNamespace; // the project's own declarations only
        foreach (var (parts, arity) in declared.QualifiedNames)
        {
            INamespaceSymbol? ns = source;
            INamespaceSymbol? referenced = compilation.GlobalNamespace;
            for (int i = 0; i < parts.Length && ns is not null; i++)
            {
                bool last = i == parts.Length - 1;
                referenced = referenced?.GetNamespaceMembers().FirstOrDefault(n => n.Name == parts[i]);
                // a file-local type is seen in its own file only, not in the generated one
                if (ns.GetTypeMembers(parts[i], last ? arity : 0).Any(t => !t.IsFileLocal))
                {
                    string name = string.Join(".", parts, 0, i + 1);
                    string where = i == 0 ? "the global namespace" : $"the namespace '{string.Join(".", parts, 0, i)}'";
                    return referenced is not null
                        ? $"a type named '{parts[i]}' in {where} hides the {name} namespace, which the generated code names as 'global::{name}'; move that type into a namespace or rename it"
                        : $"the type '{name}' declared in this project takes the place of 'global::{name}', which the generated code uses; move that type into another namespace or rename it";
                }
                ns = ns.GetNamespaceMembers().FirstOrDefault(n => n.Name == parts[i]);
            }
        }
        foreach (var (name, purpose, constructors) in CompilerTypes)
        {
            // the compiler looks these up by metadata name, the project's own declaration first (a file-local type has another)
            if (compilation.Assembly.GetTypeByMetadataName(name) is not { IsFileLocal: false } own)
                continue;
            var missing = constructors.FirstOrDefault(parameters => !own.InstanceConstructors.Any(c =>
                c.DeclaredAccessibility is Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal
                && c.Parameters.Select(p => p.RefKind == RefKind.None ? p.Type.ToDisplayString() : "ref").SequenceEqual(parameters)));
            if (missing is not null)
                return $"the type '{name}' declared in this project is the one the compiler uses for {purpose}, and it has no constructor "
                    + $"{own.Name}({string.Join(", ", missing)}) that the compiler can call; give it "
                    + string.Join(" and ", constructors.Select(c => $"{own.Name}({string.Join(", ", c)})"))
                    + " (public or internal), or remove it";
        }
        return null;
    }

    /// <summary>
    /// Types the C# compiler takes by their full names when it compiles the generated code, without the code naming them,
    /// and the constructors it calls: a type of that name declared in the project takes the place of the runtime's (a
    /// polyfill, for older targets), and without them the compiler reports CS0656 in the generated file. The generated
    /// file enables nullable annotations, so its members carry these attributes. Other such types it does not need: its
    /// code declares no <c>in</c>, <c>ref readonly</c> or <c>scoped</c> parameters, no <c>init</c> accessors, tuples,
    /// indices or ranges, no <c>stackalloc</c>, constant arrays, <c>foreach</c>, <c>using</c> or <c>lock</c>
    /// (CompilerTypesTests checks a list of them).
    /// </summary>
    private static readonly (string Name, string Purpose, string[][] Constructors)[] CompilerTypes =
    {
        ("System.Runtime.CompilerServices.NullableAttribute", "the generated code's nullable annotations", new[] { new[] { "byte" }, new[] { "byte[]" } }),
        ("System.Runtime.CompilerServices.NullableContextAttribute", "the generated code's nullable annotations", new[] { new[] { "byte" } }),
    };

    private static ISymbol? ExplicitlyImplemented(ISymbol member) => member switch
    {
        IMethodSymbol m => m.ExplicitInterfaceImplementations.FirstOrDefault(),
        IPropertySymbol p => p.ExplicitInterfaceImplementations.FirstOrDefault(),
        IEventSymbol e => e.ExplicitInterfaceImplementations.FirstOrDefault(),
        _ => null,
    };

    private static bool IsAccessor(ISymbol member) =>
        member is IMethodSymbol { MethodKind: not (MethodKind.Ordinary or MethodKind.DeclareMethod) };

    /// <summary>
    /// The names the generated code declares directly in the model class (members and nested types; explicit interface
    /// implementations excluded), and for each method name its overloads' parameter lists (as
    /// <see cref="Signature(IMethodSymbol)"/> writes them).
    /// </summary>
    private sealed class Declared
    {
        public readonly HashSet<string> Names = new();
        public readonly Dictionary<string, List<string>> Methods = new();
        // methods the generated code declares for its own use (not public), with their overloads' parameter counts and
        // numbers of type parameters (the generated calls to a generic helper give its type arguments: Cell<L>(…))
        public readonly Dictionary<string, HashSet<(int Parameters, int Arity)>> Helpers = new();
        // every name the generated code writes from global:: (global::System.Span<float>: System, Span and 1 type argument),
        // and the types it uses without naming them: System.Attribute (the base of the attributes it applies), System.Exception
        // (of what it throws) and the handler of its interpolated strings
        public readonly List<(string[] Parts, int Arity)> QualifiedNames = new()
        {
            (new[] { "System", "Attribute" }, 0),
            (new[] { "System", "Exception" }, 0),
            (new[] { "System", "Runtime", "CompilerServices", "DefaultInterpolatedStringHandler" }, 0),
        };

        /// <summary>
        /// Whether a user's method named like a helper could be chosen for one of the generated calls to it: a method with
        /// as many parameters (or optional or params ones) is a candidate C# may prefer, so it is refused whatever its
        /// parameter types — when it can take the call's type arguments: as many as a generic helper's, or, for a call
        /// without any, none or only ones inferred from its parameters. One with another count can never be taken.
        /// </summary>
        public bool CouldTakeAHelpersCall(IMethodSymbol method)
        {
            if (!Helpers.TryGetValue(method.Name, out var overloads))
                return false;
            bool anyCount = method.Parameters.Any(p => p.IsParams || p.IsOptional);
            bool inferred = method.TypeParameters.All(t => method.Parameters.Any(p => Mentions(p.Type, t)));
            return overloads.Any(h => (anyCount || h.Parameters == method.Parameters.Length)
                && (h.Arity == method.Arity || h.Arity == 0 && inferred));
        }

        private static bool Mentions(ITypeSymbol type, ITypeParameterSymbol parameter) => type switch
        {
            ITypeParameterSymbol t => SymbolEqualityComparer.Default.Equals(t, parameter),
            IArrayTypeSymbol a => Mentions(a.ElementType, parameter),
            IPointerTypeSymbol p => Mentions(p.PointedAtType, parameter),
            INamedTypeSymbol n => n.TypeArguments.Any(a => Mentions(a, parameter)),
            _ => false,
        };

        /// <summary>A user's method beside generated ones of its name (in <paramref name="model"/> or a base class of it): an
        /// overload, unless one of them has its parameters.</summary>
        public bool IsOverloadable(IMethodSymbol method, INamedTypeSymbol model) =>
            Methods.TryGetValue(method.Name, out var signatures) && !signatures.Contains(Signature(method, model));
    }

    private static readonly ConcurrentDictionary<ModelSpec, Declared> Cache = new();

    private static Declared DeclaredBy(ModelSpec model, CSharpParseOptions options, CancellationToken cancellationToken)
    {
        // The names depend on the shape only: one entry per shape, whatever the class is called and wherever it is.
        var shape = model with
        {
            Namespace = null, TypeName = "M", ContainingTypes = EquatableArray<string>.Empty, HintName = "M", AttributeText = "", NamedLikeAReferencedType = false,
        };
        if (Cache.TryGetValue(shape, out var known))
            return known;
        var declared = new Declared();
        string text = ModelEmitter.Emit(shape);
        var root = CSharpSyntaxTree.ParseText(text, options, cancellationToken: cancellationToken).GetRoot(cancellationToken);
        var seen = new HashSet<string>();
        foreach (System.Text.RegularExpressions.Match match in QualifiedName.Matches(text))
        {
            int arity = TypeArguments(text, match.Index + match.Length);
            if (seen.Add(match.Groups[1].Value + "`" + arity))
                declared.QualifiedNames.Add((match.Groups[1].Value.Split('.'), arity));
        }
        // an attribute written [global::N.X] is the class N.XAttribute, or N.X (both: an ambiguity)
        foreach (var attribute in root.DescendantNodes().OfType<AttributeSyntax>())
        {
            string name = attribute.Name.ToString();
            if (name.StartsWith("global::", System.StringComparison.Ordinal) && !name.EndsWith("Attribute", System.StringComparison.Ordinal)
                && seen.Add(name.Substring("global::".Length) + "Attribute`0"))
                declared.QualifiedNames.Add(((name.Substring("global::".Length) + "Attribute").Split('.'), 0));
        }
        var modelClass = root.DescendantNodes().OfType<ClassDeclarationSyntax>().First(c => c.Identifier.ValueText == "M");
        foreach (var member in modelClass.Members)
        {
            switch (member)
            {
                case BaseFieldDeclarationSyntax field:
                    foreach (var v in field.Declaration.Variables) declared.Names.Add(v.Identifier.ValueText);
                    break;
                case PropertyDeclarationSyntax { ExplicitInterfaceSpecifier: null } property:
                    declared.Names.Add(property.Identifier.ValueText);
                    break;
                case MethodDeclarationSyntax { ExplicitInterfaceSpecifier: null } method:
                    string name = method.Identifier.ValueText;
                    declared.Names.Add(name);
                    if (!declared.Methods.TryGetValue(name, out var signatures))
                        declared.Methods[name] = signatures = new List<string>();
                    signatures.Add(Signature(method));
                    if (!method.Modifiers.Any(m => m.IsKind(SyntaxKind.PublicKeyword)))
                    {
                        if (!declared.Helpers.TryGetValue(name, out var overloads))
                            declared.Helpers[name] = overloads = new HashSet<(int, int)>();
                        overloads.Add((method.ParameterList.Parameters.Count, method.TypeParameterList?.Parameters.Count ?? 0));
                    }
                    break;
                case BaseTypeDeclarationSyntax nested:
                    declared.Names.Add(nested.Identifier.ValueText);
                    break;
                case DelegateDeclarationSyntax d:
                    declared.Names.Add(d.Identifier.ValueText);
                    break;
                case EventDeclarationSyntax { ExplicitInterfaceSpecifier: null } e:
                    declared.Names.Add(e.Identifier.ValueText);
                    break;
            }
        }
        return Cache.GetOrAdd(shape, declared);
    }

    private static readonly System.Text.RegularExpressions.Regex QualifiedName = new(@"global::([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)");

    // The number of type arguments in the list that starts at text[start] (<…>, or {…} in a cref), 0 if none does.
    private static int TypeArguments(string text, int start)
    {
        if (start >= text.Length || text[start] is not ('<' or '{'))
            return 0;
        int depth = 0, count = 1;
        for (int i = start; i < text.Length; i++)
        {
            char c = text[i];
            if (c is '<' or '{') depth++;
            else if (c is '>' or '}' && --depth == 0) return count;
            else if (c == ',' && depth == 1) count++;
        }
        return 0;
    }

    // A parameter list as "`0 ref System.Span<float>, int", the way C# tells overloads apart: by the number of type
    // parameters and the parameters' types, and by whether a parameter is passed by reference but not how (ref, out, in and
    // ref readonly cannot tell two overloads apart; nor can params). The generated code names types in full (global::…), a
    // symbol as C# shows it; the model's own nested types (State, Tape) stay short on both sides.
    // A method's own type parameters are written by position (!!0, !!1), as C# compares them: Cell<L>(L pre) and
    // Cell<T>(T pre) have the same signature.
    private static string Signature(MethodDeclarationSyntax method) =>
        $"`{method.TypeParameterList?.Parameters.Count ?? 0} " + string.Join(", ", method.ParameterList.Parameters.Select(p =>
            (p.Modifiers.Any(m => m.IsKind(SyntaxKind.RefKeyword) || m.IsKind(SyntaxKind.OutKeyword) || m.IsKind(SyntaxKind.InKeyword)) ? "ref " : "")
            + ByPosition((p.Type?.ToString() ?? "").Replace("global::", "").Replace(" ", ""),
                method.TypeParameterList?.Parameters.Select(t => t.Identifier.ValueText).ToList() ?? new List<string>())));

    private static string Signature(IMethodSymbol method, INamedTypeSymbol model) =>
        $"`{method.Arity} " + string.Join(", ", method.Parameters.Select(p =>
            (p.RefKind != RefKind.None ? "ref " : "")
            + ByPosition(TypeText(p.Type, model, NamesStateOrTapeUnqualified(p, model)), method.TypeParameters.Select(t => t.Name).ToList())));

    private static string ByPosition(string type, List<string> typeParameters)
    {
        for (int i = 0; i < typeParameters.Count; i++)
            type = System.Text.RegularExpressions.Regex.Replace(type, $@"(?<![\w.@]){System.Text.RegularExpressions.Regex.Escape(typeParameters[i])}(?!\w)", "!!" + i);
        return type;
    }

    // A parameter's type as the generated code writes it: in full, but the model's own nested types (State, Tape) short —
    // also while they do not exist yet (an error type: M.State, or State? read as Nullable<State>), inside type arguments
    // (ReadOnlySpan<M.State>), and where a parameter of the model's own method names a State or Tape unqualified, which
    // the generated nested type of that name will be once it exists (it hides a State of the namespace).
    private static string TypeText(ITypeSymbol type, INamedTypeSymbol model, bool unqualified)
    {
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable
            && IsOwn(nullable.TypeArguments[0], model, unqualified))
            return nullable.TypeArguments[0].Name;
        if (IsOwn(type, model, unqualified))
            return type.Name;
        switch (type)
        {
            case IArrayTypeSymbol array:
                return TypeText(array.ElementType, model, unqualified) + "[" + new string(',', array.Rank - 1) + "]";
            case INamedTypeSymbol { IsGenericType: true } generic when generic.OriginalDefinition.SpecialType != SpecialType.System_Nullable_T:
                return generic.OriginalDefinition.ToDisplayString(WithoutTypeArguments).Replace(" ", "")
                    + "<" + string.Join(",", generic.TypeArguments.Select(a => TypeText(a, model, unqualified))) + ">";
            default:
                return type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat).Replace("global::", "").Replace(" ", "");
        }
    }

    private static readonly SymbolDisplayFormat WithoutTypeArguments = SymbolDisplayFormat.FullyQualifiedFormat
        .WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted)
        .WithGenericsOptions(SymbolDisplayGenericsOptions.None);

    private static bool IsOwn(ITypeSymbol type, INamedTypeSymbol model, bool unqualified) =>
        type.Name is "State" or "Tape"
        && (type.TypeKind == TypeKind.Error || SymbolEqualityComparer.Default.Equals(type.ContainingType, model) || unqualified && type is INamedTypeSymbol);

    // Whether a parameter of the model's own method names a type State or Tape without qualifying it (in its source).
    private static bool NamesStateOrTapeUnqualified(IParameterSymbol parameter, INamedTypeSymbol model) =>
        SymbolEqualityComparer.Default.Equals(parameter.ContainingSymbol.ContainingType, model)
        && parameter.DeclaringSyntaxReferences.Any(r => r.GetSyntax() is ParameterSyntax { Type: { } written }
            && written.DescendantNodesAndSelf().OfType<IdentifierNameSyntax>().Any(n => n.Identifier.ValueText is "State" or "Tape"
                && !(n.Parent is QualifiedNameSyntax q && q.Right == n) && !(n.Parent is AliasQualifiedNameSyntax a && a.Name == n)));
}
