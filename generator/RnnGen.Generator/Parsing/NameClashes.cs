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
/// source itself, so this check follows the emitter by construction.
/// </summary>
internal static class NameClashes
{
    /// <summary>Why <paramref name="type"/> cannot hold the generated <paramref name="model"/>, or null when nothing clashes.</summary>
    public static string? Find(INamedTypeSymbol type, ModelSpec model, CSharpParseOptions options, CancellationToken cancellationToken)
    {
        var (names, methods) = Declared(model, options, cancellationToken);

        if (names.Contains(type.Name))
            return $"the generated model declares a member named '{type.Name}', and a class cannot contain a member named like itself; rename the class";

        // The class's own members: a generated public method may be overloaded (an identical signature is the compiler's
        // error CS0111, which names it); anything else of a generated name clashes.
        foreach (var member in type.GetMembers())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (member.IsImplicitlyDeclared || !names.Contains(member.Name) || IsAccessor(member))
                continue;
            if (member is IMethodSymbol && methods.TryGetValue(member.Name, out bool overloadable) && overloadable)
                continue;
            return $"it declares '{member.Name}', which the generated code declares too; rename yours";
        }

        // Base classes: a visible member that a generated one would hide (a method beside a generated method of the same
        // name is an overload, not hidden).
        for (var b = type.BaseType; b is not null && b.SpecialType != SpecialType.System_Object; b = b.BaseType)
        {
            var hidden = b.GetMembers().FirstOrDefault(m => m.DeclaredAccessibility != Accessibility.Private && !m.IsImplicitlyDeclared
                && names.Contains(m.Name) && !IsAccessor(m) && !(m is IMethodSymbol && methods.ContainsKey(m.Name)));
            if (hidden is not null)
                return $"its base class '{b.Name}' has a member '{hidden.Name}', which the generated '{hidden.Name}' would hide; rename that member or derive from another class";
        }
        return null;
    }

    private static bool IsAccessor(ISymbol member) =>
        member is IMethodSymbol { MethodKind: not (MethodKind.Ordinary or MethodKind.DeclareMethod) };

    /// <summary>
    /// Every name the generated code declares directly in the model class (members and nested types; explicit interface
    /// implementations excluded), and of those the methods, each with whether it is public or protected (a user may add
    /// overloads of those).
    /// </summary>
    private static (HashSet<string> Names, Dictionary<string, bool> Methods) Declared(ModelSpec model, CSharpParseOptions options, CancellationToken cancellationToken)
    {
        var names = new HashSet<string>();
        var methods = new Dictionary<string, bool>();
        var root = CSharpSyntaxTree.ParseText(ModelEmitter.Emit(model), options, cancellationToken: cancellationToken).GetRoot(cancellationToken);
        string typeName = model.TypeName.TrimStart('@');
        // the model's class: the first class of its name (enclosing types come before it, its nested types after)
        var modelClass = root.DescendantNodes().OfType<ClassDeclarationSyntax>().First(c => c.Identifier.ValueText == typeName);
        foreach (var member in modelClass.Members)
        {
            switch (member)
            {
                case BaseFieldDeclarationSyntax field:
                    foreach (var v in field.Declaration.Variables) names.Add(v.Identifier.ValueText);
                    break;
                case PropertyDeclarationSyntax { ExplicitInterfaceSpecifier: null } property:
                    names.Add(property.Identifier.ValueText);
                    break;
                case MethodDeclarationSyntax { ExplicitInterfaceSpecifier: null } method:
                    string name = method.Identifier.ValueText;
                    names.Add(name);
                    bool visible = method.Modifiers.Any(m => m.IsKind(SyntaxKind.PublicKeyword) || m.IsKind(SyntaxKind.ProtectedKeyword));
                    methods[name] = methods.TryGetValue(name, out bool before) ? before && visible : visible;
                    break;
                case BaseTypeDeclarationSyntax nested:
                    names.Add(nested.Identifier.ValueText);
                    break;
                case DelegateDeclarationSyntax d:
                    names.Add(d.Identifier.ValueText);
                    break;
                case EventDeclarationSyntax { ExplicitInterfaceSpecifier: null } e:
                    names.Add(e.Identifier.ValueText);
                    break;
            }
        }
        return (names, methods);
    }
}
