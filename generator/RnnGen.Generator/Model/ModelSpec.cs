using System;

namespace RnnGen.Generator.Model;

/// <summary>The cell kind (same values as <c>RnnGen.CellKind</c> in the runtime).</summary>
internal enum CellKind
{
    Lstm = 0,
    Gru = 1,
    Rnn = 2,
}

/// <summary>The vanilla RNN activation (same values as <c>RnnGen.RnnActivation</c>).</summary>
internal enum Activation
{
    Tanh = 0,
    Relu = 1,
}

/// <summary>
/// Everything the emitter needs to know about one annotated class, as primitives only (no symbols,
/// syntax or locations) so that the incremental pipeline can compare and cache it.
/// </summary>
/// <param name="Namespace">The namespace, or null for the global namespace.</param>
/// <param name="TypeName">The model class's name.</param>
/// <param name="ContainingTypes">Declarations of enclosing types, outermost first, e.g. <c>partial class Outer</c>.</param>
/// <param name="HintName">Unique file name stem (namespace and enclosing types included).</param>
/// <param name="AttributeText">The attribute as the user wrote it, for the header comment.</param>
internal sealed record ModelSpec(
    string? Namespace,
    string TypeName,
    EquatableArray<string> ContainingTypes,
    string HintName,
    string AttributeText,
    CellKind Cell,
    int InputSize,
    int HiddenSize,
    int LayerCount,
    int OutputSize,
    bool Tokens,
    bool IsDouble,
    Activation Activation)
{
    /// <summary>Whether a referenced assembly declares a type of the class's full name (a class System.String), which every
    /// mention of the class in the generated file would warn about (CS0436).</summary>
    public bool NamedLikeAReferencedType { get; init; }

    /// <summary>The fully qualified type name used inside the generated file.</summary>
    public string FullTypeName =>
        (Namespace is null ? "" : Namespace + ".") +
        string.Concat(Array.ConvertAll(ContainingTypeNames(), n => n + ".")) + TypeName;

    private string[] ContainingTypeNames()
    {
        var names = new string[ContainingTypes.Count];
        for (int i = 0; i < names.Length; i++)
        {
            string decl = ContainingTypes[i];
            names[i] = decl.Substring(decl.LastIndexOf(' ') + 1);
        }
        return names;
    }
}

/// <summary>A source location reduced to primitives, turned back into a Location only when reported.</summary>
internal sealed record LocationInfo(string FilePath, int Start, int Length, int StartLine, int StartCharacter, int EndLine, int EndCharacter);

/// <summary>A diagnostic to report: descriptor id, where, and the message arguments.</summary>
internal sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> Arguments);

/// <summary>What the parser produced for one attribute: a model to emit, diagnostics, or both empty.</summary>
internal sealed record ParseResult(ModelSpec? Model, EquatableArray<DiagnosticInfo> Diagnostics);
